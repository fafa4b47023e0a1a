"""One bad file never kills or hangs the static audit (issue 16): the parser gate, worker crashes
and hangs, source decoding, one place per syntax error."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from robust_helpers import GOOD, audit, audit_in_subprocess, write
from temporalkit.validators import audit as audit_module

# Each reached libcst on the old code: segfault (exit 139), or minutes of parsing.
HOSTILE = {
    "parens.py": "flag_me(1)\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    "brackets.py": "flag_me(1)\nx = " + "[" * 3000 + "1" + "]" * 3000 + "\n",
    "attributes.py": "flag_me(1)\nx = a" + ".b" * 20000 + "\n",
    "sum.py": "flag_me(1)\nx = " + "+".join(["1"] * 100000) + "\n",
    # CPython accepts these; libcst took > 40 s (subscripts) and 7 s (calls) on them.
    "subscripts.py": "flag_me(1)\nx = a" + "[0]" * 2000 + "\n",
    "calls.py": "flag_me(1)\nx = f" + "()" * 2000 + "\n",
    # One flat node for CPython, 20,000 nested ones for libcst: segfault (found by benchmarks/fuzz_audit.py).
    "boolean.py": "flag_me(1)\nx = " + " or ".join(["a"] * 20000) + "\n",
}


def test_hostile_nesting_is_one_error_per_file_and_the_run_goes_on(tmp_path):
    write(tmp_path / "good.py", GOOD)
    for name, text in HOSTILE.items():
        write(tmp_path / name, text)
    started = time.monotonic()
    status, errors, findings, stderr = audit_in_subprocess(tmp_path, timeout=90)
    assert status == 0, stderr[-2000:]
    assert time.monotonic() - started < 60
    assert findings == ["good.py"]
    assert set(errors) == set(HOSTILE)
    for name, message in errors.items():
        assert message.startswith("cannot parse:") and "\n" not in message, (name, message)
    assert all("nested" in errors[name] for name in ("subscripts.py", "calls.py", "boolean.py"))


def test_the_depth_gate_passes_real_code():
    # The deepest file of the standard library and of twelve video-ML repositories: 87 levels.
    text = "x = " + "+".join(["1"] * 150) + "\n" + "y = " + "(" * 150 + "1" + ")" * 150 + "\n"
    text += "z = " + " or ".join(["a"] * 1000) + "\n" + "w = a" + ".b" * 600 + "\n"  # generated sympy: 569
    assert audit_module._builtin_syntax_error(text, check_depth=True) is None
    too_deep = "x = a" + "[0]" * (audit_module.MAX_SYNTAX_DEPTH + 5) + "\n"
    assert "nested more than" in audit_module._builtin_syntax_error(too_deep, check_depth=True)


@pytest.mark.parametrize("count", [3, 30])  # in-process on the old code below 24 files, a pool above
def test_a_worker_segfault_costs_only_its_file(tmp_path, count):
    for i in range(count):
        write(tmp_path / f"m{i:02d}.py", "\n" * i + GOOD)
    write(tmp_path / "crash.py", "segfault_here()\nflag_me(2)\n")
    status, errors, findings, stderr = audit_in_subprocess(tmp_path, jobs=2)
    assert status == 0, stderr[-2000:]
    assert sorted(findings) == [f"m{i:02d}.py" for i in range(count)]
    assert list(errors) == ["crash.py"]
    assert errors["crash.py"].startswith("could not be audited") and "SIGSEGV" in errors["crash.py"]


def test_a_hanging_file_is_killed_after_its_time_budget(tmp_path):
    for i in range(4):
        write(tmp_path / f"m{i}.py", GOOD)
    write(tmp_path / "hang.py", "hang_here()\n")
    started = time.monotonic()
    status, errors, findings, stderr = audit_in_subprocess(tmp_path, env={"TEMPORALKIT_FILE_TIMEOUT": "2"}, timeout=50)
    assert status == 0, stderr[-2000:]
    assert time.monotonic() - started < 30
    assert sorted(findings) == [f"m{i}.py" for i in range(4)]
    assert list(errors) == ["hang.py"] and "took longer than 2 s" in errors["hang.py"]


def test_crash_and_timeout_errors_are_not_cached(tmp_path, monkeypatch):
    path = write(tmp_path / "hang.py", "hang_here()\nflag_me(1)\n")
    monkeypatch.setenv("TEMPORALKIT_FILE_TIMEOUT", "1")
    first = audit(tmp_path, path, cache=True)
    assert "took longer" in first.errors[0].message
    path.write_text("flag_me(1)\n")
    path.write_text("hang_here\nflag_me(1)\n")  # no longer hangs: a name, not a call
    second = audit(tmp_path, path, cache=True)
    assert second.errors == [] and len(second.findings) == 1


def test_latin1_file_with_a_coding_cookie_is_audited(tmp_path):
    # Valid Python (PEP 263); refused as "not valid UTF-8" before.
    path = write(tmp_path / "old.py", "# -*- coding: latin-1 -*-\n# café\nflag_me('é')\n".encode("latin-1"))
    result = audit(tmp_path, path)
    assert result.errors == [] and [f.line for f in result.findings] == [3]
    # --fix writes UTF-8, so such a file is audited but never rewritten.
    before = path.read_bytes()
    audit(tmp_path, path, fix=True)
    assert path.read_bytes() == before


def test_undeclared_non_utf8_and_bad_cookie_are_one_line_errors(tmp_path):
    write(tmp_path / "nocookie.py", b"# caf\xe9\nflag_me(1)\n")
    write(tmp_path / "badcookie.py", b"# -*- coding: klingon -*-\nx = '\xe9'\nflag_me(1)\n")
    write(tmp_path / "lying.py", b"# coding: ascii\nx = '\xe9'\nflag_me(1)\n")
    result = audit(tmp_path, tmp_path)
    errors = {Path(e.path).name: e.message for e in result.errors}
    assert set(errors) == {"nocookie.py", "badcookie.py", "lying.py"}
    assert "UTF-8" in errors["nocookie.py"] and "0xe9" in errors["nocookie.py"]
    assert all("\n" not in m for m in errors.values())


@pytest.mark.parametrize(
    "source, line, column",
    [
        ("def f(:\n    flag_me(1)\n", 1, 7),
        ("import numpy as np\nx = flag_me(0, n, T\ny = 2\n", 2, 12),
    ],
)
def test_a_syntax_error_names_one_place(tmp_path, source, line, column):
    # It said "near line 2, column 1 (error at 2:4: ...)": two places, neither where CPython points.
    path = write(tmp_path / "broken.py", source)
    (error,) = audit(tmp_path, path).errors
    assert f"at line {line}, column {column}" in error.message
    assert error.message.count("line") == 1 and not re.search(r"\d+:\d+", error.message)


def test_valid_python_libcst_cannot_parse_is_not_called_a_syntax_error(tmp_path):
    # 100,000 implicitly concatenated strings: CPython compiles it, libcst's parser gives up with a
    # "syntax error at line 1" that sent users looking for a mistake that is not there.
    path = write(tmp_path / "strings.py", "flag_me(1)\nx = " + " ".join(["'a'"] * 100_000) + "\n")
    result = audit(tmp_path, path)
    [error] = result.errors
    assert error.message.startswith("cannot parse: libcst refuses what Python accepts: ")


@pytest.mark.parametrize(
    "head",
    [b"\xef\xbb\xbf# -*- coding: latin-1 -*-\n", b"# -*- coding: uft-8 -*-\n"],
    ids=["utf8-bom-with-a-latin-1-cookie", "unknown-encoding"],
)
def test_a_cookie_python_refuses_is_refused_even_when_the_bytes_are_utf8(tmp_path, head):
    # Both decode as UTF-8, so they were audited (and could be fixed) although Python cannot run them.
    path = write(tmp_path / "cookie.py", head + GOOD.encode())
    result = audit(tmp_path, path)
    [error] = result.errors
    assert error.message.startswith("cannot decode: ") and "\n" not in error.message and not result.findings
