"""What a call means: the API tables of the static rules and the resolution of calls against them.

Rules ask "is this call numpy's exclusive `randint`?", "is this receiver a random generator?",
"does this value end up in a clamp or a sort?"; the answers resolve aliases (`import numpy as
np`, `from random import randint`), numpy `Generator` methods and generators bound to names
(`r = random.Random(0)`, `def f(rng=np.random)`, `self.rng = np.random.default_rng()`) the same
way for every rule. Only libcst is imported.
"""

from __future__ import annotations

import re

import libcst as cst
from temporalkit.validators.rule import Rule
from temporalkit.validators.syntax import (
    argument,
    assigned_values,
    attribute_values,
    code,
    enclosing_function,
    enclosing_scope_node,
    find_all,
    is_method_call,
    is_name,
    keyword_arg,
    last_identifier,
    local_assigned_values,
    names_in,
    parent,
    positional_args,
)

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


# `choice(range(a, b))` draws like `randrange(a, b)`: an exclusive upper bound.
CHOICE = frozenset(
    {
        "random.choice",
        "random.Random.choice",
        "numpy.random.choice",
        "numpy.random.RandomState.choice",
        "numpy.random.Generator.choice",
    }
)


LINSPACE = frozenset({"numpy.linspace", "torch.linspace"})


ARANGE = frozenset({"numpy.arange", "torch.arange"})


# Calls that draw from a random generator, by qualified name (global-state or Generator).
RANDOM_PREFIXES = ("random.", "numpy.random.")


TORCH_RANDOM = frozenset(
    {
        "torch.randint",
        "torch.rand",
        "torch.randn",
        "torch.randperm",
        "torch.multinomial",
        "torch.bernoulli",
        "torch.normal",
    }
)


_NOT_RANDOM_DRAWS = frozenset(
    {
        "random.seed",
        "random.Random",
        "random.getstate",
        "random.setstate",
        "numpy.random.seed",
        "numpy.random.default_rng",
        "numpy.random.Generator",
        "numpy.random.RandomState",
        "numpy.random.SeedSequence",
        "numpy.random.PCG64",
        "numpy.random.get_state",
        "numpy.random.set_state",
    }
)


_GENERATOR_METHODS = frozenset(
    {"integers", "random", "choice", "permutation", "shuffle", "uniform", "normal", "permuted"}
)


TORCHVISION_TRANSFORMS = ("torchvision.transforms.", "torchvision.transforms.v2.")


# -- calls --------------------------------------------------------------------------------------


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


def is_range_call(rule: Rule, node: cst.CSTNode) -> bool:
    if not isinstance(node, cst.Call):
        return False
    names = call_names(rule, node)
    return bool(names & ARANGE) or "range" in names or "builtins.range" in names


def random_integer_bounds(
    rule: Rule, call: cst.Call
) -> tuple[cst.BaseExpression | None, cst.BaseExpression, bool] | None:
    """(low, high, inclusive) of a random-integer draw, or None if `call` is not one.

    Knows each API's signature and convention: `random.randint(a, b)` is inclusive;
    `random.randrange(stop)` / `(start, stop)`, numpy `randint(high)` / `(low, high)`,
    `Generator.integers` (inclusive only with `endpoint=True`) and `torch.randint(high, size)` /
    `(low, high, size)` are exclusive. So is a choice from a range, `random.choice(range(a, b))` or
    `np.random.choice(range(b), k)`: the same draw spelled through the sequence.
    """
    names = random_call_names(rule, call)
    if names & CHOICE:
        pool = argument(call, 0, "seq") or argument(call, 0, "a")
        if isinstance(pool, cst.Call) and isinstance(pool.func, cst.Name) and pool.func.value == "list":
            pool = pool.args[0].value if len(pool.args) == 1 else None
        if not (isinstance(pool, cst.Call) and is_name(pool.func, "range")):
            return None
        bounds = positional_args(pool)
        if len(pool.args) != len(bounds) or len(bounds) not in (1, 2):
            return None  # a step, or keywords: not a plain interval
        return (None, bounds[0], False) if len(bounds) == 1 else (bounds[0], bounds[1], False)
    if names & INCLUSIVE_RANDINT:
        low, high = argument(call, 0, "a"), argument(call, 1, "b")
        return (low, high, True) if high is not None else None
    if not names & EXCLUSIVE_RANDINT:
        return None
    inclusive = False
    if "numpy.random.Generator.integers" in names:
        endpoint = keyword_arg(call, "endpoint")
        inclusive = endpoint is not None and code(endpoint.value) == "True"
    if "torch.randint" in names:
        pos = positional_args(call)
        if len(pos) >= 2 and keyword_arg(call, "size") is None:
            pos = pos[:-1]  # torch.randint([low,] high, size): the last positional is the size, a tuple or a name
        high_kw = keyword_arg(call, "high")
        low_kw = keyword_arg(call, "low")
        if high_kw is not None:
            return (low_kw.value if low_kw else (pos[0] if pos else None), high_kw.value, inclusive)
        if len(pos) == 1:
            return (None, pos[0], inclusive)
        if len(pos) >= 2:
            return (pos[0], pos[1], inclusive)
        return None
    # numpy `randint(low, high=None, size=None)` / `integers(low, high=None, ...)` and
    # `randrange(start, stop=None, step=1)`: the first parameter is required, and when the second is
    # absent (or None) the first is the exclusive upper bound (`randint(low=5)` draws from [0, 5)).
    first, second = ("start", "stop") if names & {"random.randrange", "random.Random.randrange"} else ("low", "high")
    low, high = argument(call, 0, first), argument(call, 1, second)
    if low is None:
        return None  # `randint(high=n)` alone: a TypeError, not a draw from [0, n)
    if high is None or is_name(high, "None"):
        if first == "start" and argument(call, 2, "step") is not None:
            return None  # `randrange(n, step=k)` raises TypeError: a step needs a stop
        return (None, low, inclusive)
    return (low, high, inclusive)


# -- random generators bound to names -----------------------------------------------------------

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
    elif isinstance(node, cst.Attribute):
        values = attribute_values(rule, node)
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


# -- what happens to a value: dtype, clamps, sorts, samplers ------------------------------------

_INTEGER_DTYPE = re.compile(r"(\bint\b|int8|int16|int32|int64|intp|int_|\blong\b|uint)")


def has_integer_dtype(call: cst.Call) -> bool:
    """`dtype=int` / `np.int64` / `torch.long` given to the call (`np.arange(0, n, n / T, dtype=int)`)."""
    dtype = keyword_arg(call, "dtype")
    return dtype is not None and bool(_INTEGER_DTYPE.search(code(dtype.value)))


_CLAMP_NAMES = frozenset(
    {"numpy.clip", "numpy.minimum", "torch.clamp", "torch.clip", "torch.minimum", "min", "builtins.min"}
)


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
                if (
                    isinstance(func, cst.Attribute)
                    and func.attr.value in _CLAMP_METHODS
                    and name in names_in(func.value)
                ):
                    return True
            return False
        else:
            return False
    return False


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
            return _name_sorted_later(rule, targets[0].value, enclosing_scope_node(rule, up), set())
        if isinstance(up, (cst.Arg, cst.Subscript, cst.SubscriptElement, cst.Index, cst.Call, cst.Attribute)):
            current = up
            continue
        return False
    return False


def _name_sorted_later(rule: Rule, name: str, scope: cst.CSTNode, seen: set[str]) -> bool:
    """`name` is sorted in `scope` (`name.sort()`, `np.sort(name)`), or flows into a name that is:
    `offsets = np.tile(offsets, k)`, `frame_idx = frame_idx + offsets`, then `np.sort(frame_idx)`
    (followed three assignments deep)."""
    seen.add(name)
    for call in find_all(scope, cst.Call):
        if is_method_call(call, name, "sort"):
            return True
        if call_names(rule, call) & _SORTERS and any(is_name(a.value, name) for a in call.args):
            return True
    if len(seen) > 3:
        return False
    for assign in find_all(scope, cst.Assign):
        if len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
            continue
        target = assign.targets[0].target.value
        if target not in seen and _carries(assign.value, name) and _name_sorted_later(rule, target, scope, seen):
            return True
    return False


_CARRIERS = frozenset({"tile", "repeat", "concatenate", "hstack", "stack", "asarray", "array", "list", "flatten"})


def _carries(value: cst.BaseExpression, name: str) -> bool:
    """`value` holds the values of `name` themselves: `name`, arithmetic on it (`base + name`), or
    `np.tile` / `np.repeat` / `np.concatenate` / `list(...)` of it; not a lookup (`frames[name]`)."""
    if is_name(value, name):
        return True
    if isinstance(value, cst.BinaryOperation):
        return _carries(value.left, name) or _carries(value.right, name)
    if isinstance(value, cst.Call):
        last = value.func.attr.value if isinstance(value.func, cst.Attribute) else getattr(value.func, "value", None)
        if last in _CARRIERS:
            return any(_carries(arg.value, name) for arg in value.args) or (
                isinstance(value.func, cst.Attribute) and _carries(value.func.value, name)
            )
    if isinstance(value, (cst.List, cst.Tuple)):
        return any(_carries(e.value, name) for e in value.elements if isinstance(e, cst.Element))
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
