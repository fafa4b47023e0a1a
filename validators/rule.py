"""Base class for static rules, in the manner of Fixit's `LintRule`.

A rule is a libcst visitor with class-level metadata (id, category, severity, message,
suggested fix), its own `VALID` / `INVALID` examples, and a `TRIGGERS` tuple of plain
substrings: a file whose text contains none of a rule's triggers is never analysed by it,
which lets the engine skip metadata resolution for most files.

Rule docstrings are written in four parts (what it does / why it is bad / example / fix),
and are the single source the skill template and `--help` render from.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from functools import cache
from typing import ClassVar

import libcst as cst
from libcst.metadata import (
    ParentNodeProvider,
    PositionProvider,
    QualifiedName,
    QualifiedNameProvider,
    ScopeProvider,
)


@cache
def _visitor_method_names(cls: type) -> tuple[str, ...]:
    return tuple(
        name
        for name in dir(cls)
        if name.startswith(("visit_", "leave_")) and not getattr(getattr(cls, name), "_is_no_op", False)
    )


@dataclass(frozen=True)
class Valid:
    """Code the rule must stay quiet on."""

    code: str


@dataclass(frozen=True)
class Invalid:
    """Code the rule must flag; `expected_fix` is the whole module after `--fix` (None: no autofix)."""

    code: str
    expected_fix: str | None = None
    expected_line: int | None = None


@dataclass
class Report:
    """What a rule reported: where, what, and optionally the node to put in its place."""

    rule: "type[Rule]"
    node: cst.CSTNode
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    fix: str
    replacement: cst.CSTNode | cst.RemovalSentinel | None = None


class Rule(cst.BatchableCSTVisitor):
    ID: ClassVar[str] = ""
    CATEGORY: ClassVar[str] = ""
    SEVERITY: ClassVar[str] = "error"
    MESSAGE: ClassVar[str] = ""
    FIX: ClassVar[str] = ""
    TRIGGERS: ClassVar[tuple[str, ...]] = ()
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []

    METADATA_DEPENDENCIES = (
        PositionProvider,
        QualifiedNameProvider,
        ScopeProvider,
        ParentNodeProvider,
    )

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[Report] = []

    # The engine runs every rule in one traversal (`MetadataWrapper.visit_batched`), as Fixit does:
    # a file costs one walk of its tree instead of one walk per rule. Rules must therefore not rely on
    # returning False from a visit_* method to skip children.
    def get_visitors(self) -> dict[str, Callable[..., object]]:
        # libcst's version calls inspect.getmembers on every instance (tens of ms a file); the
        # method names are a property of the class, so look them up once per class.
        return {name: getattr(self, name) for name in _visitor_method_names(type(self))}

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def applies_to(cls, source_text: str) -> bool:
        return not cls.TRIGGERS or any(t in source_text for t in cls.TRIGGERS)

    # -- helpers for subclasses -------------------------------------------------
    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """Fully qualified names `node` may refer to (`np.linspace` -> {"numpy.linspace"})."""
        names: set[QualifiedName] = self.get_metadata(QualifiedNameProvider, node, set())
        return {q.name for q in names}

    def refers_to(self, node: cst.CSTNode, *qualified: str) -> bool:
        return bool(self.qualified_names(node) & set(qualified))

    def report(
        self,
        node: cst.CSTNode,
        message: str | None = None,
        *,
        fix: str | None = None,
        replacement: cst.CSTNode | cst.RemovalSentinel | None = None,
    ) -> None:
        pos = self.get_metadata(PositionProvider, node)
        self.reports.append(
            Report(
                rule=type(self),
                node=node,
                line=pos.start.line,
                column=pos.start.column,
                end_line=pos.end.line,
                end_column=pos.end.column,
                message=message or self.MESSAGE,
                fix=fix if fix is not None else self.FIX,
                replacement=replacement,
            )
        )
