from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid
from temporalkit.validators.rules.opencv_frame_count import _checked_against_decoded


def _is_streams(node: cst.Attribute) -> bool:
    return node.attr.value == "streams"


class PyAVStreamFramesRule(Rule):
    """
    What it does:
        Flags PyAV's `stream.frames` (`container.streams.video[0].frames`) used as the number of
        frames without checking it against the frames actually decoded.

    Why is this bad?
        `stream.frames` is whatever the container header claims: 0 for many mkv/webm files and
        for streams muxed without a frame count, and off by a few frames after edits or
        truncation. A sampler that trusts it divides by zero, samples nothing, or produces
        indices past the last decoded frame.

    Example:
        ```python
        stream = container.streams.video[0]
        indices = np.linspace(0, stream.frames - 1, T).astype(int)
        ```

    Fix:
        Decode and count (`frames = list(container.decode(video=0))`), or fall back when the
        header says 0 and clamp indices to what was decoded.
        ```python
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        indices = np.linspace(0, len(frames) - 1, T).astype(int)
        ```
    """

    ID = "TK162"
    CATEGORY = "frame-count-metadata"
    SEVERITY = "warning"
    MESSAGE = (
        "stream.frames is the container header's claim (0 for many mkv/webm files, off after truncation): "
        "sampling from it can divide by zero or index past the decoded frames"
    )
    FIX = "count decoded frames (len(list(container.decode(video=0)))) or check stream.frames against them"
    TRIGGERS = (".frames",)

    VALID = [
        Valid(
            "import av\n\ndef read(path):\n    with av.open(path) as container:\n"
            "        return [f.to_ndarray(format='rgb24') for f in container.decode(video=0)]\n"
        ),
        Valid(
            "import av\n\ndef n_frames(container, decoded):\n    claimed = container.streams.video[0].frames\n"
            "    if claimed != len(decoded):\n        return len(decoded)\n    return claimed\n"
        ),
        Valid("clip = batch.frames\n"),
    ]
    INVALID = [
        Invalid(
            "import av\nimport numpy as np\n\ndef indices(path, T):\n    container = av.open(path)\n"
            "    stream = container.streams.video[0]\n    return np.linspace(0, stream.frames - 1, T).astype(int)\n",
            expected_line=7,
        ),
        Invalid("import av\nn = av.open(p).streams.video[0].frames\n"),
    ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value != "frames" or not self._is_stream(node.value):
            return
        if _checked_against_decoded(self, node):
            return
        self.report(node)

    def _is_stream(self, node: cst.BaseExpression) -> bool:
        if au.find_all(node, cst.Attribute, _is_streams):
            return True
        if isinstance(node, cst.Name):
            return any(au.find_all(value, cst.Attribute, _is_streams) for value in au.assigned_values(self, node))
        return False
