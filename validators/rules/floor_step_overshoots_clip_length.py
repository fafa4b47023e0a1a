from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class FloorStepOvershootsClipLengthRule(Rule):
    """
    What it does:
        Flags striding over the whole video by `n // T` with nothing that keeps exactly T indices:
        `range(0, n, n // T)`, `np.arange(0, n, n // T)`, `frames[::len(frames) // T]`.

    Why is this bad?
        `ceil(n / (n // T))` indices come out, which is T only when `T` divides `n`. With `n = 100,
        T = 32` the step is 3 and 34 frames come back; with `n = 63, T = 32` it is 63. Batches then
        fail to stack, or the model silently sees longer clips for some videos.

    Example:
        ```python
        indices = list(range(0, num_frames, num_frames // T))
        ```

    Fix:
        Compute exactly T indices.
        ```python
        indices = np.linspace(0, num_frames - 1, T).round().astype(int)
        ```

    Known problems:
        Whether the strided sequence is frames is read from names: a step whose numerator or divisor
        names something else (`len(files) // num_tasks`, `len(seqlens) // k_partitions`,
        `len(hidden_states) // 4`: work shared out to tasks, workers, chunks, partitions, GPUs, ranks,
        or layers, tokens, batches; see `names._NOT_FRAME_WORDS`) is not reported, so frames split
        into `num_chunks` are missed; nor is a range whose positions start the chunks `x[i:i + step]`
        of a list not named for frames (`files`, `items`), every item kept on purpose. The step's
        numerator must be what the stop names, or what it is bound to one plain or tuple
        assignment deep (`lo, hi = 0, n`). An array's sides divided axis by axis
        by another shape (`img.shape[1] / grid[0]` beside `img.shape[2] / grid[1]`) are taken as
        a spatial grid, not a clip: a (C, T, H, W) clip's time and height axes divided that way
        are missed. A `range(lo, hi + 1, (hi - lo) // k)` (an inclusive end over a step made from the
        same span) is taken as evenly spaced values with both ends kept on purpose, and a
        `range(0, n + 1 - W, W // 2)` (a stop that leaves room for a window of W, the hop a part of
        W) as the starts of overlapping windows: neither is reported.
    """

    ID = "TK152"
    CATEGORY = "clip-length"
    SEVERITY = "error"
    MESSAGE = (
        "striding the whole video by n // T returns ceil(n / (n // T)) frames, more than T whenever T does "
        "not divide n (n=100, T=32 gives 34)"
    )
    FIX = "compute exactly T indices: np.linspace(0, n - 1, T).round().astype(int)"
    TRIGGERS = ("//", "int(")
    OPT_IN = True

    VALID = [
        # Diffusion sampling steps, not frames.
        Valid(
            """
            import numpy as np

            def ddim_steps(num_ddpm_timesteps, num_ddim_timesteps):
                c = num_ddpm_timesteps // num_ddim_timesteps
                return np.asarray(list(range(0, num_ddpm_timesteps, c))) + 1
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
            def f(n, T):
                step = n // T
                return list(range(0, step * T, step))
            """
        ),
        Valid(
            """
            idx = list(range(0, n, n // T))[:T]
            """
        ),
        Valid(
            """
            for i in range(0, n, fps // target_fps):
                keep.append(i)
            """
        ),
        # grid lines over an image, every (height / rows, width / columns) pixels: not a clip of frames
        Valid(
            """
            def overlay_cells(canvas, cells):
                step_y = int(canvas.shape[0] / cells[0])
                step_x = int(canvas.shape[1] / cells[1])
                canvas[list(range(0, canvas.shape[0], step_y)), :] = 255
                canvas[:, list(range(0, canvas.shape[1], step_x))] = 255
                return canvas
            """
        ),
        # Anchor scales from lo to hi percent in k steps, the upper end included on purpose: values, not frames.
        Valid(
            """
            def anchor_scales(lo_pct, hi_pct, levels):
                lo_pct, hi_pct = int(lo_pct * 100), int(hi_pct * 100)
                step = int((hi_pct - lo_pct) / (levels - 1))
                return [p / 100 for p in range(lo_pct, hi_pct + 1, step)]
            """
        ),
        # Half-overlapping windows of W clips over a list: a hop of W // 2, as many windows as fit.
        Valid(
            """
            def windows(clips, W):
                return [clips[i:i + W] for i in range(0, len(clips) + 1 - W, W // 2)]
            """
        ),
        # Pending files shared out to a pool of tasks: the remainder chunk is meant, every file is processed.
        Valid(
            """
            def share_out(pending, num_tasks):
                per_task = len(pending) // num_tasks
                starts = range(0, len(pending), per_task)
                return [(pending, s, per_task) for s in starts]
            """
        ),
        # A list cut into chunks `x[i:i + size]`: each record lands in one chunk, however many chunks that makes.
        Valid(
            """
            def batches(records, k):
                size = len(records) // k
                return [records[i:i + size] for i in range(0, len(records), size)]
            """
        ),
        # Every k-th hidden layer of a vision encoder: layers, not frames.
        Valid(
            """
            import torch

            def stacked_layers(outputs, first):
                k = len(outputs.hidden_states) // 4
                picked = [outputs.hidden_states[i] for i in range(k + first, len(outputs.hidden_states), k)]
                return torch.cat(picked, dim=-1)
            """
        ),
        # Sums of a sequence-length list per data-parallel partition, for a balance metric.
        Valid(
            """
            def partition_sums(seqlens, partitions):
                k_partitions = len(partitions)
                per_part = len(seqlens) // k_partitions
                totals = []
                for o in range(0, len(seqlens), per_part):
                    totals.append(sum(seqlens[o:o + per_part]))
                return totals
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            def sample(num_frames, T):
                return list(range(0, num_frames, num_frames // T))
            """,
            expected_line=3,
        ),
        Invalid(
            """
            import numpy as np
            step = len(frames) // T
            idx = np.arange(0, len(frames), step)
            """
        ),
        Invalid(
            """
            def clip(frames, T):
                return frames[:: len(frames) // T]
            """
        ),
        # int(n / T) truncates like n // T
        Invalid(
            """
            def frame_filter(frame_indices, frames_per_clip):
                num_frames = len(frame_indices)
                step = int(num_frames / frames_per_clip)
                return [frame_indices[i] for i in range(0, num_frames, step)]
            """,
            expected_line=5,
        ),
        # Chunks of frames: T + 1 segments of the clip when T does not divide the frame count.
        Invalid(
            """
            def segments(frames, T):
                seg = len(frames) // T
                return [frames[i:i + seg] for i in range(0, len(frames), seg)]
            """,
            expected_line=4,
        ),
        # The stop through a tuple assignment: `hi` is `n`.
        Invalid(
            """
            def sample(frames, T):
                n = len(frames)
                lo, hi = 0, n
                return [frames[i] for i in range(lo, hi, n // T)]
            """,
            expected_line=5,
        ),
        # A divisor with no work-sharing name strides over the frames of a clip.
        Invalid(
            """
            def sample(frames, num_segments):
                step = len(frames) // num_segments
                return [frames[i] for i in range(0, len(frames), step)]
            """,
            expected_line=4,
        ),
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
        if not au.operand_names(division.left) & over:
            return
        if au.divides_non_frames(division):
            return  # `len(files) // num_tasks`, `len(hidden_states) // 4`: work shared out, layers, not a clip
        if isinstance(node, cst.Call) and _chunks_non_frames(self, node):
            return  # `[files[i:i + step] for i in range(0, len(files), step)]`: every item in one chunk
        if au.per_axis_division(self, division):
            return  # grid lines every `img.shape[1] / grid[0]` pixels: a spatial stride, no clip length
        if isinstance(node, cst.Call):
            stop = au.positional_args(node)[1]
            if isinstance(stop, cst.BinaryOperation) and isinstance(stop.operator, cst.Multiply):
                return
        if au.is_truncated(self, node):
            return
        if isinstance(node, cst.Call) and (_fenceposts(self, node, division) or _window_hop(node, division)):
            return
        self.report(node)


def _chunks_non_frames(rule: Rule, call: cst.Call) -> bool:
    """`[files[i:i + step] for i in range(0, len(files), step)]` over a list that is not named for frames: the
    positions start chunks of a list, the remainder chunk on purpose. Chunks of `frames` or a `video` are
    still reported: T + 1 segments of a clip are the overshoot this rule is about."""
    chunked = au.chunked_list(rule, call)
    return chunked is not None and not au.mentions_frames(chunked)


def _window_hop(call: cst.Call, division: cst.BinaryOperation) -> bool:
    """`range(0, n + 1 - W, W // 2)`: starts of overlapping windows of length W, the stop leaving room for the
    last window and the hop a fraction of W. How many windows come out depends on n by design."""
    stop = au.positional_args(call)[1]
    window = au.operand_names(division.left)
    return bool(window) and any(
        au.operand_names(sub.right) & window for sub in au.find_all(stop, cst.BinaryOperation, au.is_subtraction)
    )


def _fenceposts(rule: Rule, call: cst.Call, division: cst.BinaryOperation) -> bool:
    """`range(lo, hi + 1, (hi - lo) // k)`: evenly spaced values from lo to hi, both ends included on purpose
    (k + 1 fence posts over an interval of values), not T frames out of a video."""
    args = au.positional_args(call)
    stop = args[1]
    if not au.is_plus_int(stop, 1):
        return False
    high = au.operand_names(stop.left)  # type: ignore[attr-defined]
    low = au.operand_names(args[0]) if len(args) >= 3 else set()
    if not high or not low:
        return False
    return any(
        au.operand_names(span.left) <= high and au.operand_names(span.right) <= low
        for span in au.find_all(division.left, cst.BinaryOperation, au.is_subtraction)
    )
