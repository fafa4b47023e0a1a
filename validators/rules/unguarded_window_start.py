from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class UnguardedWindowStartRule(Rule):
    """
    What it does:
        Flags a random window start `randint(0, n - T)` (any random-integer API, also through a
        variable or a generator bound to a name) in a function that never compares `n` with `T`
        or clamps the bound with `max(...)`, when `n` is a frame count. A bound that is also off
        by one is reported by TK131/TK132/TK103 instead, which then say that nothing checks
        `n < T` (one finding per call).

    Why is this bad?
        Videos shorter than the clip are common (trimmed datasets, corrupt tails). With `n < T` the
        bound is negative: `random.randint` and numpy raise `ValueError`, `torch.randint` raises
        `RuntimeError`, and a data-loader worker dies mid-epoch on the first short video.

    Example:
        ```python
        def sample(num_frames, T):
            start = random.randint(0, num_frames - T)
            return list(range(start, start + T))
        ```

    Fix:
        Handle short videos first (loop, repeat the last frame, or pad) and draw only when a full
        window exists.
        ```python
        def sample(num_frames, T):
            if num_frames < T:
                return [min(i, num_frames - 1) for i in range(T)]
            start = random.randint(0, num_frames - T)
            return list(range(start, start + T))
        ```

    Known problems:
        Whether `n` is a frame count is read from its name (`num_frames`, `len(video)`,
        `seg_len`, `total`, `n`): spatial offsets (`img_h - crop_h`, `width - size`), CutMix/mixup
        boxes and multi-scale crop sizes (`int(min(h, w) * scale)`, bounded by the image side by
        construction) are left alone, and so is a frame count with an unusual name. A guard is
        any comparison or `max`/`min` that mentions both operands anywhere in the function, even
        one that does not protect this call; a length computed from the count (`t = randint(1, n)`) is
        taken as bounded by it, and `if n < 16: raise` (or `return` / `continue`) with any integer
        literal, even one below the clip length, counts as a guard. A draw inside `except` (another
        item after a failed load) is a retry, not a clip start, and is not reported.
    """

    ID = "TK112"
    CATEGORY = "short-clip"
    SEVERITY = "error"
    MESSAGE = "random window start over n - T with no short-video guard: raises when num_frames < T"
    FIX = "check `if n < T:` first (repeat/loop frames) or clamp with max(0, n - T)"
    TRIGGERS = ("randint", "integers", "randrange", "choice")
    OPT_IN = True

    VALID = [
        # The span is built from a stride drawn below n // k: it never exceeds n.
        Valid(
            """
            import random

            def strided_clip(n, k):
                most = n // k
                d = random.randint(1, most)
                span = d * k - d + 1
                offset = random.randint(0, n - span)
                return [offset + i * d for i in range(k)]
            """
        ),
        # After a failed load, another run of images is drawn from the whole dataset's list.
        Valid(
            """
            import random

            def load_run(files, index, k, read):
                while True:
                    try:
                        return [read(files[index + i]) for i in range(k)]
                    except OSError:
                        index = random.randint(0, len(files) - k)
            """
        ),
        # Short videos are rejected up front, with the clip length spelled as a literal.
        Valid(
            """
            import random

            def train_clip(frames, clip_len=16):
                length = len(frames) - 1
                if length < 16:
                    raise ValueError("video too short")
                start = random.randint(0, length - clip_len)
                return frames[start:start + clip_len]
            """
        ),
        Valid(
            """
            import random

            def sample(n, T):
                if n < T:
                    return [min(i, n - 1) for i in range(T)]
                start = random.randint(0, n - T)
                return list(range(start, start + T))
            """
        ),
        Valid(
            """
            import random

            def sample(n, T):
                start = random.randint(0, max(0, n - T))
                return start
            """
        ),
        Valid(
            """
            import numpy as np

            class S:
                def __call__(self, frames):
                    assert len(frames) >= self.T
                    return self.rng.integers(0, len(frames) - self.T + 1)
            """
        ),
        Valid(
            """
            import random

            def crop(w):
                return random.randint(0, w - 112)
            """
        ),
        # CutMix/mixup box centres and min-max boxes: coordinates, not frame windows.
        Valid(
            """
            import numpy as np

            def boxes(img_h, img_w, margin, lo, hi):
                cy = np.random.randint(0 + margin, img_h - margin, size=8)
                cut_w = np.random.randint(int(img_w * lo), int(img_w * hi))
                x0 = np.random.randint(0, img_w - cut_w + 1)
                return cy, x0
            """
        ),
        # A multi-scale crop: the crop side is a fraction of min(h, w), so it always fits.
        Valid(
            """
            import random

            def multi_scale_offset(img_w, img_h, scales):
                base = min(img_h, img_w)
                crop_w = int(base * random.choice(scales))
                crop_h = int(min(img_h, img_w) * random.choice(scales))
                return random.randint(0, img_w - crop_w), random.randint(0, img_h - crop_h)
            """
        ),
        # A masking generator whose length is drawn below the total: `temporal - t >= 0` always.
        Valid(
            """
            import random

            def mask_block(self):
                t = random.randint(1, self.temporal)
                return random.randint(0, self.temporal - t)
            """
        ),
        # The bound is off by one too: TK131 reports the call (and the missing guard), not TK112.
        Valid(
            """
            import numpy as np

            def sample(num_frames, T):
                return np.random.randint(0, num_frames - T)
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import random

            def sample(num_frames, T):
                start = random.randint(0, num_frames - T)
                return list(range(start, start + T))
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import torch

            class RandomClip:
                def __call__(self, video):
                    start = torch.randint(0, len(video) - self.clip_len + 1, (1,)).item()
                    return video[start:start + self.clip_len]
            """,
            expected_line=6,
        ),
        # Through a variable, with a generator bound to a name in __init__.
        Invalid(
            """
            import numpy as np

            class Sampler:
                def __init__(self, seed):
                    self.rs = np.random.RandomState(seed)

                def __call__(self, total_frames):
                    span = total_frames - self.clip_len + 1
                    return self.rs.randint(0, span)
            """,
            expected_line=10,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        bound = au.window_bound(self, node)
        if bound is None or bound.offset not in (-1, 0, 1) or au.bound_convention_error(bound) is not None:
            return
        if not au.looks_like_frame_count(bound.count) or au.spatial_axis(bound.count, bound.length) is not None:
            return
        if au.bound_is_guarded(self, bound) or _rejects_short_counts(self, bound):
            return
        if any(isinstance(a, cst.ExceptHandler) for a in au.ancestors(self, node)):
            return  # another item drawn after a failed load: a retry over the dataset, not a clip start
        n, t = au.code(bound.count), au.code(bound.length)
        where = au.bound_origin(self, bound)
        self.report(
            node,
            f"random window start over `{n} - {t}`{where} with no check that {n} >= {t}: the call raises on videos "
            "shorter than the clip",
            fix=f"handle `{n} < {t}` first (repeat/loop frames) or clamp with max(0, {n} - {t})",
        )


def _rejects_short_counts(rule: Rule, bound) -> bool:
    """An `if count < k:` (or `<=`) with an integer literal `k` before the draw, whose body raises,
    returns or skips: the author handles short videos (`if length < 16: raise` beside a 16-frame
    clip), with a literal where the clip length is a name."""
    names = au.operand_names(bound.count)
    if not names:
        return False
    scope = au.enclosing_scope_node(rule, bound.call)
    for check in au.find_all(scope, cst.If):
        test = check.test
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
            continue
        operator = test.comparisons[0].operator
        if not isinstance(operator, (cst.LessThan, cst.LessThanEqual)):
            continue
        if au.int_value(test.comparisons[0].comparator) is None or not (au.operand_names(test.left) & names):
            continue
        if au.find_all(check.body, (cst.Raise, cst.Return, cst.Continue)):
            return True
    return False
