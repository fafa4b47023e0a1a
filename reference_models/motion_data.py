"""Synthetic moving-ball videos: a task that only motion can solve.

Each video shows 1 to `max_balls` balls (random colour and radius) moving over a static,
cluttered background. The class is the motion, never the look of a frame:

    left-to-right   every ball moves right at its own speed
    right-to-left   every ball moves left
    diagonal-up     every ball moves up and to the right
    reversal        every ball moves horizontally and turns back every few frames
    static          the balls do not move

The canvas is a torus (a ball leaving on the right re-enters on the left) and start positions
are uniform over it, so in every frame a ball's position is uniform whatever the class: a model
that looks at frames one at a time, or averages them, cannot beat chance. Reversing the frames of
a clip turns left-to-right into right-to-left, so a pipeline that scrambles frame order is caught.

Generation is vectorised over videos (torch); `generate_videos(n, seed)` is deterministic in
`seed`. `python -m temporalkit.reference_models.motion_data --video DIR` writes MP4 files with PyAV.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

CLASS_NAMES: tuple[str, ...] = ("left-to-right", "right-to-left", "diagonal-up", "reversal", "static")

# Unit directions in image coordinates (x right, y down); `reversal` uses a horizontal axis.
_DIRECTIONS: dict[str, tuple[float, float]] = {
    "left-to-right": (1.0, 0.0),
    "right-to-left": (-1.0, 0.0),
    "diagonal-up": (math.sqrt(0.5), -math.sqrt(0.5)),
    "reversal": (1.0, 0.0),
    "static": (0.0, 0.0),
}


@dataclass(frozen=True)
class MotionDataConfig:
    """How the videos look. Sizes and speeds are fractions of the canvas side so they scale with `size`."""

    size: int = 32
    num_frames: int = 16
    max_balls: int = 3
    min_radius: float = 0.09
    max_radius: float = 0.14
    min_speed: float = 0.05  # canvas sides per frame
    max_speed: float = 0.09
    # Half-period of the reversal class in frames: any window of more than `max_half_period` + 1
    # consecutive frames contains a turn.
    min_half_period: int = 2
    max_half_period: int = 4
    clutter_rectangles: int = 5
    noise_std: float = 0.03


@dataclass
class MotionBatch:
    """Videos and what generated them.

    videos:    (N, L, 3, H, W) uint8, L = `config.num_frames`
    labels:    (N,) int64 index into `CLASS_NAMES`
    positions: (N, L, B, 2) float32 ball centres (x, y) in pixels, B = `config.max_balls`
    present:   (N, B) bool, which of the B ball slots are drawn
    """

    videos: torch.Tensor
    labels: torch.Tensor
    positions: torch.Tensor
    present: torch.Tensor
    config: MotionDataConfig

    @property
    def class_names(self) -> tuple[str, ...]:
        return CLASS_NAMES


def balanced_labels(num_videos: int, generator: torch.Generator) -> torch.Tensor:
    """Class indices with every class appearing floor or ceil of num_videos / K times, in random order."""
    labels = torch.arange(num_videos) % len(CLASS_NAMES)
    return labels[torch.randperm(num_videos, generator=generator)]


def _ball_trajectories(labels: torch.Tensor, config: MotionDataConfig, generator: torch.Generator) -> torch.Tensor:
    """Ball centres (N, L, B, 2) in pixels, wrapped onto the torus."""
    n, steps, balls, size = labels.shape[0], config.num_frames, config.max_balls, config.size
    directions = torch.tensor([_DIRECTIONS[name] for name in CLASS_NAMES])[labels]  # (N, 2)
    starts = torch.rand(n, 1, balls, 2, generator=generator) * size
    speeds = config.min_speed + torch.rand(n, 1, balls, 1, generator=generator) * (config.max_speed - config.min_speed)
    speeds = speeds * size  # pixels per frame, (N, 1, B, 1)
    frame_index = torch.arange(steps, dtype=torch.float32).view(1, steps, 1, 1)

    # Travelled distance along the direction: t for the straight classes, a triangle wave for reversal.
    half_period = torch.randint(
        config.min_half_period, config.max_half_period + 1, (n, 1, 1, 1), generator=generator
    ).float()
    phase = torch.rand(n, 1, 1, 1, generator=generator) * 2 * half_period
    sign = torch.where(torch.rand(n, 1, 1, 1, generator=generator) < 0.5, -1.0, 1.0)
    in_period = torch.remainder(frame_index + phase, 2 * half_period)
    triangle = sign * torch.where(in_period < half_period, in_period, 2 * half_period - in_period)
    is_reversal = (labels == CLASS_NAMES.index("reversal")).view(n, 1, 1, 1)
    travelled = torch.where(is_reversal, triangle, frame_index.expand(n, steps, 1, 1))

    positions = starts + travelled * speeds * directions.view(n, 1, 1, 2)
    return torch.remainder(positions, size)


def _backgrounds(n: int, config: MotionDataConfig, generator: torch.Generator) -> torch.Tensor:
    """Static cluttered backgrounds (N, 3, H, W) in [0, 1]: a dim base colour plus random rectangles."""
    size = config.size
    backgrounds = 0.1 + 0.25 * torch.rand(n, 3, 1, 1, generator=generator)
    backgrounds = backgrounds.expand(n, 3, size, size).clone()
    axis = torch.arange(size).view(1, size)
    for _ in range(config.clutter_rectangles):
        corner = torch.randint(0, size, (n, 2), generator=generator)
        extent = torch.randint(2, max(3, size // 4), (n, 2), generator=generator)
        inside_x = (axis >= corner[:, :1]) & (axis < corner[:, :1] + extent[:, :1])  # (N, W)
        inside_y = (axis >= corner[:, 1:]) & (axis < corner[:, 1:] + extent[:, 1:])  # (N, H)
        inside = (inside_y[:, :, None] & inside_x[:, None, :]).unsqueeze(1)  # (N, 1, H, W)
        colour = 0.15 + 0.45 * torch.rand(n, 3, 1, 1, generator=generator)
        backgrounds = torch.where(inside, colour, backgrounds)
    return backgrounds


def _render(
    positions: torch.Tensor,
    present: torch.Tensor,
    radii: torch.Tensor,
    colours: torch.Tensor,
    backgrounds: torch.Tensor,
    config: MotionDataConfig,
    generator: torch.Generator,
) -> torch.Tensor:
    """Draw anti-aliased balls on the backgrounds: (N, L, 3, H, W) uint8."""
    n, steps, size = positions.shape[0], positions.shape[1], config.size
    pixel_centres = torch.arange(size, dtype=torch.float32) + 0.5
    frames = backgrounds.unsqueeze(1).expand(n, steps, 3, size, size).clone()
    for ball in range(config.max_balls):
        centre_x = positions[:, :, ball, 0].view(n, steps, 1, 1)
        centre_y = positions[:, :, ball, 1].view(n, steps, 1, 1)
        # Shortest offset on the torus, so a ball crossing an edge is drawn on both sides.
        offset_x = torch.remainder(pixel_centres.view(1, 1, 1, size) - centre_x + size / 2, size) - size / 2
        offset_y = torch.remainder(pixel_centres.view(1, 1, size, 1) - centre_y + size / 2, size) - size / 2
        distance = torch.sqrt(offset_x**2 + offset_y**2)  # (N, L, H, W)
        radius = radii[:, ball].view(n, 1, 1, 1)
        alpha = (radius + 0.5 - distance).clamp(0.0, 1.0) * present[:, ball].view(n, 1, 1, 1)
        colour = colours[:, ball].view(n, 1, 3, 1, 1).expand_as(frames)
        frames.lerp_(colour, alpha.unsqueeze(2))  # in place: the (N, L, 3, H, W) temporaries dominated the time
    frames.add_(torch.randn(frames.shape, generator=generator), alpha=config.noise_std)
    return frames.clamp_(0.0, 1.0).mul_(255).round_().to(torch.uint8)


def generate_videos(
    num_videos: int,
    seed: int,
    config: MotionDataConfig = MotionDataConfig(),
    labels: torch.Tensor | None = None,
    chunk_size: int = 256,
) -> MotionBatch:
    """`num_videos` moving-ball videos, balanced over `CLASS_NAMES` unless `labels` is given.

    Deterministic in (`num_videos`, `seed`, `config`, `labels`); independent of the global RNG.
    """
    generator = torch.Generator().manual_seed(seed)
    if labels is None:
        labels = balanced_labels(num_videos, generator)
    labels = torch.as_tensor(labels, dtype=torch.int64)
    if labels.shape != (num_videos,):
        raise ValueError(f"labels must have shape ({num_videos},), got {tuple(labels.shape)}")
    videos, positions, present = [], [], []
    for start in range(0, num_videos, chunk_size):
        chunk_labels = labels[start : start + chunk_size]
        n = chunk_labels.shape[0]
        chunk_positions = _ball_trajectories(chunk_labels, config, generator)
        counts = torch.randint(1, config.max_balls + 1, (n, 1), generator=generator)
        chunk_present = torch.arange(config.max_balls).view(1, -1) < counts
        radii = (
            config.min_radius
            + torch.rand(n, config.max_balls, generator=generator) * (config.max_radius - config.min_radius)
        ) * config.size
        colours = 0.55 + 0.45 * torch.rand(n, config.max_balls, 3, generator=generator)
        backgrounds = _backgrounds(n, config, generator)
        videos.append(_render(chunk_positions, chunk_present, radii, colours, backgrounds, config, generator))
        positions.append(chunk_positions)
        present.append(chunk_present)
    if not videos:
        empty = torch.zeros(0, config.num_frames, 3, config.size, config.size, dtype=torch.uint8)
        return MotionBatch(
            empty,
            labels,
            torch.zeros(0, config.num_frames, config.max_balls, 2),
            torch.zeros(0, config.max_balls, dtype=torch.bool),
            config,
        )
    return MotionBatch(torch.cat(videos), labels, torch.cat(positions), torch.cat(present), config)


def write_videos(batch: MotionBatch, out_dir: str | Path, fps: int = 8, codec: str = "libx264") -> list[Path]:
    """Write every video of `batch` as `<index>_<class>.mp4` in `out_dir` with PyAV; returns the paths."""
    import av  # only the --video path needs PyAV

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (video, label) in enumerate(zip(batch.videos, batch.labels.tolist())):
        path = out_dir / f"{index:05d}_{CLASS_NAMES[label]}.mp4"
        with av.open(str(path), mode="w") as container:
            stream = container.add_stream(codec, rate=fps)
            stream.width, stream.height = video.shape[-1], video.shape[-2]
            stream.pix_fmt = "yuv420p"
            if codec == "libx264":
                stream.options = {"crf": "10"}  # near-lossless: small balls survive compression
            for frame in video.permute(0, 2, 3, 1).contiguous().numpy():  # (L, H, W, 3)
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate synthetic moving-ball videos.")
    parser.add_argument("--num-videos", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--frames", type=int, default=16, help="frames per video")
    parser.add_argument("--video", metavar="DIR", help="write MP4 files into DIR (PyAV)")
    args = parser.parse_args(argv)
    config = MotionDataConfig(size=args.size, num_frames=args.frames)
    batch = generate_videos(args.num_videos, args.seed, config)
    if args.video:
        paths = write_videos(batch, args.video)
        print(f"wrote {len(paths)} videos to {args.video}")
    else:
        counts = torch.bincount(batch.labels, minlength=len(CLASS_NAMES)).tolist()
        print(f"videos {tuple(batch.videos.shape)} uint8; per class: {dict(zip(CLASS_NAMES, counts))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
