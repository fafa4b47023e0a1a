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
        # A checking script: the count is read and never used.
        Valid(
            """
            import av

            def check(path):
                container = av.open(path)
                stream = container.streams.video[0]
                num_frames, fps = stream.frames, float(stream.average_rate)
                return container.duration
            """
        ),
        Valid(
            """
            import av

            def read(path):
                with av.open(path) as container:
                    return [f.to_ndarray(format='rgb24') for f in container.decode(video=0)]
            """
        ),
        Valid(
            """
            import av

            def n_frames(container, decoded):
                claimed = container.streams.video[0].frames
                if claimed != len(decoded):
                    return len(decoded)
                return claimed
            """
        ),
        Valid(
            """
            clip = batch.frames
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import av
            import numpy as np

            def indices(path, T):
                container = av.open(path)
                stream = container.streams.video[0]
                return np.linspace(0, stream.frames - 1, T).astype(int)
            """,
            expected_line=8,
        ),
        Invalid(
            """
            import av
            n = av.open(p).streams.video[0].frames
            """
        ),
    ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value != "frames" or not self._is_stream(node.value):
            return
        if _checked_against_decoded(self, node) or _bound_and_never_read(self, node):
            return
        self.report(node)

    def _is_stream(self, node: cst.BaseExpression) -> bool:
        if au.find_all(node, cst.Attribute, _is_streams):
            return True
        if isinstance(node, cst.Name):
            return any(au.find_all(value, cst.Attribute, _is_streams) for value in au.assigned_values(self, node))
        return False


def _bound_and_never_read(rule: Rule, node: cst.Attribute) -> bool:
    """`n = stream.frames` (or `n, fps = stream.frames, rate`) in a function that never reads `n`."""
    value: cst.CSTNode = node
    up = au.parent(rule, node)
    position = None
    if isinstance(up, cst.Element) and isinstance(au.parent(rule, up), cst.Tuple):
        tuple_node = au.parent(rule, up)
        position = [e for e in tuple_node.elements].index(up)
        value, up = tuple_node, au.parent(rule, tuple_node)
    if not (isinstance(up, cst.Assign) and up.value is value and len(up.targets) == 1):
        return False
    target = up.targets[0].target
    if position is not None:
        if not (isinstance(target, cst.Tuple) and len(target.elements) == len(value.elements)):
            return False
        target = target.elements[position].value
    if not isinstance(target, cst.Name):
        return False
    scope = au.enclosing_function(rule, up)  # (a module-level name may be read by another module)
    return scope is not None and not au.find_all(scope, cst.Name, lambda n: n.value == target.value and n is not target)
