from __future__ import annotations

import re

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_EVAL_FUNCTION = re.compile(
    r"(^|_)(eval|evaluate|evaluation|val|valid|validate|validation|test|inference|infer|predict)(_|$)", re.I
)
_EVAL_WORDS = re.compile(r"""["'](val|valid|validation|test|eval|evaluation|inference)["']""")
_TRAIN_FLAGS = re.compile(r"^(self\.)?(training|train|is_train|is_training|train_mode)$")
_SEEDING = frozenset({"random.seed", "numpy.random.seed", "torch.manual_seed"})
# Seeding helpers by name, wherever they come from: `set_seed(s)`, `seed_everything(s)`,
# `fix_random_seeds()`, `torch.cuda.manual_seed_all(s)`, `pl.seed_everything(s)`.
_SEEDING_NAME = re.compile(r"(^|_)(seed|seeds)(_|$)|manual_seed|seed_everything", re.I)
_TEST_FRAMEWORKS = ("pytest", "unittest")


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


def imports_test_framework(rule) -> bool:
    """The module imports pytest or unittest: a test module, whose random draws make test inputs."""
    for statements in rule.analysis.bindings.imports.values():
        for statement, _owner in statements:
            if isinstance(statement, cst.ImportFrom):
                modules = [au.dotted(statement.module)] if statement.module is not None else []
            else:
                modules = [au.dotted(alias.name) for alias in statement.names]
            if any(m and m.split(".")[0] in _TEST_FRAMEWORKS for m in modules):
                return True
    return False


def in_test_code(rule, node: cst.CSTNode) -> bool:
    """`node` is in a unit test: a `test_*` function, a `Test*` class, or a module importing pytest/unittest."""
    for anc in au.ancestors(rule, node):
        if isinstance(anc, cst.FunctionDef) and anc.name.value.startswith("test"):
            return True
        if isinstance(anc, cst.ClassDef) and anc.name.value.startswith("Test"):
            return True
    return imports_test_framework(rule)


def is_decode_retry(rule, call: cst.Call) -> bool:
    """The draw picks another dataset item after a failed load: the retry idiom, not clip sampling.

    A draw bounded by the dataset's size (`len(self.items)`, `self.__len__()`, `len(self)`) inside
    a `while` loop, an `except` handler, or a `for` loop over retries.
    """
    dataset_size = any(
        au.is_method_call(c, "self", "__len__")
        or (au.is_call_to(c, "len") and c.args and (au.dotted(c.args[0].value) or "").split(".")[0] == "self")
        for c in au.find_all(call, cst.Call)
    )
    if not dataset_size:
        return False
    for anc in au.ancestors(rule, call):
        if isinstance(anc, (cst.FunctionDef, cst.ClassDef)):
            return False
        if isinstance(anc, (cst.While, cst.ExceptHandler)):
            return True
        if isinstance(anc, cst.For) and re.search(
            r"(retr|tries|trial|attempt)", au.code(anc.iter) + au.code(anc.target), re.I
        ):
            return True
    return False


def is_seeded(rule, node: cst.CSTNode) -> bool:
    """A seeding call in the function that draws (or in a function around it): a seeded protocol."""
    scopes = [a for a in au.ancestors(rule, node) if isinstance(a, cst.FunctionDef)]
    if not scopes:
        scopes = [au.enclosing_scope_node(rule, node)]
    for scope in scopes:
        for call in au.find_all(scope, cst.Call):
            if au.call_names(rule, call) & _SEEDING or _SEEDING_NAME.search(au.last_identifier(call.func) or ""):
                return True
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

        Not reported: unit tests (random dummy inputs), the decode-failure retry idiom (a random
        other item after a video fails to load, inside `while` / `except` / a retry loop), and
        seeded protocols (a seeding call in the drawing function, e.g. Monte-Carlo evaluation
        over fixed seeds).

    Known problems:
        Evaluation code is recognised by names: functions named like `evaluate`, `val_*`,
        `_get_val_indices`, `*_inference`, and branches on `self.training`, `split == "val"`,
        `mode == "test"`. Seeding is recognised by name too (`set_seed`, `seed_everything`,
        `manual_seed`, any call named `*_seed`), and a test module by its `pytest` / `unittest`
        import or `test*` / `Test*` names. A retry is a draw bounded by `len(self...)` /
        `self.__len__()` inside `while`, `except` or a loop over retries.

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
            """
            import random

            def start(n, T, training):
                if training:
                    return random.randint(0, n - T)
                return (n - T) // 2
            """
        ),
        Valid(
            """
            import numpy as np

            def evaluate(n, T):
                rng = np.random.default_rng(0)
                return rng.integers(0, n - T + 1)
            """
        ),
        Valid(
            """
            import random

            def test_sampler_range():
                assert 0 <= random.randint(0, 3) <= 3
            """
        ),
        Valid(
            """
            import random

            def validate(n, T):
                random.seed(0)
                return random.randint(0, n - T)
            """
        ),
        # Decode-failure retry: an unreadable test video is replaced by a random other one.
        Valid(
            """
            import numpy as np

            class Clips:
                def __getitem__(self, index):
                    if self.mode == "test":
                        clip = self.decode(self.paths[index])
                        while clip is None:
                            index = np.random.randint(self.__len__())
                            clip = self.decode(self.paths[index])
                        return clip
            """
        ),
        Valid(
            """
            import random

            class Clips:
                def _load_val(self, index):
                    for _ in range(self.num_retries):
                        try:
                            return self.decode(self.paths[index])
                        except OSError:
                            index = random.randint(0, len(self.paths) - 1)
            """
        ),
        # Unit tests: random dummy inputs fed to a model's test step.
        Valid(
            """
            import pytest
            import torch

            def run_train_test_step(model, shape):
                batch = [torch.randint(0, 256, shape) for _ in range(2)]
                return model.test_step(batch)
            """
        ),
        # A seeded Monte-Carlo protocol: random clips, but the same ones on every run.
        Valid(
            """
            import random
            from utils import set_seed

            def evaluate_random_clips(model, video, T, trials=10, seed=0):
                set_seed(seed)
                scores = []
                for _ in range(trials):
                    start = random.randint(0, len(video) - T)
                    scores.append(model(video[start:start + T]))
                return sum(scores) / trials
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import random

            class Sampler:
                def __call__(self, n):
                    if self.training:
                        return random.randint(0, n - self.T)
                    else:
                        return random.randint(0, n - self.T)
            """,
            expected_line=9,
        ),
        Invalid(
            """
            import numpy as np

            def val_indices(n, T):
                return np.sort(np.random.choice(n, T))
            """
        ),
        Invalid(
            """
            import torch

            def get_clip(video, split, T):
                if split == 'test':
                    s = torch.randint(0, len(video) - T + 1, (1,)).item()
                    return video[s:s + T]
            """
        ),
        # Validation offsets drawn at random (TSN-style `_get_val_indices`).
        Invalid(
            """
            import numpy as np

            class Frames:
                def _get_val_indices(self, num_frames):
                    tick = num_frames / self.num_segments
                    offsets = np.random.randint(0, int(tick), size=self.num_segments)
                    return (np.arange(self.num_segments) * tick + offsets).astype(int)
            """,
            expected_line=7,
        ),
        # A retry-looking loop that draws the clip start, not another item: still eval sampling.
        Invalid(
            """
            import random

            def val_clip(video, T):
                while True:
                    start = random.randint(0, len(video) - T)
                    if start % 2 == 0:
                        return video[start:start + T]
            """,
            expected_line=6,
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
        if in_test_code(self, node) or is_decode_retry(self, node) or is_seeded(self, node):
            return
        self.report(node)
