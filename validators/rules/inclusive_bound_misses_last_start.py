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
        centre and never reported. Nor is a start `s` whose window end `s + T` is read as
        inclusive: the stop of a `linspace`, a parameter of a function of the same file that is
        one (SlowFast's `temporal_sampling(frames, s, s + T, k)`), or a frame index itself
        (`idx.append(s + T)`, `frames[s + T]`, `[s, s + T]`); that window has T + 1 frames and
        `n - T - 1` is its last start. Rows/columns versus frames in the message is guessed from
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
        # A pair of frames `gap` apart: the second index s + gap is a frame, so n - gap - 1 is the last start.
        Valid(
            """
            import random

            def frame_pair(n, gap):
                s = random.randint(0, n - gap - 1)
                idx = [s]
                idx.append(s + gap)
                return idx
            """
        ),
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
        # The window's end `s + T` is inclusive where it is used: T + 1 frames, last start n - T - 1.
        Valid(
            """
            import random
            import torch

            def spread(frames, first, last, k):
                index = torch.linspace(first, last, k)
                return frames[index.long()]

            def local_views(frames, k):
                n = frames.shape[0]
                width = n // 8
                s = random.randint(0, n - width - 1)
                return spread(frames, s, s + width, k)
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
        if _end_read_as_inclusive(self, node, bound):
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


def _end_read_as_inclusive(rule: Rule, node: cst.Call, bound) -> bool:
    """The drawn start `s` (the call's target) reaches `s + length` only as an inclusive end: the
    stop of a `linspace`, an argument bound to a parameter of a function of this file that is
    such a stop, or a frame index itself (`frames[s + T]`, `idx.append(s + T)`, `[s, s + T]`)."""
    target = au.bound_name(rule, node)
    if not isinstance(target, cst.Name):
        return False
    length = au.code(bound.length)
    scope = au.enclosing_scope_node(rule, node)
    ends = au.find_all(
        scope,
        cst.BinaryOperation,
        lambda b: isinstance(b.operator, cst.Add) and au.is_name(b.left, target.value) and au.code(b.right) == length,
    )
    if not ends:
        return False
    module = next((a for a in au.ancestors(rule, scope) if isinstance(a, cst.Module)), scope)
    return all(_inclusive_stop(rule, end, module) for end in ends)


def _inclusive_stop(rule: Rule, end: cst.BaseExpression, module: cst.CSTNode) -> bool:
    if _used_as_an_index(rule, end):
        return True
    arg = au.parent(rule, end)
    call = au.parent(rule, arg) if isinstance(arg, cst.Arg) else None
    if not isinstance(call, cst.Call) or arg.keyword is not None or arg not in call.args:
        return False
    position = list(call.args).index(arg)
    if au.calls(rule, call, au.LINSPACE):
        return position == 1
    if not isinstance(call.func, cst.Name):
        return False
    function = next(iter(au.find_all(module, cst.FunctionDef, lambda f: f.name.value == call.func.value)), None)
    params = [p.name.value for p in function.params.params] if function is not None else []
    if position >= len(params):
        return False
    return any(
        au.is_name(au.positional_args(stop)[1], params[position])
        for stop in au.find_all(function, cst.Call, lambda c: au.calls(rule, c, au.LINSPACE))
        if len(au.positional_args(stop)) > 1
    )


def _used_as_an_index(rule: Rule, end: cst.BaseExpression) -> bool:
    """`end` is a frame index itself: subscripting (not a slice bound), appended, or an element of a list."""
    up = au.parent(rule, end)
    if isinstance(up, cst.Index):
        return True
    if isinstance(up, cst.Element):
        return isinstance(au.parent(rule, up), (cst.List, cst.Tuple))
    if isinstance(up, cst.Arg):
        call = au.parent(rule, up)
        return isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "append"
    return False
