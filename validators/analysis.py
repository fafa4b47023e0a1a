"""What rules may ask about one parsed module: parents, scopes, qualified names, positions.

Scope analysis is the costly part of reading a file (two full libcst passes, about three
quarters of the time on a large tree), and most of what rules ask does not need it: "is
`np.linspace` numpy's linspace?" is answered by the file's one `import numpy as np`. So
qualified names come from a table of the file's bindings when that table settles the answer,
and from libcst's scope analysis otherwise: when a name is imported more than once, imported
inside a function or class, imported relatively or with `*`, or also bound by an assignment,
parameter, loop, `def`, ... The two agree by construction on the cases the table answers
(tests/test_analysis.py compares them on every name of a corpus).

A name that is also assigned (`try: import cv2 / except ImportError: cv2 = None`), and the
`name = value` statements a read may see (`syntax.assigned_values`), are answered by `ScopeTable`,
which finds the scope binding a name the way libcst does, for the plain cases; libcst's scope
analysis remains the answer for what the table does not model (see its docstring).

Qualified names are those that come from an import or a builtin (`numpy.linspace`,
`builtins.range`): names of the user's own variables (`f.<locals>.frames.view`) are never
what a rule looks for.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import libcst as cst
from libcst._nodes.internal import CodegenState  # the base of libcst's own position-providing state
from libcst.helpers import get_full_name_for_node
from libcst.metadata import ImportAssignment, MetadataWrapper, QualifiedNameSource, ScopeProvider
from temporalkit.validators import tree

if TYPE_CHECKING:
    from libcst.metadata import Scope
    from temporalkit.validators.rule import Report

_WANTED_SOURCES = (QualifiedNameSource.IMPORT, QualifiedNameSource.BUILTIN)
_SCOPE_OWNERS = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)

# How each kind of node binds names.
_BINDING_KINDS: dict[type, str] = {
    cst.Import: "import",
    cst.ImportFrom: "import",
    cst.AssignTarget: "target",
    cst.AnnAssign: "target",
    cst.AugAssign: "target",
    cst.For: "target",
    cst.CompFor: "target",
    cst.NamedExpr: "target",
    cst.Del: "target",
    cst.AsName: "as",
    cst.FunctionDef: "name",
    cst.ClassDef: "name",
    cst.TypeAlias: "name",
    cst.TypeVar: "name",
    cst.TypeVarTuple: "name",
    cst.ParamSpec: "name",
    cst.Param: "name",
    cst.Global: "declared",
    cst.Nonlocal: "declared",
    cst.MatchAs: "match",
    cst.MatchStar: "match",
    cst.MatchMapping: "rest",
}


class Bindings:
    """Which names the module binds, and how: a conservative summary for `Analysis`."""

    def __init__(self, parents: dict[cst.CSTNode, cst.CSTNode]) -> None:
        # name -> (import statement that binds it, the function or class it sits in, None: the module)
        self.imports: dict[str, list[tuple[cst.Import | cst.ImportFrom, cst.CSTNode | None]]] = {}
        self.other: set[str] = set()
        self.unsure = False  # a star import: any name may come from it
        self.dotted_imports: set[str] = set()  # roots of `import a.b` (which also binds `a.b`)
        self._by_owner: dict[str, dict[cst.CSTNode | None, list[cst.Import | cst.ImportFrom]]] = {}
        # Exact-type dispatch: parse trees hold only concrete node classes, and a failing
        # isinstance against libcst's classes (ABCMeta) costs more than the whole lookup.
        for node, parent in parents.items():
            kind = _BINDING_KINDS.get(type(node))
            if kind is None:
                continue
            if kind == "import":
                self._add_import(node, parents)
            elif kind == "target":
                self._add_target(node.target)
            elif kind == "as":
                if type(parent) is not cst.ImportAlias:
                    self._add_target(node.name)
            elif kind == "name":
                self.other.add(node.name.value)
            elif kind == "declared":  # global / nonlocal: the name is bound in another scope
                self.other.update(item.name.value for item in node.names)
            elif kind == "match" and node.name is not None:
                self.other.add(node.name.value)
            elif kind == "rest" and node.rest is not None:
                self.other.add(node.rest.value)
        if self.unsure:
            self.imports.clear()

    def _add_import(self, node: cst.Import | cst.ImportFrom, parents: dict[cst.CSTNode, cst.CSTNode]) -> None:
        if isinstance(node.names, cst.ImportStar):
            self.unsure = True
            return
        owner = next((a for a in ancestors(node, parents) if type(a) in _SCOPE_OWNERS), None)
        for alias in node.names:
            bound = alias.evaluated_alias or alias.evaluated_name.split(".")[0]
            self.imports.setdefault(bound, []).append((node, owner))
            if alias.evaluated_alias is None and "." in alias.evaluated_name:
                self.dotted_imports.add(bound)

    def _add_target(self, target: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.other.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._add_target(element.value)
        elif isinstance(target, cst.StarredElement):
            self._add_target(target.value)

    def visible_imports(
        self, name: str, node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode]
    ) -> list[cst.Import | cst.ImportFrom] | None:
        """The import statements `name` resolves to where `node` reads it ([]: none), or None when unsure.

        Only for names bound by imports alone. As in Python and libcst, the innermost function
        (or the module) that imports the name wins, and a class body's imports are seen from the
        class body itself but not from the functions in it. Anything subtler (an access in a
        function's header, a comprehension or lambda inside a class that imports) is left to
        the scope analysis.
        """
        if self.unsure or name in self.other:
            return None
        by_owner = self._by_owner.get(name)
        if by_owner is None:  # grouped once per name: a file importing numpy in each of n functions is not n^2
            by_owner = self._by_owner[name] = {}
            for statement, owner in self.imports.get(name, ()):
                by_owner.setdefault(owner, []).append(statement)
        innermost = True
        child = node
        for ancestor in ancestors(node, parents):
            kind = type(ancestor)
            if kind in _SCOPE_OWNERS or kind in _COMPREHENSIONS:
                in_body = kind not in _COMPREHENSIONS and child is ancestor.body
                if ancestor in by_owner:
                    if not in_body or (kind is cst.ClassDef and not innermost):
                        return None
                    return by_owner[ancestor]
                if in_body or kind in _COMPREHENSIONS:
                    innermost = False
            child = ancestor
        return by_owner.get(None, [])


_UNSCOPED_PARENTS = (
    cst.ImportAlias,
    cst.ImportFrom,
    cst.Import,
    cst.NameItem,
    cst.Param,
    cst.FunctionDef,
    cst.ClassDef,
)
_HEADER = object()  # a place `ScopeTable` does not model: a def's or lambda's parameter list
_BUILTINS = object()  # no scope of the file binds the name
# Statements whose targets a name store binds (as libcst's ExpressionContextProvider marks STORE).
_TARGETS: dict[type, str] = {cst.AnnAssign: "target", cst.AugAssign: "target", cst.For: "target"}
# Binding forms the table does not model: a name they bind is left to the scope analysis.
_UNMODELLED = (cst.NamedExpr, cst.Global, cst.Nonlocal, cst.MatchAs, cst.MatchStar, cst.MatchMapping)
# Forms that make new kinds of scopes (PEP 695): their whole file is left to the scope analysis.
_DISABLING = (cst.TypeAlias, cst.TypeParameters, cst.Match)


class ScopeTable:
    """Which scopes bind each name: libcst's scope resolution for the plain cases, without its two passes.

    libcst's ScopeProvider records every assignment and every access, then gives each access the set
    of assignments it may see; on a file that binds a name n times and reads it m times (a module
    importing numpy in each of its sections, or `try: import cv2 / except: cv2 = None`) that is
    n x m work, and it is the costliest part of reading a file. Rules ask two things of it: which
    `name = value` statements may bind a name where it is read (`syntax.assigned_values`), and the
    imports a name read in a function refers to when the module also assigns it. Both follow from
    which scope binds the name, found the way libcst finds it: the scope of the read, then the
    enclosing function scopes (class bodies are not seen from their methods, as in Python), the
    module, the builtins. Bindings are those libcst records: targets of assignments, `for`, `with`
    and `except ... as`, comprehension targets, imports, parameters, `def` and `class` names.

    The table answers None (ask libcst) for what it does not model: names that a walrus, a `global`
    or `nonlocal` declaration or a `match` pattern binds, reads in a parameter list, and whole files
    with PEP 695 type parameters or `match` statements. tests/test_analysis.py compares its answers
    with libcst's on every name of the project's sources and the rule examples.
    """

    def __init__(self, parents: dict[cst.CSTNode, cst.CSTNode]) -> None:
        self._parents = parents
        self.bound: dict[str, set[cst.CSTNode | None]] = {}  # name -> scopes binding it (None: the module)
        self.unsure: set[str] = set()
        self.disabled = False
        self._owner_of: dict[cst.CSTNode, object] = {}
        for node in parents:
            kind = type(node)
            if kind is cst.Assign:
                owner = self.scope_of(node)
                for target in node.targets:
                    self._bind_target(target.target, owner)
            elif kind in _TARGETS:
                self._bind_target(node.target, self.scope_of(node))
            elif kind is cst.CompFor:
                self._bind_target(node.target, self._comprehension_of(node))
            elif kind is cst.AsName:
                if type(parents.get(node)) is not cst.ImportAlias:
                    self._bind_target(node.name, self.scope_of(node))
            elif kind is cst.Import or kind is cst.ImportFrom:
                if isinstance(node.names, cst.ImportStar):
                    self.disabled = True
                    continue
                owner = self.scope_of(node)
                for alias in node.names:
                    self._bind(alias.evaluated_alias or alias.evaluated_name.split(".")[0], owner)
            elif kind is cst.FunctionDef or kind is cst.ClassDef:
                self._bind(node.name.value, self.scope_of(node))
            elif kind is cst.Param:
                function = next(a for a in ancestors(node, parents) if type(a) in (cst.FunctionDef, cst.Lambda))
                self._bind(node.name.value, function)
            elif kind in _UNMODELLED:
                for name in tree.find_all(node, cst.Name):
                    self.unsure.add(name.value)
            elif kind in _DISABLING:
                self.disabled = True

    def _bind(self, name: str, owner: object) -> None:
        if owner is _HEADER:
            self.unsure.add(name)
        else:
            self.bound.setdefault(name, set()).add(owner)  # type: ignore[arg-type]

    def _bind_target(self, target: cst.CSTNode, owner: object) -> None:
        kind = type(target)
        if kind is cst.Name:
            self._bind(target.value, owner)
        elif kind is cst.Tuple or kind is cst.List:
            for element in target.elements:
                self._bind_target(element.value, owner)
        elif kind is cst.StarredElement:
            self._bind_target(target.value, owner)

    def _comprehension_of(self, comp_for: cst.CompFor) -> cst.CSTNode:
        node = self._parents[comp_for]
        while type(node) is cst.CompFor:
            node = self._parents[node]
        return node

    def scope_of(self, node: cst.CSTNode) -> object:
        """The node whose scope `node` is evaluated in (a def, lambda, class or comprehension; None:
        the module), or _HEADER inside a parameter list."""
        known = self._owner_of.get(node)
        if known is not None or node in self._owner_of:
            return known
        parents = self._parents
        grandchild, child, owner = None, node, None
        for ancestor in ancestors(node, parents):
            kind = type(ancestor)
            if kind is cst.FunctionDef or kind is cst.Lambda:
                if child is ancestor.body:
                    owner = ancestor
                    break
                if child is ancestor.params:
                    owner = _HEADER
                    break
            elif kind is cst.ClassDef:
                if child is ancestor.body:
                    owner = ancestor
                    break
            elif kind in _COMPREHENSIONS:
                # The first `for`'s iterable is evaluated in the enclosing scope, the rest inside.
                if not (child is ancestor.for_in and grandchild is ancestor.for_in.iter):
                    owner = ancestor
                    break
            grandchild, child = child, ancestor
        self._owner_of[node] = owner
        return owner

    def binding_scope(self, name: str, node: cst.CSTNode) -> tuple[object, bool] | None:
        """(the scope whose bindings of `name` a read at `node` sees, whether that is the read's own
        scope); the scope is _BUILTINS when none binds it. None when the table cannot tell."""
        if self.disabled or name in self.unsure:
            return None
        scope = self.scope_of(node)
        owners = self.bound.get(name, ())
        own = True
        while True:
            if scope is _HEADER:
                return None
            if scope in owners:
                return scope, own
            if scope is None:
                return _BUILTINS, False
            own = False
            scope = self.scope_of(scope)  # where the def, class or comprehension itself sits
            while type(scope) is cst.ClassDef:  # a class body is not visible from the scopes in it
                scope = self.scope_of(scope)


def ancestors(node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """The parent of `node`, its parent, ... up to the module."""
    current = parents.get(node)
    while current is not None:
        yield current
        current = parents.get(current)


class Analysis:
    """Parents from one fast walk; bindings, scopes and positions computed when first needed."""

    def __init__(
        self,
        module: cst.Module,
        parents: dict[cst.CSTNode, cst.CSTNode] | None = None,
        positions: dict[cst.CSTNode, tuple[tuple[int, int], tuple[int, int]]] | None = None,
        children: tree.ChildrenCache | None = None,
    ) -> None:
        """`parents` (`tree.parents(module)`) and `positions` (`syntactic_positions(module)`), when
        already computed; `children`: a children cache to use and fill (see `tree`)."""
        self.children: tree.ChildrenCache = {} if children is None else children
        self.parents = tree.parents(module, self.children) if parents is None else parents
        self._wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self._scopes: dict[cst.CSTNode, Scope | None] | None = None
        self._bindings: Bindings | None = None
        # name -> (function or class the assignment sits in, None: the module, assigned value)
        self._plain_assignments: dict[str, list[tuple[cst.CSTNode | None, cst.BaseExpression]]] | None = None
        self._redirected: set[str] = set()  # names some `global` / `nonlocal` statement declares
        # (id of a visible_imports group, dotted name) -> qualified names; the groups live as long as the bindings
        self._import_names: dict[tuple[int, str], set[str]] = {}
        self._scope_table: ScopeTable | None = None
        self._names_in_scope: dict[tuple[int, str], set[str]] = {}  # (id of a scope node, dotted name) -> names
        self._order: dict[cst.CSTNode, int] | None = None
        self._plain_grouped: dict[str, dict[cst.CSTNode | None, list[cst.BaseExpression]]] = {}
        self._module_facts: dict[str, object] = {}
        self._positions = positions

    @property
    def bindings(self) -> Bindings:
        if self._bindings is None:
            self._bindings = Bindings(self.parents)
        return self._bindings

    def plain_values(self, name: str, node: cst.CSTNode) -> list[cst.BaseExpression]:
        """The values of the `name = value` / `name: T = value` statements that may bind `name` where
        `node` reads it: those at module level or in a function or class around `node` (all of them
        for a name some function declares global or nonlocal). What scope analysis finds for `name`
        there is among these, so when none could answer a question, no scope analysis is needed."""
        if self._plain_assignments is None:
            self._plain_assignments = self._collect_plain_assignments()
        entries = self._plain_assignments.get(name)
        if not entries:
            return []
        if name in self._redirected:
            return [value for _, value in entries]
        by_owner = self._plain_by_owner(name)
        values = list(by_owner.get(None, ()))
        for ancestor in ancestors(node, self.parents):
            if type(ancestor) in _SCOPE_OWNERS:
                values += by_owner.get(ancestor, ())
        return values

    def _plain_by_owner(self, name: str) -> dict[cst.CSTNode | None, list[cst.BaseExpression]]:
        """`name`'s plain assignment values grouped by the function or class they sit in (None: the
        module), each group in source order; grouped once per name (a file assigning `cv2 = None` in
        each of its n sections is not n x n)."""
        grouped = self._plain_grouped.get(name)
        if grouped is None:
            grouped = self._plain_grouped[name] = {}
            for owner, value in self._plain_assignments.get(name, ()):  # type: ignore[union-attr]
                grouped.setdefault(owner, []).append(value)
        return grouped

    def _collect_plain_assignments(self) -> dict[str, list[tuple[cst.CSTNode | None, cst.BaseExpression]]]:
        plain: dict[str, list[tuple[cst.CSTNode | None, cst.BaseExpression]]] = {}
        for node in self.parents:
            kind = type(node)
            if kind is cst.Assign:
                names = [t.target.value for t in node.targets if type(t.target) is cst.Name]
            elif kind is cst.AnnAssign and node.value is not None and type(node.target) is cst.Name:
                names = [node.target.value]
            else:
                if kind is cst.Global or kind is cst.Nonlocal:
                    self._redirected.update(item.name.value for item in node.names)
                continue
            if names:
                owner = next((a for a in ancestors(node, self.parents) if type(a) in _SCOPE_OWNERS), None)
                for name in names:
                    plain.setdefault(name, []).append((owner, node.value))
        return plain

    @property
    def scope_table(self) -> ScopeTable:
        if self._scope_table is None:
            self._scope_table = ScopeTable(self.parents)
        return self._scope_table

    def visible_plain_values(self, name_node: cst.Name) -> list[cst.BaseExpression] | None:
        """The values of the `name = value` / `name: T = value` statements in the scope that binds
        `name_node`'s name where it is read, in source order: what libcst's `scope[name]` holds of
        them. None when the scope table cannot tell (then ask the scope analysis)."""
        parent = self.parents.get(name_node)
        kind = type(parent)
        if (kind is cst.Attribute and parent.attr is name_node) or (kind is cst.Arg and parent.keyword is name_node):
            return []  # libcst's scope analysis never visits these names: they have no scope
        while kind is cst.Attribute or kind is cst.AsName:  # a dotted name in an import, an `as` name
            parent = self.parents.get(parent)
            kind = type(parent)
        if kind in _UNSCOPED_PARENTS:
            return None  # names in imports, `global`, headers: libcst's own answer
        found = self.scope_table.binding_scope(name_node.value, name_node)
        if found is None:
            return None
        scope = found[0]
        if scope is _BUILTINS:
            return []
        if self._plain_assignments is None:
            self._plain_assignments = self._collect_plain_assignments()
        return list(self._plain_by_owner(name_node.value).get(scope, ()))  # type: ignore[arg-type]

    def module_fact(self, key: str, compute: Callable[[], object]) -> object:
        """compute(), once per module: for a fact about the whole file that rules ask at many nodes."""
        if key not in self._module_facts:
            self._module_facts[key] = compute()
        return self._module_facts[key]

    def source_order(self, node: cst.CSTNode | None) -> int:
        """A rank of `node` that follows the source order of statements and of their targets (the
        parent map's order: parents are walked in pre-order); -1 for None."""
        if self._order is None:
            self._order = {child: i for i, child in enumerate(self.parents)}
        return self._order.get(node, -1) if node is not None else -1

    @property
    def scopes_resolved(self) -> bool:
        return self._scopes is not None

    def scope_of(self, node: cst.CSTNode) -> Scope | None:
        if self._scopes is None:
            self._scopes = self._wrapper.resolve(ScopeProvider)
        return self._scopes.get(node)

    def may_be_assigned(self, name: str) -> bool:
        """False when nothing in the module binds `name` other than an import."""
        return self.bindings.unsure or name in self.bindings.other

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """Import and builtin qualified names of `node` (`np.linspace` -> {"numpy.linspace"})."""
        full_name = get_full_name_for_node(node)
        if full_name is None or self._is_not_a_reference(node):
            return set()
        root = full_name.split(".", 1)[0]
        bindings = self.bindings
        if not bindings.unsure:
            if root in bindings.other:
                if root not in bindings.imports and not hasattr(builtins, root):
                    return set()  # only ever the user's own variable
                names = self._names_from_another_scope(node, full_name, root)
                return names if names is not None else self.qualified_names_from_scope(node)
            statements = bindings.visible_imports(root, node, self.parents)
            if statements:
                # Memoised per import group and dotted name: a generated or concatenated file that
                # imports numpy 100 times at module level asked every statement on every lookup.
                memo_key = (id(statements), full_name)
                names = self._import_names.get(memo_key)
                if names is None:
                    names = set()
                    for statement in statements:
                        assignment = ImportAssignment(root, None, statement, 0, statement)  # type: ignore[arg-type]
                        names.update(q.name for q in assignment.get_qualified_names_for(full_name))
                    self._import_names[memo_key] = names
                return set(names)
            if statements is not None:  # nothing binds it here: a builtin, or undefined
                return {f"builtins.{root}"} if hasattr(builtins, root) else set()
        return self.qualified_names_from_scope(node)

    def _names_from_another_scope(self, node: cst.CSTNode, full_name: str, root: str) -> set[str] | None:
        """Qualified names of a read of `root` (also bound by something other than an import) when the
        scope table settles it: the name is bound in an enclosing scope, not the read's own (where
        libcst's answer depends on the order of statements). libcst then gives the read every
        binding of that scope: its imports give their qualified names, the other bindings only local
        ones, which rules never look for (`try: import cv2 / except ImportError: cv2 = None`).
        None: ask the scope analysis."""
        bindings = self.bindings
        if bindings.unsure or root in bindings.dotted_imports:
            return None  # `import a.b` also binds `a.b`, which libcst may resolve in another scope
        found = self.scope_table.binding_scope(root, node)
        if found is None or found[1]:
            return None
        scope = found[0]
        if scope is _BUILTINS:
            return {f"builtins.{root}"} if hasattr(builtins, root) else set()
        # Memoised per scope and dotted name: a concatenated file that imports cv2 in each of its n
        # sections would otherwise ask n statements on each of its reads.
        memo_key = (id(scope), full_name)
        names = self._names_in_scope.get(memo_key)
        if names is None:
            names = set()
            for statement, owner in bindings.imports.get(root, ()):
                if owner is scope:
                    assignment = ImportAssignment(root, None, statement, 0, statement)  # type: ignore[arg-type]
                    names.update(q.name for q in assignment.get_qualified_names_for(full_name))
            self._names_in_scope[memo_key] = names
        return set(names)

    def _is_not_a_reference(self, node: cst.CSTNode) -> bool:
        """An attribute's or keyword's name, or a name in an import statement: libcst gives these no scope."""
        if not isinstance(node, (cst.Name, cst.Attribute)):
            return False
        parent = self.parents.get(node)
        if isinstance(node, cst.Name) and (
            (isinstance(parent, cst.Attribute) and parent.attr is node)
            or (isinstance(parent, cst.Arg) and parent.keyword is node)
        ):
            return True
        while isinstance(parent, (cst.Attribute, cst.AsName)):
            parent = self.parents.get(parent)
        return isinstance(parent, (cst.ImportAlias, cst.ImportFrom))

    def qualified_names_from_scope(self, node: cst.CSTNode) -> set[str]:
        """The same answer from libcst's scope analysis (resolving it for the module if needed)."""
        scope = self.scope_of(node)
        if scope is None:
            return set()
        return {q.name for q in scope.get_qualified_names_for(node) if q.source in _WANTED_SOURCES}

    def place(self, reports: list[Report]) -> None:
        """Fill in the reports' line and column ranges."""
        if not reports:
            return
        if self._positions is None:  # once per module, however many groups of rules report on it
            self._positions = syntactic_positions(self._wrapper.module)
        positions = self._positions
        for report in reports:
            (report.line, report.column), (report.end_line, report.end_column) = positions[report.node]


# -- positions ------------------------------------------------------------------------------
# libcst's PositionProvider records a CodeRange of two CodePositions for every node through a
# generator-based context manager and splits every token with a regex: on a large file that was
# nine times the cost of generating the code itself, and a fifth of the audit. The same codegen
# with a lighter state gives the same (line, column) pairs (tests/test_analysis.py compares them).
_NEWLINE = re.compile(r"\r\n?|\n")  # libcst's position_provider.NEWLINE_RE


class _Syntactic:
    """record_syntactic_position's context manager (a plain class: cheaper than a generator)."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _PositionState, node, start_node, end_node) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc: object) -> None:
        state = self.state
        computed = state.computed
        start = computed[self.start_node][0] if self.start_node is not None else self.start
        end = computed[self.end_node][1] if self.end_node is not None else (state.line, state.column)
        computed[self.node] = (start, end)


class _PositionState(CodegenState):
    """libcst's PositionProvidingCodegenState, keeping plain tuples: node -> ((line, column), (line, column))."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1  # one-indexed
        self.column = 0  # zero-indexed
        self.computed: dict[cst.CSTNode, tuple[tuple[int, int], tuple[int, int]]] = {}
        self.stack: list[tuple[int, int]] = []

    def _update_position(self, value: str) -> None:
        if "\n" not in value and "\r" not in value:
            self.column += len(value)
            return
        segments = _NEWLINE.split(value)
        self.line += len(segments) - 1
        self.column = len(segments[-1])

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self._update_position(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._update_position(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.stack.pop()
        if node not in self.computed:  # a syntactic position recorded inside wins
            self.computed[node] = (start, (self.line, self.column))

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):  # type: ignore[override]
        return _Syntactic(self, node, start_node, end_node)


def syntactic_positions(module: cst.Module) -> dict[cst.CSTNode, tuple[tuple[int, int], tuple[int, int]]]:
    """node -> ((start line, start column), (end line, end column)), as libcst's PositionProvider gives them."""
    return code_and_positions(module)[1]


def code_and_positions(
    module: cst.Module,
) -> tuple[str, dict[cst.CSTNode, tuple[tuple[int, int], tuple[int, int]]]]:
    """(`module.code`, `syntactic_positions(module)`) from one pass of the code generator."""
    state = _PositionState(module)
    module._codegen(state)
    return "".join(state.tokens), state.computed
