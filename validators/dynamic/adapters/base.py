"""What every adapter shares: the wrapped object the checks call, how parameters get their roles, seeding.

An adapter turns one user object (a function, a class, a dict pipeline, ...) into a
`SamplerUnderTest`: a callable ``invoke(num_frames, T, seed)`` plus ``describe(...)`` that renders
the call the way the user wrote it. Parameters are given roles by `plan`: the user's ``--args``
first, then the name vocabulary of `discover`.
"""

from __future__ import annotations

import inspect
import random
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from temporalkit.validators.dynamic.vocabulary import (
    CLIP_DURATION_NAMES,
    CLIP_LENGTH_NAMES,
    DURATION_NAMES,
    FRAME_COUNT_NAMES,
    LAST_END_NAMES,
    NUM_CLIPS_NAMES,
    RESULTS_NAMES,
    ROLE_TOKENS,
    SEED_NAMES,
    VIDEO_NAMES,
    argument_value,
)


class AdapterError(ValueError):
    """The object cannot be called as a sampler (a parameter nobody maps, not callable, ...)."""


class NeedsInit(BaseException):
    """A method was called on an instance whose ``__init__`` never ran (no --init / ``init = {...}``)
    and it read an attribute ``__init__`` sets. A BaseException so that no check's ``except Exception``
    takes it for a finding against the user's code: the object could not be audited."""


def merged(args: Mapping[str, str], convention: Mapping[str, Any] | None) -> dict[str, str]:
    """--args with --init's entries added (--init names __init__ parameters; --args may too)."""
    out = dict(args)
    for key, value in dict((convention or {}).get("init") or {}).items():
        out.setdefault(key, value)
    return out


@dataclass
class SamplerUnderTest:
    """A user sampler wrapped so the checks can call it as ``invoke(num_frames, T, seed)``.

    `describe(num_frames, T, seed)` renders the call the way the user wrote it, e.g.
    ``sample(vlen=7, clip_len=8)``. `seeded`: the sampler takes a seed or generator from us;
    otherwise the global `random` / `numpy.random` (and torch) state is seeded before each call.
    """

    name: str
    role: str
    invoke: Callable[[int, int, int], Any]
    describe: Callable[[int, int, int], str]
    seeded: bool = False
    test_time: bool = False
    training: bool = False  # the training side of a sampler a flag (test_mode=...) switches to test time
    kind: str | None = None  # "uniform" | "window"; None: read from the outputs
    num_clips: int | None = None
    notes: list[str] = field(default_factory=list)
    layout: str = "TCHW"  # the layout of the index video a subsampler is fed (and read back in)
    convention: str = "function"  # the adapter that calls it (function, instance, module, dict, seconds)
    mapping: str = ""  # how its parameters are filled, for -v
    random: bool = False  # set by the checks: its output changes with the random state
    # `invoke` without seeding the global random state first (None: nothing to skip, e.g. `seeded`); the
    # grid uses it only while the global state provably stays as seeded (see `GlobalState`).
    invoke_unseeded: Callable[[int, int, int], Any] | None = None


# --- seeding -----------------------------------------------------------------------------------------


def seed_globals(seed: int) -> None:
    """Seed `random`, `numpy.random` and (when the audited code imported it) torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        # The CPU generator directly: `torch.manual_seed` also walks the CUDA/MPS/XPU seeding hooks and
        # costs ~100x more (0.9 ms a call measured here: 18 s over a 20k-call grid, enough to push a
        # module past the time limit). CUDA generators are seeded too once CUDA is in use.
        generator = getattr(torch, "default_generator", None)
        if generator is None:
            torch.manual_seed(seed)
            return
        generator.manual_seed(seed)
        cuda = getattr(torch, "cuda", None)
        if cuda is not None and cuda.is_initialized():
            cuda.manual_seed_all(seed)


class GlobalState:
    """The global random generators (`random`, `numpy.random`, torch's CPU generator) as `seed_globals`
    left them, to tell afterwards which ones calls moved. A generator no call moved is still as seeded,
    so seeding it again before each call would have changed nothing those calls saw; seeding all three
    costs 7-11 us a call, a third of a simple sampler's grid. `snapshot` is None where the generators
    cannot all be compared (CUDA in use): then everything is seeded before each call."""

    NAMES = ("random", "numpy", "torch")

    def __init__(self, seed: int) -> None:
        seed_globals(seed)
        self.seed = seed
        self.snapshot = self._take()

    @staticmethod
    def _take() -> dict[str, Any] | None:
        states: dict[str, Any] = {"random": random.getstate(), "numpy": np.random.get_state()}
        torch = sys.modules.get("torch")
        if torch is not None:
            cuda = getattr(torch, "cuda", None)
            generator = getattr(torch, "default_generator", None)
            if generator is None or (cuda is not None and cuda.is_initialized()):
                return None
            states["torch"] = generator.get_state()
        return states

    def moved(self) -> set[str] | None:
        """The generators whose state is no longer the seeded one (None: cannot tell)."""
        now = self._take()
        if self.snapshot is None or now is None or set(now) != set(self.snapshot):
            return None
        changed = set()
        if now["random"] != self.snapshot["random"]:
            changed.add("random")
        before, after = self.snapshot["numpy"], now["numpy"]
        if before[0] != after[0] or not np.array_equal(before[1], after[1]) or before[2:] != after[2:]:
            changed.add("numpy")
        if "torch" in now:
            import torch

            if not bool(torch.equal(self.snapshot["torch"], now["torch"])):
                changed.add("torch")
        return changed


def seed_some(names: Iterable[str]) -> Callable[[int], None]:
    """Seeds only the named global generators (see `GlobalState`); `seed_globals` for all of them."""
    chosen = set(names)
    if chosen >= {"random", "numpy", "torch"} or (chosen >= {"random", "numpy"} and "torch" not in sys.modules):
        return seed_globals
    seeders = []
    if "random" in chosen:
        seeders.append(random.seed)
    if "numpy" in chosen:
        seeders.append(np.random.seed)
    if "torch" in chosen:
        seeders.append(sys.modules["torch"].default_generator.manual_seed)

    def seed(value: int) -> None:
        for seeder in seeders:
            seeder(value)

    return seed


def seed_value(parameter: inspect.Parameter | None, seed: int) -> tuple[Any, str]:
    """The value passed for a seed parameter and how it is shown in messages."""
    annotation = (
        "" if parameter is None or parameter.annotation is inspect.Parameter.empty else str(parameter.annotation)
    )
    name = parameter.name if parameter is not None else "seed"
    if "torch" in annotation:
        import torch

        return torch.Generator().manual_seed(seed), f"torch.Generator().manual_seed({seed})"
    if "Random" in annotation and "Generator" not in annotation:
        return random.Random(seed), f"random.Random({seed})"
    if "int" in annotation or name in ("seed", "random_state"):
        return seed, str(seed)
    return fresh_generator(seed), f"np.random.default_rng({seed})"


_GENERATORS: dict[int, tuple[np.random.Generator, dict]] = {}


def fresh_generator(seed: int) -> np.random.Generator:
    """`np.random.default_rng(seed)` in its initial state; rewinding a cached one is ~10x cheaper than seeding."""
    cached = _GENERATORS.get(seed)
    if cached is None:
        generator = np.random.default_rng(seed)
        cached = _GENERATORS[seed] = (generator, generator.bit_generator.state)
    generator, state = cached
    generator.bit_generator.state = state
    return generator


# --- parameter roles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How each parameter of one signature is filled: a role token or a fixed value."""

    tokens: tuple[tuple[str, str, inspect.Parameter], ...]  # (parameter, token, parameter object)
    fixed: Mapping[str, Any]
    positional_only: tuple[str, ...]

    def bind(self, values: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        kwargs = dict(self.fixed)
        for parameter, token, _ in self.tokens:
            kwargs[parameter] = values[token]
        args = [kwargs.pop(p) for p in self.positional_only if p in kwargs]
        return args, kwargs

    def render(self, values: Mapping[str, Any], shown: Mapping[str, str]) -> str:
        parts = []
        for parameter, token, _ in self.tokens:
            parts.append(f"{parameter}={shown.get(token, repr(values[token]))}")
        parts += [f"{p}={v!r}" for p, v in self.fixed.items()]
        return ", ".join(parts)

    def parameter_for(self, token: str) -> inspect.Parameter | None:
        for _, t, parameter in self.tokens:
            if t == token:
                return parameter
        return None

    def has(self, token: str) -> bool:
        return any(t == token for _, t, _ in self.tokens)

    @property
    def roles(self) -> set[str]:
        return {t for _, t, _ in self.tokens}


VOCABULARY: dict[str, tuple[str, ...]] = {
    "num_frames": FRAME_COUNT_NAMES,
    "T": CLIP_LENGTH_NAMES,
    "seed": SEED_NAMES,
    "num_clips": NUM_CLIPS_NAMES,
    "video": VIDEO_NAMES,
    "duration": DURATION_NAMES,
    "clip_duration": CLIP_DURATION_NAMES,
    "last_end": LAST_END_NAMES,
    "annotation": ("annotation", "annotations"),
    "results": RESULTS_NAMES,
}


def plan(signature: inspect.Signature, explicit: Mapping[str, str], wanted: Iterable[str], where: str) -> Plan:
    """Map the parameters of `signature` to role tokens: `explicit` first, then the name vocabulary."""
    parameters = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    tokens: list[tuple[str, str, inspect.Parameter]] = []
    fixed: dict[str, Any] = {}
    taken: set[str] = set()
    for parameter in parameters:
        if parameter.name in explicit:
            text = explicit[parameter.name]
            if text in ROLE_TOKENS:
                tokens.append((parameter.name, "video" if text == "clip" else text, parameter))
                taken.add("video" if text == "clip" else text)
            else:
                fixed[parameter.name] = argument_value(text)
    for token in wanted:
        if token in taken:
            continue
        for parameter in parameters:
            if parameter.name in explicit or any(parameter.name == t[0] for t in tokens):
                continue
            if parameter.name in VOCABULARY[token]:
                tokens.append((parameter.name, token, parameter))
                taken.add(token)
                break
    bound = {t[0] for t in tokens} | set(fixed)
    missing = [p.name for p in parameters if p.name not in bound and p.default is inspect.Parameter.empty]
    if missing:
        raise AdapterError(
            f"cannot call {where}: parameter{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"{'have' if len(missing) > 1 else 'has'} no default and no role; map {'them' if len(missing) > 1 else 'it'} with "
            f"--args {missing[0]}=num_frames|T|seed|num_clips|<value> (or in [tool.temporalkit.dynamic])"
        )
    positional_only = tuple(p.name for p in parameters if p.kind == p.POSITIONAL_ONLY)
    return Plan(tuple(tokens), fixed, positional_only)


def signature(obj: Any, where: str) -> inspect.Signature:
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError) as exc:
        raise AdapterError(f"cannot read the signature of {where}: {exc}") from exc


# --- what an adapter hands back --------------------------------------------------------------------


@dataclass
class Binding:
    """One calling convention applied to one object: the plans it made, how to call, how to show the call.

    `call(values)` and `render(values, shown)` take the role values of one grid cell
    (``num_frames``, ``T``, ``seed``, ``num_clips``, ``video``).
    """

    plans: tuple[Plan, ...]
    call: Callable[[Mapping[str, Any]], Any]
    render: Callable[[Mapping[str, Any], Mapping[str, str]], str]
    convention: str = "function"
    layout: str | None = None  # the video layout the object itself says it takes (nn.Module temporal_dim)
    provides: frozenset[str] = frozenset()  # roles filled some other way (seconds from frames, dict keys)
    mapping: tuple[str, ...] = ()  # extra "name=role" lines for -v (dict keys, conversions)

    @property
    def roles(self) -> set[str]:
        return {t for p in self.plans for t in p.roles} | set(self.provides)

    def describe_mapping(self) -> str:
        """How each parameter is filled, for -v: ``vlen=num_frames, clip_len=T, mode='val'``."""
        parts = [f"{parameter}={token}" for p in self.plans for parameter, token, _ in p.tokens]
        parts += [f"{k}={v!r}" for k, v in self.fixed.items()]
        return ", ".join([*parts, *self.mapping])

    @property
    def fixed(self) -> dict[str, Any]:
        return {k: v for p in self.plans for k, v in p.fixed.items()}


def module_uses_torch(obj: Any) -> bool:
    """Whether the module that defines `obj` imported torch (so its subsamplers expect tensors)."""
    torch = sys.modules.get("torch")
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    if torch is None or module is None:
        return False
    return any(
        value is torch or (getattr(value, "__module__", None) or "").startswith("torch")
        for value in vars(module).values()
    )


def index_video(num_frames: int, layout: str = "TCHW", *, as_torch: bool = False) -> Any:
    """A tiny video whose every pixel holds its frame index, so a subsampler's output shows which frames it chose.

    A torch tensor when `as_torch` (the audited module imported torch), else a numpy array.
    """
    frames = np.arange(num_frames, dtype=np.float32)
    shapes = {"TCHW": (num_frames, 3, 2, 2), "CTHW": (3, num_frames, 2, 2), "THWC": (num_frames, 2, 2, 3)}
    if layout not in shapes:
        raise AdapterError(f"unknown video layout {layout!r}; use TCHW, CTHW or THWC")
    time_axis = layout.index("T")
    view = [1, 1, 1, 1]
    view[time_axis] = num_frames
    video = np.ascontiguousarray(np.broadcast_to(frames.reshape(view), shapes[layout]))
    if not as_torch:
        return video
    import torch

    return torch.from_numpy(video.copy())
