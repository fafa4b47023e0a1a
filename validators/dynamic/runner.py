"""Run the dynamic checks of one module in a child process, with a time and a memory limit.

One child per module (see `child`: a supervisor that runs no user code, and a worker that imports the
module). The time limit applies to each object (and to the import): the child announces each object it
starts, and when one runs past the limit the child's whole process tree is killed, that object is
reported as an error, and a fresh child carries on with the objects left. An import failure is reported
once for the file; a child that dies (a crash in C code, the memory limit) costs only the object it was
on. The child runs in an empty temporary directory (also its TMPDIR) with PYTHONDONTWRITEBYTECODE=1.

What the child can reach (`isolation_mode`, $TEMPORALKIT_ISOLATION=auto|namespaces|process):

- "namespaces" (Linux, where `unshare --user --map-root-user` works without root): its own user,
  network, mount and PID namespaces: no network (only a loopback that is down), the audited tree (the
  nearest folder with .git above the module, else its folder) and $HOME read-only, the probe cache and
  its working folder writable, and every process it starts dies with it.
- "process" (the fallback, with a one-line warning): a plain process in its own session; it can use the
  network and write wherever the user can.

Both: an allow-listed environment (`child_environment`: no AWS_*, *_TOKEN, *_KEY, ...), RLIMIT_FSIZE
(FILE_SIZE_LIMIT_MB), RLIMIT_NPROC (not for root, which the kernel exempts), output read through a pipe
of which only the end is kept, every descendant killed at the end (subreaper or PID namespace),
answers on a per-run pipe with a per-run token, checking code restored before each object.

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

import hmac
import json
import os
import re
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

# check_timeout: the one check of a time limit (ConfigError, a ValueError), also what `--timeout` goes through.
from temporalkit.validators.config import Candidate, check_timeout
from temporalkit.validators.dynamic import zygote
from temporalkit.validators.dynamic.child import WORKER_NAME, descendants, kill_tree, nvidia_gpu_visible
from temporalkit.validators.findings import FileError, Finding

_FINDING_FIELDS = {f for f in Finding.__dataclass_fields__}

DEFAULT_MEMORY_MB = 4096
MEMORY_LIMIT_ENV = "TEMPORALKIT_MEMORY_LIMIT"
MEMORY_LIMIT_MODES = ("auto", "address-space", "resident")
RESIDENT_POLL_S = 0.05  # how often the resident-memory watchdog reads the child's RSS
GROUP_RESCAN_S = 0.25  # how often it looks for new processes in the child's process tree


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
    isolation: str = ""  # how the child was isolated (see `_describe_isolation`)
    forged: int = 0  # lines on the answer channel without this run's token: ignored

    @property
    def findings(self) -> list[Finding]:
        return [f for o in self.objects for f in o.findings]

    @property
    def errors(self) -> list[FileError]:
        errors = [FileError(self.path, self.import_error)] if self.import_error else []
        if self.forged:
            errors.append(
                FileError(
                    self.path,
                    f"ignored {self.forged} line(s) on the auditor's answer channel that did not "
                    "carry this run's token (results forged by the checked code?)",
                )
            )
        errors += [
            FileError(self.path, f"{o.candidate.name} (line {o.candidate.line}): {o.error}")
            for o in self.objects
            if o.error
        ]
        return errors


def _to_finding(data: dict, candidate: Candidate, isolation: str = "") -> Finding:
    data = {k: v for k, v in data.items() if k in _FINDING_FIELDS}
    finding = Finding(**data)
    end_line = finding.end_line if finding.end_line not in (None, 0, finding.line) else candidate.line
    extra = dict(finding.extra)
    extra.setdefault("object", candidate.name)
    extra.setdefault("role", candidate.role)
    if isolation:
        extra["isolation"] = isolation.split(" ", 1)[0]
    return replace(
        finding,
        path=candidate.path,
        line=candidate.line,
        column=candidate.column,
        end_line=end_line,
        end_column=candidate.column,
        source="dynamic",
        extra=extra,
    )


# The child's environment is built from this allow-list (plus TEMPORALKIT_* and the names listed in
# $TEMPORALKIT_DYNAMIC_ENV), and never carries a name that looks like a secret unless listed there.
ENV_ALLOWED = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TERM",
    "SHELL",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "PYTHONHOME",
    "LD_LIBRARY_PATH",
    "CUDA_VISIBLE_DEVICES",
    "CUDA_DEVICE_ORDER",
    "CUDA_HOME",
    "CUDA_PATH",
    "NVIDIA_VISIBLE_DEVICES",
    "NVIDIA_DRIVER_CAPABILITIES",
    "TORCH_HOME",
    "XDG_CACHE_HOME",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
ENV_PASS = "TEMPORALKIT_DYNAMIC_ENV"  # comma-separated extra names the audited code needs (e.g. DATA_ROOT)
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW|CREDENTIAL|(^|_)KEY($|_)|APIKEY|(^|_)AUTH|COOKIE|SESSION|PRIVATE|^AWS_|^AZURE_|^GOOGLE_APPLICATION",
    re.I,
)


def child_environment(environ: dict[str, str] | None = None, workdir: str | None = None) -> dict[str, str]:
    """The environment of the dynamic child: allow-listed names only (see ENV_ALLOWED), no secrets."""
    environ = dict(os.environ if environ is None else environ)
    passed = {n.strip() for n in environ.get(ENV_PASS, "").split(",") if n.strip()}
    env = {}
    for name, value in environ.items():
        allowed = name in ENV_ALLOWED or name.startswith("LC_") or name.startswith("TEMPORALKIT_")
        if name in passed or (allowed and not _SECRET_NAME.search(name)):
            env[name] = value
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONHASHSEED"] = "0"
    # The child must find temporalkit however the parent found it (installed, or a source tree on sys.path).
    env["PYTHONPATH"] = os.pathsep.join(p for p in [*sys.path, environ.get("PYTHONPATH", "")] if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    if workdir:
        env["TMPDIR"] = workdir
    return env


# --- isolation: Linux namespaces where they can be made without root, else a plain process ---------

ISOLATION_ENV = "TEMPORALKIT_ISOLATION"
ISOLATION_MODES = ("auto", "namespaces", "process")
UNSHARE_FLAGS = ("--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc")
FILE_SIZE_LIMIT_MB = 1024  # RLIMIT_FSIZE of the child: the largest file it may write
PROCESS_MARGIN = 512  # RLIMIT_NPROC: the processes/threads the user already runs, plus this many
_namespace_probe: tuple[bool, str] | None = None
_warned = False


def _namespaces_work() -> tuple[bool, str]:
    """Whether `unshare` can give the child its own user, network, mount and PID namespaces here
    (tried once per process), and why not."""
    global _namespace_probe
    if _namespace_probe is None:
        unshare = shutil.which("unshare")
        if not sys.platform.startswith("linux") or unshare is None:
            _namespace_probe = (False, "no unshare command (util-linux) on this system")
        else:
            try:
                done = subprocess.run([unshare, *UNSHARE_FLAGS, "--", "true"], capture_output=True, timeout=20)
                why = (done.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit code {done.returncode}"])[
                    -1
                ]
                _namespace_probe = (done.returncode == 0, "" if done.returncode == 0 else f"unshare failed: {why}")
            except (OSError, subprocess.SubprocessError) as exc:
                _namespace_probe = (False, f"unshare failed: {exc}")
    return _namespace_probe


def isolation_mode(requested: str | None = None) -> tuple[str, str]:
    """("namespaces" | "process", why not namespaces). `requested` (else $TEMPORALKIT_ISOLATION, else
    "auto"): "auto" uses namespaces where they work; "namespaces" is an error where they do not."""
    mode = (requested or os.environ.get(ISOLATION_ENV, "") or "auto").strip()
    if mode not in ISOLATION_MODES:
        raise ValueError(f"{ISOLATION_ENV} must be one of {', '.join(ISOLATION_MODES)}, got {mode!r}")
    if mode == "process":
        return "process", f"{ISOLATION_ENV}=process"
    works, why = _namespaces_work()
    if works:
        return "namespaces", ""
    if mode == "namespaces":
        raise ValueError(f"{ISOLATION_ENV}=namespaces, but namespaces are not available here ({why})")
    return "process", why


def project_root(path: str) -> str:
    """The audited tree of `path`: the nearest folder above it with .git, else its own folder."""
    folder = os.path.dirname(os.path.abspath(path))
    probe = folder
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return folder
        probe = parent


def _cache_home() -> str:
    return os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "temporalkit"
    )


def _max_processes() -> int | None:
    """RLIMIT_NPROC for the child: what this user runs now plus PROCESS_MARGIN; None for root (the
    kernel does not enforce it for root)."""
    uid = os.getuid()
    if uid == 0 or not os.path.isdir("/proc"):
        return None  # root is exempt; without /proc the count is unknown (no cap rather than a wrong one)
    tasks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as status:
                text = status.read()
        except OSError:
            continue
        fields = dict(line.split(b":", 1) for line in text.splitlines() if b":" in line)
        try:
            if int(fields[b"Uid"].split()[0]) == uid:
                tasks += int(fields.get(b"Threads", b"1").strip() or 1)
        except (KeyError, ValueError, IndexError):
            continue
    return tasks + PROCESS_MARGIN


def _describe_isolation(mode: str, why: str, read_only: Sequence[str], problems: Sequence[str]) -> str:
    if mode == "namespaces":
        text = (
            f"namespaces (no network; read-only: {', '.join(read_only) or 'nothing'}; own PID namespace; "
            f"files up to {FILE_SIZE_LIMIT_MB} MB)"
        )
    else:
        text = (
            f"process (network open; your tree and $HOME writable; files up to {FILE_SIZE_LIMIT_MB} MB): "
            f"namespaces not used ({why})"
        )
    if problems:
        text += "; not applied: " + "; ".join(problems)
    return text


def _warn_fallback(why: str) -> None:
    global _warned
    if not _warned and why != f"{ISOLATION_ENV}=process":
        _warned = True
        print(
            f"temporalkit: warning: --dynamic runs without namespaces ({why}): the checked code can use the "
            "network and write to your files",
            file=sys.stderr,
        )


def run_module(
    path: str,
    candidates: Sequence[Candidate],
    *,
    timeout: float = 60.0,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    probe_dir: str | None = None,
    memory_limit: str | None = None,
    isolation: str | None = None,
    on_event: Callable[[str, str], None] | None = None,
) -> ModuleResult:
    """Import `path` in a child process and check each candidate; never raises for user code.

    `memory_mb`: the child's memory limit in MB; 0 means none, None the default (DEFAULT_MEMORY_MB).
    `memory_limit`: how it is enforced ("auto", "address-space", "resident"; see `memory_limit_mode`).
    `isolation`: "auto", "namespaces" or "process" (see `isolation_mode`).
    """
    timeout = check_timeout(timeout, "timeout")
    if memory_mb is None:
        memory_mb = DEFAULT_MEMORY_MB
    mode = memory_limit_mode(memory_limit) if memory_mb else None
    sandbox, why = isolation_mode(isolation)
    if sandbox == "process":
        _warn_fallback(why)
    result = ModuleResult(path=path)
    remaining = list(candidates)
    by_name = {c.name: c for c in candidates}
    while remaining:
        outcome = _run_child(
            path,
            remaining,
            timeout=timeout,
            memory_mb=memory_mb,
            mode=mode,
            probe_dir=probe_dir,
            sandbox=sandbox,
            why=why,
            on_event=on_event,
        )
        result.captured += outcome.captured
        result.isolation = outcome.isolation
        result.forged += outcome.forged
        if outcome.import_error:
            result.import_error = outcome.import_error
            return result
        for name, (findings, error, notes) in outcome.done.items():
            candidate = by_name[name]
            result.objects.append(
                ObjectResult(candidate, [_to_finding(f, candidate, outcome.isolation) for f in findings], error, notes)
            )
        finished = set(outcome.done)
        if outcome.stuck is not None:
            result.objects.append(ObjectResult(by_name[outcome.stuck], error=outcome.stuck_reason))
            finished.add(outcome.stuck)
        if not finished:
            for candidate in remaining:
                result.objects.append(
                    ObjectResult(candidate, error=outcome.stuck_reason or "the child process ended without checking it")
                )
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
    isolation: str = ""
    forged: int = 0
    worker: str = ""  # how the child was started: forked from the warm worker, or a fresh interpreter


class _ResidentWatch:
    """Resident memory of every process in the child's tree, against a limit in MB.

    The child is read every poll; its descendants are found again from /proc every GROUP_RESCAN_S (the
    supervisor is a subreaper or a PID namespace's init, so processes that leave their session or
    process group stay in the tree). Each is held to the limit, like RLIMIT_AS, which every process
    gets for itself.
    """

    def __init__(self, root: int, memory_mb: int) -> None:
        self.root = root
        self.limit_bytes = memory_mb * 1024 * 1024
        self.page_size = os.sysconf("SC_PAGE_SIZE")
        self.members = [root]
        self.next_poll = 0.0
        self.next_rescan = 0.0

    def over_limit(self) -> tuple[int, int] | None:
        """(pid, resident bytes) of a process over the limit, polled at most every RESIDENT_POLL_S."""
        now = time.monotonic()
        if now < self.next_poll:
            return None
        self.next_poll = now + RESIDENT_POLL_S
        if now >= self.next_rescan:
            self.members = [self.root, *descendants(self.root)]
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


def _is_worker(pid: int) -> bool:
    """Whether `pid` is the child that imports the user module (not the supervisor or a process it started)."""
    try:
        with open(f"/proc/{pid}/comm", "rb") as comm:
            if comm.read().strip() == WORKER_NAME:
                return True  # forked from the warm worker
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().split(b"\0")[1:] == [b"-m", b"temporalkit.validators.dynamic.child", b""]
    except (OSError, IndexError):
        return False


def _resident_reason(memory_mb: int, pid: int, resident: int) -> str:
    who = "" if _is_worker(pid) else f" (process {pid}, started by the checked code)"
    why = "because an NVIDIA GPU is present" if nvidia_gpu_visible() else f"{MEMORY_LIMIT_ENV}=resident"
    return (
        f"ran out of memory: resident memory reached {resident / 2**20:.0f} MB{who}, over the limit of {memory_mb} MB, "
        f"and the child process was killed (the limit is enforced on resident memory, not address space: {why})"
    )


CAPTURED_TAIL_BYTES = 16000  # what is kept of the user code's output (its end); the rest is read and dropped
CAPTURED_TAIL_CHARS = 4000
ANSWER_LINE_MAX = 64 * 1024 * 1024  # a longer line on the answer channel is dropped (as not the child's)


class _Tail:
    """The last CAPTURED_TAIL_BYTES of a stream, and how many bytes went by."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.data += chunk[-CAPTURED_TAIL_BYTES:]
        if len(self.data) > CAPTURED_TAIL_BYTES:
            del self.data[:-CAPTURED_TAIL_BYTES]

    def text(self) -> str:
        text = bytes(self.data).decode("utf-8", "replace")[-CAPTURED_TAIL_CHARS:]
        dropped = self.total - len(text.encode("utf-8", "replace"))
        if dropped > 0 and text:
            return f"[output truncated: {self.total} bytes printed, only the last {len(text)} characters kept]\n{text}"
        return text


def _run_child(
    path: str,
    candidates: Sequence[Candidate],
    *,
    timeout: float,
    memory_mb: int | None,
    mode: str | None,
    probe_dir: str | None,
    sandbox: str = "process",
    why: str = "",
    on_event: Callable[[str, str], None] | None = None,
) -> _ChildOutcome:
    token = secrets.token_hex(32)
    cache_home = _cache_home()
    home = os.path.expanduser("~")
    read_only = sorted({p for p in (project_root(path), home) if p and os.path.isdir(p) and os.path.abspath(p) != "/"})
    outcome = _ChildOutcome()
    with tempfile.TemporaryDirectory(prefix="temporalkit-dynamic-") as workdir:
        try:
            os.makedirs(cache_home, exist_ok=True)
        except OSError:
            pass
        writable = [os.path.realpath(p) for p in (workdir, cache_home, probe_dir) if p and os.path.isdir(p)]
        answer_read, answer_write = os.pipe()
        request = {
            "token": token,
            "answer_fd": answer_write,
            "isolation": sandbox,
            "read_only": [os.path.realpath(p) for p in read_only],
            "writable": writable,
            "file_size_mb": FILE_SIZE_LIMIT_MB,
            "max_processes": _max_processes(),
            "path": os.path.abspath(path),
            "memory_mb": memory_mb,
            "memory_limit": mode,
            "probe_dir": probe_dir,
            "objects": [
                {
                    "name": c.name,
                    "role": c.role,
                    "args": dict(c.args),
                    "test_time": c.test_time,
                    "family": c.family,
                    "convention": dict(getattr(c, "convention", None) or {}),
                }
                for c in candidates
            ],
        }
        command = [sys.executable, "-m", "temporalkit.validators.dynamic.child", "--supervise"]
        if sandbox == "namespaces":
            command = [shutil.which("unshare") or "unshare", *UNSHARE_FLAGS, "--", *command]
        process: Any = None
        warm = zygote.get(sandbox, zygote.wants_torch(path))
        if warm is not None:  # fork the supervisor from the warm worker (numpy/torch imported once a run)
            try:
                process = warm.spawn(request, workdir, child_environment(workdir=workdir), answer_write)
                outcome.worker = "forked from the warm worker" + (" (torch preloaded)" if warm.torch else "")
            except (OSError, EOFError, ValueError) as exc:
                zygote.discard(warm)
                outcome.worker = f"fresh interpreter (the warm worker failed: {exc})"
        else:
            outcome.worker = "fresh interpreter" + (
                f" (warm worker: {zygote.last_failure})" if zygote.last_failure else ""
            )
        try:
            if process is None:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    cwd=workdir,
                    env=child_environment(workdir=workdir),
                    start_new_session=True,
                    pass_fds=(answer_write,),
                )
        finally:
            os.close(answer_write)
        problems: list[str] = []
        watch = _ResidentWatch(process.pid, memory_mb) if mode == "resident" and memory_mb else None
        wait_at_most = RESIDENT_POLL_S if watch else 0.5
        try:
            if process.stdin is not None:
                process.stdin.write(json.dumps(request).encode())
                process.stdin.close()
        except BrokenPipeError:
            pass
        current: str | None = None
        imported = False
        deadline = time.monotonic() + timeout
        buffer = b""
        tail = _Tail()
        status: int | None = None
        selector = selectors.DefaultSelector()
        selector.register(answer_read, selectors.EVENT_READ, "answer")
        selector.register(process.stdout, selectors.EVENT_READ, "output")
        timed_out = False
        over_memory: str | None = None
        try:
            while status is None:
                if watch is not None:
                    over = watch.over_limit()
                    if over is not None:
                        over_memory = _resident_reason(memory_mb, over[0], over[1])
                        break
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                ended = False
                for key, _ in selector.select(timeout=min(left, wait_at_most)):
                    chunk = os.read(key.fd, 1 << 16)
                    if key.data == "output":
                        if chunk:
                            tail.add(chunk)
                        else:
                            selector.unregister(key.fileobj)
                        continue
                    if not chunk:
                        ended = True
                        break
                    buffer += chunk
                    if b"\n" not in buffer and len(buffer) > ANSWER_LINE_MAX:
                        buffer = b""
                        outcome.forged += 1
                    while b"\n" in buffer:
                        line, buffer = buffer.split(b"\n", 1)
                        if not line.strip():
                            continue
                        try:
                            event = json.loads(line)
                            trusted = isinstance(event, dict) and hmac.compare_digest(
                                str(event.get("token", "")), token
                            )
                        except (ValueError, RecursionError):
                            trusted = False
                        if not trusted:
                            outcome.forged += 1
                            continue
                        kind = event.get("event")
                        if kind == "imported":
                            imported = True
                        elif kind == "start":
                            current = event["object"]
                            deadline = time.monotonic() + timeout
                            if on_event is not None:
                                on_event("start", str(current))
                        elif kind == "done":
                            outcome.done[event["object"]] = (
                                event.get("findings", []),
                                event.get("error"),
                                event.get("notes", []),
                            )
                            if on_event is not None:
                                on_event("done", str(event["object"]))
                            current = None
                        elif kind == "import_error":
                            outcome.import_error = event["message"]
                        elif kind == "sandbox":
                            problems += event.get("problems", [])
                        elif kind == "exit":
                            status = int(event.get("status", 0))
                if ended:
                    break
        finally:
            # Every process the child started goes too, those that left its session included.
            kill_tree(process.pid)
            _killpg(process)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            _drain(selector, tail)
            selector.close()
            os.close(answer_read)
            process.stdout.close()
        # util-linux's unshare can say this on its way out (it shares the child's stderr): not the user's output.
        outcome.captured = tail.text().replace("unshare: sigprocmask unblock failed: Invalid argument\n", "")
        outcome.isolation = _describe_isolation(sandbox, why, request["read_only"], problems) + f"; {outcome.worker}"
        if (
            status is None
            and process.returncode is not None
            and process.returncode != 0
            and not (timed_out or over_memory)
        ):
            status = process.returncode
        if over_memory:
            if not imported and outcome.import_error is None:
                outcome.import_error = f"import {over_memory}"
            elif current is not None:
                outcome.stuck, outcome.stuck_reason = current, over_memory
            return outcome
        if timed_out:
            if not imported and outcome.import_error is None:
                outcome.import_error = (
                    f"import did not finish within the time limit of {timeout:g} s (a hang at import time?)"
                )
            elif current is not None:
                outcome.stuck = current
                outcome.stuck_reason = (
                    f"did not finish within the time limit of {timeout:g} s (a hang, or too slow for the check grid)"
                )
            return outcome
        if current is not None:
            outcome.stuck = current
            outcome.stuck_reason = (
                f"the child process ended while checking it ({_exit_reason(status, memory_mb, mode)})"
            )
        elif not imported and outcome.import_error is None:
            last = outcome.captured.strip().splitlines()[-1:] or [""]
            outcome.import_error = f"the child process ended before the import finished ({_exit_reason(status, memory_mb, mode)}) {last[0]}".strip()
    return outcome


def _drain(selector: selectors.BaseSelector, tail: _Tail) -> None:
    """Read what output is left without waiting (a killed tree leaves at most a pipe's worth)."""
    for _ in range(64):
        ready = [key for key, _ in selector.select(timeout=0) if key.data == "output"]
        if not ready:
            return
        try:
            chunk = os.read(ready[0].fd, 1 << 16)
        except OSError:
            return
        if not chunk:
            return
        tail.add(chunk)


def _exit_reason(returncode: int | None, memory_mb: int | None, mode: str | None = None) -> str:
    if returncode is None:
        return "unknown exit"
    if returncode < 0:
        number = -returncode
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        if name == "SIGKILL":
            # The auditor's own limits are reported as such where it applies them; a SIGKILL it did not
            # send came from the checked code, another process, or the kernel (its out-of-memory killer).
            return "killed by SIGKILL, not sent by the auditor: by the checked code, another process, or the system's out-of-memory killer"
        if name in ("SIGSEGV", "SIGABRT", "SIGBUS") and memory_mb and mode == "address-space":
            return f"killed by {name}: a crash in C code (it can also be an allocation refused under the address-space limit of {memory_mb} MB)"
        if name in ("SIGSEGV", "SIGABRT", "SIGBUS"):
            return f"killed by {name}: a crash in C code"
        return f"killed by {name}"
    if returncode == 121:
        return "exit code 121: the sandbox could not be set up"
    return f"exit code {returncode} (the checked code ended the process, e.g. os._exit)"


def _killpg(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            process.kill()
        except ProcessLookupError:
            pass
