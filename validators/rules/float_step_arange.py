from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class FloatStepArangeRule(Rule):
    """
    What it does:
        Flags `np.arange(0, n, n / T)` / `torch.arange(0, n, n / T)`: a float step meant to give
        T indices. Bin edges are not reported: a stop pushed a small epsilon past the end
        (`np.arange(0, n + 1e-5, n / parts)`, always parts + 1 edges) whose result is only read
        one edge at a time (`edges[i]`, `edges[i + 1]`).

    Why is this bad?
        The length of a float-step `arange` is `ceil((stop - start) / step)` computed in floating
        point, so rounding decides between T and T + 1 elements (`np.arange(0, 1.0, 0.1)` has 10
        elements, `np.arange(0, 0.7, 0.1)` has 8 instead of 7). Some videos then yield a clip one frame
        too long.

    Example:
        ```python
        indices = np.arange(0, num_frames, num_frames / T).astype(int)
        ```

    Fix:
        Build exactly T positions from an integer range.
        ```python
        indices = (np.arange(T) * num_frames / T).astype(int)
        # or: np.linspace(0, num_frames, T, endpoint=False).astype(int)
        ```

    Known problems:
        The step's numerator must be what the stop names, or what it is bound to one plain or
        tuple assignment deep: `start, end = 0, vlen` then `arange(start, end, vlen / T)` is seen. A step
        whose numerator or divisor names something other than frames (`len(pending) / num_workers`;
        `names._NOT_FRAME_WORDS`) is taken for a share of work and not reported.
    """

    ID = "TK151"
    CATEGORY = "clip-length"
    SEVERITY = "error"
    MESSAGE = (
        "arange with the float step n / T: floating-point rounding makes it return T or T + 1 indices depending on n"
    )
    FIX = "use (np.arange(T) * n / T).astype(int) or np.linspace(0, n, T, endpoint=False).astype(int)"
    TRIGGERS = ("arange",)

    VALID = [
        Valid(
            """
            import numpy as np
            idx = (np.arange(T) * n / T).astype(int)
            """
        ),
        Valid(
            """
            import numpy as np
            idx = np.linspace(0, n, T, endpoint=False).astype(int)
            """
        ),
        Valid(
            """
            import numpy as np
            ts = np.arange(0, duration, 1 / fps)
            """
        ),
        Valid(
            """
            import torch
            idx = torch.arange(0, n, n // T)[:T]
            """
        ),
        # an integer dtype truncates the step (TK121 reports the lost tail)
        Valid(
            """
            import numpy as np
            idx = np.arange(0, n, n / T, dtype=int)
            """
        ),
        # an int(...) step is no float step
        Valid(
            """
            import numpy as np
            idx = np.arange(0, n, int(n / T))[:T]
            """
        ),
        # Bin edges: the stop is pushed a small epsilon past n so that n itself is the last edge
        # (always parts + 1 edges), and only edges[i] / edges[i + 1] are read.
        Valid(
            """
            import torch

            def pooled(feat, parts):
                length = feat.size(1)
                edges = torch.arange(0, length + 1e-6, length / parts).long()
                return [feat[:, edges[k]:edges[k + 1]].mean(1) for k in range(parts)]
            """
        ),
        Valid(
            """
            import numpy as np

            def bins(lo, hi, scores, k):
                cuts = np.arange(lo, hi + 1e-4, (hi - lo) / k).astype(int)
                for j in range(k):
                    left = cuts[j]
                    right = cuts[j + 1]
                    yield scores[left:right].max()
            """
        ),
        # Positions of a list shared out to a pool of workers: not frames (`names._NOT_FRAME_WORDS`).
        Valid(
            """
            import numpy as np

            def heads(pending, num_workers):
                return np.arange(0, len(pending), len(pending) / num_workers).astype(int)
            """
        ),
        # The stop through a tuple assignment is not the numerator: nothing says they are the same count.
        Valid(
            """
            import numpy as np

            def ticks(duration, fps, n):
                start, end = 0, duration
                return np.arange(start, end, fps / n)
            """
        ),
        # The float stride belongs to the other branch; this branch's stride is an integer.
        Valid(
            """
            import numpy as np

            def snippet_frames(total, wanted, stride, factor, method):
                if method == "resize":
                    step = total / wanted
                    return np.linspace(0, total - 1, wanted)
                else:
                    step = stride // factor
                    return np.arange(0, total, step)
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import numpy as np

            def sample(n, T):
                return np.arange(0, n, n / T).astype(int)
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import torch
            step = len(frames) / num_segments
            idx = torch.arange(0, len(frames), step).long()
            """
        ),
        Invalid(
            """
            from numpy import arange
            idx = arange(0, self.num_frames, step=self.num_frames / self.T).astype(int)
            """
        ),
        # An epsilon past the end, but the whole array is used as a clip: still T or T + 1 frames.
        Invalid(
            """
            import numpy as np

            def clip(frames, T):
                n = len(frames)
                idx = np.arange(0, n + 1e-6, n / T).astype(int)
                return frames[idx]
            """,
            expected_line=6,
        ),
        # The stop through a tuple assignment: `end` is `vlen`.
        Invalid(
            """
            import numpy as np

            def load(reader, n_frms):
                vlen = len(reader)
                start, end = 0, vlen
                n_frms = min(n_frms, vlen)
                return np.arange(start, end, vlen / n_frms).astype(int).tolist()
            """,
            expected_line=8,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not au.calls(self, node, au.ARANGE):
            return
        found = au.stride_division(self, node, floor=False)
        if found is None:
            return
        division, over = found
        if not au.operand_names(division.left) & over:
            return
        if au.divides_non_frames(division):
            return  # `len(pending) / num_workers`: a share of work, not a clip
        if au.has_integer_dtype(node):
            return  # the step is truncated to an int first: TK121's tail drop, not a float-length question
        if _epsilon_edges(self, node):
            return
        self.report(node)


def _epsilon_edges(rule: Rule, node: cst.Call) -> bool:
    """Bin edges: the stop is `end + eps` (a float literal below 1) and the result is read one edge at a time
    (`edges[i]`, `len(edges)`).

    The epsilon puts `end` itself on the grid on purpose, so the length is always parts + 1, and
    reading only `edges[i]` / `edges[i + 1]` never touches an extra element.
    """
    args = au.positional_args(node)
    if len(args) < 2:
        return False
    stop = args[1]
    if not (isinstance(stop, cst.BinaryOperation) and isinstance(stop.operator, cst.Add)):
        return False
    if not (isinstance(stop.right, cst.Float) and 0 < float(stop.right.value) < 1):
        return False
    return au.read_as_edges(rule, node)
