"""temporalkit audits itself: `temporalkit audit .` over this repository finds nothing, and every
`# temporalkit: ignore[...]` in it says why.

What is left out (the demo pipelines, the tests' deliberately broken samplers) is listed in the
`[tool.temporalkit]` section of the project's own pyproject.toml, as a user's project would list it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalkit.validators.audit import audit_paths
from temporalkit.validators.config import read_config
from temporalkit.validators.discovery import discover_files
from temporalkit.validators.suppressions import directives

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "pyproject.toml"


@pytest.mark.slow
def test_the_project_passes_its_own_audit(tmp_path):
    result = audit_paths([REPO], config=read_config(CONFIG), cache_dir=tmp_path / "cache")
    found = [f"{f.path}:{f.line}:{f.column + 1}: {f.rule} {f.message}" for f in result.findings]
    assert found == [], "fix these, or suppress each with `# temporalkit: ignore[ID] -- why`:\n" + "\n".join(found)
    assert [str(error) for error in result.errors] == []
    assert result.files_audited > 100  # the package, validators, reference models and tests were audited


def test_every_suppression_in_the_project_gives_its_reason():
    files, _ = discover_files([REPO], read_config(CONFIG))
    unexplained = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for directive in directives(text):
            if not directive.reason:
                unexplained.append(f"{path.relative_to(REPO)}:{directive.line}: {directive.comment}")
    assert unexplained == [], "say why after the comment (`-- the probes are square`):\n" + "\n".join(unexplained)


def test_the_project_config_excludes_the_deliberate_bugs_but_the_demo_still_finds_them():
    config = read_config(CONFIG)
    assert config.is_excluded(REPO / "examples" / "pipelines" / "buggy_sampler.py")
    assert not config.is_excluded(REPO / "validators" / "audit.py")
    assert not config.is_excluded(REPO / "tests" / "test_self_audit.py")
    # audited by name (`make demo`), the examples' own pyproject.toml applies: the defaults
    demo = audit_paths([REPO / "examples" / "pipelines" / "buggy_sampler.py"], cache=False)
    assert {f.rule for f in demo.findings} >= {"TK101", "TK131"}


def test_a_suppression_without_a_reason_is_noticed():
    (bare, explained) = directives("x = 1  # temporalkit: ignore[TK101]\ny = 2  # temporalkit: ignore[layout] -- why\n")
    assert (bare.reason, explained.reason) == ("", "why")
    assert directives('doc = "# temporalkit: ignore[TK101]"\n# shows `# temporalkit: ignore[x]`\n') == []
