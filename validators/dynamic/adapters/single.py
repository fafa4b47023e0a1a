"""Transforms, loaders and image readers: one input (a clip or a path) and any other parameters fixed
by --args, a class built from ``__init__`` first (--init, or --args naming ``__init__``'s parameters).

`wrap` returns a plain callable ``f(clip)`` / ``f(path, **count)`` whose signature is what is left to
fill (so a loader's frame-count parameter is still found by name), and a line saying how the object
is called, for -v.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from temporalkit.validators.dynamic.adapters import dict_pipeline, module
from temporalkit.validators.dynamic.adapters.base import AdapterError, argument_value, merged, signature
from temporalkit.validators.dynamic.adapters.instance import call_of
from temporalkit.validators.dynamic.vocabulary import ROLE_TOKENS

INPUT_TOKENS = {"transform": ("clip", "video"), "loader": ("path",), "image": ("path",)}


def _fixed(parameters: Mapping[str, inspect.Parameter], args: Mapping[str, str]) -> dict[str, Any]:
    return {k: argument_value(v) for k, v in args.items() if k in parameters and v not in ROLE_TOKENS}


def build_instance(cls: type, name: str, args: Mapping[str, str], convention: Mapping[str, Any] | None) -> Any:
    """`cls` built from the --init / --args entries that name its ``__init__`` parameters."""
    init_args = merged(args, convention)
    parameters = signature(cls, name).parameters
    fixed = _fixed(parameters, init_args)
    missing = [
        p.name
        for p in parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in fixed
    ]
    if missing:
        raise AdapterError(
            f"cannot build {name}: __init__ needs {', '.join(missing)}; give "
            f"{'them' if len(missing) > 1 else 'it'} with --init {missing[0]}=<value> (or init = {{...}} in "
            "[tool.temporalkit.dynamic])"
        )
    return cls(**fixed)


def wrap(
    obj: Any, name: str, role: str, args: Mapping[str, str], convention: Mapping[str, Any] | None = None
) -> tuple[Any, str]:
    """(callable the checks call, how it is called)."""
    args = dict(args)
    how: list[str] = []
    target = obj
    if inspect.isclass(obj):
        instance = build_instance(obj, name, args, convention)
        init_names = set(signature(obj, name).parameters)
        init_fixed = _fixed(signature(obj, name).parameters, merged(args, convention))
        how.append(f"built as {name}({', '.join(f'{k}={v!r}' for k, v in init_fixed.items())})")
        args = {k: v for k, v in args.items() if k not in init_names}
        if role == "transform" and dict_pipeline.is_dict_pipeline(obj, convention):
            transform, text = dict_pipeline.wrap_transform(instance, name, convention)
            return transform, "; ".join([*how, text])
        if module.is_module_class(obj):
            call_signature = signature(obj.forward, f"{name}.forward")
            call_signature = call_signature.replace(parameters=list(call_signature.parameters.values())[1:])
            how.append("called through forward")
        elif callable(call_of(obj)):
            call_signature = signature(instance, f"{name}.__call__")
        else:
            raise AdapterError(f"{name} is a class without __call__: name a method (e.g. {name}.apply) instead")
        target = instance
    else:
        if not callable(obj):
            raise AdapterError(f"{name} is not callable")
        if role == "transform" and (convention or {}).get("clip_key"):
            transform, text = dict_pipeline.wrap_transform(obj, name, convention, method="__call__")
            return transform, text
        call_signature = signature(obj, name)
    parameters = call_signature.parameters
    unknown = [k for k in args if k not in parameters and k != "layout"]
    has_var_keyword = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    if unknown and not has_var_keyword:
        raise AdapterError(f"--args {unknown[0]}: {name} has no parameter {unknown[0]!r}")
    fixed = (
        _fixed(parameters, args)
        if not has_var_keyword
        else {k: argument_value(v) for k, v in args.items() if v not in ROLE_TOKENS and k != "layout"}
    )
    if not fixed and target is obj:
        return obj, "; ".join(how) or "called as is"
    input_name = next((k for k, v in args.items() if v in INPUT_TOKENS.get(role, ())), None)
    remaining = [p for n, p in parameters.items() if n not in fixed]
    if input_name is not None:
        remaining.sort(key=lambda p: p.name != input_name)
    remaining = [
        p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) if p.kind == p.POSITIONAL_ONLY else p for p in remaining
    ]
    missing = [
        p.name for p in remaining[1:] if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if missing and role == "transform":
        raise AdapterError(
            f"cannot call {name}: parameter {missing[0]} has no default; give it with --args {missing[0]}=<value>"
        )

    try:
        left = inspect.Signature(remaining)
    except ValueError:
        left = call_signature
    positional_only = [n for n, p in parameters.items() if p.kind == p.POSITIONAL_ONLY]

    def called(*a: Any, **k: Any) -> Any:
        bound = left.bind(*a, **k)
        values = {**fixed}
        extra_args: tuple = ()
        for key, value in bound.arguments.items():
            kind = left.parameters[key].kind
            if kind == inspect.Parameter.VAR_POSITIONAL:
                extra_args = tuple(value)
            elif kind == inspect.Parameter.VAR_KEYWORD:
                values.update(value)
            else:
                values[key] = value
        positional = [values.pop(n) for n in positional_only if n in values]
        return target(*positional, *extra_args, **values)

    called.__signature__ = left  # type: ignore[attr-defined]
    called.__doc__ = getattr(target, "__doc__", None)
    called.__module__ = getattr(obj, "__module__", None) or __name__
    called.__name__ = called.__qualname__ = name
    if fixed:
        how.append("called with " + ", ".join(f"{k}={v!r}" for k, v in fixed.items()))
    return called, "; ".join(how)
