"""4 the dynamic auditor under a memory limit: 4a1 the runner itself, 4a2 raw rlimit probes, 4b `audit
--dynamic` and 4c `temporalkit check` probes (started in the background, collected at the end).

PROBE_MODULE and MEMORY_PROBE_MODULE are source text written to files under the run's temporary
directory and run in the dynamic runner's child (each has its own `_record`, logging to the file named
by its environment variable); their functions are referenced by name from there
(`...cuda_probe_pipeline.py:identity_clip_transform`, Candidate names `sample_*`)."""

from __future__ import annotations

import json
import os
import sys
import time

from .common import Command, Run, brief, cli, cuda_lines, last_lines, run_command


def audit_default_mb() -> int:
    """The memory limit `temporalkit audit --dynamic` / `check` give their child when neither --memory-mb
    nor the pyproject's memory-mb is set."""
    from temporalkit.validators.dynamic.runner import DEFAULT_MEMORY_MB

    return DEFAULT_MEMORY_MB


PROBE_MODULE = '''"""gpu_check probe: an identity clip transform; logs whether the dynamic child initialised CUDA.

The dynamic runner kills the child as soon as its answer pipe closes, which can be before atexit
handlers finish, so a watcher thread writes each change as it happens.
"""
import atexit, json, os, resource, threading, time, warnings
import torch

_LOG = os.environ.get("TK_GPUCHECK_PROBE_LOG")
_CALLS = [0]
_show = warnings.showwarning


def _record(event, **data):
    if _LOG:
        with open(_LOG, "a") as log:
            log.write(json.dumps({"event": event, "pid": os.getpid(), **data}, default=str) + "\\n")


def _showwarning(message, category, filename, lineno, file=None, line=None):
    if "cuda" in str(message).lower():
        _record("cuda_warning", message=f"{category.__name__}: {message}"[:400])
    _show(message, category, filename, lineno, file, line)


def _peak_rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM:"))


def _watch():
    calls, initialised, memory, peak = 0, False, -1, 0
    while True:
        time.sleep(0.05)
        if _CALLS[0] != calls:
            calls = _CALLS[0]
            _record("calls", transform_calls=calls)
        if _peak_rss_mb() >= peak + 64:
            peak = _peak_rss_mb()
            _record("rss", peak_rss_mb=peak)
        if torch.cuda.is_initialized():
            if not initialised:
                initialised = True
                _record("cuda_initialized", device_name=torch.cuda.get_device_name(), peak_rss_mb=_peak_rss_mb())
            if torch.cuda.max_memory_allocated() != memory:
                memory = torch.cuda.max_memory_allocated()
                _record("cuda_memory", max_memory_allocated=memory)


warnings.showwarning = _showwarning
_soft = resource.getrlimit(resource.RLIMIT_AS)[0]
_record("import", rlimit_as_mb=None if _soft == resource.RLIM_INFINITY else _soft // 2**20,
        cuda_initialized=torch.cuda.is_initialized(), peak_rss_mb=_peak_rss_mb(),
        memory_limit_env=os.environ.get("TEMPORALKIT_MEMORY_LIMIT"))
threading.Thread(target=_watch, daemon=True).start()


@atexit.register
def _at_exit():
    data = {"cuda_initialized": torch.cuda.is_initialized(), "transform_calls": _CALLS[0]}
    if not torch.cuda.is_initialized():
        try:
            data["cuda_available_at_exit"] = torch.cuda.is_available()
        except Exception as exc:
            data["cuda_error_at_exit"] = repr(exc)[:400]
    _record("exit", **data)


def identity_clip_transform(clip):
    _CALLS[0] += 1
    return clip
'''

RLIMIT_PROBE = r"""
import json, resource, sys, time, warnings
mb, kind = int(sys.argv[1]), sys.argv[2]
out = {"memory_mb": mb, "rlimit": kind}
if mb:
    which = resource.RLIMIT_AS if kind == "AS" else resource.RLIMIT_DATA
    hard = resource.getrlimit(which)[1]
    limit = mb * 2**20 if hard == resource.RLIM_INFINITY else min(mb * 2**20, hard)
    resource.setrlimit(which, (limit, hard))
start = time.monotonic()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        import torch
        out["import_torch"] = "ok"
        out["cuda_available"] = torch.cuda.is_available()
        if out["cuda_available"]:
            out["alloc_sum"] = float(torch.ones(1024, device="cuda").sum())
            conv = torch.nn.Conv3d(3, 8, 3).cuda()
            conv(torch.randn(1, 3, 8, 32, 32, device="cuda"))
            torch.cuda.synchronize()
            out["conv3d"] = "ok"
    except BaseException as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"[:500]
out["warnings"] = [str(w.message)[:300] for w in caught if "cuda" in str(w.message).lower()]
out["seconds"] = round(time.monotonic() - start, 2)
print("RLIMIT_PROBE " + json.dumps(out))
"""


MEMORY_PROBE_MODULE = '''"""gpu_check memory probe: CUDA in the dynamic runner's child, a memory hog, an object after it."""
import json, os, resource

_LOG = os.environ.get("TK_GPUCHECK_MEMORY_LOG")
_DONE = []


def _memory():
    with open("/proc/self/status") as status:
        fields = {line.split(":")[0]: int(line.split()[1]) // 1024 for line in status if line.startswith(("VmRSS:", "VmHWM:"))}
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return {"rss_mb": fields.get("VmRSS"), "peak_rss_mb": fields.get("VmHWM"),
            "rlimit_as_mb": None if soft == resource.RLIM_INFINITY else soft // 2**20}


def _record(event, **data):
    if _LOG:
        with open(_LOG, "a") as log:
            log.write(json.dumps({"event": event, "pid": os.getpid(), **data}, default=str) + "\\n")


_record("import", **_memory())


def _centres(num_frames, T):
    if num_frames == 0:
        raise ValueError("empty video")
    if num_frames < T:
        return [min(i, num_frames - 1) for i in range(T)]
    return [(2 * i + 1) * num_frames // (2 * T) for i in range(T)]


def sample_with_cuda(num_frames, T):
    if not _DONE:  # the first call: torch, CUDA init, an allocation and a Conv3d, as a user's pipeline would
        _DONE.append(True)
        info = {}
        import warnings
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                import torch
                info["cuda_available"] = torch.cuda.is_available()
            info["warnings"] = [str(w.message)[:300] for w in caught if "cuda" in str(w.message).lower()]
            if info["cuda_available"]:
                info["alloc_sum"] = float(torch.ones(1024, device="cuda").sum())
                conv = torch.nn.Conv3d(3, 8, 3).cuda()
                conv(torch.randn(1, 3, 8, 32, 32, device="cuda"))
                torch.cuda.synchronize()
                info["conv3d"] = "ok"
                info["device_name"] = torch.cuda.get_device_name()
        except Exception as exc:
            info["error"] = f"{type(exc).__name__}: {exc}"[:500]
        _record("cuda", **info, **_memory())
    return _centres(num_frames, T)


def sample_hog(num_frames, T):
    import numpy as np
    kept = []
    for _ in range(64):  # up to 32 GB in 512 MB steps, every page touched
        kept.append(np.ones(512 * 2**20, dtype=np.uint8))
        _record("hog", **_memory())
    return list(range(T))


def sample_after_hog(num_frames, T):
    return _centres(num_frames, T)
'''


def check_memory_limit(run: Run):
    """4a1: the dynamic runner's memory limit as `audit --dynamic` / `check` apply it (auto mode, default limit)."""
    from temporalkit.validators.dynamic.child import nvidia_gpu_visible
    from temporalkit.validators.dynamic.discover import Candidate
    from temporalkit.validators.dynamic.runner import MEMORY_LIMIT_ENV, memory_limit_mode, run_module

    default_mb = audit_default_mb()
    probe_dir = run.tmp / "memory_probe"
    probe_dir.mkdir(exist_ok=True)
    path = probe_dir / "memory_probe.py"
    path.write_text(MEMORY_PROBE_MODULE)
    log = run.tmp / "memory_probe.jsonl"
    source = MEMORY_PROBE_MODULE.splitlines()
    candidates = [
        Candidate(
            path=str(path),
            name=name,
            role="sampler",
            line=next(i for i, line in enumerate(source, 1) if line.startswith(f"def {name}(")),
        )
        for name in ("sample_with_cuda", "sample_hog", "sample_after_hog")
    ]
    saved = os.environ.pop(MEMORY_LIMIT_ENV, None)  # auto, as a user gets it
    os.environ["TK_GPUCHECK_MEMORY_LOG"] = str(log)
    try:
        mode = memory_limit_mode()
        start = time.monotonic()
        result = run_module(str(path), candidates, timeout=90, memory_mb=default_mb)
        seconds = round(time.monotonic() - start, 2)
    finally:
        os.environ.pop("TK_GPUCHECK_MEMORY_LOG", None)
        if saved is not None:
            os.environ[MEMORY_LIMIT_ENV] = saved
    events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []
    objects = {o.candidate.name: o for o in result.objects}
    cuda = next((e for e in events if e["event"] == "cuda"), {})
    hogged = [e["rss_mb"] for e in events if e["event"] == "hog"]
    details = {
        "memory_mb": default_mb,
        "mode": mode,
        "nvidia_gpu_visible": nvidia_gpu_visible(),
        "env_set_and_ignored": saved,
        "seconds": seconds,
        "import_error": result.import_error,
        "children": sum(e["event"] == "import" for e in events),
        "child_rlimit_as_mb": sorted({e.get("rlimit_as_mb") for e in events if e["event"] == "import"}, key=str),
        "child_cuda": cuda,
        "hog_last_rss_mb": hogged[-1] if hogged else None,
        "objects": {n: {"error": o.error, "findings": [f.rule for f in o.findings]} for n, o in objects.items()},
    }
    hog_error = (objects["sample_hog"].error if "sample_hog" in objects else None) or ""
    after = objects.get("sample_after_hog")
    problems = []
    if result.import_error:
        problems.append(f"import error: {result.import_error}")
    if "ran out of memory" not in hog_error:
        problems.append(f"memory hog not stopped by the limit: {hog_error or 'no error'}")
    if after is None or after.error or after.findings:
        problems.append(f"the object after the hog: {details['objects'].get('sample_after_hog')}")
    if run.cuda:
        if mode != "resident" or "resident memory" not in hog_error:
            problems.append(f"mode {mode} (expected resident with an NVIDIA GPU); hog: {hog_error[:200]}")
        if cuda.get("conv3d") != "ok":
            problems.append(
                f"CUDA in the child under the default limit: {cuda.get('error') or cuda.get('warnings') or cuda or 'no record'}"
            )
    elif mode != "address-space":
        problems.append(f"mode {mode} without an NVIDIA GPU (expected address-space)")
    if problems:
        details["error"] = "; ".join(problems)[:1500]
        return "fail", details
    return ("pass" if run.cuda else "cpu-only"), details


def check_raw_rlimits(run: Run):
    """4a2 (info): what RLIMIT_AS and RLIMIT_DATA at the default limit do to torch + CUDA, outside the runner."""
    if not run.cuda:
        return "skip", {"error": "no CUDA"}
    default_mb = audit_default_mb()
    probes = []
    for kind in ("AS", "DATA"):
        result = run_command(
            run, f"rlimit_{kind}_{default_mb}", [sys.executable, "-c", RLIMIT_PROBE, str(default_mb), kind], 90
        )
        line = next((l for l in result["stdout"].splitlines() if l.startswith("RLIMIT_PROBE ")), None)
        probes.append(
            json.loads(line.split(" ", 1)[1])
            if line
            else {
                "memory_mb": default_mb,
                "rlimit": kind,
                "error": f"no answer (rc {result['rc']}): {last_lines(result['stderr'])}",
            }
        )
    return "info", {"probes": probes}


def start_background(run: Run) -> dict:
    """The 4b audits and 4c probe checks, started now and collected after the GPU checks."""
    started = {}
    audits = [("4b1", "default", [])] + ([("4b2", "mem0", ["--memory-mb", "0"])] if run.cuda else [])
    for cid, name, extra in audits:
        if run.skipped(cid):
            continue
        report = run.out / f"audit_{name}.json"
        started[f"audit_{name}"] = Command(
            run,
            f"audit_{name}",
            cli(
                "audit",
                "--dynamic",
                "examples/pipelines",
                "--no-cache",
                "--format",
                "json",
                "--output",
                str(report),
                *extra,
            ),
        )
    probe_dir = run.tmp / "probe"
    probe_dir.mkdir(exist_ok=True)
    (probe_dir / "cuda_probe_pipeline.py").write_text(PROBE_MODULE)
    probes = (
        ("4c1", "default", ["--family", "3d_conv"]),
        ("4c2", "mem0", ["--family", "3d_conv", "--memory-mb", "0"]),
        ("4c3", "motion", []),
    )
    for cid, name, extra in probes:
        if run.skipped(cid):
            continue
        log = run.tmp / f"probe_{name}.jsonl"
        started[f"probe_{name}"] = Command(
            run,
            f"probe_{name}",
            cli(
                "check",
                f"{probe_dir / 'cuda_probe_pipeline.py'}:identity_clip_transform",
                "--role",
                "transform",
                "--format",
                "json",
                "-v",
                *extra,
            ),
            env={"TK_GPUCHECK_PROBE_LOG": str(log)},
        )
    return started


def check_audit(run: Run, name: str, command: Command | None):
    if command is None:
        return "skip", {
            "error": "not started (--skip)"
            if run.cuda or name == "default"
            else "no CUDA: the --memory-mb 0 audit would repeat the default one here"
        }
    result = command.wait(max(run.left(), 5.0))
    details = brief(result, 600)
    report_path = run.out / f"audit_{name}.json"
    try:
        report = json.loads(report_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        details["error"] = (
            f"exit {result['rc']}{' (timeout)' if result['timed_out'] else ''}, no JSON report ({exc}): {last_lines(result['stderr'])}"
        )
        return "fail", details
    findings, errors = report["findings"], report["errors"]
    by_rule: dict[str, int] = {}
    for finding in findings:
        by_rule[finding["rule"]] = by_rule.get(finding["rule"], 0) + 1
    details.update(
        findings=len(findings),
        dynamic_findings=sum(f.get("source") == "dynamic" for f in findings),
        tk701=by_rule.get("TK701", 0),
        tk621=by_rule.get("TK621", 0),
        by_rule=dict(sorted(by_rule.items())),
        errors=[f"{e['path']}: {e['message']}"[:400] for e in errors],
        cuda_or_memory_errors=[
            f"{e['path']}: {e['message']}"[:400]
            for e in errors
            if cuda_lines(e["message"]) or "memory" in e["message"].lower()
        ],
        stderr_cuda_lines=cuda_lines(result["stderr"]),
    )
    if result["rc"] not in (0, 1) or details["cuda_or_memory_errors"]:
        details["error"] = f"exit {result['rc']}; CUDA/memory errors: {details['cuda_or_memory_errors'][:3]}"
        return "fail", details
    return "pass", details


def check_probe(run: Run, name: str, command: Command | None, layout: bool = True):
    if command is None:
        return "skip", {"error": "not started"}
    result = command.wait(max(run.left(), 5.0))
    details = brief(result, 1500)
    log = run.tmp / f"probe_{name}.jsonl"
    events = [json.loads(l) for l in log.read_text().splitlines() if l.strip()] if log.exists() else []
    details["child_events"] = events
    try:
        report = json.loads(result["stdout"])
        details["findings"] = [f"{f['rule']}: {f['message'][:300]}" for f in report["findings"]]
        details["errors"] = [e["message"][:500] for e in report["errors"]]
        details["tk621_device"] = next(
            (f["extra"].get("device") for f in report["findings"] if f["rule"] == "TK621"), None
        )
    except (json.JSONDecodeError, KeyError, TypeError):
        details["findings"], details["errors"] = (
            None,
            [f"no JSON report (rc {result['rc']}): {last_lines(result['stderr'])}"],
        )
    details["notes"] = [l for l in result["stderr"].splitlines() if l.startswith("note:")][:10]
    details["cpu_notes"] = [l for l in details["notes"] if "ran on CPU" in l]
    details["child_rlimit_mb"] = [e.get("rlimit_as_mb") for e in events if e["event"] == "import"]
    details["child_memory_limit_env"] = [e.get("memory_limit_env") for e in events if e["event"] == "import"]
    details["child_peak_rss_mb"] = max(
        (e["peak_rss_mb"] for e in events if e.get("peak_rss_mb") is not None), default=None
    )
    details["child_cuda_initialized"] = any(
        e["event"] == "cuda_initialized" or e.get("cuda_initialized") for e in events
    )
    details["child_cuda_max_memory"] = max(
        (e["max_memory_allocated"] for e in events if e["event"] == "cuda_memory"), default=None
    )
    details["child_cuda_warnings"] = [e["message"] for e in events if e["event"] == "cuda_warning"]
    details["child_exit_recorded"] = any(e["event"] == "exit" for e in events)
    details["transform_calls"] = max((e.get("transform_calls") or 0 for e in events), default=0)
    layout_ran = bool(details["findings"]) and any(f.startswith("TK621") for f in details["findings"])
    details["layout_check_ran"] = layout_ran
    if layout_ran != layout or details["errors"] or details["findings"] is None:
        details["error"] = (
            f"exit {result['rc']}: TK621 {'not ' if layout else ''}reported; errors {details['errors'][:2]}"
        )
        return "fail", details
    if not layout:  # the motion check alone: it loads the motion model with device="cpu"
        motion_ran = details["transform_calls"] >= 100
        details["note"] = (
            f"motion check ran: {motion_ran} (100 probe clips through the transform); child CUDA init {details['child_cuda_initialized']}"
        )
        return ("info" if run.cuda else "cpu-only") if motion_ran else "fail", details
    if run.cuda and (not details["child_cuda_initialized"] or details["tk621_device"] != "cuda"):
        details["error"] = (
            f"layout check ran on {details['tk621_device']}: child CUDA init {details['child_cuda_initialized']} "
            f"({details['child_cuda_warnings'][:2] or 'no warning'}); notes {details['cpu_notes'][:2]}"
        )
        return "fail", details
    return ("pass" if run.cuda else "cpu-only"), details
