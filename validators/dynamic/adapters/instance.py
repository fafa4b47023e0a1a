"""Classes with ``__call__``: an instance is built from ``__init__`` (roles, --init and --args there
first), then called.

One instance is kept per (T, seed) when ``__init__`` takes the seed, else per T, so a grid of
thousands of calls builds a few dozen instances. `method` names what the instance is called
through when it is not ``__call__`` (``forward`` for an nn.Module, ``transform`` for an OpenMMLab
pipeline step).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from temporalkit.validators.dynamic.adapters.base import AdapterError, Binding, Plan, merged, plan, signature


@dataclass(frozen=True)
class MethodOf:
    """A method target (``VideoSet.sample_indices``) with --init: the class is built from ``__init__``
    (roles such as ``clip_len=T`` there too) and the method called on the instance."""

    cls: type
    method: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # callable, for the checks that ask
        raise TypeError(f"{self.cls.__name__}.{self.method} needs an instance")


def call_of(obj: Any, method: str = "__call__") -> Any:
    """The method an instance of class `obj` is called through; `obj` itself for a non-class."""
    if inspect.isclass(obj):
        call = getattr(obj, method, None)
        if call is None or call is object.__call__ or call is type.__call__:
            return None
        return call
    return obj


def method_signature(cls: type, method: str, where: str) -> inspect.Signature:
    """The signature of `cls.method` without `self`."""
    sig = signature(getattr(cls, method), where)
    return sig.replace(parameters=list(sig.parameters.values())[1:])


def bind_instance(
    obj: type,
    name: str,
    args: Mapping[str, str],
    wanted: Iterable[str],
    *,
    convention: Mapping[str, Any] | None = None,
    method: str = "__call__",
    call_signature: inspect.Signature | None = None,
    invoke: Callable[[Any, list, dict], Any] | None = None,
    label: str = "instance",
    init_wanted: Iterable[str] | None = None,
) -> tuple[Binding, Plan, Plan]:
    """The binding, the __init__ plan and the call plan. `invoke(instance, args, kwargs)` calls the
    built instance (default: ``getattr(instance, method)(*args, **kwargs)``)."""
    wanted = list(wanted)
    if not callable(call_of(obj, method)):
        raise AdapterError(f"{name} is a class without {method}: name a method (e.g. {name}.sample) instead")
    init_args = merged(args, convention)
    if init_wanted is None:
        # num_clips in __init__ is a role only for a multi-clip sampler; a sampler keeps its default.
        init_wanted = [t for t in ("T", "num_clips", "seed") if t != "num_clips" or t in wanted]
    init_plan = plan(signature(obj, name), init_args, list(init_wanted), f"{name}.__init__ (use --init)")
    if call_signature is None:
        call_signature = method_signature(obj, method, f"{name}.{method}")
    init_tokens = init_plan.roles
    used_by_init = {p for p, _, _ in init_plan.tokens} | set(init_plan.fixed)
    call_plan = plan(
        call_signature,
        {k: v for k, v in args.items() if k not in used_by_init},
        [t for t in wanted if t not in init_tokens],
        f"{name}.{method}",
    )
    instances: dict[tuple, Any] = {}
    _CACHES.append(instances)
    invoke = invoke or (lambda instance, a, k: getattr(instance, method)(*a, **k))

    def build(values: Mapping[str, Any]) -> Any:
        key = (values["T"], values.get("seed_key") if init_plan.has("seed") else None)
        instance = instances.get(key)
        if instance is None:
            positional, keywords = init_plan.bind(values)
            instance = obj(*positional, **keywords)
            if len(instances) > 4096:
                instances.clear()
            instances[key] = instance
        return instance

    def call(values: Mapping[str, Any]) -> Any:
        instance = build(values)
        positional, keywords = call_plan.bind(values)
        return invoke(instance, positional, keywords)

    shown_method = "" if method in ("__call__", "forward") else f".{method}"

    def render(values: Mapping[str, Any], shown: Mapping[str, str]) -> str:
        return f"{name}({init_plan.render(values, shown)}){shown_method}({call_plan.render(values, shown)})"

    return Binding((init_plan, call_plan), call, render, convention=label), init_plan, call_plan


# Every instance cache made by `bind_instance`: `forget_instances` empties them, so the next call
# builds a fresh instance (a stateful sampler, self.rng made in __init__, is judged per instance).
_CACHES: list[dict] = []


def forget_instances() -> None:
    """Make the next call of every bound class build a fresh instance."""
    for cache in _CACHES:
        cache.clear()


def bind(
    obj: Any, name: str, args: Mapping[str, str], wanted: Iterable[str], convention: Mapping[str, Any] | None = None
) -> Binding:
    if isinstance(obj, MethodOf):
        owner = name.rpartition(".")[0] or obj.cls.__name__
        binding, _, _ = bind_instance(obj.cls, owner, args, wanted, convention=convention, method=obj.method)
        return binding
    binding, _, _ = bind_instance(obj, name, args, wanted, convention=convention)
    return binding
