from __future__ import annotations

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class ExclusiveBoundMissesLastStartRule(Rule):
    """
    What it does:
        Flags a random window start drawn with an exclusive upper bound of `n - T`:
        `np.random.randint(0, n - T)`, `rng.integers(0, n - T)`, `torch.randint(0, n - T, (1,))`,
        `random.randrange(n - T)`.

    Why is this bad?
        These APIs exclude their upper bound, so the last valid start `n - T` (the window that
        ends on the last frame) is never drawn and the final frame is never seen in training.
        When `n == T` the range is empty and the call raises `ValueError` (numpy, `randrange`) or
        `RuntimeError` (torch): exactly-T-frame videos crash.

    Example:
        ```python
        start = rng.integers(0, num_frames - clip_len)
        ```

    Fix:
        Add one to the exclusive bound (autofix).
        ```python
        start = rng.integers(0, num_frames - clip_len + 1)
        ```
    """

    ID = "TK131"
    CATEGORY = "start-range"
    SEVERITY = "error"
    MESSAGE = (
        "exclusive upper bound n - T: the last valid start n - T is never drawn (the last frame is never "
        "sampled) and the call raises when num_frames == T"
    )
    FIX = "use the exclusive bound n - T + 1"
    TRIGGERS = ("randint", "integers", "randrange")

    VALID = [
        Valid("import numpy as np\nrng = np.random.default_rng(0)\nstart = rng.integers(0, n - T + 1)\n"),
        Valid("import numpy as np\nstart = np.random.default_rng().integers(0, n - T, endpoint=True)\n"),
        Valid("import torch\nstart = int(torch.randint(0, num_frames - clip_len + 1, (1,)))\n"),
        Valid("import random\nstart = random.randint(0, num_frames - clip_len)\n"),
        Valid("import numpy as np\nx = np.random.randint(0, width - 112 + 1)\n"),
    ]
    INVALID = [
        Invalid(
            "import numpy as np\n\nrng = np.random.default_rng(seed)\n\ndef start(n, T):\n    return rng.integers(0, n - T)\n",
            expected_fix="import numpy as np\n\nrng = np.random.default_rng(seed)\n\ndef start(n, T):\n    return rng.integers(0, n - T + 1)\n",
            expected_line=6,
        ),
        Invalid(
            "import torch\nstart = torch.randint(0, len(frames) - self.clip_len, (1,)).item()\n",
            expected_fix="import torch\nstart = torch.randint(0, len(frames) - self.clip_len + 1, (1,)).item()\n",
        ),
        Invalid(
            "from numpy.random import randint\nstart = randint(num_frames - clip_len)\n",
            expected_fix="from numpy.random import randint\nstart = randint(num_frames - clip_len + 1)\n",
        ),
        Invalid(
            "import random\nstart = random.randrange(n - t)  # exclusive\n",
            expected_fix="import random\nstart = random.randrange(n - t + 1)  # exclusive\n",
        ),
        Invalid(
            "import numpy as np\nstart = self.rng.integers(low=0, high=n - T)\n",
            expected_fix="import numpy as np\nstart = self.rng.integers(low=0, high=n - T + 1)\n",
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        bounds = au.random_integer_bounds(self, node)
        if bounds is None:
            return
        _, high, inclusive = bounds
        if inclusive or not au.is_count_minus_length(high):
            return
        text = au.code(high)
        self.report(
            high,
            f"exclusive upper bound `{text}`: the last valid start `{text}` is never drawn (the last frame is "
            f"never sampled) and the call raises when the video has exactly {au.code(high.right)} frames",
            fix=f"use the exclusive bound `{text} + 1`",
            replacement=au.plus_one(high),
        )
