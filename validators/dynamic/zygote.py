"""A warm worker for the dynamic auditor: one process per run that has imported numpy, the checking code
and (for the modules that import it) torch once, and forks the per-module supervisor from there.

Without it every audited module starts two fresh interpreters (the supervisor and the worker, see
`child`) and pays numpy's and torch's import again (4-13 s for torch on a loaded 2-core machine).

The forked supervisor applies what the fresh one does, in the same order: its own session, the
allow-listed environment and working folder of today's child, its output on the runner's pipe; in
namespace mode its own mount, PID and network namespaces (nested in the warm worker's, which
`unshare --user --map-root-user --net --mount --pid` started: the warm worker is root in its user
namespace, so no new user namespace is needed here) with /proc mounted afresh; then `child.supervise`:
RLIMIT_FSIZE/NPROC, the read-only views, the subreaper, the worker (forked again, in its own session
and nested locked user namespace), whose `main` sets RLIMIT_AS as before. Torch, already mapped, counts
against RLIMIT_AS as it did when the user module imported it; modules that do not import torch are
forked from a warm worker without it. `fork` copies only the calling thread, so `unshare` in the fork is
allowed even if an import started threads; the warm worker runs no torch op (no thread pool, no CUDA).

$TEMPORALKIT_WORKER=fork|fresh (default fork where it starts) picks the path; `-v` names it.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
from typing import Any

WORKER_ENV = "TEMPORALKIT_WORKER"
START_TIMEOUT_S = 180.0
CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
PR_SET_PDEATHSIG = 1
_TORCH_IMPORT = re.compile(rb"^\s*(?:import\s+(?:torch|torchvision|torchaudio)\b|from\s+(?:torch|torchvision)\b)", re.M)
CHECKING_CODE = (
    "sampler_checks",
    "transform_checks",
    "loader_checks",
    "image_checks",
    "layout_checks",
    "motion_checks",
    "clips",
    "frame_code",
    "probes",
    "adapters.single",
)


def wants_torch(path: str) -> bool:
    """Whether the module imports torch (an import statement at any level): it is then forked from a
    warm worker that has imported torch, else from one that has not (torch in sys.modules changes checks)."""
    try:
        with open(path, "rb") as handle:
            return bool(_TORCH_IMPORT.search(handle.read()))
    except OSError:
        return False


def _send(sock: socket.socket, payload: dict, fds: tuple[int, ...] = ()) -> None:
    data = json.dumps(payload).encode()
    header = struct.pack("!I", len(data))
    if fds:
        socket.send_fds(sock, [header + data], list(fds))
    else:
        sock.sendall(header + data)


def _recv_exact(sock: socket.socket, size: int, fds: list[int]) -> bytes:
    data = b""
    while len(data) < size:
        if not fds and not data:
            chunk, got, _, _ = socket.recv_fds(sock, size, 8)
            fds += got
        else:
            chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _recv(sock: socket.socket) -> tuple[dict, list[int]]:
    fds: list[int] = []
    header = _recv_exact(sock, 4, fds)
    (size,) = struct.unpack("!I", header)
    return json.loads(_recv_exact(sock, size, fds)), fds


# --- runner side -----------------------------------------------------------------------------------


class ForkedProcess:
    """The forked supervisor as the runner sees it (a Popen look-alike): not the runner's child, so its
    exit status is not known here; the supervisor reports the worker's on the answer channel."""

    def __init__(self, pid: int, stdout: Any) -> None:
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None
        self.stdin = None

    def _alive(self) -> bool:
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as stat:
                return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
        except (OSError, IndexError):
            return False

    def wait(self, timeout: float | None = None) -> None:
        import time

        end = None if timeout is None else time.monotonic() + timeout
        while self._alive():
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired("forked supervisor", timeout)
            time.sleep(0.01)

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass


class Zygote:
    def __init__(self, sandbox: str, torch: bool) -> None:
        from temporalkit.validators.dynamic import runner

        self.sandbox = sandbox
        self.torch = torch
        self.lock = threading.Lock()
        self.sock, theirs = socket.socketpair()
        self.home = __import__("tempfile").mkdtemp(prefix="temporalkit-zygote-")
        command = [sys.executable, "-m", "temporalkit.validators.dynamic.zygote", str(theirs.fileno())]
        if torch:
            command.append("--torch")
        if sandbox == "namespaces":
            command.append("--namespaces")
        if sandbox == "namespaces":
            import shutil

            command = [shutil.which("unshare") or "unshare", *runner.UNSHARE_FLAGS, "--", *command]
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.home,
                env=runner.child_environment(workdir=self.home),
                start_new_session=True,
                pass_fds=(theirs.fileno(),),
            )
        finally:
            theirs.close()
        self.sock.settimeout(START_TIMEOUT_S)
        ready, _ = _recv(self.sock)
        self.sock.settimeout(None)
        if not ready.get("ready"):
            raise OSError("the warm worker did not start")
        self.pid = self.process.pid if sandbox != "namespaces" else self._host_pid(int(ready["pid"]), self.process.pid)

    def _host_pid(self, inner: int, parent: int) -> int:
        """The host PID of the process that is `inner` in its PID namespace, below `parent`."""
        from temporalkit.validators.dynamic.child import descendants

        for pid in descendants(parent):
            try:
                with open(f"/proc/{pid}/status", "rb") as status:
                    for line in status:
                        if line.startswith(b"NSpid:"):
                            ids = [int(x) for x in line.split()[1:]]
                            if ids[-1] == inner and len(ids) >= 2:
                                return pid
            except (OSError, ValueError):
                continue
        raise OSError(f"forked process {inner} not found")

    def spawn(self, request: dict, cwd: str, env: dict[str, str], answer_fd: int) -> ForkedProcess:
        # The token goes on a pipe of its own, read only in the fork: the warm worker, whose memory every
        # later fork copies, never holds another module's token.
        token = str(request["token"])
        request = {k: v for k, v in request.items() if k != "token"}
        token_read, token_write = os.pipe()
        os.write(token_write, token.encode())
        os.close(token_write)
        out_read, out_write = os.pipe()
        try:
            with self.lock:
                _send(self.sock, {"request": request, "cwd": cwd, "env": env}, (out_write, answer_fd, token_read))
                reply, _ = _recv(self.sock)
        except BaseException:
            os.close(out_read)
            raise
        finally:
            os.close(out_write)
            os.close(token_read)
        pid = int(reply["pid"])
        if self.sandbox == "namespaces":
            pid = self._host_pid(pid, self.pid)
        return ForkedProcess(pid, os.fdopen(out_read, "rb", buffering=0))

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        __import__("shutil").rmtree(self.home, ignore_errors=True)


_zygotes: dict[tuple, Zygote | None] = {}
_zygotes_lock = threading.Lock()
_starting: dict[tuple, threading.Lock] = {}
last_failure = ""


def worker_mode() -> str:
    mode = (os.environ.get(WORKER_ENV, "") or "fork").strip()
    if mode not in ("fork", "fresh"):
        raise ValueError(f"{WORKER_ENV} must be fork or fresh, got {mode!r}")
    return mode


def get(sandbox: str, torch: bool) -> Zygote | None:
    """The warm worker of this run for `sandbox` (with torch or not), started on first use; None where it
    cannot start (then the runner starts fresh interpreters, as before)."""
    global last_failure
    if worker_mode() != "fork" or not sys.platform.startswith("linux"):
        return None
    key = (sandbox, torch, sys.executable, os.environ.get("PYTHONPATH", ""), tuple(sys.path))
    with _zygotes_lock:
        if key in _zygotes:
            return _zygotes[key]
        starting = _starting.setdefault(key, threading.Lock())
    # One lock per kind of warm worker: the one without torch starts while torch is being imported
    # into the other (a module waits only for the warm worker it needs).
    with starting:
        with _zygotes_lock:
            if key in _zygotes:
                return _zygotes[key]
        try:
            started: Zygote | None = Zygote(sandbox, torch)
        except (OSError, EOFError, ValueError, socket.timeout) as exc:
            last_failure = str(exc) or type(exc).__name__
            started = None
        with _zygotes_lock:
            _zygotes[key] = started
        return started


def prestart(sandbox: str, kinds: set[bool]) -> list[threading.Thread]:
    """Start the warm workers a run will need (with torch: True, without: False) in the background,
    so that importing torch overlaps the other work instead of the first module waiting for it."""
    if worker_mode() != "fork" or not sys.platform.startswith("linux"):
        return []
    threads = [threading.Thread(target=get, args=(sandbox, torch), daemon=True) for torch in sorted(kinds)]
    for thread in threads:
        thread.start()
    return threads


def discard(zygote: Zygote) -> None:
    with _zygotes_lock:
        for key, value in list(_zygotes.items()):
            if value is zygote:
                _zygotes[key] = None
    zygote.close()


@atexit.register
def close_all() -> None:
    with _zygotes_lock:
        for zygote in _zygotes.values():
            if zygote is not None:
                zygote.close()
        _zygotes.clear()
        _starting.clear()


# --- the warm worker ---------------------------------------------------------------------------------


def _forked_supervisor(sock: socket.socket, message: dict, fds: list[int], sandbox: str) -> None:
    """In the fork: what `python -m ...child --supervise` (inside `unshare`) gets, then `supervise`."""
    from temporalkit.validators.dynamic import child

    code = 121
    try:
        sock.close()
        for name in ("SIGCHLD", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh interpreter
        sys.argv[:] = [child.__file__]  # what `python -m ...child` gives the user module, not our arguments
        os.setsid()
        out_fd, answer_fd, token_fd = fds
        with os.fdopen(token_fd, "rb") as token_pipe:
            token = token_pipe.read().decode()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        for fd in (null, out_fd):
            os.close(fd)
        os.closerange(3, answer_fd)
        os.closerange(answer_fd + 1, 1 << 16)
        os.chdir(message["cwd"])
        os.environ.clear()
        os.environ.update(message["env"])
        request = message["request"]
        request["answer_fd"] = answer_fd
        request["token"] = token
        if sandbox == "namespaces":
            libc = child._libc()
            if libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET) != 0:
                os._exit(121)
            if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
                os._exit(121)
            init = os.fork()
            if init:  # like `unshare --fork --kill-child`: wait for the namespace's init, which dies with us
                status = os.waitpid(init, 0)[1]
                code = os.waitstatus_to_exitcode(status)
                os._exit(code if code >= 0 else 128 - code)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) != 0:
                os._exit(121)
        code = child.supervise(request)
    finally:
        os._exit(code)


def serve(fd: int, torch: bool, namespaces: bool) -> int:
    import importlib

    sock = socket.socket(fileno=fd)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy  # noqa: F401 - the point of this process
    import temporalkit.validators.dynamic.child  # noqa: F401
    import temporalkit.validators.findings  # noqa: F401

    for name in CHECKING_CODE:
        try:
            importlib.import_module(f"temporalkit.validators.dynamic.{name}")
        except ImportError:
            pass
    if torch:
        try:
            import torch as _torch  # noqa: F401 - imported once here, not by each module's child
        except ImportError:
            pass
    sandbox = "namespaces" if namespaces else "process"
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked supervisors are reaped by the kernel
    _send(sock, {"ready": True, "pid": os.getpid()})
    while True:
        try:
            message, fds = _recv(sock)
        except (EOFError, OSError, ValueError):
            return 0
        pid = os.fork()
        if pid == 0:
            _forked_supervisor(sock, message, fds, sandbox)
        for fd in fds:
            os.close(fd)
        _send(sock, {"pid": pid})


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1]), "--torch" in sys.argv[2:], "--namespaces" in sys.argv[2:]))
