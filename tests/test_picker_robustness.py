"""Hostile and unlucky inputs to the picker (issue 16, "Picker and CLI inputs"): every bad reply,
spec or LLM command ends as one line naming the file and the cause, with the CLI's exit code
(1 for a rejected answer, 2 for a usage or input error), never a traceback."""

from __future__ import annotations

import sys
import textwrap
from json import JSONDecoder
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


# -- 2. a reply of many small objects ----------------------------------------------------------


class CountingDecoder:
    """Wraps json.JSONDecoder and counts the characters each raw_decode may read."""

    read = 0
    calls = 0

    def __init__(self, *args, **kwargs):
        self.inner = JSONDecoder(*args, **kwargs)

    def raw_decode(self, s, idx=0):
        CountingDecoder.read += len(s) - idx
        CountingDecoder.calls += 1
        return self.inner.raw_decode(s, idx)


@pytest.fixture()
def counting_decoder(monkeypatch):
    from temporalkit.picker import answer

    CountingDecoder.read = CountingDecoder.calls = 0
    monkeypatch.setattr(answer.json, "JSONDecoder", CountingDecoder)
    return CountingDecoder


def test_many_small_objects_are_scanned_in_linear_work(counting_decoder):
    # 16,000 "{}" lines (48 KB): the scan tried a JSON object from every "{" on the whole rest of the
    # reply and counted the lines before each one, ~400 M characters read (0.6 s; 470 KB took 21-60 s).
    text = "{}\n" * 16_000
    answer, findings, line = picker.parse_answer(text, "r.md")
    assert answer is None and findings[0].rule == "TKP101" and line == 1
    assert counting_decoder.calls == 16_000
    assert counting_decoder.read < 100 * len(text)


def test_answer_after_470kb_of_small_objects_is_found_on_its_line(counting_decoder):
    body = '{"family": "i3d", "model": "i3d_r50"}'
    text = "{}\n" * 160_000 + "then: " + body + "\n"
    extracted = picker.answer.extract_json(text)
    assert extracted.data == {"family": "i3d", "model": "i3d_r50"} and extracted.line == 160_001
    assert counting_decoder.read < 100 * len(text)


def test_unclosed_objects_stop_at_the_scan_budget(counting_decoder):
    # Every "{" opens an object whose array never closes: each try reads to the end of the reply.
    text = ('{"a": [' + "1, " * 2000) * 100
    answer, findings, _ = picker.parse_answer(text, "r.md")
    assert answer is None and [f.rule for f in findings] == ["TKP100"]
    assert "gave up looking for a JSON object" in findings[0].message
    assert counting_decoder.read < 100 * len(text)


def test_prose_braces_and_a_quoted_example_before_the_answer():
    body = '{"family": "i3d", "model": "i3d_r50"}'
    text = "Use {T} frames {x " * 1000 + 'e.g. {"T": 16}\n\n' + body
    extracted = picker.answer.extract_json(text)
    assert extracted.data["model"] == "i3d_r50" and extracted.line == 3
