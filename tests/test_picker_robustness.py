"""Hostile and unlucky inputs to the picker (issue 16, "Picker and CLI inputs"): every bad reply,
spec or LLM command ends as one line naming the file and the cause, with the CLI's exit code
(1 for a rejected answer, 2 for a usage or input error), never a traceback."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from temporalkit import picker
from temporalkit.cli import main
from temporalkit.picker import TaskSpec

SPEC = TaskSpec(task="SSv2-like", motion="motion", train_clips=20000, pretraining="kinetics", frames=16, size=112)


@pytest.fixture()
def spec_file(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(SPEC.model_dump_json())
    return path


def script(tmp_path: Path, name: str, body: str) -> str:
    """An LLM command running `body` as a Python script (reads the prompt on stdin first)."""
    path = tmp_path / name
    path.write_text("import sys\nsys.stdin.read()\n" + textwrap.dedent(body))
    return f"{sys.executable} {path}"


# -- 1. deeply nested JSON ---------------------------------------------------------------------


DEEP = "[" * 100_000


def test_validate_deeply_nested_reply_is_one_finding_not_a_traceback(tmp_path, spec_file, capsys):
    reply = tmp_path / "deep.json"
    reply.write_text(DEEP)
    assert main(["pick", "validate", "--spec", str(spec_file), "--answer", str(reply)]) == 1
    out = capsys.readouterr().out
    assert f"{reply}:1: error TKP100 [answer-format] the reply's JSON nests too deeply" in out
    assert "Traceback" not in out


@pytest.mark.parametrize("text", [DEEP, "```json\n" + DEEP + "\n```", "Here: " + '{"a": ' * 50_000])
def test_parse_answer_rejects_deep_nesting_anywhere(text):
    answer, findings, _ = picker.parse_answer(text, "r.md")
    assert answer is None and [f.rule for f in findings] == ["TKP100"]
    assert "nests too deeply" in findings[0].message


def test_ask_deeply_nested_reply_is_rejected_not_a_traceback(tmp_path, spec_file, capsys):
    command = script(tmp_path, "deep.py", "sys.stdout.write('[' * 100000)\n")
    assert main(["pick", "ask", "--spec", str(spec_file), "--llm-cmd", command, "--retries", "0"]) == 1
    out = capsys.readouterr().out
    assert "<reply>:1: error TKP100 [answer-format] the reply's JSON nests too deeply" in out
