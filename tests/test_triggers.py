"""One meaning for a rule's TRIGGERS: the audit driver and Rule.applies_to read them the same way."""

from __future__ import annotations

import pytest
from temporalkit.validators import triggers
from temporalkit.validators.audit import _triggered_rules
from temporalkit.validators.rules import all_rules

CASES = {
    "in code": ("import numpy as np\nidx = np.linspace(0, n, T)\n", True),
    "only in a comment": ("# np.linspace(0, n, T) would be wrong here\nx = 1\n", False),
    "only in a docstring": ('"""Samples with linspace."""\nx = 1\n', False),
    "only in a string": ("url = 'https://example.org/linspace'\n", False),
    "absent": ("x = 1\n", False),
}


@pytest.mark.parametrize("text, expected", CASES.values(), ids=CASES.keys())
def test_plain_trigger_is_looked_for_in_code_only(text, expected):
    assert triggers.matches(("linspace",), text) is expected


def test_quoted_trigger_is_looked_for_in_string_content():
    assert triggers.matches(("'Resize'",), "t = getattr(T, 'Resize')\n")
    assert not triggers.matches(("'Resize'",), "t = T.Resize\n")


def test_no_triggers_always_matches():
    assert triggers.matches((), "x = 1\n")


@pytest.mark.parametrize("text", [case[0] for case in CASES.values()], ids=CASES.keys())
def test_the_audit_driver_and_applies_to_agree_for_every_rule(text):
    rules = all_rules()
    index = {rule.ID: {"triggers": list(rule.TRIGGERS)} for rule in rules}
    from_driver = set(_triggered_rules([rule.ID for rule in rules], index, text))
    from_rules = {rule.ID for rule in rules if rule.applies_to(text)}
    assert from_driver == from_rules
