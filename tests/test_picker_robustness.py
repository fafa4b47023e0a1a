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


# -- 3. YAML alias bombs and long echoes -------------------------------------------------------


BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(f"{x}: &{x} [{','.join([f'*{p}'] * 9)}]" for p, x in zip("abcdefgh", "bcdefghi", strict=True)),
        "task: *i",
        "motion: motion",
        "train_clips: 10",
    ]
)


def test_yaml_alias_bomb_is_refused_in_one_short_line(tmp_path, capsys):
    spec = tmp_path / "bomb.yaml"
    spec.write_text(BOMB)
    assert len(BOMB) < 1000
    assert main(["pick", "recommend", "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err == f"{spec}: cannot parse as yaml: line 2, column 8: aliases (*a) are not allowed in a spec\n"


def test_anchor_without_alias_still_loads(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("task: &t gestures\nmotion: motion\ntrain_clips: 10\n")
    assert picker.load_spec(spec).task == "gestures"


@pytest.mark.parametrize(
    "name, text",
    [
        ("big.json", '{"task": "t", "motion": "m' + "x" * 500_000 + '", "train_clips": 10}'),
        ("deep.json", '{"task": ' + "[" * 200 + "]" * 200 + ', "motion": "motion", "train_clips": 10}'),
        ("bad.yaml", "task: '" + "y" * 500_000),
        ("k.yaml", "task: t\nmotion: motion\ntrain_clips: 10\n" + "z" * 300_000 + ": 1\n"),
        ("deep.toml", "task = " + "[" * 5000 + "]" * 5000 + "\n"),
    ],
)
def test_spec_errors_echo_at_most_a_few_hundred_characters(tmp_path, capsys, name, text):
    spec = tmp_path / name
    spec.write_text(text)
    assert main(["pick", "recommend", "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{spec}: ") and "Traceback" not in err
    assert all(len(line) < 400 + len(str(spec)) for line in err.splitlines()), err[:1000]


def test_spec_larger_than_a_megabyte_is_refused(tmp_path, capsys):
    spec = tmp_path / "huge.yaml"
    spec.write_text("task: t\n" + "# comment\n" * 200_000)
    assert main(["pick", "recommend", "--spec", str(spec)]) == 2
    assert capsys.readouterr().err == f"{spec}: cannot read: larger than 1,000,000 bytes (a spec is a dozen fields)\n"


def test_unknown_model_echo_is_cut_short():
    reply = (
        '{"family": "i3d", "model": "' + "m" * 100_000 + '", "frames": 16, "size": 112, "sampling": "dense",'
        ' "test_clips": 1, "test_time": "deterministic", "estimated_gmacs": 1, "pretraining": "none", "rationale": "r", "risks": []}'
    )
    findings = picker.validate_answer(SPEC, reply, path="r.json")
    assert [f.rule for f in findings] == ["TKP102"]
    assert len(findings[0].message) < 400 and "mmm...mmm" in findings[0].message


def test_schema_error_echo_of_a_huge_value_is_cut_short():
    reply = (
        '{"family": "i3d", "model": "x", "frames": "' + "9" * 100_000 + 'a", "risks": ' + "[" * 500 + "]" * 500 + "}"
    )
    answer, findings, _ = picker.parse_answer(reply, "r.json")
    assert answer is None and findings and all(len(f.message) < 400 for f in findings)


# -- 4. pick ask: the LLM command --------------------------------------------------------------


def ask_cli(spec_file, *argv) -> int:
    return main(["pick", "ask", "--spec", str(spec_file), *argv])


def test_ask_binary_output_is_one_line_exit_2(tmp_path, spec_file, capsys):
    command = script(tmp_path, "binary.py", "sys.stdout.buffer.write(b'\\x89PNG\\r\\n\\x1a\\n\\xff\\xfe' * 1000)\n")
    assert ask_cli(spec_file, "--llm-cmd", command) == 2
    err = capsys.readouterr().err
    assert err.startswith("temporalkit pick: LLM command wrote output that is not UTF-8 text (byte 0x89 at offset 0)")
    assert err.count("\n") == 1


def test_ask_non_executable_and_missing_commands_are_one_line_exit_2(tmp_path, spec_file, capsys):
    not_executable = tmp_path / "llm.sh"
    not_executable.write_text("#!/bin/sh\necho '{}'\n")
    not_executable.chmod(0o644)
    assert ask_cli(spec_file, "--llm-cmd", str(not_executable)) == 2
    assert (
        capsys.readouterr().err
        == f"temporalkit pick: cannot run LLM command {str(not_executable)!r}: Permission denied\n"
    )
    assert ask_cli(spec_file, "--llm-cmd", str(tmp_path)) == 2
    assert capsys.readouterr().err.startswith(f"temporalkit pick: cannot run LLM command {str(tmp_path)!r}: ")
    assert ask_cli(spec_file, "--llm-cmd", str(tmp_path / "missing-llm")) == 2
    assert capsys.readouterr().err == f"temporalkit pick: LLM command not found: {str(tmp_path / 'missing-llm')!r}\n"


def test_ask_unbalanced_quote_is_one_line_exit_2(spec_file, capsys):
    assert ask_cli(spec_file, "--llm-cmd", "llm -m 'gpt") == 2
    assert (
        capsys.readouterr().err
        == 'temporalkit pick: cannot split the LLM command "llm -m \'gpt": No closing quotation\n'
    )


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--retries", "-1"),
        ("--retries", "x"),
        ("--timeout", "0"),
        ("--timeout", "-1"),
        ("--timeout", "nan"),
        ("--timeout", "inf"),
    ],
)
def test_ask_bad_numbers_are_usage_errors(spec_file, capsys, flag, value):
    with pytest.raises(SystemExit) as info:
        ask_cli(spec_file, "--llm-cmd", "true", flag, value)
    assert info.value.code == 2
    assert f"error: argument {flag}: expected" in capsys.readouterr().err


def test_ask_api_refuses_negative_retries():
    with pytest.raises(ValueError, match="retries must be a whole number >= 0"):
        picker.ask(SPEC, "true", retries=-1)


def sleep_outlived(pid_file: Path) -> bool:
    """Whether the `sleep` whose pid is in `pid_file` is still running (killed if so)."""
    import os
    import time

    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    for _ in range(50):  # the killed sleep is reaped by init; give it a moment
        try:
            with open(f"/proc/{pid}/stat") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state == "Z":
            return False
        time.sleep(0.1)
    os.kill(pid, 9)
    return True


SPAWN_SLEEP = """
import subprocess, time
child = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
open({pid_file!r}, "w").write(str(child.pid))
"""


def test_ask_timeout_kills_the_commands_background_children(tmp_path, spec_file, capsys):
    import time

    pid_file = tmp_path / "sleep.pid"
    command = script(tmp_path, "hang.py", SPAWN_SLEEP.format(pid_file=str(pid_file)) + "time.sleep(300)\n")
    started = time.monotonic()
    try:
        assert ask_cli(spec_file, "--llm-cmd", command, "--timeout", "3") == 2
        assert time.monotonic() - started < 60
        assert "timed out after 3 s (killed with its children)" in capsys.readouterr().err
    finally:
        assert not sleep_outlived(pid_file), "the sleep outlived the timed-out LLM command"


def test_ask_kills_children_left_behind_by_a_command_that_exits(tmp_path):
    pid_file = tmp_path / "sleep.pid"
    command = script(tmp_path, "leaves.py", SPAWN_SLEEP.format(pid_file=str(pid_file)) + "print('no json here')\n")
    try:
        result = picker.ask(SPEC, command, retries=0, timeout_s=60)
        assert not result.accepted
    finally:
        assert not sleep_outlived(pid_file), "the sleep outlived the LLM command"


def test_validate_refuses_an_endless_reply_without_reading_it_all(spec_file, capsys):
    assert main(["pick", "validate", "--spec", str(spec_file), "--answer", "/dev/zero"]) == 2
    assert (
        capsys.readouterr().err
        == "/dev/zero: cannot read: larger than 4,000,000 bytes (an answer is one small JSON object)\n"
    )


def test_validate_non_utf8_reply_is_one_line(tmp_path, spec_file, capsys):
    reply = tmp_path / "reply.md"
    reply.write_bytes(b'{"model": "\xff"}')
    assert main(["pick", "validate", "--spec", str(spec_file), "--answer", str(reply)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{reply}: cannot read: 'utf-8' codec can't decode byte 0xff") and err.count("\n") == 1


def test_ask_does_not_wait_for_a_background_child_holding_the_output(tmp_path):
    import time

    pid_file = tmp_path / "sleep.pid"
    body = (
        "import subprocess\n"
        "child = subprocess.Popen(['sleep', '300'], stdin=subprocess.DEVNULL)\n"  # inherits stdout
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "print('no json here', flush=True)\n"
    )
    command = script(tmp_path, "holds.py", body)
    started = time.monotonic()
    try:
        result = picker.ask(SPEC, command, retries=0, timeout_s=120)
        assert not result.accepted and result.attempts[0].reply == "no json here\n"
        assert time.monotonic() - started < 60
    finally:
        assert not sleep_outlived(pid_file), "the sleep outlived the LLM command"
