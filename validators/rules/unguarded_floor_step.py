from __future__ import annotations

import libcst as cst

from temporalkit.validators import astutil as au
from temporalkit.validators.rule import Invalid, Rule, Valid

_STEP_SINKS = ("range", "arange", "randrange", "randint", "integers")


class UnguardedFloorStepRule(Rule):
    """
    What it does:
        Flags `n // T` used as a stride, segment length or random-offset bound, in a function that
        neither compares `n` with `T` nor clamps the result (`max(1, n // T)`).

    Why is this bad?
        For a video shorter than the clip, `n // T == 0`: `range(0, n, 0)` raises `ValueError`,
        `frames[::0]` raises, `random.randrange(0)` raises, and `i * seg` gives T copies of frame 0.
        Short videos are exactly the ones a dataset forgets about.

    Example:
        ```python
        seg = num_frames // T
        indices = [i * seg + random.randrange(seg) for i in range(T)]
        ```

    Fix:
        Clamp the step, or handle `n < T` before dividing.
        ```python
        seg = max(1, num_frames // T)
        ```
    """

    ID = "TK111"
    CATEGORY = "short-clip"
    SEVERITY = "error"
    MESSAGE = (
        "n // T used as a step or segment length with no guard: it is 0 when num_frames < T (zero step "
        "raises, or every index collapses to frame 0)"
    )
    FIX = "clamp with max(1, n // T) or handle num_frames < T first"
    TRIGGERS = ("//",)

    VALID = [
        Valid("def f(n, T):\n    step = max(1, n // T)\n    return list(range(0, n, step))[:T]\n"),
        Valid(
            "def f(n, T):\n    if n < T:\n        return list(range(n)) + [n - 1] * (T - n)\n"
            "    step = n // T\n    return [i * step for i in range(T)]\n"
        ),
        Valid("def f(frames):\n    half = len(frames) // 2\n    return frames[half]\n"),
        Valid("def f(n, T):\n    step = n // T or 1\n    return list(range(0, n, step))\n"),
        Valid("def f(hwa, hw, levels):\n    a = hwa // hw\n    return [x * a for x in levels]\n"),
    ]
    INVALID = [
        Invalid(
            "import random\n\ndef tsn(num_frames, T):\n    seg = num_frames // T\n"
            "    return [i * seg + random.randrange(seg) for i in range(T)]\n",
            expected_line=4,
        ),
        Invalid("def f(frames, T):\n    return frames[:: len(frames) // T][:T]\n", expected_line=2),
        Invalid("import numpy as np\n\ndef f(n, T):\n    return np.arange(0, n, n // T)[:T]\n"),
    ]

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, cst.FloorDivide) or au.int_value(node.right) is not None:
            return
        up = au.parent(self, node)
        if isinstance(up, cst.BooleanOperation):
            return
        if isinstance(up, cst.Arg) and au.is_call_to(au.parent(self, up), "max"):
            return
        scope = au.enclosing_scope_node(self, node)
        if not self._used_as_step(node, up, scope):
            return
        if au.has_guard(scope, au.operand_names(node.left), au.operand_names(node.right)):
            return
        self.report(node)

    def _used_as_step(self, node: cst.BinaryOperation, up: cst.CSTNode | None, scope: cst.CSTNode) -> bool:
        if isinstance(up, cst.Slice) and up.step is node:
            return True
        if isinstance(up, cst.Arg):
            call = au.parent(self, up)
            return isinstance(call, cst.Call) and self._is_step_arg(call, up)
        if isinstance(up, cst.Assign) and len(up.targets) == 1 and isinstance(up.targets[0].target, cst.Name):
            name = up.targets[0].target.value
            for call in au.find_all(scope, cst.Call):
                for arg in call.args:
                    if au.is_name(arg.value, name) and self._is_step_arg(call, arg):
                        return True
            if au.find_all(scope, cst.Slice, lambda s: au.is_name(s.step, name)):
                return True
            return self._scales_loop_counter(scope, name)
        return False

    @staticmethod
    def _scales_loop_counter(scope: cst.CSTNode, name: str) -> bool:
        """`i * seg` where `i` counts segments: `for i in range(...)` / `[... for i in range(T)]`."""
        def product(node: cst.BinaryOperation) -> bool:
            return isinstance(node.operator, cst.Multiply) and (au.is_name(node.left, name) or au.is_name(node.right, name))

        loops = au.find_all(scope, (cst.For, cst.CompFor), lambda loop: au.is_call_to(loop.iter, "range"))
        for loop in loops:
            counter = au.dotted(loop.target)
            if counter is None:
                continue
            body = loop.body if isinstance(loop, cst.For) else None
            searched = body if body is not None else scope
            for mul in au.find_all(searched, cst.BinaryOperation, product):
                if counter in (au.dotted(mul.left), au.dotted(mul.right)):
                    return True
        return False

    @staticmethod
    def _is_step_arg(call: cst.Call, arg: cst.Arg) -> bool:
        name = au.dotted(call.func) or ""
        last = name.rsplit(".", 1)[-1]
        if last not in _STEP_SINKS:
            return False
        if last in ("range", "arange"):
            pos = [a for a in call.args if a.keyword is None]
            return (len(pos) >= 3 and pos[2] is arg) or (arg.keyword is not None and arg.keyword.value == "step")
        return True
