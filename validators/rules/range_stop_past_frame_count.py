from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class RangeStopPastFrameCountRule(Rule):
    """
    What it does:
        Flags strided index ranges whose stop is a frame count plus something:
        `range(0, n + 1, stride)`, `np.arange(start, len(frames) + 1, s)`.

    Why is this bad?
        A range's stop is already exclusive, so `range(0, n, s)` can reach the last frame `n - 1`.
        With `n + 1` the index `n` is produced whenever `n % s == 0`: one past the last frame, an
        `IndexError` (or a clamped duplicate) for those videos only, which makes it hard to catch.

    Example:
        ```python
        indices = list(range(0, num_frames + 1, stride))
        ```

    Fix:
        Use the frame count itself as the exclusive stop.
        ```python
        indices = list(range(0, num_frames, stride))
        ```

    Known problems:
        The stop counts frames only by name: a call such as `len(frames)`, or a name with
        `frame` in it or one of `n`, `t`, `num`, `length`, `total`. Other counts are missed, and
        a frame-named value that is not a count of indexable frames (a last index already) is
        reported.
    """

    ID = "TK102"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = (
        "strided range stops at num_frames + 1: index num_frames (one past the last frame) is produced "
        "whenever num_frames is a multiple of the stride"
    )
    FIX = "use the exclusive stop num_frames: range(0, num_frames, stride)"
    TRIGGERS = ("range(", "arange(")

    VALID = [
        Valid(
            """
            for i in range(0, num_frames, stride):
                clip.append(frames[i])
            """
        ),
        Valid(
            """
            for rank in range(1, num_frames + 1):
                print(rank)
            """
        ),
        Valid(
            """
            import numpy as np
            idx = np.arange(start, start + clip_len * stride, stride)
            """
        ),
        Valid(
            """
            steps = range(0, batch_count + 1, 10)
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            def sample(frames, stride):
                n = len(frames)
                return [frames[i] for i in range(0, n + 1, stride)]
            """,
            expected_line=4,
        ),
        Invalid(
            """
            import numpy as np
            idx = np.arange(0, len(video) + 1, 4)
            """
        ),
        Invalid(
            """
            import torch
            idx = torch.arange(offset, self.num_frames + 1, self.stride)
            """
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        names = au.call_names(self, node)
        if not (names & au.ARANGE or "range" in names or "builtins.range" in names):
            return
        if len(au.positional_args(node)) < 3:
            return
        stop = au.positional_args(node)[1]
        if not au.is_plus_int(stop) or not self._counts_frames(stop.left):
            return
        self.report(
            stop,
            f"range stop `{au.code(stop)}` passes the frame count: index {au.code(stop.left)} (one past the last "
            "frame) is produced whenever it is a multiple of the stride",
            fix=f"use the exclusive stop `{au.code(stop.left)}`",
        )

    @staticmethod
    def _counts_frames(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Call):
            return au.looks_like_frame_count(node)
        ident = (au.last_identifier(node) or "").lower()
        return au.looks_like_frame_count(node) and ("frame" in ident or ident in {"n", "t", "num", "length", "total"})
