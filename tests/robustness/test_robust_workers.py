"""The auditor's worker processes do not outlive it (issue 16: a killed audit left its workers running
through their chunks, minutes of CPU on a shared machine)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from robust_helpers import HERE, write

SCRIPT = """
import os, sys, time
from pathlib import Path
import libcst as cst
from robust_helpers import audit
from temporalkit.validators.rule import Rule

class PidRule(Rule):
    ID = "TK913"
    CATEGORY = "index-out-of-range"
    SEVERITY = "error"
    MESSAGE = "never reported"
    TRIGGERS = ("stall_here",)

    def visit_Call(self, node):
        Path(sys.argv[2], str(os.getpid())).touch()
        time.sleep(120)

audit(Path(sys.argv[1]), rules=(PidRule,), jobs=2)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False


def test_workers_die_with_the_auditor(tmp_path):
    if not sys.platform.startswith("linux"):
        return
    for i in range(30):  # enough files for worker processes
        write(tmp_path / "src" / f"f{i}.py", "stall_here()\n")
    pids = tmp_path / "pids"
    pids.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH")) if p))
    auditor = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / "src"), str(pids)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not any(pids.iterdir()) and time.monotonic() < deadline and auditor.poll() is None:
            time.sleep(0.2)
        workers = [int(p.name) for p in pids.iterdir()]
        assert workers, "no worker started"
        auditor.send_signal(signal.SIGKILL)
        auditor.wait()
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in workers)  # before: each slept on, then went on with its chunk
    finally:
        auditor.kill()
        for p in pids.iterdir():
            try:
                os.kill(int(p.name), signal.SIGKILL)
            except OSError:
                pass
