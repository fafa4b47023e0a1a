"""A read-only walk of a libcst tree that is several times faster than `CSTNode.visit`.

libcst's visitors rebuild every node they pass (`_visit_and_replace_children`), and each
metadata provider is one more such pass; for the auditor, which only reads, that was most of
the time spent on a file. `walk` reads the children straight from the node's fields, skipping
whitespace and parentheses (no rule looks at them), in the order libcst itself visits them:
the order of a node type's fields is learnt once from libcst's own `children`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterator, Sequence

import libcst as cst

# Formatting-only nodes: never visited, never anyone's parent of interest.
_FORMATTING = (
    cst.BaseParenthesizableWhitespace,
    cst.EmptyLine,
    cst.TrailingWhitespace,
    cst.Newline,
    cst.Comment,
    cst.LeftParen,
    cst.RightParen,
)

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
_FIELD_ORDER: dict[tuple, tuple[int, ...] | None] = {}


def _may_hold_nodes(annotation: object) -> bool:
    """False for a field that can only hold formatting nodes or plain values (str, bool, ...)."""
    if isinstance(annotation, type):
        if issubclass(annotation, _FORMATTING):
            return False
        return issubclass(annotation, cst.CSTNode)
    args = typing.get_args(annotation)
    if args:
        return any(_may_hold_nodes(arg) for arg in args)
    # a forward reference or a type alias libcst did not resolve: look, to be safe
    return not isinstance(annotation, type)


def _child_fields(cls: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        if not dataclasses.is_dataclass(cls):
            fields = ()
        else:
            try:
                hints = typing.get_type_hints(cls)
            except Exception:  # an unresolvable forward reference: fall back to the raw annotations
                hints = {}
            fields = tuple(f.name for f in dataclasses.fields(cls) if _may_hold_nodes(hints.get(f.name, f.type)))
        _CHILD_FIELDS[cls] = fields
    return fields


# Type -> 2 for a content node, 1 for a formatting node, 0 for anything else. Looked up by exact
# type because isinstance against libcst's abstract node classes (ABCMeta) is slow when it fails.
_KIND: dict[type, int] = {}


def _kind(value_type: type) -> int:
    kind = _KIND.get(value_type)
    if kind is None:
        if not issubclass(value_type, cst.CSTNode):
            kind = 0
        else:
            kind = 1 if issubclass(value_type, _FORMATTING) else 2
        _KIND[value_type] = kind
    return kind


def _learn_order(node: cst.CSTNode, present: tuple[str, ...]) -> tuple[int, ...] | None:
    """How libcst orders the `present` fields of `node` (indices into `present`; None: as listed)."""
    owner: dict[int, str] = {}
    for name in present:
        value = getattr(node, name)
        for item in value if type(value) in (tuple, list) else (value,):
            owner.setdefault(id(item), name)
    order: list[str] = []
    for child in node.children:
        name = owner.get(id(child))
        if name is not None and name not in order:
            order.append(name)
    order.extend(name for name in present if name not in order)
    permutation = tuple(present.index(name) for name in order)
    return None if permutation == tuple(range(len(present))) else permutation


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The non-formatting children of `node`, in source order."""
    cls = type(node)
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _child_fields(cls)
    present: list[str] = []
    values: list[object] = []  # a node, or a list of the content nodes of a sequence field
    kinds = _KIND
    for name in fields:
        value = getattr(node, name)
        value_type = type(value)
        if value_type is tuple or value_type is list:
            items = [item for item in value if (kinds.get(type(item)) or _kind(type(item))) == 2]
            if items:
                present.append(name)
                values.append(items)
        elif (kinds.get(value_type) or _kind(value_type)) == 2:
            present.append(name)
            values.append(value)
    if not values:
        return []
    key = (cls, *present)
    if key in _FIELD_ORDER:
        permutation = _FIELD_ORDER[key]
    else:
        permutation = _FIELD_ORDER[key] = _learn_order(node, tuple(present))
    if permutation is not None:
        values = [values[i] for i in permutation]
    found: list[cst.CSTNode] = []
    for value in values:
        if type(value) is list:
            found.extend(value)
        else:
            found.append(value)  # type: ignore[arg-type]
    return found


# A children cache (node -> `children(node)`, a list its users never change) may be passed to the
# whole-tree walks below: nodes are immutable, so an entry holds for as long as the node lives, in
# every tree that holds it (a fixed module keeps the unchanged subtrees of the module it was made from).
ChildrenCache = dict
_NO_CHILDREN: tuple = ()


def walk(root: cst.CSTNode, cache: ChildrenCache | None = None) -> Iterator[tuple[cst.CSTNode, bool]]:
    """(node, leaving) events of a depth-first walk: `(n, False)` before n's children, `(n, True)` after."""
    stack: list[tuple[cst.CSTNode, bool]] = [(root, False)]
    known = cache.get if cache is not None else None
    while stack:
        node, leaving = stack.pop()
        yield node, leaving
        if not leaving:
            stack.append((node, True))
            kids = known(node) if known is not None else None
            if kids is None:
                kids = children(node)
            stack.extend((child, False) for child in reversed(kids))


def nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every non-formatting node under `root` (itself included), in pre-order."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def find_all(
    root: cst.CSTNode, types: type | tuple[type, ...], where: Callable[[typing.Any], bool] | None = None
) -> list[typing.Any]:
    """Every node under `root` (itself included), in source order, that is a `types` and satisfies `where`."""
    matches: dict[type, bool] = {}
    found = []
    for node in nodes(root):
        node_type = type(node)
        match = matches.get(node_type)
        if match is None:
            match = matches[node_type] = issubclass(node_type, types)
        if match and (where is None or where(node)):
            found.append(node)
    return found


def parents(root: cst.CSTNode, cache: ChildrenCache | None = None) -> dict[cst.CSTNode, cst.CSTNode]:
    """Child -> parent for every non-formatting node under `root`. `cache`: filled as it goes.

    Parents are visited in pre-order, so the children of each are entered in source order after
    those of every node before it: statements (whose parents are statement lines and blocks) come
    in source order, which `analysis` relies on for the order of assignments."""
    return _parents(root, cache)[0]


def parents_of_tree(root: cst.CSTNode, cache: ChildrenCache | None = None) -> dict[cst.CSTNode, cst.CSTNode] | None:
    """`parents(root, cache)`, or None when some non-formatting node is reached twice: a tree built
    by replacing nodes may hold one node object in two places (a parsed module never does), and then
    that node has no one parent."""
    parent_of, reached = _parents(root, cache)
    return parent_of if reached == len(parent_of) else None


def _parents(root: cst.CSTNode, cache: ChildrenCache | None) -> tuple[dict[cst.CSTNode, cst.CSTNode], int]:
    parent_of: dict[cst.CSTNode, cst.CSTNode] = {}
    if cache is None:
        cache = {}
    known = cache.get
    reached = 0
    stack = [root]
    while stack:
        node = stack.pop()
        kids = known(node)
        if kids is None:
            kids = cache[node] = children(node) or _NO_CHILDREN  # one object for all the leaves
        reached += len(kids)
        for child in kids:
            parent_of[child] = node
        stack.extend(reversed(kids))
    return parent_of, reached


_COMPARED: dict[type, tuple[str, ...]] = {}


def same_tree(a: object, b: object) -> bool:
    """libcst's `a.deep_equals(b)` (same node types, every compared field equal: whitespace, commas
    and parentheses included; sequences item by item), without its recursion and at a fraction of its
    cost."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        kind = type(x)
        if kind is not type(y):
            if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)) and len(x) == len(y):
                stack.extend(zip(x, y))  # a sequence field may be a list in one tree, a tuple in the other
                continue
            return False
        if kind is list or kind is tuple:
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif isinstance(x, cst.CSTNode):
            names = _COMPARED.get(kind)
            if names is None:
                names = _COMPARED[kind] = tuple(f.name for f in dataclasses.fields(x) if f.compare)
            stack.extend((getattr(x, name), getattr(y, name)) for name in names)
        elif x != y:
            return False
    return True


def dispatch(root: cst.CSTNode, visitors: Sequence[object], cache: ChildrenCache | None = None) -> None:
    """Call each visitor's `visit_<Type>(node)` / `leave_<Type>(node)` methods over one walk of the tree."""
    table: dict[tuple[str, bool], list[Callable[[cst.CSTNode], object]]] = {}
    for visitor in visitors:
        for name in dir(type(visitor)):
            if name.startswith("visit_"):
                table.setdefault((name[6:], False), []).append(getattr(visitor, name))
            elif name.startswith("leave_"):
                table.setdefault((name[6:], True), []).append(getattr(visitor, name))
    if not table:
        return
    by_type: dict[tuple[type, bool], list[Callable[[cst.CSTNode], object]]] = {}
    for node, leaving in walk(root, cache):
        key = (type(node), leaving)
        methods = by_type.get(key)
        if methods is None:
            methods = by_type[key] = table.get((key[0].__name__, leaving), [])
        for method in methods:
            method(node)
