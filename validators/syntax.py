"""Syntax helpers of the static rules: what a node is, where it sits, what a name is bound to.

Plain questions about the tree, with no knowledge of any API or naming convention: "is this
`X - k`?", "which function encloses this call?", "what was `n` assigned?", "does this scope compare
`n` with `T`?", and the two fix builders (`minus_one`, `plus_one`). The API tables live in
`apis`, the name heuristics in `names`, window bounds and strides in `windows`; `astutil`
re-exports all four for the rules (`au.code(...)`). Only libcst is imported.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst
from temporalkit.validators import analysis, tree
from temporalkit.validators.rule import Rule

_EMPTY_MODULE = cst.Module([])


# -- finding nodes ------------------------------------------------------------------------------

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
    if (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, cst.Integer)
    ):
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


# -- scope and ancestry -------------------------------------------------------------------------


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
    """The right-hand sides of the plain assignments `name = value` that may reach `name_node`."""
    return _reaching(rule, name_node, visible_assigned_values(rule, name_node))


def visible_assigned_values(rule: Rule, name_node: cst.Name) -> list[cst.BaseExpression]:
    """The right-hand sides of the plain assignments `name = value` visible from `name_node`."""
    if not rule.analysis.may_be_assigned(name_node.value):
        return []
    if not rule.analysis.plain_values(name_node.value, name_node):  # no `name = value` it may see: no scopes
        return []
    values = rule.analysis.visible_plain_values(name_node)  # the same answer from the scope table
    if values is not None:
        return values
    scope = rule.scope_of(name_node)
    if scope is None:
        return []
    values: list[cst.BaseExpression] = []
    # a set: in the order the assignments were made, so the answer does not depend on hashing (an
    # assignment under `global` takes the module's count at the time: ties go by source order)
    order = rule.analysis.source_order
    for assignment in sorted(
        scope[name_node.value], key=lambda a: (getattr(a, "_index", 0), order(getattr(a, "node", None)))
    ):
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


def _reaching(rule: Rule, name_node: cst.Name, values: list[cst.BaseExpression]) -> list[cst.BaseExpression]:
    """`values` less those an assignment always made between them and `name_node` replaces.

    The nearest `name = value` in a block holding the use, before the statement holding it, runs
    before the use on every path: earlier assignments (another `if` branch's, an initial value)
    cannot reach it. Kept: that assignment, any made after it and before the use (a nested `if`'s
    `step = 1`), and any inside a loop around the use that starts after it (the next iteration's).
    """
    if len(values) < 2:
        return values
    root = enclosing_scope_node(rule, name_node)
    preorder = rule.analysis.module_fact(
        f"preorder:{id(root)}", lambda: {node: i for i, node in enumerate(tree.nodes(root))}
    )

    def order(node: cst.CSTNode) -> int:
        return preorder.get(node, -1)

    statement_of = {}
    for value in values:
        assign = parent(rule, value)
        line = parent(rule, assign) if isinstance(assign, (cst.Assign, cst.AnnAssign)) else None
        if isinstance(line, cst.SimpleStatementLine):
            statement_of[id(value)] = line
    dominating = None
    current: cst.CSTNode = name_node
    for anc in ancestors(rule, name_node):
        if isinstance(anc, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            break
        body = getattr(anc, "body", None)
        if isinstance(anc, (cst.IndentedBlock, cst.Module)) and isinstance(body, (list, tuple)) and current in body:
            at = body.index(current)
            earlier = [line for line in statement_of.values() if line in body[:at]]
            if earlier:
                dominating = max(earlier, key=order)
                break
        current = anc
    if dominating is None:
        return values
    start, use = order(dominating), order(name_node)
    loops = [anc for anc in ancestors(rule, name_node) if isinstance(anc, (cst.For, cst.While)) and order(anc) > start]
    kept = []
    for value in values:
        at = order(value)
        if start <= at <= use or any(loop in ancestors(rule, value) for loop in loops):
            kept.append(value)
    return kept or values


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


def constant_name(rule: Rule, node: cst.CSTNode) -> bool:
    """A name bound only to integer literals (`n_crops = 3`)."""
    if not isinstance(node, cst.Name):
        return False
    # The visible assignments are among the module's: without an integer there, the answer is no
    # (and the file's scope analysis, the costliest part of reading it, is not needed for it).
    if not any(int_value(v) is not None for v in rule.analysis.plain_values(node.value, node)):
        return False
    values = assigned_values(rule, node)
    return bool(values) and all(int_value(v) is not None for v in values)


def attribute_values(rule: Rule, node: cst.Attribute) -> list[cst.BaseExpression]:
    """What `self.x` is assigned anywhere in its class (`self.x = value` in any method), in source order;
    [] outside a class or for another receiver."""
    if not is_name(node.value, "self"):
        return []
    cls = next((a for a in ancestors(rule, node) if isinstance(a, cst.ClassDef)), None)
    if cls is None:
        return []
    target = dotted(node)
    return [
        assign.value for assign in find_all(cls, cst.Assign) if any(dotted(t.target) == target for t in assign.targets)
    ]


def is_assignment_target(rule: Rule, name: cst.Name) -> bool:
    """`name` is the whole target of an assignment (`x = ...`, one of `a = b = ...`): bound there, not read."""
    up = parent(rule, name)
    return isinstance(up, cst.AssignTarget) and up.target is name


def bound_name(rule: Rule, node: cst.CSTNode) -> cst.BaseAssignTargetExpression | None:
    """The single target `x` / `self.x` of `x = <... node ...>` when `node` is (part of) its value."""
    current = node
    for _ in range(6):
        up = parent(rule, current)
        if (
            up is None
            or isinstance(up, (cst.BaseSmallStatement, cst.BaseCompoundStatement))
            and not isinstance(up, (cst.Assign, cst.AnnAssign))
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


# -- guards -------------------------------------------------------------------------------------


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


def with_aliases(scope_node: cst.CSTNode, names: set[str]) -> set[str]:
    """`names` and the names they are bound to in `scope_node`, one assignment deep: `{end, vlen}` for `{end}`
    after `start, end = 0, vlen` (a tuple assignment) or `end = vlen`."""
    aliases = _aliases(scope_node)
    return names.union(*(aliases.get(name, set()) for name in names))


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


# -- fix builders -------------------------------------------------------------------------------


def minus_one(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`expr - 1`, parenthesised when `expr` binds looser than subtraction."""
    if not isinstance(expr, (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.BinaryOperation)) or (
        isinstance(expr, cst.BinaryOperation)
        and not isinstance(expr.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide))
    ):
        expr = expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.BinaryOperation(left=expr, operator=cst.Subtract(), right=cst.Integer("1"))


def plus_one(expr: cst.BaseExpression) -> cst.BaseExpression:
    return cst.BinaryOperation(left=expr, operator=cst.Add(), right=cst.Integer("1"))
