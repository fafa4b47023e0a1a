"""Shared test rules and helpers of the robustness suite (imported by its tests and by the small
scripts they run in a subprocess, so that a hang or a crash of the old code fails a test instead
of killing the test session)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import libcst as cst
from temporalkit.validators.audit import audit_paths
from temporalkit.validators.config import AuditConfig
from temporalkit.validators.rule import Rule

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


class CallRule(Rule):
    """Test rule: every call to `flag_me(...)` is a finding."""

    ID = "TK910"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = "flagged call"
    TRIGGERS = ("flag_me",)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "flag_me":
            self.report(node)


class CrashRule(Rule):
    """Test rule: a call to `segfault_here()` kills the process analysing the file with SIGSEGV,
    `hang_here()` sleeps for a minute (a parser crash or hang, made on purpose)."""

    ID = "TK911"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = "never reported"
    TRIGGERS = ("segfault_here", "hang_here")

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "segfault_here":
            os.kill(os.getpid(), signal.SIGSEGV)
        if isinstance(node.func, cst.Name) and node.func.value == "hang_here":
            time.sleep(60)


RULES = (CallRule, CrashRule)
GOOD = "def sample(n):\n    return flag_me(n)\n"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def audit(root: Path, *paths, **kwargs):
    kwargs.setdefault("rules", RULES)
    kwargs.setdefault("config", AuditConfig(root=root))
    kwargs.setdefault("cache", False)
    kwargs.setdefault("cache_dir", root / ".cache")
    return audit_paths([str(p) for p in paths] or [str(root)], **kwargs)


def audit_in_subprocess(root: Path, *paths: Path, timeout: float = 60, env: dict | None = None, **kwargs):
    """audit() in a child process: (exit status, {file name: error}, [finding file names], stderr).

    The old code crashed or hung on the inputs these tests use: in a child that costs one test."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from robust_helpers import audit\n"
        f"result = audit(Path({str(root)!r}), *{[str(p) for p in paths]!r}, **{kwargs!r})\n"
        "print(json.dumps({'errors': {Path(e.path).name: e.message for e in result.errors},"
        " 'findings': [Path(f.path).name for f in result.findings]}))\n"
    )
    child_env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH")) if p), **(env or {})
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout, env=child_env, cwd=root
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the audit did not finish within {timeout} s") from None
    import json

    lines = done.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if done.returncode == 0 and lines else {"errors": {}, "findings": []}
    return done.returncode, report["errors"], report["findings"], done.stderr
