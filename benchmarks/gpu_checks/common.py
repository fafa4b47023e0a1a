"""Shared by the checks: the tree root, the run record (Run), subprocesses (Command, run_command, cli,
torchrun) and output trimming (tail, brief, last_lines, cuda_lines)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from .output import headline, markdown

ROOT = Path(__file__).resolve().parent.parent.parent
ENTRY = ROOT / "benchmarks" / "gpu_check.py"  # the script torchrun runs with --ddp-worker (check 6b)


class Run:
    """Results so far, the time budget and the output files (rewritten after every check)."""

    def __init__(self, out: Path, budget_s: float, skip: set[str]) -> None:
        self.out = out
        self.started = time.monotonic()
        self.deadline = self.started + budget_s
        self.skip = skip
        self.checks: list[dict] = []
        self.logs: list[str] = []
        self.environment: dict = {}
        self.cuda = False
        self.tmp = Path(tempfile.mkdtemp(prefix="gpu_check-"))

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def skipped(self, cid: str) -> bool:
        return any(cid.startswith(s) for s in self.skip)

    def check(self, cid: str, title: str, fn, *args, min_s: float = 5.0) -> dict:
        record = {"id": cid, "title": title, "status": "fail", "seconds": 0.0, "error": None, "details": {}}
        if self.skipped(cid):
            record.update(status="skip", error="skipped by --skip")
        elif self.left() < min_s:
            record.update(status="skip", error=f"time budget: {self.left():.0f} s left, needs about {min_s:.0f} s")
        else:
            start = time.monotonic()
            try:
                status, details = fn(*args)
                record.update(status=status, details=details, error=details.pop("error", None))
            except Exception as exc:  # noqa: BLE001 - one failing check must not stop the others
                record["error"] = f"{type(exc).__name__}: {exc}"[:2000]
                record["details"] = {"traceback": traceback.format_exc()[-4000:]}
            record["seconds"] = round(time.monotonic() - start, 2)
        self.checks.append(record)
        print(
            f"[{record['status'].upper():>8}] {cid:<3} {title:<44} {record['seconds']:7.1f}s  {headline(record)}",
            flush=True,
        )
        self.write()
        return record

    def write(self) -> None:
        document = {
            "script": "benchmarks/gpu_check.py",
            "elapsed_s": round(time.monotonic() - self.started, 1),
            "environment": self.environment,
            "checks": self.checks,
        }
        (self.out / "gpu_check.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
        (self.out / "gpu_check.md").write_text(markdown(document))
        (self.out / "logs.txt").write_text("\n".join(self.logs)[-8_000_000:])


def tail(text: str, chars: int = 3000) -> str:
    return text if len(text) <= chars else "..." + text[-chars:]


class Command:
    """A subprocess in its own session, output to files, killed (whole group) at its timeout."""

    def __init__(self, run: Run, name: str, args: list[str], env: dict | None = None, cwd: Path = ROOT) -> None:
        self.run, self.name, self.args = run, name, args
        self.stdout_path = run.tmp / f"{name}.out"
        self.stderr_path = run.tmp / f"{name}.err"
        self.started = time.monotonic()
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                args,
                cwd=cwd,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.ended: float | None = None  # set by the waiter thread: run time, not time until collected
        self._waiter = threading.Thread(target=self._wait, daemon=True)
        self._waiter.start()

    def _wait(self) -> None:
        self.process.wait()
        self.ended = time.monotonic()

    def wait(self, timeout: float) -> dict:
        self._waiter.join(max(timeout, 1.0))
        timed_out = self._waiter.is_alive()
        if timed_out:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._waiter.join()
        stdout = self.stdout_path.read_text(errors="replace")
        stderr = self.stderr_path.read_text(errors="replace")
        seconds = round((self.ended or time.monotonic()) - self.started, 2)
        self.run.logs.append(
            f"===== {self.name}: {' '.join(self.args)}\n----- rc {self.process.returncode}, {seconds} s"
            f"{', TIMED OUT' if timed_out else ''}\n----- stdout\n{tail(stdout, 200_000)}\n----- stderr\n{tail(stderr, 200_000)}\n"
        )
        return {
            "command": " ".join(self.args),
            "rc": self.process.returncode,
            "timed_out": timed_out,
            "seconds": seconds,
            "stdout": stdout,
            "stderr": stderr,
        }


def run_command(run: Run, name: str, args: list[str], timeout: float, env: dict | None = None) -> dict:
    return Command(run, name, args, env).wait(min(timeout, max(run.left(), 5.0)))


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "temporalkit.cli", *args]


def torchrun(nproc: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *args]


def brief(result: dict, chars: int = 1500) -> dict:
    """A command result without its full output (that goes to logs.txt)."""
    return {
        "command": result["command"],
        "rc": result["rc"],
        "timed_out": result["timed_out"],
        "seconds": result["seconds"],
        "stdout_tail": tail(result["stdout"], chars),
        "stderr_tail": tail(result["stderr"], chars),
    }


def last_lines(text: str, count: int = 3) -> str:
    """The last non-empty lines of a command's output on one line (where a traceback says what went wrong)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:])[-600:]


def cuda_lines(text: str) -> list[str]:
    keys = ("cuda", "out of memory", "nccl", "cudnn", "cublas", "memoryerror", "rlimit")
    return [line.strip()[:400] for line in text.splitlines() if any(k in line.lower() for k in keys)][:20]
