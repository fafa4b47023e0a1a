from __future__ import annotations

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class FloatStepArangeRule(Rule):
    """
    What it does:
        Flags `np.arange(0, n, n / T)` / `torch.arange(0, n, n / T)`: a float step meant to give
        T indices.

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
    """

    ID = "TK151"
    CATEGORY = "clip-length"
    SEVERITY = "error"
    MESSAGE = (
        "arange with the float step n / T: floating-point rounding makes it return T or T + 1 indices "
        "depending on n"
    )
    FIX = "use (np.arange(T) * n / T).astype(int) or np.linspace(0, n, T, endpoint=False).astype(int)"
    TRIGGERS = ("arange",)

    VALID = [
        Valid("import numpy as np\nidx = (np.arange(T) * n / T).astype(int)\n"),
        Valid("import numpy as np\nidx = np.linspace(0, n, T, endpoint=False).astype(int)\n"),
        Valid("import numpy as np\nts = np.arange(0, duration, 1 / fps)\n"),
        Valid("import torch\nidx = torch.arange(0, n, n // T)[:T]\n"),
        # an integer dtype truncates the step (TK121 reports the lost tail)
        Valid("import numpy as np\nidx = np.arange(0, n, n / T, dtype=int)\n"),
        # an int(...) step is no float step
        Valid("import numpy as np\nidx = np.arange(0, n, int(n / T))[:T]\n"),
    ]
    INVALID = [
        Invalid("import numpy as np\n\ndef sample(n, T):\n    return np.arange(0, n, n / T).astype(int)\n", expected_line=4),
        Invalid("import torch\nstep = len(frames) / num_segments\nidx = torch.arange(0, len(frames), step).long()\n"),
        Invalid("from numpy import arange\nidx = arange(0, self.num_frames, step=self.num_frames / self.T).astype(int)\n"),
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
        if au.has_integer_dtype(node):
            return  # the step is truncated to an int first: TK121's tail drop, not a float-length question
        self.report(node)
