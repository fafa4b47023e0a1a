"""Dict pipelines (OpenMMLab style ``transform(results) -> results``): the roles go in as keys of
one dict and the result comes out of one.

Settings (``[[tool.temporalkit.dynamic.objects]]`` keys, or ``check`` flags):

- ``inputs``: key -> role token or literal, e.g. ``{total_frames = "num_frames", start_index = 0}``;
- ``output``: the key a sampler's indices are read from (``frame_inds``);
- ``clip_key``: the key a transform's clip goes in and comes out under (``imgs``);
- ``method``: what the instance is called through (``transform`` when it has one, else ``__call__``);
- ``preset = "openmmlab"``: all of the above as mmaction2 / mmcv pipelines use them.

A class is built from ``__init__`` first (roles and --init there: ``clip_len`` -> T, ...).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from temporalkit.validators.dynamic.adapters.base import AdapterError, Binding, argument_value, merged, signature
from temporalkit.validators.dynamic.adapters.instance import bind_instance
from temporalkit.validators.dynamic.vocabulary import RESULTS_NAMES, ROLE_TOKENS

PRESETS: dict[str, dict[str, Any]] = {
    "openmmlab": {
        "inputs": {"total_frames": "num_frames", "start_index": 0},
        "output": "frame_inds",
        "clip_key": "imgs",
        "method": "transform",
    },
}
KEYS = ("inputs", "output", "clip_key", "method", "preset")
DEFAULT_PRESET = "openmmlab"


def settings(convention: Mapping[str, Any] | None) -> dict[str, Any]:
    """The dict-pipeline settings of `convention`, a preset filled in under the explicit ones."""
    convention = dict(convention or {})
    preset = convention.get("preset")
    if not preset:
        preset = DEFAULT_PRESET  # what is not said is read as OpenMMLab writes it
    out: dict[str, Any] = {}
    if preset:
        if preset not in PRESETS:
            raise AdapterError(f"unknown preset {preset!r} (one of {', '.join(PRESETS)})")
        out.update(PRESETS[preset])
    out.update({k: v for k, v in convention.items() if k in KEYS[:-1] and v is not None})
    return out


def takes_results(obj: Any) -> str | None:
    """The method of class `obj` (``transform``, ``__call__``) whose one parameter is a results dict."""
    if not inspect.isclass(obj):
        return None
    for method in ("transform", "__call__"):
        function = getattr(obj, method, None)
        if function is None or function in (object.__call__, type.__call__):
            continue
        try:
            names = [p for p in inspect.signature(function).parameters][1:]
        except (TypeError, ValueError):
            continue
        if len(names) == 1 and names[0] in RESULTS_NAMES:
            return method
    return None


def is_dict_pipeline(obj: Any, convention: Mapping[str, Any] | None) -> bool:
    convention = convention or {}
    return any(convention.get(k) for k in KEYS) or takes_results(obj) is not None


def _method(obj: Any, chosen: dict[str, Any]) -> str:
    method = chosen.get("method") or takes_results(obj) or "__call__"
    if inspect.isclass(obj) and getattr(obj, method, None) is None:
        method = takes_results(obj) or "__call__"
    return method


def _inputs(chosen: dict[str, Any]) -> dict[str, Any]:
    inputs = chosen.get("inputs") or {}
    if not isinstance(inputs, Mapping):
        raise AdapterError(f"inputs must be a table of key = role or value, got {inputs!r}")
    return dict(inputs)


def _results(inputs: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, str) and value in ROLE_TOKENS:
            results[key] = values["video" if value == "clip" else value]
        else:
            results[key] = argument_value(value) if isinstance(value, str) else value
    return results


def bind(
    obj: Any,
    name: str,
    args: Mapping[str, str],
    wanted: Iterable[str],
    convention: Mapping[str, Any] | None = None,
    role: str = "sampler",
) -> Binding:
    """A sampler whose indices come back under ``output``."""
    chosen = settings(convention)
    inputs = _inputs(chosen)
    output = chosen.get("output")
    if not output:
        raise AdapterError(f"{name} takes a results dict: say which key holds the indices (output = 'frame_inds')")
    if not any(v == "num_frames" for v in inputs.values()):
        raise AdapterError(
            f"{name} takes a results dict: say which key holds the frame count (inputs = {{total_frames = 'num_frames'}})"
        )
    method = _method(obj, chosen)
    results_only = inspect.Signature([inspect.Parameter("results", inspect.Parameter.POSITIONAL_OR_KEYWORD)])
    init_wanted = [t for t in ("T", "num_clips", "seed") if t == "T" or t in wanted]
    if inspect.isclass(obj):
        inner, init_plan, _ = bind_instance(
            obj,
            name,
            args,
            [*init_wanted, "results"],
            convention=convention,
            init_wanted=init_wanted,
            method=method,
            call_signature=results_only,
            invoke=lambda instance, a, k: getattr(instance, method)(*a, **k),
            label="dict",
        )
        plans = (init_plan,)
    else:
        if not callable(obj):
            raise AdapterError(f"{name} is not callable")
        signature(obj, name)
        inner = Binding((), lambda v: obj(v["results"]), lambda v, s: f"{name}(results)", convention="dict")
        plans = ()
    multiclip = role == "multiclip"

    def call(values: Mapping[str, Any]) -> Any:
        results = _results(inputs, values)
        returned = inner.call({**values, "results": results})
        if not isinstance(returned, Mapping):
            raise TypeError(f"returned {type(returned).__name__}, not the results dict")
        if output not in returned:
            raise KeyError(f"the results dict it returned has no {output!r} key")
        indices = np.asarray(returned[output])
        if multiclip and indices.ndim == 1 and values.get("num_clips"):
            indices = indices.reshape(values["num_clips"], -1)
        return indices

    def render(values: Mapping[str, Any], shown: Mapping[str, str]) -> str:
        keys = ", ".join(
            f"{k!r}: {shown.get(v, repr(values[v])) if v in values else repr(v)}" for k, v in inputs.items()
        )
        text = inner.render({**values, "results": None}, {**shown, "results": f"{{{keys}}}"})
        return text.replace("(results)", f"({{{keys}}})") + f"[{output!r}]"

    provides = {"num_frames"} | ({"num_clips"} if any(v == "num_clips" for v in inputs.values()) else set())
    return Binding(
        plans,
        call,
        render,
        convention="dict",
        provides=frozenset(provides),
        mapping=(
            f"called through {method}(results) with results = {{{', '.join(f'{k}: {v}' for k, v in inputs.items())}}}",
            f"indices read from results[{output!r}]",
        ),
    )


def wrap_transform(
    instance_or_fn: Any, name: str, convention: Mapping[str, Any] | None, method: str | None = None
) -> tuple[Any, str]:
    """A callable ``clip -> clip`` around a dict-pipeline transform, and how it is called (for -v)."""
    chosen = settings(convention)
    clip_key = chosen.get("clip_key") or "imgs"
    inputs = _inputs(chosen)
    inputs.pop("total_frames", None) if inputs.get("total_frames") == "num_frames" else None
    method = method or _method(type(instance_or_fn), chosen)
    target = getattr(instance_or_fn, method, None) if method != "__call__" else instance_or_fn
    if target is None:
        target = instance_or_fn

    def transform(clip: Any) -> Any:
        results = {k: (argument_value(v) if isinstance(v, str) else v) for k, v in inputs.items()}
        results[clip_key] = list(clip) if isinstance(clip, np.ndarray) and clip.ndim == 4 else clip
        returned = target(results)
        if not isinstance(returned, Mapping) or clip_key not in returned:
            raise KeyError(f"the results dict it returned has no {clip_key!r} key")
        return returned[clip_key]

    transform.__name__ = transform.__qualname__ = name
    return transform, f"called through {method}(results), the clip under results[{clip_key!r}]"


__all__ = ["PRESETS", "bind", "is_dict_pipeline", "merged", "settings", "takes_results", "wrap_transform"]
