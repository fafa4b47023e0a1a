from __future__ import annotations

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class FloorStepLeavesTailRule(Rule):
    """
    What it does:
        Flags "uniform" sampling that strides by the truncated step `n // T` and then keeps T
        indices: `range(0, (n // T) * T, n // T)`, `np.arange(0, n, n // T)[:T]`, `frames[::n // T][:T]`.

    Why is this bad?
        Truncating the step throws away up to `T - 1` frames of stride, and they all come off the
        end: with `n = 63, T = 32` the step is 1 and the clip covers only the first half of the
        video. Which part of the video the model sees depends on `n % T`, not on the content.

    Example:
        ```python
        step = num_frames // T
        indices = list(range(0, step * T, step))
        ```

    Fix:
        Spread T indices over the whole video with a fractional step.
        ```python
        indices = np.linspace(0, num_frames - 1, T).round().astype(int)
        # or: (np.arange(T) * num_frames / T).astype(int)
        ```
    """

    ID = "TK121"
    CATEGORY = "uneven-coverage"
    SEVERITY = "warning"
    MESSAGE = (
        "uniform sampling with the truncated step n // T keeps only the first T * (n // T) frames: up to "
        "T - 1 strides of the video's tail are never sampled (n=63, T=32 covers half the video)"
    )
    FIX = "use a fractional step: np.linspace(0, n - 1, T).round().astype(int)"
    TRIGGERS = ("//",)

    VALID = [
        Valid("import numpy as np\nidx = np.linspace(0, n - 1, T).round().astype(int)\n"),
        Valid("import numpy as np\nidx = (np.arange(T) * n / T).astype(int)\n"),
        Valid("for i in range(0, n, stride):\n    pass\n"),
        Valid("idx = list(range(0, n, 2))[:T]\n"),
    ]
    INVALID = [
        Invalid("def sample(n, T):\n    step = n // T\n    return list(range(0, step * T, step))\n", expected_line=3),
        Invalid("idx = list(range(0, (n // T) * T, n // T))\n"),
        Invalid("import numpy as np\nidx = np.arange(0, num_frames, max(1, num_frames // T))[:T]\n"),
        Invalid("def clip(frames, T):\n    return frames[:: len(frames) // T][:T]\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        self._check(node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._check(node)

    def _check(self, node: cst.Call | cst.Subscript) -> None:
        found = au.stride_division(self, node, floor=True)
        if found is None:
            return
        division, over = found
        if not au.operand_names(division.left) & over and not self._stop_is_multiple(node, division):
            return
        if not (self._stop_is_multiple(node, division) or au.is_truncated(self, node)):
            return
        self.report(node)

    def _stop_is_multiple(self, node: cst.CSTNode, division: cst.BinaryOperation) -> bool:
        if not isinstance(node, cst.Call):
            return False
        stop = au.positional_args(node)[1]
        if not (isinstance(stop, cst.BinaryOperation) and isinstance(stop.operator, cst.Multiply)):
            return False
        if au.find_all(stop, cst.BinaryOperation, lambda b: isinstance(b.operator, cst.FloorDivide)):
            return True
        step = au.positional_args(node)[2] if len(au.positional_args(node)) > 2 else None
        return step is not None and au.code(step) in (au.code(stop.left), au.code(stop.right))
