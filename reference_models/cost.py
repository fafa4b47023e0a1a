"""Measured compute cost of the registry's models: GMACs, GFLOPs, parameters, optional latency.

Counting runs a forward pass under `torch.utils.flop_counter.FlopCounterMode`, by default on the
`meta` device: tensors there have shapes but no storage, so even swin3d_b at 32x224^2 costs no
memory and well under a second. FlopCounterMode counts 2 FLOPs per multiply-accumulate for
matmul/conv/attention; torchvision's published `_ops` is in GMACs (fvcore's convention, where one
multiply-add counts as one operation), so `gmacs = flops / 2 / 1e9` and `gflops = 2 * gmacs`.
With that convention we reproduce `_ops` of every torchvision video model to within 0.01 %.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

from temporalkit.reference_models.registry import MODELS, PUBLISHED_ONLY

LATENCY_WARMUP = 2
LATENCY_RUNS = 5


@dataclass
class CostRow:
    """One line of the cost table; `error` holds the reason when the model cannot run this input."""

    model: str
    family: str
    frames: int
    size: int
    gmacs: float | None = None
    gflops: float | None = None
    params: int | None = None
    latency_ms: float | None = None
    latency_device: str | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _input_shape(layout: str, frames: int, size: int) -> tuple[int, ...]:
    if layout == "NTCHW":
        return (1, frames, 3, size, size)
    return (1, 3, frames, size, size)


def _build(entry, num_classes: int, frames: int, size: int, device):
    import torch

    with torch.device(device):
        model = entry.build(num_classes=num_classes, frames=frames, size=size)
    return model.eval()


def _count_flops(model, shape, device) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    clip = torch.zeros(shape, device=device)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(clip)
    return counter.get_total_flops()


def _median_latency_ms(model, shape, device) -> float:
    import torch

    clip = torch.randn(shape, device=device)
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    with torch.inference_mode():
        for run in range(LATENCY_WARMUP + LATENCY_RUNS):
            synchronize()
            start = time.perf_counter()
            model(clip)
            synchronize()
            if run >= LATENCY_WARMUP:
                times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _error_line(exc: BaseException) -> str:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first_line}"[:300]


def measure_cost(
    model_id: str,
    frames: int,
    size: int,
    device: str = "meta",
    latency: bool = False,
    num_classes: int = 400,
) -> CostRow:
    """Count GMACs/params of `model_id` on a 1-clip batch of `frames` x `size`^2 RGB frames.

    `device` is where counting runs: "meta" (default; no memory, no weights), "cpu", "cuda" or
    "auto". Counts do not depend on it. With `latency=True` the median wall time of
    LATENCY_RUNS forward passes (after LATENCY_WARMUP) of a randomly initialised model is measured
    on `device`, or on CUDA/CPU (`pick_device("auto")`) when `device` is "meta".
    Configurations the model cannot run come back with `error` set, never as an exception.
    """
    entry = MODELS.get(model_id)
    if entry is None and model_id in PUBLISHED_ONLY:
        paper = PUBLISHED_ONLY[model_id]
        return CostRow(
            model_id,
            "?",
            frames,
            size,
            error=f"published-only (not measured): {paper.gmacs:g} GMACs at {paper.frames}x{paper.size} per "
            f"{paper.source}",
        )
    if entry is None:
        return CostRow(model_id, "?", frames, size, error=f"unknown model {model_id!r}; known: {', '.join(MODELS)}")
    row = CostRow(entry.id, entry.family, frames, size)
    reason = entry.unsupported(frames, size)
    if reason:
        row.error = reason
        return row

    import torch
    from temporalkit.reference_models.device import pick_device

    try:
        count_device = torch.device("meta") if device == "meta" else pick_device(device)
        shape = _input_shape(entry.input_layout, frames, size)
        model = _build(entry, num_classes, frames, size, count_device)
        row.params = sum(p.numel() for p in model.parameters())
        flops = _count_flops(model, shape, count_device)
        row.gmacs = flops / 2 / 1e9
        row.gflops = flops / 1e9
        if latency:
            latency_device = pick_device("auto") if count_device.type == "meta" else count_device
            if latency_device != count_device:
                model = _build(entry, num_classes, frames, size, latency_device)
            row.latency_ms = _median_latency_ms(model, shape, latency_device)
            row.latency_device = str(latency_device)
    except (RuntimeError, ValueError, TypeError, AssertionError, NotImplementedError) as exc:
        row.error = _error_line(exc)
    return row


def cost_table(
    model_ids,
    frames: int,
    size: int,
    device: str = "meta",
    latency: bool = False,
) -> list[CostRow]:
    """`measure_cost` for each id in `model_ids` ("all" or ["all"] means every registry model)."""
    if model_ids == "all" or list(model_ids) == ["all"]:
        model_ids = list(MODELS)
    return [measure_cost(model_id, frames, size, device=device, latency=latency) for model_id in model_ids]


def format_table(rows: list[CostRow]) -> str:
    """Plain-text table, one line per model; unsupported configurations show their reason."""
    headers = ("model", "family", "frames", "size", "GMACs", "GFLOPs", "params (M)", "latency ms")
    cells = []
    for row in rows:
        cells.append([row.model, row.family, str(row.frames), str(row.size)])
        if row.error:
            cells[-1].append(f"-- {row.error}")
            continue
        latency = "" if row.latency_ms is None else f"{row.latency_ms:.1f} ({row.latency_device})"
        cells[-1] += [f"{row.gmacs:.3f}", f"{row.gflops:.3f}", f"{row.params / 1e6:.2f}", latency]
    widths = [len(header) for header in headers]
    for line in cells:
        if len(line) == len(headers):
            widths = [max(width, len(cell)) for width, cell in zip(widths, line)]
        else:
            widths[:4] = [max(width, len(cell)) for width, cell in zip(widths[:4], line[:4])]
    out = ["  ".join(header.ljust(width) for header, width in zip(headers, widths)).rstrip()]
    for line in cells:
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    return "\n".join(out)


def format_markdown(rows: list[CostRow]) -> str:
    """Markdown table of `rows` (used for outputs/cost_table.md)."""
    out = [
        "| model | family | frames | size | GMACs | GFLOPs | params (M) | latency ms | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        if row.error:
            out.append(f"| {row.model} | {row.family} | {row.frames} | {row.size} | | | | | {row.error} |")
            continue
        latency = "" if row.latency_ms is None else f"{row.latency_ms:.1f} ({row.latency_device})"
        out.append(
            f"| {row.model} | {row.family} | {row.frames} | {row.size} | {row.gmacs:.3f} | {row.gflops:.3f} "
            f"| {row.params / 1e6:.2f} | {latency} | |"
        )
    return "\n".join(out)


# The configurations of outputs/cost_table.{json,md}: every model at these inputs.
TABLE_CONFIGS = tuple((frames, size) for frames in (8, 16, 32) for size in (112, 224))


def published_check_rows() -> list[dict]:
    """Measured GMACs vs torchvision's `_ops` for each torchvision model at its declared input."""
    from temporalkit.reference_models.registry import TORCHVISION

    checks = []
    for model_id in TORCHVISION:
        size = 112 if model_id in ("r3d_18", "mc3_18", "r2plus1d_18") else 224
        row = measure_cost(model_id, 16, size)
        published = MODELS[model_id].published
        checks.append(
            {
                "model": model_id,
                "frames": 16,
                "size": size,
                "measured_gmacs": row.gmacs,
                "published_gmacs": published["gmacs"],
                "relative_difference": (row.gmacs - published["gmacs"]) / published["gmacs"],
                "measured_params": row.params,
                "published_params": published["params"],
                "kinetics400_acc1": published["acc1"],
            }
        )
    return checks


def paper_check_rows() -> list[dict]:
    """Measured GMACs vs the published figure of each model we build that has one (at its published clip).

    Models whose published dataset has 600 classes (Kinetics-600) are built with a 600-way head so
    that parameter counts compare too; the head changes GMACs by far less than 0.1 %.
    """
    checks = []
    for model_id, entry in MODELS.items():
        paper = entry.paper
        if paper is None:
            continue
        num_classes = 600 if paper.dataset == "K600" else 400
        row = measure_cost(model_id, paper.frames, paper.size, num_classes=num_classes)
        checks.append(
            {
                "model": model_id,
                "frames": paper.frames,
                "size": paper.size,
                "measured_gmacs": row.gmacs,
                "published_gmacs": paper.gmacs,
                "relative_difference": None if row.gmacs is None else (row.gmacs - paper.gmacs) / paper.gmacs,
                "measured_params": row.params,
                "published_params_m": paper.params_m,
                "convention": paper.convention,
                "top1": paper.top1,
                "dataset": paper.dataset,
                "protocol": paper.protocol,
                "note": paper.note,
                "source": paper.source,
                "error": row.error,
            }
        )
    for model_id, paper in PUBLISHED_ONLY.items():
        checks.append(
            {
                "model": model_id,
                "frames": paper.frames,
                "size": paper.size,
                "measured_gmacs": None,
                "published_gmacs": paper.gmacs,
                "relative_difference": None,
                "measured_params": None,
                "published_params_m": paper.params_m,
                "convention": paper.convention,
                "top1": paper.top1,
                "dataset": paper.dataset,
                "protocol": paper.protocol,
                "note": "published-only: " + paper.note,
                "source": paper.source,
                "error": None,
            }
        )
    return checks


def write_cost_outputs(out_dir) -> list[str]:
    """Write cost_table.json and cost_table.md (all models x TABLE_CONFIGS, meta device) atomically."""
    import json
    from pathlib import Path

    from temporalkit.fileio import write_atomic

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [row for frames, size in TABLE_CONFIGS for row in cost_table("all", frames, size)]
    checks = published_check_rows()
    paper_checks = paper_check_rows()
    document = {
        "command": "python -m temporalkit.reference_models.cost --write outputs",
        "device": "meta",
        "convention": "gmacs = FlopCounterMode FLOPs / 2 / 1e9 (torchvision _ops convention); gflops = 2 * gmacs",
        "rows": [row.to_dict() for row in rows],
        "torchvision_published_check": checks,
        "paper_published_check": paper_checks,
    }
    markdown = [
        "# Cost table",
        "",
        "Generated by `python -m temporalkit.reference_models.cost --write outputs` (meta device,",
        "batch of one clip, randomly initialised models, 400 classes). GMACs follow torchvision's `_ops`",
        "convention (one multiply-add = one op); GFLOPs = 2 x GMACs. TimeSformer rows use the",
        "TimeSformer-Base size (ViT-B/16).",
        "",
        "## Check against torchvision's published `_ops`",
        "",
        "| model | input | measured GMACs | published `_ops` | difference | params | K400 acc@1 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for check in checks:
        markdown.append(
            f"| {check['model']} | 16x{check['size']}^2 | {check['measured_gmacs']:.3f} | {check['published_gmacs']:.3f} "
            f"| {100 * check['relative_difference']:+.4f} % | {check['measured_params']:,} | {check['kinetics400_acc1']} |"
        )
    markdown += [
        "",
        "## Check against the papers' published figures",
        "",
        "Papers that write 'GFLOPs' mostly count one multiply-add as one FLOP (fvcore); `convention` says",
        "what each source wrote. Accuracy is top-1 % under the protocol shown (frames x side, clips x crops).",
        "",
        "| model | input | measured GMACs | published GMACs | difference | params (M) | top-1 | protocol | note |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for check in paper_checks:
        measured = "" if check["measured_gmacs"] is None else f"{check['measured_gmacs']:.3f}"
        difference = "" if check["relative_difference"] is None else f"{100 * check['relative_difference']:+.1f} %"
        params = "" if check["measured_params"] is None else f"{check['measured_params'] / 1e6:.2f}"
        top1 = "" if check["top1"] is None else f"{check['top1']} ({check['dataset']})"
        markdown.append(
            f"| {check['model']} | {check['frames']}x{check['size']}^2 | {measured} | {check['published_gmacs']:.2f} "
            f"| {difference} | {params} | {top1} | {check['protocol']} | {check['note']} |"
        )
    for frames, size in TABLE_CONFIGS:
        markdown += ["", f"## {frames} frames x {size}^2", ""]
        markdown.append(format_markdown([row for row in rows if (row.frames, row.size) == (frames, size)]))
    written = []
    for name, text in (
        ("cost_table.json", json.dumps(document, indent=2) + "\n"),
        ("cost_table.md", "\n".join(markdown) + "\n"),
    ):
        path = out_dir / name
        write_atomic(path, text)
        written.append(str(path))
    return written


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write outputs/cost_table.{json,md}.")
    parser.add_argument("--write", metavar="DIR", required=True, help="output directory (e.g. outputs)")
    for written_path in write_cost_outputs(parser.parse_args().write):
        print(f"wrote {written_path}")
