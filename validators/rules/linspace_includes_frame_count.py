from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_INT_METHODS = {"long", "int"}
_CONVERT_METHODS = {"astype", "to", "type"}
_CLAMPS = {"clip", "clamp", "clamp_", "minimum", "numpy.clip", "numpy.minimum", "torch.clamp", "torch.clip", "min"}


class LinspaceIncludesFrameCountRule(Rule):
    """
    What it does:
        Flags `np.linspace(0, n, T)` / `torch.linspace(0, n, T)` turned into integer frame
        indices when `n` is a frame count rather than the last index.

    Why is this bad?
        `linspace` includes its stop value, so the last index is `n` itself: one past the last
        frame. Indexing a decoded clip with it raises `IndexError` (or, with clamping decoders,
        silently repeats the last frame) for every video and every `T >= 2`.

    Example:
        ```python
        indices = np.linspace(0, num_frames, 16).astype(int)   # last index == num_frames
        ```

    Fix:
        Use the last valid index as the stop (autofix), or pass `endpoint=False`.
        ```python
        indices = np.linspace(0, num_frames - 1, 16).astype(int)
        ```

    Known problems:
        Whether the stop is a frame count is read from its name (`len(...)`, `num_frames`,
        `total`, `n`, `t`, `..._len`, `size`); names that read like a last index (`last`,
        `end_idx`, `max_index`) are taken for indices. A count with an unusual name is missed, and
        a last index named like a count (`n = len(frames) - 1`) is reported. Clamping that happens
        later, under another name, is not seen. `k + 1` points bound to a name that is read only
        as `edges[i]`, `edges[i + 1]` pairs (and `len(edges)`) are taken for the boundaries of k
        half-open ranges and not reported, even if a pair is then used as inclusive bounds.
    """

    ID = "TK101"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = (
        "linspace stop is a frame count, not the last index: the last sampled index equals num_frames "
        "and is out of range for every video (IndexError on frames[num_frames])"
    )
    FIX = "stop at the last valid index: linspace(0, num_frames - 1, T) (or endpoint=False)"
    TRIGGERS = ("linspace",)

    VALID = [
        Valid(
            """
            import numpy as np
            idx = np.linspace(0, num_frames - 1, 16).astype(int)
            """
        ),
        Valid(
            """
            import torch
            idx = torch.linspace(0, len(frames) - 1, steps=8).round().long()
            """
        ),
        Valid(
            """
            import numpy as np
            idx = np.linspace(0, num_frames, 16, endpoint=False).astype(np.int64)
            """
        ),
        Valid(
            """
            import numpy as np
            weights = np.linspace(0, num_frames, 16)  # float ramp, not indices
            """
        ),
        Valid(
            """
            import numpy as np
            idx = np.clip(np.linspace(0, n, T).astype(int), 0, n - 1)
            """
        ),
        Valid(
            """
            import numpy as np
            idx = np.linspace(0, last_index, 16).astype(int)
            """
        ),
        # k + 1 boundaries of k half-open ranges of a file list, one range per thread: n ends the last range.
        Valid(
            """
            import numpy as np

            def thread_ranges(filenames, num_threads):
                spacing = np.linspace(0, len(filenames), num_threads + 1).astype(int)
                ranges = []
                for i in range(len(spacing) - 1):
                    ranges.append([spacing[i], spacing[i + 1]])
                return ranges
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import numpy as np

            def sample(num_frames, T):
                return np.linspace(0, num_frames, T).astype(int)  # uniform
            """,
            expected_fix="""
            import numpy as np

            def sample(num_frames, T):
                return np.linspace(0, num_frames - 1, T).astype(int)  # uniform
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import torch

            def sample(frames, t, k):
                idx = torch.linspace(0, t, k).long()
                return frames[idx]
            """,
            expected_fix="""
            import torch

            def sample(frames, t, k):
                idx = torch.linspace(0, t - 1, k).long()
                return frames[idx]
            """,
        ),
        Invalid(
            """
            from numpy import linspace
            idx = linspace(0, len(video), 8, dtype=int)
            """,
            expected_fix="""
            from numpy import linspace
            idx = linspace(0, len(video) - 1, 8, dtype=int)
            """,
        ),
        Invalid(
            """
            import numpy as np
            idx = np.round(np.linspace(0, self.total_frames, self.clip_len)).astype('int64')
            """,
            expected_fix="""
            import numpy as np
            idx = np.round(np.linspace(0, self.total_frames - 1, self.clip_len)).astype('int64')
            """,
        ),
        # k + 1 points, but each one is read as a frame index: the last one is n.
        Invalid(
            """
            import numpy as np

            def sample(frames, k):
                idx = np.linspace(0, len(frames), k + 1).astype(int)
                return [frames[idx[i]] for i in range(k + 1)]
            """,
            expected_fix="""
            import numpy as np

            def sample(frames, k):
                idx = np.linspace(0, len(frames) - 1, k + 1).astype(int)
                return [frames[idx[i]] for i in range(k + 1)]
            """,
            expected_line=5,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not au.calls(self, node, au.LINSPACE):
            return
        stop = au.argument(node, 1, "end") or au.argument(node, 1, "stop")
        if stop is None or not au.looks_like_frame_count(stop):
            return
        endpoint = au.keyword_arg(node, "endpoint")
        if endpoint is not None and au.code(endpoint.value) == "False":
            return
        if not self._becomes_integer_indices(node):
            return
        if _range_boundaries(self, node):
            return
        text = au.code(stop)
        self.report(
            stop,
            f"linspace stop `{text}` is a frame count, not the last index: the last sampled index equals "
            f"`{text}` and is out of range for every video (IndexError on frames[{text}])",
            fix=f"stop at the last valid index: linspace(0, {au.code(au.minus_one(stop))}, T) (or endpoint=False)",
            replacement=au.minus_one(stop),
        )

    def _becomes_integer_indices(self, call: cst.Call) -> bool:
        dtype = au.keyword_arg(call, "dtype")
        if dtype is not None and any(w in au.code(dtype.value) for w in ("int", "long")):
            return True
        current: cst.CSTNode = call
        converted = False
        for _ in range(8):
            up = au.parent(self, current)
            if isinstance(up, cst.Attribute) and up.value is current:
                method = up.attr.value
                if method in _CLAMPS:
                    return False
                call_up = au.parent(self, up)
                if method in _INT_METHODS:
                    converted = True
                elif method in _CONVERT_METHODS and isinstance(call_up, cst.Call):
                    converted |= any(w in au.code(a.value) for a in call_up.args for w in ("int", "long"))
                current = call_up if isinstance(call_up, cst.Call) else up
            elif isinstance(up, cst.Arg):
                outer = au.parent(self, up)
                if not isinstance(outer, cst.Call):
                    break
                names = au.call_names(self, outer)
                if names & _CLAMPS:
                    return False
                if names & {"int", "numpy.int64", "numpy.int32", "torch.tensor", "torch.as_tensor"} and any(
                    w in au.code(outer) for w in ("int", "long")
                ):
                    converted = True
                current = outer
            else:
                break
        return converted


def _range_boundaries(rule: Rule, call: cst.Call) -> bool:
    """`edges = np.linspace(0, n, k + 1).astype(int)` read as `edges[i]`, `edges[i + 1]`: the k + 1 boundaries
    of k half-open ranges `[edges[i], edges[i + 1])` over n items (work shared out to k threads). Ending at
    n is right there: n is the end of the last range, never an index that is read."""
    num = au.argument(call, 2, "num") or au.argument(call, 2, "steps")
    return num is not None and au.is_plus_int(num, 1) and au.read_as_edges(rule, call, pairs=True)
