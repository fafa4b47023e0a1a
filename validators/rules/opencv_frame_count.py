from __future__ import annotations

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class OpenCVFrameCountRule(Rule):
    """
    What it does:
        Flags `cap.get(cv2.CAP_PROP_FRAME_COUNT)` used as the number of frames without ever checking
        it against what was decoded (a comparison or `min(...)` with it).

    Why is this bad?
        OpenCV estimates the count from container metadata (duration × fps); for variable frame
        rate files, many webm/mkv files and truncated downloads it is off by a few frames or is
        0 or negative. Indices sampled up to that count then point past the last decodable frame:
        `cap.read()` returns `(False, None)` and the clip gets `None` frames or crashes later.

    Example:
        ```python
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        indices = np.linspace(0, n - 1, T).astype(int)
        ```

    Fix:
        Decode (or seek and verify) and use the number of frames actually read; or clamp every
        index and stop at the first failed read.
        ```python
        frames = read_all_frames(cap)
        n = len(frames)
        ```
    """

    ID = "TK161"
    CATEGORY = "frame-count-metadata"
    SEVERITY = "warning"
    MESSAGE = (
        "CAP_PROP_FRAME_COUNT is a container estimate (wrong for VFR, webm, truncated files): indices "
        "sampled up to it can point past the last decodable frame"
    )
    FIX = "count the frames actually decoded (or clamp to them and stop at the first failed cap.read())"
    TRIGGERS = ("CAP_PROP_FRAME_COUNT",)

    VALID = [
        Valid(
            "import cv2\n\ndef read(path):\n    cap = cv2.VideoCapture(path)\n    frames = []\n    ok, f = cap.read()\n"
            "    while ok:\n        frames.append(f)\n        ok, f = cap.read()\n    return frames\n"
        ),
        Valid(
            "import cv2\n\ndef count(cap, frames):\n    claimed = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))\n"
            "    return min(claimed, len(frames))\n"
        ),
        Valid("import cv2\nfps = cap.get(cv2.CAP_PROP_FPS)\n"),
    ]
    INVALID = [
        Invalid(
            "import cv2\nimport numpy as np\n\ndef indices(path, T):\n    cap = cv2.VideoCapture(path)\n"
            "    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))\n    return np.linspace(0, n - 1, T).astype(int)\n",
            expected_line=6,
        ),
        Invalid("from cv2 import CAP_PROP_FRAME_COUNT\ntotal = capture.get(CAP_PROP_FRAME_COUNT)\n"),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" and node.args):
            return
        if not self.refers_to(node.args[0].value, "cv2.CAP_PROP_FRAME_COUNT"):
            return
        if _checked_against_decoded(self, node):
            return
        self.report(node)


def _checked_against_decoded(rule: Rule, node: cst.CSTNode) -> bool:
    """The value (or the name it is assigned to) takes part in a comparison or a min(...)."""
    current = node
    for _ in range(4):
        up = au.parent(rule, current)
        if isinstance(up, cst.Comparison) or (isinstance(up, cst.Arg) and au.is_call_to(au.parent(rule, up), "min")):
            return True
        if isinstance(up, cst.Assign):
            names = {au.dotted(t.target) for t in up.targets} - {None}
            scope = au.enclosing_scope_node(rule, up)
            for check in au.find_all(scope, (cst.Comparison, cst.Call), lambda n: isinstance(n, cst.Comparison) or au.is_name(n.func, "min")):
                if au.names_in(check) & names:
                    return True
            return False
        if up is None or isinstance(up, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            return False
        current = up
    return False
