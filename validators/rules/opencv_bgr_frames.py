from __future__ import annotations

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.analysis import Analysis
from temporalkit.validators.rule import Invalid, Rule, Valid

_CONSUMERS = frozenset(
    {"torch.from_numpy", "torch.as_tensor", "torch.tensor", "numpy.stack", "numpy.array", "numpy.asarray", "PIL.Image.fromarray"}
)


class OpenCVBGRFramesRule(Rule):
    """
    What it does:
        Flags frames read with OpenCV (`cv2.VideoCapture(...).read()`, `cv2.imread`) and turned into
        arrays or tensors in a module that never converts them to RGB
        (`cv2.cvtColor(f, cv2.COLOR_BGR2RGB)`, `f[..., ::-1]`).

    Why is this bad?
        OpenCV decodes to BGR channel order; every pretrained video model and every other decoder
        (PyAV, torchvision, decord) produce RGB. Feeding BGR swaps red and blue: normalisation
        statistics are applied to the wrong channels and accuracy drops by several points without
        any error.

    Example:
        ```python
        ok, frame = cap.read()
        frames.append(frame)
        clip = torch.from_numpy(np.stack(frames))
        ```

    Fix:
        Convert each frame once, right after decoding.
        ```python
        ok, frame = cap.read()
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        ```
    """

    ID = "TK191"
    CATEGORY = "color-order"
    SEVERITY = "error"
    MESSAGE = "OpenCV frames are BGR and are never converted to RGB before use: red and blue are swapped for the model"
    FIX = "convert after decoding: cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)"
    TRIGGERS = ("cv2",)

    VALID = [
        Valid(
            "import cv2\nimport numpy as np\n\ndef read(path):\n    cap = cv2.VideoCapture(path)\n    frames = []\n"
            "    ok, f = cap.read()\n    while ok:\n        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))\n        ok, f = cap.read()\n"
            "    return np.stack(frames)\n"
        ),
        Valid("import cv2\nimport numpy as np\nimg = cv2.imread(path)[..., ::-1]\narr = np.asarray(img)\n"),
        Valid("import cv2\ncap = cv2.VideoCapture(path)\nok, f = cap.read()\ncv2.imwrite('out.png', f)\n"),
        Valid("import cv2\nimport numpy as np\ng = cv2.imread(path, cv2.IMREAD_GRAYSCALE)\narr = np.asarray(g)\n"),
    ]
    INVALID = [
        Invalid(
            "import cv2\nimport numpy as np\nimport torch\n\ndef read(path):\n    cap = cv2.VideoCapture(path)\n    frames = []\n"
            "    while True:\n        ok, frame = cap.read()\n        if not ok:\n            break\n        frames.append(frame)\n"
            "    return torch.from_numpy(np.stack(frames))\n",
            expected_line=9,
        ),
        Invalid("import cv2\nfrom PIL import Image\nimage = Image.fromarray(cv2.imread(path))\n"),
    ]

    def __init__(self, analysis: Analysis) -> None:
        super().__init__(analysis)
        self._reads: list[cst.Call] = []
        self._converted = False
        self._consumed = False

    def visit_Call(self, node: cst.Call) -> None:
        names = au.call_names(self, node)
        if "cv2.cvtColor" in names:
            self._converted = True
        elif "cv2.imread" in names:
            flags = au.argument(node, 1, "flags")
            if flags is None or not self.refers_to(flags, "cv2.IMREAD_GRAYSCALE"):
                self._reads.append(node)
        elif names & _CONSUMERS:
            self._consumed = True
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value == "read" and self._is_capture(node.func.value):
            self._reads.append(node)
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value == "flip":
            self._converted = True

    def visit_Slice(self, node: cst.Slice) -> None:
        if au.int_value(node.step) == -1:
            self._converted = True

    def leave_Module(self, original_node: cst.Module) -> None:
        if self._reads and self._consumed and not self._converted:
            self.report(self._reads[0])

    def _is_capture(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Call):
            return self.refers_to(node.func, "cv2.VideoCapture")
        if isinstance(node, cst.Name):
            return any(isinstance(v, cst.Call) and self.refers_to(v.func, "cv2.VideoCapture") for v in au.assigned_values(self, node))
        ident = (au.last_identifier(node) or "").lower()
        return "cap" in ident
