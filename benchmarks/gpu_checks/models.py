"""2 models: every registry model, CPU vs CUDA logits on the same weights and clip; 16x224 batch 8 on CUDA."""

from __future__ import annotations

import time

from .common import Run

REL_TOL = 1e-3  # CPU vs CUDA (and batch vs single) logits, relative to the largest |logit|


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
