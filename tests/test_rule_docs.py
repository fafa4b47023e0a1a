"""One registry for the dynamic checks: its shape, the findings made from it, `temporalkit rule`, SARIF metadata."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from temporalkit.validators import formats
from temporalkit.validators.dynamic.checks import DYNAMIC_CHECKS, dynamic_checks
from temporalkit.validators.findings import CATEGORIES, SEVERITIES
from temporalkit.validators.rule_docs import UnknownRuleError, rule_doc

from temporalkit.cli import main
from temporalkit.render import docstring_sections

ID_RANGES = {
    "sampler": range(501, 600),
    "transform": range(601, 611),
    "loader": range(611, 621),
    "layout": range(621, 631),
    "motion": range(701, 800),
}


@pytest.mark.parametrize("check", dynamic_checks(), ids=lambda check: check.id)
def test_every_dynamic_check_is_declared_like_a_static_rule(check):
    assert check.category in CATEGORIES and check.severity in SEVERITIES
    assert any(int(check.id[2:]) in ids for ids in ID_RANGES.values())
    assert check.fix and "\n" not in check.fix and check.runs_on
    sections = docstring_sections(check.doc)
    assert all(sections.get(part) for part in ("what", "why", "example", "fix")), f"{check.id}: four parts"
    finding = check.finding("message", extra={"k": 1})
    assert (finding.rule, finding.category, finding.severity, finding.fix, finding.source) == (
        check.id,
        check.category,
        check.severity,
        check.fix,
        "dynamic",
    )


def test_ids_and_names_are_unique():
    assert len({check.name for check in dynamic_checks()}) == len(DYNAMIC_CHECKS)
    assert [check.id for check in dynamic_checks()] == sorted(DYNAMIC_CHECKS)


def test_the_registry_and_a_dynamic_rule_lookup_import_neither_torch_nor_libcst():
    code = (
        "import sys\n"
        "from temporalkit.validators.rule_docs import rule_doc, format_rule_doc\n"
        "format_rule_doc(rule_doc('TK621'))\n"
        "heavy = [m for m in ('torch', 'libcst', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_role_fix_for_image_readers():
    color = DYNAMIC_CHECKS["TK616"]
    assert color.finding("m", role="image").fix.startswith("convert to RGB after reading")
    assert color.finding("m").fix == color.fix


def test_sampler_findings_come_from_the_registry():
    from temporalkit.validators.dynamic.sampler_checks import build_samplers, check_sampler

    def sample(num_frames, T):
        import numpy as np

        # temporalkit: ignore[TK101] -- buggy on purpose: the dynamic check TK502 must catch it
        return np.linspace(0, num_frames, T).astype(int)  # reaches num_frames: TK502

    grid = dict(lengths=list(range(0, 21)), clip_lengths=[1, 2, 4, 8])
    findings = [f for sampler in build_samplers(sample, "sample", "sampler") for f in check_sampler(sampler, **grid)]
    assert "TK502" in {finding.rule for finding in findings}
    for finding in findings:
        check = DYNAMIC_CHECKS[finding.rule]
        assert (finding.category, finding.severity, finding.fix) == (check.category, check.severity, check.fix)


def test_rule_command_explains_a_dynamic_check_and_a_static_rule(capsys):
    assert main(["rule", "tk505"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("TK505 sampler-uneven-coverage (dynamic check, runs on: sampler")
    assert "Why is this bad?" in text and DYNAMIC_CHECKS["TK505"].fix in text
    assert main(["rule", "TK101", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "static" and data["id"] == "TK101" and "What it does" in data["doc"]


def test_rule_command_lists_everything_and_rejects_unknown_ids(capsys):
    assert main(["rule", "--all"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert set(DYNAMIC_CHECKS) <= set(listed) and "TK101" in listed and listed == sorted(listed)
    assert main(["rule", "TK999"]) == 2
    assert "no rule or dynamic check 'TK999'" in capsys.readouterr().err
    with pytest.raises(UnknownRuleError):
        rule_doc("TK000")


def test_sarif_describes_a_dynamic_check_from_the_registry():
    check = DYNAMIC_CHECKS["TK503"]
    finding = dataclasses.replace(check.finding("indices out of order"), path="data/sampler.py", line=4)
    (descriptor,) = json.loads(formats.render("sarif", [finding]))["runs"][0]["tool"]["driver"]["rules"]
    assert descriptor["name"] == check.name
    # GitHub shows fullDescription as the rule's description: what it does, dedented; the whole
    # four-part doc is the help, in markdown too
    assert descriptor["fullDescription"]["text"] == docstring_sections(check.doc)["what"]
    assert "### Why is this bad?" in descriptor["help"]["markdown"]
    assert "\n    " not in descriptor["help"]["text"].split("Example")[0]
    assert descriptor["defaultConfiguration"]["level"] == check.severity
    assert descriptor["properties"]["category"] == check.category
    assert descriptor["shortDescription"]["text"] == docstring_sections(check.doc)["what"].splitlines()[0]
