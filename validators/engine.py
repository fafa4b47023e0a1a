"""Run static rules over source text; apply their mechanical fixes.

Minimal core used by the generic rule test. The audit driver (file discovery, config,
cache, parallelism, output formats) builds on `lint_source` and `apply_fixes`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper

from temporalkit.validators.findings import Finding
from temporalkit.validators.rule import Report, Rule


def lint_source(
    source: str,
    path: str = "<string>",
    rules: Iterable[type[Rule]] | None = None,
) -> list[Report]:
    """Parse `source` once and run every applicable rule over it. Raises libcst.ParserSyntaxError."""
    if rules is None:
        from temporalkit.validators.rules import all_rules

        rules = all_rules()
    applicable = [r for r in rules if r.applies_to(source)]
    if not applicable:
        return []
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    reports: list[Report] = []
    for rule_cls in applicable:
        rule = rule_cls()
        wrapper.visit(rule)
        reports.extend(rule.reports)
    reports.sort(key=lambda r: (r.line, r.column, r.rule.ID))
    return reports


def to_finding(report: Report, path: str, source: str = "static") -> Finding:
    rule = report.rule
    return Finding(
        rule=rule.ID,
        category=rule.CATEGORY,
        severity=rule.SEVERITY,
        path=path,
        line=report.line,
        column=report.column,
        end_line=report.end_line,
        end_column=report.end_column,
        message=report.message,
        fix=report.fix,
        source=source,
    )


class _ReplaceNodes(cst.CSTTransformer):
    def __init__(self, replacements: dict[int, cst.CSTNode | cst.RemovalSentinel]) -> None:
        super().__init__()
        self._replacements = replacements

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        return self._replacements.get(id(original_node), updated_node)


def apply_fixes(source: str, reports: Sequence[Report]) -> str:
    """Return `source` with every report's replacement applied (formatting and comments kept).

    Reports must come from `lint_source(source)` on this very text: nodes are matched by identity.
    """
    fixable = [r for r in reports if r.replacement is not None]
    if not fixable:
        return source
    module = cst.parse_module(source)
    # lint_source parsed its own module: re-lint on this tree so node identities match.
    rules = {r.rule for r in fixable}
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    replacements: dict[int, cst.CSTNode | cst.RemovalSentinel] = {}
    for rule_cls in sorted(rules, key=lambda r: r.ID):
        rule = rule_cls()
        wrapper.visit(rule)
        for report in rule.reports:
            if report.replacement is not None:
                replacements.setdefault(id(report.node), report.replacement)
    return module.visit(_ReplaceNodes(replacements)).code
