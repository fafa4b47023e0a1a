"""Run the dynamic checks of one module in a child process, with a time and a memory limit.

One child per module (`python -m temporalkit.validators.dynamic.child`, JSON over stdin and
stdout). The time limit applies to each object (and to the import): the child announces each
object it starts, and when one runs past the limit the child is killed, that object is reported
as an error, and a fresh child carries on with the objects left. An import failure is reported
once for the file; a child that dies (a crash in C code, the memory limit) costs only the object
it was on. The child runs in an empty temporary directory with PYTHONDONTWRITEBYTECODE=1, so the
audited tree is never written to.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from temporalkit.validators.dynamic.discover import Candidate
from temporalkit.validators.findings import FileError, Finding

_FINDING_FIELDS = {f for f in Finding.__dataclass_fields__}


@dataclass
class ObjectResult:
    candidate: Candidate
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class ModuleResult:
    path: str
    objects: list[ObjectResult] = field(default_factory=list)
    import_error: str | None = None
    captured: str = ""

    @property
    def findings(self) -> list[Finding]:
        return [f for o in self.objects for f in o.findings]

    @property
    def errors(self) -> list[FileError]:
        errors = [FileError(self.path, self.import_error)] if self.import_error else []
        errors += [FileError(self.path, f"{o.candidate.name} (line {o.candidate.line}): {o.error}") for o in self.objects if o.error]
        return errors


def _to_finding(data: dict, candidate: Candidate) -> Finding:
    data = {k: v for k, v in data.items() if k in _FINDING_FIELDS}
    finding = Finding(**data)
    end_line = finding.end_line if finding.end_line not in (None, 0, finding.line) else candidate.line
    extra = dict(finding.extra)
    extra.setdefault("object", candidate.name)
    extra.setdefault("role", candidate.role)
    return replace(finding, path=candidate.path, line=candidate.line, column=candidate.column, end_line=end_line,
                   end_column=candidate.column, source="dynamic", extra=extra)


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONHASHSEED"] = "0"
    # The child must find temporalkit however the parent found it (installed, or a source tree on sys.path).
    env["PYTHONPATH"] = os.pathsep.join(p for p in [*sys.path, env.get("PYTHONPATH", "")] if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_module(
    path: str,
    candidates: Sequence[Candidate],
    *,
    timeout: float = 60.0,
    memory_mb: int | None = 4096,
    probe_dir: str | None = None,
) -> ModuleResult:
    """Import `path` in a child process and check each candidate; never raises for user code."""
    result = ModuleResult(path=path)
    remaining = list(candidates)
    by_name = {c.name: c for c in candidates}
    while remaining:
        outcome = _run_child(path, remaining, timeout=timeout, memory_mb=memory_mb, probe_dir=probe_dir)
        result.captured += outcome.captured
        if outcome.import_error:
            result.import_error = outcome.import_error
            return result
        for name, (findings, error, notes) in outcome.done.items():
            candidate = by_name[name]
            result.objects.append(ObjectResult(candidate, [_to_finding(f, candidate) for f in findings], error, notes))
        finished = set(outcome.done)
        if outcome.stuck is not None:
            result.objects.append(ObjectResult(by_name[outcome.stuck], error=outcome.stuck_reason))
            finished.add(outcome.stuck)
        if not finished:
            for candidate in remaining:
                result.objects.append(ObjectResult(candidate, error=outcome.stuck_reason or "the child process ended without checking it"))
            break
        remaining = [c for c in remaining if c.name not in finished]
    order = {c.name: i for i, c in enumerate(candidates)}
    result.objects.sort(key=lambda o: order[o.candidate.name])
    return result


@dataclass
class _ChildOutcome:
    done: dict[str, tuple[list[dict], str | None, list[str]]] = field(default_factory=dict)
    import_error: str | None = None
    stuck: str | None = None
    stuck_reason: str | None = None
    captured: str = ""


def _run_child(path: str, candidates: Sequence[Candidate], *, timeout: float, memory_mb: int | None, probe_dir: str | None) -> _ChildOutcome:
    request = {
        "path": os.path.abspath(path),
        "memory_mb": memory_mb,
        "probe_dir": probe_dir,
        "objects": [{"name": c.name, "role": c.role, "args": dict(c.args), "test_time": c.test_time, "family": c.family} for c in candidates],
    }
    outcome = _ChildOutcome()
    with tempfile.TemporaryDirectory(prefix="temporalkit-dynamic-") as workdir, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "temporalkit.validators.dynamic.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=workdir,
            env=_child_environment(),
            start_new_session=True,
        )
        try:
            process.stdin.write(json.dumps(request).encode())
            process.stdin.close()
        except BrokenPipeError:
            pass
        current: str | None = None
        imported = False
        deadline = time.monotonic() + timeout
        buffer = b""
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        timed_out = False
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                if not selector.select(timeout=min(left, 0.5)):
                    continue
                chunk = os.read(process.stdout.fileno(), 1 << 16)
                if not chunk:
                    break
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    try:
                        event = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    kind = event.get("event")
                    if kind == "imported":
                        imported = True
                    elif kind == "start":
                        current = event["object"]
                        deadline = time.monotonic() + timeout
                    elif kind == "done":
                        outcome.done[event["object"]] = (event.get("findings", []), event.get("error"), event.get("notes", []))
                        current = None
                    elif kind == "import_error":
                        outcome.import_error = event["message"]
                    elif kind == "captured":
                        outcome.captured += event.get("text", "")
        finally:
            selector.close()
            if timed_out or process.poll() is None:
                _kill(process)
            process.wait()
        if timed_out:
            if not imported and outcome.import_error is None:
                outcome.import_error = f"import did not finish within the time limit of {timeout:g} s (a hang at import time?)"
            elif current is not None:
                outcome.stuck = current
                outcome.stuck_reason = f"did not finish within the time limit of {timeout:g} s (a hang, or too slow for the check grid)"
            return outcome
        if current is not None:
            outcome.stuck = current
            outcome.stuck_reason = f"the child process died while checking it ({_exit_reason(process.returncode, memory_mb)})"
        elif not imported and outcome.import_error is None:
            stderr.seek(0)
            tail = stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            outcome.import_error = f"the child process died before the import finished ({_exit_reason(process.returncode, memory_mb)}) {tail[0]}".strip()
    return outcome


def _exit_reason(returncode: int | None, memory_mb: int | None) -> str:
    if returncode is None:
        return "unknown exit"
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.Signals._value2member_map_ else str(-returncode)
        hint = f"; the memory limit is {memory_mb} MB" if name in ("SIGKILL", "SIGSEGV", "SIGABRT") and memory_mb else ""
        return f"killed by {name}{hint}"
    return f"exit code {returncode}"


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            process.kill()
        except ProcessLookupError:
            pass
