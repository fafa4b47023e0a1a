from __future__ import annotations

import re

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.analysis import Analysis
from temporalkit.validators.rule import Invalid, Rule, Valid
from temporalkit.validators.rules.random_transform_per_frame import RandomTransformPerFrameRule

# Names of a spatial extent: `h`, `w`, `height`, `img_w`, `crop_h`, `H`.
_SPATIAL = re.compile(r"(^[hw]$|height|width|^img_?[hw]$|_[hw]$|^[hw]_)", re.I)


class RandomOffsetPerFrameRule(Rule):
    """
    What it does:
        Flags a random crop offset (or flip decision) drawn by hand inside a loop over the frames
        of one clip: `for f in frames: y = random.randint(0, h - size)` followed by
        `f[y:y + size, x:x + size]`, or `if random.random() < 0.5: f = f[:, ::-1]` per frame.

    Why is this bad?
        Every frame gets its own rows and columns: the crop window jumps around from frame to
        frame, objects shake in place, and the motion the model should learn is drowned in
        augmentation jitter. A spatial augmentation of a clip must be drawn once per clip and
        applied to every frame.

    Known problems:
        "The frames of one clip" is read from the loop's iterable: a name like `frames`, `clip`,
        `video`, `imgs` (or containing "frame"), or `range(len(...))` of one. A draw counts as a
        crop offset when its bound names a spatial extent (`h`, `w`, `height`, `width`, `crop_h`...)
        or the value it is bound to is a slice bound in the loop. Loops over the videos of a
        batch under a frame-like name are reported; frames under another name are missed.

    Example:
        ```python
        for frame in frames:
            y = random.randint(0, h - size)
            x = random.randint(0, w - size)
            out.append(frame[y:y + size, x:x + size])
        ```

    Fix:
        Draw the offsets once, before the loop.
        ```python
        y = random.randint(0, h - size)
        x = random.randint(0, w - size)
        out = [frame[y:y + size, x:x + size] for frame in frames]
        ```
    """

    ID = "TK182"
    CATEGORY = "inconsistent-crop"
    SEVERITY = "error"
    MESSAGE = (
        "random crop offset drawn once per frame: each frame is cut at different rows/columns, so the clip jitters"
    )
    FIX = "draw the offsets (and any flip) once per clip, before the loop over frames, and apply them to every frame"
    TRIGGERS = ("rand", "uniform", "choice", "integers")

    VALID = [
        Valid(
            """
            import random

            def crop_clip(frames, h, w, size):
                y = random.randint(0, h - size)
                x = random.randint(0, w - size)
                return [frame[y:y + size, x:x + size] for frame in frames]
            """
        ),
        # One clip per iteration: an offset per video of a batch is fine.
        Valid(
            """
            import random

            def crop_batch(batch, h, w, size):
                out = []
                for sample in batch:
                    y = random.randint(0, h - size)
                    out.append(sample[:, y:y + size])
                return out
            """
        ),
        # Per-frame noise is not a crop.
        Valid(
            """
            import numpy as np

            def add_noise(frames, sigma):
                return [frame + np.random.normal(0, sigma, frame.shape) for frame in frames]
            """
        ),
        # Temporal jitter inside a loop over segments (TSN): frame indices, not rows/columns.
        Valid(
            """
            import numpy as np

            def segment_indices(num_frames, num_segments):
                tick = num_frames // num_segments
                return [i * tick + np.random.randint(tick) for i in range(num_segments)]
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import random

            def crop_clip(frames, h, w, size):
                out = []
                for frame in frames:
                    y = random.randint(0, h - size)
                    x = random.randint(0, w - size)
                    out.append(frame[y:y + size, x:x + size])
                return out
            """,
            expected_line=7,
        ),
        Invalid(
            """
            import numpy as np

            def crop(clip, size):
                height, width = clip[0].shape[:2]
                for i in range(len(clip)):
                    top = np.random.randint(0, height - size + 1)
                    clip[i] = clip[i][top:top + size]
                return clip
            """,
            expected_line=7,
        ),
        # A flip decided frame by frame: some frames mirrored, others not.
        Invalid(
            """
            import random

            def flip_clip(frames):
                out = []
                for frame in frames:
                    if random.random() < 0.5:
                        frame = frame[:, ::-1]
                    out.append(frame)
                return out
            """,
            expected_line=7,
        ),
        Invalid(
            """
            import random

            def crop_clip(imgs, size):
                return [img[(y := random.randrange(img.shape[0] - size)):y + size] for img in imgs]
            """,
        ),
    ]

    def __init__(self, analysis: Analysis) -> None:
        super().__init__(analysis)
        self._reported: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        if not au.is_random_draw(self, node):
            return
        loop_body = self._frame_loop_body(node)
        if loop_body is None:
            return
        if id(loop_body) in self._reported:
            return  # one finding per loop: the row and column offsets are one mistake
        if self._spatial_bound(node) or self._used_as_slice_bound(node, loop_body) or self._decides_flip(node):
            self._reported.add(id(loop_body))
            self.report(node)

    def _decides_flip(self, node: cst.Call) -> bool:
        """`if random.random() < 0.5: frame = frame[:, ::-1]` (or `np.fliplr`, `cv2.flip`, `F.hflip`)."""
        previous: cst.CSTNode = node
        for anc in au.ancestors(self, node):
            if isinstance(anc, (cst.If, cst.IfExp)):
                if previous is not anc.test:
                    return False
                branch = anc.body
                flips = any(
                    isinstance(p, cst.Slice) and au.int_value(p.step) == -1 for p in au.find_all(branch, cst.Slice)
                ) or any("flip" in (au.last_identifier(c.func) or "").lower() for c in au.find_all(branch, cst.Call))
                return flips
            if isinstance(anc, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
                return False
            previous = anc
        return False

    def _frame_loop_body(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The body of the innermost loop or comprehension around `node` that iterates over frames."""
        for anc in au.ancestors(self, node):
            if isinstance(anc, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                return None
            if isinstance(anc, cst.For):
                return anc.body if self._iterates_frames(anc.iter) else None
            if isinstance(anc, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
                return anc if self._iterates_frames(anc.for_in.iter) else None
        return None

    @staticmethod
    def _iterates_frames(iterable: cst.BaseExpression) -> bool:
        if isinstance(iterable, cst.Call) and au.is_name(iterable.func, "range") and len(iterable.args) == 1:
            count = iterable.args[0].value
            return (
                au.is_call_to(count, "len")
                and bool(count.args)
                and RandomTransformPerFrameRule._iterates_frames(count.args[0].value)
            )
        return RandomTransformPerFrameRule._iterates_frames(iterable)

    def _spatial_bound(self, node: cst.Call) -> bool:
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "size":
                continue
            for name in au.names_in(arg.value):
                if any(_SPATIAL.search(part) for part in name.split(".")):
                    return True
        return False

    def _used_as_slice_bound(self, node: cst.Call, body: cst.CSTNode) -> bool:
        target = au.bound_name(self, node)
        if target is None:
            up = self.parent(node)
            if isinstance(up, cst.NamedExpr):
                target = up.target
        name = au.dotted(target) if target is not None else None
        if name is None:
            return False
        for piece in au.find_all(body, cst.Slice):
            bounds = [b for b in (piece.lower, piece.upper) if b is not None]
            if any(name in au.names_in(b) for b in bounds):
                return True
        return False
