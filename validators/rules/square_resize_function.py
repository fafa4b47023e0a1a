from __future__ import annotations

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


class SquareResizeFunctionRule(Rule):
    """
    What it does:
        Flags frames resized to a fixed square with a function: `cv2.resize(frame, (224, 224))`,
        `F.interpolate(clip, size=(224, 224))`, `TF.resize(frame, [224, 224])`.

    Why is this bad?
        Real videos are not square; a fixed (H, W) squashes them, by a different factor for each
        source resolution, so the model sees distorted shapes and a different input distribution
        from the pretrained weights. (Small sizes such as positional-embedding grids are ignored.)

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

    VALID = [
        Valid("import cv2\nframe = cv2.resize(frame, (new_w, new_h))\n"),
        Valid("import torch.nn.functional as F\npos = F.interpolate(pos, size=(14, 14), mode='bicubic')\n"),
        Valid("import torchvision.transforms.functional as TF\nframe = TF.resize(frame, 256)\n"),
        Valid("import torch.nn.functional as F\nx = F.interpolate(x, scale_factor=2)\n"),
    ]
    INVALID = [
        Invalid("import cv2\n\ndef load(frame):\n    return cv2.resize(frame, (224, 224))\n", expected_line=4),
        Invalid("import torch.nn.functional as F\nclip = F.interpolate(clip, size=(224, 224), mode='bilinear')\n"),
        Invalid("from torchvision.transforms.v2 import functional as F\nx = F.resize(x, [size, size])\n"),
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
        self.report(node)
