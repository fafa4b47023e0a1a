from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class InclusiveBoundMissesLastStartRule(Rule):
    """
    What it does:
        Flags Python's inclusive `random.randint(0, n - T - 1)` (and `integers(..., endpoint=True)`)
        used for a window start or a crop offset, also when the bound is held in a variable
        (`last = max(0, n - T - 1)`, then `random.randint(0, last)`) or the generator is bound to
        a name (`r = random.Random(seed)`).

    Why is this bad?
        `random.randint` already includes its upper bound; subtracting one more excludes the last
        valid start `n - T`, so the window that ends on the last frame is never drawn, and when
        `n == T` the range is empty (`ValueError: empty range`).

    Example:
        ```python
        start = random.randint(0, num_frames - clip_len - 1)
        ```

    Fix:
        Use `n - T` as the inclusive bound (autofix when the bound is written in the call with a
        zero low end; a bound held in a variable is reported without a fix).
        ```python
        start = random.randint(0, num_frames - clip_len)
        ```

    Known problems:
        The call's meaning is read from its shape (`randint(0, a - b - 1)`); a value that must
        stay strictly below `a - b` is reported too. `randint(m, n - m - 1)` is taken for a box
        centre and never reported. Rows/columns versus frames in the message is guessed from
        the operands' names.
    """

    ID = "TK132"
    CATEGORY = "start-range"
    SEVERITY = "error"
    MESSAGE = (
        "inclusive upper bound n - T - 1: the last valid start n - T is never drawn and the call raises "
        "when num_frames == T"
    )
    FIX = "use the inclusive bound n - T"
    TRIGGERS = ("randint", "endpoint")

    VALID = [
        # A box centre kept `m` away from both edges: not a start.
        Valid(
            """
            import random
            cy = random.randint(m, img_h - m - 1)
            """
        ),
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
            start = np.random.randint(0, n - T - 1 + 2)
            """
        ),
        Valid(
            """
            import numpy as np
            start = np.random.default_rng(0).integers(0, n - T, endpoint=True)
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import random

            def start(n, T):
                return random.randint(0, n - T - 1)
            """,
            expected_fix="""
            import random

            def start(n, T):
                return random.randint(0, n - T)
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import numpy as np
            rng = np.random.default_rng()
            s = rng.integers(0, len(v) - self.T - 1, endpoint=True)
            """,
            expected_fix="""
            import numpy as np
            rng = np.random.default_rng()
            s = rng.integers(0, len(v) - self.T, endpoint=True)
            """,
        ),
        Invalid(
            """
            import random

            def sample(num_frames, size, seed):
                r = random.Random(seed)
                rand_end = max(0, num_frames - size - 1)
                return r.randint(0, rand_end)
            """,
            expected_line=7,
        ),
        # A module-level random.Random read in a function.
        Invalid(
            """
            import random

            _rng = random.Random(0)

            def start(num_frames, clip_len):
                return _rng.randint(0, num_frames - clip_len - 1)
            """,
            expected_fix="""
            import random

            _rng = random.Random(0)

            def start(num_frames, clip_len):
                return _rng.randint(0, num_frames - clip_len)
            """,
        ),
        Invalid(
            """
            import random

            def crop(img, h, w, th, tw):
                if h > th and w > tw:
                    return random.randint(0, h - th - 1), random.randint(0, w - tw)
            """,
            expected_fix="""
            import random

            def crop(img, h, w, th, tw):
                if h > th and w > tw:
                    return random.randint(0, h - th), random.randint(0, w - tw)
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        bound = au.window_bound(self, node)
        if bound is None or au.bound_convention_error(bound) != "short-inclusive":
            return
        span, high = bound.span_text, au.code(bound.high)
        axis = au.spatial_axis(bound.count, bound.length)
        where = au.bound_origin(self, bound)
        if axis is None:
            what = f"the last valid start `{span}` is never drawn (no window ends on the last frame)"
        else:
            what = f"the last valid offset `{span}` is never drawn, so the crop never includes the last {axis}"
        message = f"inclusive upper bound `{high}`{where}: {what}"
        if not au.bound_is_guarded(self, bound):
            count, length = au.code(bound.count), au.code(bound.length)
            message += f"; nothing checks {count} against {length} and the call raises when {count} <= {length}"
        from_zero = bound.low is None or au.int_value(bound.low) == 0
        certain = bound.inline and from_zero and au.is_minus_int(bound.high, 1)
        self.report(
            bound.high,
            message,
            fix=f"use the inclusive bound `{span}`{bound.set_at}",
            replacement=bound.high.left if certain else None,  # type: ignore[attr-defined]
        )
