from __future__ import annotations

import re

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_CLIP_INDEX = re.compile(r"^(clip|view|temporal|test)_?(idx|index|id)$", re.I)
_CLIP_COUNT = re.compile(
    r"^num_?(clips|views|test_clips|temporal_clips|temporal_views|ensemble_views)(_uniform)?$", re.I
)
_START_SPAN = re.compile(r"^(delta|max_start|max_offset|start_range|offset_range|max_start_idx|span)$", re.I)


class UniformClipStartsMissEndRule(Rule):
    """
    What it does:
        Flags multi-clip test sampling that places clip `i` of `k` at `span * i / k`, where
        `span = n - L` is the last valid start: `start = delta * clip_idx / num_clips`.

    Why is this bad?
        `i` runs from 0 to `k - 1`, so the last clip starts at `span * (k - 1) / k` and the
        final `span / k` frames of the video are never in any test clip: with 300 frames,
        64-frame clips and 3 clips, the starts are 0, 79 and 157, and frames 221-299 are never
        seen. With a single clip the start is 0 (the first frames), not the centre.

    Example:
        ```python
        delta = max(num_frames - clip_size, 0)
        start = delta * clip_idx / num_clips
        ```

    Fix:
        Divide by `k - 1` so that the first clip starts at 0 and the last ends on the last
        frame, and take the centre for a single clip.
        ```python
        start = delta * clip_idx / (num_clips - 1) if num_clips > 1 else delta / 2
        ```

    Known problems:
        Recognised by names: the clip index (`clip_idx`, `view_index`, or a loop variable over
        `range(num_clips)`), the count (`num_clips`, `num_views`, ...) and the span (`n - L`
        written out, or `delta`, `max_start`, `max_offset`). Segment starts over the whole video
        (`i * n / k`, as in TSN test sampling) are not flagged.
    """

    ID = "TK122"
    CATEGORY = "uneven-coverage"
    SEVERITY = "warning"
    MESSAGE = (
        "test-clip starts span * clip_idx / num_clips stop at span * (num_clips - 1) / num_clips: the last clip never "
        "reaches the end of the video, and a single clip starts at frame 0 instead of the centre"
    )
    FIX = "divide by num_clips - 1: span * clip_idx / (num_clips - 1) if num_clips > 1 else span / 2"
    TRIGGERS = ("num_clips", "num_views", "num_test_clips", "num_temporal")

    VALID = [
        Valid(
            """
            def get_start(num_frames, clip_size, clip_idx, num_clips):
                delta = max(num_frames - clip_size, 0)
                if num_clips == 1:
                    return delta / 2
                return delta * clip_idx / (num_clips - 1)
            """
        ),
        # segment starts over the whole video (TSN test sampling): i * n / k is right
        Valid(
            """
            import numpy as np

            def test_offsets(num_frames, num_clips):
                avg = num_frames / num_clips
                return np.arange(num_clips) * avg + avg / 2
            """
        ),
        # centred clips
        Valid(
            """
            start = delta * (clip_idx + 0.5) / num_clips
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            def get_start_end(video_size, clip_size, clip_idx, num_clips):
                delta = max(video_size - clip_size, 0)
                start_idx = delta * clip_idx / num_clips
                return start_idx, start_idx + clip_size - 1
            """,
            expected_line=4,
        ),
        Invalid(
            """
            def starts(num_frames, clip_len, num_views):
                return [int((num_frames - clip_len) * i / num_views) for i in range(num_views)]
            """,
            expected_line=3,
        ),
        Invalid(
            """
            start = max_start * clip_idx // self.num_clips
            """
        ),
    ]

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, (cst.Divide, cst.FloorDivide)):
            return
        count = node.right
        ident = au.last_identifier(count)
        if ident is None or not _CLIP_COUNT.search(ident):
            return
        if not (isinstance(node.left, cst.BinaryOperation) and isinstance(node.left.operator, cst.Multiply)):
            return
        product = node.left
        for index, span in ((product.left, product.right), (product.right, product.left)):
            if self._is_clip_index(node, index, count) and self._is_start_span(span):
                self.report(node)
                return

    def _is_clip_index(self, node: cst.CSTNode, index: cst.BaseExpression, count: cst.BaseExpression) -> bool:
        ident = au.last_identifier(index)
        if ident is not None and _CLIP_INDEX.search(ident):
            return True
        loop = au.loop_count(self, node, index)
        return loop is not None and au.code(loop) == au.code(count)

    def _is_start_span(self, span: cst.BaseExpression, depth: int = 0) -> bool:
        """`n - L`, `max(n - L, 0)`, or a name for it (`delta`, `max_start`, or assigned from one)."""
        if au.is_subtraction(span):
            return au.int_value(span.right) is None  # type: ignore[union-attr]
        if au.is_call_to(span, "max", "int") and depth < 2:
            return any(self._is_start_span(a, depth + 1) for a in au.positional_args(span))  # type: ignore[arg-type]
        ident = au.last_identifier(span)
        if ident is not None and _START_SPAN.search(ident):
            return True
        if isinstance(span, cst.Name) and depth < 2:
            return any(self._is_start_span(v, depth + 1) for v in au.assigned_values(self, span))
        return False
