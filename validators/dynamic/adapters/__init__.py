"""Adapters: one module per calling convention, each turning a user object into something the checks
call with the values they try.

- `function`: a plain function (or bound method), roles passed by parameter name.
- `instance`: a class with ``__call__``, built from ``__init__`` (--init) first.
- `module`: a ``torch.nn.Module``, called through ``forward``'s signature; ``temporal_dim`` honoured.
- `dict_pipeline`: OpenMMLab-style ``transform(results) -> results`` (inputs / output / clip_key, presets).
- `seconds`: clip samplers in seconds (pytorchvideo ``ClipSampler``), converted at `SECONDS_FPS`.
- `single`: transforms, loaders and image readers (one input; the rest fixed by --args / --init).

`build_samplers` picks the adapter for a sampler, subsampler or multi-clip sampler and wraps the result
with the grid-cell values (seed handling, the index video of subsamplers). A new convention is one
new module here and one line in `_adapter_for`. The checks (`sampler_checks`, ...) never look at
signatures.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
from temporalkit.validators.dynamic.adapters import dict_pipeline, function, instance, module, roles, seconds
from temporalkit.validators.dynamic.adapters.base import (
    AdapterError,
    Binding,
    NeedsInit,
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
from temporalkit.validators.dynamic.adapters.instance import MethodOf
from temporalkit.validators.dynamic.vocabulary import TEST_MODE_FLAGS, looks_test_time

__all__ = [
    "AdapterError",
    "Binding",
    "MethodOf",
    "NeedsInit",
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
LAYOUTS = ("TCHW", "CTHW", "THWC")


def _adapter_for(obj: Any, role: str, convention: Mapping[str, Any] | None) -> tuple[str, Any]:
    """(name, bind function) of the calling convention `obj` is written in."""
    if role != "subsample" and dict_pipeline.is_dict_pipeline(obj, convention):
        return "dict", lambda o, n, a, w, c: dict_pipeline.bind(o, n, a, w, c, role=role)
    if role in ("sampler", "multiclip") and seconds.is_seconds_based(obj):
        return "seconds", seconds.bind
    if module.is_module_class(obj):
        return "nn.Module", module.bind
    if inspect.isclass(obj) or isinstance(obj, instance.MethodOf):
        return "instance", instance.bind
    return "function", function.bind


def build_samplers(
    obj: Any,
    name: str,
    role: str,
    args: Mapping[str, str] | None = None,
    test_time: bool | None = None,
    video_layout: str = "TCHW",
    convention: Mapping[str, Any] | None = None,
) -> list[SamplerUnderTest]:
    """Wrap `obj` (function, class, nn.Module, dict pipeline, seconds-based sampler) as one sampler
    under test, or two when a flag such as ``test_mode`` switches it between training and test-time
    behaviour. `convention`: the object's ``init`` / ``inputs`` / ``output`` / ``clip_key`` /
    ``preset`` / ``fps`` settings."""
    args = dict(args or {})
    layout: str | None = None
    if "layout" in args:
        layout = str(args.pop("layout")).strip("'\"").upper()
        if layout not in LAYOUTS:
            raise AdapterError(f"--args layout={layout}: unknown video layout; use {', '.join(LAYOUTS)}")
    flag_variants: list[tuple[str, Any] | None] = [None]
    init = dict((convention or {}).get("init") or {})
    if test_time is None:
        names = set()
        call_method = "forward" if module.is_module_class(obj) else "__call__"
        owner = obj.cls if isinstance(obj, instance.MethodOf) else obj
        if isinstance(obj, instance.MethodOf):
            call_method = obj.method
        for callable_ in (owner if inspect.isclass(owner) else None, instance.call_of(owner, call_method)):
            if callable_ is not None:
                names |= set(signature(callable_, name).parameters)
        flags = [f for f in TEST_MODE_FLAGS if f in names and f not in args and f not in init]
        if flags:
            flag_variants = [None, (flags[0], TEST_MODE_FLAGS[flags[0]])]
    resolved = None
    if role in ("sampler", "multiclip") and _adapter_for(obj, role, convention)[0] in (
        "function",
        "instance",
        "nn.Module",
    ):
        pair = roles.ambiguous_pair(obj, args)
        if pair is not None:
            chosen_roles, resolved = roles.choose(
                pair,
                lambda extra: (
                    _build_one(
                        obj, name, role, {**args, **extra}, True, layout or video_layout, convention, layout is not None
                    ).invoke
                ),
                multiclip=role == "multiclip",
            )
            args = {**args, **chosen_roles}
    samplers = []
    for variant in flag_variants:
        variant_args = dict(args)
        variant_test_time = bool(test_time) if test_time is not None else looks_test_time(name)
        if variant is not None:
            variant_args[variant[0]] = repr(variant[1])
            variant_test_time = True
        samplers.append(
            _build_one(
                obj, name, role, variant_args, variant_test_time, layout or video_layout, convention, layout is not None
            )
        )
        samplers[-1].training = variant is None and len(flag_variants) > 1
        if resolved:
            samplers[-1].mapping += f" ({resolved})"
    return samplers


def _declared_video_kind(binding: Binding) -> str | None:
    """ "tensor", "array" or "list" when the video parameter's annotation says which; None otherwise."""
    for plan_ in binding.plans:
        parameter = plan_.parameter_for("video")
        if parameter is None or parameter.annotation is inspect.Parameter.empty:
            continue
        text = str(parameter.annotation)
        if "Tensor" in text:
            return "tensor"
        if text.startswith(("list", "List", "typing.List", "Sequence", "typing.Sequence")):
            return "list"
        if "ndarray" in text or "np." in text or "numpy" in text:
            return "array"
    return None


def _build_one(
    obj: Any,
    name: str,
    role: str,
    args: Mapping[str, str],
    test_time: bool,
    layout: str,
    convention: Mapping[str, Any] | None = None,
    layout_given: bool = False,
) -> SamplerUnderTest:
    count_token = "video" if role == "subsample" else "num_frames"
    wanted = [count_token, "T", "seed"] + (["num_clips"] if role == "multiclip" else [])
    if inspect.isclass(obj) and inspect.isabstract(obj):
        missing = ", ".join(sorted(getattr(obj, "__abstractmethods__", ())))
        raise AdapterError(f"{name} is an abstract class ({missing} not implemented): check a subclass instead")
    _, bind = _adapter_for(obj, role, convention)
    binding: Binding = bind(obj, name, args, wanted, convention)
    if binding.layout is None and role == "subsample" and binding.convention == "function":
        found, why = module.layout_for(obj, args)  # uniform_temporal_subsample(x, n, temporal_dim=-3)
        if found is not None:
            binding.layout = found
            binding.mapping = (*binding.mapping, f"video layout {found} (from {why})")
    if binding.layout and not layout_given:
        layout = binding.layout
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
    video_as_torch = module_uses_torch(obj) or binding.convention == "nn.Module"
    video_kind = _declared_video_kind(binding)  # the type the video parameter is annotated with, if any
    if video_kind is not None:
        video_as_torch = video_kind == "tensor"

    def values_for(num_frames: int, T: int, seed: int) -> tuple[dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {"num_frames": num_frames, "T": T, "num_clips": num_clips, "seed_key": seed}
        shown: dict[str, str] = {}
        if seeded:
            values["seed"], shown["seed"] = seed_value(seed_parameter, seed)
        if role == "subsample":
            values["video"] = videos.get(num_frames)
            if values["video"] is None:
                video = index_video(num_frames, layout, as_torch=video_as_torch)
                if video_kind == "list":  # `frames: list[np.ndarray]`: a list of frames, as the annotation says
                    video = list(np.moveaxis(video, layout.index("T"), 0))
                values["video"] = videos[num_frames] = video
            if isinstance(values["video"], list):
                values["video"] = list(values["video"])  # a fresh list per call: code may append to it
            shown["video"] = f"<{layout} video of {num_frames} frames>"
        return values, shown

    def invoke(num_frames: int, T: int, seed: int) -> Any:
        if not seeded:
            seed_globals(seed)
        values, _ = values_for(num_frames, T, seed)
        return binding.call(values)

    def invoke_unseeded(num_frames: int, T: int, seed: int) -> Any:
        values, _ = values_for(num_frames, T, seed)
        return binding.call(values)

    def describe(num_frames: int, T: int, seed: int) -> str:
        values, shown = values_for(num_frames, T, seed)
        return binding.render(values, shown)

    mapping = binding.describe_mapping()
    if role == "subsample" and "video layout" not in mapping:
        mapping += f"{', ' if mapping else ''}video layout {layout}"
    sampler = SamplerUnderTest(
        name=name,
        role=role,
        invoke=invoke,
        invoke_unseeded=None if seeded else invoke_unseeded,
        describe=describe,
        seeded=seeded,
        test_time=test_time,
        num_clips=num_clips,
        layout=layout,
        convention=binding.convention,
        mapping=mapping,
    )
    fixed = binding.fixed
    if fixed:
        sampler.notes.append(f"{name}: called with " + ", ".join(f"{k}={v!r}" for k, v in fixed.items()))
    return sampler
