"""Classes with ``__call__``: an instance is built from ``__init__`` (roles and --args there first), then called.

One instance is kept per (T, seed) when ``__init__`` takes the seed, else per T, so a grid of
thousands of calls builds a few dozen instances.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from temporalkit.validators.dynamic.adapters.base import AdapterError, Binding, plan, signature


def call_of(obj: Any) -> Any:
    """The method an instance of class `obj` is called through; `obj` itself for a non-class."""
    if inspect.isclass(obj):
        call = getattr(obj, "__call__", None)
        if call is None or call is object.__call__ or call is type.__call__:
            return None
        return call
    return obj


def bind(obj: Any, name: str, args: Mapping[str, str], wanted: Iterable[str]) -> Binding:
    wanted = list(wanted)
    if not callable(call_of(obj)):
        raise AdapterError(f"{name} is a class without __call__: name a method (e.g. {name}.sample) instead")
    init_plan = plan(signature(obj, name), dict(args), ["T", "num_clips", "seed"], name)
    call_signature = inspect.signature(obj.__call__)
    call_signature = call_signature.replace(parameters=list(call_signature.parameters.values())[1:])
    init_tokens = init_plan.roles
    call_plan = plan(
        call_signature,
        {k: v for k, v in args.items() if k not in {p for p, _, _ in init_plan.tokens} | set(init_plan.fixed)},
        [t for t in wanted if t not in init_tokens],
        f"{name}.__call__",
    )
    instances: dict[tuple, Any] = {}

    def call(values: Mapping[str, Any]) -> Any:
        key = (values["T"], values.get("seed_key") if init_plan.has("seed") else None)
        instance = instances.get(key)
        if instance is None:
            positional, keywords = init_plan.bind(values)
            instance = obj(*positional, **keywords)
            if len(instances) > 4096:
                instances.clear()
            instances[key] = instance
        positional, keywords = call_plan.bind(values)
        return instance(*positional, **keywords)

    def render(values: Mapping[str, Any], shown: Mapping[str, str]) -> str:
        return f"{name}({init_plan.render(values, shown)})({call_plan.render(values, shown)})"

    return Binding((init_plan, call_plan), call, render)
