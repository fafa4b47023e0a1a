"""Output formats: text lines and colour, json shape, github annotations, SARIF against the schema."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import jsonschema
import pytest
from temporalkit.validators import formats
from temporalkit.validators.findings import FileError, Finding

from temporalkit import __version__

SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0.schema.json"

FINDINGS = [
    Finding(
        rule="TK101",
        category="index-out-of-range",
        severity="error",
        path="src/sampler.py",
        line=5,
        column=26,
        end_line=5,
        end_column=36,
        message="linspace stop is a frame count",
        fix="use num_frames - 1",
    ),
    Finding(
        rule="TK999",
        category="nondeterministic-eval",
        severity="warning",
        path="src/dir with space/eval,x.py",
        line=3,
        column=0,
        message="random at eval: 50%,\nsecond line",
        source="dynamic",
    ),
]
ERRORS = [FileError("src/broken.py", "cannot parse: syntax error near line 1, column 7 (invalid syntax)")]


def test_text_lines_and_summary():
    text = formats.render("text", FINDINGS, ERRORS, files_audited=4)
    lines = text.splitlines()
    assert lines[0] == "src/sampler.py:5:27: TK101 [error] linspace stop is a frame count (fix: use num_frames - 1)"
    assert "src/broken.py: [file error] cannot parse" in text
    assert lines[-1] == "Found 2 problems (1 error, 1 warning) in 2 of 4 files audited; 1 file could not be audited."
    assert "\033[" not in text
    assert formats.render("text", [], [], files_audited=3).strip() == "No problems found in 3 files audited."


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_tty_and_never_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    assert formats.use_color(FakeTTY()) is True
    assert formats.use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert formats.use_color(FakeTTY()) is False
    assert "\033[31m" in formats.format_text(FINDINGS, color=True)


def test_json_shape():
    document = json.loads(formats.render("json", FINDINGS, ERRORS))
    assert document["version"] == __version__
    first = document["findings"][0]
    assert list(first) == [
        "rule",
        "category",
        "severity",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "message",
        "fix",
        "fixable",
        "source",
    ]
    # 1-based columns, end exclusive, as the text, github and SARIF formats (and ruff's JSON) count
    assert first["source"] == "static" and (first["column"], first["end_column"]) == (27, 37)
    assert first["fixable"] is False
    assert document["findings"][1]["end_line"] == 3  # filled in when the finding has no end
    assert document["errors"] == [{"path": "src/broken.py", "message": ERRORS[0].message}]


def test_github_annotations_are_escaped():
    lines = formats.render("github", FINDINGS, ERRORS).splitlines()
    assert lines[0] == (
        "::error file=src/sampler.py,line=5,col=27,endLine=5,endColumn=37,title=TK101::"
        "linspace stop is a frame count (fix: use num_frames - 1)"
    )
    assert lines[1].startswith("::warning file=src/dir with space/eval%2Cx.py,line=3,col=1,")
    assert lines[1].endswith("::random at eval: 50%25,%0Asecond line")
    assert lines[2] == f"::error file=src/broken.py,title=temporalkit::{ERRORS[0].message}"


@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads(SCHEMA.read_text())
    validator_class = jsonschema.validators.validator_for(schema)  # the vendored schema declares draft 2020-12
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def test_sarif_validates_against_the_schema(sarif_validator):
    log = json.loads(formats.render("sarif", FINDINGS, ERRORS))
    sarif_validator.validate(log)
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "temporalkit"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["TK101", "TK999"]
    first, second = run["results"]
    assert first["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 5,
        "startColumn": 27,
        "endLine": 5,
        "endColumn": 37,
    }
    assert second["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/dir%20with%20space/eval%2Cx.py"
    assert run["invocations"][0]["toolExecutionNotifications"][0]["level"] == "error"


def test_sarif_of_a_real_audit_validates(sarif_validator):
    from temporalkit.validators.audit import audit_paths
    from temporalkit.validators.config import AuditConfig

    repo = Path(__file__).resolve().parents[1]
    result = audit_paths([repo / "examples" / "pipelines"], cache=False, config=AuditConfig(root=repo))
    log = json.loads(formats.render("sarif", result.findings, result.errors))
    sarif_validator.validate(log)
    descriptors = log["runs"][0]["tool"]["driver"]["rules"]
    assert all(d["fullDescription"]["text"] for d in descriptors)  # rule docstrings from the registry


def test_the_schema_rejects_a_broken_log(sarif_validator):
    log = json.loads(formats.render("sarif", FINDINGS))
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator.validate(log)


def test_summary_counts_files_not_errors():
    errors = [
        FileError("a.py", "obj1 could not run"),
        FileError("a.py", "obj2 could not run"),
        FileError("b.py", "import failed"),
    ]
    assert formats.summary_line([], errors, files_audited=3).endswith(
        "3 errors in 2 files that could not be fully audited."
    )
    assert formats.summary_line([], errors[2:], files_audited=3).endswith("1 file could not be audited.")


def test_sarif_for_github_code_scanning(sarif_validator, tmp_path, monkeypatch):
    """What GitHub needs: fingerprints on every result, markdown help, URIs from the repository
    root whatever folder the audit ran in, and a failed execution when files were not audited."""
    from temporalkit.validators.audit import audit_paths

    (tmp_path / ".git").mkdir()
    src = tmp_path / "src" / "data"
    src.mkdir(parents=True)
    (src / "sampler.py").write_text(
        "import numpy as np\n\n\ndef sample(num_frames, T):\n    return np.linspace(0, num_frames, T).astype(int)\n"
    )
    monkeypatch.chdir(src)  # the audit runs in a subfolder; GitHub resolves URIs from the checkout
    result = audit_paths(["."], cache=False)
    log = json.loads(formats.render("sarif", result.findings, [FileError("broken.py", "cannot parse")]))
    sarif_validator.validate(log)
    run = log["runs"][0]
    (finding,) = run["results"]
    location = finding["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "src/data/sampler.py", "uriBaseId": "%SRCROOT%"}
    assert run["invocations"][0]["executionSuccessful"] is False
    notification = run["invocations"][0]["toolExecutionNotifications"][0]
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/data/broken.py"
    # the message says what is wrong, the fix stays apart
    assert finding["message"]["text"] == result.findings[0].message
    assert "Fix" not in finding["message"]["text"] and finding["properties"]["fix"] == result.findings[0].fix
    fingerprint = finding["partialFingerprints"]["primaryLocationLineHash"]
    (descriptor,) = run["tool"]["driver"]["rules"]
    assert (
        descriptor["help"]["markdown"].startswith("**TK101**")
        and "### Why is this bad?" in descriptor["help"]["markdown"]
    )
    assert not any(line.startswith(" ") for line in descriptor["fullDescription"]["text"].splitlines())
    assert not any(line.startswith("    ") for line in descriptor["help"]["text"].split("Example")[0].splitlines())

    # the fingerprint follows the line's text, not its number
    (src / "sampler.py").write_text("\n\n" + (src / "sampler.py").read_text())
    monkeypatch.chdir(tmp_path)
    moved = audit_paths(["src"], cache=False)
    (again,) = json.loads(formats.render("sarif", moved.findings))["runs"][0]["results"]
    assert again["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    assert again["partialFingerprints"]["primaryLocationLineHash"] == fingerprint
    assert json.loads(formats.render("sarif", moved.findings))["runs"][0]["invocations"][0]["executionSuccessful"]


def test_every_sarif_result_has_a_fingerprint_even_without_its_source(sarif_validator):
    log = json.loads(formats.render("sarif", FINDINGS + FINDINGS))  # files that do not exist here
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in log["runs"][0]["results"]]
    assert len(set(hashes)) == 4 and {h.split(":")[1] for h in hashes} == {"1", "2"}
    sarif_validator.validate(log)


def test_sarif_names_a_file_outside_the_repository_and_the_folder_by_its_file_uri(
    sarif_validator, tmp_path, monkeypatch
):
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    outside = dataclasses.replace(FINDINGS[0], path=str(tmp_path / "elsewhere" / "x.py"))
    inside = dataclasses.replace(FINDINGS[0], path="src/x.py")
    log = json.loads(formats.render("sarif", [outside, inside]))
    sarif_validator.validate(log)
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in log["runs"][0]["results"]]
    assert locations == [
        {"uri": (tmp_path / "elsewhere" / "x.py").as_uri()},  # no base a relative URI could climb out of
        {"uri": "src/x.py", "uriBaseId": "%SRCROOT%"},  # no repository: relative to the current folder
    ]
