from __future__ import annotations

import re

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_EVAL_NAME = re.compile(r"(^|_)(val|valid|validation|test|eval|evaluation|inference|infer)(_|$)", re.I)


class RandomTransformInEvalRule(Rule):
    """
    What it does:
        Flags torchvision `Random*` transforms (`RandomCrop`, `RandomResizedCrop`,
        `RandomHorizontalFlip`...) inside a transform pipeline bound to an evaluation name
        (`val_transform`, `test_tf`, `self.eval_transforms`, a `"val"` / `"test"` dict entry).

    Why is this bad?
        Evaluation should see the same pixels every run. A random crop or flip at test time
        makes the metric noisy and irreproducible and usually lowers it (random crops cut off the
        action); checkpoints get selected on augmentation luck.

    Known problems:
        An evaluation pipeline is recognised by the name it is bound to (`val_transform`,
        `test_tf`, `self.eval_transforms`, a `"val"` / `"test"` dict key). A pipeline built under
        another name and used for evaluation is missed; one named `test_*` in a unit test is
        reported.

    Example:
        ```python
        val_transform = v2.Compose([v2.RandomResizedCrop(224), v2.ToDtype(torch.float32, scale=True)])
        ```

    Fix:
        Use the deterministic counterpart at eval time.
        ```python
        val_transform = v2.Compose([v2.Resize(256), v2.CenterCrop(224), v2.ToDtype(torch.float32, scale=True)])
        ```
    """

    ID = "TK212"
    CATEGORY = "nondeterministic-eval"
    SEVERITY = "warning"
    MESSAGE = "random transform in an evaluation pipeline: validation/test inputs change from run to run"
    FIX = "use deterministic transforms at eval time (Resize + CenterCrop, no flips)"
    TRIGGERS = ("Random",)

    VALID = [
        Valid(
            """
            from torchvision.transforms import v2
            val_transform = v2.Compose([v2.Resize(256), v2.CenterCrop(224)])
            """
        ),
        Valid(
            """
            from torchvision.transforms import v2
            train_transform = v2.Compose([v2.RandomResizedCrop(224), v2.RandomHorizontalFlip()])
            """
        ),
        Valid(
            """
            from torchvision.transforms import v2
            interval_aug = v2.RandomCrop(112)
            """
        ),
        Valid(
            # a bytes key is not a split name (evaluated_value is bytes: no regex on it)
            """
            from torchvision.transforms import v2
            by_tag = {b"val": v2.RandomCrop(112)}
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            from torchvision.transforms import v2

            val_transform = v2.Compose([
                v2.RandomResizedCrop(224),
                v2.ToDtype(torch.float32, scale=True),
            ])
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import torchvision.transforms as T

            class Data:
                def __init__(self):
                    self.test_tf = T.Compose([T.Resize(128), T.RandomCrop(112)])
            """
        ),
        Invalid(
            """
            import torchvision.transforms as T
            transforms = {'train': T.RandomCrop(112), 'val': T.Compose([T.RandomHorizontalFlip()])}
            """
        ),
    ]

    def visit_Assign(self, node: cst.Assign) -> None:
        names = [au.last_identifier(t.target) or "" for t in node.targets]
        if any(_EVAL_NAME.search(n) for n in names):
            self._report_random(node.value)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = node.key.evaluated_value if isinstance(node.key, cst.SimpleString) else None
        if isinstance(key, str) and _EVAL_NAME.search(key):
            self._report_random(node.value)

    def _report_random(self, value: cst.BaseExpression) -> None:
        for call in au.find_all(value, cst.Call):
            if au.is_random_transform(self, call):
                self.report(call)
