from __future__ import annotations

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class InclusiveBoundMissesLastStartRule(Rule):
    """
    What it does:
        Flags Python's inclusive `random.randint(0, n - T - 1)` (and `integers(..., endpoint=True)`)
        used for a window start.

    Why is this bad?
        `random.randint` already includes its upper bound; subtracting one more excludes the last
        valid start `n - T`, so the window that ends on the last frame is never drawn, and when
        `n == T` the range is empty (`ValueError: empty range`).

    Example:
        ```python
        start = random.randint(0, num_frames - clip_len - 1)
        ```

    Fix:
        Use `n - T` as the inclusive bound (autofix).
        ```python
        start = random.randint(0, num_frames - clip_len)
        ```
    """

    ID = "TK132"
    CATEGORY = "start-range"
    SEVERITY = "error"
    MESSAGE = (
        "inclusive upper bound n - T - 1: the last valid start n - T is never drawn and the call raises "
        "when num_frames == T"
    )
    FIX = "use the inclusive bound n - T"
    TRIGGERS = ("randint", "endpoint")

    VALID = [
        Valid("import random\nstart = random.randint(0, num_frames - clip_len)\n"),
        Valid("import random\ni = random.randint(0, len(frames) - 1)\n"),
        Valid("import numpy as np\nstart = np.random.randint(0, n - T - 1 + 2)\n"),
        Valid("import numpy as np\nstart = np.random.default_rng(0).integers(0, n - T, endpoint=True)\n"),
    ]
    INVALID = [
        Invalid(
            "import random\n\ndef start(n, T):\n    return random.randint(0, n - T - 1)\n",
            expected_fix="import random\n\ndef start(n, T):\n    return random.randint(0, n - T)\n",
            expected_line=4,
        ),
        Invalid(
            "import numpy as np\nrng = np.random.default_rng()\ns = rng.integers(0, len(v) - self.T - 1, endpoint=True)\n",
            expected_fix="import numpy as np\nrng = np.random.default_rng()\ns = rng.integers(0, len(v) - self.T, endpoint=True)\n",
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        bounds = au.random_integer_bounds(self, node)
        if bounds is None:
            return
        _, high, inclusive = bounds
        if not inclusive or not au.is_minus_int(high, 1) or not au.is_count_minus_length(high.left):
            return
        span = high.left
        self.report(
            high,
            f"inclusive upper bound `{au.code(high)}`: the last valid start `{au.code(span)}` is never drawn and "
            f"the call raises when the video has exactly {au.code(span.right)} frames",
            fix=f"use the inclusive bound `{au.code(span)}`",
            replacement=span,
        )
