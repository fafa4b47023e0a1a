from __future__ import annotations

import libcst as cst
from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class ReversedLinspaceRule(Rule):
    """
    What it does:
        Flags `np.linspace(n - 1, 0, T)` / `torch.linspace(last, 0, T)`: frame positions that run
        from the end of the video to its start.

    Why is this bad?
        The clip plays backwards. Unless time reversal is a deliberate augmentation, the model is
        trained on reversed motion ("opening a door" becomes "closing a door"), and the mistake
        is invisible in per-frame checks.

    Example:
        ```python
        indices = np.linspace(num_frames - 1, 0, T).astype(int)
        ```

    Fix:
        Run from the first frame to the last (reverse explicitly, with a comment, if intended).
        ```python
        indices = np.linspace(0, num_frames - 1, T).astype(int)
        ```
    """

    ID = "TK143"
    CATEGORY = "temporal-order"
    SEVERITY = "warning"
    MESSAGE = "linspace runs from a later frame down to 0: the sampled clip is in reverse temporal order"
    FIX = "sample from 0 up to n - 1; reverse explicitly only as a deliberate augmentation"
    TRIGGERS = ("linspace",)

    VALID = [
        Valid(
            """
            import numpy as np
            idx = np.linspace(0, n - 1, T).astype(int)
            """
        ),
        Valid(
            """
            import numpy as np
            lr = np.linspace(1.0, 0.0, steps)
            """
        ),
        Valid(
            """
            import torch
            idx = torch.linspace(start, end, T).long()
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import numpy as np

            def sample(n, T):
                return np.linspace(n - 1, 0, T).astype(int)
            """,
            expected_line=5,
        ),
        Invalid(
            """
            import torch
            idx = torch.linspace(len(frames) - 1, 0, steps=16).long()
            """
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not au.calls(self, node, au.LINSPACE):
            return
        start = au.argument(node, 0, "start")
        stop = au.argument(node, 1, "end") or au.argument(node, 1, "stop")
        if start is None or au.int_value(stop) != 0:
            return
        if au.int_value(start) is not None or isinstance(start, cst.Float):
            return
        self.report(node)
