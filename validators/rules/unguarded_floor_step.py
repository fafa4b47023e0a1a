from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_STEP_SINKS = ("range", "arange", "randrange", "randint", "integers")
_BOUND_KEYWORDS = frozenset({"low", "high", "a", "b", "start", "stop"})


class UnguardedFloorStepRule(Rule):
    """
    What it does:
        Flags `n // T` used as a stride, segment length or random-offset bound, in a function that
        neither compares `n` with `T` nor clamps the result (`max(1, n // T)`).

    Why is this bad?
        For a video shorter than the clip, `n // T == 0`: `range(0, n, 0)` raises `ValueError`,
        `frames[::0]` raises, `random.randrange(0)` raises, and `i * seg` gives T copies of frame 0.
        Short videos are exactly the ones a dataset forgets about.

    Example:
        ```python
        seg = num_frames // T
        indices = [i * seg + random.randrange(seg) for i in range(T)]
        ```

    Fix:
        Clamp the step, or handle `n < T` before dividing.
        ```python
        seg = max(1, num_frames // T)
        ```

    Known problems:
        Whether `n` counts frames is read from names: `len(x)`, `num_frames`, `duration`,
        `video.shape[0]`, `results['total_frames']`, or a name assigned from one of these. Names
        about batches, workers, tasks, chunks, partitions, dataset sizes, queries, boxes, crops,
        image sizes, layers or tokens are taken not to be frame counts (`names._NOT_FRAME_WORDS`), so a frame count called `num_samples` is missed, and one
        called `count` is not recognised. An array's sides divided axis by axis by another
        shape (`img.shape[1] / grid[0]` beside `img.shape[2] / grid[1]`) are a spatial cell size,
        whatever the names: a (C, T, H, W) clip's time and height axes divided that way are missed.
        Any comparison or clamp of the result (`if step > 0`,
        `if seg <= clip_len`) counts as a guard, even one that does not cover zero, and so does a
        comparison of a name the numerator was made from (one assignment deep) with the divisor.
    """

    ID = "TK111"
    CATEGORY = "short-clip"
    SEVERITY = "error"
    MESSAGE = (
        "n // T used as a step or segment length with no guard: it is 0 when num_frames < T (zero step "
        "raises, or every index collapses to frame 0)"
    )
    FIX = "clamp with max(1, n // T) or handle num_frames < T first"
    TRIGGERS = ("//", "int(")
    OPT_IN = True

    VALID = [
        # Tokens per frame: the divisor is a mask's length, the step walks tokens, not frames.
        Valid(
            """
            import torch

            def first_token_of_each_frame(tokens, frame_mask):
                per_frame = tokens.shape[1] // frame_mask.shape[1]
                return torch.arange(0, tokens.shape[1], per_frame)
            """
        ),
        # The numerator is made from the total that a comparison with the divisor guards.
        Valid(
            """
            import math

            def middle_frames(total, neighbor, rate, n_clips):
                if total < 2 * neighbor * rate + n_clips:
                    rate = math.floor((total - n_clips) / (2 * neighbor))
                middle = list(range(neighbor * rate, total - neighbor * rate))
                return middle[:: int(len(middle) / n_clips)][:n_clips]
            """
        ),
        Valid(
            """
            def synchronize_stream(output, devices, streams):
                chunk_size = len(output) // len(devices)
                for i in range(len(devices)):
                    for j in range(chunk_size):
                        synchronize_stream(output[i * chunk_size + j], [devices[i]], [streams[i]])
            """
        ),
        Valid(
            """
            def f(n, T):
                step = max(1, n // T)
                return list(range(0, n, step))[:T]
            """
        ),
        Valid(
            """
            def f(n, T):
                if n < T:
                    return list(range(n)) + [n - 1] * (T - n)
                step = n // T
                return [i * step for i in range(T)]
            """
        ),
        Valid(
            """
            def f(frames):
                half = len(frames) // 2
                return frames[half]
            """
        ),
        Valid(
            """
            def f(n, T):
                step = n // T or 1
                return list(range(0, n, step))
            """
        ),
        Valid(
            """
            def f(hwa, hw, levels):
                a = hwa // hw
                return [x * a for x in levels]
            """
        ),
        # steps per epoch: a dataset size over a batch size, not frames over a clip length
        Valid(
            """
            def schedule(dataset, batch_size, world, epochs):
                iters_per_epoch = len(dataset) // (batch_size * world)
                return [epoch * iters_per_epoch for epoch in range(epochs)]
            """
        ),
        # splitting a list of videos across worker processes
        Valid(
            """
            def split_work(video_list, n_workers):
                num_videos = len(video_list)
                per_worker = num_videos // n_workers
                return [video_list[k * per_worker:(k + 1) * per_worker] for k in range(n_workers)]
            """
        ),
        # CutMix-style box sizes from image sides
        Valid(
            """
            import numpy as np

            def cutmix_box(h, w, cuts):
                box_h = h // cuts
                box_w = w // cuts
                return np.random.randint(box_h), np.random.randint(box_w)
            """
        ),
        # multi-scale crop offsets over the image width
        Valid(
            """
            def crop_offsets(img_w, img_h, scale, grid):
                crop = int(min(img_h, img_w) * scale)
                step_w = (img_w - crop) // grid
                return [i * step_w for i in range(grid + 1)]
            """
        ),
        # a constant numerator, indices wrapped by the frame count
        Valid(
            """
            def dense(num_frames, T, offset):
                stride = 64 // T
                return [(offset + i * stride) % num_frames for i in range(T)]
            """
        ),
        # a sequence-length list summed per data-parallel partition (a balance metric), and files shared
        # out to a pool of tasks: the divisor counts partitions or tasks, not a clip length
        Valid(
            """
            def partition_sums(seqlens, partitions):
                k_partitions = len(partitions)
                per_part = len(seqlens) // k_partitions
                return [sum(seqlens[o:o + per_part]) for o in range(0, len(seqlens), per_part)]
            """
        ),
        Valid(
            """
            def share_out(pending, num_tasks):
                per_task = len(pending) // num_tasks
                return [pending[i:i + per_task] for i in range(0, len(pending), per_task)]
            """
        ),
        # retrieval metrics: queries per video
        Valid(
            """
            def query_blocks(sims, num_queries, num_vids):
                per_video = num_queries // num_vids
                return [sims[v * per_video:(v + 1) * per_video] for v in range(num_vids)]
            """
        ),
        # guards on the result
        Valid(
            """
            import random

            def tsn(num_frames, k):
                avg = num_frames // k
                if avg > 0:
                    return [i * avg + random.randrange(avg) for i in range(k)]
                return [0] * k
            """
        ),
        Valid(
            """
            def strided(num_frames, T):
                step = num_frames // T
                if step == 0:
                    step = 1
                return list(range(0, num_frames, step))[:T]
            """
        ),
        Valid(
            """
            def strided(frames, T):
                step = len(frames) // T
                step = max(step, 1)
                return frames[::step][:T]
            """
        ),
        Valid(
            """
            def strided(frames, T):
                step = int(len(frames) / T) or 1
                return frames[::step][:T]
            """
        ),
        # an assert on aliases of both operands
        Valid(
            """
            def per_group(frames, groups):
                nf, ng = len(frames), len(groups)
                assert nf % ng == 0
                size = len(frames) // len(groups)
                return [frames[i * size] for i in range(ng)]
            """
        ),
        # the number of draws (randint's size=) is no bound
        Valid(
            """
            import numpy as np

            def skips(skip_length, new_step):
                return np.random.randint(new_step, size=skip_length // new_step)
            """
        ),
        # a constant divisor through a name
        Valid(
            """
            def split_crops(imgs):
                n_crops = 3
                clip_len = len(imgs) // n_crops
                return [imgs[i * clip_len:(i + 1) * clip_len] for i in range(n_crops)]
            """
        ),
        # an image's height and width divided by a feature map's (rows, columns): pixels, not frames
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
    ]
    INVALID = [
        Invalid(
            """
            import random

            def tsn(num_frames, T):
                seg = num_frames // T
                return [i * seg + random.randrange(seg) for i in range(T)]
            """,
            expected_line=5,
        ),
        Invalid(
            """
            def f(frames, T):
                return frames[:: len(frames) // T][:T]
            """,
            expected_line=3,
        ),
        Invalid(
            """
            import numpy as np

            def f(n, T):
                return np.arange(0, n, n // T)[:T]
            """
        ),
        # int(...) around a floor or true division truncates it all the same
        Invalid(
            """
            def frame_filter(frame_indices, frames_per_clip):
                num_frames = len(frame_indices)
                step = int(num_frames // frames_per_clip)
                keep = set(range(0, num_frames, step))
                return [x for i, x in enumerate(frame_indices) if i in keep]
            """,
            expected_line=4,
        ),
        Invalid(
            """
            def strided(frames, T):
                step = int(len(frames) / T)
                return frames[::step][:T]
            """,
            expected_line=3,
        ),
        # segments are frames, not a share of work: a divisor not named for workers, tasks or partitions
        Invalid(
            """
            def strided(frame_paths, num_segments):
                step = len(frame_paths) // num_segments
                return frame_paths[::step][:num_segments]
            """,
            expected_line=3,
        ),
        # `if num_frames == 0` does not cover 0 < num_frames < T
        Invalid(
            """
            def strided(results, T):
                if results['total_frames'] == 0:
                    raise ValueError("empty video")
                step = results['total_frames'] // T
                return [i * step for i in range(T)]
            """,
            expected_line=5,
        ),
    ]

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        value = self._step_value(node)
        if value is None or au.int_value(node.right) is not None or au.constant_name(self, node.right):
            return
        if not au.looks_like_frame_total(self, node.left) or au.names_non_frames(node.right):
            return  # dataset // world size, box or crop sizes, `64 // T`: not a frame count over T
        if au.per_axis_division(self, node):
            return  # `img.shape[1] / grid[0]` beside `img.shape[2] / grid[1]`: a spatial cell size
        up = au.parent(self, value)
        if isinstance(up, cst.BooleanOperation):
            return
        if isinstance(up, cst.Arg) and au.is_call_to(au.parent(self, up), "max"):
            return
        scope = au.enclosing_scope_node(self, node)
        if not self._used_as_step(value, up, scope):
            return
        if au.has_guard(scope, au.operand_names(node.left), au.operand_names(node.right)):
            return
        # A comparison of what the numerator was made from (`middle = range(a, total - a)` and
        # `if total < 2 * a + n_clips:`) with the divisor guards it too.
        if au.has_guard(scope, au.with_aliases(scope, au.operand_names(node.left)), au.operand_names(node.right)):
            return
        if isinstance(up, cst.Assign) and au.result_is_guarded(scope, au.code(up.targets[0].target)):
            return  # `if step > 0`, `if step == 0: step = 1`, `step = max(step, 1)`
        self.report(node)

    def _step_value(self, node: cst.BinaryOperation) -> cst.BaseExpression | None:
        """`n // T`, or the `int(...)` around `n // T` / `n / T` (a truncated true division is a floor step too)."""
        up = au.parent(self, node)
        wrapper = au.parent(self, up) if isinstance(up, cst.Arg) else None
        truncates = isinstance(wrapper, cst.Call) and (
            au.is_call_to(wrapper, "int") or au.dotted(wrapper.func) in ("math.floor", "np.floor")
        )
        if isinstance(node.operator, cst.FloorDivide):
            return wrapper if truncates else node  # type: ignore[return-value]
        if isinstance(node.operator, cst.Divide) and truncates:
            return wrapper  # type: ignore[return-value]
        return None

    def _used_as_step(self, node: cst.BaseExpression, up: cst.CSTNode | None, scope: cst.CSTNode) -> bool:
        if isinstance(up, cst.Slice) and up.step is node:
            return True
        if isinstance(up, cst.Arg):
            call = au.parent(self, up)
            return isinstance(call, cst.Call) and self._is_step_arg(call, up)
        if isinstance(up, cst.Assign) and len(up.targets) == 1 and isinstance(up.targets[0].target, cst.Name):
            name = up.targets[0].target.value
            for call in au.find_all(scope, cst.Call):
                for arg in call.args:
                    if au.is_name(arg.value, name) and self._is_step_arg(call, arg):
                        return True
            if au.find_all(scope, cst.Slice, lambda s: au.is_name(s.step, name)):
                return True
            return self._scales_loop_counter(scope, name)
        return False

    @staticmethod
    def _scales_loop_counter(scope: cst.CSTNode, name: str) -> bool:
        """`i * seg` where `i` counts segments: `for i in range(...)` / `[... for i in range(T)]`."""

        def product(node: cst.BinaryOperation) -> bool:
            return isinstance(node.operator, cst.Multiply) and (
                au.is_name(node.left, name) or au.is_name(node.right, name)
            )

        loops = au.find_all(scope, (cst.For, cst.CompFor), lambda loop: au.is_call_to(loop.iter, "range"))
        for loop in loops:
            counter = au.dotted(loop.target)
            if counter is None:
                continue
            body = loop.body if isinstance(loop, cst.For) else None
            searched = body if body is not None else scope
            for mul in au.find_all(searched, cst.BinaryOperation, product):
                if counter in (au.dotted(mul.left), au.dotted(mul.right)):
                    return True
        return False

    @staticmethod
    def _is_step_arg(call: cst.Call, arg: cst.Arg) -> bool:
        name = au.dotted(call.func) or ""
        last = name.rsplit(".", 1)[-1]
        if last not in _STEP_SINKS:
            return False
        if last in ("range", "arange"):
            pos = [a for a in call.args if a.keyword is None]
            return (len(pos) >= 3 and pos[2] is arg) or (arg.keyword is not None and arg.keyword.value == "step")
        if arg.keyword is not None:
            return arg.keyword.value in _BOUND_KEYWORDS  # not `size=`, `dtype=`
        pos = [a for a in call.args if a.keyword is None]
        return pos.index(arg) < 2 and not isinstance(arg.value, (cst.Tuple, cst.List))  # randint(low, high, size)
