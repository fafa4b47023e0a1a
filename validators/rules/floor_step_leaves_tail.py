from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_MULTIPLY = frozenset({"numpy.multiply", "torch.mul", "torch.multiply"})


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
        The same truncation hides in segment offsets `np.arange(k) * ((n - L + 1) // k)` (TSN's
        "average duration"): the last `(n - L + 1) % k` start positions are never drawn, almost
        half the video when `n - L + 1 = 2k - 1`; spread them with a float segment length,
        `(np.arange(k) * (n - L + 1) / k).astype(int)`. And in `np.arange(0, n, n / T,
        dtype=int)`: numpy and torch truncate the step to `int(n / T)` before stepping.

    Known problems:
        A segment offset is recognised only when the count of segments is written the same way
        in the division and in the `range`/`arange` (`self.num_clips` both times), and its
        numerator is read as a frame count from names (see TK111). A strided range whose step's
        numerator or divisor names something other than frames (`len(items) // world_size`,
        `len(pending) / num_tasks`; `names._NOT_FRAME_WORDS`) is taken for a share of work and not
        reported. A name bound to a floored length on one branch and to a float one on another is
        not flagged.
    """

    ID = "TK121"
    CATEGORY = "uneven-coverage"
    SEVERITY = "warning"
    MESSAGE = (
        "uniform sampling with the truncated step n // T keeps only the first T * (n // T) frames: up to "
        "T - 1 strides of the video's tail are never sampled (n=63, T=32 covers half the video)"
    )
    FIX = "use a fractional step: np.linspace(0, n - 1, T).round().astype(int)"
    OFFSETS_MESSAGE = (
        "segment offsets i * (n // k) for i < k stop at k * (n // k): the last n % k frames (start positions) are "
        "never sampled, almost half the video when n = 2k - 1"
    )
    INTEGER_ARANGE_MESSAGE = (
        "arange with the step n / T and an integer dtype: the step is truncated to int(n / T) before stepping, so the "
        "T indices cover only the first T * (n // T) frames (and are all 0 when n < T)"
    )
    TRIGGERS = ("//", "dtype", "int(")

    VALID = [
        # One strided clip placed at a random start over the frames the stride leaves over.
        Valid(
            """
            import random

            def strided_clip(num_frames, length):
                stride = num_frames // length
                needed = stride * (length - 1) + 1
                start = random.randint(0, num_frames - needed)
                return [start + stride * i for i in range(length)]
            """
        ),
        Valid(
            """
            import numpy as np
            idx = np.linspace(0, n - 1, T).round().astype(int)
            """
        ),
        Valid(
            """
            import numpy as np
            idx = (np.arange(T) * n / T).astype(int)
            """
        ),
        Valid(
            """
            for i in range(0, n, stride):
                pass
            """
        ),
        Valid(
            """
            idx = list(range(0, n, 2))[:T]
            """
        ),
        # float segment length: offsets reach the end
        Valid(
            """
            import numpy as np

            def tsn_offsets(num_frames, clip_len, num_clips):
                avg = (num_frames - clip_len + 1) / num_clips
                base = np.arange(num_clips) * avg
                return (base + np.random.uniform(0, avg, num_clips)).astype(int)
            """
        ),
        # an integer dtype with an integer step truncates nothing
        Valid(
            """
            import numpy as np
            idx = np.arange(0, num_frames, 2, dtype=np.int64)
            """
        ),
        # the name is a float length on the branch that uses it
        Valid(
            """
            import numpy as np

            def offsets(num_frames, clip_len, num_clips, keep_tail):
                if keep_tail:
                    avg = (num_frames - clip_len + 1) / float(num_clips)
                    return (np.arange(num_clips) * avg).astype(int)
                avg = (num_frames - clip_len + 1) // num_clips
                return np.sort(np.random.randint(0, max(avg, 1) * num_clips, num_clips))
            """
        ),
        # the first item of each rank's shard of a list: a share of work, not frames (`names._NOT_FRAME_WORDS`)
        Valid(
            """
            def shard_heads(items, world_size):
                return list(range(0, len(items), len(items) // world_size))[:world_size]
            """
        ),
        Valid(
            """
            import numpy as np

            def chunk_heads(pending, num_tasks):
                return np.arange(0, len(pending), len(pending) / num_tasks, dtype=int)
            """
        ),
        # the product's counter is not the divisor
        Valid(
            """
            def heads(features, num_heads, dim):
                per_head = dim // num_heads
                return [features[:, i * per_head] for i in range(dim)]
            """
        ),
    ]
    INVALID = [
        # Group starts from np.arange(0, k), offsets drawn inside each group, then sorted.
        Invalid(
            """
            import numpy as np

            def group_indices(num_frames, groups, per_group):
                per = max(1, num_frames) // groups
                idx = np.arange(0, groups) * per
                idx = np.repeat(idx, per_group) + np.tile(np.random.choice(per, per_group, replace=False), groups)
                return np.sort(idx)
            """,
            expected_line=6,
        ),
        Invalid(
            """
            def sample(n, T):
                step = n // T
                return list(range(0, step * T, step))
            """,
            expected_line=4,
        ),
        Invalid(
            """
            idx = list(range(0, (n // T) * T, n // T))
            """
        ),
        Invalid(
            """
            import numpy as np
            idx = np.arange(0, num_frames, max(1, num_frames // T))[:T]
            """
        ),
        Invalid(
            """
            def clip(frames, T):
                return frames[:: len(frames) // T][:T]
            """
        ),
        # The frame count bound to a name first (with TK111 opt-in, the default run missed it).
        Invalid(
            """
            def clip(frames, T):
                n = len(frames)
                return frames[:: n // T][:T]
            """,
            expected_line=4,
        ),
        # numpy casts the float step to int before stepping
        Invalid(
            """
            import numpy as np

            def sample(num_frames, T):
                return np.arange(0, num_frames, num_frames / T, dtype=int)
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import torch
            idx = torch.arange(0, len(frames), len(frames) / T, dtype=torch.long)
            """
        ),
        # the stop through a tuple assignment: `end_idx` is `vlen`
        Invalid(
            """
            import numpy as np

            def load(reader, num_frm):
                vlen = len(reader)
                start_idx, end_idx = 0, vlen
                return np.arange(start_idx, end_idx, vlen / num_frm, dtype=int)
            """,
            expected_line=7,
        ),
        # TSN offsets with a floored average duration: guarded against 0, but the tail is lost
        Invalid(
            """
            import numpy as np

            class SampleFrames:
                def train_offsets(self, num_frames, clip_len):
                    avg = (num_frames - clip_len + 1) // self.num_clips
                    if avg > 0:
                        base = np.arange(self.num_clips) * avg
                        return base + np.random.randint(avg, size=self.num_clips)
                    return np.zeros(self.num_clips, dtype=int)
            """,
            expected_line=8,
        ),
        Invalid(
            """
            import numpy as np

            def offsets(num_frames, new_length, num_segments):
                average_duration = (num_frames - new_length + 1) // num_segments
                return np.multiply(list(range(num_segments)), average_duration)
            """,
            expected_line=6,
        ),
        Invalid(
            """
            import random

            def tsn(num_frames, k):
                seg = max(1, num_frames // k)
                return [i * seg + random.randrange(seg) for i in range(k)]
            """,
            expected_line=6,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        self._check(node)
        if au.calls(self, node, au.ARANGE):
            self._check_integer_arange(node)
        elif au.calls(self, node, _MULTIPLY) and len(node.args) == 2:
            self._check_offsets(node, node.args[0].value, node.args[1].value)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._check(node)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.Multiply):
            self._check_offsets(node, node.left, node.right)

    def _check_integer_arange(self, node: cst.Call) -> None:
        """`np.arange(0, n, n / T, dtype=int)`: the float step is cast to int(n / T) first."""
        if not au.has_integer_dtype(node):
            return
        found = au.stride_division(self, node, floor=False)
        if found is None or not au.operand_names(found[0].left) & found[1] or au.divides_non_frames(found[0]):
            return
        self.report(node, self.INTEGER_ARANGE_MESSAGE)

    def _check_offsets(self, node: cst.CSTNode, left: cst.BaseExpression, right: cst.BaseExpression) -> None:
        """`np.arange(k) * (n // k)`, `[i * seg for i in range(k)]` with `seg = (n - L + 1) // k`."""
        for counter, step in ((left, right), (right, left)):
            count = au.loop_count(self, node, counter)
            if count is None:
                continue
            division = au.resolve_division(self, step, floor=True)
            if division is None or au.code(division.right) != au.code(count):
                continue
            if isinstance(step, cst.Name) and any(
                au.resolve_division(self, v, floor=True) is None for v in au.assigned_values(self, step)
            ):
                continue  # also bound to a float length on another branch (`keep_tail_frames`)
            if not au.looks_like_frame_total(self, division.left) or au.names_non_frames(division.right):
                continue
            if self._added_to_a_random_start(node, step):
                continue
            self.report(node, self.OFFSETS_MESSAGE)
            return

    def _added_to_a_random_start(self, node: cst.CSTNode, step: cst.BaseExpression) -> bool:
        """`start + i * step` where `start` is drawn at random over a span that does not name the step
        (`start = randint(0, n - needed)`): one strided clip placed anywhere in the video, not segment
        offsets; the draw covers the frames the stride leaves over."""
        up = au.parent(self, node)
        if not (isinstance(up, cst.BinaryOperation) and isinstance(up.operator, cst.Add)):
            return False
        other = up.right if up.left is node else up.left
        if not isinstance(other, cst.Name):
            return False
        values = au.assigned_values(self, other)
        step_names = au.operand_names(step)
        draws = [call for value in values for call in au.find_all(value, cst.Call) if au.is_random_draw(self, call)]
        return bool(draws) and all(
            not any(au.operand_names(arg.value) & step_names for arg in draw.args) for draw in draws
        )

    def _check(self, node: cst.Call | cst.Subscript) -> None:
        found = au.stride_division(self, node, floor=True)
        if found is None:
            return
        division, over = found
        if not au.operand_names(division.left) & over and not self._stop_is_multiple(node, division):
            return
        if not (self._stop_is_multiple(node, division) or au.is_truncated(self, node)):
            return
        if au.divides_non_frames(division):
            return  # `len(files) // num_workers`: a share of work or of layers, no tail of a video
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
