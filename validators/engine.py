"""Run static rules over source text; apply their mechanical fixes.

Minimal core used by the generic rule test. The audit driver (file discovery, config,
cache, parallelism, output formats) builds on `lint_source` and `apply_fixes`, plus the
inline suppressions and `lint_and_fix` defined here.

Rules are pre-filtered by their TRIGGERS on the raw text, so a file that mentions none of
them is never parsed. A parsed file gets one fast walk (`tree`) for the parent map and one for
the rules; what rules ask about names is answered by `analysis.Analysis`, which resolves
libcst's scopes only when the file's imports do not settle the question. A call reported by
several rules is one finding (`one_finding_per_call`), after inline suppressions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

import libcst as cst
from temporalkit.validators import tree
from temporalkit.validators.analysis import Analysis, ancestors, code_and_positions
from temporalkit.validators.findings import Finding
from temporalkit.validators.parsing import parse_module
from temporalkit.validators.rule import Report, Rule
from temporalkit.validators.suppressions import ALL_RULES, is_suppressed, parse_suppressions  # noqa: F401
from temporalkit.validators.syntax import dotted
from temporalkit.validators.triggers import SourceText


def run_rules(
    module: cst.Module, rules: Iterable[type[Rule]], analysis: Analysis | None = None, *, place: bool = True
) -> list[Report]:
    """Every report of `rules` on `module`, placed, in source order. `analysis`: one already made for
    `module` (rules only read it and its caches, so running rules in two groups over one analysis
    gives each group what one run of all of them gives it). place=False: not placed (positions cost
    a pass of the code generator over the module; a fix pass that only looks for replacements does
    not need them), ordered by rule id; `placed` completes them."""
    if analysis is None:
        analysis = Analysis(module)
    instances = [rule_cls(analysis) for rule_cls in rules]
    tree.dispatch(module, instances, analysis.children)  # one walk for all rules
    first_exits: dict[int, tuple[dict[int, int], int]] = {}
    reports: list[Report] = [
        report
        for rule in instances
        for report in rule.reports
        if not _after_an_exit(report.node, analysis, first_exits)
    ]
    for report in reports:
        report.call = _call_of(report.node, analysis)
    reports.sort(key=lambda r: r.rule.ID)  # stable: each rule's reports keep their order
    return placed(analysis, reports) if place else reports


def _after_an_exit(node: cst.CSTNode, analysis: Analysis, first_exits: dict[int, tuple[dict[int, int], int]]) -> bool:
    """Whether `node` lies after a statement that always leaves its block (`raise`, `return`,
    `continue`, `break`, `assert False`, `sys.exit(...)`) in that block or in a block around it, up
    to its function: code that never runs (PLLaVA's `upload_img` starts with `assert False`).
    `first_exits`: per block (by id), its statements' indices and the index of its first leaving
    statement, filled as blocks are met (a module of n statements with m reports is not n x m)."""
    child = node
    for up in ancestors(node, analysis.parents):
        body = up.body if isinstance(up, (cst.IndentedBlock, cst.Module)) else None
        if isinstance(body, (list, tuple)):
            known = first_exits.get(id(up))
            if known is None:
                first = next((i for i, statement in enumerate(body) if _leaves_block(statement)), len(body))
                known = first_exits[id(up)] = ({id(statement): i for i, statement in enumerate(body)}, first)
            index = known[0].get(id(child))
            if index is not None and index > known[1]:
                return True
        if isinstance(up, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return False
        child = up
    return False


def _leaves_block(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, (cst.Raise, cst.Return, cst.Continue, cst.Break)):
            return True
        if isinstance(small, cst.Assert) and (
            (isinstance(small.test, cst.Name) and small.test.value == "False")
            or (isinstance(small.test, cst.Integer) and small.test.value == "0")
        ):
            return True
        if (
            isinstance(small, cst.Expr)
            and isinstance(small.value, cst.Call)
            and dotted(small.value.func) in ("sys.exit", "exit", "quit", "os._exit")
        ):
            return True
    return False


def placed(analysis: Analysis, reports: list[Report]) -> list[Report]:
    """`reports` with their positions filled in, in source order (line, column, rule id)."""
    analysis.place(reports)
    reports.sort(key=lambda r: (r.line, r.column, r.rule.ID))
    return reports


_SEVERITY_RANK = {"error": 0, "warning": 1}


def _call_of(node: cst.CSTNode, analysis: Analysis) -> cst.CSTNode:
    """The call a report is about: `node` if it is a call, else the innermost call around it in its statement
    (TK131 reports the bound `n - T` of `randint(0, n - T)`, TK211 the whole draw), else `node`."""
    if isinstance(node, cst.Call):
        return node
    for up in ancestors(node, analysis.parents):
        if isinstance(up, cst.Call):
            return up
        if isinstance(up, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
            break
    return node


def one_finding_per_call(reports: Sequence[Report]) -> list[Report]:
    """One report per reported call (`Report.call`): where several rules report the same call,
    the most specific one is kept (a rule that is not `GENERAL` before one that is, then one that can fix,
    then the more severe, then the lower ID) and the others' messages are added to its message, so that
    `random.sample(range(n), T)` in evaluation code is one finding (TK141, saying that TK211 applies too),
    not two. Several reports of one rule on one call are all kept."""
    by_call: dict[int, list[Report]] = {}
    for report in reports:
        by_call.setdefault(id(report.call or report.node), []).append(report)
    kept: list[Report] = []
    done: set[int] = set()
    for report in reports:
        key = id(report.call or report.node)
        group = by_call[key]
        if len({r.rule for r in group}) < 2:
            kept.append(report)
            continue
        if key in done:
            continue
        done.add(key)
        ranked = sorted(
            group,
            key=lambda r: (
                r.rule.GENERAL,
                r.replacement is None,
                _SEVERITY_RANK.get(r.rule.SEVERITY, 2),
                r.rule.ID,
            ),
        )
        winner = ranked[0]
        others = {r.rule.ID: r.message for r in ranked[1:] if r.rule is not winner.rule}
        also = "; ".join(f"{rule_id}: {message}" for rule_id, message in others.items())
        kept.extend(r for r in group if r.rule is winner.rule and r is not winner)
        kept.append(dataclasses.replace(winner, message=f"{winner.message} (also {also})"))
    kept.sort(key=lambda r: (r.line, r.column, r.rule.ID))
    return kept


def lint_source(
    source: str,
    path: str = "<string>",
    rules: Iterable[type[Rule]] | None = None,
) -> list[Report]:
    """Parse `source` once and run every applicable rule over it. Raises libcst.ParserSyntaxError."""
    if rules is None:
        from temporalkit.validators.rules import all_rules

        rules = all_rules()
    text = SourceText(source)
    applicable = [r for r in rules if r.applies_to(text)]
    if not applicable:
        return []
    return one_finding_per_call(run_rules(parse_module(source), applicable))


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
        fixable=report.replacement is not None,
    )


class _ReplaceNodes(cst.CSTTransformer):
    """Put each replacement in place of the node of that id. With `parents` (the module's parent map)
    only the replaced nodes' ancestors are descended into: a subtree holding no replaced node is kept
    as it is instead of being rebuilt node by node into an equal copy (the same code, at a fraction
    of the cost of a full transform)."""

    def __init__(
        self,
        replacements: dict[int, cst.CSTNode | cst.RemovalSentinel],
        parents: dict[cst.CSTNode, cst.CSTNode] | None = None,
        nodes: Iterable[cst.CSTNode] = (),
    ) -> None:
        super().__init__()
        self._replacements = replacements
        self._descend: set[int] | None = None
        if parents is not None:
            self._descend = set()
            for node in nodes:
                current = parents.get(node)
                while current is not None and id(current) not in self._descend:
                    self._descend.add(id(current))
                    current = parents.get(current)
        self.rebuilt: dict[int, cst.CSTNode | cst.RemovalSentinel] = {}  # id of an old ancestor -> its new node

    def on_visit(self, node: cst.CSTNode) -> bool:
        return self._descend is None or id(node) in self._descend

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        new = self._replacements.get(id(original_node), updated_node)
        if self._descend is not None and id(original_node) in self._descend:
            self.rebuilt[id(original_node)] = new
        return new


def apply_fixes(
    source: str,
    reports: Sequence[Report],
    keep: Callable[[Report], bool] | None = None,
) -> str:
    """Return `source` with every report's replacement applied (formatting and comments kept).

    Reports must come from `lint_source(source)` on this very text: nodes are matched by identity.
    `keep` (optional) decides which re-found reports may be applied (e.g. not suppressed ones).
    """
    fixable = [r for r in reports if r.replacement is not None and (keep is None or keep(r))]
    if not fixable:
        return source
    module = parse_module(source)
    # lint_source parsed its own module: re-lint on this tree so node identities match.
    rules = sorted({r.rule for r in fixable}, key=lambda r: r.ID)
    replacements: dict[int, cst.CSTNode | cst.RemovalSentinel] = {}
    for report in run_rules(module, rules):
        if report.replacement is not None and (keep is None or keep(report)):
            replacements.setdefault(id(report.node), report.replacement)
    return module.visit(_ReplaceNodes(replacements)).code


# -- inline suppression -----------------------------------------------------------------
# `# temporalkit: ignore[TK101, layout]` or bare `# temporalkit: ignore`, on the reported line, or
# alone on the line above it: parsed in validators/suppressions.py (standard library only), whose
# ALL_RULES, is_suppressed and parse_suppressions this module re-exports.


def lint_and_fix(
    source: str,
    path: str,
    rules: Sequence[type[Rule]],
    *,
    fix: bool = False,
    max_passes: int = 4,
    findings_after: bool = True,
    findings_before: bool = True,
) -> tuple[str, list[Finding] | None, list[Finding]]:
    """(fixed text, findings in `source`, findings left in the fixed text), after inline suppressions.

    Without `fix` the text is returned unchanged and both lists are the same. Fixing repeats until
    no applicable fix is left (a fix may reveal another). Raises libcst.ParserSyntaxError.
    With findings_after=False (--diff: only the fixed text is wanted) the fixed text is re-read
    only by the rules that can fix, and the third list is empty.
    With findings_before=False (--fix: what is left is reported, not what was there) the text as
    read is first read only by the rules that can fix; the other rules read it, on the same parse,
    only when no fix applies, and when one does the second list is None instead.
    """
    suppressions = parse_suppressions(source)

    def unsuppressed(report: Report) -> bool:
        return not is_suppressed(report.rule.ID, report.line, suppressions, report.rule.CATEGORY)

    def keep(reports: list[Report]) -> list[Report]:
        return [r for r in reports if unsuppressed(r)] if suppressions else reports

    text_as_read = source
    fixers = [r for r in rules if may_fix(r)]
    original: list[Finding] | None
    if fix and findings_after and not findings_before and len(fixers) < len(rules):
        # The fixable rules first: a fix found means the whole text is read again below, so the
        # other rules' findings in the text as read would be thrown away.
        # Placed only when a suppression comment needs the lines.
        module, analysis, reports = _lint_keeping_module(source, fixers, place=bool(suppressions))
        reports = keep(reports)
        complete = _Completion(text_as_read, module, analysis, reports, [r for r in rules if not may_fix(r)])
        if not any(r.replacement is not None for r in reports):
            original = [to_finding(r, path) for r in one_finding_per_call(complete(keep))]
            return source, original, original
        original = None
    else:
        module, analysis, reports = _lint_keeping_module(source, rules)
        reports = keep(reports)
        original = [to_finding(r, path) for r in one_finding_per_call(reports)]
    if not fix:
        return source, original, original
    if not findings_after:
        rules = fixers
    for _ in range(max_passes):
        if module is None or not any(r.replacement is not None for r in reports):
            break
        # The reports' nodes belong to `module`: replace them there, without parsing the text and
        # running the rules again as apply_fixes must (that made --diff / --fix about 3x a lint).
        replacements: dict[int, cst.CSTNode | cst.RemovalSentinel] = {}
        replaced = []
        for report in reports:
            if report.replacement is not None and id(report.node) not in replacements:
                replacements[id(report.node)] = _own_copy(report.replacement)
                replaced.append(report.node)
        rebuild = _ReplaceNodes(replacements, analysis.parents, replaced)
        new_module = module.visit(rebuild)
        # The fixed tree is read again as it is when parsing its code would give it back (it nearly
        # always would): then the text is not parsed again. Positions (needed for the findings left,
        # --fix) come from the same pass of the code generator as the code.
        parents = _parents_if_parsed_alike(new_module, replaced, analysis, rebuild.rebuilt)
        positions = None
        if parents is not None and findings_after:
            fixed, positions = code_and_positions(new_module)
        else:
            fixed = new_module.code
        if fixed == source:
            break
        source = fixed
        suppressions = parse_suppressions(source)
        # Positions are needed for the findings left (--fix) and for suppression comments, not to
        # find the next replacements (--diff).
        place = findings_after or bool(suppressions)
        if parents is None:
            module, analysis, reports = _lint_keeping_module(source, rules, place=place)
        else:
            reread = Analysis(new_module, parents, positions, analysis.children)
            module, analysis, reports = _lint_keeping_module(source, rules, place=place, parsed=(new_module, reread))
        reports = keep(reports)
    if original is None and source == text_as_read:  # the fixes changed nothing: nothing was read again
        original = [to_finding(r, path) for r in one_finding_per_call(complete(keep))]
        return source, original, original
    return source, original, [to_finding(r, path) for r in one_finding_per_call(reports)] if findings_after else []


class _Completion:
    """The reports of the other rules on a text the fixable rules have read, on the same parse and
    analysis, merged with theirs: what one run of all the rules gives (rules only read the analysis
    and its caches; reports are ordered by line, column and rule id, and each rule keeps its order)."""

    def __init__(self, source: str, module, analysis, reports: list[Report], others: list[type[Rule]]) -> None:
        self.source, self.module, self.analysis, self.reports, self.others = source, module, analysis, reports, others

    def __call__(self, keep: Callable[[list[Report]], list[Report]]) -> list[Report]:
        if self.module is None:  # no fixable rule applied: nothing parsed yet
            _, _, more = _lint_keeping_module(self.source, self.others)
            return keep(more)
        text = SourceText(self.source)
        more = run_rules(self.module, [r for r in self.others if r.applies_to(text)], self.analysis, place=False)
        return keep(placed(self.analysis, self.reports + more))  # (keep is idempotent on self.reports)


_MAY_FIX: dict[type, bool] = {}


def may_fix(rule: type[Rule]) -> bool:
    """Whether `rule` can report a replacement. Rule.report takes it by keyword only, so a rule
    whose modules (its class's and its bases', below Rule) never mention `replacement` cannot;
    a rule whose source cannot be read is assumed to."""
    known = _MAY_FIX.get(rule)
    if known is None:
        import inspect
        import sys

        known = False
        for cls in rule.__mro__:
            if cls is Rule or not issubclass(cls, Rule):
                continue
            try:
                text = inspect.getsource(sys.modules[cls.__module__])
            except (OSError, TypeError, KeyError):
                known = True
                break
            if "replacement" in text:
                known = True
                break
        _MAY_FIX[rule] = known
    return known


def _lint_keeping_module(
    source: str,
    rules: Sequence[type[Rule]],
    *,
    place: bool = True,
    parsed: tuple[cst.Module, Analysis] | None = None,
) -> tuple[cst.Module | None, Analysis | None, list[Report]]:
    """lint_source, also returning the parsed module and its analysis (None when no rule applies:
    nothing parsed). place=False: see run_rules. `parsed`: the module `source` parses to and its
    analysis, when already at hand (then nothing is parsed)."""
    text = SourceText(source)
    applicable = [r for r in rules if r.applies_to(text)]
    if not applicable:
        return None, None, []
    if parsed is None:
        module = parse_module(source)
        analysis = Analysis(module)
    else:
        module, analysis = parsed
    return module, analysis, run_rules(module, applicable, analysis, place=place)


def _own_copy(replacement: cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel):
    """`replacement` made of new node objects: a rule may build it from nodes that stay elsewhere in
    the tree, or use one node twice (`Resize(s), CenterCrop(s)`), and a node in two places has no
    one parent (the fixed tree is then parsed from its code instead of read as it is)."""
    if isinstance(replacement, cst.FlattenSentinel):
        return cst.FlattenSentinel([node.deep_clone() for node in replacement.nodes])
    if isinstance(replacement, cst.CSTNode):
        return replacement.deep_clone()
    return replacement


def _parents_if_parsed_alike(
    new_module: cst.Module,
    replaced: Sequence[cst.CSTNode],
    analysis: Analysis,
    rebuilt: dict[int, cst.CSTNode | cst.RemovalSentinel],
) -> dict[cst.CSTNode, cst.CSTNode] | None:
    """The parent map of `new_module` (the module of `analysis` with the `replaced` nodes replaced,
    `rebuilt`: id of each old ancestor of theirs -> its new node) when parsing `new_module.code`
    would give a tree equal to it node for node, field for field; else None (then the code is parsed).

    Outside the statements that hold a replaced node the new tree is the old parsed one, so it is
    enough that each such statement, printed and parsed alone, gives itself back (as libcst's
    `deep_equals` compares: same node types, same fields, whitespace and commas included) and that
    no node object sits in two places. A rule's replacement built from constructors (`sorted(...)` around
    a set, `n - 1` from `n`) passes when it is what the parser would make of its own code; a
    replacement whose meaning the parse would change (`a * n - 1` without parentheses) fails, and so
    does one in a compound statement's header (`for i in ...:`), which is not checked alone."""
    old_parents = analysis.parents
    checked: set[int] = set()
    config = None
    for node in replaced:
        statement = old_parents.get(node)
        while statement is not None and not isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            statement = old_parents.get(statement)
        if not isinstance(statement, cst.SimpleStatementLine):
            return None
        if id(statement) in checked:
            continue
        checked.add(id(statement))
        new_statement = rebuilt.get(id(statement))
        if not isinstance(new_statement, cst.SimpleStatementLine):
            return None
        alone = new_statement.with_changes(leading_lines=())  # comment lines above: not parsed with it
        config = config or new_module.config_for_parsing
        try:
            again = cst.parse_statement(new_module.code_for_node(alone), config)
        except cst.ParserSyntaxError:
            return None
        if not tree.same_tree(again, alone):
            return None
    return tree.parents_of_tree(new_module, analysis.children)  # the unchanged nodes' children are known
