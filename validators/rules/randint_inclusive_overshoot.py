from __future__ import annotations

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class RandintInclusiveOvershootRule(Rule):
    """
    What it does:
        Flags Python's `random.randint(a, b)` used with an exclusive-style upper bound:
        `random.randint(0, n - T + 1)` or `random.randint(0, len(frames))`.

    Why is this bad?
        Unlike numpy's `randint`/`Generator.integers` and `torch.randint`, Python's
        `random.randint` includes `b`. A window start of `n - T + 1` makes the clip run one frame
        past the end; an index of `len(frames)` is out of range. It fails only for the draws that
        hit the top value, so tests pass by luck.

    Example:
        ```python
        start = random.randint(0, num_frames - clip_len + 1)   # can be num_frames - clip_len + 1
        ```

    Fix:
        Use the inclusive bound (autofix), or `random.randrange(n - T + 1)`.
        ```python
        start = random.randint(0, num_frames - clip_len)
        ```
    """

    ID = "TK103"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = (
        "random.randint includes its upper bound: an exclusive-style bound (n - T + 1, len(frames)) lets "
        "the draw land one past the last valid value and index past the end of the video"
    )
    FIX = "use the inclusive bound: random.randint(0, n - T) / random.randint(0, len(frames) - 1)"
    TRIGGERS = ("randint",)

    VALID = [
        Valid("import random\nstart = random.randint(0, num_frames - clip_len)\n"),
        Valid("import random\ni = random.randint(0, len(frames) - 1)\n"),
        Valid("import numpy as np\nstart = np.random.randint(0, num_frames - clip_len + 1)\n"),
        Valid("import torch\nstart = torch.randint(0, n - t + 1, (1,)).item()\n"),
        Valid("import random\nstride = random.randint(1, max_stride + 1)\n"),
    ]
    INVALID = [
        Invalid(
            "import random\n\ndef window(n, T):\n    start = random.randint(0, n - T + 1)  # random start\n    return range(start, start + T)\n",
            expected_fix="import random\n\ndef window(n, T):\n    start = random.randint(0, n - T)  # random start\n    return range(start, start + T)\n",
            expected_line=4,
        ),
        Invalid(
            "from random import randint\nidx = randint(0, len(frames))\n",
            expected_fix="from random import randint\nidx = randint(0, len(frames) - 1)\n",
        ),
        Invalid(
            "import random as rnd\nstart = rnd.randint(0, self.num_frames - self.clip_len + 1)\n",
            expected_fix="import random as rnd\nstart = rnd.randint(0, self.num_frames - self.clip_len)\n",
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not au.calls(self, node, au.INCLUSIVE_RANDINT):
            return
        high = au.argument(node, 1, "b")
        if high is None:
            return
        if au.is_plus_int(high, 1) and (au.is_subtraction(high.left) or au.looks_like_frame_count(high.left)):
            inclusive = high.left
            self.report(
                high,
                f"random.randint includes its upper bound `{au.code(high)}`: the draw can be one past the last "
                "valid value and the clip runs off the end of the video",
                fix=f"use the inclusive bound: random.randint(..., {au.code(inclusive)})",
                replacement=inclusive,
            )
        elif au.int_value(au.argument(node, 0, "a")) == 0 and m_len(high):
            self.report(
                high,
                f"random.randint includes its upper bound `{au.code(high)}`: index {au.code(high)} is one past the "
                "last frame",
                fix=f"use the last index: random.randint(0, {au.code(au.minus_one(high))})",
                replacement=au.minus_one(high),
            )


def m_len(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len"
