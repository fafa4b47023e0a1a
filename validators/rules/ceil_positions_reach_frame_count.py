from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_CEIL = frozenset({"numpy.ceil", "torch.ceil", "math.ceil"})


class CeilPositionsReachFrameCountRule(Rule):
    """
    What it does:
        Flags frame positions `i * n / T` for `i < T` rounded up: `np.ceil(np.arange(T) * (n / T))`,
        `[math.ceil(i * n / T) for i in range(T)]`.

    Why is this bad?
        The last position is `(T - 1) * n / T = n - n / T`. When the video is shorter than the
        clip (`n < T`), `n / T < 1` and it rounds up to `n`: one past the last frame
        (`n = 5, T = 8` gives 0, 1, 2, 2, 3, 4, 4, 5). Short videos then raise `IndexError`, or
        decoders that clamp silently return a different frame.

    Example:
        ```python
        indices = np.ceil(np.arange(T) * (num_frames / T)).astype(int)
        ```

    Fix:
        Round down (or to nearest over the last valid index).
        ```python
        indices = (np.arange(T) * num_frames / T).astype(int)
        # or: np.linspace(0, num_frames - 1, T).round().astype(int)
        ```

    Known problems:
        `n` is taken for a frame count from its name (see TK111), and the positions are
        recognised only when the same `T` is the length of the `arange`/`range` and the divisor.
        Positions clamped afterwards (`np.minimum(idx, n - 1)`) are not flagged.
    """

    ID = "TK105"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = (
        "ceil(i * n / T) for i < T reaches n when the video is shorter than the clip (n < T): the last index is one "
        "past the last frame (n=5, T=8 gives ... 4, 5)"
    )
    FIX = "round down: (np.arange(T) * n / T).astype(int), or np.linspace(0, n - 1, T).round().astype(int)"
    TRIGGERS = ("ceil",)

    VALID = [
        # A name whose assignment refers to itself (a real model builder's loop): followed a few
        # assignments deep, not until the recursion limit.
        Valid(
            """
            import math

            def stage_width(width, depth):
                step = width
                for _ in range(depth):
                    step = max(step, 1)
                return math.ceil(step)
            """
        ),
        Valid(
            """
            import numpy as np
            idx = (np.arange(T) * (num_frames / T)).astype(int)
            """
        ),
        Valid(
            """
            import numpy as np
            idx = np.minimum(np.ceil(np.arange(T) * (num_frames / T)), num_frames - 1).astype(int)
            """
        ),
        # a spatial grid, not frame positions
        Valid(
            """
            import numpy as np
            ys = np.ceil(np.arange(rows) * (height / rows))
            """
        ),
        Valid(
            """
            import math
            steps = math.ceil(num_frames / T)
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import numpy as np

            def sample(num_frames, T):
                return np.ceil(np.arange(T) * (num_frames / T)).astype(int)
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import math

            def sample(frames, T):
                return [frames[math.ceil(i * len(frames) / T)] for i in range(T)]
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import math
            idx = [math.ceil(num_frames * k / T) for k in range(T)]
            """
        ),
        Invalid(
            """
            import torch

            def sample(num_frames, T):
                step = num_frames / T
                return torch.ceil(torch.arange(T) * step).long()
            """,
            expected_line=6,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not au.calls(self, node, _CEIL) or len(node.args) != 1:
            return
        value = node.args[0].value
        division = self._division(value)
        if division is None or not au.looks_like_frame_total(self, division.left):
            return
        if not self._counts_up_to(node, value, division.right):
            return
        if au.is_clamped(self, node):
            return
        self.report(node)

    def _division(self, expr: cst.BaseExpression) -> cst.BinaryOperation | None:
        """The `n / T` in `i * (n / T)`, `i * n / T`, `i * step` (`step = n / T`)."""
        for node in au.find_all(expr, cst.BinaryOperation, lambda b: isinstance(b.operator, cst.Divide)):
            left = node.left
            if isinstance(left, cst.BinaryOperation) and isinstance(left.operator, cst.Multiply):
                # (i * n) / T or (n * i) / T: n over T
                count = left.left if au.looks_like_frame_total(self, left.left) else left.right
                return node.with_changes(left=count)
            return node
        for name in au.find_all(expr, cst.Name):
            found = au.resolve_division(self, name, floor=False)
            if found is not None:
                return found
        return None

    def _counts_up_to(self, node: cst.CSTNode, expr: cst.BaseExpression, count: cst.BaseExpression) -> bool:
        """`expr` multiplies a counter over 0..count-1 (`np.arange(T)`, a loop variable over `range(T)`)."""
        for product in au.find_all(expr, cst.BinaryOperation, lambda b: isinstance(b.operator, cst.Multiply)):
            for side in (product.left, product.right):
                loop = au.loop_count(self, node, side)
                if loop is not None and au.code(loop) == au.code(count):
                    return True
        return False
