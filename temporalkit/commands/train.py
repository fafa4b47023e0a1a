"""`temporalkit train`: train a reference model on moving balls, or compare all four families.

Under `torchrun --nproc_per_node=N -m temporalkit.cli train ...` the same command trains with
DistributedDataParallel (see `temporalkit.reference_models.training`): on CUDA, N must not exceed
the visible GPUs (each process exits 2 with one line saying so); `--device cpu` uses Gloo.
"""

from __future__ import annotations

import argparse
import os
import sys

from temporalkit.reference_models.families import TINY_FAMILIES as FAMILIES  # standard library only

HELP = "Train a tiny reference model on the moving-ball motion task, or --compare the four families."
EXAMPLE = "temporalkit train --model r2plus1d --frames 8 --size 32 --epochs 6 --seed 0 --out runs/r2plus1d"
# Where --compare writes without --out: a scratch folder (git-ignored), never the committed outputs/.
COMPARE_OUT = "runs/compare"

# The defaults of `training.TrainConfig`, repeated here so that `temporalkit --help` does not import
# torch; tests/test_motion.py keeps them equal.
DEFAULTS = {
    "model": "r2plus1d",
    "frames": 8,
    "size": 32,
    "epochs": 6,
    "seed": 0,
    "batch_size": 32,
    "lr": 2e-3,
    "train_videos": 2000,
    "val_videos": 250,
    "video_frames": 16,
    "num_clips": 4,
    "device": "auto",
}


def _tiny_family(name: str) -> str:
    """Any family spelling `Family.parse` accepts, as the name of its tiny builder (`3d_conv` -> `i3d`)."""
    from temporalkit.reference_models.families import Family

    try:
        return Family.parse(name).tiny_name
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=_tiny_family,
        choices=FAMILIES,
        default=DEFAULTS["model"],
        help="model family, any spelling of `temporalkit cost` or the picker (3d_conv = i3d, 2plus1d = r2plus1d, "
        "2d_pool = framepool, temporal_shift = tsm) (default: %(default)s)",
    )
    parser.add_argument(
        "--frames", type=int, default=DEFAULTS["frames"], help="T, frames per clip (default: %(default)s)"
    )
    parser.add_argument("--size", type=int, default=DEFAULTS["size"], help="frame side in px (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=DEFAULTS["epochs"], help="(default: %(default)s)")
    parser.add_argument(
        "--seed", type=int, default=DEFAULTS["seed"], help="data and initialisation seed (default: %(default)s)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULTS["batch_size"], help="per process (default: %(default)s)"
    )
    parser.add_argument(
        "--lr", type=float, default=DEFAULTS["lr"], help="peak AdamW learning rate (default: %(default)s)"
    )
    parser.add_argument("--train-videos", type=int, default=DEFAULTS["train_videos"], help="(default: %(default)s)")
    parser.add_argument("--val-videos", type=int, default=DEFAULTS["val_videos"], help="(default: %(default)s)")
    parser.add_argument(
        "--video-frames",
        type=int,
        default=DEFAULTS["video_frames"],
        help="frames per video, >= --frames (default: %(default)s)",
    )
    parser.add_argument(
        "--num-clips",
        type=int,
        default=DEFAULTS["num_clips"],
        help="clips per video for video-level accuracy (default: %(default)s)",
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default=DEFAULTS["device"],
        help="(default: %(default)s: CUDA when present)",
    )
    parser.add_argument("--out", metavar="DIR", help="write checkpoint.pt and run.json into DIR")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="train all four families with the same budget; write motion_results.json/.md and "
        f"motion_accuracy_vs_gmacs.png into --out (default: {COMPARE_OUT}; the committed outputs/ only "
        "when asked for with --out outputs)",
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")


def _config_kwargs(args: argparse.Namespace) -> dict:
    return {
        "model": args.model,
        "frames": args.frames,
        "size": args.size,
        "epochs": args.epochs,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "train_videos": args.train_videos,
        "val_videos": args.val_videos,
        "video_frames": args.video_frames,
        "num_clips": args.num_clips,
        "device": args.device,
    }


def _print_epoch(model: str):
    def on_epoch(entry) -> None:
        print(
            f"{model} epoch {entry.epoch}: loss {entry.train_loss:.3f}  train acc {entry.train_accuracy:.3f}  "
            f"val clip acc {entry.val_clip_accuracy:.3f}  ({entry.seconds:.1f}s)",
            flush=True,
        )

    return on_epoch


def run(args: argparse.Namespace) -> int:
    from temporalkit.extras import require

    require("models", "temporalkit train")
    import torch

    from temporalkit.reference_models.training import TrainConfig, train

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.compare:
            from temporalkit.reference_models.motion_compare import run_comparison

            kwargs = _config_kwargs(args)
            kwargs.pop("model")
            result = run_comparison(
                TrainConfig(**kwargs), out_dir=args.out or COMPARE_OUT, on_epoch=_print_epoch, log=print
            )
            for path in result.written:
                print(f"wrote {path}")
            return 0
        config = TrainConfig(**_config_kwargs(args), out_dir=args.out)
        record = train(config, on_epoch=_print_epoch(config.model))
    except (ValueError, FileNotFoundError) as exc:
        print(f"temporalkit train: {exc}", file=sys.stderr)
        return 2
    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    print(
        f"{config.model}: clip-level accuracy {record.clip_accuracy:.3f}, video-level accuracy "
        f"{record.video_accuracy:.3f} ({record.parameters} parameters, {record.wall_time_s:.1f}s on {record.device}, "
        f"world size {record.world_size})"
    )
    if record.checkpoint:
        print(f"wrote {record.checkpoint}")
        print(f"wrote {record.record}")
    return 0
