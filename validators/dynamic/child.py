"""The processes that import one audited module and run the dynamic checks on its objects.

Started by `temporalkit.validators.dynamic.runner` as ``python -m temporalkit.validators.dynamic.child
--supervise`` (inside ``unshare`` where namespaces are available), with a JSON request on stdin.

- The supervisor (``--supervise``) runs no user code. It applies RLIMIT_FSIZE and RLIMIT_NPROC, in
  namespace mode binds the audited tree and $HOME read-only (the cache and the working folder stay
  writable), becomes a child subreaper (so processes that call setsid stay in its tree), starts the
  worker in a session of its own (in namespace mode also in a nested user + mount namespace, so the
  read-only mounts are locked), ignores the signals the worker's code may send its parent, reports
  how the worker ended, and kills whatever it left behind.
- The worker (no argument) reads the request, imports the checking code, snapshots it (`_Pristine`),
  imports the user module and checks each object, restoring the checking code before each object
  and distrusting an object that changed it while being checked. When the runner enforces the memory
  limit as "address-space" it sets RLIMIT_AS (under "resident" the runner watches the RSS instead:
  RLIMIT_AS keeps CUDA from initialising). Torch is imported here only if the user module imported it.

Answers are JSON lines on a pipe the runner opened for this run (its fd number and a per-run token
come in the request, read before any user code runs); every line carries the token, and the runner
ignores lines without it:

    {"event": "imported"}
    {"event": "start", "object": "sample"}
    {"event": "done", "object": "sample", "findings": [...], "notes": [...], "error": null}
    {"event": "import_error", "message": "..."}
    {"event": "finished"}
    {"event": "sandbox", "problems": [...]}     # from the supervisor: what could not be applied
    {"event": "exit", "status": 0}              # from the supervisor: how the worker ended

What the user code prints (fds 1 and 2, from Python or from C) goes to a pipe the runner reads,
keeping only the end of it.

The token and the pipe stop output and casual forgery; code that deliberately searches this process's
memory for the token can still forge answers (it runs in the same process as the checks).
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
import sys
import traceback
from typing import Any

NVIDIA_DEVICE_FILES = ("/dev/nvidiactl", "/proc/driver/nvidia/version")


def nvidia_gpu_visible(device_files: tuple[str, ...] = NVIDIA_DEVICE_FILES, environ: Any = None) -> bool:
    """True when an NVIDIA GPU may be usable by a process started now: its driver is loaded and
    CUDA_VISIBLE_DEVICES does not hide every device ("" or a first entry of -1). Reads no GPU state,
    so neither this process nor the runner (which imports it from here) needs torch."""
    environ = os.environ if environ is None else environ
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        first = visible.split(",")[0].strip()
        if not first or first.startswith("-"):
            return False
    return any(os.path.exists(path) for path in device_files)


def _limit_memory(memory_mb: int | None, mode: str | None = "address-space") -> None:
    if not memory_mb or mode != "address-space":
        return
    import resource

    limit = int(memory_mb) * 1024 * 1024
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass  # a platform without RLIMIT_AS: the time limit still applies


def _import_module(path: str) -> Any:
    directory = os.path.dirname(os.path.abspath(path))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    stem = os.path.splitext(os.path.basename(path))[0]
    name = f"_temporalkit_audited_{stem}_{hashlib.sha1(path.encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _resolve(module: Any, dotted: str, convention: dict | None = None, role: str = "sampler") -> Any:
    owner_name, _, attribute = dotted.partition(".")
    try:
        owner = getattr(module, owner_name)
    except AttributeError:
        raise LookupError(f"{dotted!r} not found in the module") from None
    if not attribute:
        return owner
    raw = inspect.getattr_static(owner, attribute, None)
    if raw is None:
        raise LookupError(f"{dotted!r} not found in the module")
    if isinstance(raw, (staticmethod, classmethod)):
        return getattr(owner, attribute)
    if (convention or {}).get("init") is not None:
        # --init / init = {...}: a real instance, built the way the user's code builds it; for a sampler
        # one per clip length and seed (``clip_len=T`` in --init), so no state carries over between them.
        from temporalkit.validators.dynamic.adapters.instance import MethodOf
        from temporalkit.validators.dynamic.adapters.single import build_instance

        if role in ("sampler", "subsample", "multiclip"):
            return MethodOf(owner, attribute)

        return getattr(build_instance(owner, owner_name, {}, convention), attribute)
    # No --init: a bare instance whose __init__ never ran. Reading an attribute __init__ would have
    # set raises NeedsInit, so the object is "could not be audited", not a list of findings.
    return getattr(_uninitialised(owner, owner_name), attribute)


def _uninitialised(owner: type, owner_name: str) -> Any:
    from temporalkit.validators.dynamic.adapters.base import NeedsInit

    def __getattr__(self: Any, attribute: str) -> Any:
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        raise NeedsInit(f"{owner_name}.{attribute}")

    try:
        namespace = {"__getattr__": __getattr__, "__module__": owner.__module__, "_temporalkit_uninitialised": True}
        guarded = type(owner.__name__, (owner,), namespace)
        return object.__new__(guarded)
    except TypeError:  # a class that cannot be subclassed or built this way: a plain bare instance
        return object.__new__(owner)


def _call_peer_check(check: Any, obj: Any, role: str, name: str, probe_dir: str | None) -> list:
    """Call another engineer's check with the arguments its signature asks for, by name."""
    available = {
        "fn": obj,
        "obj": obj,
        "callable": obj,
        "transform": obj,
        "loader": obj,
        "sampler": obj,
        "role": role,
        "name": name,
        "probe_dir": probe_dir,
    }
    parameters = list(inspect.signature(check).parameters.values())
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for index, parameter in enumerate(parameters):
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if index == 0 and parameter.kind != parameter.KEYWORD_ONLY:
            args.append(obj)
        elif parameter.name in available and (
            available[parameter.name] is not None or parameter.default is parameter.empty
        ):
            if parameter.kind == parameter.POSITIONAL_ONLY:
                args.append(available[parameter.name])
            else:
                kwargs[parameter.name] = available[parameter.name]
        elif parameter.default is parameter.empty:
            raise TypeError(
                f"{check.__module__}.{check.__name__} needs {parameter.name!r}, which the runner cannot supply"
            )
    return list(check(*args, **kwargs))


_PEER_CHECKS: dict[str, tuple[tuple[str, str], ...]] = {
    "transform": (("transform_checks", "check_transform"),),
    "loader": (("loader_checks", "check_loader"),),
    "image": (("image_checks", "check_image_reader"),),
}


def _peer(module_name: str, function_name: str) -> Any | None:
    try:
        module = importlib.import_module(f"temporalkit.validators.dynamic.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.endswith(module_name):
            return None
        raise
    return getattr(module, function_name, None)


LAYOUT_T = 8  # frames asked of a loader / fed to a transform for the layout check


def _produced_clip(obj: Any, role: str, probe_dir: str | None, family: str | None = None) -> tuple[Any, str]:
    """One clip `obj` produces (the loader on a probe video with >= LAYOUT_T frames, the transform on
    a coded clip), unwrapped from (clip, label) / {"video": clip}, and how it was made."""
    from temporalkit.validators.dynamic.clips import _unwrap, make_clip

    if role == "loader":
        from temporalkit.validators.dynamic.loader_checks import count_parameter
        from temporalkit.validators.dynamic.probes import make_probe_set

        probes = make_probe_set(probe_dir)
        probe = next((p for p in probes if p.frames >= LAYOUT_T and not p.metadata_is_wrong), probes[0])
        parameter = count_parameter(obj)
        output = obj(str(probe.path), **{parameter: LAYOUT_T}) if parameter else obj(str(probe.path))
        return _unwrap(output), f"loaded {probe.path.name}"
    from temporalkit.validators.dynamic.clips import UnusableCallable
    from temporalkit.validators.dynamic.frame_code import encode_frame
    from temporalkit.validators.dynamic.layout_checks import preferred_clip_type
    from temporalkit.validators.dynamic.transform_checks import CANVASES, find_clip_type

    try:  # the model's own layout first: a transform that keeps any layout is not blamed for our choice
        clip_type, _ = find_clip_type(obj, preferred_clip_type(family) if family else None, seeds=(0,))
    except UnusableCallable:
        clip_type, _ = find_clip_type(obj, seeds=(0,))
    height, width = CANVASES["16:9"]
    frames = [encode_frame(index, height, width) for index in range(LAYOUT_T)]
    return _unwrap(obj(make_clip(frames, clip_type))), f"fed a {clip_type} clip of {LAYOUT_T} frames"


def _layout_findings(
    obj: Any, name: str, role: str, family: str, probe_dir: str | None
) -> tuple[list, list[str], str | None]:
    """TK621: the clip `obj` produces, fed to the reference model of `family`: findings, notes, and
    an error when the check itself could not be done (it costs only this check, not the object's others)."""
    try:
        import torch  # noqa: F401 - the reference models need it
    except ImportError:
        return [], [f"{name}: layout check for family {family!r} not run (torch is not installed)"], None
    from temporalkit.validators.dynamic.clips import seed_everything
    from temporalkit.validators.dynamic.layout_checks import check_layout_with_notes

    def failed(exc: BaseException) -> str:
        return f"layout check (TK621) for family {family!r} failed: {traceback.format_exception_only(type(exc), exc)[-1].strip()}"

    seed_everything(0)
    try:
        clip, how = _produced_clip(obj, role, probe_dir, family)
    except MemoryError:
        raise  # the sandbox's memory limit: an error for the object
    except Exception as exc:  # noqa: BLE001 - the object failed on the layout clip: this check's error only
        return [], [], failed(exc)
    try:
        findings, notes = check_layout_with_notes(
            clip, family, name=f"the clip {name} returned ({how})", expect_cuda=nvidia_gpu_visible()
        )
    except ValueError as exc:  # not a 4D clip (e.g. a list of frames): nothing a model takes as is
        return [], [f"{name}: layout check for family {family!r} not run ({exc})"], None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. a CUDA error outside the forward pass
        return [], [], failed(exc)
    return findings, [f"{name}: {note}" for note in notes], None


def check_one(
    obj: Any,
    name: str,
    role: str,
    args: dict,
    test_time: bool | None,
    probe_dir: str | None,
    family: str | None = None,
    convention: dict | None = None,
) -> tuple[list, list[str], str | None]:
    """Findings (as `Finding`), notes, and the error of a check that could not be done, for one object."""
    from temporalkit.validators.dynamic.adapters.base import AdapterError, NeedsInit

    try:
        return _check_one(obj, name, role, args, test_time, probe_dir, family, convention)
    except AdapterError as exc:
        if getattr(getattr(obj, "__self__", None), "_temporalkit_uninitialised", False):
            owner = name.partition(".")[0]
            return (
                [],
                [],
                f"could not be audited: needs --init ({exc}; if that comes from self, give {owner}'s __init__ arguments with --init NAME=VALUE, e.g. --init clip_len=T)",
            )
        return [], [], f"could not be audited: {exc}"
    except Exception as exc:  # noqa: BLE001 - e.g. UnusableCallable: a sandbox cause is the harness's problem
        cause = sandbox_cause(str(exc))
        if cause is not None:
            return [], [], cause
        if type(exc).__name__ == "UnusableCallable":  # the checks' own "cannot call this", said plainly
            return [], [], f"could not be audited: {exc}"
        raise
    except NeedsInit as exc:
        owner = str(exc).partition(".")[0]
        return (
            [],
            [],
            f"could not be audited: needs --init (it read self.{str(exc).partition('.')[2]}, which {owner}.__init__ "
            f"sets, and __init__ never ran; give its arguments with --init NAME=VALUE or init = {{...}} in "
            "[tool.temporalkit.dynamic])",
        )


def _check_one(
    obj: Any,
    name: str,
    role: str,
    args: dict,
    test_time: bool | None,
    probe_dir: str | None,
    family: str | None,
    convention: dict | None,
) -> tuple[list, list[str], str | None]:
    notes: list[str] = []
    findings: list = []
    error: str | None = None
    if role in ("sampler", "subsample", "multiclip"):
        from temporalkit.validators.dynamic.sampler_checks import build_samplers, check_sampler

        samplers = build_samplers(obj, name, role, args, test_time, convention=convention)
        for sampler in samplers:
            notes.append(
                f"{name}: exercised as {role} ({sampler.convention}"
                f"{', test-time' if sampler.test_time else ''}): {sampler.mapping or 'no arguments'}"
            )
            findings += check_sampler(sampler)
            notes += sampler.notes
        adapted = samplers[0]
        if role == "sampler":

            def peer_obj(num_frames: int, T: int) -> Any:
                return adapted.invoke(num_frames, T, 0)

            peer_obj.__name__ = peer_obj.__qualname__ = name  # findings name the user's object, not this adapter
        else:
            peer_obj = obj
    else:
        from temporalkit.validators.dynamic.adapters.single import wrap

        peer_obj, how = wrap(obj, name, role, args, convention)
        notes.append(f"{name}: exercised as {role}: {how}")
        obj = peer_obj
    for module_name, function_name in _PEER_CHECKS.get(role, ()):
        check = _peer(module_name, function_name)
        if check is None:
            notes.append(f"{name}: {role} checks skipped ({module_name} is not installed)")
            continue
        findings += _call_peer_check(check, peer_obj, role, name, probe_dir)
    if "torch" in sys.modules and role in ("sampler", "subsample", "transform", "loader"):
        # The motion check needs torch and a model; it runs only where the user code already uses torch.
        motion = _peer("motion_checks", "check_motion")
        if motion is not None:
            try:
                motion_findings = motion(peer_obj, role)
                findings += motion_findings
                notes += getattr(motion_findings, "notes", [])  # e.g. a horizontal flip: labels to swap
            except Exception as exc:  # noqa: BLE001 - a missing model or weights is a note, not an error of the user's code
                notes.append(f"{name}: motion check not run ({type(exc).__name__}: {exc})")
    if family and role in ("transform", "loader"):
        layout_findings, layout_notes, error = _layout_findings(obj, name, role, family, probe_dir)
        findings += layout_findings
        notes += layout_notes
    harness = [f for f in findings if sandbox_cause(getattr(f, "message", "")) is not None]
    if harness:
        # The sandbox made the call fail, not the user's code: no finding, a harness problem with its remedy.
        findings = [f for f in findings if f not in harness]
        error = sandbox_cause(harness[0].message)
    elif error is not None and sandbox_cause(error) is not None:
        error = sandbox_cause(error)
    return findings, notes, error


# What a decoder (FFmpeg threads, a memory map) says when the sandbox's limits, not the code, stopped it.
_SANDBOX_ERRORS = (
    ("Resource temporarily unavailable", "EAGAIN"),
    ("[Errno 11]", "EAGAIN"),
    ("EAGAIN", "EAGAIN"),
    ("Cannot allocate memory", "ENOMEM"),
    ("[Errno 12]", "ENOMEM"),
)


def sandbox_cause(text: str) -> str | None:
    """A harness-problem message when `text` shows a failure the sandbox's limits cause (FFmpeg could
    not start its threads under the address-space limit, ...); None otherwise."""
    code = next((code for needle, code in _SANDBOX_ERRORS if needle in text), None)
    if code is None:
        return None
    limit = os.environ.get("TEMPORALKIT_CHILD_MEMORY_MB") or "the"
    mode = os.environ.get("TEMPORALKIT_CHILD_MEMORY_LIMIT") or "address-space"
    first = text.strip().splitlines()[0][:200] if text.strip() else code
    return (
        f"harness problem, not a finding: the call failed with {code} ({first}), which the sandbox causes "
        f"when a decoder cannot start its threads or map memory under the {mode} limit of {limit} MB; "
        "remedy: raise --memory-mb (or memory-mb in [tool.temporalkit.dynamic]), or set "
        "TEMPORALKIT_MEMORY_LIMIT=resident to limit resident memory instead of address space"
    )


# --- process tree helpers (also used by the runner) ---------------------------------------------

PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC = 1, 32, 4096, 16384


def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def set_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux), so none can leave the tree."""
    try:
        return _libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def descendants(root: int) -> list[int]:
    """Every live (non-zombie) descendant of `root`, read from /proc; parents before children."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()  # after "pid (comm)": state ppid ...
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and fields[0] != b"Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    todo = [root]
    while todo:
        for pid in children.get(todo.pop(), ()):
            if pid not in found:
                found.append(pid)
                todo.append(pid)
    return found


def kill_tree(root: int, *, include_root: bool = True, reap: bool = False) -> None:
    """SIGKILL every descendant of `root` (stopped first, so none can fork meanwhile), then `root`.

    Works as long as `root` is alive and a subreaper (or a PID namespace's init): orphans are then
    reparented to it and stay in the tree. `reap`: also collect the zombies of this process's children."""
    import signal

    for _ in range(50):
        pids = descendants(root)
        if not pids:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        if reap:
            _reap()
    if include_root:
        try:
            os.kill(root, signal.SIGKILL)
        except OSError:
            pass


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


# --- the supervisor: sandbox set-up, the limits, the worker, and every descendant killed at the end ---


def _mount_views(read_only: list[str], writable: list[str]) -> list[str]:
    """In a fresh mount namespace (we are root in our own user namespace): bind each `read_only` path
    read-only over itself, then each `writable` path that lies inside one of them writable again.
    Returns one line per path that could not be done."""
    import ctypes

    libc = _libc()
    problems = []

    def mount(source: str | None, target: str, flags: int) -> bool:
        if libc.mount(source.encode() if source else None, target.encode(), None, flags, None) == 0:
            return True
        problems.append(f"{target}: {os.strerror(ctypes.get_errno())}")
        return False

    for path in read_only:
        if os.path.isdir(path) and mount(path, path, MS_BIND | MS_REC):
            mount(None, path, MS_REMOUNT | MS_BIND | MS_RDONLY)
    for path in writable:
        inside = any(path == ro or path.startswith(ro.rstrip("/") + "/") for ro in read_only)
        if inside and os.path.isdir(path) and mount(path, path, MS_BIND | MS_REC):
            mount(None, path, MS_REMOUNT | MS_BIND)
    return problems


def _enter_locked_namespace() -> None:
    """In the worker, before exec: a nested user + mount namespace. The mounts the supervisor made are
    copied into it locked, so the worker (root only in its own namespace) cannot unmount the read-only
    views or remount them writable."""
    try:
        libc = _libc()
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
            os._exit(121)
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
    except BaseException:  # noqa: BLE001 - no half-made sandbox: the runner reports exit code 121
        os._exit(121)


def _nested_namespace_works() -> bool:
    """Whether `_enter_locked_namespace` succeeds here (tried in a forked child that exits at once)."""
    pid = os.fork()
    if pid == 0:
        try:
            _enter_locked_namespace()  # exits 121 when it fails
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _set_limits(request: dict) -> list[str]:
    import resource

    problems = []
    for name, value in (("RLIMIT_FSIZE", request.get("file_size_mb")), ("RLIMIT_NPROC", request.get("max_processes"))):
        if not value:
            continue
        limit = int(value) * (1024 * 1024 if name == "RLIMIT_FSIZE" else 1)
        which = getattr(resource, name)
        try:
            hard = resource.getrlimit(which)[1]
            resource.setrlimit(which, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
        except (ValueError, OSError) as exc:
            problems.append(f"{name}: {exc}")
    return problems


def supervise(request: dict | None = None) -> int:
    """Read the request, set up the sandbox and the limits, run the worker, report how it ended,
    and kill whatever it left behind. Runs no user code (the worker is a fresh interpreter, or, with a
    `request` from the warm worker in `zygote`, a fork of this process that imports nothing new)."""
    import signal
    import subprocess

    forked = request is not None
    if request is None:
        request = json.loads(sys.stdin.buffer.read())
    token = request["token"]
    answer_fd = int(request["answer_fd"])
    answer = os.fdopen(answer_fd, "w", buffering=1, encoding="utf-8", closefd=False)

    def emit(event: dict) -> None:
        event["token"] = token
        answer.write("\n" + json.dumps(event) + "\n")
        answer.flush()

    in_namespace = request.get("isolation") == "namespaces"
    problems = _set_limits(request)
    lock = False
    if in_namespace:
        problems += _mount_views(request.get("read_only", []), request.get("writable", []))
        lock = _nested_namespace_works()
        if not lock:
            problems.append("nested user namespace failed: the checked code could unmount the read-only views")
    if not set_subreaper() and not in_namespace:
        problems.append("PR_SET_CHILD_SUBREAPER failed: processes that leave the tree cannot be killed at the end")
    if problems:
        emit({"event": "sandbox", "problems": problems})
    # The worker gets the answer channel, in its own session (its signals to its group stay there).
    try:
        if forked:
            worker = _ForkedWorker(request, answer_fd, lock)
        else:
            worker = subprocess.Popen(
                [sys.executable, "-m", "temporalkit.validators.dynamic.child"],
                stdin=subprocess.PIPE,
                pass_fds=(answer_fd,),
                start_new_session=True,
                preexec_fn=_enter_locked_namespace if lock else None,
            )
    except (OSError, subprocess.SubprocessError) as exc:
        emit({"event": "sandbox", "problems": [f"could not start the worker: {exc}"]})
        emit({"event": "exit", "status": 121})
        return 0
    # What the worker's code sends its parent (os.kill(os.getppid(), SIGTERM)) must not end the audit early.
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    try:
        if not forked:
            worker.stdin.write(json.dumps(request).encode())
            worker.stdin.close()
    except OSError:
        pass
    status = worker.wait()
    if not in_namespace:  # in a PID namespace, this process's exit kills every process left in it
        kill_tree(os.getpid(), include_root=False, reap=True)
    emit({"event": "exit", "status": status})
    return 0


WORKER_NAME = b"tk-dyn-worker"  # the forked worker's /proc/PID/comm (its cmdline is the warm worker's)
PR_SET_NAME = 15


class _ForkedWorker:
    """The worker as a fork of this (warm) process: a session of its own, the nested namespace, then `main`."""

    def __init__(self, request: dict, answer_fd: int, lock: bool) -> None:
        self.pid = os.fork()
        if self.pid == 0:
            code = 121
            try:
                os.setsid()
                if lock:
                    _enter_locked_namespace()  # exits 121 when it fails
                _libc().prctl(PR_SET_NAME, WORKER_NAME, 0, 0, 0)
                code = main(request)
            finally:
                os._exit(code)

    def wait(self) -> int:
        while True:
            try:
                return os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
            except InterruptedError:
                continue


# --- the worker: imports the user module and runs the checks ----------------------------------------

AUDITOR_MODULES = ("json", "json.encoder", "__main__")


class _Pristine:
    """The auditor's own code as it was before the user module was imported: the namespaces of the
    temporalkit modules (and json), the code and defaults of their functions and the attributes of their
    classes. `restore()` puts back whatever was replaced, deleted or added and names it, so a user module
    that monkeypatches a check cannot make it report nothing."""

    def __init__(self) -> None:
        self.modules: dict[str, tuple[Any, dict]] = {}
        self.functions: dict[int, tuple[Any, Any, Any, Any]] = {}
        self.classes: dict[int, tuple[type, dict]] = {}
        for name, module in list(sys.modules.items()):
            if module is None or not (
                name in AUDITOR_MODULES or name == "temporalkit" or name.startswith("temporalkit.")
            ):
                continue
            namespace = dict(vars(module))
            self.modules[name] = (module, namespace)
            for value in namespace.values():
                self._remember(value, getattr(module, "__name__", name))

    def _remember(self, value: Any, owner: str) -> None:
        if inspect.isfunction(value) and value.__module__ == owner:
            self.functions[id(value)] = (value, value.__code__, value.__defaults__, value.__kwdefaults__)
        elif inspect.isclass(value) and value.__module__ == owner and id(value) not in self.classes:
            attributes = dict(vars(value))
            self.classes[id(value)] = (value, attributes)
            for attribute in attributes.values():
                function = attribute.__func__ if isinstance(attribute, (staticmethod, classmethod)) else attribute
                self._remember(function, owner)

    def restore(self) -> list[str]:
        changed: list[str] = []
        for name, (module, namespace) in self.modules.items():
            current = vars(module)
            for key, value in namespace.items():
                if current.get(key, _MISSING) is not value:
                    changed.append(f"{name}.{key}")
                    current[key] = value
            for key in [
                k for k, v in current.items() if k not in namespace and not inspect.ismodule(v) and not _dunder(k)
            ]:
                changed.append(f"{name}.{key}")
                del current[key]
        for cls, attributes in self.classes.values():
            for key, value in attributes.items():
                if cls.__dict__.get(key, _MISSING) is not value:
                    changed.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
                    setattr(cls, key, value)
            for key in [k for k in cls.__dict__ if k not in attributes and not _dunder(k)]:
                changed.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
                delattr(cls, key)
        for function, code, defaults, kwdefaults in self.functions.values():
            if (
                function.__code__ is not code
                or function.__defaults__ is not defaults
                or function.__kwdefaults__ is not kwdefaults
            ):
                changed.append(f"{function.__module__}.{function.__qualname__} (its code)")
                function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults
        return changed


_MISSING = object()


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")  # e.g. a module's __annotations__, made on first access


# The checking code each role runs, imported (and snapshotted) before the user module; the rest of the
# checking code is not loaded at all, so a run pays only for what it uses.
CHECK_MODULES = {
    "sampler": ("sampler_checks",),
    "subsample": ("sampler_checks",),
    "multiclip": ("sampler_checks",),
    "transform": ("transform_checks", "clips", "frame_code"),
    "loader": ("loader_checks", "clips", "probes"),
    "image": ("image_checks", "probes"),
}


def _describe_base_exception(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r}) (SystemExit)"
    if isinstance(exc, KeyboardInterrupt):
        return "raised KeyboardInterrupt"
    return f"raised {type(exc).__name__} (a BaseException, not an Exception): {exc}".rstrip(": ")


def main(request: dict | None = None) -> int:
    if request is None:
        request = json.loads(sys.stdin.buffer.read())
    else:
        request = dict(request)
    # The answer channel is a pipe the runner opened for this run; every line carries the run's token,
    # which reached this process on stdin (not in the environment, argv or a file) and is read before
    # the user module is imported. Output of the user code goes to fds 1 and 2 (the runner captures it).
    token = request.pop("token")
    answer_fd = int(request.pop("answer_fd"))
    answer = os.fdopen(answer_fd, "w", buffering=1, encoding="utf-8")
    os.set_inheritable(answer_fd, False)
    sys.stdin.close()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    dumps = json.dumps

    def emit(event: dict) -> None:
        event["token"] = (
            token  # each answer starts on a fresh line: a partial line the user code wrote cannot swallow it
        )
        answer.write("\n" + dumps(event, default=str) + "\n")
        answer.flush()

    sys.dont_write_bytecode = True
    _limit_memory(request.get("memory_mb"), request.get("memory_limit", "address-space"))
    os.environ["TEMPORALKIT_CHILD_MEMORY_MB"] = str(request.get("memory_mb") or "no")
    os.environ["TEMPORALKIT_CHILD_MEMORY_LIMIT"] = str(request.get("memory_limit") or "address-space")
    import numpy  # noqa: F401 - imported before user code so its start-up is not charged to it
    from temporalkit.validators.findings import Finding

    wanted = {"motion_checks", "adapters.single"} | {
        m for entry in request["objects"] for m in CHECK_MODULES.get(entry["role"], ())
    }
    if any(entry.get("family") for entry in request["objects"]):
        wanted |= {"layout_checks", "clips", "frame_code"}
    for module_name in sorted(wanted):  # the checking code, loaded (and snapshotted) before any user code
        try:
            importlib.import_module(f"temporalkit.validators.dynamic.{module_name}")
        except ImportError:
            pass
    pristine = _Pristine()
    exit_now = os._exit

    def finish(code: int) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - the user code may have replaced or closed them
                pass
        exit_now(code)

    try:
        module = _import_module(request["path"])
    except MemoryError:
        emit({"event": "import_error", "message": f"import ran out of memory (limit {request.get('memory_mb')} MB)"})
        finish(0)
    except BaseException as exc:  # noqa: BLE001 - SystemExit and friends from user code are import failures too
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        if not isinstance(exc, Exception):
            last = _describe_base_exception(exc)
        emit({"event": "import_error", "message": f"import failed: {last}"})
        finish(0)
    emit({"event": "imported"})
    for entry in request["objects"]:
        name = entry["name"]
        emit({"event": "start", "object": name})
        error = None
        findings: list = []
        notes: list[str] = []
        patched = pristine.restore()
        if patched:
            notes.append(
                f"{name}: the audited code had replaced parts of the auditor ({', '.join(patched[:5])}"
                f"{', ...' if len(patched) > 5 else ''}); restored before checking"
            )
        try:
            obj = _resolve(module, name, entry.get("convention"), entry["role"])
            findings, notes_, error = check_one(
                obj,
                name,
                entry["role"],
                dict(entry.get("args") or {}),
                entry.get("test_time"),
                request.get("probe_dir"),
                entry.get("family"),
                entry.get("convention") or None,
            )
            notes += notes_
        except MemoryError:
            error = f"ran out of memory (limit {request.get('memory_mb')} MB)"
        except Exception as exc:  # noqa: BLE001 - any failure outside the per-call checks is this object's error
            error = traceback.format_exception_only(type(exc), exc)[-1].strip()
        except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt, SystemExit, ... from the user code
            error = _describe_base_exception(exc)
        patched = pristine.restore()
        if patched:
            findings = []
            error = (
                f"the checked code replaced parts of the auditor while it was being checked "
                f"({', '.join(patched[:5])}{', ...' if len(patched) > 5 else ''}); its results are not trusted"
            )
        try:
            payload = [f.to_dict() if isinstance(f, Finding) else f for f in findings]
        except Exception as exc:  # noqa: BLE001
            payload, error = [], f"its findings could not be serialised: {exc}"
        emit({"event": "done", "object": name, "error": error, "notes": notes, "findings": payload})
    emit({"event": "finished"})
    finish(0)  # threads the user code left running do not keep this process alive
    return 0


if __name__ == "__main__":
    sys.exit(supervise() if sys.argv[1:] == ["--supervise"] else main())
