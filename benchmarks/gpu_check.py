"""GPU check: run once on a machine with an NVIDIA GPU the paths that cannot be tested without one.

    bash benchmarks/gpu_check.sh OUT_DIR          # the wrapper: picks the interpreter, makes this tree importable
                                                  # (on a lent GPU machine: carry .whl/, not .venv/; see gpu_check.sh)
    python benchmarks/gpu_check.py --out OUT_DIR  # where temporalkit already imports from this tree

Checks (each timed, in its own try/except, recorded as pass / fail / skip / cpu-only / info with its error):
  1      device      pick_device picks cuda; GPU name, torch / CUDA / cuDNN / NCCL versions
  2      models      every registry model: CPU vs CUDA logits on the same weights and clip (fp32, TF32 off)
                     at 8x112 (16x224 where 8x112 is unsupported); 16x224 batch 8 on CUDA: finite, and
                     clip 0 of the batch equal to it alone
  3a/3b  cost        `temporalkit cost --model all --frames 16 --size 224 --device cuda --latency`; the
                     CPU median of one model for a ratio (3b runs last, on a quiet machine)
  4a1    memory      the dynamic runner itself (`run_module`, default limit, TEMPORALKIT_MEMORY_LIMIT
                     unset = auto): which enforcement it picks (resident memory where an NVIDIA GPU is
                     present, RLIMIT_AS elsewhere); in the child, CUDA init + an allocation + a Conv3d and
                     its resident memory after; a memory hog killed with the limit's message; the object
                     after it checked by a fresh child
  4a2    rlimits     (info, CUDA only) raw probes: torch + CUDA under RLIMIT_AS and under RLIMIT_DATA at
                     the default limit, to show what an address-space limit does to CUDA
  4b     audit       `temporalkit audit --dynamic examples/pipelines`, default limit (auto) and --memory-mb 0
  4c     probe       `temporalkit check` of an identity transform with --family 3d_conv (layout check
                     TK621 + motion check TK701 in the sandboxed child), default limit (auto) and
                     --memory-mb 0, and without --family (motion check alone), with a log of whether the
                     child initialised CUDA, its RLIMIT_AS and its peak resident memory
  5a/5b  motion      `temporalkit train` r2plus1d on CUDA (the shipped checkpoint's recipe); the shipped
                     checkpoint evaluated on CUDA and CPU
  6a-6c  ddp         torchrun --nproc_per_node=1 train on CUDA; NCCL + DDP smoke worker (this file,
                     --ddp-worker); --nproc_per_node=2 on one GPU must fail at once with one line
                     naming the cause (more processes than GPUs)

Without CUDA every CUDA part says "no CUDA" and the CPU parts run (training runs become small CPU
smoke runs), so the script is tested here. The 4b/4c subprocesses run in the background while the
GPU checks run. Writes OUT_DIR/gpu_check.json and gpu_check.md after every check (a killed run
leaves what it had), audit_default.json / audit_mem0.json and logs.txt; prints a compact summary.

`--skip` takes id prefixes: `--skip 2,3,4b,5,6a,6b` runs only 1, 4a, 4c and 6c (the memory limit, the
layout check on CUDA, torchrun with more processes than GPUs). Not yet timed on a GPU; from the parts'
times in the last full H200 run (1: 9 s, 4c: 9-10 s each in the background, 6c: 9 s, a torch + CUDA
probe: 4-5 s) expect 1-2 minutes; `--budget-s 150` keeps later checks from starting past that.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REL_TOL = 1e-3  # CPU vs CUDA (and batch vs single) logits, relative to the largest |logit|
CPU_LATENCY_MODEL = "r2plus1d_r18"


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


# -- recording ------------------------------------------------------------------------------


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


# -- 1 device -----------------------------------------------------------------------------------


def check_device(run: Run):
    import torch
    import torchvision
    from temporalkit.reference_models.device import pick_device

    import temporalkit

    details = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "temporalkit_file": temporalkit.__file__,
        "temporalkit_realpath": os.path.realpath(temporalkit.__file__),
        "temporalkit_from_this_tree": os.path.realpath(temporalkit.__file__).startswith(str(ROOT) + os.sep),
        "cuda_available": torch.cuda.is_available(),
        "auto_device": str(pick_device("auto")),
    }
    from importlib.metadata import PackageNotFoundError, version

    for module, distributions in (
        ("libcst", ["libcst"]),
        ("av", ["av"]),
        ("pydantic", ["pydantic"]),
        ("cv2", ["opencv-python-headless", "opencv-python", "opencv-contrib-python"]),
    ):
        try:
            imported = __import__(module)
        except ImportError as exc:
            details[f"{module}_version"] = f"missing ({exc})"
            continue
        found = getattr(imported, "__version__", "?")
        for distribution in distributions:
            try:
                found = version(distribution)
                break
            except PackageNotFoundError:
                continue
        details[f"{module}_version"] = found
    # What the subprocesses (CLI, torchrun workers, the dynamic auditor's child) import: this tree too?
    probe = run_command(
        run,
        "subprocess_import",
        [
            sys.executable,
            "-c",
            "import os, temporalkit.validators.dynamic.child as c; print(os.path.realpath(c.__file__))",
        ],
        60,
    )
    details["subprocess_child_module"] = probe["stdout"].strip() or probe["stderr"].strip()[-300:]
    details["temporalkit_from_this_tree"] &= details["subprocess_child_module"].startswith(str(ROOT) + os.sep)
    run.environment.update(
        {
            k: details[k]
            for k in (
                "python",
                "torch",
                "torchvision",
                "torch_cuda",
                "cudnn",
                "cpu_count",
                "temporalkit_realpath",
                "cv2_version",
                "av_version",
                "libcst_version",
            )
        }
    )
    if not details["cuda_available"]:
        try:
            pick_device("cuda")
            details["pick_cuda"] = "returned a device without CUDA (unexpected)"
        except ValueError as exc:
            details["pick_cuda"] = f"ValueError: {exc}"
        details["error"] = f"no CUDA: pick_device('auto') -> {details['auto_device']}"
        if not details["temporalkit_from_this_tree"]:
            details["error"] += (
                f"; temporalkit NOT from this tree: {details['temporalkit_realpath']}, {details['subprocess_child_module']}"
            )
            return "fail", details
        return "skip", details
    run.cuda = True
    properties = torch.cuda.get_device_properties(0)
    details.update(
        pick_cuda=str(pick_device("cuda")),
        device_count=torch.cuda.device_count(),
        device_name=torch.cuda.get_device_name(0),
        capability=".".join(map(str, torch.cuda.get_device_capability(0))),
        total_memory_gib=round(properties.total_memory / 2**30, 1),
        multiprocessors=properties.multi_processor_count,
    )
    try:
        details["nccl"] = ".".join(map(str, torch.cuda.nccl.version()))
    except Exception as exc:  # noqa: BLE001
        details["nccl"] = f"unavailable: {exc}"
    smi = (
        run_command(
            run,
            "nvidia-smi",
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            20,
        )
        if _which("nvidia-smi")
        else None
    )
    details["nvidia_smi"] = smi["stdout"].strip() if smi else "nvidia-smi not on PATH"
    run.environment.update({k: details[k] for k in ("device_name", "device_count", "nccl")})
    ok = details["auto_device"] == "cuda" and details["temporalkit_from_this_tree"]
    if not details["temporalkit_from_this_tree"]:
        details["error"] = (
            f"temporalkit imported from {details['temporalkit_realpath']} (subprocesses: "
            f"{details['subprocess_child_module']}), not from {ROOT}"
        )
    return ("pass" if ok else "fail"), details


def _which(name: str) -> bool:
    return shutil.which(name) is not None


# -- 2 models -----------------------------------------------------------------------------------


def _rel_diff(a, b) -> float:
    scale = max(float(a.abs().max()), float(b.abs().max()), 1e-6)
    return float((a - b).abs().max()) / scale


def check_models(run: Run):
    import torch
    from temporalkit.reference_models.registry import MODELS

    # fp32 comparison: no TF32 anywhere (legacy flags; torch 2.9+ also has fp32_precision, not mixed here)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    rows, failures = [], []
    for model_id, entry in MODELS.items():
        row = {"model": model_id}
        rows.append(row)
        start = time.monotonic()
        if run.left() < 60:
            row.update(status="skip", error="time budget", seconds=0.0)
            continue
        try:
            small = (8, 112) if entry.unsupported(8, 112) is None else (16, 224)
            row["small"] = f"{small[0]}x{small[1]} b1"

            def shape(batch, frames, size):
                return (
                    (batch, frames, 3, size, size) if entry.input_layout == "NTCHW" else (batch, 3, frames, size, size)
                )

            torch.manual_seed(0)
            model = entry.build(num_classes=400, frames=small[0], size=small[1]).eval()
            clip = torch.randn(shape(1, *small), generator=torch.Generator().manual_seed(1))
            with torch.inference_mode():
                cpu_logits = model(clip)
            row["cpu_finite"] = bool(torch.isfinite(cpu_logits).all())
            if run.cuda:
                with torch.inference_mode():
                    cuda_logits = model.cuda()(clip.cuda()).float().cpu()
                row["cuda_finite"] = bool(torch.isfinite(cuda_logits).all())
                row["cpu_vs_cuda_rel"] = _rel_diff(cpu_logits, cuda_logits)
                row["cpu_vs_cuda_abs"] = float((cpu_logits - cuda_logits).abs().max())
                del model
                reason = entry.unsupported(16, 224)
                if reason:
                    row["standard"] = f"unsupported: {reason}"
                else:
                    torch.cuda.reset_peak_memory_stats()
                    torch.manual_seed(0)
                    with torch.device("cuda"):
                        model = entry.build(num_classes=400, frames=16, size=224).eval()
                    batch = torch.randn(
                        shape(8, 16, 224), device="cuda", generator=torch.Generator("cuda").manual_seed(2)
                    )
                    with torch.inference_mode():
                        batch_logits = model(batch).float()
                        single_logits = model(batch[:1]).float()
                    torch.cuda.synchronize()
                    row["standard"] = "16x224 b8"
                    row["standard_finite"] = bool(torch.isfinite(batch_logits).all())
                    row["batch_vs_single_rel"] = _rel_diff(batch_logits[:1].cpu(), single_logits.cpu())
                    row["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
                    del model, batch
                torch.cuda.empty_cache()
            ok = row["cpu_finite"] and (
                not run.cuda
                or (
                    row["cuda_finite"]
                    and row["cpu_vs_cuda_rel"] <= REL_TOL
                    and row.get("standard_finite", True)
                    and row.get("batch_vs_single_rel", 0.0) <= REL_TOL
                )
            )
            row["status"] = "pass" if ok else "fail"
        except Exception as exc:  # noqa: BLE001 - next model
            row["status"] = "fail"
            row["error"] = f"{type(exc).__name__}: {exc}"[:500]
            if run.cuda:
                torch.cuda.empty_cache()
        row["seconds"] = round(time.monotonic() - start, 2)
        if row["status"] == "fail":
            failures.append(model_id)
    details = {"tolerance_rel": REL_TOL, "rows": rows}
    if run.cuda:
        worst = max((r for r in rows if "cpu_vs_cuda_rel" in r), key=lambda r: r["cpu_vs_cuda_rel"], default=None)
        details["worst_cpu_vs_cuda"] = worst and f"{worst['model']} {worst['cpu_vs_cuda_rel']:.2e}"
    if failures:
        details["error"] = f"failed: {', '.join(failures)}"
        return "fail", details
    if not run.cuda:
        details["error"] = f"no CUDA: CPU forward only ({len(rows)} models, all finite)"
        return "cpu-only", details
    return "pass", details


# -- 3 cost -------------------------------------------------------------------------------------


def _cost_rows(result: dict) -> list[dict] | None:
    try:
        return json.loads(result["stdout"])
    except (json.JSONDecodeError, ValueError):
        return None


def check_cost_cuda(run: Run):
    result = run_command(
        run,
        "cost_cuda",
        cli(
            "cost",
            "--model",
            "all",
            "--frames",
            "16",
            "--size",
            "224",
            "--device",
            "cuda",
            "--latency",
            "--format",
            "json",
        ),
        240,
    )
    details = brief(result, 800)
    if not run.cuda:
        details["error"] = f"no CUDA: CLI exited {result['rc']}: {last_lines(result['stderr'])}"
        return ("skip" if result["rc"] == 2 else "fail"), details
    rows = _cost_rows(result)
    if result["rc"] != 0 or rows is None:
        details["error"] = (
            f"exit {result['rc']}{' (timeout)' if result['timed_out'] else ''}: {last_lines(result['stderr'])}"
        )
        return "fail", details
    details["latency_ms"] = {
        r["model"]: (round(r["latency_ms"], 2) if r["latency_ms"] is not None else None) for r in rows
    }
    details["rows"] = [
        {k: r[k] for k in ("model", "gmacs", "params", "latency_ms", "latency_device", "error")} for r in rows
    ]
    bad = [r["model"] for r in rows if r["error"] is None and not str(r["latency_device"]).startswith("cuda")]
    errors = {r["model"]: r["error"] for r in rows if r["error"]}
    details["unsupported_or_error"] = errors
    if bad or any(not e.startswith(("s3d needs", "mvit in torchvision", "size ", "frames ")) for e in errors.values()):
        details["error"] = f"no CUDA latency for {bad}; errors {errors}"
        return "fail", details
    return "pass", details


def check_cost_cpu(run: Run, cuda_record: dict):
    # Without CUDA there is nothing to compare with: a smoke run of the CPU latency path on a cheap model.
    model, frames, size = (CPU_LATENCY_MODEL, "16", "224") if run.cuda else ("framepool_r18", "8", "112")
    result = run_command(
        run,
        "cost_cpu",
        cli(
            "cost",
            "--model",
            model,
            "--frames",
            frames,
            "--size",
            size,
            "--device",
            "cpu",
            "--latency",
            "--format",
            "json",
        ),
        180,
    )
    details = brief(result, 800)
    rows = _cost_rows(result)
    if result["rc"] != 0 or not rows or rows[0]["latency_ms"] is None:
        details["error"] = f"exit {result['rc']}: {(rows or [{}])[0].get('error') or last_lines(result['stderr'])}"
        return "fail", details
    details["model"] = f"{model} {frames}x{size}"
    details["cpu_latency_ms"] = round(rows[0]["latency_ms"], 2)
    if not run.cuda:
        details["error"] = f"no CUDA: CPU median at {frames}x{size} only (smoke run)"
        return "cpu-only", details
    cuda_ms = (cuda_record.get("details") or {}).get("latency_ms", {}).get(CPU_LATENCY_MODEL)
    if cuda_ms:
        details["cuda_latency_ms"] = cuda_ms
        details["cpu_over_cuda"] = round(rows[0]["latency_ms"] / cuda_ms, 1)
    return "pass", details


# -- 4 dynamic auditor under a memory limit -----------------------------------------------------


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


# -- 5 motion exercise ----------------------------------------------------------------------------


def _train_args(device: str, cuda: bool) -> list[str]:
    common = ["--model", "r2plus1d", "--frames", "8", "--size", "32", "--seed", "0", "--device", device]
    if cuda:  # the shipped checkpoint's recipe (6 epochs, 2000 videos): comparable accuracy
        return common + ["--epochs", "6"]
    return common + ["--epochs", "1", "--train-videos", "64", "--val-videos", "16", "--num-clips", "2"]  # CPU smoke run


def _run_record(directory: Path) -> dict:
    record = json.loads((directory / "run.json").read_text())
    return {
        "device": record["device"],
        "world_size": record["world_size"],
        "clip_accuracy": record["clip_accuracy"],
        "video_accuracy": record["video_accuracy"],
        "wall_time_s": round(record["wall_time_s"], 1),
        "epoch_seconds": [round(e["seconds"], 2) for e in record["epochs"]],
        "config": record["config"],
    }


def check_train(run: Run):
    out_dir = run.tmp / "train"
    result = run_command(
        run, "train", cli("train", *_train_args("cuda" if run.cuda else "cpu", run.cuda), "--out", str(out_dir)), 150
    )
    details = brief(result, 1200)
    if result["rc"] != 0:
        details["error"] = (
            f"exit {result['rc']}{' (timeout)' if result['timed_out'] else ''}: {last_lines(result['stderr'])}"
        )
        return "fail", details
    details.update(_run_record(out_dir))
    if not run.cuda:
        details["error"] = "no CUDA: 1-epoch CPU smoke run"
        return "cpu-only", details
    ok = details["device"].startswith("cuda")
    if not ok:
        details["error"] = f"trained on {details['device']}"
    return ("pass" if ok else "fail"), details


def check_shipped_checkpoint(run: Run):
    import torch
    from temporalkit.reference_models.motion_data import MotionDataConfig, generate_videos
    from temporalkit.reference_models.training import (
        MOTION_WEIGHTS,
        clip_indices,
        evaluate,
        load_checkpoint,
        predict_clips,
    )

    details: dict = {"checkpoint": str(MOTION_WEIGHTS)}
    results, centre_logits = {}, {}
    for device in ["cpu"] + (["cuda"] if run.cuda else []):
        classifier = load_checkpoint(MOTION_WEIGHTS, device=device)
        config = classifier.config
        if "val" not in details:
            val = generate_videos(
                config.val_videos,
                seed=config.seed + 1_000_003,
                config=MotionDataConfig(size=config.size, num_frames=config.video_frames),
            )
            details["val"] = f"{config.val_videos} videos, seed {config.seed + 1_000_003}"
            details["metadata_accuracy"] = {k: classifier.metadata.get(k) for k in ("clip_accuracy", "video_accuracy")}
        start = time.monotonic()
        result = evaluate(classifier.model, val.videos, val.labels, config.frames, config.num_clips, classifier.device)
        results[device] = {
            "clip_accuracy": result.clip_accuracy,
            "video_accuracy": result.video_accuracy,
            "device": str(classifier.device),
            "seconds": round(time.monotonic() - start, 2),
        }
        centre = clip_indices(config.video_frames, config.frames, 1)[0]
        centre_logits[device] = predict_clips(classifier.model, val.videos[:, centre], classifier.device)
    details["results"] = results
    expected = details["metadata_accuracy"]
    if not run.cuda:
        details["error"] = (
            f"no CUDA: CPU clip/video accuracy {results['cpu']['clip_accuracy']:.3f}/{results['cpu']['video_accuracy']:.3f}"
        )
        return "cpu-only", details
    details["cpu_vs_cuda_logits_abs"] = float((centre_logits["cpu"] - centre_logits["cuda"]).abs().max())
    details["prediction_agreement"] = float(
        (centre_logits["cpu"].argmax(-1) == centre_logits["cuda"].argmax(-1)).float().mean()
    )
    torch.cuda.empty_cache()
    cuda = results["cuda"]
    ok = all(
        abs(cuda[k] - expected[k]) <= 0.0041 for k in ("clip_accuracy", "video_accuracy") if expected[k] is not None
    )
    if not ok:
        details["error"] = f"CUDA accuracy {cuda} differs from the checkpoint's {expected}"
    return ("pass" if ok else "fail"), details


# -- 6 DDP ----------------------------------------------------------------------------------------


def check_torchrun_train(run: Run):
    out_dir = run.tmp / "torchrun_train"
    device = "cuda" if run.cuda else "cpu"
    args = [
        "--model",
        "r2plus1d",
        "--frames",
        "8",
        "--size",
        "32",
        "--epochs",
        "1",
        "--train-videos",
        "500" if run.cuda else "64",
        "--val-videos",
        "100" if run.cuda else "16",
        "--device",
        device,
        "--out",
        str(out_dir),
    ]
    result = run_command(run, "torchrun_train", torchrun(1, "-m", "temporalkit.cli", "train", *args), 150)
    details = brief(result, 1200)
    if result["rc"] != 0:
        details["error"] = f"exit {result['rc']}: {last_lines(result['stderr'])}"
        return "fail", details
    details.update(_run_record(out_dir))
    details["note"] = (
        "WORLD_SIZE=1 under --nproc_per_node=1: training.py makes no process group and no DDP "
        "(NCCL is not used); 6b exercises NCCL + DDP directly"
    )
    if not run.cuda:
        details["error"] = "no CUDA: CPU smoke run"
        return "cpu-only", details
    return ("pass" if details["device"].startswith("cuda") else "fail"), details


def check_ddp_smoke(run: Run):
    backend = "nccl" if run.cuda else "gloo"
    result_file = run.tmp / "ddp_worker"
    result = run_command(
        run,
        f"ddp_{backend}",
        torchrun(1, str(Path(__file__).resolve()), "--ddp-worker", "--backend", backend, "--result", str(result_file)),
        120,
    )
    details = brief(result, 1200)
    answer = Path(f"{result_file}.rank0")
    if answer.exists():
        details.update(json.loads(answer.read_text()))
    ok = result["rc"] == 0 and details.get("ok")
    if not ok:
        details["error"] = details.get("error") or f"exit {result['rc']}: {last_lines(result['stderr'])}"
        return "fail", details
    if not run.cuda:
        details["error"] = "no CUDA: DDP smoke run with gloo on CPU"
        return "cpu-only", details
    return "pass", details


def check_two_ranks_one_gpu(run: Run):
    if not run.cuda:
        return "skip", {"error": "no CUDA"}
    import torch

    args = [
        "--model",
        "r2plus1d",
        "--frames",
        "8",
        "--size",
        "32",
        "--epochs",
        "1",
        "--train-videos",
        "64",
        "--val-videos",
        "16",
        "--device",
        "cuda",
        "--out",
        str(run.tmp / "two_ranks"),
    ]
    result = run_command(run, "torchrun_2ranks", torchrun(2, "-m", "temporalkit.cli", "train", *args), 90)
    details = brief(result, 1500)
    details["gpus"] = torch.cuda.device_count()
    details["error_lines"] = [l for l in result["stderr"].splitlines() if "Error" in l or "error" in l][:8]
    details["clear_lines"] = sorted(
        {l[l.index("temporalkit train:") :].strip() for l in result["stderr"].splitlines() if "temporalkit train:" in l}
    )
    if details["gpus"] >= 2:
        return ("pass" if result["rc"] == 0 else "fail"), details
    deep = [l for l in result["stderr"].splitlines() if "invalid device ordinal" in l or "Duplicate GPU" in l]
    if result["rc"] == 0 or deep or not any("processes on this node" in l for l in details["clear_lines"]):
        details["error"] = (
            f"exit {result['rc']} with {details['gpus']} GPU(s): expected an early exit with one line naming the "
            f"cause; got {(deep or details['error_lines'])[-1:] or last_lines(result['stderr'])}"
        )
        return "fail", details
    return "pass", details


def ddp_worker(backend: str, result_path: str) -> int:
    """Run under torchrun: DDP around the tiny R(2+1)D, 3 steps, an all_reduce; writes RESULT.rankN."""
    import torch
    import torch.distributed as dist
    from temporalkit.reference_models.registry import build_tiny
    from torch import nn

    rank, local_rank, world = (int(os.environ.get(k, "0")) for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE"))
    info: dict = {"backend": backend, "rank": rank, "world_size": world, "ok": False}
    start = time.monotonic()
    try:
        device = torch.device("cuda", local_rank) if backend == "nccl" else torch.device("cpu")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend, device_id=device if device.type == "cuda" else None)
        info["backend_in_use"] = dist.get_backend()
        model = build_tiny("r2plus1d", num_classes=5, frames=8, size=32).to(device)
        ddp = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        optimizer = torch.optim.AdamW(ddp.parameters(), lr=1e-3)
        generator = torch.Generator(device=device).manual_seed(0)
        losses = []
        for _ in range(3):
            clips = torch.randn(4, 3, 8, 32, 32, device=device, generator=generator)
            labels = torch.randint(0, 5, (4,), device=device, generator=generator)
            loss = nn.functional.cross_entropy(ddp(clips), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(round(loss.item(), 4))
        total = torch.tensor([float(rank + 1)], device=device)
        dist.all_reduce(total)
        dist.barrier()
        info.update(
            losses=losses, all_reduce=total.item(), all_reduce_expected=world * (world + 1) / 2, device=str(device)
        )
        if device.type == "cuda":
            info["nccl"] = ".".join(map(str, torch.cuda.nccl.version()))
        info["ok"] = info["all_reduce"] == info["all_reduce_expected"] and all(math.isfinite(x) for x in losses)
    except Exception as exc:  # noqa: BLE001
        info["error"] = f"{type(exc).__name__}: {exc}"[:1000]
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    info["seconds"] = round(time.monotonic() - start, 2)
    Path(f"{result_path}.rank{rank}").write_text(json.dumps(info))
    print("DDP_WORKER", json.dumps(info), flush=True)
    return 0 if info["ok"] else 1


# -- output ---------------------------------------------------------------------------------------


def headline(record: dict) -> str:
    d, cid = record.get("details") or {}, record["id"]
    if record["status"] == "skip" or (record["error"] and record["status"] == "fail"):
        return str(record["error"]).replace("\n", " | ")[:160]
    if cid == "1":
        return f"{d.get('device_name')} x{d.get('device_count')}, torch {d.get('torch')} cuda {d.get('torch_cuda')} cudnn {d.get('cudnn')} nccl {d.get('nccl')}"
    if cid == "2":
        ok = sum(r.get("status") == "pass" for r in d.get("rows", []))
        return (
            f"{ok}/{len(d.get('rows', []))} models ok; worst cpu-vs-cuda {d.get('worst_cpu_vs_cuda')}"
            if record["status"] == "pass"
            else f"{ok}/{len(d.get('rows', []))} models ok; {record['error']}"
        )
    if cid == "3a":
        return f"{sum(v is not None for v in d.get('latency_ms', {}).values())} CUDA medians"
    if cid == "3b":
        versus = (
            f" vs CUDA {d['cuda_latency_ms']} ms: CPU/CUDA x{d.get('cpu_over_cuda')}"
            if d.get("cuda_latency_ms")
            else ""
        )
        return f"{d.get('model')} CPU {d.get('cpu_latency_ms')} ms{versus}"
    if cid == "4a1":
        cuda = d.get("child_cuda") or {}
        return (
            f"{d.get('memory_mb')} MB enforced as {d.get('mode')}; child CUDA {cuda.get('conv3d') or cuda.get('cuda_available')} "
            f"at {cuda.get('peak_rss_mb')} MB peak RSS (RLIMIT_AS {d.get('child_rlimit_as_mb')}); hog: "
            f"{str((d.get('objects') or {}).get('sample_hog', {}).get('error'))[:70]}"
        )
    if cid == "4a2":
        return "; ".join(
            f"RLIMIT_{p.get('rlimit')} {p['memory_mb']} MB: "
            + (p["error"][:50] if "error" in p else str(p.get("conv3d") or p.get("cuda_available")))
            for p in d.get("probes", [])
        )
    if cid.startswith("4b"):
        return (
            f"rc {d.get('rc')} in {d.get('seconds')} s, {d.get('findings')} findings ({d.get('dynamic_findings')} dynamic, "
            f"TK701 {d.get('tk701')}), {len(d.get('errors', []))} errors"
        )
    if cid.startswith("4c") and d.get("note"):
        return f"rc {d.get('rc')} in {d.get('seconds')} s, {d['note']}"
    if cid.startswith("4c"):
        return (
            f"rc {d.get('rc')} in {d.get('seconds')} s, TK621 {d.get('layout_check_ran')} on {d.get('tk621_device')}, child rlimit "
            f"{d.get('child_rlimit_mb')} MB, child CUDA init {d.get('child_cuda_initialized')} (max {d.get('child_cuda_max_memory')} B), "
            f"peak RSS {d.get('child_peak_rss_mb')} MB, transform calls {d.get('transform_calls')}"
        )
    if cid in ("5a", "6a"):
        return f"{d.get('device')} world {d.get('world_size')}: clip {d.get('clip_accuracy', float('nan')):.3f} video {d.get('video_accuracy', float('nan')):.3f} in {d.get('wall_time_s')} s"
    if cid == "5b":
        return (
            "  ".join(
                f"{k}: clip {v['clip_accuracy']:.3f} video {v['video_accuracy']:.3f}"
                for k, v in d.get("results", {}).items()
            )
            + f"  (checkpoint says {d.get('metadata_accuracy')})"
        )
    if cid == "6c":
        return f"rc {d.get('rc')} with {d.get('gpus')} GPU(s) in {d.get('seconds')} s: {str(record['error'] or (d.get('clear_lines') or ['ran'])[0])[:160]}"
    if cid == "6b":
        return f"{d.get('backend_in_use')} world {d.get('world_size')} all_reduce {d.get('all_reduce')} losses {d.get('losses')}"
    return str(record["error"] or "")[:160]


def markdown(document: dict) -> str:
    lines = ["# GPU check", "", f"`benchmarks/gpu_check.py`, {document['elapsed_s']} s.", ""]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in document["environment"].items()] + [""]
    lines += ["| check | status | s | result |", "|---|---|---:|---|"]
    for record in document["checks"]:
        lines.append(
            f"| {record['id']} {record['title']} | {record['status']} | {record['seconds']} | {headline(record).replace('|', '/')} |"
        )
    for record in document["checks"]:
        d = record.get("details") or {}
        if record["id"] == "2" and d.get("rows"):
            lines += [
                "",
                "## 2 models",
                "",
                "| model | status | small | cpu-cuda rel | standard | batch-single rel | peak GiB | s | error |",
                "|---|---|---|---:|---|---:|---:|---:|---|",
            ]
            for r in d["rows"]:
                rel = r.get("cpu_vs_cuda_rel")
                bat = r.get("batch_vs_single_rel")
                lines.append(
                    f"| {r['model']} | {r['status']} | {r.get('small', '')} | {'' if rel is None else f'{rel:.1e}'} | "
                    f"{r.get('standard', '')} | {'' if bat is None else f'{bat:.1e}'} | {r.get('peak_gib', '')} | {r['seconds']} | {r.get('error', '')} |"
                )
        if record["id"] == "3a" and d.get("rows"):
            lines += [
                "",
                "## 3a cost on CUDA, 16x224",
                "",
                "| model | GMACs | latency ms | device | note |",
                "|---|---:|---:|---|---|",
            ]
            for r in d["rows"]:
                gmacs = "" if r["gmacs"] is None else f"{r['gmacs']:.2f}"
                latency = "" if r["latency_ms"] is None else f"{r['latency_ms']:.2f}"
                lines.append(
                    f"| {r['model']} | {gmacs} | {latency} | {r['latency_device'] or ''} | {r['error'] or ''} |"
                )
        if record["id"].startswith("4b") and "errors" in d:
            lines += [
                "",
                f"## {record['id']} {record['title']}",
                "",
                f"`{d['command']}`: exit {d['rc']} in {d['seconds']} s, "
                f"{d['findings']} findings ({d['dynamic_findings']} dynamic), by rule {d['by_rule']}",
                "",
            ]
            lines += [f"- error: {error}" for error in d["errors"]] + [
                f"- stderr: {line}" for line in d["stderr_cuda_lines"]
            ]
        if record["id"].startswith("4c") and "child_events" in d:
            lines += [
                "",
                f"## {record['id']} {record['title']}",
                "",
                f"`{d['command']}`: exit {d['rc']} in {d['seconds']} s",
                "",
            ]
            lines += [f"- finding: {f}" for f in d.get("findings") or []] + [
                f"- error: {e}" for e in d.get("errors") or []
            ]
            lines += [f"- child: `{json.dumps(e)}`" for e in d["child_events"] if e["event"] not in ("calls", "rss")][
                :12
            ]
            lines += [f"- {note}" for note in d.get("cpu_notes") or []]
        if record["id"] == "4a1" and "objects" in d:
            lines += [
                "",
                f"## {record['id']} {record['title']}",
                "",
                f"limit {d['memory_mb']} MB enforced as `{d['mode']}` (NVIDIA GPU visible: {d['nvidia_gpu_visible']}); "
                f"{d['children']} child processes, RLIMIT_AS in them {d['child_rlimit_as_mb']}; {d['seconds']} s",
                "",
                f"- child CUDA: `{json.dumps(d['child_cuda'])}`",
            ]
            lines += [
                f"- {name}: {obj['error'] or 'checked'}; findings {obj['findings']}"
                for name, obj in d["objects"].items()
            ]
    lines += ["", "Full details: `gpu_check.json`; subprocess output: `logs.txt`.", ""]
    return "\n".join(lines)


def summary(run: Run) -> str:
    counts: dict[str, int] = {}
    for record in run.checks:
        counts[record["status"]] = counts.get(record["status"], 0) + 1
    lines = [
        "",
        "=" * 100,
        f"GPU CHECK SUMMARY ({time.monotonic() - run.started:.0f} s; "
        + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        + ")",
    ]
    lines += [f"  {k}: {v}" for k, v in run.environment.items()]
    for record in run.checks:
        lines.append(
            f"[{record['status'].upper():>8}] {record['id']:<3} {record['title']:<44} {record['seconds']:6.1f}s  {headline(record)}"
        )
        d = record.get("details") or {}
        if record["id"] == "2":
            for r in d.get("rows", []):
                if r.get("status") != "pass" or "cpu_vs_cuda_rel" in r:
                    lines.append(
                        f"      {r['model']:<22} {r.get('status')}: cpu-cuda {r.get('cpu_vs_cuda_rel', float('nan')):.1e} "
                        f"batch-single {r.get('batch_vs_single_rel', float('nan')):.1e} peak {r.get('peak_gib')} GiB {r.get('error', '')}"
                    )
        if record["id"] == "3a" and d.get("latency_ms"):
            lines.append("      " + ", ".join(f"{m} {v}" for m, v in d["latency_ms"].items()))
        if record["id"].startswith("4b"):
            for error in d.get("errors", [])[:4]:
                lines.append(f"      error: {error[:160]}")
            for line in d.get("stderr_cuda_lines", [])[:3]:
                lines.append(f"      stderr: {line[:160]}")
        if record["id"].startswith("4c"):
            for event in [
                e for e in d.get("child_events", []) if e["event"] not in ("calls", "cuda_memory", "import", "rss")
            ][:3]:
                lines.append(f"      child: {json.dumps(event)[:240]}")
            for error in (d.get("errors") or [])[:2]:
                lines.append(f"      error: {error[:240]}")
        if record["id"] == "4a1":
            lines.append(f"      child CUDA: {json.dumps(d.get('child_cuda'))[:300]}")
            for name, obj in (d.get("objects") or {}).items():
                lines.append(f"      {name}: {json.dumps(obj)[:300]}")
        if record["id"] == "4a2":
            for probe in d.get("probes", []):
                lines.append(f"      {json.dumps(probe)[:300]}")
        if record["status"] in ("fail", "info") and record["error"] and record["id"] not in ("2",):
            lines.append(f"      => {str(record['error'])[:500]}")
    lines.append(f"wrote {run.out / 'gpu_check.json'}, gpu_check.md, logs.txt (and audit_*.json) in {run.out}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default=str(ROOT / "outputs" / "gpu_check"), help="output directory (default: outputs/gpu_check)"
    )
    parser.add_argument(
        "--budget-s", type=float, default=330.0, help="overall time budget in seconds; later checks are skipped past it"
    )
    parser.add_argument("--skip", default="", help="comma-separated check ids (or prefixes) to skip, e.g. 4b,6c")
    parser.add_argument("--ddp-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="nccl", help=argparse.SUPPRESS)
    parser.add_argument("--result", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ddp_worker:
        return ddp_worker(args.backend, args.result)

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)
    run = Run(out, args.budget_s, {s.strip() for s in args.skip.split(",") if s.strip()})
    print(f"gpu_check: tree {ROOT}, python {sys.executable}, out {out}, budget {args.budget_s:.0f} s", flush=True)
    run.check("1", "device selection", check_device, run, min_s=1)
    background = start_background(run)
    run.check("4a1", "runner memory limit (auto): CUDA, hog, next", check_memory_limit, run, min_s=20)
    run.check("4a2", "raw RLIMIT_AS / RLIMIT_DATA + CUDA (info)", check_raw_rlimits, run, min_s=15)
    run.check("2", "registry models: CPU vs CUDA, 16x224 b8", check_models, run, min_s=30)
    cost_cuda = run.check("3a", "temporalkit cost --device cuda --latency", check_cost_cuda, run, min_s=20)
    run.check("5a", "temporalkit train r2plus1d (motion)", check_train, run, min_s=30)
    run.check("5b", "shipped motion checkpoint on CUDA", check_shipped_checkpoint, run, min_s=10)
    run.check("6a", "torchrun --nproc_per_node=1 train", check_torchrun_train, run, min_s=30)
    run.check("6b", "NCCL + DDP smoke (torchrun, 1 rank)", check_ddp_smoke, run, min_s=20)
    run.check("6c", "torchrun --nproc_per_node=2 on 1 GPU: one line", check_two_ranks_one_gpu, run, min_s=30)
    # Collected last so that they ran meanwhile; a negative budget just means wait(5 s) then kill.
    run.check(
        "4b1",
        "audit --dynamic examples/pipelines (auto)",
        check_audit,
        run,
        "default",
        background.get("audit_default"),
        min_s=0,
    )
    run.check("4b2", "audit --dynamic --memory-mb 0", check_audit, run, "mem0", background.get("audit_mem0"), min_s=0)
    run.check(
        "4c1",
        "layout+motion probe, default limit (auto)",
        check_probe,
        run,
        "default",
        background.get("probe_default"),
        min_s=0,
    )
    run.check(
        "4c2", "layout+motion probe, --memory-mb 0", check_probe, run, "mem0", background.get("probe_mem0"), min_s=0
    )
    run.check(
        "4c3",
        "motion-only probe (no family), default",
        check_probe,
        run,
        "motion",
        background.get("probe_motion"),
        False,
        min_s=0,
    )
    run.check("3b", "cost --device cpu --latency, one model", check_cost_cpu, run, cost_cuda, min_s=15)
    for command in background.values():  # anything still running past the budget
        if command.process.poll() is None:
            command.wait(1)
    run.write()
    print(summary(run), flush=True)
    shutil.rmtree(run.tmp, ignore_errors=True)
    return 0 if all(r["status"] != "fail" for r in run.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
