"""One finding per call across rules (issue 11 section 3: "one finding per call, not two rules on the
same call"): where a general rule (TK211, a random draw in evaluation code) and a more specific one
(TK141's unsorted subset, TK131's exclusive bound) report the same call, the specific rule's finding
is kept and says that the other applies too; inline suppressions and --select are applied first."""

from __future__ import annotations

import textwrap

from temporalkit.validators.engine import lint_and_fix, lint_source
from temporalkit.validators.rules import all_rules, rule_by_id

SUBSET_IN_EVAL = textwrap.dedent(
    """
    import random

    def evaluate(frames, T):
        idx = random.sample(range(len(frames)), T)
        return [frames[i] for i in idx]
    """
)

BOUND_IN_VAL = textwrap.dedent(
    """
    import numpy as np

    class Frames:
        def _get_val_indices(self, num_frames, T):
            if num_frames <= T:
                return np.arange(num_frames)
            start = np.random.randint(0, num_frames - T)
            return np.arange(start, start + T)
    """
)


def _findings(source: str, rules=None):
    _, findings, _ = lint_and_fix(source, "x.py", list(rules or all_rules()))
    return findings


def test_subset_in_eval_is_one_finding_of_the_specific_rule():
    findings = _findings(SUBSET_IN_EVAL)
    assert [(f.rule, f.line) for f in findings] == [("TK141", 5)]
    assert "also TK211" in findings[0].message and "evaluation" in findings[0].message
    assert findings[0].severity == "error"


def test_exclusive_bound_in_val_is_one_finding_that_names_both_defects():
    findings = _findings(BOUND_IN_VAL)
    assert [(f.rule, f.line) for f in findings] == [("TK131", 8)]
    assert "also TK211" in findings[0].message
    assert findings[0].fixable  # the kept finding keeps its fix


def test_lint_source_keeps_one_report_per_call_too():
    reports = lint_source(SUBSET_IN_EVAL, rules=[rule_by_id("TK141"), rule_by_id("TK211")])
    assert [r.rule.ID for r in reports] == ["TK141"]


def test_each_rule_alone_still_reports_the_call():
    for rule_id in ("TK141", "TK211"):
        findings = _findings(SUBSET_IN_EVAL, [rule_by_id(rule_id)])
        assert [(f.rule, f.line) for f in findings] == [(rule_id, 5)]
        assert "also" not in findings[0].message


def test_suppressing_the_specific_rule_leaves_the_general_one():
    source = SUBSET_IN_EVAL.replace(
        "idx = random.sample(range(len(frames)), T)",
        "idx = random.sample(range(len(frames)), T)  # temporalkit: ignore[TK141]",
    )
    findings = _findings(source)
    assert [(f.rule, f.line) for f in findings] == [("TK211", 5)]
    assert "also" not in findings[0].message


def test_reports_of_one_rule_on_different_calls_are_untouched():
    source = SUBSET_IN_EVAL + textwrap.dedent(
        """
        def evaluate_twice(frames, T):
            first = random.sample(range(len(frames)), T)
            second = random.sample(range(len(frames)), T)
            return [frames[i] for i in first + second]
        """
    )
    findings = _findings(source)
    assert [f.rule for f in findings] == ["TK141", "TK141", "TK141"]
