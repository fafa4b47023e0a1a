"""6a-6c DDP: torchrun train, the NCCL + DDP smoke worker (run by torchrun as benchmarks/gpu_check.py
--ddp-worker, which calls ddp_worker), and two ranks on one GPU."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

from .common import ENTRY, Run, brief, last_lines, run_command, torchrun
from .motion import _run_record


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
        torchrun(1, str(ENTRY), "--ddp-worker", "--backend", backend, "--result", str(result_file)),
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
