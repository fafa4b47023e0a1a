from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class ExclusiveBoundMissesLastStartRule(Rule):
    """
    What it does:
        Flags a random start drawn with an exclusive upper bound of `n - T`:
        `np.random.randint(0, n - T)`, `rng.integers(0, n - T)`, `torch.randint(0, n - T, (1,))`,
        `random.randrange(n - T)`, `np.random.choice(range(n - T), 1)`, or `n - T * ds` for T
        frames every ds, also when the bound is held in a variable
        (`last = max(0, n - T - 1)`, then `np.random.randint(0, last)`) or the generator is bound
        to a name (`r = random.Random(seed)`, `rng=np.random`, `self.rng = ...` set in
        `__init__`). Bounds given by keyword are read per signature: numpy's
        `randint(low=0, high=n - T)` and `randint(low=n - T)` (with no `high`, `low` is the
        exclusive bound), `torch.randint(low=0, high=n - T, size=(1,))`,
        `random.randrange(start=0, stop=n - T)`. An offset into an interval,
        `lo + np.random.randint(0, hi - lo - T)`, is a start over the `hi - lo` frames of
        `[lo, hi)`. Also flags an end index drawn as `end = np.random.randint(L, n)` and used
        as `start = end - L`. The start is a frame window start or a spatial crop offset
        (`np.random.randint(0, height - size)`). Also flags one frame drawn per segment as
        `random.choice(range(x[0], x[1]))` where the pairs were built as `(start, end - 1)`: an
        inclusive last index used as an exclusive bound.

    Why is this bad?
        These APIs exclude their upper bound, so the last valid start `n - T` (the window that
        ends on the last frame, or the crop that touches the last row or column) is never drawn.
        When `n == T` the range is empty and the call raises `ValueError` (numpy, `randrange`) or
        `RuntimeError` (torch), unless the code checks `n > T` first. An end index drawn from
        `[L, n)` never reaches the end `n` of the video for the same reason.

    Example:
        ```python
        start = rng.integers(0, num_frames - clip_len)
        y = np.random.randint(0, height - size)   # the crop never includes the last row
        ```

    Fix:
        Add one to the exclusive bound. The autofix applies only to a bound written in the call
        (positionally or by keyword) with a zero (or absent) low end; a bound held in a variable, or an end-index draw, is
        reported without a fix.
        ```python
        start = rng.integers(0, num_frames - clip_len + 1)
        ```

    Known problems:
        The call's meaning is read from its shape (`randint(0, a - b)`); a draw of that shape
        that is not a start (a value that must stay below `a - b`) is reported too. A draw
        `randint(m, n - m)` is taken for a box centre kept `m` away from both edges and never
        reported. The interval form is read only when the draw is added to the very `lo` the bound
        subtracts (`lo + randint(0, hi - lo - T)`, written in the call). Whether the operands are spatial (rows/columns) or frames is guessed from
        their names (`h`, `height`, `img_w`, `size`). The segment form is recognised only when
        the pairs are filled in the same function (`pairs.append((a, b - 1))` or a list
        comprehension) and read as `x[0], x[1]` or unpacked in the loop around the draw.
    """

    ID = "TK131"
    CATEGORY = "start-range"
    SEVERITY = "error"
    MESSAGE = (
        "exclusive upper bound n - T: the last valid start n - T is never drawn (the last frame, or the last "
        "row/column of a crop, is never sampled), and the call raises when n == T unless that is checked"
    )
    FIX = "use the exclusive bound n - T + 1"
    TRIGGERS = ("randint", "integers", "randrange", "choice")

    VALID = [
        Valid(
            """
            import numpy as np
            rng = np.random.default_rng(0)
            start = rng.integers(0, n - T + 1)
            """
        ),
        Valid(
            """
            import numpy as np
            start = np.random.default_rng().integers(0, n - T, endpoint=True)
            """
        ),
        Valid(
            """
            import torch
            start = int(torch.randint(0, num_frames - clip_len + 1, (1,)))
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
            import numpy as np
            x = np.random.randint(0, width - 112 + 1)
            """
        ),
        # A CutMix/mixup box centre kept `margin` away from both edges is not a start.
        Valid(
            """
            import numpy as np

            def box_centre(shape, margin):
                h, w = shape
                y = np.random.randint(0 + margin, h - margin)
                x = np.random.randint(margin, w - margin, size=4)
                return y, x
            """
        ),
        # An end index whose window is `[end - L + 1, end]` (inclusive end): [L - 1, n) is right.
        Valid(
            """
            import numpy as np

            def window(n, L):
                end = np.random.randint(L - 1, n)
                return np.arange(end - L + 1, end + 1)
            """
        ),
        Valid(
            """
            import numpy as np

            def window(seg_len, L):
                last = max(0, seg_len - L)
                return np.random.randint(0, last + 1)
            """
        ),
        # A point inside an interval, read through a name: not a window over a frame count.
        Valid(
            """
            import numpy as np

            def point_in(start, end):
                dur = end - start
                return start + np.random.randint(0, dur)
            """
        ),
        # Segments stored with an exclusive end, drawn with an exclusive range: every frame can be drawn.
        Valid(
            """
            import random
            import numpy as np

            def per_segment(T, n):
                edges = np.linspace(0, n, T + 1).astype(int)
                parts = []
                for k in range(T):
                    parts.append((edges[k], edges[k + 1]))
                return [random.choice(range(p[0], p[1])) for p in parts]
            """
        ),
        # An inclusive segment end drawn up to and including itself; a choice of an interior point.
        Valid(
            """
            import random

            def per_segment(parts, n):
                spans = [(a, b - 1) for a, b in parts]
                inner = random.choice(range(1, n - 1))
                return [random.choice(range(lo, hi + 1)) for lo, hi in spans], inner
            """
        ),
        # Keyword bounds that already reach the last start: `high=n - T + 1`, and `low=` alone, which numpy
        # reads as the exclusive upper bound of [0, low).
        Valid(
            """
            import numpy as np
            import torch

            def starts(num_frames, clip_len):
                a = np.random.randint(low=0, high=num_frames - clip_len + 1)
                b = np.random.randint(low=num_frames - clip_len + 1)
                c = torch.randint(low=0, high=num_frames - clip_len + 1, size=(1,))
                return a, b, c
            """
        ),
        # An offset into the frames [first, last) of one video in a packed array, reaching the last start.
        Valid(
            """
            import numpy as np

            def window(offsets, i, T):
                first, last = offsets[i], offsets[i + 1]
                return first + np.random.randint(low=0, high=last - first - T + 1)
            """
        ),
        # A strided window whose bound counts (T - 1) * ds + 1 frames: the last start is drawn.
        Valid(
            """
            import numpy as np

            def strided_start(total, T, ds):
                return np.random.choice(range(total - (T - 1) * ds), 1)
            """
        ),
    ]
    INVALID = [
        # A choice from a range is an exclusive draw too.
        Invalid(
            """
            import numpy as np

            def start(total, T):
                if total <= T:
                    return 0
                return int(np.random.choice(range(total - T), 1))
            """,
            expected_fix="""
            import numpy as np

            def start(total, T):
                if total <= T:
                    return 0
                return int(np.random.choice(range(total - T + 1), 1))
            """,
        ),
        # T frames every ds from a start drawn below n - T * ds: the last ds starts are never drawn (no
        # fix offered: the bound that fits is n - (T - 1) * ds).
        Invalid(
            """
            import numpy as np

            class Clips:
                def frame_ids(self, total):
                    if total - self.T * self.ds <= 0:
                        return np.arange(self.T) * self.ds % max(total, 1)
                    first = np.random.choice(range(total - self.T * self.ds), 1)
                    return np.arange(self.T) * self.ds + first
            """,
            expected_line=8,
        ),
        # One frame per segment, the segment's last index stored inclusive and used as an exclusive bound:
        # the last frame of each segment is never drawn, and a one-frame segment raises.
        Invalid(
            """
            import random
            import numpy as np

            def segment_frames(T, n, mode="random"):
                edges = np.linspace(0, n, min(T, n) + 1).astype(int)
                segments = []
                for k, left in enumerate(edges[:-1]):
                    segments.append((left, edges[k + 1] - 1))
                if mode == "random":
                    return [random.choice(range(seg[0], seg[1])) for seg in segments]
                return [(seg[0] + seg[1]) // 2 for seg in segments]
            """,
            expected_line=11,
        ),
        Invalid(
            """
            import random

            def per_segment(parts):
                spans = [(a, b - 1) for a, b in parts]
                picks = []
                for first, last in spans:
                    try:
                        picks.append(random.choice(range(first, last)))
                    except IndexError:
                        picks.append(first)
                return picks
            """,
            expected_line=9,
        ),
        Invalid(
            """
            import numpy as np

            rng = np.random.default_rng(seed)

            def start(n, T):
                return rng.integers(0, n - T)
            """,
            expected_fix="""
            import numpy as np

            rng = np.random.default_rng(seed)

            def start(n, T):
                return rng.integers(0, n - T + 1)
            """,
            expected_line=7,
        ),
        Invalid(
            """
            import torch
            start = torch.randint(0, len(frames) - self.clip_len, (1,)).item()
            """,
            expected_fix="""
            import torch
            start = torch.randint(0, len(frames) - self.clip_len + 1, (1,)).item()
            """,
        ),
        Invalid(
            """
            from numpy.random import randint
            start = randint(num_frames - clip_len)
            """,
            expected_fix="""
            from numpy.random import randint
            start = randint(num_frames - clip_len + 1)
            """,
        ),
        Invalid(
            """
            import random
            start = random.randrange(n - t)  # exclusive
            """,
            expected_fix="""
            import random
            start = random.randrange(n - t + 1)  # exclusive
            """,
        ),
        Invalid(
            """
            import numpy as np
            start = self.rng.integers(low=0, high=n - T)
            """,
            expected_fix="""
            import numpy as np
            start = self.rng.integers(low=0, high=n - T + 1)
            """,
        ),
        # Keyword forms, read per signature.
        Invalid(
            """
            import numpy as np
            start = np.random.randint(low=0, high=num_frames - clip_len)
            """,
            expected_fix="""
            import numpy as np
            start = np.random.randint(low=0, high=num_frames - clip_len + 1)
            """,
        ),
        # numpy's `randint(low, high=None)`: with no `high`, `low` is the exclusive upper bound.
        Invalid(
            """
            import numpy as np
            start = np.random.randint(low=num_frames - clip_len, size=2)
            """,
            expected_fix="""
            import numpy as np
            start = np.random.randint(low=num_frames - clip_len + 1, size=2)
            """,
        ),
        Invalid(
            """
            import torch
            start = int(torch.randint(low=0, high=n - T, size=(1,)))
            """,
            expected_fix="""
            import torch
            start = int(torch.randint(low=0, high=n - T + 1, size=(1,)))
            """,
        ),
        Invalid(
            """
            import random
            start = random.randrange(start=0, stop=n - T)
            """,
            expected_fix="""
            import random
            start = random.randrange(start=0, stop=n - T + 1)
            """,
        ),
        # An offset into the frames [first, last) of one video in a packed array: the window ending on the
        # video's last frame is never drawn, and a video of exactly T frames raises.
        Invalid(
            """
            import numpy as np

            class Packed:
                def clip(self, i):
                    first, last = self.offsets[i], self.offsets[i + 1]
                    first = first + np.random.randint(low=0, high=last - first - self.T)
                    return self.frames[first:first + self.T]
            """,
            expected_fix="""
            import numpy as np

            class Packed:
                def clip(self, i):
                    first, last = self.offsets[i], self.offsets[i + 1]
                    first = first + np.random.randint(low=0, high=last - first - self.T + 1)
                    return self.frames[first:first + self.T]
            """,
            expected_line=7,
        ),
        # A guarded random crop: it cannot raise, but the last row is never part of the crop.
        Invalid(
            """
            import numpy as np

            def random_crop(images, size):
                height = images.shape[2]
                y = 0
                if height > size:
                    y = int(np.random.randint(0, height - size))
                return images[:, :, y:y + size]
            """,
            expected_fix="""
            import numpy as np

            def random_crop(images, size):
                height = images.shape[2]
                y = 0
                if height > size:
                    y = int(np.random.randint(0, height - size + 1))
                return images[:, :, y:y + size]
            """,
            expected_line=8,
        ),
        # A random erase/box position of the same shape: never touches the last column.
        Invalid(
            """
            import numpy as np

            def patch(img_w, w):
                return np.random.randint(0, img_w - w) if img_w > w else 0
            """,
            expected_fix="""
            import numpy as np

            def patch(img_w, w):
                return np.random.randint(0, img_w - w + 1) if img_w > w else 0
            """,
        ),
        # torch.randint(high, size) with the size held in a name: the bound is the first argument.
        Invalid(
            """
            import torch

            def starts(num_frames, T, shape):
                return torch.randint(num_frames - T, shape)
            """,
            expected_fix="""
            import torch

            def starts(num_frames, T, shape):
                return torch.randint(num_frames - T + 1, shape)
            """,
        ),
        # Generators bound to names.
        Invalid(
            """
            import random

            def sample(n, T, seed):
                r = random.Random(seed)
                return r.randrange(0, n - T)
            """,
            expected_fix="""
            import random

            def sample(n, T, seed):
                r = random.Random(seed)
                return r.randrange(0, n - T + 1)
            """,
            expected_line=6,
        ),
        Invalid(
            """
            import numpy as np

            def sample(num_frames, T, rng=np.random):
                return rng.randint(0, num_frames - T)
            """,
            expected_fix="""
            import numpy as np

            def sample(num_frames, T, rng=np.random):
                return rng.randint(0, num_frames - T + 1)
            """,
        ),
        Invalid(
            """
            import numpy as np

            def sample(num_frames, T, rng=None):
                rng = rng or np.random
                return rng.randint(0, num_frames - T)
            """,
            expected_fix="""
            import numpy as np

            def sample(num_frames, T, rng=None):
                rng = rng or np.random
                return rng.randint(0, num_frames - T + 1)
            """,
        ),
        Invalid(
            """
            import numpy as np

            class Sampler:
                def __init__(self, seed):
                    self.gen = np.random.RandomState(seed)

                def __call__(self, num_frames):
                    return self.gen.randint(0, num_frames - self.clip_len)
            """,
            expected_fix="""
            import numpy as np

            class Sampler:
                def __init__(self, seed):
                    self.gen = np.random.RandomState(seed)

                def __call__(self, num_frames):
                    return self.gen.randint(0, num_frames - self.clip_len + 1)
            """,
            expected_line=9,
        ),
        # A clamped bound: reported, but `max(1, n - T) + 1` is no fix (start 1 when n == T).
        Invalid(
            """
            import numpy as np

            def start(num_frames, T):
                return np.random.randint(0, max(1, num_frames - T))
            """,
        ),
        # Bounds held in a variable: reported without a fix (the variable may serve elsewhere).
        Invalid(
            """
            import numpy as np

            def dense_start(num_frames, sample_range):
                positions = max(1, 1 + num_frames - sample_range)
                return 0 if positions == 1 else np.random.randint(0, positions - 1)
            """,
            expected_line=6,
        ),
        # The same, with a literal part of the window's length (extra frames, then a 64-frame span),
        # drawn inside a conditional expression.
        Invalid(
            """
            import numpy as np

            def dense_offsets(frames, extra, T):
                positions = max(1, 1 + len(frames) - extra - 64)
                first = 0 if positions == 1 else np.random.randint(0, positions - 1)
                return [(first + i * (64 // T)) % len(frames) for i in range(T)]
            """,
            expected_line=6,
        ),
        Invalid(
            """
            import numpy as np

            def start(n, size):
                rand_end = max(0, n - size - 1)
                return np.random.randint(0, rand_end)
            """,
            expected_line=6,
        ),
        # An exclusive end index: the window [end - L, end) never ends on the last frame.
        Invalid(
            """
            import numpy as np

            def segment_window(seg_len, converted_len, clip_len):
                if seg_len <= converted_len:
                    return np.zeros(clip_len, dtype=int)
                end_idx = np.random.randint(converted_len, seg_len)
                str_idx = end_idx - converted_len
                return np.linspace(str_idx, end_idx - 1, clip_len).astype(int)
            """,
            expected_line=7,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        bound = au.window_bound(self, node)
        if bound is not None:
            if au.bound_convention_error(bound) == "short":
                self._report_start(bound)
            return
        if not self._check_segment_last(node):
            self._check_end_draw(node)

    def _check_segment_last(self, node: cst.Call) -> bool:
        """`choice(range(x[0], x[1]))` over pairs built as `(start, end - 1)`: an inclusive last index used as
        an exclusive bound, so the last frame of every segment is never drawn."""
        bounds = au.random_integer_bounds(self, node)
        if bounds is None:
            return False
        low, high, inclusive = bounds
        if inclusive or low is None:
            return False
        pair = self._pair_element(node, high)
        if pair is None or self._pair_element(node, low) is None:
            return False
        source, index = pair
        if self._pair_element(node, low)[0] != source:  # type: ignore[index]
            return False
        ends = [
            element
            for built in self._pairs_built(node, source)
            if len(built) == 2
            for element in built[index : index + 1]
        ]
        if not ends or not all(au.is_minus_int(e, 1) and au.int_value(e.left) is None for e in ends):  # type: ignore[union-attr]
            return False
        last = au.code(ends[0])
        message = (
            f"`{au.code(high)}` is an inclusive segment end (`{last}`) used as an exclusive upper bound: the last "
            "frame of each segment is never drawn"
        )
        if not any(isinstance(a, cst.Try) for a in au.ancestors(self, node)):
            message += ", and a one-frame segment gives an empty range, which raises"
        self.report(
            high,
            message,
            fix=f"draw up to and including the end: `range({au.code(low)}, {au.code(high)} + 1)`",
        )
        return True

    def _pair_element(self, node: cst.Call, value: cst.BaseExpression) -> tuple[str, int] | None:
        """(`ranges`, 1) when `value` is `x[1]` with `x` a loop variable over `ranges` (or `b` in
        `for a, b in ranges`), in a loop or comprehension around `node`."""
        if isinstance(value, cst.Subscript) and isinstance(value.value, cst.Name) and len(value.slice) == 1:
            piece = value.slice[0].slice
            index = au.int_value(piece.value) if isinstance(piece, cst.Index) else None
            if index not in (0, 1):
                return None
            name, position = value.value.value, None
        elif isinstance(value, cst.Name):
            name, position, index = value.value, True, None
        else:
            return None
        for anc in au.ancestors(self, node):
            loops: list[cst.CSTNode] = []
            if isinstance(anc, cst.For):
                loops = [anc]
            elif isinstance(anc, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
                loops = list(au.find_all(anc.for_in, cst.CompFor))
            for loop in loops:
                target, source = loop.target, loop.iter  # type: ignore[attr-defined]
                if not isinstance(source, cst.Name):
                    continue
                if position is None and au.is_name(target, name):
                    return source.value, index  # type: ignore[return-value]
                if position is not None and isinstance(target, cst.Tuple) and len(target.elements) == 2:
                    for i, element in enumerate(target.elements):
                        if au.is_name(element.value, name):
                            return source.value, i
            if isinstance(anc, cst.FunctionDef):
                break
        return None

    def _pairs_built(self, node: cst.Call, name: str) -> list[list[cst.BaseExpression]]:
        """The pairs a list `name` is filled with in the function: `name.append((a, b))`, `name = [(a, b) for ...]`."""
        scope = au.enclosing_scope_node(self, node)
        pairs: list[list[cst.BaseExpression]] = []
        for call in au.find_all(scope, cst.Call, lambda c: au.is_method_call(c, name, "append")):
            if len(call.args) == 1 and isinstance(call.args[0].value, cst.Tuple):
                pairs.append([e.value for e in call.args[0].value.elements])
        for assign in au.find_all(scope, cst.Assign):
            if any(au.is_name(t.target, name) for t in assign.targets) and isinstance(assign.value, cst.ListComp):
                if isinstance(assign.value.elt, cst.Tuple):
                    pairs.append([e.value for e in assign.value.elt.elements])
        return pairs

    def _report_start(self, bound: au.WindowBound) -> None:
        span, high = bound.span_text, au.code(bound.high)
        axis = au.spatial_axis(bound.count, bound.length)
        if bound.offset == 0:
            missed = f"the last valid {'start' if axis is None else 'offset'} `{span}` is never drawn"
        else:
            starts = "starts" if axis is None else "offsets"
            missed = f"the last two valid {starts} `{span} - 1` and `{span}` are never drawn"
        if axis is None and bound.strided:
            what = (
                f"the start `{span}` is never drawn, nor the later starts where a strided window (T frames every ds, "
                "(T - 1) * ds + 1 frames in all) still fits, so the last frames are never sampled"
            )
        elif axis is None:
            what = f"{missed} (the window ending on the last frame is never sampled)"
        else:
            what = f"{missed}, so the crop or box never includes the last {axis}"
        where = au.bound_origin(self, bound)
        message = f"exclusive upper bound `{high}`{where}: {what}"
        if not au.bound_is_guarded(self, bound):
            limit = au.code(bound.length) + ("" if bound.offset == 0 else " + 1")
            message += (
                f"; nothing checks {au.code(bound.count)} against {au.code(bound.length)} and the call raises when "
                f"{au.code(bound.count)} <= {limit}"
            )
        # Fix only `n - T` and `n - T - 1` written in the call from 0: `max(1, n - T) + 1` would let
        # an exactly-T-frame video start at 1, and a bound held in a variable may serve elsewhere.
        certain = bound.inline and (bound.low is None or au.int_value(bound.low) == 0)
        bound_node = bound.high

        def is_span(node: cst.BaseExpression) -> bool:  # `n - T`, or `hi - lo - T` for an offset into [lo, hi)
            return au.is_count_minus_length(node) or (
                au.is_subtraction(bound.count) and au.is_subtraction(node) and node.left is bound.count  # type: ignore[attr-defined]
            )

        replacement = None
        if certain and is_span(bound_node):
            replacement = au.plus_one(bound_node)
        elif certain and au.is_minus_int(bound_node, 1) and is_span(bound_node.left):  # type: ignore[attr-defined]
            replacement = au.plus_one(bound_node.left)  # type: ignore[attr-defined]
        fix = f"use the exclusive bound `{span} + 1`{bound.set_at}"
        if bound.strided:
            fix = f"let the bound reach the last start whose window fits: `{au.code(bound.count)} - (T - 1) * ds` for T frames every ds{bound.set_at}"
        self.report(bound.high, message, fix=fix, replacement=replacement)

    def _check_end_draw(self, node: cst.Call) -> None:
        """`end = randint(L, n)` then `end - L`: an exclusive end index that never reaches `n`."""
        bounds = au.random_integer_bounds(self, node)
        if bounds is None:
            return
        low, high, inclusive = bounds
        if inclusive or low is None or not au.is_simple_operand(low) or not au.is_simple_operand(high):
            return
        if au.int_value(low) is not None or not au.looks_like_frame_count(high):
            return
        assign = au.parent(self, node)
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
            return
        if not isinstance(assign.targets[0].target, cst.Name):
            return
        end = assign.targets[0].target.value
        scope = au.enclosing_scope_node(self, node)
        length = au.code(low)

        def is_start(sub: cst.BinaryOperation) -> bool:
            if not (au.is_name(sub.left, end) and au.code(sub.right) == length):
                return False
            up = au.parent(self, sub)
            return not (isinstance(up, cst.BinaryOperation) and up.left is sub and au.is_plus_int(up, 1))

        if not au.find_all(scope, cst.BinaryOperation, lambda b: au.is_subtraction(b) and is_start(b)):
            return
        n = au.code(high)
        message = (
            f"end index drawn from [{length}, {n}) with an exclusive bound and used as `{end} - {length}`: the end "
            f"`{n}` is never drawn, so the window ending on the last frame is never sampled"
        )
        if not au.has_guard(scope, au.operand_names(high), au.operand_names(low)):
            message += f"; the call raises when {n} <= {length}"
        self.report(high, message, fix=f"draw the end with the exclusive bound `{n} + 1`")
