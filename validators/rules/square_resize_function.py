from __future__ import annotations

import re

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid
from temporalkit.validators.rules.square_resize_transform import square_side

_RESIZERS = {
    "cv2.resize": (1, "dsize"),
    "torch.nn.functional.interpolate": (1, "size"),
    "torchvision.transforms.functional.resize": (1, "size"),
    "torchvision.transforms.v2.functional.resize": (1, "size"),
}
_MIN_IMAGE_SIDE = 64  # below this a square size is a feature map or an embedding grid, not a frame
_ASPECT_WORDS = re.compile(r"(aspect|ratio)", re.I)
_SQRT = frozenset({"math.sqrt", "numpy.sqrt", "torch.sqrt"})
_TEACHER_WORDS = re.compile(r"(teacher|distill)", re.I)


class SquareResizeFunctionRule(Rule):
    """
    What it does:
        Flags frames resized to a fixed square with a function: `cv2.resize(frame, (224, 224))`,
        `F.interpolate(clip, size=(224, 224))`, `TF.resize(frame, [224, 224])`.

    Why is this bad?
        Real videos are not square; a fixed (H, W) squashes them, by a different factor for each
        source resolution, so the model sees distorted shapes and a different input distribution
        from the pretrained weights.

        Not everything resized to a square is a frame, and these are not reported: token grids
        (positional embeddings, sinusoid tables: the side is a square root of a token count, or
        the tensor is named like one), masks and label maps (nearest-neighbour interpolation, or
        a mask-like name), the final resize of a random-resized (Inception-style) crop, whose
        random aspect ratio is the augmentation, a resize to a teacher model's resolution in
        distillation (the clip is already a square crop: the resize is named like a teacher's input,
        runs under a test of a teacher or distillation setting, or its result is handed to a
        callable named like a teacher), and literal sizes under 64.

    Known problems:
        Embeddings, masks and teacher inputs are partly recognised by name (`pos_embed`, `posemb`,
        `sinusoid_table`, `mask`, `teacher_res`...), on the resized value or what it was assigned
        from, on an `if` around the resize (`teacher`, `distill`) or on the callable its result is
        passed to (`clip_teacher(x)`): frames under such names are missed, and so is a student's
        own squash when the same clip is also handed to a teacher. A crop
        counts as Inception-style when it is a slice with computed bounds in a function that
        mentions an aspect ratio (`aspect`, `ratio`). A source is square when it is sliced with
        the same extent on both axes (`im[y:y + s, x:x + s]`, or `y2 = y1 + s` and `x2 = x1 + s`),
        read through a few assignments and first arguments; a crop clipped at the border and never
        padded back is then taken as square all the same. A function that returns two scale
        factors `side / w` and `side / h` is taken as a deliberate warp, undone by its caller.

    Example:
        ```python
        frame = cv2.resize(frame, (224, 224))
        ```

    Fix:
        Scale the short side to the target, then crop.
        ```python
        h, w = frame.shape[:2]
        scale = 224 / min(h, w)
        frame = cv2.resize(frame, (round(w * scale), round(h * scale)))
        frame = center_crop(frame, 224)
        ```
    """

    ID = "TK172"
    CATEGORY = "aspect-distortion"
    SEVERITY = "error"
    MESSAGE = "frames resized to a fixed square (H, W): the aspect ratio is ignored and non-square videos are squashed"
    FIX = "resize the short side to the target size, then center/random crop"
    TRIGGERS = ("resize", "interpolate")
    OPT_IN = True

    VALID = [
        Valid(
            """
            import cv2
            frame = cv2.resize(frame, (new_w, new_h))
            """
        ),
        Valid(
            """
            import torch.nn.functional as F
            pos = F.interpolate(pos, size=(14, 14), mode='bicubic')
            """
        ),
        Valid(
            """
            import torchvision.transforms.functional as TF
            frame = TF.resize(frame, 256)
            """
        ),
        Valid(
            """
            import torch.nn.functional as F
            x = F.interpolate(x, scale_factor=2)
            """
        ),
        # A positional-embedding grid: the side is the square root of a token count.
        Valid(
            """
            import math
            import torch.nn.functional as F

            def resize_grid(table, new_tokens):
                side = int(math.sqrt(new_tokens))
                old = int(table.shape[1] ** 0.5)
                grid = table.reshape(1, old, old, -1).permute(0, 3, 1, 2)
                return F.interpolate(grid, size=(side, side), mode="bicubic")
            """
        ),
        # The same, with the grid size handed in: recognised by the embedding's name.
        Valid(
            """
            import torch.nn.functional as F

            def adapt(state, hw):
                state["pos_embed"] = F.interpolate(state["pos_embed"], size=(hw, hw), mode="bicubic")
            """
        ),
        # A 4-D embedding grid (no class token) resized to another checkpoint's grid, the side read from
        # that checkpoint's shape: the tensor it comes from is named like an embedding (`posemb`, `emb`).
        Valid(
            """
            import torch.nn.functional as F

            def fit_grid(posemb, target):
                side = target.shape[1]
                grid = posemb.permute(0, 3, 1, 2)
                grid = F.interpolate(grid, size=(side, side), mode="bicubic")
                return grid.permute(0, 2, 3, 1)
            """
        ),
        Valid(
            """
            import torch.nn.functional as F

            def sinusoid_for(sinusoid_table, new_p):
                return F.interpolate(sinusoid_table, size=(new_p, new_p), mode="bicubic")
            """
        ),
        # A mask brought into the model's square input space, nearest-neighbour.
        Valid(
            """
            import torch.nn.functional as F

            def mask_to_input(masks, size):
                return F.interpolate(masks[None].float(), size=(size, size), mode="nearest")
            """
        ),
        # Inception-style crop: a random area and a random aspect ratio, then a square resize.
        Valid(
            """
            import math
            import cv2
            import numpy as np

            def random_resized_crop(img, out):
                h, w = img.shape[:2]
                area = h * w * np.random.uniform(0.08, 1.0)
                aspect = np.random.uniform(3 / 4, 4 / 3)
                ch = min(h, int(round(math.sqrt(area / aspect))))
                cw = min(w, int(round(math.sqrt(area * aspect))))
                y = np.random.randint(0, h - ch + 1)
                x = np.random.randint(0, w - cw + 1)
                patch = img[y:y + ch, x:x + cw]
                return cv2.resize(patch, (out, out))
            """
        ),
        Valid(
            """
            import torch.nn.functional as F

            def inception_crop(clip, size, top, left, crop_h, crop_w, ratio_range=(0.75, 1.33)):
                return F.interpolate(clip[:, :, top:top + crop_h, left:left + crop_w], size=(size, size), mode="bilinear")
            """
        ),
        Valid(
            """
            import torchvision.transforms.functional as TF

            def resized_crop(img, size, scale, ratio):
                top, left, h, w = sample_box(img, scale, ratio)
                return TF.resize(TF.crop(img, top, left, h, w), [size, size])
            """
        ),
        # Distillation: the clip is already a square crop; the teacher takes another resolution.
        Valid(
            """
            import torch.nn.functional as F

            def teacher_view(images, teacher_res):
                return F.interpolate(images, size=(teacher_res, teacher_res), mode="bilinear")
            """
        ),
        # Distillation again, the teacher's resolution under another name: the resize runs only when
        # the (square) clip's side differs from the teacher's, and its result goes to the teacher.
        Valid(
            """
            import torch.nn.functional as F

            def soft_targets(clips, frozen_teacher, side):
                n, c, t, h, w = clips.shape
                if h != side:
                    clips = F.interpolate(clips.reshape(n, c * t, h, w), size=(side, side), mode="bicubic")
                    clips = clips.reshape(n, c, t, side, side)
                return frozen_teacher(clips)
            """
        ),
        Valid(
            """
            import torch.nn.functional as F

            def targets_for(batch, big_model_teacher, input_side):
                small = F.interpolate(batch.flatten(1, 2), size=(input_side, input_side), mode="bilinear")
                return big_model_teacher(small)
            """
        ),
        # A second pathway resized for a distillation teacher chosen in the config.
        Valid(
            """
            import torch.nn.functional as F

            def pathways(cfg, clip):
                fast = clip
                if cfg.KD.TEACHER_ARCH == "r21d":
                    fast = F.interpolate(clip[:, :16].transpose(0, 1), size=(128, 128), mode="bilinear")
                return [clip[:, ::4], fast]
            """
        ),
        # A square patch around a tracked point (same extent on both axes, padded back to it after
        # clipping at the border) resized to a square: the aspect ratio does not change.
        Valid(
            """
            import cv2

            def patch_around(frame, cx, cy, side, out):
                top = int(cy - side / 2)
                left = int(cx - side / 2)
                bottom = top + side
                right = left + side
                patch = frame[max(top, 0):bottom, max(left, 0):right]
                padded = cv2.copyMakeBorder(patch, max(-top, 0), 0, max(-left, 0), 0, cv2.BORDER_CONSTANT)
                return cv2.resize(padded, (out, out)), out / side
            """
        ),
        # A deliberate warp to a square that hands back the x and y scale factors, so that the
        # caller maps boxes back to the original image axis by axis.
        Valid(
            """
            import cv2

            def warp_square(img, out):
                h, w = img.shape[:2]
                scales = (out / w, out / h)
                return cv2.resize(img, (out, out)), scales
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import cv2

            def load(frame):
                return cv2.resize(frame, (224, 224))
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import torch.nn.functional as F
            clip = F.interpolate(clip, size=(224, 224), mode='bilinear')
            """
        ),
        Invalid(
            """
            from torchvision.transforms.v2 import functional as F
            x = F.resize(x, [size, size])
            """
        ),
        # A detected box cut out and squashed: the crop's aspect is the box's, not a chosen one.
        Invalid(
            """
            import cv2

            def person_patch(frame, box):
                x0, y0, x1, y1 = box
                person = frame[y0:y1, x0:x1]
                return cv2.resize(person, (224, 224))
            """,
            expected_line=7,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        names = self.qualified_names(node.func)
        spec = next((_RESIZERS[n] for n in names if n in _RESIZERS), None)
        if spec is None:
            return
        size = au.argument(node, *spec)
        if size is None:
            return
        side = square_side(size)
        if side is None:
            return
        value = au.int_value(side)
        if value is not None and value < _MIN_IMAGE_SIDE:
            return
        image = au.argument(node, 0, "src" if "cv2.resize" in names else "input")
        if image is None or self._not_a_frame(node, image, side):
            return
        if _square_source(self, image) or _returns_axis_scales(self, node, side):
            return  # square to square keeps the aspect; a warp whose x/y scales are returned is undone by the caller
        self.report(node)

    def _not_a_frame(self, node: cst.Call, image: cst.BaseExpression, side: cst.BaseExpression) -> bool:
        """A token grid, a mask or label map, an Inception-style crop, or a teacher's input."""
        if self._token_grid_side(side) or _nearest(node):
            return True
        target = au.bound_name(self, node)
        named = [image, side] + ([target] if target is not None else [])
        if isinstance(image, cst.Name):
            named += au.assigned_values(self, image)[:4]  # `grid = posemb.permute(0, 3, 1, 2)`
        if any(au.names_non_frame_data(n) for n in named):
            return True
        if any("teacher" in name.lower() for n in named for name in au.names_in(n)):
            return True
        if self._feeds_teacher(node, target):
            return True
        return self._aspect_jittered_crop(node, image)

    def _feeds_teacher(self, node: cst.Call, target: cst.BaseExpression | None) -> bool:
        """The resize serves a distillation teacher: it runs under an `if` that tests a teacher or
        distillation setting (`if cfg.DISTILLATION.TEACHER_MODEL == ...:`), or the name it is bound to is
        passed, in the same function, to a callable named like a teacher (`teacher_model(clip_videos)`)."""
        for anc in au.ancestors(self, node):
            if isinstance(anc, cst.FunctionDef):
                break
            if isinstance(anc, cst.If) and any(_TEACHER_WORDS.search(n) for n in au.names_in(anc.test)):
                return True
        if not isinstance(target, cst.Name):
            return False
        function = au.enclosing_function(self, node)
        if function is None:
            return False
        for call in au.find_all(function, cst.Call):
            callee = au.dotted(call.func) or ""
            if "teacher" not in callee.lower():
                continue
            if any(au.is_name(arg.value, target.value) for arg in call.args):
                return True
        return False

    def _token_grid_side(self, side: cst.BaseExpression) -> bool:
        """`int(n ** 0.5)` / `int(math.sqrt(n))`, written inline or bound to the name `side`."""
        values = [side]
        if isinstance(side, cst.Name):
            values += au.assigned_values(self, side)
        for value in values:
            for power in au.find_all(value, cst.BinaryOperation, lambda b: isinstance(b.operator, cst.Power)):
                if isinstance(power.right, cst.Float) and float(power.right.value) == 0.5:
                    return True
            if any(au.call_names(self, c) & _SQRT for c in au.find_all(value, cst.Call)):
                return True
        return False

    def _aspect_jittered_crop(self, node: cst.Call, image: cst.BaseExpression) -> bool:
        """`image` is a crop with computed bounds, in a function that draws or takes an aspect ratio."""
        function = au.enclosing_function(self, node)
        if function is None:
            return False
        if not any(_ASPECT_WORDS.search(part) for name in au.names_in(function) for part in name.split(".")):
            return False
        candidates: list[cst.CSTNode] = [image]
        for name in au.find_all(image, cst.Name):
            candidates += au.assigned_values(self, name)
        return any(_is_crop(c) for c in candidates)


def _is_crop(node: cst.CSTNode) -> bool:
    """A slice with computed bounds (`img[y:y + h, x:x + w]`) or a crop call (`TF.crop(img, i, j, h, w)`)."""
    if any(au.last_identifier(c.func) == "crop" for c in au.find_all(node, cst.Call)):
        return True
    for sub in au.find_all(node, cst.Subscript):
        for element in sub.slice:
            piece = element.slice
            if isinstance(piece, cst.Slice) and piece.upper is not None and au.int_value(piece.upper) is None:
                return True
    return False


def _nearest(call: cst.Call) -> bool:
    """Nearest-neighbour interpolation: masks and label maps, not frames."""
    for keyword in ("mode", "interpolation"):
        arg = au.keyword_arg(call, keyword)
        if arg is not None and "nearest" in au.code(arg.value).lower():
            return True
    return False


def _square_source(rule: Rule, image: cst.BaseExpression) -> bool:
    """`image` is cut with the same extent on both axes (`im[y:y + s, x:x + s]`): read through up to three
    assignments and first arguments (`padded = pad(crop, ...)`, `crop = im[...]`)."""
    frontier: list[cst.BaseExpression] = [image]
    for _ in range(4):
        following: list[cst.BaseExpression] = []
        for expr in frontier:
            if isinstance(expr, cst.Subscript) and _square_slice(rule, expr):
                return True
            if isinstance(expr, cst.Name):
                following += au.assigned_values(rule, expr)
            elif isinstance(expr, cst.Call) and expr.args:
                following.append(expr.args[0].value)
            elif isinstance(expr, cst.Subscript):
                following.append(expr.value)
        frontier = following[:8]
    return False


def _square_slice(rule: Rule, sub: cst.Subscript) -> bool:
    """The first two bounded slices of `sub` span the same extent: `[y:y + s, x:x + s]`, `[:s, :s]`, or bounds
    assigned as `y2 = y1 + s`, `x2 = x1 + s` (pads taken off both ends aside)."""
    bounded = [e.slice for e in sub.slice if isinstance(e.slice, cst.Slice) and e.slice.upper is not None]
    if len(bounded) < 2:
        return False
    rows, columns = (_extents(rule, piece) for piece in bounded[:2])
    return bool(rows & columns)


def _extents(rule: Rule, piece: cst.Slice) -> set[str]:
    """The `s` of a slice `lo:lo + s` (code strings), its upper bound read through one assignment of each name."""
    assert piece.upper is not None
    if piece.lower is None or au.int_value(piece.lower) == 0:
        return {au.code(piece.upper)}
    start = au.operand_names(piece.lower)
    uppers: list[cst.BaseExpression] = [piece.upper]
    for name in au.find_all(piece.upper, cst.Name):
        uppers += au.assigned_values(rule, name)
    found: set[str] = set()
    for upper in uppers:
        for add in au.find_all(upper, cst.BinaryOperation, lambda b: isinstance(b.operator, cst.Add)):
            for origin, extent in ((add.left, add.right), (add.right, add.left)):
                names = au.operand_names(origin)
                if names and names <= start and not au.operand_names(extent) & start:
                    found.add(au.code(extent))
    return found


def _returns_axis_scales(rule: Rule, call: cst.Call, side: cst.BaseExpression) -> bool:
    """The function returns `side / w` and `side / h` (two scale factors over different sides, directly or
    through names): the square is a deliberate warp that the caller undoes axis by axis."""
    function = au.enclosing_function(rule, call)
    if function is None:
        return False
    returned: list[cst.BaseExpression] = []
    for ret in au.find_all(function, cst.Return):
        if ret.value is None:
            continue
        returned.append(ret.value)
        for name in au.find_all(ret.value, cst.Name):
            returned += au.assigned_values(rule, name)
    side_code = au.code(side)
    over = {
        au.code(division.right)
        for value in returned
        for division in au.find_all(value, cst.BinaryOperation, lambda b: isinstance(b.operator, cst.Divide))
        if au.code(division.left) == side_code
    }
    return len(over) >= 2
