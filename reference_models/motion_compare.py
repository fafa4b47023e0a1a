"""The motion exercise: four reference families trained with one budget on moving balls (TSM is not compared).

`run_comparison(config)` trains framepool, i3d, r2plus1d and transformer with the same data,
epochs, clip length and size, and writes into `out_dir`:

    motion_results.json            every run record, the tiny models' GMACs, the FLOPs exercise, wall time
    motion_results.md              the table
    motion_accuracy_vs_gmacs.png   accuracy against compute (matplotlib, Agg)

Per-model checkpoints go to `out_dir/cache/motion/<family>/` (not committed).

`flops_exercise()` is the other half of the lesson: FramePool and an I3D-style inflated ResNet-18
share the same 2D backbone, but the inflated one convolves over time at every layer, so at T=8 and
224 px it costs about the kernel's temporal extent times more (measured by `measure_cost`).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from temporalkit.reference_models.motion_data import CLASS_NAMES
from temporalkit.reference_models.training import (
    EpochRecord,
    RunRecord,
    TrainConfig,
    build_model,
    train,
)

from temporalkit.fileio import atomic_output, write_atomic

FLOPS_EXERCISE_MODELS = ("framepool_r18", "i3d_r18")
# The families `temporalkit train --compare` trains (outputs/motion_results.* were made with these);
# the tiny TSM (`--model tsm`) trains on its own but is not part of the recorded comparison.
COMPARED_FAMILIES = ("framepool", "i3d", "r2plus1d", "transformer")


@dataclass
class ComparisonResult:
    runs: dict[str, RunRecord]
    tiny_gmacs: dict[str, float]
    flops_exercise: dict
    wall_time_s: float
    written: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "task": {
                "classes": list(CLASS_NAMES),
                "chance": 1 / len(CLASS_NAMES),
                "description": "synthetic moving balls; every single frame is class-independent",
            },
            "wall_time_s": self.wall_time_s,
            "runs": {family: record.to_dict() for family, record in self.runs.items()},
            "tiny_gmacs_per_clip": self.tiny_gmacs,
            "flops_exercise": self.flops_exercise,
        }


def tiny_gmacs(family: str, frames: int, size: int) -> float:
    """GMACs of one clip through the tiny model (FlopCounterMode on the meta device; MAC = FLOPs / 2,
    the convention of `cost.measure_cost`)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = build_model(family, len(CLASS_NAMES), frames, size).eval()
        layout = getattr(model, "input_layout", "NCTHW")
        shape = (1, frames, 3, size, size) if layout == "NTCHW" else (1, 3, frames, size, size)
        clip = torch.zeros(shape)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(clip)
    return counter.get_total_flops() / 2 / 1e9


def flops_exercise(frames: int = 8, size: int = 224) -> dict:
    """FramePool vs I3D-style ResNet-18 at full size: measured GMACs, parameters and their ratio."""
    from temporalkit.reference_models.cost import measure_cost

    rows = {model_id: measure_cost(model_id, frames, size) for model_id in FLOPS_EXERCISE_MODELS}
    framepool, i3d = (rows[model_id] for model_id in FLOPS_EXERCISE_MODELS)
    exercise = {model_id: row.to_dict() for model_id, row in rows.items()}
    if framepool.gmacs and i3d.gmacs:
        exercise["gmacs_ratio_i3d_over_framepool"] = i3d.gmacs / framepool.gmacs
        exercise["params_ratio_i3d_over_framepool"] = i3d.params / framepool.params
    return exercise


def run_comparison(
    base: TrainConfig,
    out_dir: str | Path = "outputs",
    families: tuple[str, ...] = COMPARED_FAMILIES,
    on_epoch: Callable[[str], Callable[[EpochRecord], None]] | None = None,
    log: Callable[[str], None] | None = None,
) -> ComparisonResult:
    """Train every family of `families` with `base`'s budget (only `model` and `out_dir` change); write the results."""
    started = time.monotonic()
    out_dir = Path(out_dir)
    runs: dict[str, RunRecord] = {}
    for family in families:
        config = dataclasses.replace(base, model=family, out_dir=str(out_dir / "cache" / "motion" / family))
        runs[family] = train(config, on_epoch=on_epoch(family) if on_epoch else None)
        if log:
            record = runs[family]
            log(
                f"{family}: clip acc {record.clip_accuracy:.3f}, video acc {record.video_accuracy:.3f}, "
                f"{record.wall_time_s:.0f}s"
            )
    gmacs = {family: tiny_gmacs(family, base.frames, base.size) for family in families}
    result = ComparisonResult(runs, gmacs, flops_exercise(), time.monotonic() - started)
    result.written = write_results(result, out_dir)
    return result


def load_comparison(path: str | Path) -> ComparisonResult:
    """A `ComparisonResult` back from its `motion_results.json` (to redraw the table and plot)."""
    data = json.loads(Path(path).read_text())
    runs = {}
    for family, run in data["runs"].items():
        run = dict(run)
        run["epochs"] = [EpochRecord(**entry) for entry in run["epochs"]]
        runs[family] = RunRecord(**run)
    return ComparisonResult(runs, data["tiny_gmacs_per_clip"], data["flops_exercise"], data["wall_time_s"])


def _write_atomically(path: Path, text: str) -> None:
    write_atomic(path, text)


def results_markdown(result: ComparisonResult) -> str:
    any_run = next(iter(result.runs.values()))
    config = any_run.config
    chance = 1 / len(CLASS_NAMES)
    lines = [
        f"# Motion exercise: {len(CLASS_NAMES)} moving-ball classes (chance {chance:.0%})",
        "",
        f"Same budget for every model: {config['epochs']} epochs on {config['train_videos']} videos of "
        f"{config['video_frames']} frames, clips of T={config['frames']} at {config['size']}x{config['size']} px, "
        f"batch {config['batch_size']}, seed {config['seed']}; validation on {config['val_videos']} other videos. "
        f"Clip-level: the centre clip of each video; video-level: softmax averaged over {config['num_clips']} "
        "clips spread over the video (`sample_multi_clip_indices`).",
        "",
        "| model | clip-level acc | video-level acc | GMACs / clip | params | train time (s) | device |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for family, record in result.runs.items():
        lines.append(
            f"| {family} | {record.clip_accuracy:.3f} | {record.video_accuracy:.3f} | "
            f"{result.tiny_gmacs[family]:.4f} | {record.parameters:,} | {record.wall_time_s:.0f} | {record.device} |"
        )
    lines += ["", f"Whole comparison: {result.wall_time_s / 60:.1f} min wall time.", ""]
    exercise = result.flops_exercise
    ratio = exercise.get("gmacs_ratio_i3d_over_framepool")
    if ratio is not None:
        framepool, i3d = (exercise[model_id] for model_id in FLOPS_EXERCISE_MODELS)
        lines += [
            "## FLOPs exercise: FramePool vs I3D-style ResNet-18, T=8, 224x224",
            "",
            "| model | GMACs | params (M) |",
            "|---|---:|---:|",
            f"| framepool_r18 | {framepool['gmacs']:.2f} | {framepool['params'] / 1e6:.2f} |",
            f"| i3d_r18 | {i3d['gmacs']:.2f} | {i3d['params'] / 1e6:.2f} |",
            "",
            f"Measured ratio: I3D costs {ratio:.2f}x the GMACs of FramePool "
            f"({exercise['params_ratio_i3d_over_framepool']:.2f}x the parameters).",
            "",
        ]
    return "\n".join(lines)


def plot_accuracy_vs_gmacs(result: ComparisonResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    figure, axes = plt.subplots(figsize=(6, 4), dpi=120)
    for family, record in result.runs.items():
        gmacs = result.tiny_gmacs[family]
        axes.scatter([gmacs], [record.video_accuracy], s=60, label=f"{family} (video-level)")
        axes.scatter([gmacs], [record.clip_accuracy], s=25, marker="x", color="gray")
        axes.annotate(family, (gmacs, record.video_accuracy), textcoords="offset points", xytext=(5, 5))
    axes.axhline(1 / len(CLASS_NAMES), linestyle="--", color="red", linewidth=1, label="chance")
    axes.set_xscale("log")
    smallest, largest = min(result.tiny_gmacs.values()), max(result.tiny_gmacs.values())
    axes.set_xlim(smallest / 1.6, largest * 2.5)  # room for the labels of the end points
    axes.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_ylim(0, 1.12)
    axes.set_xlabel("GMACs per clip (tiny models)")
    axes.set_ylabel("validation accuracy")
    axes.set_title("Moving balls: accuracy vs compute (x = clip-level)")
    axes.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    try:
        with atomic_output(path) as temporary:
            figure.savefig(temporary)
    finally:
        plt.close(figure)


def write_results(result: ComparisonResult, out_dir: Path) -> list[str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "motion_results.json"
    markdown_path = out_dir / "motion_results.md"
    plot_path = out_dir / "motion_accuracy_vs_gmacs.png"
    _write_atomically(json_path, json.dumps(result.to_dict(), indent=2) + "\n")
    _write_atomically(markdown_path, results_markdown(result))
    plot_accuracy_vs_gmacs(result, plot_path)
    return [str(json_path), str(markdown_path), str(plot_path)]
