from __future__ import annotations

import re

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_EVAL_FUNCTION = re.compile(r"(^|_)(eval|evaluate|evaluation|val|valid|validate|validation|test|inference|infer|predict)(_|$)", re.I)
_EVAL_WORDS = re.compile(r"""["'](val|valid|validation|test|eval|evaluation|inference)["']""")
_TRAIN_FLAGS = re.compile(r"^(self\.)?(training|train|is_train|is_training|train_mode)$")
_SEEDING = frozenset({"random.seed", "numpy.random.seed", "torch.manual_seed"})


def is_eval_test(test: cst.BaseExpression) -> bool | None:
    """True for an eval condition, False for a train condition, None when the test says neither."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = is_eval_test(test.expression)
        return None if inner is None else not inner
    text = au.code(test)
    if _TRAIN_FLAGS.match(text):
        return False
    if isinstance(test, cst.Comparison):
        if _EVAL_WORDS.search(text):
            negated = any(isinstance(c.operator, (cst.NotEqual, cst.NotIn)) for c in test.comparisons)
            return not negated
        if re.search(r"""["']train(ing)?["']""", text):
            negated = any(isinstance(c.operator, (cst.NotEqual, cst.NotIn)) for c in test.comparisons)
            return negated
    return None


def in_eval_context(rule, node: cst.CSTNode) -> bool:
    previous = node
    for anc in au.ancestors(rule, node):
        if isinstance(anc, (cst.If, cst.IfExp)):
            verdict = is_eval_test(anc.test)
            if verdict is not None:
                in_body = previous is anc.body
                return verdict if in_body else not verdict
        if isinstance(anc, cst.FunctionDef):
            name = anc.name.value
            return not name.startswith("test_") and bool(_EVAL_FUNCTION.search(name))
        previous = anc
    return False


class RandomSamplingInEvalRule(Rule):
    """
    What it does:
        Flags draws from Python's, numpy's or torch's global random generator inside evaluation
        code: a function named like `evaluate`/`val_*`/`*_inference`, or a branch under
        `if not self.training`, `if split == "val"`, the `else` of `if self.training`.

    Why is this bad?
        Validation and test clips must be the same on every run; otherwise the metric moves by
        itself from epoch to epoch and between runs, checkpoints are selected on noise, and
        reported results cannot be reproduced. Test-time sampling should be deterministic
        (center clip, uniform clips), or seeded explicitly.

    Example:
        ```python
        if self.training:
            start = random.randint(0, n - T)
        else:
            start = random.randint(0, n - T)   # a different validation clip every epoch
        ```

    Fix:
        Use a deterministic clip at eval time.
        ```python
        else:
            start = (n - T) // 2   # center clip
        ```
    """

    ID = "TK211"
    CATEGORY = "nondeterministic-eval"
    SEVERITY = "warning"
    MESSAGE = "random draw in validation/test sampling: evaluation clips (and the metric) change from run to run"
    FIX = "sample deterministically at eval time (center clip / uniform clips) or use an explicitly seeded generator"
    TRIGGERS = ("random", "rand")

    VALID = [
        Valid(
            "import random\n\ndef start(n, T, training):\n    if training:\n        return random.randint(0, n - T)\n"
            "    return (n - T) // 2\n"
        ),
        Valid("import numpy as np\n\ndef evaluate(n, T):\n    rng = np.random.default_rng(0)\n    return rng.integers(0, n - T + 1)\n"),
        Valid("import random\n\ndef test_sampler_range():\n    assert 0 <= random.randint(0, 3) <= 3\n"),
        Valid("import random\n\ndef validate(n, T):\n    random.seed(0)\n    return random.randint(0, n - T)\n"),
    ]
    INVALID = [
        Invalid(
            "import random\n\nclass Sampler:\n    def __call__(self, n):\n        if self.training:\n"
            "            return random.randint(0, n - self.T)\n        else:\n            return random.randint(0, n - self.T)\n",
            expected_line=8,
        ),
        Invalid("import numpy as np\n\ndef val_indices(n, T):\n    return np.sort(np.random.choice(n, T))\n"),
        Invalid(
            "import torch\n\ndef get_clip(video, split, T):\n    if split == 'test':\n"
            "        s = torch.randint(0, len(video) - T + 1, (1,)).item()\n        return video[s:s + T]\n"
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not au.is_random_draw(self, node):
            return
        names = au.call_names(self, node)
        if any(n.startswith("numpy.random.Generator") or n.startswith("random.Random") for n in names):
            return
        if au.keyword_arg(node, "generator") is not None:
            return
        if not in_eval_context(self, node):
            return
        scope = au.enclosing_scope_node(self, node)
        if any(au.call_names(self, c) & _SEEDING for c in au.find_all(scope, cst.Call)):
            return
        self.report(node)
