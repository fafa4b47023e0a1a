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
_EVAL_FLAGS = re.compile(r"^(self\.)?(test_mode|is_test|testing|eval_mode|is_eval|evaluating|is_val)$")
# Conditions under which a helper's draws may be meant for training only: its draws are then not blamed
# on an eval caller (`if self.random_shift:`, `if self.train_aug:`).
# Read on the parts of the names in the condition (`self.random_shift`, `self.mode == "test"`).
_RANDOMNESS_SWITCH = re.compile(
    r"^(random|shift|train|training|aug|augment|augmentation|jitter|test|testing|eval|val|valid|mode|split|phase)$",
    re.I,
)
_SEEDING = frozenset({"random.seed", "numpy.random.seed", "torch.manual_seed"})
# Seeding helpers by name, wherever they come from: `set_seed(s)`, `seed_everything(s)`,
# `fix_random_seeds()`, `torch.cuda.manual_seed_all(s)`, `pl.seed_everything(s)`.
_SEEDING_NAME = re.compile(r"(^|_)(seed|seeds)(_|$)|manual_seed|seed_everything", re.I)
_TEST_FRAMEWORKS = ("pytest", "unittest")
# Random orders, and the flags that ask for one on purpose (`cfg.TEST.SHUFFLE_FRAMES`, `self.permute_frames`).
_PERMUTATIONS = frozenset({"numpy.random.permutation", "numpy.random.shuffle", "random.shuffle", "torch.randperm"})
_SHUFFLE_FLAG = re.compile(r"(shuffl|permut)", re.I)
# Flags that ask for something to look at during evaluation (`if self.generate_during_eval:`, `if cfg.VIS:`,
# `if args.log_samples:`), read on each part of the flag's last name; and the calls that show or log it.
_PREVIEW_FLAG = re.compile(
    r"^(generate|generation|log|logging|vis|visual|visualize|visualise|show|preview|plot|wandb)$", re.I
)
_PREVIEW_CALL = re.compile(
    r"^(log|log_\w+|add_(text|image|images|video|figure|table)|imshow|savefig|show_\w+|visuali[sz]e\w*)$"
)


def is_eval_test(test: cst.BaseExpression) -> bool | None:
    """True for an eval condition, False for a train condition, None when the test says neither."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = is_eval_test(test.expression)
        return None if inner is None else not inner
    text = au.code(test)
    if _TRAIN_FLAGS.match(text):
        return False
    if _EVAL_FLAGS.match(text):
        return True
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
    return rule.analysis.module_fact("imports_test_framework", lambda: _imports_test_framework(rule))


def _imports_test_framework(rule) -> bool:
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
    """A seeding call in the function that draws (or in a function around it, or in another method of
    its class), or a statement of the module itself (`np.random.seed(SEED)` right after the imports of an evaluation script): a
    seeded protocol."""
    ancestors = list(au.ancestors(rule, node))
    scopes = [a for a in ancestors if isinstance(a, cst.FunctionDef)]
    if not scopes:
        scopes = [au.enclosing_scope_node(rule, node)]
    if any(_seeds(rule, scope) for scope in scopes):
        return True
    cls = next((a for a in ancestors if isinstance(a, cst.ClassDef)), None)
    if cls is not None and _seeds(rule, cls):
        return True  # a method of the class seeds before its evaluation runs (`rd.seed(2680)` in `eval_result`)
    module = next((a for a in ancestors if isinstance(a, cst.Module)), None)
    if module is None:
        return False
    return rule.analysis.module_fact(  # asked once per file, not once per draw
        "seeded at module level",
        lambda: any(_seeds(rule, s) for s in module.body if isinstance(s, cst.SimpleStatementLine)),
    )


def is_pause_length(rule, draw: cst.Call) -> bool:
    """The draw is how long to wait (`time.sleep(random.uniform(1, 2))` between the retries of an API
    call, `sleep(base * random.random())`): jitter, not data."""
    for anc in au.ancestors(rule, draw):
        if isinstance(anc, cst.Call):
            return au.last_identifier(anc.func) == "sleep"
        if not isinstance(anc, (cst.Arg, cst.BinaryOperation, cst.UnaryOperation)):
            return False
    return False


def _seeds(rule, scope: cst.CSTNode) -> bool:
    for call in au.find_all(scope, cst.Call):
        if au.call_names(rule, call) & _SEEDING or _SEEDING_NAME.search(au.last_identifier(call.func) or ""):
            return True
    return False


def _rebinds(statement: cst.CSTNode, name: str) -> bool:
    """`statement` binds `name` afresh: `name = <value not reading name>` or `for ..., name, ... in ...`."""
    if isinstance(statement, cst.For):
        return any(au.is_name(n, name) for n in au.find_all(statement.target, cst.Name))
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            if (
                isinstance(small, cst.Assign)
                and any(au.is_name(t.target, name) for t in small.targets)
                and name not in au.names_in(small.value)
            ):
                return True
    return False


def _discarded_or_self_update(rule, use: cst.Name, name: str) -> bool:
    """`use` feeds a call whose result is thrown away (`model(x)` as a statement), or updates the name from
    itself (`x = x.contiguous()`, `x = x.cuda()`)."""
    for anc in au.ancestors(rule, use):
        if isinstance(anc, cst.Expr):
            return isinstance(anc.value, cst.Call)
        if isinstance(anc, cst.Assign):
            return all(au.is_name(t.target, name) for t in anc.targets)
        if isinstance(anc, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
            return False
    return False


def is_warmup_input(rule, call: cst.Call) -> bool:
    """The draw makes a dummy input that is only fed to calls whose results are thrown away before the name is
    bound again: `x = torch.randn(shape); model(x); for x, y in loader: ...` (a warm-up pass before timing)."""
    target = au.bound_name(rule, call)
    if not isinstance(target, cst.Name):
        return False
    name = target.value
    statement: cst.CSTNode | None = next(
        (a for a in au.ancestors(rule, call) if isinstance(a, cst.SimpleStatementLine)), None
    )
    block = au.parent(rule, statement) if statement is not None else None
    body = getattr(block, "body", None)
    if not isinstance(body, (list, tuple)) or statement not in body:
        return False
    fed = False
    for following in body[body.index(statement) + 1 :]:
        if _rebinds(following, name):
            if isinstance(following, cst.For) and name in au.names_in(following.iter):
                return False
            return fed
        for use in au.find_all(following, cst.Name, lambda n: n.value == name):
            if au.is_assignment_target(rule, use):
                continue
            if not _discarded_or_self_update(rule, use, name):
                return False
            fed = fed or isinstance(
                next((a for a in au.ancestors(rule, use) if isinstance(a, (cst.Expr, cst.Assign))), None), cst.Expr
            )
    return fed


_DATA_DRAWS = frozenset({"torch.rand", "torch.randn", "numpy.random.rand", "numpy.random.randn"})


def makes_random_data(rule, call: cst.Call, names: set[str]) -> bool:
    """`torch.rand(1000, 10)`, `np.random.randn(2, 3, 224, 224)`, `torch.randn((4, 512))`: a tensor of two or
    more dimensions of random values is made-up data (a speed test's input, noise), not a choice of frames,
    crops or offsets, which take a scalar or one value per frame."""
    if not names & _DATA_DRAWS:
        return False
    positional = [arg.value for arg in call.args if arg.keyword is None and arg.star == ""]
    size = au.keyword_arg(call, "size")
    shape = size.value if size is not None else None
    if shape is None and len(positional) == 1 and isinstance(positional[0], (cst.Tuple, cst.List)):
        shape = positional[0]
    if isinstance(shape, (cst.Tuple, cst.List)):
        return len(shape.elements) >= 2
    return len(positional) >= 2


class RandomSamplingInEvalRule(Rule):
    """
    What it does:
        Flags draws from Python's, numpy's or torch's global random generator inside evaluation
        code: a function named like `evaluate`/`val_*`/`*_inference`, or a branch under
        `if not self.training`, `if self.test_mode`, `if split == "val"`, the `else` of
        `if self.training`. Also flags eval code that calls a method of the same class
        (`self._sample_indices(...)`) which draws at random and has no mode switch of its own:
        the training sampler used at test time.

    Why is this bad?
        Validation and test clips must be the same on every run; otherwise the metric moves by
        itself from epoch to epoch and between runs, checkpoints are selected on noise, and
        reported results cannot be reproduced. Test-time sampling should be deterministic
        (center clip, uniform clips), or seeded explicitly.

        Not reported: unit tests (random dummy inputs), the decode-failure retry idiom (a random
        other item after a video fails to load, inside `while` / `except` / a retry loop),
        seeded protocols (a seeding call in the drawing function, e.g. Monte-Carlo evaluation
        over fixed seeds, or a plain statement of the module such as `np.random.seed(SEED)`),
        warm-up inputs (a random tensor fed only to calls whose result is thrown away, `model(x)` as a statement, before the name is bound again),
        made-up data (`torch.rand(1000, 10)`, `np.random.randn(2, 3, 224, 224)`: a tensor of two or more
        dimensions of random values, where a choice of frames or offsets takes a scalar or one value per frame), opt-in order
        ablations (a permutation or shuffle in the body of an `if` on a flag named for shuffling,
        `if cfg.TEST.SHUFFLE_FRAMES:`, read through one local alias), and opt-in previews (a draw
        in the body of an `if` on a flag named for generating, logging or visualising,
        `if self.generate_during_eval:`, whose body logs or shows something: random examples to
        look at, not the data the metric is computed on).

        A draw that a more specific rule also reports (an exclusive bound, TK131; an unsorted
        subset, TK141) is one finding, that rule's, whose message adds this one.

    Known problems:
        Evaluation code is recognised by names: functions named like `evaluate`, `val_*`,
        `_get_val_indices`, `*_inference`, and branches on `self.training`, `split == "val"`,
        `mode == "test"`, `self.test_mode`. A called method counts as switching on the mode when
        any condition in it names a part like `random`, `shift`, `train`, `aug`, `test`, `val`,
        `mode`, `split` or `phase`; only methods of the same class, one call deep, are read, and
        not those named for logging or showing (a part `log`, `vis`, `show`, `plot`...:
        `self._log_examples(...)` picks rows to print).
        Seeding is recognised by name too (`set_seed`, `seed_everything`,
        `manual_seed`, any call named `*_seed`), and a test module by its `pytest` / `unittest`
        import or `test*` / `Test*` names. A retry is a draw bounded by `len(self...)` /
        `self.__len__()` inside `while`, `except` or a loop over retries. An ablation is told by its
        flag's name alone (`shuffl*`, `permut*`): a test-time shuffle switched on by such a flag
        is not reported, even where the flag is on by default. A preview is told by its flag's name
        (a part `generate`, `log`, `vis`, `visualize`, `show`, `preview`, `plot`, `wandb`) and a
        call in the branch named like a logger or viewer (`log`, `log_*`, `add_text`, `add_image`,
        `imshow`, `savefig`, `wandb.*`); a metric computed on the random rows in such a branch is
        missed. A draw under `if self.flag:` where `flag` is an `__init__` parameter defaulting to
        False, None or 0 (or under `if n > 0:` with `n` defaulting to 0 or less) is an opt-in and not
        reported, even where every config switches it on.

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
    GENERAL = True  # a draw another rule also reports (TK131's bound, TK141's order) is that rule's one finding

    VALID = [
        # A random pause between the retries of a judge-model call in an evaluation task: jitter, not data
        # (a held-out-17 false alarm).
        Valid(
            """
            import random
            import time

            def evaluate_answer(client, prompt, max_tries=5):
                for _ in range(max_tries):
                    try:
                        return client.score(prompt)
                    except ConnectionError:
                        time.sleep(random.uniform(1, 2))
            """
        ),
        # A fallback answer drawn when parsing fails, in a scorer whose entry method seeds first: the same
        # draws on every run (a held-out-17 false alarm).
        Valid(
            """
            import random as rd

            class ChoiceScorer:
                def extract_answer(self, item):
                    parsed = self.parse(item)
                    if parsed is None:
                        return rd.randint(0, len(item.options) - 1)
                    return parsed

                def evaluate(self, items):
                    rd.seed(2680)
                    return [self.extract_answer(item) for item in items]
            """
        ),
        # Validation picks random examples to print through a helper named for logging (a real-code false alarm).
        Valid(
            """
            import numpy as np

            class Trainer:
                def validate(self, data, scores):
                    self._log_examples(data.hypotheses, data.references)
                    return scores.mean()

                def _log_examples(self, hypotheses, references, count=5):
                    for i in np.random.permutation(len(hypotheses))[:count]:
                        print(hypotheses[i], "|", references[i])
            """
        ),
        # Scoring a random subset of the predictions only when the caller asks for one (`sample_num=-1` by
        # default: every prediction is scored; a real-code false alarm).
        Valid(
            """
            import random

            def evaluate(predictions, metric, sample_num=-1):
                if sample_num > 0:
                    predictions = random.sample(predictions, sample_num)
                return metric(predictions)
            """
        ),
        # A speed test of an evaluation-time routine on made-up data (a real-code false alarm).
        Valid(
            """
            import time
            import torch
            from ourlib.cluster import kmedoids

            def kmedoids_speed_test(iters=10):
                points = torch.rand(1000, 10)
                noise = torch.randn((1000, 10)) * 0.01
                start = time.time()
                for _ in range(iters):
                    centres, labels = kmedoids(points + noise, 49)
                return (time.time() - start) / iters, centres
            """
        ),
        # Jitter the caller must switch on (the parameter defaults to False): deterministic by default.
        Valid(
            """
            import numpy as np

            class Clips:
                def __init__(self, step, temporal_jitter=False):
                    self.step, self.temporal_jitter = step, temporal_jitter

                def _get_test_offsets(self, k):
                    if self.temporal_jitter:
                        return np.random.randint(self.step, size=k)
                    return np.zeros(k, dtype=int)
            """
        ),
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
        # An order-sensitivity ablation at test time, off unless asked for: shuffling is the point.
        Valid(
            """
            import numpy as np

            def run_test(model, clips, opts):
                permute = opts.EVAL.PERMUTE_FRAMES
                scores = []
                for clip in clips:
                    if permute:
                        clip = clip[:, np.random.permutation(clip.shape[1])]
                    scores.append(model(clip))
                return scores
            """
        ),
        Valid(
            """
            import torch

            def evaluate(model, batch, shuffle_time=False):
                if shuffle_time:
                    batch = batch[:, :, torch.randperm(batch.shape[2])]
                return model(batch)
            """
        ),
        # Seeded once for the whole script, right after the imports: the same draws on every run.
        Valid(
            """
            import numpy as np

            SEED = 1234
            np.random.seed(SEED)


            def evaluate_needles(model, haystack, num_samples):
                needles = [int(np.random.randint(10**6)) for _ in range(num_samples)]
                return [model(haystack, n) for n in needles]
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
        # A warm-up pass before timing: the random batch's output is thrown away, the scores come from the loader.
        Valid(
            """
            import time
            import torch

            def evaluate(model, loader, shape):
                dummy = torch.rand(shape).cuda()
                if torch.cuda.is_available():
                    dummy = dummy.half()
                model(dummy)
                start = time.time()
                for dummy, target in loader:
                    score = model(dummy)
                return score, time.time() - start
            """
        ),
        # The helper switches on the mode itself (an early return at test time): its draw is for training.
        Valid(
            """
            import numpy as np

            class Videos:
                def _frames(self, n):
                    if self.mode == "test":
                        return list(range(0, n, self.stride))
                    end = np.random.randint(self.span, n + 1)
                    return list(range(end - self.span, end))

                def __getitem__(self, i):
                    if self.mode == "test":
                        return self._frames(self.lengths[i])
                    return self._frames(self.lengths[i])
            """
        ),
        # Random rows of the evaluation set turned into a logged table of generations, when a flag asks for it
        # (a real-code false alarm): the evaluation itself still runs over every row.
        Valid(
            """
            import random

            class Trainer:
                def evaluation_loop(self, loader, prefix="eval"):
                    if self.generate_during_eval:
                        num_samples = len(loader.dataset)
                        rows = random.sample(range(num_samples), k=self.eval_batch_size)
                        texts = self.generate(loader.dataset.select(rows))
                        self.log({"generations": texts})
                    return super().evaluation_loop(loader, prefix)
            """
        ),
    ]
    INVALID = [
        # Beside the preview of generations (quiet), each evaluated clip starts at random: reported.
        Invalid(
            """
            import random

            class Evaluator:
                def evaluation_loop(self, dataset, T):
                    if self.generate_during_eval:
                        rows = random.sample(range(len(dataset)), k=4)
                        self.log({"samples": [self.generate(dataset[r]) for r in rows]})
                    scores = []
                    for video in dataset:
                        start = random.randint(0, len(video) - T)
                        clip = video[start : start + T]
                        scores.append(self.model(clip))
                    return sum(scores) / len(scores)
            """,
            expected_line=11,
        ),
        # The training sampler called in test mode: its offsets are random whatever the mode.
        Invalid(
            """
            import numpy as np

            class Clips:
                def _train_offsets(self, n):
                    tick = n // self.T
                    return np.arange(self.T) * tick + np.random.randint(tick, size=self.T)

                def _test_offsets(self, n):
                    return np.arange(self.T) * (n // self.T) + n // self.T // 2

                def __getitem__(self, i):
                    n = self.lengths[i]
                    if not self.test_mode:
                        offsets = self._train_offsets(n)
                    else:
                        offsets = self._train_offsets(n) if self.long_videos else self._test_offsets(n)
                    return offsets
            """,
            expected_line=17,
        ),
        # A random batch that is scored, not thrown away.
        Invalid(
            """
            import torch

            def evaluate(model, shape):
                batch = torch.rand(shape)
                model(batch)
                return model(batch)
            """,
            expected_line=5,
        ),
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
        # An opt-in flag that defaults to True: the default evaluation is random.
        Invalid(
            """
            import numpy as np

            class Clips:
                def __init__(self, step, jitter=True):
                    self.step, self.jitter = step, jitter

                def _get_test_offsets(self, k):
                    if self.jitter:
                        return np.random.randint(self.step, size=k)
                    return np.zeros(k, dtype=int)
            """,
            expected_line=10,
        ),
        # A test-time permutation under a flag that is not about shuffling: still eval randomness.
        Invalid(
            """
            import numpy as np

            def evaluate(model, clip, use_tta):
                if use_tta:
                    clip = clip[:, np.random.permutation(clip.shape[1])]
                return model(clip)
            """,
            expected_line=6,
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
            self._check_helper_call(node)
            return
        names = au.call_names(self, node)
        if self._own_generator(node, names) or not in_eval_context(self, node):
            return
        if (
            in_test_code(self, node)
            or is_decode_retry(self, node)
            or is_seeded(self, node)
            or is_warmup_input(self, node)
            or makes_random_data(self, node, names)
            or is_pause_length(self, node)
            or self._opt_in_shuffle(node, names)
            or self._opt_in_preview(node)
            or self._off_by_default(node)
        ):
            return
        self.report(node)

    def _off_by_default(self, node: cst.Call) -> bool:
        """The draw is in the body of `if self.flag:` (or `if flag:`) where `flag` is a parameter of the
        class's `__init__` (or of the function) that defaults to False, None or 0: randomness a caller
        must switch on (mmaction's `temporal_jitter=False`); the default path is deterministic."""
        previous: cst.CSTNode = node
        for anc in au.ancestors(self, node):
            if isinstance(anc, cst.FunctionDef):
                return False
            if isinstance(anc, cst.If) and previous is anc.body and _defaults_off(self, anc.test):
                return True
            previous = anc
        return False

    def _opt_in_preview(self, node: cst.Call) -> bool:
        """The draw is in the body of an `if` on a flag that asks for generations, logs or a visualisation
        (`if self.generate_during_eval:`), and that body logs or shows them (`self.log(...)`, `wandb.*`,
        `writer.add_text`): random examples picked to look at; the evaluation's own data are left alone."""
        previous: cst.CSTNode = node
        for anc in au.ancestors(self, node):
            if isinstance(anc, cst.FunctionDef):
                return False
            if isinstance(anc, cst.If) and previous is anc.body and _preview_flag(self, anc.test):
                return any(
                    _PREVIEW_CALL.match(au.last_identifier(call.func) or "")
                    or any(n.split(".")[0] == "wandb" for n in au.call_names(self, call))
                    for call in au.find_all(anc.body, cst.Call)
                )
            previous = anc
        return False

    def _opt_in_shuffle(self, node: cst.Call, names: set[str]) -> bool:
        """A permutation drawn only under an `if` on a flag named for shuffling (`if cfg.TEST.SHUFFLE_FRAMES:`,
        or a local alias of it): an opt-in order ablation, where a random order is the point."""
        if not names & _PERMUTATIONS:
            return False
        previous: cst.CSTNode = node
        for anc in au.ancestors(self, node):
            if isinstance(anc, cst.FunctionDef):
                return False
            if isinstance(anc, cst.If) and previous is anc.body and _shuffle_flag(self, anc.test):
                return True
            previous = anc
        return False

    def _check_helper_call(self, node: cst.Call) -> None:
        """`self._sample_indices(...)` called in eval code, where that method of the class draws at random
        whatever the mode: the training sampler used at test time."""
        func = node.func
        if not (isinstance(func, cst.Attribute) and au.is_name(func.value, "self")):
            return
        method = func.attr.value
        if _EVAL_FUNCTION.search(method) or not in_eval_context(self, node):
            return
        if any(_PREVIEW_FLAG.match(part) for part in method.strip("_").split("_")):
            return  # `self._log_examples(...)`: random rows picked to print, not the data the metric uses
        cls = next((a for a in au.ancestors(self, node) if isinstance(a, cst.ClassDef)), None)
        if cls is None:
            return
        helper = next(
            (d for d in cls.body.body if isinstance(d, cst.FunctionDef) and d.name.value == method),
            None,
        )
        if helper is None or helper is au.enclosing_function(self, node) or in_test_code(self, node):
            return
        if any(_mode_switch(t.test) for t in au.find_all(helper, (cst.If, cst.IfExp, cst.While))):
            return  # the helper decides by mode itself (`if self.mode == "test": ...`)
        draws = [c for c in au.find_all(helper, cst.Call) if au.is_random_draw(self, c) and self._unconditional(c)]
        if not draws:
            return
        self.report(
            node,
            f"test/eval code calls `self.{method}`, which draws at random (`{au.code(draws[0].func)}`) in every "
            "mode: evaluation clips (and the metric) change from run to run",
            fix=f"call the deterministic test sampler here instead of `self.{method}`",
        )

    def _unconditional(self, draw: cst.Call) -> bool:
        """A draw from a global generator that is neither a retry nor seeded."""
        if self._own_generator(draw, au.call_names(self, draw)):
            return False
        return not (is_decode_retry(self, draw) or is_seeded(self, draw))

    def _own_generator(self, draw: cst.Call, names: set[str]) -> bool:
        """The draw uses a generator of its own (`rng.integers`, `random.Random(s).randint`,
        `torch.randint(..., generator=g)`), not the global one: its seed is the caller's business."""
        return (
            any(n.startswith("numpy.random.Generator") or n.startswith("random.Random") for n in names)
            or au.keyword_arg(draw, "generator") is not None
        )


def _shuffle_flag(rule: Rule, test: cst.BaseExpression) -> bool:
    """`test` is a bare flag (a name or attribute, or a local name assigned one) named for shuffling."""
    flags: list[cst.BaseExpression] = [test]
    if isinstance(test, cst.Name):
        flags += au.local_assigned_values(rule, test)
    return any(
        isinstance(flag, (cst.Name, cst.Attribute)) and _SHUFFLE_FLAG.search(au.last_identifier(flag) or "")
        for flag in flags
    )


def _preview_flag(rule: Rule, test: cst.BaseExpression) -> bool:
    """`test` is a bare flag (a name or attribute, or a local name assigned one) named for generating, logging or
    visualising: a part of its last name is one of `_PREVIEW_FLAG` (`generate_during_eval`, `log_samples`, `VIS`)."""
    flags: list[cst.BaseExpression] = [test]
    if isinstance(test, cst.Name):
        flags += au.local_assigned_values(rule, test)
    return any(
        isinstance(flag, (cst.Name, cst.Attribute))
        and any(_PREVIEW_FLAG.match(part) for part in (au.last_identifier(flag) or "").split("_"))
        for flag in flags
    )


def _defaults_off(rule: Rule, test: cst.BaseExpression) -> bool:
    """`test` is `self.x` with a parameter `x` of the class's `__init__` defaulting to False / None / 0,
    or a bare name `x` that is such a parameter of the enclosing function; or `x > k` / `x >= k` with
    `x` such a parameter whose integer default fails it (`if sample_num > 0:` with `sample_num=-1`)."""
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        comparison = test.comparisons[0]
        bound = au.int_value(comparison.comparator)
        default = au.int_value(_parameter_default(rule, test.left))
        if bound is None or default is None:
            return False
        if isinstance(comparison.operator, cst.GreaterThan):
            return default <= bound
        if isinstance(comparison.operator, cst.GreaterThanEqual):
            return default < bound
        return False
    default = _parameter_default(rule, test)
    return (isinstance(default, cst.Name) and default.value in ("False", "None")) or au.int_value(default) == 0


def _parameter_default(rule: Rule, target: cst.BaseExpression) -> cst.BaseExpression | None:
    """The default of the parameter `target` names: `self.x` (a parameter `x` of the class's `__init__`)
    or a bare name (a parameter of the enclosing function)."""
    if isinstance(target, cst.Attribute) and au.is_name(target.value, "self"):
        name = target.attr.value
        cls = next((a for a in au.ancestors(rule, target) if isinstance(a, cst.ClassDef)), None)
        owners = [
            d
            for d in (cls.body.body if cls is not None and isinstance(cls.body, cst.IndentedBlock) else ())
            if isinstance(d, cst.FunctionDef) and d.name.value == "__init__"
        ]
    elif isinstance(target, cst.Name):
        name = target.value
        owners = [f for f in [au.enclosing_function(rule, target)] if f is not None]
    else:
        return None
    for owner in owners:
        for param in [*owner.params.params, *owner.params.kwonly_params]:
            if param.name.value == name and param.default is not None:
                return param.default
    return None


def _mode_switch(test: cst.BaseExpression) -> bool:
    """A condition on a randomness, training or eval flag: `self.random_shift`, `self.mode == "test"`."""
    return any(_RANDOMNESS_SWITCH.match(part) for name in au.names_in(test) for part in re.split(r"[._]", name))
