"""Opt-in rules (`Rule.OPT_IN`): left out of the default run and of a selection by id prefix, run when
`select` names their id, their category or ALL."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from temporalkit.validators.audit import audit_paths
from temporalkit.validators.config import AuditConfig
from temporalkit.validators.rules import all_rules

OPT_IN_RULES = [rule for rule in all_rules() if rule.OPT_IN]


def test_the_opt_in_rules_are_the_ones_real_code_proved_noisy():
    """Across the precision benchmark's repositories each of these found few bugs a maintainer would fix
    among many findings (benchmarks/precision_labels.json: TK152 4 of 72, the others at most 1); changing
    the list changes what the pre-commit hook reports, so it is spelt out here."""
    assert sorted(rule.ID for rule in OPT_IN_RULES) == ["TK111", "TK112", "TK141", "TK152", "TK171", "TK172"]


@pytest.mark.parametrize("rule", OPT_IN_RULES, ids=lambda rule: rule.ID)
def test_opt_in_rule_runs_only_when_named(tmp_path, rule):
    invalid = rule.INVALID[0]
    (tmp_path / "pipeline.py").write_text(textwrap.dedent(invalid.code))

    others = [r.ID for r in all_rules() if r is not rule]  # a rule reporting the same call would take the finding

    def reported(select):
        result = audit_paths(
            [tmp_path / "pipeline.py"], config=AuditConfig(root=tmp_path), cache=False, select=select, ignore=others
        )
        return rule.ID in {f.rule for f in result.findings}

    assert not reported(None)
    assert not reported([rule.ID[:3]])  # a prefix (TK1) keeps the default run's rules
    assert reported([rule.ID])
    assert reported([rule.ID.lower()])
    assert reported([rule.CATEGORY])
    assert reported(["ALL"])


def test_config_select_names_an_opt_in_rule(tmp_path):
    rule = next(r for r in OPT_IN_RULES if r.ID == "TK172")
    (tmp_path / "pipeline.py").write_text(textwrap.dedent(rule.INVALID[0].code))
    (tmp_path / "pyproject.toml").write_text('[tool.temporalkit]\nselect = ["TK1", "TK172"]\n')
    run = subprocess.run(
        [sys.executable, "-m", "temporalkit", "audit", "--no-cache", "pipeline.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert "TK172" in run.stdout, run.stdout + run.stderr


def test_rule_docs_say_opt_in():
    listing = subprocess.run(
        [sys.executable, "-m", "temporalkit", "rule", "--all"], capture_output=True, text=True, check=True
    ).stdout
    opted = {line.split()[0] for line in listing.splitlines() if line.endswith("(opt-in)")}
    assert opted == {rule.ID for rule in OPT_IN_RULES}
    page = subprocess.run(
        [sys.executable, "-m", "temporalkit", "rule", "TK112"], capture_output=True, text=True, check=True
    ).stdout
    assert "opt-in: not run unless --select or the config names its id, its category or ALL" in page
