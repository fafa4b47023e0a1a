from __future__ import annotations

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid


class UnguardedWindowStartRule(Rule):
    """
    What it does:
        Flags a random window start `randint(0, n - T)` (any random-integer API) in a function that
        never compares `n` with `T` or clamps the bound with `max(...)`.

    Why is this bad?
        Videos shorter than the clip are common (trimmed datasets, corrupt tails). With `n < T` the
        bound is negative: `random.randint` and numpy raise `ValueError`, `torch.randint` raises
        `RuntimeError`, and a data-loader worker dies mid-epoch on the first short video.

    Example:
        ```python
        def sample(num_frames, T):
            start = random.randint(0, num_frames - T)
            return list(range(start, start + T))
        ```

    Fix:
        Handle short videos first (loop, repeat the last frame, or pad) and draw only when a full
        window exists.
        ```python
        def sample(num_frames, T):
            if num_frames < T:
                return [min(i, num_frames - 1) for i in range(T)]
            start = random.randint(0, num_frames - T)
            return list(range(start, start + T))
        ```
    """

    ID = "TK112"
    CATEGORY = "short-clip"
    SEVERITY = "error"
    MESSAGE = "random window start over n - T with no short-video guard: raises when num_frames < T"
    FIX = "check `if n < T:` first (repeat/loop frames) or clamp with max(0, n - T)"
    TRIGGERS = ("randint", "integers", "randrange")

    VALID = [
        Valid(
            "import random\n\ndef sample(n, T):\n    if n < T:\n        return [min(i, n - 1) for i in range(T)]\n"
            "    start = random.randint(0, n - T)\n    return list(range(start, start + T))\n"
        ),
        Valid("import random\n\ndef sample(n, T):\n    start = random.randint(0, max(0, n - T))\n    return start\n"),
        Valid(
            "import numpy as np\n\nclass S:\n    def __call__(self, frames):\n        assert len(frames) >= self.T\n"
            "        return self.rng.integers(0, len(frames) - self.T + 1)\n"
        ),
        Valid("import random\n\ndef crop(w):\n    return random.randint(0, w - 112)\n"),
    ]
    INVALID = [
        Invalid(
            "import random\n\ndef sample(num_frames, T):\n    start = random.randint(0, num_frames - T)\n    return list(range(start, start + T))\n",
            expected_line=4,
        ),
        Invalid(
            "import torch\n\nclass RandomClip:\n    def __call__(self, video):\n"
            "        start = torch.randint(0, len(video) - self.clip_len + 1, (1,)).item()\n"
            "        return video[start:start + self.clip_len]\n",
            expected_line=5,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        bounds = au.random_integer_bounds(self, node)
        if bounds is None:
            return
        span = au.window_start_span(bounds[1], bounds[2])
        if span is None:
            return
        scope = au.enclosing_scope_node(self, node)
        count, length = au.operand_names(span.left), au.operand_names(span.right)
        if au.has_guard(scope, count, length):
            return
        self.report(
            node,
            f"random window start over `{au.code(span)}` with no check that {au.code(span.left)} >= "
            f"{au.code(span.right)}: the call raises on videos shorter than the clip",
            fix=f"handle `{au.code(span.left)} < {au.code(span.right)}` first (repeat/loop frames) or clamp with "
            f"max(0, {au.code(span)})",
        )
