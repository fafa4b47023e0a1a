"""Seconds-based clip samplers (pytorchvideo style): ``(last_clip_end_time, video_duration, annotation)``
in, a clip's start and end in seconds out (``ClipInfo(clip_start_sec, clip_end_sec, ...)`` or a tuple).

The grid's frame counts are turned into seconds at `SECONDS_FPS` (a video of ``num_frames`` frames
lasts ``num_frames / fps`` s, a clip of T frames ``T / fps`` s), and the clip [start, end) back into T
frame indices spread evenly over it (the frame nearest ``start + k * (end - start) / T``), so the
sampler checks hold it to the same properties as a frame sampler: a clip that ends past the video
reads as an index past its last frame.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from temporalkit.validators.dynamic.adapters.base import AdapterError, Binding, plan, signature
from temporalkit.validators.dynamic.adapters.instance import bind_instance, call_of
from temporalkit.validators.dynamic.vocabulary import DURATION_NAMES, SECONDS_FPS

WANTED = ("duration", "clip_duration", "last_end", "annotation", "seed")


def is_seconds_based(obj: Any) -> bool:
    """Whether the call (or __init__) of `obj` takes a video duration rather than a frame count."""
    for callable_ in (call_of(obj), obj if inspect.isclass(obj) else None):
        if callable_ is None:
            continue
        try:
            names = set(inspect.signature(callable_).parameters)
        except (TypeError, ValueError):
            continue
        if names & set(DURATION_NAMES):
            return True
    return False


def clip_seconds(output: Any) -> list[tuple[float, float]]:
    """[(start, end)] in seconds from a ClipInfo-like object or a tuple whose first two items are they;
    one pair per clip when they are lists (pytorchvideo's ClipInfoList)."""
    start = getattr(output, "clip_start_sec", None)
    end = getattr(output, "clip_end_sec", None)
    if start is None or end is None:
        if isinstance(output, (tuple, list)) and len(output) >= 2:
            start, end = output[0], output[1]
        else:
            raise TypeError(f"returned {type(output).__name__}, not a clip (clip_start_sec, clip_end_sec, ...)")
    if isinstance(start, (list, tuple)) and isinstance(end, (list, tuple)):
        return [(float(a), float(b)) for a, b in zip(start, end)]
    return [(float(start), float(end))]


# A sampler that hands out one clip per call and flags the last of a video (pytorchvideo's
# ConstantClipsPerVideoSampler: ``clips_per_video`` calls, each clip ``augs_per_clip`` times) is called
# until it says `is_last_clip`, at most this many times; its clips (first augmentation of each) are
# the video's clips, as a multi-clip sampler's one call gives them.
MAX_CALLS_PER_VIDEO = 64


def walks_clips(output: Any) -> bool:
    """Whether `output` is one clip of a video walked call by call (it carries `is_last_clip`)."""
    return isinstance(getattr(output, "is_last_clip", None), (bool, np.bool_))


def video_clips(first: Any, next_clip: Any) -> list[Any]:
    """`first` and the clips `next_clip(last_end)` gives after it, up to the one flagged `is_last_clip`;
    repeated augmentations of a clip (`aug_index` > 0) are left out."""
    outputs = [first]
    while not bool(outputs[-1].is_last_clip) and len(outputs) < MAX_CALLS_PER_VIDEO:
        outputs.append(next_clip(float(clip_seconds(outputs[-1])[-1][1])))
    return [o for o in outputs if not getattr(o, "aug_index", 0)]


def to_frames(start: float, end: float, T: int, fps: float = SECONDS_FPS) -> np.ndarray:
    """T frame indices spread evenly over [start, end) seconds."""
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ValueError(f"returned a clip from {start} s to {end} s")
    steps = np.arange(T, dtype=np.float64) * (end - start) * fps / T
    return np.floor(start * fps + steps + 0.5).astype(np.int64)  # the nearest frame to each instant


def bind(
    obj: Any, name: str, args: Mapping[str, str], wanted: Iterable[str], convention: Mapping[str, Any] | None = None
) -> Binding:
    fps = float((convention or {}).get("fps") or SECONDS_FPS)
    multiclip = "num_clips" in set(wanted)
    if inspect.isclass(obj):
        init_wanted = ("clip_duration", "seed", *(("num_clips",) if multiclip else ()))
        inner, init_plan, call_plan = bind_instance(
            obj,
            name,
            args,
            (*WANTED, *(("num_clips",) if multiclip else ())),
            convention=convention,
            label="seconds",
            init_wanted=init_wanted,
        )
        plans = (init_plan, call_plan)
    else:
        if not callable(obj):
            raise AdapterError(f"{name} is not callable")
        call_plan = plan(signature(obj, name), args, WANTED, name)

        def direct(values: Mapping[str, Any]) -> Any:
            positional, keywords = call_plan.bind(values)
            return obj(*positional, **keywords)

        inner = Binding((call_plan,), direct, lambda v, s: f"{name}({call_plan.render(v, s)})", convention="seconds")
        plans = (call_plan,)
    roles = {t for p in plans for t in p.roles}
    if "duration" not in roles:
        raise AdapterError(
            f"cannot tell which parameter of {name} is the video duration; map it with --args NAME=duration"
        )
    if "clip_duration" not in roles:
        raise AdapterError(
            f"cannot tell which parameter of {name} is the clip duration; map it with --init NAME=clip_duration"
        )

    def seconds(values: Mapping[str, Any], last_end: float = 0.0) -> dict[str, Any]:
        return {
            **values,
            "duration": values["num_frames"] / fps,
            "clip_duration": values["T"] / fps,
            "last_end": last_end,
            "annotation": None,
        }

    def call(values: Mapping[str, Any]) -> Any:
        output = inner.call(seconds(values))
        if multiclip and walks_clips(output):
            outputs = video_clips(output, lambda last_end: inner.call(seconds(values, last_end)))
        else:
            outputs = [output]
        clips = [to_frames(start, end, values["T"], fps) for one in outputs for start, end in clip_seconds(one)]
        return np.stack(clips) if multiclip else clips[0]

    def render(values: Mapping[str, Any], shown: Mapping[str, str]) -> str:
        shown = {
            **shown,
            "duration": f"{values['num_frames']}/{fps:g}",
            "clip_duration": f"{values['T']}/{fps:g}",
        }
        return inner.render(seconds(values), shown)

    return Binding(
        plans,
        call,
        render,
        convention="seconds",
        provides=frozenset({"num_frames", "T"}),
        mapping=(
            f"seconds at {fps:g} fps; the clip [start, end) read back as T frame indices"
            + ("; a sampler giving one clip per call is called until it flags is_last_clip" if multiclip else ""),
        ),
    )
