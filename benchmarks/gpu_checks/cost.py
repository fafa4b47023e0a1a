"""3a/3b cost: `temporalkit cost --device cuda --latency`, and the CPU median of one model for a ratio."""

from __future__ import annotations

import json

from .common import Run, brief, cli, last_lines, run_command

CPU_LATENCY_MODEL = "r2plus1d_r18"


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
