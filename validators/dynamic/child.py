"""The child process that imports one audited module and runs the dynamic checks on its objects.

Started by `temporalkit.validators.dynamic.runner` as ``python -m temporalkit.validators.dynamic.child``
with a JSON request on stdin; answers with JSON lines on its original stdout:

    {"event": "imported"}
    {"event": "start", "object": "sample"}
    {"event": "done", "object": "sample", "findings": [...], "notes": [...], "error": null}
    {"event": "import_error", "message": "..."}
    {"event": "captured", "text": "..."}       # what the user code printed (tail)

Before the user module is imported, file descriptors 1 and 2 are pointed at a temporary file, so
whatever the user code prints (from Python or from C) is captured rather than mixed into the
answer, and, when the runner enforces the memory limit as "address-space", the address space is
limited with RLIMIT_AS (under "resident" the runner watches this process's RSS instead: RLIMIT_AS
keeps CUDA from initialising). Torch is imported here only if the user module imported it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
import sys
import tempfile
import traceback
from typing import Any

CAPTURED_TAIL_CHARS = 4000
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


def _resolve(module: Any, dotted: str) -> Any:
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
    # A method that does not use `self` (discovery checked): bind it to a bare instance.
    return getattr(object.__new__(owner), attribute)


def _call_peer_check(check: Any, obj: Any, role: str, name: str, probe_dir: str | None) -> list:
    """Call another engineer's check with the arguments its signature asks for, by name."""
    available = {"fn": obj, "obj": obj, "callable": obj, "transform": obj, "loader": obj, "sampler": obj,
                 "role": role, "name": name, "probe_dir": probe_dir}
    parameters = list(inspect.signature(check).parameters.values())
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for index, parameter in enumerate(parameters):
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if index == 0 and parameter.kind != parameter.KEYWORD_ONLY:
            args.append(obj)
        elif parameter.name in available and (available[parameter.name] is not None or parameter.default is parameter.empty):
            if parameter.kind == parameter.POSITIONAL_ONLY:
                args.append(available[parameter.name])
            else:
                kwargs[parameter.name] = available[parameter.name]
        elif parameter.default is parameter.empty:
            raise TypeError(f"{check.__module__}.{check.__name__} needs {parameter.name!r}, which the runner cannot supply")
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


def _produced_clip(obj: Any, role: str, probe_dir: str | None) -> tuple[Any, str]:
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
    from temporalkit.validators.dynamic.frame_code import encode_frame
    from temporalkit.validators.dynamic.transform_checks import CANVASES, find_clip_type

    clip_type, _ = find_clip_type(obj, seeds=(0,))
    height, width = CANVASES["16:9"]
    frames = [encode_frame(index, height, width) for index in range(LAYOUT_T)]
    return _unwrap(obj(make_clip(frames, clip_type))), f"fed a {clip_type} clip of {LAYOUT_T} frames"


def _layout_findings(obj: Any, name: str, role: str, family: str, probe_dir: str | None) -> tuple[list, list[str], str | None]:
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
        clip, how = _produced_clip(obj, role, probe_dir)
    except MemoryError:
        raise  # the sandbox's memory limit: an error for the object
    except Exception as exc:  # noqa: BLE001 - the object failed on the layout clip: this check's error only
        return [], [], failed(exc)
    try:
        findings, notes = check_layout_with_notes(clip, family, name=f"the clip {name} returned ({how})",
                                                  expect_cuda=nvidia_gpu_visible())
    except ValueError as exc:  # not a 4D clip (e.g. a list of frames): nothing a model takes as is
        return [], [f"{name}: layout check for family {family!r} not run ({exc})"], None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. a CUDA error outside the forward pass
        return [], [], failed(exc)
    return findings, [f"{name}: {note}" for note in notes], None


def check_one(obj: Any, name: str, role: str, args: dict, test_time: bool | None, probe_dir: str | None,
              family: str | None = None) -> tuple[list, list[str], str | None]:
    """Findings (as `Finding`), notes, and the error of a check that could not be done, for one object."""
    notes: list[str] = []
    findings: list = []
    error: str | None = None
    if role in ("sampler", "subsample", "multiclip"):
        from temporalkit.validators.dynamic.sampler_checks import build_samplers, check_sampler

        samplers = build_samplers(obj, name, role, args, test_time)
        for sampler in samplers:
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
        peer_obj = obj
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
                findings += motion(peer_obj, role)
            except Exception as exc:  # noqa: BLE001 - a missing model or weights is a note, not an error of the user's code
                notes.append(f"{name}: motion check not run ({type(exc).__name__}: {exc})")
    if family and role in ("transform", "loader"):
        layout_findings, layout_notes, error = _layout_findings(obj, name, role, family, probe_dir)
        findings += layout_findings
        notes += layout_notes
    return findings, notes, error


def main() -> int:
    request = json.loads(sys.stdin.read())
    answer = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    capture = tempfile.TemporaryFile()
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(capture.fileno(), 1)
    os.dup2(capture.fileno(), 2)

    def emit(event: dict) -> None:
        answer.write(json.dumps(event, default=str) + "\n")
        answer.flush()

    def emit_captured() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        capture.seek(0)
        text = capture.read().decode("utf-8", "replace")
        if text:
            emit({"event": "captured", "text": text[-CAPTURED_TAIL_CHARS:]})

    sys.dont_write_bytecode = True
    _limit_memory(request.get("memory_mb"), request.get("memory_limit", "address-space"))
    import numpy  # noqa: F401 - imported before user code so its start-up is not charged to it

    from temporalkit.validators.findings import Finding

    try:
        module = _import_module(request["path"])
    except MemoryError:
        emit({"event": "import_error", "message": f"import ran out of memory (limit {request.get('memory_mb')} MB)"})
        emit_captured()
        return 0
    except BaseException as exc:  # noqa: BLE001 - SystemExit and friends from user code are import failures too
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        emit({"event": "import_error", "message": f"import failed: {last}"})
        emit_captured()
        return 0
    emit({"event": "imported"})
    for entry in request["objects"]:
        name = entry["name"]
        emit({"event": "start", "object": name})
        error = None
        findings: list = []
        notes: list[str] = []
        try:
            obj = _resolve(module, name)
            findings, notes, error = check_one(obj, name, entry["role"], dict(entry.get("args") or {}),
                                               entry.get("test_time"), request.get("probe_dir"), entry.get("family"))
        except MemoryError:
            error = f"ran out of memory (limit {request.get('memory_mb')} MB)"
        except Exception as exc:  # noqa: BLE001 - any failure outside the per-call checks is this object's error
            error = traceback.format_exception_only(type(exc), exc)[-1].strip()
        emit({"event": "done", "object": name, "error": error, "notes": notes,
              "findings": [f.to_dict() if isinstance(f, Finding) else f for f in findings]})
    emit_captured()
    return 0


if __name__ == "__main__":
    sys.exit(main())
