from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class LinspaceSpanPastWindowRule(Rule):
    """
    What it does:
        Flags `np.linspace(start, start + T * tau, T)` (or `torch.linspace`): T positions meant
        to be `tau` frames apart, spread over a span of `T * tau` with the endpoint included.

    Why is this bad?
        A window of T frames at stride tau covers `start .. start + (T - 1) * tau`. `linspace`
        includes its stop, so its positions are `T * tau / (T - 1)` apart (9.14 instead of 8
        for T = 8, tau = 8) and the last one is `start + T * tau`: the first frame after the
        window. When the start is drawn so that the window ends on the last frame of the video,
        that index is one past it. The model is also trained on a stride it was not configured
        for.

    Example:
        ```python
        start = random.randint(0, num_frames - clip_len * rate)
        indices = np.linspace(start, start + clip_len * rate, clip_len).astype(int)
        ```

    Fix:
        Step by tau, or stop at the last frame of the window.
        ```python
        indices = start + np.arange(clip_len) * rate
        # or: np.linspace(start, start + (clip_len - 1) * rate, clip_len)
        ```

    Known problems:
        The stop must be written (directly or through one assignment) as the start plus a
        product that has the linspace count as a factor (`start + clip_len * rate`, or
        `end = start + span` with `span = int(clip_len * rate)`). Positions clamped afterwards
        (`np.clip(idx, start, end - 1)`) are not flagged: the stretched stride remains there
        but no index leaves the window.
    """

    ID = "TK104"
    CATEGORY = "index-out-of-range"
    SEVERITY = "warning"
    MESSAGE = (
        "linspace(start, start + T * tau, T) includes its stop: positions are T * tau / (T - 1) apart, not tau, and the "
        "last one (start + T * tau) is the first frame after the window (past the video when the window ends on its "
        "last frame)"
    )
    FIX = "step by tau: start + np.arange(T) * tau (or linspace(start, start + (T - 1) * tau, T))"
    TRIGGERS = ("linspace",)

    VALID = [
        Valid(
            """
            import numpy as np
            idx = np.linspace(start, start + (T - 1) * tau, T).astype(int)
            """
        ),
        Valid(
            """
            import numpy as np
            idx = np.linspace(start, start + T * tau, T, endpoint=False).astype(int)
            """
        ),
        # a window spread over clip_size - 1 frames: a stride of (clip_size - 1) / (T - 1) is the intent
        Valid(
            """
            import torch
            idx = torch.linspace(start, start + clip_size - 1, num_samples).long()
            """
        ),
        # clamped into the window afterwards
        Valid(
            """
            import numpy as np

            def window(last, T, tau):
                first = last - T * tau
                pos = np.linspace(first, last, num=T)
                return np.clip(pos, first, last - 1).astype(int)
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import random
            import numpy as np

            def sample(num_frames, clip_len, rate):
                start = random.randint(0, num_frames - clip_len * rate)
                return np.linspace(start, start + clip_len * rate, clip_len).astype(int)
            """,
            expected_line=7,
        ),
        Invalid(
            """
            import torch

            def sample(start, num_frames, stride):
                span = num_frames * stride
                end = start + span
                return torch.linspace(start, end, num_frames).long()
            """,
            expected_line=7,
        ),
        Invalid(
            """
            import numpy as np

            def sample(end_idx, T, tau):
                begin = end_idx - int(T * tau)
                return np.linspace(begin, end_idx, num=T).astype(int)
            """,
            expected_line=6,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not au.calls(self, node, au.LINSPACE):
            return
        start = au.argument(node, 0, "start")
        stop = au.argument(node, 1, "end") or au.argument(node, 1, "stop")
        count = au.argument(node, 2, "num") or au.argument(node, 2, "steps")
        if start is None or stop is None or count is None:
            return
        endpoint = au.keyword_arg(node, "endpoint")
        if endpoint is not None and au.code(endpoint.value) == "False":
            return
        span = self._span(start, stop)
        if span is None or not self._has_factor(span, count):
            return
        if au.is_clamped(self, node):
            return
        self.report(node)

    def _span(self, start: cst.BaseExpression, stop: cst.BaseExpression) -> cst.BaseExpression | None:
        """`P` when stop == start + P (written out or through one assignment of either bound)."""
        for candidate in (stop, *self._values(stop)):
            if isinstance(candidate, cst.BinaryOperation) and isinstance(candidate.operator, cst.Add):
                if au.code(candidate.left) == au.code(start):
                    return candidate.right
                if au.code(candidate.right) == au.code(start):
                    return candidate.left
        for candidate in self._values(start):
            if au.is_subtraction(candidate) and au.code(candidate.left) == au.code(stop):  # type: ignore[union-attr]
                return candidate.right  # type: ignore[union-attr]
        return None

    def _values(self, node: cst.BaseExpression) -> list[cst.BaseExpression]:
        return au.assigned_values(self, node) if isinstance(node, cst.Name) else []

    def _has_factor(self, span: cst.BaseExpression, count: cst.BaseExpression, depth: int = 0) -> bool:
        """`span` is `count * tau` (through `int(...)` or a name), tau not the literal 1."""
        if au.is_call_to(span, "int", "round") and len(span.args) == 1:  # type: ignore[union-attr]
            span = span.args[0].value  # type: ignore[union-attr]
        if isinstance(span, cst.BinaryOperation) and isinstance(span.operator, cst.Multiply):
            for factor, other in ((span.left, span.right), (span.right, span.left)):
                if au.code(factor) == au.code(count) and au.int_value(other) != 1:
                    return True
            return False
        if isinstance(span, cst.Name) and depth < 2:
            return any(self._has_factor(v, count, depth + 1) for v in au.assigned_values(self, span))
        return False
