"""The motion exercise: moving-ball data, the training loop, checkpoints, clip/video accuracy, the motion check."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from temporalkit.reference_models.motion_data import (
    CLASS_NAMES,
    MotionDataConfig,
    generate_videos,
    write_videos,
)
from temporalkit.reference_models.training import (
    TrainConfig,
    clip_indices,
    evaluate,
    load_checkpoint,
    random_windows,
    train,
    video_level_predictions,
)
from torch import nn

torch.set_num_threads(1)

SMALL = MotionDataConfig(size=24, num_frames=12)


class TinyMotionNet(nn.Module):
    """A few-kernel 3D conv net: enough to exercise the loop in seconds, not a reference model."""

    input_layout = "NCTHW"

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(3, 8, kernel_size=3, padding=1, stride=(1, 2, 2)),
            nn.ReLU(),
            nn.AdaptiveAvgPool3d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(8, num_classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(clips))


def build_tiny_motion_net(family: str, num_classes: int, frames: int, size: int) -> nn.Module:
    return TinyMotionNet(num_classes)


# --- data -----------------------------------------------------------------------------------


def test_shapes_dtype_and_balance():
    batch = generate_videos(50, seed=3, config=SMALL)
    assert batch.videos.shape == (50, 12, 3, 24, 24)
    assert batch.videos.dtype == torch.uint8
    assert batch.positions.shape == (50, 12, SMALL.max_balls, 2)
    counts = torch.bincount(batch.labels, minlength=len(CLASS_NAMES))
    assert counts.tolist() == [10] * len(CLASS_NAMES)
    assert batch.present.any(dim=1).all(), "every video has at least one ball"


def test_same_seed_same_videos_other_seed_other_videos():
    first = generate_videos(20, seed=7, config=SMALL)
    again = generate_videos(20, seed=7, config=SMALL)
    other = generate_videos(20, seed=8, config=SMALL)
    assert torch.equal(first.videos, again.videos) and torch.equal(first.labels, again.labels)
    assert not torch.equal(first.videos, other.videos)


def _step(positions: torch.Tensor, size: int) -> torch.Tensor:
    """Per-frame displacement on the torus, (N, L-1, B, 2)."""
    delta = positions[:, 1:] - positions[:, :-1]
    return torch.remainder(delta + size / 2, size) - size / 2


def test_motion_follows_the_class():
    batch = generate_videos(200, seed=1, config=SMALL)
    step = _step(batch.positions, SMALL.size)[batch.present.unsqueeze(1).expand(-1, SMALL.num_frames - 1, -1)]
    labels = batch.labels.view(-1, 1, 1).expand(-1, SMALL.num_frames - 1, SMALL.max_balls)[
        batch.present.unsqueeze(1).expand(-1, SMALL.num_frames - 1, -1)
    ]
    name = {index: name for index, name in enumerate(CLASS_NAMES)}
    for index in range(len(CLASS_NAMES)):
        dx, dy = step[labels == index].unbind(-1)
        if name[index] == "left-to-right":
            assert (dx > 0).all() and torch.allclose(dy, torch.zeros_like(dy), atol=1e-4)
        elif name[index] == "right-to-left":
            assert (dx < 0).all() and torch.allclose(dy, torch.zeros_like(dy), atol=1e-4)
        elif name[index] == "diagonal-up":
            assert (dx > 0).all() and (dy < 0).all()
        elif name[index] == "static":
            assert torch.allclose(dx, torch.zeros_like(dx), atol=1e-4)
        elif name[index] == "reversal":
            assert torch.allclose(dy, torch.zeros_like(dy), atol=1e-4)
    # Every reversal video turns back within any window of max_half_period + 2 frames.
    reversal = batch.labels == CLASS_NAMES.index("reversal")
    dx = _step(batch.positions[reversal], SMALL.size)[:, :, 0, 0]
    window = SMALL.max_half_period + 1
    for start in range(dx.shape[1] - window + 1):
        piece = dx[:, start : start + window]
        assert ((piece > 1e-4).any(dim=1) & (piece < -1e-4).any(dim=1)).all()


def test_every_frame_position_distribution_is_class_independent():
    # No appearance shortcut: at every frame, the ball positions of each class follow the same
    # (uniform) distribution, so a classifier of single frames has nothing to go on.
    batch = generate_videos(1500, seed=11, config=SMALL)
    bins = 4
    for frame in (0, SMALL.num_frames // 2, SMALL.num_frames - 1):
        histograms = []
        for index in range(len(CLASS_NAMES)):
            chosen = batch.labels == index
            positions = batch.positions[chosen, frame][batch.present[chosen]]  # (balls, 2)
            cell = (positions / SMALL.size * bins).long().clamp(max=bins - 1)
            histogram = torch.bincount(cell[:, 1] * bins + cell[:, 0], minlength=bins * bins).float()
            histograms.append(histogram / histogram.sum())
        histograms = torch.stack(histograms)
        uniform = torch.full_like(histograms, 1 / bins**2)
        total_variation = 0.5 * (histograms - uniform).abs().sum(dim=1)
        assert total_variation.max() < 0.12, (frame, total_variation)


def test_a_single_frame_classifier_stays_at_chance():
    # A nearest-centroid classifier on single frames (fit on one set, scored on another) must
    # not beat chance; the same classifier on frame differences does, which shows the test can fail.
    config = MotionDataConfig(size=16, num_frames=6)
    fit, held_out = generate_videos(1000, seed=21, config=config), generate_videos(500, seed=22, config=config)

    def nearest_centroid_accuracy(features_fit, features_held_out):
        centroids = torch.stack([features_fit[fit.labels == k].mean(0) for k in range(len(CLASS_NAMES))])
        predicted = torch.cdist(features_held_out, centroids).argmin(dim=1)
        return (predicted == held_out.labels).float().mean().item()

    def frame(batch, index):
        return batch.videos[:, index].float().flatten(1) / 255

    def motion_energy(batch):
        # Where the content changed between frames, smoothed: separates static from moving.
        difference = (batch.videos[:, 1:].float() - batch.videos[:, :-1].float()).abs().mean(dim=(1, 2, 3, 4))
        return difference.view(-1, 1) / 255

    chance = 1 / len(CLASS_NAMES)
    single_frame = nearest_centroid_accuracy(frame(fit, 2), frame(held_out, 2))
    assert abs(single_frame - chance) < 0.08, single_frame
    assert nearest_centroid_accuracy(motion_energy(fit), motion_energy(held_out)) > chance + 0.1


def test_write_videos_makes_readable_mp4(tmp_path):
    import av

    batch = generate_videos(2, seed=0, config=MotionDataConfig(size=32, num_frames=6))
    paths = write_videos(batch, tmp_path)
    assert [path.suffix for path in paths] == [".mp4", ".mp4"]
    with av.open(str(paths[0])) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(frames) == 6 and frames[0].shape == (32, 32, 3)
    decoded = torch.from_numpy(frames[3]).permute(2, 0, 1).float()
    assert (decoded - batch.videos[0, 3].float()).abs().mean() < 12  # lossy, but the same picture


# --- training and evaluation ------------------------------------------------------------------


def test_random_windows_are_consecutive_frames():
    videos = torch.arange(4 * 10).view(4, 10, 1, 1, 1).expand(4, 10, 3, 2, 2)
    clips = random_windows(videos, 5, torch.Generator().manual_seed(0))
    frame_numbers = clips[:, :, 0, 0, 0] % 10
    assert clips.shape == (4, 5, 3, 2, 2)
    assert ((frame_numbers[:, 1:] - frame_numbers[:, :-1]) == 1).all()


def test_clip_indices_come_from_the_reference_multi_clip_sampler():
    from temporalkit.reference_models.sampling import sample_multi_clip_indices

    expected = [clip.tolist() for clip in sample_multi_clip_indices(16, 8, 3)]
    assert clip_indices(16, 8, 3).tolist() == expected


def test_video_level_prediction_averages_clip_softmax():
    # Video 0: two clips mildly for class 1, one clip strongly for class 0 -> averaged softmax picks 0.
    logits = torch.tensor(
        [
            [[0.0, 0.3, 0.0], [0.0, 0.3, 0.0], [9.0, 0.0, 0.0]],
            [[0.0, 0.0, 2.0], [0.0, 0.0, 2.0], [0.0, 0.0, 2.0]],
        ]
    )
    assert video_level_predictions(logits).tolist() == [0, 2]


class LastFrameBrightness(nn.Module):
    """Sure of class 1 when the clip's last frame is bright, mildly for class 0 otherwise."""

    input_layout = "NTCHW"

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        bright = (clips[:, -1].mean(dim=(1, 2, 3)) > 0).float()
        return torch.stack([0.1 * (1 - bright), 20 * bright], dim=1)


def test_clip_and_video_accuracy_differ_when_only_part_of_the_video_shows_the_class():
    # 16-frame videos, bright in the last 4 frames, label 1. The centre clip (frames 4..11) ends
    # dark: wrong. Of the 4 multi-clips (ending on frames 7, 10, 12, 15) two end bright and are
    # sure of class 1, two are mildly for class 0: the averaged softmax is right.
    videos = torch.zeros(6, 16, 3, 4, 4, dtype=torch.uint8)
    videos[:, 12:] = 255
    labels = torch.ones(6, dtype=torch.int64)
    result = evaluate(LastFrameBrightness(), videos, labels, frames=8, num_clips=4, device=torch.device("cpu"))
    assert result.clip_accuracy == 0.0
    assert result.video_accuracy == 1.0


def test_one_epoch_training_writes_checkpoint_and_record(tmp_path):
    config = TrainConfig(
        model="r2plus1d",
        frames=6,
        size=24,
        epochs=1,
        batch_size=16,
        train_videos=64,
        val_videos=20,
        video_frames=10,
        num_clips=2,
        out_dir=str(tmp_path),
        device="cpu",
    )
    record = train(config, build=build_tiny_motion_net, show_progress=False)
    assert len(record.epochs) == 1 and record.world_size == 1
    assert 0.0 <= record.clip_accuracy <= 1.0 and 0.0 <= record.video_accuracy <= 1.0
    saved = json.loads((tmp_path / "run.json").read_text())
    assert saved["config"] == dataclasses.asdict(config)
    assert saved["epochs"][0]["epoch"] == 1 and saved["wall_time_s"] > 0
    assert set(saved["epochs"][0]) == {"epoch", "train_loss", "train_accuracy", "val_clip_accuracy", "seconds"}

    loaded = load_checkpoint(tmp_path / "checkpoint.pt", build=build_tiny_motion_net)
    assert loaded.class_names == CLASS_NAMES and loaded.config == config
    assert loaded.metadata["reproduce"].startswith("temporalkit train --model r2plus1d")
    clips = generate_videos(4, seed=5, config=MotionDataConfig(size=24, num_frames=6)).videos
    assert loaded.logits(clips).shape == (4, len(CLASS_NAMES))


def test_train_command_defaults_match_train_config():
    from temporalkit.reference_models.registry import TINY_FAMILIES

    from temporalkit.commands import train as train_command

    defaults = dataclasses.asdict(TrainConfig())
    for name, value in train_command.DEFAULTS.items():
        assert defaults[name] == value, name
    assert train_command.FAMILIES == TINY_FAMILIES


# --- the shipped motion model and the motion check ---------------------------------------------


def test_shipped_motion_model_loads_and_is_small():
    from temporalkit.reference_models.training import MOTION_WEIGHTS, load_motion_model

    assert MOTION_WEIGHTS.stat().st_size < 5 * 1024 * 1024
    model = load_motion_model()
    assert model.config.model == "r2plus1d" and model.class_names == CLASS_NAMES
    assert model.metadata["reproduce"].startswith("temporalkit train --model r2plus1d")
    clips = generate_videos(100, seed=99, config=MotionDataConfig(size=model.size, num_frames=model.frames))
    accuracy = (model.predict(clips.videos) == clips.labels).float().mean().item()
    assert accuracy > 0.8, accuracy


@pytest.fixture(scope="module")
def motion_model():
    from temporalkit.reference_models.training import load_motion_model

    return load_motion_model()


def in_order_sampler(num_frames, T):
    return list(range(T)) if num_frames >= T else [min(i, num_frames - 1) for i in range(T)]


def reversed_sampler(num_frames, T):
    return list(reversed(in_order_sampler(num_frames, T)))


def shuffling_transform(clip):
    order = torch.randperm(clip.shape[0], generator=torch.Generator().manual_seed(1))
    return clip[order]


def reversing_numpy_transform(clip):
    import numpy as np

    if not isinstance(clip, np.ndarray):
        raise TypeError("numpy (T, H, W, C) only")
    return clip[::-1].copy()


def normalise_transform(clip):
    # Correct: mean/std normalisation of a float (T, C, H, W) clip, returned in (C, T, H, W) layout.
    return ((clip - 0.45) / 0.225).permute(1, 0, 2, 3)


def test_motion_check_passes_a_correct_sampler_and_transform(motion_model):
    from temporalkit.validators.dynamic.motion_checks import check_motion, measure_motion_accuracy

    assert check_motion(in_order_sampler, "sampler", model=motion_model) == []
    assert check_motion(normalise_transform, "transform", model=motion_model) == []
    result = measure_motion_accuracy(normalise_transform, "transform", model=motion_model)
    assert result.input_kind == "tensor-TCHW"
    assert abs(result.pipeline_accuracy - result.reference_accuracy) < 0.1


@pytest.mark.parametrize(
    ("fn", "role"),
    [(reversed_sampler, "sampler"), (shuffling_transform, "transform"), (reversing_numpy_transform, "transform")],
)
def test_motion_check_flags_reversed_or_shuffled_frames(motion_model, fn, role):
    from temporalkit.validators.dynamic.motion_checks import check_motion

    findings = check_motion(fn, role, model=motion_model)
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.rule, finding.category, finding.source, finding.path, finding.line) == (
        "TK701",
        "temporal-order",
        "dynamic",
        "",
        0,
    )
    assert finding.extra["order"] in ("reversed", "shuffled")
    assert fn.__name__ in finding.message


def test_motion_check_through_a_loader(motion_model):
    import av
    import numpy as np
    from temporalkit.validators.dynamic.motion_checks import check_motion

    def load_frames(path):
        with av.open(path) as container:
            return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])

    def load_frames_backwards(path):
        return load_frames(path)[::-1].copy()

    assert check_motion(load_frames, "loader", model=motion_model) == []
    assert [f.rule for f in check_motion(load_frames_backwards, "loader", model=motion_model)] == ["TK701"]


# --- what TK701 used to flag and is not an order bug: stride samplers, zooms, flips, seconds-based loaders ---


def stride_window_sampler(num_frames, T):  # 4 frames apart: the old probes (num_frames == T) had no room for it
    import numpy as np

    span = (T - 1) * 4 + 1
    start = np.random.randint(0, max(num_frames - span, 0) + 1)
    return np.minimum(start + 4 * np.arange(T), num_frames - 1)


def random_resized_crop_small(clip):
    from torchvision.transforms import v2

    if not (isinstance(clip, torch.Tensor) and clip.ndim == 4 and clip.shape[1] == 3):
        raise TypeError("(T, C, H, W) tensors only")
    return v2.RandomResizedCrop(112, scale=(0.08, 1.0), antialias=True)(clip)


def horizontal_flip(clip):
    if not (isinstance(clip, torch.Tensor) and clip.ndim == 4 and clip.shape[1] == 3):
        raise TypeError("(T, C, H, W) tensors only")
    return clip.flip(-1)


def load_at_8_fps(path):  # pytorchvideo-style: frames chosen by time, 8 per second
    import av
    import numpy as np

    with av.open(path) as container:
        rate = float(container.streams.video[0].average_rate)
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return np.stack([frames[int(i)] for i in np.arange(0, len(frames), rate / 8)])


def test_motion_check_is_quiet_on_strides_zooms_flips_and_seconds_based_loaders():
    from temporalkit.validators.dynamic.motion_checks import check_motion

    assert check_motion(stride_window_sampler, "sampler") == []
    assert check_motion(random_resized_crop_small, "transform") == []
    assert check_motion(load_at_8_fps, "loader") == []
    flipped = check_motion(horizontal_flip, "transform")
    assert flipped == [] and any("labels swapped" in note for note in flipped.notes)
