"""``torch.nn.Module`` classes: built from ``__init__``, called through ``forward``'s signature
(``Module.__call__`` takes ``*args, **kwargs`` and says nothing).

The time axis of the video a subsampler is fed comes, in this order, from ``layout`` in --args,
from an argument that names it (``temporal_dim=-3``, given or the default of ``__init__`` or
``forward``), else TCHW. A 4-D video's axis maps to a layout: 0 or -4 -> TCHW, 1 or -3 -> CTHW.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from temporalkit.validators.dynamic.adapters.base import AdapterError, Binding, argument_value, merged
from temporalkit.validators.dynamic.adapters.instance import bind_instance, method_signature
from temporalkit.validators.dynamic.vocabulary import TEMPORAL_DIM_NAMES

AXIS_LAYOUTS = {0: "TCHW", -4: "TCHW", 1: "CTHW", -3: "CTHW"}


def is_module_class(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    if torch is None or not inspect.isclass(obj):
        return False
    try:
        return issubclass(obj, torch.nn.Module)
    except TypeError:
        return False


def temporal_axis(obj: Any, args: Mapping[str, str]) -> tuple[str, int] | None:
    """(parameter, axis) of the argument that names the time axis: given, else a default of
    ``__init__`` or ``forward``."""
    for name in TEMPORAL_DIM_NAMES:
        if name in args:
            value = argument_value(args[name])
            if isinstance(value, int):
                return name, value
    owners = [getattr(obj, "__init__", None), getattr(obj, "forward", None)] if inspect.isclass(obj) else [obj]
    for function in owners:
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError, AttributeError):
            continue
        for name in TEMPORAL_DIM_NAMES:
            parameter = parameters.get(name)
            if parameter is not None and isinstance(parameter.default, int):
                return name, parameter.default
    return None


def layout_for(obj: Any, args: Mapping[str, str]) -> tuple[str | None, str]:
    """(layout, why) the module's own arguments imply; (None, "") when they say nothing."""
    found = temporal_axis(obj, args)
    if found is None:
        return None, ""
    name, axis = found
    layout = AXIS_LAYOUTS.get(axis)
    if layout is None:
        raise AdapterError(
            f"{getattr(obj, '__name__', obj)}: {name}={axis} is not a time axis of a 4-D video the auditor can build; "
            "pass --args layout=TCHW|CTHW|THWC"
        )
    return layout, f"{name}={axis}"


def bind(
    obj: Any, name: str, args: Mapping[str, str], wanted: Iterable[str], convention: Mapping[str, Any] | None = None
) -> Binding:
    if getattr(obj, "forward", None) is None:
        raise AdapterError(f"{name} is an nn.Module without forward")
    call_signature = method_signature(obj, "forward", f"{name}.forward")
    binding, _, _ = bind_instance(
        obj,
        name,
        args,
        wanted,
        convention=convention,
        method="forward",
        call_signature=call_signature,
        invoke=lambda instance, a, k: instance(*a, **k),  # through Module.__call__, hooks included
        label="nn.Module",
    )
    layout, why = layout_for(obj, merged(args, convention))
    if layout is not None:
        binding.layout = layout
        binding.mapping = (*binding.mapping, f"video layout {layout} (from {why})")
    return binding
