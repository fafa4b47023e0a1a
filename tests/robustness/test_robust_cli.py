"""`temporalkit audit` command-line inputs that were tracebacks (issue 16, "Picker and CLI inputs")."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest
from robust_helpers import GOOD, write
from temporalkit.validators import audit as audit_module
from temporalkit.validators.findings import FileError, Finding
from temporalkit.validators.formats import format_sarif, render

from temporalkit.commands import audit as audit_command


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    audit_command.add_arguments(parser)
    return audit_command.run(parser.parse_args(argv))


@pytest.mark.parametrize("target", ["missing/dir/report.txt", "."])
def test_output_to_a_missing_folder_or_a_directory_is_a_usage_error(tmp_path, capsys, monkeypatch, target):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.py", GOOD)
    ran: list = []
    monkeypatch.setattr(audit_module, "audit_paths", lambda *a, **k: ran.append(1))
    assert cli(["a.py", "--no-cache", "-o", target]) == 2
    err = capsys.readouterr().err
    assert err.startswith("temporalkit audit: -o ") and err.count("\n") == 1 and "Traceback" not in err
    assert ran == []  # said before the audit runs, not after minutes of work


NON_UTF8_NAME = os.fsdecode(b"caf\xe9.py")  # a name with a surrogate: not valid UTF-8 on disk


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_a_non_utf8_file_name_does_not_crash_any_format(tmp_path, fmt):
    finding = Finding(
        path=f"src/{NON_UTF8_NAME}",
        line=1,
        column=0,
        rule="TK910",
        severity="error",
        category="index-out-of-range",
        message="m",
    )
    error = FileError(f"src/{NON_UTF8_NAME}", "cannot parse: x")
    report = render(fmt, [finding], [error], files_audited=1)
    out = tmp_path / "report"
    with open(out, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(report)
    if fmt == "sarif":
        log = json.loads(format_sarif([finding], [error]))
        uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "src/caf%E9.py"  # the file's bytes, percent-encoded


@pytest.mark.skipif(os.name != "posix", reason="non-UTF-8 file names are a POSIX thing")
def test_sarif_cli_with_a_non_utf8_file_name(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open(os.path.join(os.fsencode(str(tmp_path)), b"caf\xe9.py"), "w") as handle:
        handle.write("def f(:\n")  # a file error that names the file
    assert cli([".", "--no-cache", "--format", "sarif", "-o", "out.sarif"]) == 1
    log = json.loads(Path("out.sarif").read_text(encoding="utf-8"))
    (note,) = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "caf%E9.py"


BUGGY_SOURCE = b"import numpy as np\n\n\ndef sample(n, T):\n    return np.linspace(0, n, T).astype(int)\n"


def _stdin(monkeypatch, data: bytes) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_dash_audits_stdin_under_the_stdin_filename(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _stdin(monkeypatch, BUGGY_SOURCE)
    assert cli(["-", "--stdin-filename", "src/sampler.py", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(f["path"], f["line"], f["rule"]) for f in report["findings"]] == [("src/sampler.py", 5, "TK101")]
    assert list(tmp_path.iterdir()) == []  # nothing written next to the user's files, no cache


def test_dash_with_diff_prints_the_fix_under_the_display_name(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _stdin(monkeypatch, BUGGY_SOURCE)
    cli(["-", "--diff"])
    out = capsys.readouterr().out
    assert out.startswith("--- a/-\n+++ b/-\n") and "+    return np.linspace(0, n - 1, T).astype(int)" in out


@pytest.mark.parametrize("extra", [["--fix"], ["--dynamic"], ["other.py"]])
def test_dash_with_fix_dynamic_or_other_paths_is_a_usage_error(tmp_path, capsys, monkeypatch, extra):
    monkeypatch.chdir(tmp_path)
    _stdin(monkeypatch, BUGGY_SOURCE)
    assert cli(["-", *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stdin" in err


def test_dash_with_a_syntax_error_is_one_file_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _stdin(monkeypatch, b"x = (\n")
    assert cli(["-"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("-: [file error] cannot parse: syntax error at line 1")


def test_dynamic_says_a_file_the_static_pass_could_not_read_or_parse_once(tmp_path, capsys, monkeypatch):
    # Both passes walk the same files: a FIFO named *.py and a syntax error were each reported twice.
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "fifo.py")
    write(tmp_path / "broken.py", "def f(:\n")
    write(tmp_path / "ok.py", "x = 1\n")
    assert cli([".", "--no-cache", "--dynamic", "--format", "json"]) == 1
    errors = [e["path"] for e in json.loads(capsys.readouterr().out)["errors"]]
    assert sorted(errors) == ["broken.py", "fifo.py"]
