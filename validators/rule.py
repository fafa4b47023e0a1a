"""Base class for static rules, in the manner of Fixit's `LintRule`.

A rule is a set of `visit_<NodeType>` methods over a libcst tree, with class-level metadata
(id, category, severity, message, suggested fix), its own `VALID` / `INVALID` examples, and a
`TRIGGERS` tuple of plain substrings: a file whose text contains none of a rule's triggers is
never analysed by it, which lets the engine skip parsing most files. What a rule may ask about
the tree (parents, qualified names, scopes) comes from `analysis.Analysis`.

Rule docstrings are written in four parts (what it does / why it is bad / example / fix),
and are the single source the skill template and `--help` render from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import libcst as cst
from temporalkit.validators import triggers

if TYPE_CHECKING:
    from libcst.metadata import Scope
    from temporalkit.validators.analysis import Analysis
    from temporalkit.validators.triggers import SourceText


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
    message: str
    fix: str
    replacement: cst.CSTNode | cst.RemovalSentinel | None = None
    # Filled in by the engine after the walk: positions are computed only for files with reports, and the call
    # the report is about (its node if a call, else the innermost call around it) for one finding per call.
    call: cst.CSTNode | None = None
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0


class Rule:
    ID: ClassVar[str] = ""
    CATEGORY: ClassVar[str] = ""
    SEVERITY: ClassVar[str] = "error"
    MESSAGE: ClassVar[str] = ""
    FIX: ClassVar[str] = ""
    TRIGGERS: ClassVar[tuple[str, ...]] = ()
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []
    # A rule about a broad concern (a random draw in evaluation code) rather than one defect of the call it
    # reports: where a more specific rule reports the same call, the engine keeps that rule's finding and adds
    # this one's message to it (`engine.one_finding_per_call`).
    GENERAL: ClassVar[bool] = False
    # Not run unless a selector names it: its id, its category or ALL (`config.selects_opt_in`). For
    # rules that real code mostly triggers on purpose (a deliberate squash, an in-bounds draw the rule
    # cannot prove): across the precision benchmark's public repositories they found almost no bug a
    # maintainer would fix, so the default run, the pre-commit hook, leaves them to a review.
    OPT_IN: ClassVar[bool] = False

    # `visit_<NodeType>(node)` / `leave_<NodeType>(node)` methods are called by the engine over one
    # walk of the tree shared by all rules (as Fixit batches its rules). Returning False from a
    # visit method does not skip the children.

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.reports: list[Report] = []

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def applies_to(cls, source_text: "str | SourceText") -> bool:
        """Whether this rule can report anything on the file (its TRIGGERS, as `triggers.matches` reads them)."""
        return triggers.matches(cls.TRIGGERS, source_text)

    # -- helpers for subclasses -------------------------------------------------
    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.analysis.parents.get(node)

    def scope_of(self, node: cst.CSTNode) -> Scope | None:
        """The libcst scope `node` sits in (resolved for the whole file on first use: costly)."""
        return self.analysis.scope_of(node)

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """What `node` names, by import or builtin (`np.linspace` -> {"numpy.linspace"}, `len` -> {"builtins.len"})."""
        return self.analysis.qualified_names(node)

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
        self.reports.append(
            Report(
                rule=type(self),
                node=node,
                message=message or self.MESSAGE,
                fix=fix if fix is not None else self.FIX,
                replacement=replacement,
            )
        )
