"""Plain functions (and bound methods): ``sample(num_frames, T, rng)`` called with each role passed by
its parameter name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from temporalkit.validators.dynamic.adapters.base import AdapterError, Binding, plan, signature


def bind(
    obj: Any, name: str, args: Mapping[str, str], wanted: Iterable[str], convention: Mapping[str, Any] | None = None
) -> Binding:
    if not callable(obj):
        raise AdapterError(f"{name} is not callable")
    call_plan = plan(signature(obj, name), args, wanted, name)

    def call(values: Mapping[str, Any]) -> Any:
        positional, keywords = call_plan.bind(values)
        return obj(*positional, **keywords)

    def render(values: Mapping[str, Any], shown: Mapping[str, str]) -> str:
        return f"{name}({call_plan.render(values, shown)})"

    return Binding((call_plan,), call, render, convention="function")
