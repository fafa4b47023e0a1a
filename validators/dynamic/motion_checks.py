"""Motion check: does the user's pipeline keep the motion in a clip?

Why: a sampler that returns indices unsorted, a loader that reverses or shuffles frames, or a
transform that permutes the time axis leave every single frame intact, so checks on frames alone
pass, yet a temporal model trained on the output learns nothing about motion. The moving-ball task
(`reference_models.motion_data`) can only be solved from frame order, and the shipped R(2+1)D
motion model (`weights/motion_r2plus1d.pt`) solves it. Probe clips pushed through the user's code
and classified by that model must keep the accuracy they have through the reference pipeline
(the frames as generated); a collapse is a `temporal-order` finding (TK701).

`check_motion` (TK701) no longer judges by the model's accuracy: a horizontal flip, a strong zoom
or a stride sampler changed the accuracy without destroying temporal order. It reads the order
from frame codes instead (see `check_motion`); `measure_motion_accuracy` stays for benchmarks.

Roles of `measure_motion_accuracy` (how `fn` is called):
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
        # temporalkit: ignore[aspect-distortion] -- the motion probes are square: a square resize keeps them so
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


# --- TK701: temporal order read from the frame codes ------------------------------------------------

MOTION_T: tuple[int, ...] = (8, 16)
MOTION_SEEDS: tuple[int, ...] = (0, 1, 2)
# Probe videos of a sampler or subsampler are this many times T long, so a stride sampler (stride
# up to this) has room for its window: the old probes had num_frames == T and flagged stride samplers.
LENGTH_PER_T = 8
LOADER_FPS = (24, 30)  # loaders are given ordinary video rates (seconds-based loaders resample from these)
MIN_READABLE_FRACTION = 0.5


class MotionFindings(list):
    """The TK701 findings, with the notes the check has for the user (a horizontal flip) in `notes`."""

    def __init__(self, findings=(), notes=()):
        super().__init__(findings)
        self.notes = list(notes)


@dataclass
class OrderReading:
    """What came out of one probe: the frame indices read (None where unreadable) and mirroring."""

    call: str
    seed: int
    indices: list[int | None]
    mirrored: bool = False


def _coded_frames(count: int) -> list:
    from temporalkit.validators.dynamic.frame_code import encode_frame
    from temporalkit.validators.dynamic.transform_checks import CANVASES

    height, width = CANVASES["16:9"]
    return [encode_frame(index % 256, height, width) for index in range(count)]


def _read(output, sent_type: str | None = None) -> tuple[list[int | None], bool]:
    from temporalkit.validators.dynamic.clips import clip_to_frames
    from temporalkit.validators.dynamic.frame_code import read_frame

    readings = [read_frame(frame) for frame in clip_to_frames(output, sent_type)]
    mirrored = [r.mirrored for r in readings if r.index is not None]
    return [r.index for r in readings], bool(mirrored) and sum(mirrored) * 2 > len(mirrored)


def _order_readings(fn: Callable, role: str, name: str) -> list[OrderReading]:
    """Push coded probes through `fn` under each seed; what came out, for every call that ran."""
    import numpy as np
    from temporalkit.validators.dynamic.clips import make_clip, seed_everything

    readings = []
    if role == "loader":
        from temporalkit.validators.dynamic.loader_checks import count_parameter
        from temporalkit.validators.dynamic.probes import make_probe_set

        parameter = count_parameter(fn)
        usable = [
            p
            for p in make_probe_set()
            if not p.metadata_is_wrong and not p.vfr and round(p.fps) in LOADER_FPS and p.frames >= 2 * MOTION_T[0]
        ]
        # The shortest probe at each rate: decoding is the cost, and order does not depend on length.
        shortest = (
            min((p for p in usable if round(p.fps) == fps), key=lambda p: p.frames, default=None) for fps in LOADER_FPS
        )
        probes = [p for p in shortest if p is not None]
        for probe in probes:
            for seed in MOTION_SEEDS if parameter else MOTION_SEEDS[:1]:
                seed_everything(seed)
                try:
                    output = fn(str(probe.path), **{parameter: MOTION_T[0]}) if parameter else fn(str(probe.path))
                    indices, mirrored = _read(output)
                except Exception:  # noqa: BLE001 - crashes are the loader checks' business
                    continue
                shown = f"{name}({probe.path.name!r}{f', {parameter}={MOTION_T[0]}' if parameter else ''})"
                readings.append(OrderReading(shown, seed, indices, mirrored))
        return readings
    clip_type = None
    if role == "transform":
        from temporalkit.validators.dynamic.transform_checks import find_clip_type

        try:
            clip_type, _ = find_clip_type(fn, seeds=MOTION_SEEDS)
        except Exception:  # noqa: BLE001 - a transform nothing can be fed to is reported by its own checks
            return readings
    for T in MOTION_T:
        num_frames = LENGTH_PER_T * T
        for seed in MOTION_SEEDS:
            seed_everything(seed)
            try:
                if role == "sampler":
                    indices = [int(i) for i in list(fn(num_frames, T))]
                    readings.append(OrderReading(f"{name}(num_frames={num_frames}, T={T})", seed, list(indices)))
                    continue
                if role == "subsample":
                    import torch

                    video = torch.from_numpy(np.stack(_coded_frames(num_frames))).permute(0, 3, 1, 2).contiguous()
                    indices, mirrored = _read(fn(video, T), "tensor-TCHW-uint8")
                    shown = f"{name}(<TCHW video of {num_frames} coded frames>, {T})"
                else:  # transform: a clip of T coded frames, in the clip type the transform takes
                    indices, mirrored = _read(fn(make_clip(_coded_frames(T), clip_type)), clip_type)
                    shown = f"{name}(<{clip_type} clip of frames 0..{T - 1}>)"
            except Exception:  # noqa: BLE001 - crashes are the other checks' business
                continue
            readings.append(OrderReading(shown, seed, indices, mirrored))
    return readings


def _disorder(indices: list[int | None]) -> str | None:
    """ "reversed" / "shuffled" when the readable indices go backwards (a short clip played again
    from its start, when the short-clip policy allows a loop, does not count), else None."""
    from temporalkit.validators.dynamic import policy as policies

    known = [i for i in indices if i is not None]
    if len(known) < 2 or len(known) < MIN_READABLE_FRACTION * len(indices):
        return None  # zoomed or blended past reading: judged by nothing here
    backwards = [k for k, (a, b) in enumerate(zip(known, known[1:])) if b < a]
    if not backwards:
        return None
    distinct = len(set(known))
    if policies.current().allows_short_clip("loop") and all(known[k + 1] == min(known) for k in backwards):
        return None  # wraps back to the first frame: a loop
    if len(backwards) == len(known) - 1 and distinct == len(known):
        return "reversed"
    return "shuffled"


def check_motion(fn: Callable, role: str, model=None) -> list[Finding]:
    """TK701 when the frames `fn` returns are out of temporal order, read from the frame codes.

    Coded probes (every frame carries its index, `frame_code`) go through `fn` under several seeds:
    a sampler or subsampler at ``num_frames = 8 * T`` (room for stride samplers), a transform on a
    clip of T frames, a loader on the 24-30 fps probe videos. A reversed or shuffled output is TK701.
    What is not an order bug is not reported as one: a zoom or crop that leaves the codes unreadable
    is not judged, repeated (frozen) frames are not disorder, and a horizontal flip is a note in
    ``.notes`` (left/right motion classes need their labels swapped, as in SSv2-like tasks).

    `model` is accepted for the callers of the accuracy-based version and not used; the accuracy of
    the motion model through a pipeline is `measure_motion_accuracy`.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    name = _name(fn)
    readings = _order_readings(fn, role, name)
    notes = []
    flipped = next((r for r in readings if r.mirrored), None)
    if flipped is not None:
        notes.append(
            f"{name}: flips frames horizontally (seed {flipped.seed}); motion direction flips with them, so "
            "left/right classes (SSv2-like 'moving something left') need their labels swapped"
        )
    for reading in readings:
        kind = _disorder(reading.indices)
        if kind is None:
            continue
        shown = ["?" if i is None else str(i) for i in reading.indices[:16]]
        message = (
            f"`{reading.call}` {kind} temporal order (random state seeded with {reading.seed}): it returned frames "
            f"[{', '.join(shown)}{', ...' if len(reading.indices) > 16 else ''}]; a temporal model trained on this "
            "learns motion backwards or not at all"
        )
        finding = MOTION_CHECK.finding(
            message,
            extra={"role": role, "order": kind, "frames_returned": reading.indices, "seed": reading.seed},
        )
        return MotionFindings([finding], notes)
    return MotionFindings([], notes)
