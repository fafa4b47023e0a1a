"""What the dynamic auditor's child can and cannot do (issue 16): results it cannot forge, checks it
cannot patch, an allow-listed environment and capped output, no process left behind, BaseExceptions
named, an auditor that survives its child's signals, usage errors for a bad timeout, and (where Linux
allows it without root) no network and a read-only view of the audited tree.

Each test starts a child Python; most stop it at import time so the sampler grid does not run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from temporalkit.validators.dynamic import check_object_results, runner

from temporalkit.cli import main

BUGGY = """
def sample(num_frames, T):
    return [i * num_frames // T + 1 for i in range(T)]  # off by one: index num_frames for the last segment
"""


def audit(tmp_path: Path, source: str, name: str = "sample", folder: str = "project"):
    root = tmp_path / folder
    root.mkdir(exist_ok=True)
    path = root / "pipeline.py"
    path.write_text(textwrap.dedent(source))
    results, errors = check_object_results(path, name, "sampler", timeout=60, memory_mb=0)
    return results[0] if results else None, [e.message for e in errors]


def rules(result) -> set[str]:
    return {f.rule for f in result.findings}


# --- 1. results travel on a channel the user code cannot forge -------------------------------------------

FORGE = """
import json, os
_lines = [{"event": "imported"}, {"event": "start", "object": "sample"},
          {"event": "done", "object": "sample", "findings": [], "notes": [], "error": None}, {"event": "exit", "status": 0}]
_text = "".join(json.dumps(line) + "\\n" for line in _lines).encode()
for _fd in [1, 2] + [int(n) for n in os.listdir("/proc/self/fd")]:
    try:
        if _fd > 2 and not os.readlink(f"/proc/self/fd/{_fd}").startswith("pipe:"):
            continue
        os.write(_fd, _text)
    except OSError:
        pass
os._exit(0)  # before the real checks could run
"""


def test_forged_clean_result_is_not_believed(tmp_path):
    result, errors = audit(tmp_path, FORGE + BUGGY)
    assert not any(o.error is None and not o.findings for o in result.objects), "a forged clean result was believed"
    assert result.forged >= 1
    assert any("did not carry this run's token" in e for e in errors)
    assert any("ended before the import finished" in e for e in errors)


PARTIAL_LINE = """
import os
for _fd in [int(n) for n in os.listdir("/proc/self/fd")]:
    try:
        if _fd > 2 and os.readlink(f"/proc/self/fd/{_fd}").startswith("pipe:"):
            os.write(_fd, b'{"event": "done", "object": "sample", "findings": [], "token": "')  # no newline
    except OSError:
        pass
"""


def test_partial_line_on_the_answer_pipe_cannot_swallow_an_answer(tmp_path):
    result, errors = audit(tmp_path, PARTIAL_LINE + BUGGY)
    assert "TK502" in rules(result), errors
    assert result.forged == 1


# --- 2. the checks run in code the user module cannot patch ------------------------------------------

PATCH_CHECKER = """
import temporalkit.validators.dynamic.sampler_checks as _checks
_checks.check_sampler.__code__ = (lambda sampler: []).__code__  # the function itself reports nothing
_checks.check_sampler = lambda sampler: []                       # and so does what the module name points to
"""


def test_monkeypatched_checker_still_reports_the_bug(tmp_path):
    result, errors = audit(tmp_path, PATCH_CHECKER + BUGGY)
    assert "TK502" in rules(result), (errors, result.objects)
    assert any("restored before checking" in note for o in result.objects for note in o.notes)


# --- 3. environment allow-list, file size limit, bounded captured output ----------------------------------


def test_child_environment_drops_secrets_and_keeps_what_imports_need(monkeypatch):
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LANG": "C.UTF-8",
        "LC_ALL": "C",
        "CUDA_VISIBLE_DEVICES": "0",
        "TEMPORALKIT_MEMORY_LIMIT": "resident",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_PROFILE": "p",
        "GITHUB_TOKEN": "t",
        "OPENAI_API_KEY": "k",
        "TEMPORALKIT_API_KEY": "k",
        "DATABASE_URL": "postgres://",
        "DATA_ROOT": "/data",
        "TEMPORALKIT_DYNAMIC_ENV": "DATA_ROOT",
    }
    env = runner.child_environment(environ, workdir="/tmp/w")
    assert {
        "PATH",
        "HOME",
        "LANG",
        "LC_ALL",
        "CUDA_VISIBLE_DEVICES",
        "TEMPORALKIT_MEMORY_LIMIT",
        "DATA_ROOT",
        "PYTHONPATH",
    } <= set(env)
    assert not {
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "GITHUB_TOKEN",
        "OPENAI_API_KEY",
        "TEMPORALKIT_API_KEY",
        "DATABASE_URL",
    } & set(env)
    assert env["TMPDIR"] == "/tmp/w"


FLOOD = """
import os
_chunk = b"y" * 2**20
for _ in range(40):  # 40 MB of output, at import time
    os.write(1, _chunk)
os.write(2, b"\\nthe end\\n")
raise SystemExit(0)
"""


def test_captured_output_is_bounded_and_says_it_was_truncated(tmp_path):
    result, errors = audit(tmp_path, FLOOD + BUGGY)
    assert len(result.captured) < 5000
    assert result.captured.startswith("[output truncated: 4194") and result.captured.rstrip().endswith("the end")
    assert errors == ["import failed: called sys.exit(0) (SystemExit)"]


ENV_REPORT = """
import os, resource, tempfile
_report = {"secret": "AWS_SECRET_ACCESS_KEY" in os.environ or "MY_SERVICE_TOKEN" in os.environ,
           "fsize_mb": resource.getrlimit(resource.RLIMIT_FSIZE)[0] // 2**20}
try:
    with tempfile.TemporaryFile() as big:
        big.write(b"x" * (3 * 2**20))
        big.flush()
    _report["big_file"] = "written"
except OSError as exc:
    _report["big_file"] = f"refused {exc.errno}"
raise RuntimeError(repr(_report))
"""


def test_child_gets_no_secrets_and_a_file_size_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "do-not-leak")
    monkeypatch.setattr(runner, "FILE_SIZE_LIMIT_MB", 1)
    _, errors = audit(tmp_path, ENV_REPORT + BUGGY)
    assert errors == ["import failed: RuntimeError: {'secret': False, 'fsize_mb': 1, 'big_file': 'refused 27'}"]


# --- 4. every descendant is killed at the end, those in a new session included --------------------------

SPAWN = """
import subprocess
subprocess.Popen(["setsid", "sleep", "{mark}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
subprocess.Popen(["sleep", "{mark}"], start_new_session=True)
import time
time.sleep(1.0)  # let setsid exec
raise SystemExit(0)
"""


def _processes_with(mark: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    if mark.encode() in cmdline.read():
                        with open(f"/proc/{entry}/stat", "rb") as stat:
                            if stat.read().rsplit(b")", 1)[1].split()[0] != b"Z":
                                found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_setsid_grandchildren_do_not_survive_the_audit(tmp_path):
    mark = f"299.{uuid.uuid4().int % 10**8}"
    try:
        audit(tmp_path, SPAWN.format(mark=mark) + BUGGY)
        time.sleep(0.2)
        assert _processes_with(mark) == []
    finally:
        for pid in _processes_with(mark):
            os.kill(pid, 9)


# --- 5. BaseExceptions named as what they are; the auditor survives its child's signals -------------------

RAISES = """
import signal, sys
def interrupted(num_frames, T):
    raise KeyboardInterrupt
def exits(num_frames, T):
    sys.exit(3)
"""


def test_keyboard_interrupt_and_system_exit_are_reported_as_such(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    path = root / "raises.py"
    path.write_text(textwrap.dedent(RAISES))
    messages = []
    for name in ("interrupted", "exits"):
        _, errors = check_object_results(path, name, "sampler", timeout=60, memory_mb=0)
        messages += errors
    text = " | ".join(e.message for e in messages)
    assert "raised KeyboardInterrupt" in text and "called sys.exit(3) (SystemExit)" in text, text
    assert "SIGKILL" not in text and "memory limit" not in text


SIGNALS_PARENT = """
import os, signal
os.kill(os.getppid(), signal.SIGTERM)
os.kill(os.getppid(), signal.SIGINT)
"""


def test_auditor_survives_its_child_signalling_its_parent(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    path = root / "pipeline.py"
    path.write_text(textwrap.dedent(SIGNALS_PARENT + BUGGY))
    done = subprocess.run(
        [sys.executable, "-m", "temporalkit", "check", f"{path}:sample", "--role", "sampler"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "TK502" in done.stdout


# --- 6. a timeout that is not a positive number is a usage error ------------------------------------------


@pytest.mark.parametrize("value", ["nan", "0", "-1", "inf"])
def test_bad_timeout_is_a_usage_error(tmp_path, capsys, value):
    path = tmp_path / "pipeline.py"
    path.write_text(BUGGY)
    assert main(["audit", str(path), "--dynamic", "--no-cache", "--timeout", value]) == 2
    assert main(["check", f"{path}:sample", "--role", "sampler", "--timeout", value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("--timeout must be a number of seconds above 0" in line for line in err), err


@pytest.mark.parametrize("value", ["0", "-1", "nan", "'soon'"])
def test_bad_timeout_in_pyproject_is_a_usage_error(tmp_path, capsys, value):
    (tmp_path / "pyproject.toml").write_text(f"[tool.temporalkit.dynamic]\ntimeout = {value}\n")
    path = tmp_path / "pipeline.py"
    path.write_text(BUGGY)
    assert main(["audit", str(path), "--dynamic", "--no-cache"]) == 2
    assert main(["check", f"{path}:sample", "--role", "sampler"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("timeout must be a number of seconds above 0" in line for line in err), err


# --- 7. no network and a read-only view of the audited tree, where namespaces work ------------------------

ESCAPE = """
import ctypes, os, socket
_here = os.path.dirname(os.path.abspath(__file__))
_report = {}
try:
    socket.create_connection(("10.255.255.1", 9), timeout=2).close()
    _report["network"] = "open"
except OSError as exc:
    _report["network"] = f"failed {exc.errno}"
ctypes.CDLL(None).umount2(_here.encode(), 2)  # try to lift the read-only view (MNT_DETACH)
for _target in (os.path.join(_here, "written.txt"), os.path.join(os.path.expanduser("~"), "tk-isolation-{mark}.txt")):
    try:
        with open(_target, "w") as handle:
            handle.write("x")
        _report[_target] = "written"
    except OSError as exc:
        _report[_target] = f"refused {exc.errno}"
raise RuntimeError(repr(_report))
"""


def test_namespaces_no_network_and_read_only_tree(tmp_path):
    mode, why = runner.isolation_mode()
    if mode != "namespaces":
        pytest.skip(f"namespaces not available here: {why}")
    mark = uuid.uuid4().hex[:8]
    home_file = Path(os.path.expanduser("~")) / f"tk-isolation-{mark}.txt"
    try:
        result, errors = audit(tmp_path, ESCAPE.replace("{mark}", mark) + BUGGY)
    finally:
        if home_file.exists():
            home_file.unlink()
            pytest.fail("the child wrote to $HOME")
    assert not (tmp_path / "project" / "written.txt").exists()
    assert result.isolation.startswith("namespaces (no network; read-only:")
    text = errors[0]
    assert "'network': 'failed" in text and "'written'" not in text, text


def test_process_mode_is_said_and_still_works(tmp_path, monkeypatch):
    monkeypatch.setenv(runner.ISOLATION_ENV, "process")
    result, errors = audit(tmp_path, "raise SystemExit(5)\n" + BUGGY)
    assert result.isolation.startswith("process (network open")
    assert errors == ["import failed: called sys.exit(5) (SystemExit)"]


def test_bad_isolation_setting_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(runner.ISOLATION_ENV, "chroot")
    path = tmp_path / "pipeline.py"
    path.write_text(BUGGY)
    assert main(["check", f"{path}:sample", "--role", "sampler"]) == 2
    assert "TEMPORALKIT_ISOLATION must be one of auto, namespaces, process" in capsys.readouterr().err


SETSID_HOG = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; hog = b'1' * (400 * 2**20); time.sleep(60)"], start_new_session=True)
time.sleep(60)
"""


def test_resident_limit_counts_processes_that_left_the_session(tmp_path, monkeypatch):
    monkeypatch.setenv(runner.MEMORY_LIMIT_ENV, "resident")
    root = tmp_path / "project"
    root.mkdir()
    path = root / "pipeline.py"
    path.write_text(textwrap.dedent(SETSID_HOG + BUGGY))
    started = time.monotonic()
    _, errors = check_object_results(path, "sample", "sampler", timeout=30, memory_mb=300)
    assert len(errors) == 1 and errors[0].message.startswith("import ran out of memory: resident memory reached "), (
        errors
    )
    assert "started by the checked code" in errors[0].message
    assert time.monotonic() - started < 25


def test_auto_falls_back_to_a_process_with_one_warning_where_namespaces_fail(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(runner.ISOLATION_ENV, raising=False)
    monkeypatch.setattr(runner, "_namespace_probe", (False, "unshare failed: Operation not permitted"))
    monkeypatch.setattr(runner, "_warned", False)
    result, errors = audit(tmp_path, "raise SystemExit(5)\n" + BUGGY)
    assert result.isolation.startswith("process (network open") and "Operation not permitted" in result.isolation
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("temporalkit: warning: --dynamic runs without namespaces"), (
        warning
    )
    monkeypatch.setenv(runner.ISOLATION_ENV, "namespaces")  # forced where they do not work: a usage error
    assert main(["check", f"{tmp_path / 'project' / 'pipeline.py'}:sample", "--role", "sampler"]) == 2
    assert "namespaces are not available here" in capsys.readouterr().err
