"""Adapters: one module per calling convention, each turning a user object into a `SamplerUnderTest`.

- `function`: a plain function, roles passed by parameter name.
- `instance`: a class with ``__call__``, built from ``__init__`` first.

`build_samplers` picks the adapter and wraps the result with the grid-cell values (seed handling,
the index video of subsamplers). The checks (`sampler_checks`, ...) never look at signatures.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from temporalkit.validators.dynamic.adapters import function, instance
from temporalkit.validators.dynamic.adapters.base import (
    AdapterError,
    Binding,
    Plan,
    SamplerUnderTest,
    fresh_generator,
    index_video,
    module_uses_torch,
    plan,
    seed_globals,
    seed_value,
    signature,
)
from temporalkit.validators.dynamic.discover import TEST_MODE_FLAGS, looks_test_time

__all__ = [
    "AdapterError",
    "Binding",
    "Plan",
    "SamplerUnderTest",
    "build_samplers",
    "fresh_generator",
    "index_video",
    "plan",
    "seed_globals",
    "seed_value",
    "signature",
]

NUM_CLIPS_TRIED = 3


def build_samplers(
    obj: Any,
    name: str,
    role: str,
    args: Mapping[str, str] | None = None,
    test_time: bool | None = None,
    video_layout: str = "TCHW",
) -> list[SamplerUnderTest]:
    """Wrap `obj` (function or class) as one sampler under test, or two when a flag such as
    ``test_mode`` switches it between training and test-time behaviour."""
    args = dict(args or {})
    layout = str(args.pop("layout", video_layout)).upper() if role == "subsample" else video_layout
    flag_variants: list[tuple[str, Any] | None] = [None]
    if test_time is None:
        names = set()
        for callable_ in (obj if inspect.isclass(obj) else None, instance.call_of(obj)):
            if callable_ is not None:
                names |= set(signature(callable_, name).parameters)
        flags = [f for f in TEST_MODE_FLAGS if f in names and f not in args]
        if flags:
            flag_variants = [None, (flags[0], TEST_MODE_FLAGS[flags[0]])]
    samplers = []
    for variant in flag_variants:
        variant_args = dict(args)
        variant_test_time = bool(test_time) if test_time is not None else looks_test_time(name)
        if variant is not None:
            variant_args[variant[0]] = repr(variant[1])
            variant_test_time = True
        samplers.append(_build_one(obj, name, role, variant_args, variant_test_time, layout))
    return samplers


def _bind(obj: Any, name: str, args: Mapping[str, str], wanted: list[str]) -> Binding:
    if inspect.isclass(obj):
        return instance.bind(obj, name, args, wanted)
    return function.bind(obj, name, args, wanted)


def _build_one(
    obj: Any, name: str, role: str, args: Mapping[str, str], test_time: bool, layout: str
) -> SamplerUnderTest:
    count_token = "video" if role == "subsample" else "num_frames"
    wanted = [count_token, "T", "seed"] + (["num_clips"] if role == "multiclip" else [])
    binding = _bind(obj, name, args, wanted)
    tokens = binding.roles
    for token in (count_token, "T"):
        if token not in tokens:
            role_words = {"num_frames": "the frame count", "T": "the clip length", "video": "the video"}
            raise AdapterError(
                f"cannot tell which parameter of {name} is {role_words[token]}; map it with --args NAME={token}"
            )
    seed_plan = next((p for p in binding.plans if p.has("seed")), None)
    seed_parameter = seed_plan.parameter_for("seed") if seed_plan else None
    seeded = seed_plan is not None
    num_clips = NUM_CLIPS_TRIED if "num_clips" in tokens else None
    videos: dict[int, Any] = {}
    video_as_torch = module_uses_torch(obj)

    def values_for(num_frames: int, T: int, seed: int) -> tuple[dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {"num_frames": num_frames, "T": T, "num_clips": num_clips, "seed_key": seed}
        shown: dict[str, str] = {}
        if seeded:
            values["seed"], shown["seed"] = seed_value(seed_parameter, seed)
        if role == "subsample":
            values["video"] = videos.get(num_frames)
            if values["video"] is None:
                values["video"] = videos[num_frames] = index_video(num_frames, layout, as_torch=video_as_torch)
            shown["video"] = f"<{layout} video of {num_frames} frames>"
        return values, shown

    def invoke(num_frames: int, T: int, seed: int) -> Any:
        if not seeded:
            seed_globals(seed)
        values, _ = values_for(num_frames, T, seed)
        return binding.call(values)

    def describe(num_frames: int, T: int, seed: int) -> str:
        values, shown = values_for(num_frames, T, seed)
        return binding.render(values, shown)

    sampler = SamplerUnderTest(
        name=name, role=role, invoke=invoke, describe=describe, seeded=seeded, test_time=test_time, num_clips=num_clips
    )
    fixed = binding.fixed
    if fixed:
        sampler.notes.append(f"{name}: called with " + ", ".join(f"{k}={v!r}" for k, v in fixed.items()))
    return sampler
