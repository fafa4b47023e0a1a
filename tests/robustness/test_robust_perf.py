"""Large files and --fix / --diff cost what a plain audit costs per line (issue 16, performance).

Counted, not timed: the number of parses per fix pass, and that name lookups do not rescan every
import of the file (a 50k-line file with an import in each function was quadratic)."""

from __future__ import annotations

import textwrap

import libcst as cst
from robust_helpers import RULES
from temporalkit.validators import engine
from temporalkit.validators.analysis import Analysis
from temporalkit.validators.rule import Rule


class FixCallRule(Rule):
    """Test rule: `fix_me(x)` -> `fixed(x)`."""

    ID = "TK912"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = "fix me"
    TRIGGERS = ("fix_me",)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "fix_me":
            self.report(node, replacement=node.with_changes(func=cst.Name("fixed")))


def test_fixing_parses_once_per_pass(monkeypatch):
    # It parsed three times for one fix (lint, apply_fixes' own parse, re-lint): --diff cost 3.5 audits.
    parses: list[int] = []
    real_parse = cst.parse_module

    def counting_parse(source, *args, **kwargs):
        parses.append(1)
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(engine.cst, "parse_module", counting_parse)
    source = "a = fix_me(1)\nb = fix_me(2)  # keep\nflag_me(3)\n"
    fixed, before, after = engine.lint_and_fix(source, "x.py", (FixCallRule, *RULES), fix=True)
    assert fixed == "a = fixed(1)\nb = fixed(2)  # keep\nflag_me(3)\n"
    assert [f.rule for f in before] == ["TK912", "TK912", "TK910"] and [f.rule for f in after] == ["TK910"]
    # The text as read only: the fixed tree is read as it is, its code parsing back to it (a re-parse
    # of the fixed text made a changed file cost about 1.4 plain reads).
    assert len(parses) == 1


class UnparenthesizedFixRule(Rule):
    """Test rule: `half(x)` -> `x - 1` without parentheses, which a parse of the code reads
    differently inside `2 * half(x)`: the fixed tree is not what the fixed text parses to."""

    ID = "TK913"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = "half"
    TRIGGERS = ("half",)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "half":
            minus = cst.BinaryOperation(node.args[0].value, cst.Subtract(), cst.Integer("1"))
            self.report(node, replacement=minus)


def _findings(findings):
    return [(f.rule, f.line, f.column, f.end_line, f.end_column, f.message) for f in findings]


def test_a_fixed_tree_its_code_would_not_parse_back_to_is_parsed_again(monkeypatch):
    parses: list[str] = []
    real_parse = cst.parse_module

    def counting_parse(source, *args, **kwargs):
        parses.append(source)
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(engine.cst, "parse_module", counting_parse)
    rules = (UnparenthesizedFixRule, FixCallRule, *RULES)
    cases = {
        "y = 2 * half(n)\nflag_me(y)\n": "y = 2 * n - 1\nflag_me(y)\n",  # a parse reads (2 * n) - 1
        "for i in fix_me(n):\n    flag_me(i)\n": "for i in fixed(n):\n    flag_me(i)\n",  # a header: not checked alone
    }
    for source, expected in cases.items():
        parses.clear()
        fixed, _, after = engine.lint_and_fix(source, "x.py", rules, fix=True)
        assert fixed == expected and parses == [source, expected]
        _, again, _ = engine.lint_and_fix(fixed, "x.py", rules)
        assert _findings(after) == _findings(again)


def test_findings_left_in_a_fixed_tree_are_those_of_its_text_read_afresh():
    # Every rule example with a fix, fixed with all rules: what is left, as --fix and --diff find
    # it on the tree they built, is what a plain audit of the fixed text finds, position for position.
    from temporalkit.validators.rules import all_rules

    rules = all_rules()
    checked = 0
    for rule in rules:
        for example in rule.INVALID:
            if example.expected_fix is None:
                continue
            source = textwrap.dedent(example.code)
            fixed, _, after = engine.lint_and_fix(source, "x.py", rules, fix=True, findings_before=False)
            diffed, _, _ = engine.lint_and_fix(source, "x.py", rules, fix=True, findings_after=False)
            _, again, _ = engine.lint_and_fix(fixed, "x.py", rules)
            assert diffed == fixed and fixed != source
            assert _findings(after) == _findings(again), rule.ID
            checked += 1
    assert checked >= 10


def test_suppressed_findings_are_still_not_fixed():
    source = "a = fix_me(1)  # temporalkit: ignore[TK912]\nb = fix_me(2)\n"
    fixed, before, _ = engine.lint_and_fix(source, "x.py", (FixCallRule,), fix=True)
    assert fixed == "a = fix_me(1)  # temporalkit: ignore[TK912]\nb = fixed(2)\n"
    assert [f.line for f in before] == [2]


def test_import_lookups_do_not_rescan_every_import():
    functions = "".join(f"def f{i}(n):\n    import numpy as np\n    return np.linspace(0, n, 8)\n" for i in range(300))
    module = cst.parse_module(functions)
    analysis = Analysis(module)
    calls = [node for node in analysis.parents if isinstance(node, cst.Call)]

    scans = []

    class CountingImports(dict):
        def get(self, key, default=None):
            scans.append(key)
            return super().get(key, default)

    analysis.bindings.imports = CountingImports(analysis.bindings.imports)
    names = [analysis.qualified_names(call.func) for call in calls]
    assert all(n == {"numpy.linspace"} for n in names) and len(names) == 300
    assert len(scans) <= 2  # grouped by owner once, not once per lookup (300 x 300 entries)


def test_a_name_imported_many_times_is_not_resolved_against_every_import_on_every_lookup(monkeypatch):
    # A concatenated or generated file importing numpy at module level in each of its 200 parts:
    # every np.xxx lookup asked all 200 import statements (a 10k-line file spent minutes there).
    from libcst.metadata.scope_provider import ImportAssignment

    source = "".join(f"import numpy as np\nx{i} = np.linspace(0, n, 8)\n" for i in range(200))
    analysis = Analysis(cst.parse_module(source))
    asked = []
    real = ImportAssignment.get_qualified_names_for

    def counting(self, full_name):
        asked.append(full_name)
        return real(self, full_name)

    monkeypatch.setattr(ImportAssignment, "get_qualified_names_for", counting)
    calls = [node for node in analysis.parents if isinstance(node, cst.Call)]
    names = [analysis.qualified_names(call.func) for call in calls]
    assert len(names) == 200 and all(n == {"numpy.linspace"} for n in names)
    assert len(asked) <= 200  # once per import statement, not 200 x 200


class NoOpFixRule(Rule):
    """Test rule: offers `same_me(x)` as its own fix (a fix that changes nothing)."""

    ID = "TK913"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = "same"
    TRIGGERS = ("same_me",)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "same_me":
            self.report(node, replacement=node)


def test_fix_without_the_findings_as_read_still_reports_every_rule():
    # --fix reads the text first with the fixable rules only (findings_before=False); the other
    # rules' findings must come back when no fix applies, when the fixes change nothing, and after
    # a fix (from the re-read), exactly as the full path gives them.
    cases = [
        ("flag_me(1)\nb = 2\n", (FixCallRule, *RULES)),  # no fixable rule applies: nothing parsed first
        ("a = fix_me(1)\nflag_me(2)\n", (FixCallRule, *RULES)),  # a fix applies
        ("a = same_me(1)\nflag_me(2)\n", (NoOpFixRule, *RULES)),  # a fix that leaves the text as it is
        ("a = fix_me(1)  # temporalkit: ignore\nflag_me(2)\n", (FixCallRule, *RULES)),  # the fix suppressed
        ("a = fix_me(1)\nb = fix_me(2)  # temporalkit: ignore[TK912]\nflag_me(3)\n", (FixCallRule, *RULES)),
    ]
    for source, rules in cases:
        full = engine.lint_and_fix(source, "x.py", rules, fix=True)
        fixed, before, after = engine.lint_and_fix(source, "x.py", rules, fix=True, findings_before=False)
        assert (fixed, after) == (full[0], full[2]) and "TK910" in [f.rule for f in after], source
        assert before == (None if fixed != source else full[1])
        diff_text, diff_before, _ = engine.lint_and_fix(source, "x.py", rules, fix=True, findings_after=False)
        assert (diff_text, diff_before) == (full[0], full[1])  # --diff reads fixes without positions
