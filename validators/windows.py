"""Windows and strides over a frame count: the `n - T` behind a random start, the step behind a stride.

`window_bound` reads a random-integer draw's upper bound as `count - length + offset`, written in
the call or through names (`rand_end = max(0, n - T - 1)`), and `bound_convention_error` says which
off-by-one it has for its API (TK103, TK112, TK131, TK132 share them, so the four agree on one
finding per call). `stride_parts` / `stride_division` / `resolve_division` find the `n // T` or
`n / T` behind the step of a `range`, `arange` or slice (TK111, TK121, TK151, TK152);
`loop_count` and `is_truncated` say what bounds such positions; `per_axis_division` tells an image's
sides divided axis by axis by a grid shape (a spatial cell size) from a frame step (TK111, TK152);
`chunked_list` tells the starts of a list's chunks `x[i:i + step]` (TK152), and `read_as_edges` the
boundaries `edges[i]`, `edges[i + 1]` of half-open ranges (TK101, TK151), from positions read as frames.
Only libcst is imported.
"""

from __future__ import annotations

from typing import Any

import libcst as cst
from temporalkit.validators.apis import is_range_call, random_integer_bounds
from temporalkit.validators.names import looks_like_frame_count, spatial_axis
from temporalkit.validators.rule import Rule
from temporalkit.validators.syntax import (
    ancestors,
    assigned_values,
    bound_name,
    code,
    dotted,
    enclosing_scope_node,
    find_all,
    has_guard,
    int_value,
    is_call_to,
    is_count_minus_length,
    is_floor_division,
    is_minus_int,
    is_name,
    is_plus_int,
    is_simple_operand,
    is_subtraction,
    is_true_division,
    keyword_arg,
    local_assigned_values,
    operand_names,
    parent,
    positional_args,
    with_aliases,
)

# -- random window bounds -----------------------------------------------------------------------


def window_start_span(high: cst.BaseExpression, inclusive: bool) -> cst.BinaryOperation | None:
    """The `n - T` inside a window-start bound (`n - T`, `n - T + 1`, `n - T - 1`), else None."""
    if is_count_minus_length(high):
        return high  # type: ignore[return-value]
    if (is_plus_int(high, 1) or is_minus_int(high, 1)) and is_count_minus_length(high.left):  # type: ignore[union-attr]
        return high.left  # type: ignore[union-attr,return-value]
    return None


def _linear(rule: Rule, expr: cst.BaseExpression, sign: int, out: dict[str, Any], depth: int) -> None:
    """Flatten `expr` into signed terms and an integer constant (see `window_bound`)."""
    value = int_value(expr)
    if value is not None:
        out["constant"] += sign * value
        if sign * value <= -2:
            out["margins"].append(-sign * value)  # `n - L - 64`: a literal part of the window's length
        return
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Subtract)):
        _linear(rule, expr.left, sign, out, depth)
        _linear(rule, expr.right, sign if isinstance(expr.operator, cst.Add) else -sign, out, depth)
        return
    if isinstance(expr, cst.Call):
        args = positional_args(expr)
        if is_name(expr.func, "int") and len(args) == 1 and len(expr.args) == 1:
            _linear(rule, args[0], sign, out, depth)
            return
        if is_name(expr.func, "max") and len(args) == 2 and len(expr.args) == 2 and sign > 0:
            literal = [a for a in args if int_value(a) is not None]
            if len(literal) == 1 and int_value(literal[0]) in (0, 1):
                out["clamped"] = True
                _linear(rule, args[0] if args[1] is literal[0] else args[1], sign, out, depth)
                return
    if isinstance(expr, cst.Name) and 0 < depth < 3:
        values = local_assigned_values(rule, expr)
        if len({code(v) for v in values}) == 1:
            values = values[:1]  # the same definition repeated in several branches
        if len(values) == 1 and (
            isinstance(values[0], cst.BinaryOperation)
            and isinstance(values[0].operator, (cst.Add, cst.Subtract))
            or is_call_to(values[0], "max")
        ):
            out["through"].append(expr)
            _linear(rule, values[0], sign, out, depth + 1)
            return
    out["terms"].append((sign, expr))


def _plus(length: cst.BaseExpression, margin: int) -> cst.BaseExpression:
    """`(L + 64)`: a window length with a literal part."""
    if not is_simple_operand(length):
        return length
    return cst.BinaryOperation(
        left=length, operator=cst.Add(), right=cst.Integer(str(margin)), lpar=[cst.LeftParen()], rpar=[cst.RightParen()]
    )


class WindowBound:
    """A random draw whose upper bound is `count - length + offset` (written inline or through names).

    `inclusive` is the API's convention; `offset` is the integer added to `count - length`
    (1 for `n - T + 1`, -1 for `max(0, n - T - 1)`); `through` lists the names the bound was
    read through (empty: written in the call); `clamped` is True when a `max(0, ...)` /
    `max(1, ...)` keeps it non-negative; `strided` is True when the length is a product of names
    (`n - T * ds`: T frames every ds, a window of (T - 1) * ds + 1 frames).
    """

    __slots__ = ("call", "low", "high", "inclusive", "count", "length", "offset", "through", "clamped", "strided")

    def __init__(self, **kwargs: Any) -> None:
        for key, value in kwargs.items():
            setattr(self, key, value)

    @property
    def inline(self) -> bool:
        return not self.through

    @property
    def span_text(self) -> str:
        return f"{code(self.count)} - {code(self.length)}"

    @property
    def set_at(self) -> str:
        """` where `rand_end` is set` for a bound read through a name (where a fix belongs), else ""."""
        return f" where `{code(self.through[0])}` is set" if self.through else ""


def window_bound(rule: Rule, call: cst.Call) -> WindowBound | None:
    """The `n - T` window behind a random-integer draw's upper bound, or None.

    Reads `randint(0, n - T)`, `integers(0, n - T + 1)`, `randint(0, rand_end)` with
    `rand_end = max(0, n - T - 1)`, `randint(0, pos - 1)` with `pos = max(1, 1 + n - T)`.
    Symmetric-margin coordinates `randint(m, n - m)` (CutMix/mixup box centres) are not windows:
    None. Computed once per call and file: four rules ask.
    """
    memo: dict[cst.Call, WindowBound | None] = rule.analysis.__dict__.setdefault("_window_bounds", {})
    if call not in memo:
        memo[call] = _window_bound(rule, call)
    return memo[call]


def _window_bound(rule: Rule, call: cst.Call) -> WindowBound | None:
    bounds = random_integer_bounds(rule, call)
    if bounds is None:
        return None
    low, high, inclusive = bounds
    out: dict[str, Any] = {"constant": 0, "terms": [], "through": [], "clamped": False, "margins": []}
    _linear(rule, high, 1, out, 0)
    if len(out["terms"]) == 1 and isinstance(out["terms"][0][1], cst.Name):
        # `randint(0, last)` / `randint(0, positions - 1)`: read the one name's assignment.
        out = {"constant": 0, "terms": [], "through": [], "clamped": False, "margins": []}
        _linear(rule, high, 1, out, 1)
    terms = out["terms"]
    # A literal in a bound read through a name is part of the window's length, not an off-by-one:
    # `pos = max(1, 1 + n - 64)` is a 64-frame window, `max(1, 1 + n - L - 64)` an (L + 64)-frame one.
    margin = out["margins"][0] if len(out["margins"]) == 1 and out["through"] else 0
    if margin and len(terms) == 1 and terms[0][0] > 0:
        terms = terms + [(-1, cst.Integer(str(margin)))]
    elif margin and len(terms) == 2:
        terms = [(s, _plus(t, margin) if s < 0 else t) for s, t in terms]
    else:
        margin = 0
    interval = _interval_span(rule, call, low, high) if len(terms) == 3 and not out["through"] else None
    if interval is not None:
        count, length = interval
    elif len(terms) != 2 or {s for s, _ in terms} != {1, -1}:
        return None
    else:
        count = next(t for s, t in terms if s > 0)
        length = next(t for s, t in terms if s < 0)
    strided = _is_product_of_names(length)
    simple = interval is not None or is_simple_operand(count) and (margin or strided or is_simple_operand(length))
    if not simple or isinstance(length, cst.Call):
        return None
    if low is not None and int_value(low) != 0:
        low_out: dict[str, Any] = {"constant": 0, "terms": [], "through": [], "clamped": False, "margins": []}
        _linear(rule, low, 1, low_out, 0)
        if any(s > 0 and code(t) == code(length) for s, t in low_out["terms"]):
            return None  # randint(m, n - m): a centre kept m away from both edges
    if out["through"] and not (looks_like_frame_count(count) or spatial_axis(count, length)):
        return None  # `dur = end - start; randint(0, dur)`: a point inside an interval, read through a name
    offset = out["constant"] + margin
    return WindowBound(
        call=call,
        low=low,
        high=high,
        inclusive=inclusive,
        count=count,
        length=length,
        offset=offset,
        through=out["through"],
        clamped=out["clamped"],
        strided=strided,
    )


def _interval_span(
    rule: Rule, call: cst.Call, low: cst.BaseExpression | None, high: cst.BaseExpression
) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    """(`hi - lo`, `L`) for `lo + randint(0, hi - lo - L)`: a window of L placed inside [lo, hi).

    The interval's length `hi - lo` is the frame count; the draw must be added to the same `lo` the
    bound subtracts, so a bound of three names that is not an offset into an interval stays unread.
    """
    if low is not None and int_value(low) != 0:
        return None
    span = high.left if is_plus_int(high, 1) or is_minus_int(high, 1) else high  # type: ignore[union-attr]
    if not is_subtraction(span):
        return None
    count, length = span.left, span.right  # type: ignore[attr-defined]
    if not (
        is_subtraction(count)
        and is_simple_operand(count.left)
        and is_simple_operand(count.right)
        and is_simple_operand(length)
        and not isinstance(length, cst.Call)
    ):
        return None
    up = parent(rule, call)
    if not (isinstance(up, cst.BinaryOperation) and isinstance(up.operator, cst.Add)):
        return None
    other = up.left if up.right is call else up.right
    return (count, length) if code(other) == code(count.right) else None


def _is_product_of_names(node: cst.BaseExpression) -> bool:
    """`T * ds`, `self.num_seq * self.seq_len * self.downsample`: a product of names, no literal."""
    if not (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply)):
        return False
    return all(
        _is_product_of_names(side) or isinstance(side, (cst.Name, cst.Attribute)) for side in (node.left, node.right)
    )


def bound_is_guarded(rule: Rule, bound: WindowBound) -> bool:
    """A `max(0, ...)` clamp on the bound, a length computed from the count, or a comparison of the two."""
    if bound.clamped:
        return True
    count_names = operand_names(bound.count)
    if isinstance(bound.length, cst.Name) and _made_from(rule, bound.length, count_names, depth=3):
        return True  # the length is made from the count (`cut = randint(1, int(h * 0.8))`, `t = randint(1, n)`)
    scope = enclosing_scope_node(rule, bound.call)
    return has_guard(scope, count_names, operand_names(bound.length))


def _made_from(rule: Rule, name: cst.Name, count_names: set[str], depth: int) -> bool:
    """A value assigned to `name` mentions the count, directly or through up to `depth` names
    (`d_total = d * k - d + 1`, `d = randint(1, max_dist)`, `max_dist = n // k`)."""
    for value in local_assigned_values(rule, name):
        if operand_names(value) & count_names:
            return True
        if depth > 1:
            for inner in find_all(value, cst.Name):
                if inner.value != name.value and _made_from(rule, inner, count_names, depth - 1):
                    return True
    return False


def bound_origin(rule: Rule, bound: WindowBound) -> str:
    """`" (rand_end = max(0, n - T - 1))"` for a bound read through a name, "" for one written in the call."""
    if bound.inline:
        return ""
    name = bound.through[0]
    values = local_assigned_values(rule, name)
    single = len({code(v) for v in values}) == 1
    return f" ({code(name)} = {code(values[0])})" if single else f" (through {code(name)})"


def bound_convention_error(bound: WindowBound) -> str | None:
    """Which off-by-one the bound has for its API's convention, or None when `n - T` is the last value drawn.

    "short": exclusive `n - T` or `n - T - 1` (TK131); "short-inclusive": inclusive `n - T - 1`
    (TK132); "overshoot": inclusive `n - T + 1` (TK103). The rule that owns the off-by-one
    reports the call (and says when nothing guards `n < T`), so TK112 stays quiet on it: one
    finding per call.
    """
    if not bound.inclusive and bound.offset in (0, -1):
        return "short"
    if bound.inclusive and bound.offset == -1:
        return "short-inclusive"
    if bound.inclusive and bound.offset == 1 and not bound.strided:
        return "overshoot"  # with a stride ds > 1, `n - T * ds + 1` still fits the (T - 1) * ds + 1 frames
    return None


# -- strided sampling ---------------------------------------------------------------------------


def stride_parts(rule: Rule, node: cst.CSTNode) -> tuple[cst.BaseExpression, set[str]] | None:
    """(step, names of what is strided over) for `range(a, n, step)`, `np.arange(...)`, `seq[a:b:step]`."""
    if isinstance(node, cst.Call) and is_range_call(rule, node):
        pos = positional_args(node)
        step = keyword_arg(node, "step")
        step_value = step.value if step is not None else (pos[2] if len(pos) >= 3 else None)
        if step_value is None or len(pos) < 2:
            return None
        return step_value, operand_names(pos[1])
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Slice):
        piece = node.slice[0].slice
        if piece.step is None:
            return None
        over = operand_names(node.value)
        if piece.upper is not None:
            over |= operand_names(piece.upper)
        return piece.step, over
    return None


def stride_division(rule: Rule, node: cst.CSTNode, floor: bool) -> tuple[cst.BinaryOperation, set[str]] | None:
    """(the `n // T` or `n / T` behind a stride's step, names strided over), or None when the step is no such division.

    The names strided over are the stop's (and the sequence's, for a slice); when none of them is in the
    step's numerator, the names they are bound to one assignment deep count too (`end` for `vlen` after
    `start, end = 0, vlen`), and so does the numerator when it is bound to them (`n` after
    `n = len(frames)` for `frames[:: n // T]`), so the rules can ask whether the step divides the span it
    strides over.
    """
    parts = stride_parts(rule, node)
    if parts is None:
        return None
    step, over = parts
    division = resolve_division(rule, step, floor=floor)
    if division is None:
        return None
    if not operand_names(division.left) & over:  # `start, end = 0, vlen` ... `arange(start, end, vlen / T)`
        scope = enclosing_scope_node(rule, node)
        over = with_aliases(scope, over)
        counted = operand_names(division.left)
        if not counted & over and with_aliases(scope, counted) & over:
            over = over | counted  # `n = len(frames)` ... `frames[:: n // T]`: n counts what is strided over
    return division, over


def resolve_division(rule: Rule, expr: cst.BaseExpression, floor: bool, depth: int = 0) -> cst.BinaryOperation | None:
    """The `n // T` (floor) or `n / T` behind a step: written inline, via `max(1, ...)`, or via a name.

    Names are followed through at most a few assignments: `step = max(step, 1)` refers to itself.
    """
    if depth > 4:
        return None
    check = is_floor_division if floor else is_true_division
    if check(expr):
        return expr  # type: ignore[return-value]
    if floor and is_call_to(expr, "int") and len(expr.args) == 1 and is_true_division(expr.args[0].value):  # type: ignore[union-attr]
        return expr.args[0].value  # type: ignore[union-attr,return-value]  # int(n / T) truncates like n // T
    wrappers = ("max", "int") if floor else ("max",)  # int(n / T) is no float step
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in wrappers:
        for value in positional_args(expr):
            found = resolve_division(rule, value, floor, depth + 1)
            if found is not None:
                return found
    if isinstance(expr, cst.Name):
        for value in assigned_values(rule, expr):
            found = resolve_division(rule, value, floor, depth + 1)
            if found is not None:
                return found
    return None


def loop_count(rule: Rule, node: cst.CSTNode, counter: cst.CSTNode) -> cst.BaseExpression | None:
    """`k` when `counter` runs over 0..k-1 around `node`: `np.arange(k)` (or `np.arange(0, k)`), `range(k)`,
    `list(range(k))`, or a loop / comprehension variable over `range(k)` / `range(0, k)`."""
    if is_call_to(counter, "list", "tuple") and len(counter.args) == 1:  # type: ignore[union-attr]
        counter = counter.args[0].value  # type: ignore[union-attr]
    if isinstance(counter, cst.Call) and is_range_call(rule, counter):
        args = positional_args(counter)
        if len(args) == 2 and len(counter.args) == 2 and int_value(args[0]) == 0:
            return args[1]  # np.arange(0, k)
        return args[0] if len(args) == 1 and len(counter.args) == 1 else None
    if not isinstance(counter, cst.Name):
        return None
    for anc in ancestors(rule, node):
        loops: list[cst.CSTNode] = []
        if isinstance(anc, cst.For):
            loops = [anc]
        elif isinstance(anc, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            loops = list(find_all(anc.for_in, cst.CompFor))
        for loop in loops:
            if is_name(loop.target, counter.value) and is_call_to(loop.iter, "range"):  # type: ignore[attr-defined]
                args = positional_args(loop.iter)  # type: ignore[attr-defined]
                if len(args) == 2 and int_value(args[0]) == 0:
                    return args[1]  # range(0, k)
                return args[0] if len(args) == 1 else None
        if isinstance(anc, cst.FunctionDef):
            break
    return None


def chunked_list(rule: Rule, call: cst.Call) -> cst.BaseExpression | None:
    """`x` when the positions of `range(a, n, step)` start the chunks `x[i:i + step]` of a list: the loop or
    comprehension over the range slices `x` from its counter to the counter plus the same step.

    Every item lands in exactly one chunk, the last one shorter: the number of chunks follows the
    list's length on purpose (work shared out to a pool of tasks, a list walked a batch at a time).
    """
    args = positional_args(call)
    if len(args) < 3:
        return None
    step = code(args[2])
    loop = parent(rule, call)
    if not isinstance(loop, (cst.For, cst.CompFor)) or loop.iter is not call or not isinstance(loop.target, cst.Name):
        return None
    counter = loop.target.value
    comprehensions = (cst.ListComp, cst.GeneratorExp, cst.SetComp, cst.DictComp)
    searched: cst.CSTNode | None = (
        loop.body
        if isinstance(loop, cst.For)
        else next((a for a in ancestors(rule, loop) if isinstance(a, comprehensions)), None)
    )
    if searched is None:
        return None
    for sub in find_all(searched, cst.Subscript):
        if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Slice):
            continue
        piece = sub.slice[0].slice
        upper = piece.upper
        if (
            is_name(piece.lower, counter)
            and isinstance(upper, cst.BinaryOperation)
            and isinstance(upper.operator, cst.Add)
            and {code(upper.left), code(upper.right)} == {counter, step}
        ):
            return sub.value
    return None


def read_as_edges(rule: Rule, call: cst.Call, pairs: bool = False) -> bool:
    """The array `call` makes is bound to a name read only one element at a time (`edges[k]`) or by `len(edges)`;
    with `pairs`, also read as consecutive pairs `edges[k]`, `edges[k + 1]` somewhere in the function.

    Such values are the k + 1 boundaries of k half-open ranges `[edges[k], edges[k + 1])`: the last
    one is the end of the last range, never an element to read (TK101, TK151).
    """
    target = bound_name(rule, call)
    if not isinstance(target, cst.Name):
        return False
    scope = enclosing_scope_node(rule, call)
    uses = [n for n in find_all(scope, cst.Name, lambda n: n.value == target.value) if n is not target]
    if not uses:
        return False
    indices: list[cst.BaseExpression] = []
    for use in uses:
        up = parent(rule, use)
        if isinstance(up, cst.Arg) and is_call_to(parent(rule, up), "len"):
            continue
        if not (
            isinstance(up, cst.Subscript)
            and up.value is use
            and len(up.slice) == 1
            and isinstance(up.slice[0].slice, cst.Index)
        ):
            return False
        indices.append(up.slice[0].slice.value)
    if not pairs:
        return True
    read = {code(index) for index in indices}
    return any(is_plus_int(index, 1) and code(index.left) in read for index in indices)  # type: ignore[attr-defined]


def is_truncated(rule: Rule, node: cst.CSTNode) -> bool:
    """`expr[:T]` right around `node` (through `list(...)`/`np.array(...)`), or its name sliced `[:T]` later."""
    current = node
    for _ in range(3):
        up = parent(rule, current)
        if isinstance(up, cst.Subscript) and up.value is current:
            return is_head_slice(up)
        if isinstance(up, cst.Arg):
            outer = parent(rule, up)
            if isinstance(outer, cst.Call) and dotted(outer.func) in (
                "list",
                "tuple",
                "np.array",
                "numpy.array",
                "np.asarray",
                "torch.tensor",
            ):
                current = outer
                continue
        if isinstance(up, (cst.Assign,)) and len(up.targets) == 1 and isinstance(up.targets[0].target, cst.Name):
            name = up.targets[0].target.value
            scope = enclosing_scope_node(rule, up)
            return any(
                is_head_slice(sub) for sub in find_all(scope, cst.Subscript, lambda sub: is_name(sub.value, name))
            )
        break
    return False


def is_head_slice(node: cst.CSTNode) -> bool:
    if not isinstance(node, cst.Subscript) or len(node.slice) != 1:
        return False
    piece = node.slice[0].slice
    return isinstance(piece, cst.Slice) and piece.lower is None and piece.upper is not None and piece.step is None


def _axis_of(node: cst.BaseExpression) -> tuple[str, int] | None:
    """(`a.shape`, i) for `a.shape[i]` / `a.size(i)`, (`g`, k) for `g[k]`: a named sequence read at a literal index."""
    if is_call_to(node, "int", "float") and len(node.args) == 1:  # type: ignore[union-attr]
        node = node.args[0].value  # type: ignore[union-attr]
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        base, index = dotted(node.value), int_value(node.slice[0].slice.value)
    elif (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "size"
        and len(node.args) == 1
    ):
        base, index = dotted(node.func.value), int_value(node.args[0].value)
        base = f"{base}.shape" if base is not None else None
    else:
        return None
    return (base, index) if base is not None and index is not None else None


def per_axis_division(rule: Rule, division: cst.BinaryOperation) -> bool:
    """`a.shape[i] / g[k]` beside `a.shape[j] / g[l]` (i != j, k != l) in the same function: one array's
    sides divided axis by axis by another shape, the rows and columns of a grid's cell, no step over frames.

    A clip length T is one number; an image's height and width divided by a feature map's
    `(rows, columns)` is a spatial stride pair, whatever the names (`data.shape[1] / fmap[0]`).
    """
    numerator, divisor = _axis_of(division.left), _axis_of(division.right)
    if numerator is None or divisor is None:
        return False

    def sibling(other: cst.BinaryOperation) -> bool:
        if other is division or not isinstance(other.operator, (cst.Divide, cst.FloorDivide)):
            return False
        num, div = _axis_of(other.left), _axis_of(other.right)
        return (
            num is not None
            and div is not None
            and num[0] == numerator[0]
            and div[0] == divisor[0]
            and num[1] != numerator[1]
            and div[1] != divisor[1]
        )

    return bool(find_all(enclosing_scope_node(rule, division), cst.BinaryOperation, sibling))
