from __future__ import annotations

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_ZEROS = frozenset({"numpy.zeros", "torch.zeros", "numpy.zeros_like", "torch.zeros_like"})
_PADS = frozenset({"numpy.pad", "torch.nn.functional.pad"})
_CONSTANT = {"'constant'", '"constant"'}


class ZeroPaddingShortClipRule(Rule):
    """
    What it does:
        Flags short clips filled up to T frames with black frames: `np.zeros((T - n, H, W, C))`,
        `torch.zeros(T - len(frames), C, H, W)`, `[np.zeros_like(f)] * (T - n)`, constant
        `np.pad`/`F.pad` by `T - n`.

    Why is this bad?
        Black frames are not in the data distribution: the model sees a scene cut to black in
        every short video, normalisation turns them into large negative inputs, and temporal
        pooling averages them in. Accuracy on short videos drops and the model can learn "black
        tail ⇒ class X" shortcuts.

    Example:
        ```python
        pad = np.zeros((T - len(frames),) + frames.shape[1:], frames.dtype)
        clip = np.concatenate([frames, pad])
        ```

    Fix:
        Repeat frames instead: sample indices with repetition over the frames that exist (or
        loop the clip, or repeat the last frame).
        ```python
        indices = np.linspace(0, len(frames) - 1, T).round().astype(int)
        clip = frames[indices]
        ```
    """

    ID = "TK200"
    CATEGORY = "zero-padding"
    SEVERITY = "warning"
    MESSAGE = "short clip padded with black (all-zero) frames up to T: out-of-distribution input for short videos"
    FIX = "repeat frames instead: indices = linspace(0, n - 1, T).round() (or loop / repeat the last frame)"
    TRIGGERS = ("zeros", "pad(")

    VALID = [
        Valid("import numpy as np\nidx = np.linspace(0, len(frames) - 1, T).round().astype(int)\nclip = frames[idx]\n"),
        Valid("import numpy as np\nclip = np.pad(frames, ((0, T - len(frames)), (0, 0), (0, 0), (0, 0)), mode='edge')\n"),
        Valid("import torch\nmask = torch.zeros(T, dtype=torch.bool)\n"),
        Valid("import torch.nn.functional as F\nx = F.pad(x, (1, 1, 1, 1))\n"),
        Valid("import torch\nzeros_y1 = torch.zeros(im_h - y_1, mask.size(1))\n"),
    ]
    INVALID = [
        Invalid(
            "import numpy as np\n\ndef pad(frames, T):\n    pad = np.zeros((T - len(frames),) + frames.shape[1:], frames.dtype)\n"
            "    return np.concatenate([frames, pad])\n",
            expected_line=4,
        ),
        Invalid("import torch\nclip = torch.cat([clip, torch.zeros(self.T - clip.shape[0], 3, 224, 224)])\n"),
        Invalid("import numpy as np\nframes += [np.zeros_like(frames[0])] * (T - len(frames))\n"),
        Invalid("import numpy as np\nclip = np.pad(frames, ((0, T - n), (0, 0), (0, 0), (0, 0)))\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        names = au.call_names(self, node)
        if names & {"numpy.zeros", "torch.zeros"}:
            shape = au.argument(node, 0, "shape") or au.argument(node, 0, "size")
            if isinstance(shape, cst.BinaryOperation) and isinstance(shape.operator, cst.Add):
                shape = shape.left  # (T - n,) + frames.shape[1:]
            if isinstance(shape, (cst.Tuple, cst.List)) and shape.elements:
                shape = shape.elements[0].value
            if au.is_subtraction(shape) and au.mentions_frames(shape):
                self.report(node)
        elif names & _PADS:
            mode = au.argument(node, 2, "mode")
            if mode is not None and au.code(mode) not in _CONSTANT:
                return
            if "torch.nn.functional.pad" in names:
                fill = au.argument(node, 3, "value")
            else:
                fill_arg = au.keyword_arg(node, "constant_values")
                fill = fill_arg.value if fill_arg is not None else None
            if fill is not None and au.int_value(fill) != 0:
                return  # padding with a chosen value is a decision, not the black-frame default
            widths = au.argument(node, 1, "pad_width") or au.argument(node, 1, "pad")
            if widths is not None and any(au.mentions_frames(d) for d in au.find_all(widths, cst.BinaryOperation, lambda b: isinstance(b.operator, cst.Subtract))):
                self.report(node)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, cst.Multiply):
            return
        for listed, count in ((node.left, node.right), (node.right, node.left)):
            if isinstance(listed, cst.List) and au.is_subtraction(count) and au.mentions_frames(count):
                for element in listed.elements:
                    if isinstance(element.value, cst.Call) and au.call_names(self, element.value) & _ZEROS:
                        self.report(node)
                        return
