"""5a/5b motion exercise: `temporalkit train` r2plus1d, and the shipped checkpoint on CUDA and CPU."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .common import Run, brief, cli, last_lines, run_command


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
