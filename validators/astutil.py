"""Matching helpers shared by the static rules.

Rules ask questions about meaning ("is this call numpy's exclusive `randint`?", "is this
expression `n - T`?", "is there a guard comparing `n` and `T` in this function?"); the
answers live here so that every rule resolves aliases, generator methods and bound
conventions the same way. Only libcst is imported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import libcst as cst

from temporalkit.validators import analysis, tree
from temporalkit.validators.rule import Rule

_EMPTY_MODULE = cst.Module([])

# Upper bound conventions of the random-integer APIs, by qualified name.
INCLUSIVE_RANDINT = frozenset({"random.randint", "random.Random.randint"})
EXCLUSIVE_RANDINT = frozenset(
    {
        "random.randrange",
        "random.Random.randrange",
        "numpy.random.randint",
        "numpy.random.RandomState.randint",
        "numpy.random.Generator.integers",
        "torch.randint",
    }
)
LINSPACE = frozenset({"numpy.linspace", "torch.linspace"})
ARANGE = frozenset({"numpy.arange", "torch.arange"})

# Calls that draw from a random generator, by qualified name (global-state or Generator).
RANDOM_PREFIXES = ("random.", "numpy.random.")
TORCH_RANDOM = frozenset(
    {"torch.randint", "torch.rand", "torch.randn", "torch.randperm", "torch.multinomial", "torch.bernoulli", "torch.normal"}
)
_NOT_RANDOM_DRAWS = frozenset(
    {"random.seed", "random.Random", "random.getstate", "random.setstate", "numpy.random.seed",
     "numpy.random.default_rng", "numpy.random.Generator", "numpy.random.RandomState",
     "numpy.random.SeedSequence", "numpy.random.PCG64", "numpy.random.get_state", "numpy.random.set_state"}
)
_GENERATOR_METHODS = frozenset(
    {"integers", "random", "choice", "permutation", "shuffle", "uniform", "normal", "permuted"}
)

TORCHVISION_TRANSFORMS = ("torchvision.transforms.", "torchvision.transforms.v2.")


# -- finding nodes --------------------------------------------------------------------------
# Plain isinstance checks instead of `libcst.matchers`: importing that module alone costs about
# 0.18 s, more than half of the one-file budget of a pre-commit run.

find_all = tree.find_all


def is_name(node: cst.CSTNode | None, *values: str) -> bool:
    """`node` is the bare name `values[0]` (or another of `values`)."""
    return isinstance(node, cst.Name) and node.value in values


def is_call_to(node: cst.CSTNode | None, *names: str) -> bool:
    """`node` is a call of a bare name among `names`: `len(x)`, `max(a, b)`."""
    return isinstance(node, cst.Call) and is_name(node.func, *names)


def is_method_call(node: cst.CSTNode | None, receiver: str, method: str) -> bool:
    """`node` is `receiver.method(...)` with a bare-name receiver."""
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and is_name(node.func.value, receiver)
        and node.func.attr.value == method
    )


def code(node: cst.CSTNode) -> str:
    """The source text of `node` (without surrounding whitespace)."""
    return _EMPTY_MODULE.code_for_node(node).strip()


def dotted(node: cst.CSTNode) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def last_identifier(node: cst.CSTNode) -> str | None:
    """`frames` for `self.frames`, `frames`, `len(frames)`-less: the final identifier of a name chain."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def positional_args(call: cst.Call) -> list[cst.BaseExpression]:
    return [a.value for a in call.args if a.keyword is None and not a.star]


def keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def argument(call: cst.Call, index: int, name: str) -> cst.BaseExpression | None:
    """The value of the parameter at positional `index` or keyword `name`, if given."""
    kw = keyword_arg(call, name)
    if kw is not None:
        return kw.value
    pos = positional_args(call)
    return pos[index] if index < len(pos) else None


def argument_node(call: cst.Call, index: int, name: str) -> cst.Arg | None:
    kw = keyword_arg(call, name)
    if kw is not None:
        return kw
    pos = [a for a in call.args if a.keyword is None and not a.star]
    return pos[index] if index < len(pos) else None


def int_value(node: cst.CSTNode | None) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) and isinstance(node.expression, cst.Integer):
        return -int(node.expression.evaluated_value)
    return None


def is_subtraction(node: cst.CSTNode | None) -> bool:
    return isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Subtract)


def is_plus_int(node: cst.CSTNode | None, value: int | None = None) -> bool:
    """`X + k` with an integer literal k (k == value when given)."""
    if not (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add)):
        return False
    k = int_value(node.right)
    return k is not None and k > 0 and (value is None or k == value)


def is_minus_int(node: cst.CSTNode | None, value: int | None = None) -> bool:
    """`X - k` with an integer literal k (k == value when given)."""
    if not is_subtraction(node):
        return False
    k = int_value(node.right)  # type: ignore[union-attr]
    return k is not None and (value is None or k == value)


def is_simple_operand(node: cst.CSTNode) -> bool:
    """A name, attribute, subscript or call: what people write for `n` or `T`."""
    return isinstance(node, (cst.Name, cst.Attribute, cst.Subscript, cst.Call))


def is_count_minus_length(node: cst.CSTNode | None) -> bool:
    """`n - T`: two plain operands, the right one not a literal (`len(v) - self.clip_len`)."""
    return (
        is_subtraction(node)
        and is_simple_operand(node.left)  # type: ignore[union-attr]
        and is_simple_operand(node.right)  # type: ignore[union-attr]
        and not isinstance(node.right, cst.Call)  # type: ignore[union-attr]
    )


def is_floor_division(node: cst.CSTNode | None) -> bool:
    return isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.FloorDivide)


def is_true_division(node: cst.CSTNode | None) -> bool:
    return isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide)


class _NameCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        name = dotted(node)
        if name:
            self.found.add(name)
            return False
        return True

    def visit_Name(self, node: cst.Name) -> None:
        self.found.add(node.value)


def names_in(node: cst.CSTNode) -> set[str]:
    """Every maximal dotted name (`n`, `self.clip_len`, not `self`) that appears in `node`."""
    collector = _NameCollector()
    node.visit(collector)
    return collector.found


def operand_names(node: cst.CSTNode) -> set[str]:
    """Dotted names of an expression's leaves, with `len(x)` standing for `x` too."""
    names = names_in(node)
    names -= {"len", "max", "min", "int", "self"}
    return names


_COUNT_WORDS = re.compile(r"(^n$|^t$|num|count|total|length|^len|_len$|frames|^n_|_n$|size|duration|nframes)", re.I)
_INDEX_WORDS = re.compile(r"(last|idx|index|end|stop|max|hi$|high)", re.I)


def looks_like_frame_count(node: cst.CSTNode) -> bool:
    """`len(frames)`, `num_frames`, `n`, `self.total_frames`: an expression that counts items.

    Names that read like a last index (`last`, `end_idx`, `max_index`) are not counts.
    """
    if is_call_to(node, "len"):
        return True
    ident = last_identifier(node)
    if ident is None:
        return False
    return bool(_COUNT_WORDS.search(ident)) and not _INDEX_WORDS.search(ident)


# -- scope and ancestry -----------------------------------------------------------------


def parent(rule: Rule, node: cst.CSTNode) -> cst.CSTNode | None:
    return rule.parent(node)


def ancestors(rule: Rule, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    return analysis.ancestors(node, rule.analysis.parents)


def enclosing_function(rule: Rule, node: cst.CSTNode) -> cst.FunctionDef | None:
    for anc in ancestors(rule, node):
        if isinstance(anc, cst.FunctionDef):
            return anc
    return None


def enclosing_scope_node(rule: Rule, node: cst.CSTNode) -> cst.CSTNode:
    """The enclosing function, or the module."""
    last = node
    for anc in ancestors(rule, node):
        if isinstance(anc, cst.FunctionDef):
            return anc
        last = anc
    return last


def assigned_values(rule: Rule, name_node: cst.Name) -> list[cst.BaseExpression]:
    """The right-hand sides of the plain assignments `name = value` visible from `name_node`."""
    if not rule.analysis.may_be_assigned(name_node.value):
        return []
    scope = rule.scope_of(name_node)
    if scope is None:
        return []
    values: list[cst.BaseExpression] = []
    for assignment in scope[name_node.value]:
        target = getattr(assignment, "node", None)
        if not isinstance(target, cst.Name):
            continue
        holder = parent(rule, target)
        assign = parent(rule, holder) if isinstance(holder, cst.AssignTarget) else holder
        if isinstance(assign, cst.Assign):
            values.append(assign.value)
        elif isinstance(assign, cst.AnnAssign) and assign.value is not None:
            values.append(assign.value)
    return values


def _is_comparison_or_clamp(node: cst.Comparison | cst.Call) -> bool:
    return isinstance(node, cst.Comparison) or is_name(node.func, "max", "min")


def has_guard(scope_node: cst.CSTNode, left: set[str], right: set[str]) -> bool:
    """True if `scope_node` compares something in `left` with something in `right`, or clamps them.

    A guard is any comparison (in an `if`, `assert`, `while`, conditional expression) that
    mentions a name of each side, or a `max(...)`/`min(...)` that does; names bound in the
    scope to an expression (`nf = len(frames)`) stand for that expression's names too.
    """
    if not left or not right:
        return False
    aliases: dict[str, set[str]] | None = None
    for node in find_all(scope_node, (cst.Comparison, cst.Call), _is_comparison_or_clamp):
        names = operand_names(node)
        if names & left and names & right:
            return True
        if aliases is None:
            aliases = _aliases(scope_node)
        for name in list(names):  # `nf, na = len(frames), len(annotations)` ... `assert nf % na == 0`
            names |= aliases.get(name, set())
        if names & left and names & right:
            return True
    return False


# -- calls -------------------------------------------------------------------------------


def call_names(rule: Rule, call: cst.Call) -> set[str]:
    """Qualified names of what `call` calls, with numpy `Generator` methods resolved.

    `rng.integers(...)` where `rng = np.random.default_rng(...)` (or any receiver of
    `.integers`, a method only numpy generators have) reads as `numpy.random.Generator.integers`;
    `np.random.default_rng().choice(...)` likewise.
    """
    names = rule.qualified_names(call.func)
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in _GENERATOR_METHODS:
        if is_numpy_generator(rule, func.value) or (func.attr.value == "integers" and not names):
            names = names | {f"numpy.random.Generator.{func.attr.value}"}
    if not names and isinstance(func, cst.Name):
        names = {func.value}
    return names


def is_numpy_generator(rule: Rule, node: cst.CSTNode) -> bool:
    if isinstance(node, cst.Call):
        return bool(rule.qualified_names(node.func) & {"numpy.random.default_rng", "numpy.random.Generator"})
    if isinstance(node, cst.Name):
        return any(is_numpy_generator(rule, v) for v in assigned_values(rule, node) if isinstance(v, cst.Call))
    ident = last_identifier(node)
    return ident is not None and ("rng" in ident.lower() or "generator" in ident.lower())


def calls(rule: Rule, call: cst.Call, names: frozenset[str] | set[str]) -> bool:
    return bool(call_names(rule, call) & names)


def is_random_draw(rule: Rule, call: cst.Call) -> bool:
    """A call that draws from Python's, numpy's or torch's random number generator."""
    names = call_names(rule, call)
    if names & _NOT_RANDOM_DRAWS:
        return False
    if names & TORCH_RANDOM:
        return True
    return any(n.startswith(RANDOM_PREFIXES) for n in names)


def is_torchvision_transform(rule: Rule, call: cst.Call, *class_names: str) -> bool:
    names = rule.qualified_names(call.func)
    return any(n == f"{prefix}{cls}" for n in names for prefix in TORCHVISION_TRANSFORMS for cls in class_names)


def is_random_transform(rule: Rule, call: cst.Call) -> bool:
    """`T.RandomCrop(...)`, `v2.RandomResizedCrop(...)`, any torchvision `Random*` transform."""
    for name in rule.qualified_names(call.func):
        if name.startswith(TORCHVISION_TRANSFORMS) and name.rsplit(".", 1)[-1].startswith("Random"):
            return True
    return False


def minus_one(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`expr - 1`, parenthesised when `expr` binds looser than subtraction."""
    if not isinstance(expr, (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.BinaryOperation)) or (
        isinstance(expr, cst.BinaryOperation) and not isinstance(expr.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide))
    ):
        expr = expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.BinaryOperation(left=expr, operator=cst.Subtract(), right=cst.Integer("1"))


def plus_one(expr: cst.BaseExpression) -> cst.BaseExpression:
    return cst.BinaryOperation(left=expr, operator=cst.Add(), right=cst.Integer("1"))


def random_integer_bounds(rule: Rule, call: cst.Call) -> tuple[cst.BaseExpression | None, cst.BaseExpression, bool] | None:
    """(low, high, inclusive) of a random-integer draw, or None if `call` is not one.

    Knows each API's signature and convention: `random.randint(a, b)` is inclusive;
    `random.randrange(stop)` / `(start, stop)`, numpy `randint(high)` / `(low, high)`,
    `Generator.integers` (inclusive only with `endpoint=True`) and `torch.randint(high, size)` /
    `(low, high, size)` are exclusive.
    """
    names = random_call_names(rule, call)
    if names & INCLUSIVE_RANDINT:
        low, high = argument(call, 0, "a"), argument(call, 1, "b")
        return (low, high, True) if high is not None else None
    if not names & EXCLUSIVE_RANDINT:
        return None
    inclusive = False
    if "numpy.random.Generator.integers" in names:
        endpoint = keyword_arg(call, "endpoint")
        inclusive = endpoint is not None and code(endpoint.value) == "True"
    pos = positional_args(call)
    if "torch.randint" in names:
        if len(pos) >= 2 and keyword_arg(call, "size") is None:
            pos = pos[:-1]  # torch.randint([low,] high, size): the last positional is the size, a tuple or a name
        high_kw = keyword_arg(call, "high")
        low_kw = keyword_arg(call, "low")
        if high_kw is not None:
            return (low_kw.value if low_kw else (pos[0] if pos else None), high_kw.value, inclusive)
    else:
        stop_kw = keyword_arg(call, "stop") or keyword_arg(call, "high")
        low_kw = keyword_arg(call, "start") or keyword_arg(call, "low")
        if stop_kw is not None:
            return (low_kw.value if low_kw else (pos[0] if pos else None), stop_kw.value, inclusive)
        if low_kw is not None and not pos:
            return (None, low_kw.value, inclusive)
    if len(pos) == 1:
        return (None, pos[0], inclusive)
    if len(pos) >= 2:
        return (pos[0], pos[1], inclusive)
    return None


def window_start_span(high: cst.BaseExpression, inclusive: bool) -> cst.BinaryOperation | None:
    """The `n - T` inside a window-start bound (`n - T`, `n - T + 1`, `n - T - 1`), else None."""
    if is_count_minus_length(high):
        return high  # type: ignore[return-value]
    if (is_plus_int(high, 1) or is_minus_int(high, 1)) and is_count_minus_length(high.left):  # type: ignore[union-attr]
        return high.left  # type: ignore[union-attr,return-value]
    return None


# -- random generators bound to names, and window bounds through variables ---------------

_GENERATOR_FACTORIES = {
    "random.Random": "random.Random",
    "random.SystemRandom": "random.Random",
    "numpy.random.RandomState": "numpy.random.RandomState",
    "numpy.random.default_rng": "numpy.random.Generator",
    "numpy.random.Generator": "numpy.random.Generator",
}
_MODULE_GENERATORS = {"random": "random", "numpy.random": "numpy.random"}
_BOUND_METHODS = frozenset(
    {"randint", "randrange", "integers", "sample", "choice", "choices", "shuffle", "permutation", "random", "uniform"}
)


def local_assigned_values(rule: Rule, name_node: cst.Name) -> list[cst.BaseExpression]:
    """Right-hand sides of `name = value` (single target, or a tuple element) in the function around `name_node`.

    A plain walk of the enclosing function (or module), without resolving scopes: cheap enough to
    ask for every operand of a random draw.
    """
    if not rule.analysis.may_be_assigned(name_node.value):
        return []
    name = name_node.value
    values: list[cst.BaseExpression] = []
    for assign in find_all(enclosing_scope_node(rule, name_node), (cst.Assign, cst.AnnAssign)):
        targets = [t.target for t in assign.targets] if isinstance(assign, cst.Assign) else [assign.target]
        for target in targets:
            if is_name(target, name) and assign.value is not None:
                values.append(assign.value)
            elif isinstance(target, (cst.Tuple, cst.List)) and any(is_name(e.value, name) for e in target.elements):
                values.append(cst.Name("_unpacked"))  # counted, never matched
    function = enclosing_function(rule, name_node)
    if not values and function is not None and name not in {p.name.value for p in find_all(function.params, cst.Param)}:
        module = next((a for a in ancestors(rule, function) if isinstance(a, cst.Module)), None)
        for line in module.body if module is not None else ():
            if isinstance(line, cst.SimpleStatementLine):
                for statement in line.body:
                    if isinstance(statement, cst.Assign) and any(is_name(t.target, name) for t in statement.targets):
                        values.append(statement.value)  # a module-level `r = random.Random(0)` read in a function
    return values


def generator_kind(rule: Rule, node: cst.CSTNode, depth: int = 0) -> str | None:
    """What a receiver of `.randint`/`.randrange`/`.integers` is, when it was bound to a name.

    `r = random.Random(seed)` gives "random.Random"; `def f(rng=np.random)` gives "numpy.random";
    `self.rng = np.random.default_rng(seed)` (in any method of the class) gives
    "numpy.random.Generator"; `np.random.RandomState(0)` gives "numpy.random.RandomState".
    None when unknown.
    """
    if depth > 3:
        return None
    if isinstance(node, (cst.BooleanOperation, cst.IfExp)):  # `rng or np.random`, `rng if rng else np.random`
        sides = (node.left, node.right) if isinstance(node, cst.BooleanOperation) else (node.body, node.orelse)
        return next((k for k in (generator_kind(rule, side, depth + 1) for side in sides) if k is not None), None)
    if isinstance(node, cst.Call):
        for name in rule.qualified_names(node.func):
            if name in _GENERATOR_FACTORIES:
                return _GENERATOR_FACTORIES[name]
        return None
    for name in rule.qualified_names(node):
        if name in _MODULE_GENERATORS:
            return _MODULE_GENERATORS[name]
    values: list[cst.BaseExpression] = []
    if isinstance(node, cst.Name):
        values = local_assigned_values(rule, node)
        function = enclosing_function(rule, node)
        if function is not None:
            params = function.params
            for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                if param.name.value == node.value and param.default is not None:
                    values.append(param.default)
    elif isinstance(node, cst.Attribute) and is_name(node.value, "self"):
        cls = next((a for a in ancestors(rule, node) if isinstance(a, cst.ClassDef)), None)
        if cls is not None:
            target = dotted(node)
            for assign in find_all(cls, cst.Assign):
                if any(dotted(t.target) == target for t in assign.targets):
                    values.append(assign.value)
    for value in values:
        kind = generator_kind(rule, value, depth + 1)
        if kind is not None:
            return kind
    return None


def random_call_names(rule: Rule, call: cst.Call) -> set[str]:
    """`call_names`, plus the draws of generators bound to names.

    `r.randint(...)` / `r.sample(...)` with `r = random.Random(0)` read as `random.Random.randint` /
    `random.Random.sample`; `rng.choice(...)` with `rng=np.random` as `numpy.random.choice`.
    """
    names = call_names(rule, call)
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in _BOUND_METHODS:
        kind = generator_kind(rule, func.value)
        if kind is not None:
            names = names | {f"{kind}.{func.attr.value}"}
    return names


def _linear(rule: Rule, expr: cst.BaseExpression, sign: int, out: dict[str, Any], depth: int) -> None:
    """Flatten `expr` into signed terms and an integer constant (see `window_bound`)."""
    value = int_value(expr)
    if value is not None:
        out["constant"] += sign * value
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
        if len(values) == 1 and (
            isinstance(values[0], cst.BinaryOperation) and isinstance(values[0].operator, (cst.Add, cst.Subtract))
            or is_call_to(values[0], "max")
        ):
            out["through"].append(expr)
            _linear(rule, values[0], sign, out, depth + 1)
            return
    out["terms"].append((sign, expr))


class WindowBound:
    """A random draw whose upper bound is `count - length + offset` (written inline or through names).

    `inclusive` is the API's convention; `offset` is the integer added to `count - length`
    (1 for `n - T + 1`, -1 for `max(0, n - T - 1)`); `through` lists the names the bound was
    read through (empty: written in the call); `clamped` is True when a `max(0, ...)` /
    `max(1, ...)` keeps it non-negative.
    """

    __slots__ = ("call", "low", "high", "inclusive", "count", "length", "offset", "through", "clamped")

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
    out: dict[str, Any] = {"constant": 0, "terms": [], "through": [], "clamped": False}
    _linear(rule, high, 1, out, 0)
    if len(out["terms"]) == 1 and isinstance(out["terms"][0][1], cst.Name):
        # `randint(0, last)` / `randint(0, positions - 1)`: read the one name's assignment.
        out = {"constant": 0, "terms": [], "through": [], "clamped": False}
        _linear(rule, high, 1, out, 1)
    terms = out["terms"]
    if len(terms) != 2 or {s for s, _ in terms} != {1, -1}:
        return None
    count = next(t for s, t in terms if s > 0)
    length = next(t for s, t in terms if s < 0)
    if not (is_simple_operand(count) and is_simple_operand(length)) or isinstance(length, cst.Call):
        return None
    if low is not None and int_value(low) != 0:
        low_out: dict[str, Any] = {"constant": 0, "terms": [], "through": [], "clamped": False}
        _linear(rule, low, 1, low_out, 0)
        if any(s > 0 and code(t) == code(length) for s, t in low_out["terms"]):
            return None  # randint(m, n - m): a centre kept m away from both edges
    if out["through"] and not (looks_like_frame_count(count) or spatial_axis(count, length)):
        return None  # `dur = end - start; randint(0, dur)`: a point inside an interval, read through a name
    return WindowBound(
        call=call, low=low, high=high, inclusive=inclusive, count=count, length=length,
        offset=out["constant"], through=out["through"], clamped=out["clamped"],
    )


_SPATIAL_ROW = re.compile(r"(^h$|height|^img_?h$|^im_?h$|^image_?h$|_h$|^h_|^ih$)", re.I)
_SPATIAL_COLUMN = re.compile(r"(^w$|width|^img_?w$|^im_?w$|^image_?w$|_w$|^w_|^iw$)", re.I)
_SPATIAL_ANY = re.compile(r"(crop|patch|box|pixel|^size$|^img|^image|^im_)", re.I)


def spatial_axis(count: cst.CSTNode, length: cst.CSTNode) -> str | None:
    """"row", "column" or "row/column" when `count - length` is a spatial offset range (height - size), else None."""
    for axis, pattern in (("row", _SPATIAL_ROW), ("column", _SPATIAL_COLUMN)):
        if any(pattern.search(part) for name in names_in(count) for part in name.split(".")[-1:]):
            return axis
    if any(_SPATIAL_ANY.search(name.split(".")[-1]) for name in names_in(count)):
        return "row/column"  # img_size - crop, image_side - s
    if mentions_frames(count) or looks_like_frame_count(count):
        return None  # num_frames - size, total - size: `size` is a clip length here
    if any(_SPATIAL_ANY.search(name.split(".")[-1]) for name in names_in(length)):
        return "row/column"
    return None


def bound_is_guarded(rule: Rule, bound: WindowBound) -> bool:
    """A `max(0, ...)` clamp on the bound, a length computed from the count, or a comparison of the two."""
    if bound.clamped:
        return True
    count_names = operand_names(bound.count)
    if isinstance(bound.length, cst.Name) and any(
        operand_names(value) & count_names for value in local_assigned_values(rule, bound.length)
    ):
        return True  # the length is made from the count (`cut = randint(1, int(h * 0.8))`, `t = randint(1, n)`)
    scope = enclosing_scope_node(rule, bound.call)
    return has_guard(scope, count_names, operand_names(bound.length))


def bound_origin(rule: Rule, bound: WindowBound) -> str:
    """`" (rand_end = max(0, n - T - 1))"` for a bound read through a name, "" for one written in the call."""
    if bound.inline:
        return ""
    name = bound.through[0]
    values = local_assigned_values(rule, name)
    return f" ({code(name)} = {code(values[0])})" if len(values) == 1 else f" (through {code(name)})"


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
    if bound.inclusive and bound.offset == 1:
        return "overshoot"
    return None


# -- strided sampling ---------------------------------------------------------------------


def is_range_call(rule: Rule, node: cst.CSTNode) -> bool:
    if not isinstance(node, cst.Call):
        return False
    names = call_names(rule, node)
    return bool(names & ARANGE) or "range" in names or "builtins.range" in names


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
    """(the `n // T` or `n / T` behind a stride's step, names strided over), or None when the step is no such division."""
    parts = stride_parts(rule, node)
    if parts is None:
        return None
    step, over = parts
    division = resolve_division(rule, step, floor=floor)
    return (division, over) if division is not None else None


def resolve_division(rule: Rule, expr: cst.BaseExpression, floor: bool) -> cst.BinaryOperation | None:
    """The `n // T` (floor) or `n / T` behind a step: written inline, via `max(1, ...)`, or via a name."""
    check = is_floor_division if floor else is_true_division
    if check(expr):
        return expr  # type: ignore[return-value]
    if floor and is_call_to(expr, "int") and len(expr.args) == 1 and is_true_division(expr.args[0].value):  # type: ignore[union-attr]
        return expr.args[0].value  # type: ignore[union-attr,return-value]  # int(n / T) truncates like n // T
    wrappers = ("max", "int") if floor else ("max",)  # int(n / T) is no float step
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in wrappers:
        for value in positional_args(expr):
            found = resolve_division(rule, value, floor)
            if found is not None:
                return found
    if isinstance(expr, cst.Name):
        for value in assigned_values(rule, expr):
            found = resolve_division(rule, value, floor)
            if found is not None:
                return found
    return None


def is_truncated(rule: Rule, node: cst.CSTNode) -> bool:
    """`expr[:T]` right around `node` (through `list(...)`/`np.array(...)`), or its name sliced `[:T]` later."""
    current = node
    for _ in range(3):
        up = parent(rule, current)
        if isinstance(up, cst.Subscript) and up.value is current:
            return _is_head_slice(up)
        if isinstance(up, cst.Arg):
            outer = parent(rule, up)
            if isinstance(outer, cst.Call) and dotted(outer.func) in ("list", "tuple", "np.array", "numpy.array", "np.asarray", "torch.tensor"):
                current = outer
                continue
        if isinstance(up, (cst.Assign,)) and len(up.targets) == 1 and isinstance(up.targets[0].target, cst.Name):
            name = up.targets[0].target.value
            scope = enclosing_scope_node(rule, up)
            return any(
                _is_head_slice(sub)
                for sub in find_all(scope, cst.Subscript, lambda sub: is_name(sub.value, name))
            )
        break
    return False


def _is_head_slice(node: cst.CSTNode) -> bool:
    if not isinstance(node, cst.Subscript) or len(node.slice) != 1:
        return False
    piece = node.slice[0].slice
    return isinstance(piece, cst.Slice) and piece.lower is None and piece.upper is not None and piece.step is None


# -- frame totals and guards on a step ------------------------------------------------------

_FRAME_TOTAL_WORDS = re.compile(
    r"(frame|^n$|^nf$|^t$|duration|length|_len$|^len_|total|seg|^vr$|video_?size|^vlen$|^num$)", re.I
)
_NOT_FRAME_WORDS = re.compile(
    r"(batch|world|gpu|thread|worker|proc|replica|rank|dataset|sampler|quer|caption|text|sentence|word|token|"
    r"patch|embed|channel|head|box|crop|scale|height|width|^h$|^w$|^img_?[hw]$|(?<!video)_size$|pixel|videos|vids|"
    r"infos|anno|anns|class|label|epoch|iter|mask|audio|spec|^mel|^(num_)?samples$)",
    re.I,
)


def _name_parts(node: cst.CSTNode) -> list[str]:
    """Identifiers an expression is about: names, attribute tails and string subscript keys (`results['total_frames']`)."""
    parts = [name.split(".")[-1] for name in operand_names(node)]
    for sub in find_all(node, cst.Subscript):
        for element in sub.slice:
            if isinstance(element.slice, cst.Index) and isinstance(element.slice.value, cst.SimpleString):
                parts.append(element.slice.value.evaluated_value)
    return parts


def names_non_frames(node: cst.CSTNode) -> bool:
    """`node` mentions batches, workers, dataset sizes, boxes, crops, tokens...: not a frame count."""
    return any(_NOT_FRAME_WORDS.search(part) for part in _name_parts(node))


def looks_like_frame_total(rule: Rule, node: cst.CSTNode, depth: int = 0) -> bool:
    """`node` counts the frames of a video: `len(frames)`, `num_frames`, `video.shape[0]`, `n - L + 1`.

    A name heuristic, read through one or two plain assignments (`nf = len(frames)`): literals,
    dataset/batch/world sizes, image sizes, boxes, tokens and the like are not frame totals.
    """
    if depth > 2 or int_value(node) is not None or isinstance(node, (cst.Float, cst.SimpleString)):
        return False
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, (cst.Add, cst.Subtract)):
            return looks_like_frame_total(rule, node.left, depth)
        return False
    if names_non_frames(node):
        return False
    if isinstance(node, cst.Call):
        args = positional_args(node)
        if is_name(node.func, "len"):
            return bool(args) and not is_name(args[0], "self")
        if is_name(node.func, "int", "round") or dotted(node.func) in ("math.floor", "np.floor"):
            return bool(args) and looks_like_frame_total(rule, args[0], depth)
    if any(_FRAME_TOTAL_WORDS.search(part) for part in _name_parts(node)):
        return True
    if isinstance(node, cst.Subscript) and dotted(node.value) is not None and dotted(node.value).endswith(".shape"):  # type: ignore[union-attr]
        return True  # video.shape[0]
    if isinstance(node, cst.Name):
        return any(looks_like_frame_total(rule, value, depth + 1) for value in assigned_values(rule, node))
    return False


_INTEGER_DTYPE = re.compile(r"(\bint\b|int8|int16|int32|int64|intp|int_|\blong\b|uint)")


def has_integer_dtype(call: cst.Call) -> bool:
    """`dtype=int` / `np.int64` / `torch.long` given to the call (`np.arange(0, n, n / T, dtype=int)`)."""
    dtype = keyword_arg(call, "dtype")
    return dtype is not None and bool(_INTEGER_DTYPE.search(code(dtype.value)))


def constant_name(rule: Rule, node: cst.CSTNode) -> bool:
    """A name bound only to integer literals (`n_crops = 3`)."""
    if not isinstance(node, cst.Name):
        return False
    values = assigned_values(rule, node)
    return bool(values) and all(int_value(v) is not None for v in values)


def result_is_guarded(scope_node: cst.CSTNode, name: str) -> bool:
    """The value bound to `name` is checked or clamped: `if step > 0`, `if step == 0: step = 1`,
    `max(1, step)`, `step or 1`, `if not step`, `assert step`."""
    for node in find_all(scope_node, (cst.Comparison, cst.Call), _is_comparison_or_clamp):
        if name in operand_names(node):
            return True
    for node in find_all(scope_node, (cst.If, cst.While, cst.Assert, cst.IfExp)):
        test = node.test
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test = test.expression
        if dotted(test) == name:
            return True
    return bool(
        find_all(
            scope_node,
            cst.BooleanOperation,
            lambda b: isinstance(b.operator, cst.Or) and dotted(b.left) == name,
        )
    )


def _aliases(scope_node: cst.CSTNode) -> dict[str, set[str]]:
    """`nf -> {frames}` for `nf = len(frames)` and `nf, na = len(frames), len(annotations)` in `scope_node`."""
    found: dict[str, set[str]] = {}
    for assign in find_all(scope_node, cst.Assign):
        for target in assign.targets:
            pairs: list[tuple[cst.CSTNode, cst.CSTNode]] = [(target.target, assign.value)]
            if isinstance(target.target, cst.Tuple) and isinstance(assign.value, cst.Tuple):
                if len(target.target.elements) == len(assign.value.elements):
                    pairs = [(t.value, v.value) for t, v in zip(target.target.elements, assign.value.elements)]
            for left, value in pairs:
                name = dotted(left)
                if name is not None and not isinstance(value, cst.Tuple):
                    found.setdefault(name, set()).update(operand_names(value))
    return found


_CLAMP_NAMES = frozenset({"numpy.clip", "numpy.minimum", "torch.clamp", "torch.clip", "torch.minimum", "min", "builtins.min"})
_CLAMP_METHODS = frozenset({"clip", "clamp", "clamp_", "clip_"})


def is_clamped(rule: Rule, node: cst.CSTNode) -> bool:
    """`node` ends up in a clamp: `np.clip(...)`, `np.minimum(...)`, `.clamp(...)`, `min(...)`, directly or
    through the name it is assigned to (`idx = ...; idx = np.clip(idx, 0, n - 1)`)."""
    current = node
    for _ in range(8):
        up = parent(rule, current)
        if isinstance(up, cst.Attribute) and up.value is current:
            if up.attr.value in _CLAMP_METHODS:
                return True
            current = up
        elif isinstance(up, cst.Arg):
            outer = parent(rule, up)
            if isinstance(outer, cst.Call) and call_names(rule, outer) & _CLAMP_NAMES:
                return True
            current = outer if outer is not None else up
        elif isinstance(up, (cst.Call, cst.BinaryOperation, cst.Subscript, cst.SubscriptElement, cst.Index)):
            current = up
        elif isinstance(up, cst.Assign) and len(up.targets) == 1 and isinstance(up.targets[0].target, cst.Name):
            name = up.targets[0].target.value
            scope = enclosing_scope_node(rule, up)
            for call in find_all(scope, cst.Call):
                if call_names(rule, call) & _CLAMP_NAMES and any(name in names_in(a.value) for a in call.args):
                    return True
                func = call.func
                if isinstance(func, cst.Attribute) and func.attr.value in _CLAMP_METHODS and name in names_in(func.value):
                    return True
            return False
        else:
            return False
    return False


def loop_count(rule: Rule, node: cst.CSTNode, counter: cst.CSTNode) -> cst.BaseExpression | None:
    """`k` when `counter` runs over 0..k-1 around `node`: `np.arange(k)`, `range(k)`, `list(range(k))`, or a
    loop / comprehension variable over `range(k)`."""
    if is_call_to(counter, "list", "tuple") and len(counter.args) == 1:  # type: ignore[union-attr]
        counter = counter.args[0].value  # type: ignore[union-attr]
    if isinstance(counter, cst.Call) and is_range_call(rule, counter):
        args = positional_args(counter)
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
                return args[0] if len(args) == 1 else None
        if isinstance(anc, cst.FunctionDef):
            break
    return None


_INDEX_LIKE = re.compile(r"(idx|indices|index|frame|offset|start|positions)", re.I)


def looks_like_indices(rule: Rule, node: cst.CSTNode) -> bool:
    """An expression of frame indices: a name like `indices`/`frame_ids`, a sampler call, a comprehension."""
    if isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
        return True
    if isinstance(node, cst.Call):
        names = call_names(rule, node)
        if names & (LINSPACE | ARANGE) or "range" in names:
            return True
        if isinstance(node.func, cst.Attribute) and looks_like_indices(rule, node.func.value):
            return True
        return any(looks_like_indices(rule, a.value) for a in node.args[:1])
    ident = last_identifier(node)
    return ident is not None and bool(_INDEX_LIKE.search(ident))


# Data that is indexed or sampled like frames but is not frames. A name heuristic: the order rules
# and the aspect rule list it in their "Known problems".
_NOT_FRAME_DATA = re.compile(
    r"(mask|token|patch|box|caption|sentence|text|word|label|class|query|queries|anchor|proposal"
    r"|embed|pos_|_pos$|^pos$|sinusoid|keypoint|joint|^ids?$|_ids?$)",
    re.I,
)
_FRAME_DATA = re.compile(r"(frame|segment|^(clips?|videos?|vids?|imgs?|images?)$)", re.I)


def names_non_frame_data(node: cst.CSTNode) -> bool:
    """`node` names masks, tokens, patches, boxes, captions, labels, embeddings or ids, and no frames.

    `mask_t_ind`, `self.pos_embed`, `token_ids`, `video_ids`, `gt_boxes` are such data;
    `frame_ids`, `frame_mask_idx` mention frames and are not.
    """
    parts = [part for name in names_in(node) for part in name.split(".") if part != "self"]
    for key in find_all(node, cst.SimpleString):  # results["mask"], state["pos_embed"]
        value = key.evaluated_value
        if isinstance(value, str) and value.isidentifier():
            parts.append(value)
    if any(_FRAME_DATA.search(part) for part in parts):
        return False
    return any(_NOT_FRAME_DATA.search(part) for part in parts)


def bound_name(rule: Rule, node: cst.CSTNode) -> cst.BaseAssignTargetExpression | None:
    """The single target `x` / `self.x` of `x = <... node ...>` when `node` is (part of) its value."""
    current = node
    for _ in range(6):
        up = parent(rule, current)
        if up is None or isinstance(up, (cst.BaseSmallStatement, cst.BaseCompoundStatement)) and not isinstance(
            up, (cst.Assign, cst.AnnAssign)
        ):
            return None
        if isinstance(up, cst.Assign):
            if len(up.targets) == 1 and isinstance(up.targets[0].target, (cst.Name, cst.Attribute)):
                return up.targets[0].target
            return None
        if isinstance(up, cst.AnnAssign):
            return up.target if isinstance(up.target, (cst.Name, cst.Attribute)) else None
        current = up
    return None


def subscripted_by(name: str, scope: cst.CSTNode) -> list[cst.BaseExpression]:
    """What `name` indexes in `scope`: `mask` for `mask[name, :, :]`, `frames` for `frames[name]`."""
    found = []
    for sub in find_all(scope, cst.Subscript):
        if any(name in names_in(element.slice) for element in sub.slice):
            found.append(sub.value)
    return found


_SORTERS = frozenset({"sorted", "builtins.sorted", "numpy.sort", "torch.sort"})


def is_sorted_afterwards(rule: Rule, node: cst.CSTNode) -> bool:
    """`node` sits inside a sort (`sorted(...)`, `np.sort(...)`, `.sort()`), or the name it is bound to is sorted later."""
    current = node
    for _ in range(4):
        up = parent(rule, current)
        if up is None:
            return False
        if isinstance(up, cst.Call) and (call_names(rule, up) & _SORTERS):
            return True
        if isinstance(up, cst.Attribute) and up.value is current and up.attr.value in ("sort", "sort_values"):
            return True
        if isinstance(up, cst.Assign):
            targets = [t.target for t in up.targets if isinstance(t.target, cst.Name)]
            if not targets:
                return False
            name = targets[0].value
            scope = enclosing_scope_node(rule, up)
            for call in find_all(scope, cst.Call):
                if is_method_call(call, name, "sort"):
                    return True
                if call_names(rule, call) & _SORTERS and any(is_name(a.value, name) for a in call.args):
                    return True
            return False
        if isinstance(up, (cst.Arg, cst.Subscript, cst.SubscriptElement, cst.Index, cst.Call, cst.Attribute)):
            current = up
            continue
        return False
    return False


_FRAME_WORDS = re.compile(r"(frame|video|clip|vid$|^vid|^t$|^n$|num_|_len$|length|segment)", re.I)


def mentions_frames(node: cst.CSTNode) -> bool:
    """An expression about frames or clip length: `len(frames)`, `video.shape[0]`, `num_frames`, `T - n`."""
    for name in names_in(node):
        if any(_FRAME_WORDS.search(part) for part in name.split(".")):
            return True
    return False


def produced_by_sampler(rule: Rule, node: cst.CSTNode) -> bool:
    """`node` is (or names a value built by) linspace/arange/range/randint and friends."""
    def _samples(expr: cst.CSTNode) -> bool:
        for call in find_all(expr, cst.Call):
            names = call_names(rule, call)
            if names & (LINSPACE | ARANGE | EXCLUSIVE_RANDINT | INCLUSIVE_RANDINT) or "range" in names:
                return True
        return False

    if _samples(node):
        return True
    if isinstance(node, cst.Name):
        return any(_samples(v) for v in assigned_values(rule, node))
    return False
