"""Motion check: does the user's pipeline keep the motion in a clip?

Why: a sampler that returns indices unsorted, a loader that reverses or shuffles frames, or a
transform that permutes the time axis leave every single frame intact, so checks on frames alone
pass, yet a temporal model trained on the output learns nothing about motion. The moving-ball task
(`reference_models.motion_data`) can only be solved from frame order, and the shipped R(2+1)D
motion model (`weights/motion_r2plus1d.pt`) solves it. Probe clips pushed through the user's code
and classified by that model must keep the accuracy they have through the reference pipeline
(the frames as generated); a collapse is a `temporal-order` finding (TK701).

Roles (how `fn` is called):
    sampler    fn(num_frames, T) -> T frame indices; probes have num_frames == T, where every
               correct sampler returns each frame once, in order
    subsample  fn(video, T) -> clip; `video` is a (num_frames, C, H, W) uint8 tensor, num_frames == T
    transform  fn(clip) -> clip; tried with each of `clips.CLIP_TYPES` in turn until one is accepted
    loader     fn(path) -> frames, falling back to fn(path, T); probes are MP4 files (PyAV)

Outputs are read by `clips.clip_to_frames` (any common layout, dtype or normalisation) and
resized to the model's input.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from temporalkit.validators.dynamic.checks import DYNAMIC_CHECKS
from temporalkit.validators.findings import Finding

MOTION_CHECK = DYNAMIC_CHECKS["TK701"]  # documented, with its fix, in `checks`
ROLES = ("sampler", "subsample", "transform", "loader")

PROBE_SEED = 7_0_1
PROBES_PER_CLASS = 20
# A pipeline keeps motion when its accuracy is within this much of the reference pipeline's.
MAX_ACCURACY_DROP = 0.25


@dataclass
class MotionCheckResult:
    role: str
    reference_accuracy: float
    pipeline_accuracy: float | None  # None when the pipeline could not be run on the probes
    num_probes: int
    error: str | None = None
    input_kind: str | None = None

    @property
    def collapsed(self) -> bool:
        return (
            self.pipeline_accuracy is not None and self.pipeline_accuracy < self.reference_accuracy - MAX_ACCURACY_DROP
        )


def _probes(frames: int, size: int):
    import torch
    from temporalkit.reference_models.motion_data import CLASS_NAMES, MotionDataConfig, generate_videos

    labels = torch.arange(len(CLASS_NAMES)).repeat_interleave(PROBES_PER_CLASS)
    config = MotionDataConfig(size=size, num_frames=frames)
    return generate_videos(labels.shape[0], PROBE_SEED, config, labels=labels)


def to_tchw_uint8(output, frames: int, size: int, sent_type: str | None = None):
    """Whatever a pipeline returned -> (T, 3, size, size) uint8 tensor (layout and scaling read by
    `clips.clip_to_frames`, the reader every dynamic check shares); ValueError when it is not T frames."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from temporalkit.validators.dynamic.clips import clip_to_frames

    frame_list = clip_to_frames(output, sent_type)
    if len(frame_list) != frames:
        raise ValueError(f"returned {len(frame_list)} frames, expected T={frames}")
    clip = torch.from_numpy(np.stack(frame_list)).permute(0, 3, 1, 2) * 255  # (T, 3, H, W)
    if clip.shape[-2:] != (size, size):
        # temporalkit: ignore[TK172] -- the motion probes are square videos: a square resize keeps their aspect
        clip = F.interpolate(clip, size=(size, size), mode="bilinear", align_corners=False)
    return clip.round().clamp(0, 255).to(torch.uint8)


def _run_sampler(fn, videos, frames, size):
    import torch

    clips = []
    for video in videos:
        indices = torch.as_tensor([int(i) for i in list(fn(frames, frames))], dtype=torch.int64)
        if indices.numel() != frames:
            raise ValueError(f"`{_name(fn)}(num_frames={frames}, T={frames})` returned {indices.numel()} indices")
        if (indices < 0).any() or (indices >= frames).any():
            raise ValueError(
                f"`{_name(fn)}(num_frames={frames}, T={frames})` returned an index outside 0..{frames - 1}"
            )
        clips.append(video[indices])
    return torch.stack(clips), "indices"


def _run_subsample(fn, videos, frames, size):
    import torch

    return torch.stack(
        [to_tchw_uint8(fn(video.clone(), frames), frames, size) for video in videos]
    ), "tensor-TCHW-uint8"


def _run_transform(fn, videos, frames, size):
    import torch
    from temporalkit.validators.dynamic.clips import CLIP_TYPES, make_clip

    failures = []
    for clip_type in CLIP_TYPES:
        try:
            outputs = [
                to_tchw_uint8(
                    fn(make_clip(list(video.permute(0, 2, 3, 1).numpy()), clip_type)), frames, size, clip_type
                )
                for video in videos
            ]
        except Exception as exc:  # the user's transform may reject this clip type: try the next
            failures.append(f"{clip_type}: {type(exc).__name__}: {exc}")
            continue
        return torch.stack(outputs), clip_type
    raise ValueError("transform accepted none of the clip types; " + "; ".join(failures))


def _run_loader(fn, videos, frames, size, labels):
    import torch
    from temporalkit.reference_models.motion_data import MotionBatch, write_videos

    with tempfile.TemporaryDirectory(prefix="temporalkit-motion-") as directory:
        batch = MotionBatch(videos, labels, torch.zeros(0), torch.zeros(0), None)  # only videos/labels are written
        paths = write_videos(batch, Path(directory))
        outputs = []
        for path in paths:
            try:
                frames_out = fn(str(path))
            except TypeError:
                frames_out = fn(str(path), frames)
            outputs.append(to_tchw_uint8(frames_out, frames, size))
    return torch.stack(outputs), "path"


def _name(fn) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__


def measure_motion_accuracy(fn: Callable, role: str, model=None) -> MotionCheckResult:
    """Accuracy of the motion model on probe clips through `fn` vs through the reference pipeline."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    from temporalkit.reference_models.training import load_motion_model

    model = load_motion_model() if model is None else model
    probes = _probes(model.frames, model.size)
    reference = (model.predict(probes.videos) == probes.labels).float().mean().item()
    result = MotionCheckResult(role, reference, None, probes.labels.shape[0])
    try:
        if role == "loader":
            clips, kind = _run_loader(fn, probes.videos, model.frames, model.size, probes.labels)
        else:
            runner = {"sampler": _run_sampler, "subsample": _run_subsample, "transform": _run_transform}[role]
            clips, kind = runner(fn, probes.videos, model.frames, model.size)
    except Exception as exc:  # user code: any failure is reported, not raised
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    result.input_kind = kind
    result.pipeline_accuracy = (model.predict(clips) == probes.labels).float().mean().item()
    return result


def check_motion(fn: Callable, role: str, model=None) -> list[Finding]:
    """`temporal-order` finding (TK701) when probe clips through `fn` lose the motion the reference keeps.

    `model` defaults to the shipped motion model (`load_motion_model()`). A pipeline that cannot
    run on the probes yields no finding here (the other dynamic checks report crashes).
    """
    result = measure_motion_accuracy(fn, role, model)
    if not result.collapsed:
        return []
    from temporalkit.reference_models.motion_data import CLASS_NAMES

    chance = 1 / len(CLASS_NAMES)
    message = (
        f"`{_name(fn)}` ({role}) destroys temporal order or motion: the reference motion model classifies "
        f"{result.num_probes} moving-ball probe clips at {result.pipeline_accuracy:.0%} accuracy through it "
        f"vs {result.reference_accuracy:.0%} through the reference pipeline (chance {chance:.0%})"
    )
    return [
        MOTION_CHECK.finding(
            message,
            extra={
                "role": role,
                "reference_accuracy": result.reference_accuracy,
                "pipeline_accuracy": result.pipeline_accuracy,
                "num_probes": result.num_probes,
                "input_kind": result.input_kind,
            },
        )
    ]
