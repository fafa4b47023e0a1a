"""Output: one-line headlines, the markdown report (gpu_check.md) and the printed summary."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .common import Run


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
