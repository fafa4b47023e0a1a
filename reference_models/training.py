"""Train and evaluate the reference models on the moving-ball task (`motion_data`).

    record = train(TrainConfig(model="r2plus1d", frames=8, size=32, epochs=4, out_dir="runs/r2p1d"))
    record.video_accuracy, record.clip_accuracy

One process by default (CUDA when present, CPU otherwise). Launched by `torchrun` (`WORLD_SIZE` > 1)
the same call trains with DistributedDataParallel: NCCL on GPUs, Gloo on CPUs, a DistributedSampler
splitting the videos, and rank 0 alone evaluating and writing the checkpoint and the JSON record.

Evaluation follows the lesson's two numbers. The videos are longer than the clip (`video_frames` >
`frames`), so a single clip sees only part of each video:
    clip-level accuracy   one deterministic clip per video (the centre clip)
    video-level accuracy  softmax averaged over `num_clips` deterministic clips per video
Both take their frame indices from the reference sampler `sampling.sample_multi_clip_indices`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from temporalkit.reference_models.device import pick_device
from temporalkit.reference_models.motion_data import CLASS_NAMES, MotionDataConfig, generate_videos
from temporalkit.reference_models.registry import TINY_FAMILIES as FAMILIES
from torch import nn

from temporalkit.fileio import atomic_output, write_atomic

# Pixel normalisation of the moving-ball clips (uint8 -> roughly zero mean, unit spread).
PIXEL_MEAN = 0.5
PIXEL_STD = 0.25

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MOTION_WEIGHTS = WEIGHTS_DIR / "motion_r2plus1d.pt"
# How the shipped MOTION_WEIGHTS were made (it is also in the checkpoint's metadata["reproduce"]).
MOTION_REFERENCE_COMMAND = (
    "temporalkit train --model r2plus1d --frames 8 --size 32 --epochs 6 --seed 0 --threads 1 --out DIR"
)


@dataclass
class TrainConfig:
    """Everything a run depends on; saved verbatim in the checkpoint and the JSON record."""

    model: str = "r2plus1d"
    frames: int = 8  # T, frames per clip
    size: int = 32  # H = W
    epochs: int = 6
    seed: int = 0
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    train_videos: int = 2000
    val_videos: int = 250
    video_frames: int = 16  # frames per video; longer than `frames` so clip and video accuracy differ
    num_clips: int = 4  # clips per video for video-level accuracy
    out_dir: str | None = None  # checkpoint.pt and run.json go here when set
    device: str = "auto"  # "auto" (CUDA when present), "cpu" or "cuda"

    def __post_init__(self) -> None:
        if self.video_frames < self.frames:
            raise ValueError(f"video_frames ({self.video_frames}) must be >= frames ({self.frames})")
        if min(self.frames, self.size, self.epochs, self.batch_size, self.train_videos, self.num_clips) < 1:
            raise ValueError("frames, size, epochs, batch_size, train_videos and num_clips must be positive")


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_clip_accuracy: float
    seconds: float


@dataclass
class RunRecord:
    """What a run did and reached; `to_dict()` is the JSON record."""

    config: dict
    class_names: list[str]
    epochs: list[EpochRecord] = field(default_factory=list)
    clip_accuracy: float = float("nan")
    video_accuracy: float = float("nan")
    parameters: int = 0
    wall_time_s: float = 0.0
    device: str = "cpu"
    world_size: int = 1
    checkpoint: str | None = None
    record: str | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class EvalResult:
    clip_accuracy: float
    video_accuracy: float
    num_videos: int


def build_model(family: str, num_classes: int, frames: int, size: int) -> nn.Module:
    """The reference model of `family` at its tiny width, from the model registry."""
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; choose one of {', '.join(FAMILIES)}")
    from temporalkit.reference_models.registry import build_tiny

    return build_tiny(family, num_classes=num_classes, frames=frames, size=size)


def clip_indices(num_frames: int, frames: int, num_clips: int) -> torch.Tensor:
    """(num_clips, frames) deterministic frame indices from the reference multi-clip sampler."""
    from temporalkit.reference_models.sampling import sample_multi_clip_indices

    indices = sample_multi_clip_indices(num_frames, frames, num_clips)
    return torch.as_tensor([list(map(int, clip)) for clip in indices], dtype=torch.int64).view(num_clips, frames)


def to_model_input(clips: torch.Tensor, layout: str) -> torch.Tensor:
    """uint8 clips (N, T, 3, H, W) -> normalised float in the model's layout ("NTCHW" or "NCTHW")."""
    clips = (clips.float() / 255.0 - PIXEL_MEAN) / PIXEL_STD
    if layout == "NCTHW":
        return clips.permute(0, 2, 1, 3, 4).contiguous()
    if layout == "NTCHW":
        return clips
    raise ValueError(f"unknown input layout {layout!r}")


def input_layout(model: nn.Module) -> str:
    return getattr(getattr(model, "module", model), "input_layout", "NCTHW")


def random_windows(videos: torch.Tensor, frames: int, generator: torch.Generator) -> torch.Tensor:
    """A random window of `frames` consecutive frames from each video: (N, L, ...) -> (N, frames, ...).

    Training-time augmentation only; evaluation uses the deterministic reference sampler.
    """
    n, length = videos.shape[:2]
    # temporalkit: ignore[TK112] -- TrainConfig refuses video_frames < frames, so length >= frames here
    starts = torch.randint(0, length - frames + 1, (n, 1), generator=generator)
    index = starts + torch.arange(frames).view(1, frames)  # (N, T)
    return videos[torch.arange(n).view(n, 1), index]


def video_level_predictions(clip_logits: torch.Tensor) -> torch.Tensor:
    """(num_videos, num_clips, K) logits -> (num_videos,) class of the clip-averaged softmax."""
    return clip_logits.softmax(dim=-1).mean(dim=1).argmax(dim=-1)


@torch.no_grad()
def predict_clips(model: nn.Module, clips: torch.Tensor, device: torch.device, batch_size: int = 64) -> torch.Tensor:
    """Logits (N, K) for uint8 clips (N, T, 3, H, W)."""
    model.eval()
    layout = input_layout(model)
    outputs = [
        model(to_model_input(clips[start : start + batch_size], layout).to(device)).float().cpu()
        for start in range(0, clips.shape[0], batch_size)
    ]
    return torch.cat(outputs) if outputs else torch.zeros(0, len(CLASS_NAMES))


@torch.no_grad()
def evaluate(
    model: nn.Module,
    videos: torch.Tensor,
    labels: torch.Tensor,
    frames: int,
    num_clips: int,
    device: torch.device,
    batch_size: int = 64,
) -> EvalResult:
    """Clip-level (centre clip) and video-level (`num_clips` averaged) accuracy on uint8 videos (N, L, 3, H, W)."""
    n, length = videos.shape[:2]
    centre = clip_indices(length, frames, 1)[0]
    clip_logits = predict_clips(model, videos[:, centre], device, batch_size)
    windows = clip_indices(length, frames, num_clips)  # (C, T)
    multi = videos[:, windows.flatten()].view(n * num_clips, frames, *videos.shape[2:])
    multi_logits = predict_clips(model, multi, device, batch_size).view(n, num_clips, -1)
    clip_accuracy = (clip_logits.argmax(-1) == labels).float().mean().item() if n else float("nan")
    video_accuracy = (video_level_predictions(multi_logits) == labels).float().mean().item() if n else float("nan")
    return EvalResult(clip_accuracy, video_accuracy, n)


def check_one_gpu_per_process(local_rank: int, local_world_size: int) -> None:
    """NCCL wants a GPU of its own for each process of a node: say so in one line, before any
    process group is made, when torchrun started more processes than there are visible GPUs (else
    `cuda:LOCAL_RANK` fails deep in CUDA with "invalid device ordinal", or NCCL with a duplicate GPU)."""
    visible = torch.cuda.device_count()
    wanted = max(local_rank + 1, local_world_size)
    if wanted > visible:
        devices = f"{visible} CUDA device{'' if visible == 1 else 's'}"
        raise ValueError(
            f"{wanted} processes on this node (torchrun --nproc_per_node, this one LOCAL_RANK {local_rank}) but only {devices} "
            f"visible, and each process needs its own GPU; use --nproc_per_node <= {visible}, or --device cpu (Gloo)"
        )


class _Distributed:
    """The torchrun environment, or a single process when `WORLD_SIZE` is unset or 1."""

    def __init__(self, requested_device: str) -> None:
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.device = pick_device(requested_device)
        if self.world_size > 1:
            import torch.distributed as dist

            if self.device.type == "cuda":
                local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", str(self.local_rank + 1)))
                check_one_gpu_per_process(self.local_rank, local_world_size)
                self.device = torch.device("cuda", self.local_rank)
                torch.cuda.set_device(self.device)
            if not dist.is_initialized():
                dist.init_process_group(backend="nccl" if self.device.type == "cuda" else "gloo")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def all_sum(self, values: Sequence[float]) -> list[float]:
        if self.world_size == 1:
            return list(values)
        import torch.distributed as dist

        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def barrier(self) -> None:
        if self.world_size > 1:
            import torch.distributed as dist

            dist.barrier()

    def close(self) -> None:
        if self.world_size > 1:
            import torch.distributed as dist

            dist.destroy_process_group()


def train(
    config: TrainConfig,
    build: Callable[[str, int, int, int], nn.Module] = build_model,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    show_progress: bool = True,
) -> RunRecord:
    """Train `config.model` on moving balls, evaluate clip- and video-level accuracy, save what was asked.

    `build(family, num_classes, frames, size)` makes the model (default: the registry's tiny model).
    `on_epoch` is called on rank 0 after every epoch. Progress is drawn only on a terminal.
    """
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.distributed import DistributedSampler

    from temporalkit.term import progress

    started = time.monotonic()
    env = _Distributed(config.device)
    try:
        data_config = MotionDataConfig(size=config.size, num_frames=config.video_frames)
        # Every rank generates the same videos (same seed); the sampler splits them.
        train_set = generate_videos(config.train_videos, seed=config.seed, config=data_config)
        val_set = generate_videos(config.val_videos, seed=config.seed + 1_000_003, config=data_config)

        torch.manual_seed(config.seed)
        model = build(config.model, len(CLASS_NAMES), config.frames, config.size).to(env.device)
        layout = input_layout(model)
        parameters = sum(p.numel() for p in model.parameters())
        trained = model
        if env.world_size > 1:
            trained = nn.parallel.DistributedDataParallel(
                model, device_ids=[env.device.index] if env.device.type == "cuda" else None
            )

        dataset = TensorDataset(train_set.videos, train_set.labels)
        sampler = (
            DistributedSampler(dataset, num_replicas=env.world_size, rank=env.rank, shuffle=True, seed=config.seed)
            if env.world_size > 1
            else None
        )
        loader_generator = torch.Generator().manual_seed(config.seed)
        loader = DataLoader(
            dataset,
            batch_size=config.batch_size,
            shuffle=sampler is None,
            sampler=sampler,
            generator=loader_generator if sampler is None else None,
            drop_last=False,
        )
        window_generator = torch.Generator().manual_seed(config.seed * 7919 + env.rank)
        optimizer = torch.optim.AdamW(trained.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=config.epochs * len(loader), pct_start=0.15
        )

        record = RunRecord(
            config=dataclasses.asdict(config),
            class_names=list(CLASS_NAMES),
            parameters=parameters,
            device=str(env.device),
            world_size=env.world_size,
        )
        for epoch in range(1, config.epochs + 1):
            epoch_started = time.monotonic()
            if sampler is not None:
                sampler.set_epoch(epoch)
            trained.train()
            loss_sum, correct, seen = 0.0, 0.0, 0.0
            batches = loader
            if show_progress and env.is_main:
                batches = progress(loader, label=f"{config.model} epoch {epoch}/{config.epochs}")
            for videos, labels in batches:
                clips = random_windows(videos, config.frames, window_generator)
                inputs = to_model_input(clips, layout).to(env.device, non_blocking=True)
                labels = labels.to(env.device)
                logits = trained(inputs)
                loss = F.cross_entropy(logits, labels)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                loss_sum += loss.item() * labels.shape[0]
                correct += (logits.argmax(-1) == labels).sum().item()
                seen += labels.shape[0]
            loss_sum, correct, seen = env.all_sum([loss_sum, correct, seen])
            if env.is_main:
                centre = clip_indices(config.video_frames, config.frames, 1)[0]
                val_logits = predict_clips(model, val_set.videos[:, centre], env.device)
                val_clip_accuracy = (val_logits.argmax(-1) == val_set.labels).float().mean().item()
                entry = EpochRecord(
                    epoch=epoch,
                    train_loss=loss_sum / max(seen, 1),
                    train_accuracy=correct / max(seen, 1),
                    val_clip_accuracy=val_clip_accuracy,
                    seconds=time.monotonic() - epoch_started,
                )
                record.epochs.append(entry)
                if on_epoch is not None:
                    on_epoch(entry)
            env.barrier()

        if env.is_main:
            result = evaluate(model, val_set.videos, val_set.labels, config.frames, config.num_clips, env.device)
            record.clip_accuracy = result.clip_accuracy
            record.video_accuracy = result.video_accuracy
            record.wall_time_s = time.monotonic() - started
            if config.out_dir:
                out_dir = Path(config.out_dir)
                out_dir.mkdir(parents=True, exist_ok=True)
                record.checkpoint = str(out_dir / "checkpoint.pt")
                record.record = str(out_dir / "run.json")
                save_checkpoint(model, config, record, Path(record.checkpoint))
                _write_json_atomically(Path(record.record), record.to_dict())
        env.barrier()
        return record
    finally:
        env.close()


def save_checkpoint(model: nn.Module, config: TrainConfig, record: RunRecord, path: Path) -> None:
    """state_dict + config + class names + metadata, written atomically."""
    checkpoint = {
        "state_dict": {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()},
        "config": dataclasses.asdict(config),
        "class_names": list(CLASS_NAMES),
        "metadata": {
            "family": config.model,
            "input_layout": input_layout(model),
            "input": f"uint8 clips (N, {config.frames}, 3, {config.size}, {config.size}) normalised by "
            f"(x / 255 - {PIXEL_MEAN}) / {PIXEL_STD}",
            "clip_accuracy": record.clip_accuracy,
            "video_accuracy": record.video_accuracy,
            "parameters": record.parameters,
            "torch": str(torch.__version__),
            "reproduce": train_command(config),
        },
    }
    with atomic_output(path) as temporary:
        torch.save(checkpoint, temporary)


def _write_json_atomically(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2) + "\n")


def train_command(config: TrainConfig) -> str:
    """The `temporalkit train` command line that reproduces `config` (out_dir left to the user)."""
    return (
        f"temporalkit train --model {config.model} --frames {config.frames} --size {config.size} "
        f"--epochs {config.epochs} --seed {config.seed} --batch-size {config.batch_size} --lr {config.lr} "
        f"--train-videos {config.train_videos} --video-frames {config.video_frames}"
    )


@dataclass
class MotionClassifier:
    """A trained motion model with what is needed to feed it: `predict(clips)` takes uint8 (N, T, 3, H, W)."""

    model: nn.Module
    config: TrainConfig
    class_names: tuple[str, ...]
    metadata: dict
    device: torch.device

    @property
    def frames(self) -> int:
        return self.config.frames

    @property
    def size(self) -> int:
        return self.config.size

    def logits(self, clips: torch.Tensor) -> torch.Tensor:
        return predict_clips(self.model, clips, self.device)

    def predict(self, clips: torch.Tensor) -> torch.Tensor:
        """(N,) class indices into `class_names`."""
        return self.logits(clips).argmax(-1)


def load_checkpoint(
    path: str | Path,
    device: str = "cpu",
    build: Callable[[str, int, int, int], nn.Module] = build_model,
) -> MotionClassifier:
    """Rebuild the model a `train` checkpoint was saved from and load its weights (eval mode).

    Read and loaded by `weights.read_checkpoint` / `load_weights`, the reference models' one loader:
    a missing file is a one-line `WeightsNotFoundError`, and every key must fit (no head skipped).
    """
    from temporalkit.reference_models.weights import load_weights, read_checkpoint

    checkpoint = read_checkpoint(path, how_to_get=f"`{MOTION_REFERENCE_COMMAND}`, then pass DIR/checkpoint.pt")
    config = TrainConfig(**checkpoint["config"])
    class_names = tuple(checkpoint["class_names"])
    model = build(config.model, len(class_names), config.frames, config.size)
    load_weights(model, checkpoint["state_dict"], skip_mismatched_head=False)
    target = pick_device(device)
    model.to(target).eval()
    return MotionClassifier(model, config, class_names, checkpoint.get("metadata", {}), target)


def load_motion_model(path: str | Path | None = None, device: str = "cpu") -> MotionClassifier:
    """The shipped R(2+1)D moving-ball classifier (`weights/motion_r2plus1d.pt`), or the checkpoint at `path`."""
    from temporalkit.reference_models.weights import find_checkpoint

    path = MOTION_WEIGHTS if path is None else Path(path)
    how_to_get = f"`{MOTION_REFERENCE_COMMAND}`, then copy DIR/checkpoint.pt to {path}"
    return load_checkpoint(find_checkpoint(path, how_to_get), device)
