from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class RandintInclusiveOvershootRule(Rule):
    """
    What it does:
        Flags Python's `random.randint(a, b)` used with an exclusive-style upper bound:
        `random.randint(0, n - T + 1)` or `random.randint(0, len(frames))`, also on a
        `random.Random` instance bound to a name and through a variable
        (`span = n - T + 1`, then `random.randint(0, span)`).

    Why is this bad?
        Unlike numpy's `randint`/`Generator.integers` and `torch.randint`, Python's
        `random.randint` includes `b`. A window start of `n - T + 1` makes the clip run one frame
        past the end; an index of `len(frames)` is out of range. It fails only for the draws that
        hit the top value, so tests pass by luck.

    Example:
        ```python
        start = random.randint(0, num_frames - clip_len + 1)   # can be num_frames - clip_len + 1
        ```

    Fix:
        Use the inclusive bound (autofix), or `random.randrange(n - T + 1)`.
        ```python
        start = random.randint(0, num_frames - clip_len)
        ```

    Known problems:
        `random.randint(0, X + 1)` is reported when `X` is a subtraction or reads like a count
        (`num_frames`, `len(...)`, by name); a deliberate `+ 1` on such a name (a stride up to
        and including `max_stride + 1`) would be reported too. A bound held in a variable is
        reported without a fix.
    """

    ID = "TK103"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = (
        "random.randint includes its upper bound: an exclusive-style bound (n - T + 1, len(frames)) lets "
        "the draw land one past the last valid value and index past the end of the video"
    )
    FIX = "use the inclusive bound: random.randint(0, n - T) / random.randint(0, len(frames) - 1)"
    TRIGGERS = ("randint",)

    VALID = [
        Valid(
            """
            import random
            start = random.randint(0, num_frames - clip_len)
            """
        ),
        Valid(
            """
            import random
            i = random.randint(0, len(frames) - 1)
            """
        ),
        Valid(
            """
            import numpy as np
            start = np.random.randint(0, num_frames - clip_len + 1)
            """
        ),
        Valid(
            """
            import torch
            start = torch.randint(0, n - t + 1, (1,)).item()
            """
        ),
        Valid(
            """
            import random
            stride = random.randint(1, max_stride + 1)
            """
        ),
        # A box centre kept `m` away from both edges: not a start.
        Valid(
            """
            import random
            cy = random.randint(m, img_h - m + 1)
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import random

            def window(n, T):
                start = random.randint(0, n - T + 1)  # random start
                return range(start, start + T)
            """,
            expected_fix="""
            import random

            def window(n, T):
                start = random.randint(0, n - T)  # random start
                return range(start, start + T)
            """,
            expected_line=5,
        ),
        Invalid(
            """
            from random import randint
            idx = randint(0, len(frames))
            """,
            expected_fix="""
            from random import randint
            idx = randint(0, len(frames) - 1)
            """,
        ),
        Invalid(
            """
            import random as rnd
            start = rnd.randint(0, self.num_frames - self.clip_len + 1)
            """,
            expected_fix="""
            import random as rnd
            start = rnd.randint(0, self.num_frames - self.clip_len)
            """,
        ),
        Invalid(
            """
            import random

            class Clips:
                def __init__(self, seed):
                    self.random = random.Random(seed)

                def start(self, num_frames):
                    return self.random.randint(0, num_frames - self.clip_len + 1)
            """,
            expected_fix="""
            import random

            class Clips:
                def __init__(self, seed):
                    self.random = random.Random(seed)

                def start(self, num_frames):
                    return self.random.randint(0, num_frames - self.clip_len)
            """,
        ),
        Invalid(
            """
            import random

            def start(num_frames, clip_len):
                positions = num_frames - clip_len + 1
                return random.randint(0, positions)
            """,
            expected_line=6,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        bound = au.window_bound(self, node)
        if bound is not None:
            if au.bound_convention_error(bound) == "overshoot":
                self._report_window(bound)
            return
        if not au.random_call_names(self, node) & au.INCLUSIVE_RANDINT:
            return
        high = au.argument(node, 1, "b")
        if high is None:
            return
        from_zero = au.int_value(au.argument(node, 0, "a")) == 0
        counted = au.is_plus_int(high, 1) and (au.is_subtraction(high.left) or au.looks_like_frame_count(high.left))
        if from_zero and counted:
            inclusive = high.left
            self.report(
                high,
                f"random.randint includes its upper bound `{au.code(high)}`: the draw can be one past the last "
                "valid value and the clip runs off the end of the video",
                fix=f"use the inclusive bound: random.randint(..., {au.code(inclusive)})",
                replacement=inclusive,
            )
        elif from_zero and m_len(high):
            self.report(
                high,
                f"random.randint includes its upper bound `{au.code(high)}`: index {au.code(high)} is one past the "
                "last frame",
                fix=f"use the last index: random.randint(0, {au.code(au.minus_one(high))})",
                replacement=au.minus_one(high),
            )

    def _report_window(self, bound: au.WindowBound) -> None:
        span, high = bound.span_text, au.code(bound.high)
        axis = au.spatial_axis(bound.count, bound.length)
        where = au.bound_origin(self, bound)
        if axis is None:
            what = f"the start can be `{span} + 1`, one past the last valid one: the clip runs off the end of the video"
        else:
            what = f"the offset can be `{span} + 1`, and the crop runs one {axis} past the image (a smaller crop)"
        message = f"the upper bound `{high}`{where} is inclusive here: {what}"
        if not au.bound_is_guarded(self, bound):
            count, length = au.code(bound.count), au.code(bound.length)
            message += f"; nothing checks {count} against {length} either: the call raises when {count} < {length} - 1"
        certain = bound.inline and au.is_plus_int(bound.high, 1)
        self.report(
            bound.high,
            message,
            fix=f"use the inclusive bound `{span}`{bound.set_at}",
            replacement=bound.high.left if certain else None,  # type: ignore[attr-defined]
        )


def m_len(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len"
