"""Run the dynamic checks of one module in a child process, with a time and a memory limit.

One child per module (`python -m temporalkit.validators.dynamic.child`, JSON over stdin and
stdout). The time limit applies to each object (and to the import): the child announces each
object it starts, and when one runs past the limit the child is killed, that object is reported
as an error, and a fresh child carries on with the objects left. An import failure is reported
once for the file; a child that dies (a crash in C code, the memory limit) costs only the object
it was on. The child runs in an empty temporary directory with PYTHONDONTWRITEBYTECODE=1, so the
audited tree is never written to.

The memory limit is enforced one of two ways, chosen per run (`memory_limit_mode`):

- "address-space": RLIMIT_AS in the child. Strict (an allocation past the limit fails before it
  happens, as a MemoryError), but the CUDA driver reserves far more address space than memory:
  measured on an H200 (torch 2.11, CUDA 13), torch could not initialise CUDA under 4096 MB and
  could not allocate under 16384 MB. Used where no NVIDIA GPU is visible.
- "resident": no RLIMIT_AS; this process reads the resident memory (RSS) of every process of the
  child's process group every 50 ms and kills the group when one of them passes the limit. Memory
  reserved but never touched is not counted, and a fast allocation can overshoot by what it touches
  in one poll. Used where an NVIDIA GPU may be usable by the child (`nvidia_gpu_visible`).

`TEMPORALKIT_MEMORY_LIMIT=auto|address-space|resident` (or `memory_limit=`) overrides the choice.
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

from temporalkit.validators.dynamic.child import nvidia_gpu_visible
from temporalkit.validators.dynamic.discover import Candidate
from temporalkit.validators.findings import FileError, Finding

_FINDING_FIELDS = {f for f in Finding.__dataclass_fields__}

DEFAULT_MEMORY_MB = 4096
MEMORY_LIMIT_ENV = "TEMPORALKIT_MEMORY_LIMIT"
MEMORY_LIMIT_MODES = ("auto", "address-space", "resident")
RESIDENT_POLL_S = 0.05  # how often the resident-memory watchdog reads the child's RSS
GROUP_RESCAN_S = 1.0  # how often it looks for new processes in the child's process group


def memory_limit_mode(requested: str | None = None) -> str:
    """How the memory limit is enforced on this machine: "address-space" or "resident".

    `requested` (else $TEMPORALKIT_MEMORY_LIMIT, else "auto"): "auto" picks "resident" where an NVIDIA
    GPU may be usable by the child (RLIMIT_AS breaks CUDA) and "address-space" elsewhere. Without
    /proc to read the RSS from, "resident" cannot be enforced and "address-space" is used.
    """
    mode = (requested or os.environ.get(MEMORY_LIMIT_ENV, "") or "auto").strip()
    if mode not in MEMORY_LIMIT_MODES:
        raise ValueError(f"{MEMORY_LIMIT_ENV} must be one of {', '.join(MEMORY_LIMIT_MODES)}, got {mode!r}")
    if mode == "auto":
        mode = "resident" if nvidia_gpu_visible() else "address-space"
    if mode == "resident" and not os.path.exists("/proc/self/statm"):
        mode = "address-space"
    return mode


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
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    probe_dir: str | None = None,
    memory_limit: str | None = None,
) -> ModuleResult:
    """Import `path` in a child process and check each candidate; never raises for user code.

    `memory_mb`: the child's memory limit in MB; 0 means none, None the default (DEFAULT_MEMORY_MB).
    `memory_limit`: how it is enforced ("auto", "address-space", "resident"; see `memory_limit_mode`).
    """
    if memory_mb is None:
        memory_mb = DEFAULT_MEMORY_MB
    mode = memory_limit_mode(memory_limit) if memory_mb else None
    result = ModuleResult(path=path)
    remaining = list(candidates)
    by_name = {c.name: c for c in candidates}
    while remaining:
        outcome = _run_child(path, remaining, timeout=timeout, memory_mb=memory_mb, mode=mode, probe_dir=probe_dir)
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


class _ResidentWatch:
    """Resident memory of the processes in the child's process group, against a limit in MB.

    The child (a session leader, so its pid is the group id) is read every poll; the group is
    rescanned from /proc every GROUP_RESCAN_S, so processes the user code starts are watched too
    (each against the limit, like RLIMIT_AS, which every process gets for itself).
    """

    def __init__(self, pgid: int, memory_mb: int) -> None:
        self.pgid = pgid
        self.limit_bytes = memory_mb * 1024 * 1024
        self.page_size = os.sysconf("SC_PAGE_SIZE")
        self.members = [pgid]
        self.next_poll = 0.0
        self.next_rescan = time.monotonic() + GROUP_RESCAN_S

    def over_limit(self) -> tuple[int, int] | None:
        """(pid, resident bytes) of a process over the limit, polled at most every RESIDENT_POLL_S."""
        now = time.monotonic()
        if now < self.next_poll:
            return None
        self.next_poll = now + RESIDENT_POLL_S
        if now >= self.next_rescan:
            self.members = [self.pgid] + [pid for pid in _group_members(self.pgid) if pid != self.pgid]
            self.next_rescan = now + GROUP_RESCAN_S
        for pid in self.members:
            resident = _resident_bytes(pid, self.page_size)
            if resident > self.limit_bytes:
                return pid, resident
        return None


def _resident_bytes(pid: int, page_size: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * page_size
    except (OSError, IndexError, ValueError):
        return 0  # gone (or a zombie): nothing resident


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def _resident_reason(memory_mb: int, pid: int, child_pid: int, resident: int) -> str:
    who = "" if pid == child_pid else f" (process {pid}, started by the checked code)"
    why = "because an NVIDIA GPU is present" if nvidia_gpu_visible() else f"{MEMORY_LIMIT_ENV}=resident"
    return (f"ran out of memory: resident memory reached {resident / 2**20:.0f} MB{who}, over the limit of {memory_mb} MB, "
            f"and the child process was killed (the limit is enforced on resident memory, not address space: {why})")


def _run_child(path: str, candidates: Sequence[Candidate], *, timeout: float, memory_mb: int | None, mode: str | None,
               probe_dir: str | None) -> _ChildOutcome:
    request = {
        "path": os.path.abspath(path),
        "memory_mb": memory_mb,
        "memory_limit": mode,
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
        watch = _ResidentWatch(process.pid, memory_mb) if mode == "resident" and memory_mb else None
        wait_at_most = RESIDENT_POLL_S if watch else 0.5
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
        over_memory: str | None = None
        try:
            while True:
                if watch is not None:
                    over = watch.over_limit()
                    if over is not None:
                        over_memory = _resident_reason(memory_mb, over[0], process.pid, over[1])
                        break
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                if not selector.select(timeout=min(left, wait_at_most)):
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
            if timed_out or over_memory or process.poll() is None:
                _kill(process)
            process.wait()
        if over_memory:
            if not imported and outcome.import_error is None:
                outcome.import_error = f"import {over_memory}"
            elif current is not None:
                outcome.stuck, outcome.stuck_reason = current, over_memory
            return outcome
        if timed_out:
            if not imported and outcome.import_error is None:
                outcome.import_error = f"import did not finish within the time limit of {timeout:g} s (a hang at import time?)"
            elif current is not None:
                outcome.stuck = current
                outcome.stuck_reason = f"did not finish within the time limit of {timeout:g} s (a hang, or too slow for the check grid)"
            return outcome
        if current is not None:
            outcome.stuck = current
            outcome.stuck_reason = f"the child process died while checking it ({_exit_reason(process.returncode, memory_mb, mode)})"
        elif not imported and outcome.import_error is None:
            stderr.seek(0)
            tail = stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            outcome.import_error = f"the child process died before the import finished ({_exit_reason(process.returncode, memory_mb, mode)}) {tail[0]}".strip()
    return outcome


def _exit_reason(returncode: int | None, memory_mb: int | None, mode: str | None = None) -> str:
    if returncode is None:
        return "unknown exit"
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.Signals._value2member_map_ else str(-returncode)
        enforced = " on resident memory" if mode == "resident" else ""
        hint = f"; the memory limit is {memory_mb} MB{enforced}" if name in ("SIGKILL", "SIGSEGV", "SIGABRT") and memory_mb else ""
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
