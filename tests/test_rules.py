"""One generic test for every static rule: its own VALID / INVALID examples and fixes, plus registry checks.

Adding a rule never means writing test plumbing: put its examples on the class.
"""

from __future__ import annotations

import re
import textwrap

import pytest
from temporalkit.validators.engine import apply_fixes, lint_source
from temporalkit.validators.findings import CATEGORIES, SEVERITIES
from temporalkit.validators.rules import all_rules

RULES = all_rules()

# id prefix -> category, as laid out in the rule numbering scheme (TK1xx..TK22x)
ID_CATEGORY = {
    "TK10": "index-out-of-range",
    "TK11": "short-clip",
    "TK12": "uneven-coverage",
    "TK13": "start-range",
    "TK14": "temporal-order",
    "TK15": "clip-length",
    "TK16": "frame-count-metadata",
    "TK17": "aspect-distortion",
    "TK18": "inconsistent-crop",
    "TK19": "color-order",
    "TK20": "zero-padding",
    "TK21": "nondeterministic-eval",
    "TK22": "layout",
}

DOC_PARTS = ("What it does", "Why is this bad?", "Example", "Fix")


def _cases(kind: str):
    for rule in RULES:
        for i, example in enumerate(getattr(rule, kind)):
            yield pytest.param(rule, example, id=f"{rule.ID}-{kind.lower()}-{i}")


def _own(reports, rule):
    return [r for r in reports if r.rule is rule]


@pytest.mark.parametrize(("rule", "example"), list(_cases("VALID")))
def test_valid_examples_stay_quiet(rule, example):
    reports = _own(lint_source(textwrap.dedent(example.code), rules=[rule]), rule)
    assert reports == [], [(r.line, r.message) for r in reports]


@pytest.mark.parametrize(("rule", "example"), list(_cases("INVALID")))
def test_invalid_examples_are_reported_and_fixed(rule, example):
    source = textwrap.dedent(example.code)
    reports = _own(lint_source(source, rules=[rule]), rule)
    assert reports, f"{rule.ID} did not report on:\n{source}"
    if example.expected_line is not None:
        assert example.expected_line in {r.line for r in reports}, [r.line for r in reports]
    for report in reports:
        assert report.message and report.fix
    if example.expected_fix is not None:
        fixed = apply_fixes(source, reports)
        assert fixed == textwrap.dedent(example.expected_fix)
        again = _own(lint_source(fixed, rules=[rule]), rule)
        assert [r for r in again if r.replacement is not None] == []
    else:
        assert all(r.replacement is None for r in reports), "a fix was offered but the example does not state it"


def test_registry_is_complete_and_consistent():
    assert len(RULES) >= 18
    ids = [r.ID for r in RULES]
    assert len(ids) == len(set(ids))
    assert set(CATEGORIES) <= {r.CATEGORY for r in RULES}, "every category needs at least one rule"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.ID)
def test_rule_metadata(rule):
    assert re.fullmatch(r"TK\d{3}", rule.ID)
    assert rule.CATEGORY in CATEGORIES
    assert ID_CATEGORY[rule.ID[:4]] == rule.CATEGORY
    assert rule.SEVERITY in SEVERITIES
    assert rule.MESSAGE and rule.FIX
    assert rule.TRIGGERS and all(isinstance(t, str) and t for t in rule.TRIGGERS)
    assert len(rule.VALID) >= 2 and len(rule.INVALID) >= 2
    doc = rule.__doc__ or ""
    for part in DOC_PARTS:
        assert part in doc, f"{rule.ID} docstring lacks {part!r}"
    for example in rule.INVALID:
        assert rule.applies_to(textwrap.dedent(example.code)), "an INVALID example lacks every trigger"


def test_loading_every_rule_imports_no_heavy_library():
    import subprocess
    import sys

    probe = (
        "import sys; from temporalkit.validators.rules import all_rules; all_rules(); "
        "heavy = sorted({'torch', 'torchvision', 'numpy', 'pydantic', 'cv2', 'av'} & set(sys.modules)); "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
