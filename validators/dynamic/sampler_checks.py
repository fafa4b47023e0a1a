"""Dynamic checks of frame samplers, multi-clip samplers and tensor subsamplers.

A sampler is called over a grid of inputs: every ``num_frames`` in 0..300 plus a spread of larger
lengths, every ``T`` in 1..64, several seeds. The outputs are stacked per ``T`` and the properties of
`temporalkit.validators.sampler_properties` are checked in bulk; for each property that fails, the
smallest failing input (by ``num_frames``, then ``T``, then seed) is reported as the counterexample:

    `sample(num_frames=7, T=8)` returned index 7 (valid 0..6)

What each sampler is held to depends on what it turns out to be, read from its outputs at a long
video (300 frames, T=8) under four seeds:

- all: T indices, each in ``[0, num_frames - 1]``, non-decreasing; short clips use every frame;
  an empty video raises a clear error; the same seed gives the same output.
- deterministic and spread over the video (uniform, TSN-style): no unsampled stretch longer than
  ``2 * ceil(num_frames / T)`` frames.
- random contiguous windows (dense): every start, the last valid one included, is drawn; the number
  of draws is chosen so that a sampler drawing its start uniformly is flagged with probability at
  most `START_FALSE_ALARM_RATE` (1e-6) per input tried.
- test-time samplers (named test/val/eval, switched by a flag such as ``test_mode=True``, or
  declared ``test-time``) and multi-clip samplers: the same output whatever the random state.

Numpy only; torch is used only when the audited module imported it (for tensor subsamplers' input).
"""

from __future__ import annotations

import inspect
import random
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from temporalkit.validators import sampler_properties as props
from temporalkit.validators.dynamic.checks import DYNAMIC_CHECKS, DynamicCheck
from temporalkit.validators.dynamic.discover import (
    CLIP_LENGTH_NAMES,
    FRAME_COUNT_NAMES,
    NUM_CLIPS_NAMES,
    ROLE_TOKENS,
    SEED_NAMES,
    TEST_MODE_FLAGS,
    VIDEO_NAMES,
    argument_value,
    looks_test_time,
)
from temporalkit.validators.findings import Finding

SMALL_LENGTHS: tuple[int, ...] = tuple(range(0, 301))
LARGE_LENGTHS: tuple[int, ...] = (333, 401, 512, 640, 777, 1000, 1501, 2048, 3001, 4999, 10007)
CLIP_LENGTHS: tuple[int, ...] = tuple(range(1, 65))
GRID_SEEDS: tuple[int, ...] = (0, 1, 2)
# Extra seeds run on the short lengths only, where short-clip and off-by-one bugs live.
EXTRA_SEED_MAX_LENGTH = 100
NUM_CLIPS_TRIED = 3
REACHABILITY_T: tuple[int, ...] = (1, 2, 3, 5, 8, 16, 32, 64)
REACHABILITY_EXTRA_STARTS: tuple[int, ...] = (1, 2, 5)

# Exceptions that read as "this input is invalid" rather than as a crash inside the sampler.
CLEAR_EMPTY_VIDEO_ERRORS: tuple[type[BaseException], ...] = (ValueError, RuntimeError, AssertionError)


# Property of `sampler_properties` -> the check that reports it (declared in `checks.DYNAMIC_CHECKS`).
RULES: dict[str, DynamicCheck] = {
    prop: DYNAMIC_CHECKS[check_id]
    for prop, check_id in (
        ("length", "TK501"),
        ("range", "TK502"),
        ("order", "TK503"),
        ("short_clip", "TK504"),
        ("coverage", "TK505"),
        ("start_range", "TK506"),
        ("test_time", "TK507"),
        ("seed", "TK508"),
        ("empty", "TK509"),
    )
}


class AdapterError(ValueError):
    """The object cannot be called as a sampler (a parameter nobody maps, not callable, ...)."""


# --- calling user samplers ----------------------------------------------------------------------


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
    kind: str | None = None  # "uniform" | "window"; None: read from the outputs
    num_clips: int | None = None
    notes: list[str] = field(default_factory=list)


def _seed_globals(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def _seed_value(parameter: inspect.Parameter | None, seed: int) -> tuple[Any, str]:
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
    return _fresh_generator(seed), f"np.random.default_rng({seed})"


_GENERATORS: dict[int, tuple[np.random.Generator, dict]] = {}


def _fresh_generator(seed: int) -> np.random.Generator:
    """`np.random.default_rng(seed)` in its initial state; rewinding a cached one is ~10x cheaper than seeding."""
    cached = _GENERATORS.get(seed)
    if cached is None:
        generator = np.random.default_rng(seed)
        cached = _GENERATORS[seed] = (generator, generator.bit_generator.state)
    generator, state = cached
    generator.bit_generator.state = state
    return generator


@dataclass(frozen=True)
class _Plan:
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


def _plan(signature: inspect.Signature, explicit: Mapping[str, str], wanted: Iterable[str], where: str) -> _Plan:
    """Map the parameters of `signature` to role tokens: `explicit` first, then the name vocabulary."""
    vocabulary = {
        "num_frames": FRAME_COUNT_NAMES,
        "T": CLIP_LENGTH_NAMES,
        "seed": SEED_NAMES,
        "num_clips": NUM_CLIPS_NAMES,
        "video": VIDEO_NAMES,
    }
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
            if parameter.name in vocabulary[token]:
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
    return _Plan(tuple(tokens), fixed, positional_only)


def _signature(obj: Any, where: str) -> inspect.Signature:
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError) as exc:
        raise AdapterError(f"cannot read the signature of {where}: {exc}") from exc


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
        for callable_ in (_init_of(obj), _call_of(obj)):
            if callable_ is not None:
                names |= set(_signature(callable_, name).parameters)
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


def _init_of(obj: Any) -> Any:
    return obj if inspect.isclass(obj) else None


def _call_of(obj: Any) -> Any:
    if inspect.isclass(obj):
        call = getattr(obj, "__call__", None)
        if call is None or call is object.__call__ or call is type.__call__:
            return None
        return call
    return obj


def _build_one(
    obj: Any, name: str, role: str, args: Mapping[str, str], test_time: bool, layout: str
) -> SamplerUnderTest:
    count_token = "video" if role == "subsample" else "num_frames"
    wanted = [count_token, "T", "seed"] + (["num_clips"] if role == "multiclip" else [])
    if inspect.isclass(obj):
        if not callable(_call_of(obj)):
            raise AdapterError(f"{name} is a class without __call__: name a method (e.g. {name}.sample) instead")
        init_plan = _plan(_signature(obj, name), {k: v for k, v in args.items()}, ["T", "num_clips", "seed"], name)
        call_signature = inspect.signature(obj.__call__)
        call_signature = call_signature.replace(parameters=list(call_signature.parameters.values())[1:])
        init_tokens = {t for _, t, _ in init_plan.tokens}
        call_plan = _plan(
            call_signature,
            {k: v for k, v in args.items() if k not in {p for p, _, _ in init_plan.tokens} | set(init_plan.fixed)},
            [t for t in wanted if t not in init_tokens],
            f"{name}.__call__",
        )
        plans = (init_plan, call_plan)
    else:
        if not callable(obj):
            raise AdapterError(f"{name} is not callable")
        call_plan = _plan(_signature(obj, name), args, wanted, name)
        init_plan = None
        plans = (call_plan,)
    tokens = {t for plan in plans for _, t, _ in plan.tokens}
    for token in (count_token, "T"):
        if token not in tokens:
            role_words = {"num_frames": "the frame count", "T": "the clip length", "video": "the video"}
            raise AdapterError(
                f"cannot tell which parameter of {name} is {role_words[token]}; map it with --args NAME={token}"
            )
    seed_plan = next((plan for plan in plans if plan.has("seed")), None)
    seed_parameter = seed_plan.parameter_for("seed") if seed_plan else None
    seeded = seed_plan is not None
    num_clips = NUM_CLIPS_TRIED if "num_clips" in tokens else None
    instances: dict[tuple, Any] = {}
    videos: dict[int, Any] = {}
    video_as_torch = _module_uses_torch(obj)

    def values_for(num_frames: int, T: int, seed: int) -> tuple[dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {"num_frames": num_frames, "T": T, "num_clips": num_clips}
        shown: dict[str, str] = {}
        if seeded:
            values["seed"], shown["seed"] = _seed_value(seed_parameter, seed)
        if role == "subsample":
            values["video"] = videos.get(num_frames)
            if values["video"] is None:
                values["video"] = videos[num_frames] = index_video(num_frames, layout, as_torch=video_as_torch)
            shown["video"] = f"<{layout} video of {num_frames} frames>"
        return values, shown

    def invoke(num_frames: int, T: int, seed: int) -> Any:
        if not seeded:
            _seed_globals(seed)
        values, _ = values_for(num_frames, T, seed)
        if init_plan is None:
            positional, keywords = call_plan.bind(values)
            return obj(*positional, **keywords)
        key = (T, seed if init_plan.has("seed") else None)
        instance = instances.get(key)
        if instance is None:
            positional, keywords = init_plan.bind(values)
            instance = obj(*positional, **keywords)
            if len(instances) > 4096:
                instances.clear()
            instances[key] = instance
        positional, keywords = call_plan.bind(values)
        return instance(*positional, **keywords)

    def describe(num_frames: int, T: int, seed: int) -> str:
        values, shown = values_for(num_frames, T, seed)
        if init_plan is None:
            return f"{name}({call_plan.render(values, shown)})"
        return f"{name}({init_plan.render(values, shown)})({call_plan.render(values, shown)})"

    sampler = SamplerUnderTest(
        name=name, role=role, invoke=invoke, describe=describe, seeded=seeded, test_time=test_time, num_clips=num_clips
    )
    fixed = {k: v for plan in plans for k, v in plan.fixed.items()}
    if fixed:
        sampler.notes.append(f"{name}: called with " + ", ".join(f"{k}={v!r}" for k, v in fixed.items()))
    return sampler


def _module_uses_torch(obj: Any) -> bool:
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


def _frames_chosen(output: Any, layout: str, T: int) -> np.ndarray:
    """Frame indices read back from a subsampler's output (the values `index_video` planted)."""
    if isinstance(output, (list, tuple)):
        output = np.stack([np.asarray(frame) for frame in output])
        layout = "TCHW" if output.ndim == 4 else layout
    array = np.asarray(output)
    if array.ndim != 4:
        raise _BadOutput(f"returned an array of shape {tuple(array.shape)} (expected a 4-D clip)")
    per_frame = np.moveaxis(array, layout.index("T"), 0).reshape(array.shape[layout.index("T")], -1)
    if per_frame.size == 0:
        return np.zeros(per_frame.shape[0], dtype=np.int64)
    first = per_frame[:, 0]
    if not np.allclose(per_frame, first[:, None]) or not np.allclose(first, np.rint(first)):
        raise _BadOutput("returned frames that are not input frames (blended or rescaled values)")
    return np.rint(first).astype(np.int64)


class _BadOutput(ValueError):
    pass


def _as_row(output: Any) -> np.ndarray:
    if isinstance(output, np.ndarray):
        row = output
    else:
        try:
            row = np.asarray(output)
        except Exception as exc:  # noqa: BLE001 - any unconvertible return value is a bad output
            raise _BadOutput(f"returned {type(output).__name__}, not a sequence of indices ({exc})") from exc
    if row.ndim != 1:
        raise _BadOutput(f"returned an array of shape {tuple(row.shape)} (expected T indices)")
    if row.dtype.kind in "iu":
        return row.astype(np.int64, copy=False)
    if row.dtype.kind == "b" or row.dtype.kind not in "f" or row.size and not np.all(np.isfinite(row)):
        raise _BadOutput(f"returned {row.dtype} values, not integer indices")
    if row.size and not np.array_equal(row, np.rint(row)):
        bad = row[row != np.rint(row)][0]
        raise _BadOutput(f"returned the non-integer index {float(bad)!r}")
    return row.astype(np.int64)


# --- the grid ------------------------------------------------------------------------------------


@dataclass
class _Cell:
    num_frames: int
    T: int
    seed: int


@dataclass
class _GridResult:
    rows: dict[tuple[int, int], list[tuple[int, np.ndarray]]] = field(default_factory=dict)  # (T, seed) -> [(n, row)]
    clips: dict[tuple[int, int], int] = field(default_factory=dict)  # (n, T, seed) -> number of clips (multiclip)
    crashes: list[tuple[_Cell, BaseException]] = field(default_factory=list)
    bad: list[tuple[_Cell, str]] = field(default_factory=list)
    wrong_length: list[tuple[_Cell, np.ndarray]] = field(default_factory=list)
    empty_returns: list[tuple[_Cell, Any]] = field(default_factory=list)
    calls: int = 0


def _clips_of(output: Any) -> list[Any]:
    if isinstance(output, np.ndarray) and output.ndim == 2:
        return list(output)
    if hasattr(output, "ndim") and getattr(output, "ndim") == 2:  # a torch tensor
        return list(np.asarray(output))
    if isinstance(output, (list, tuple)) and all(
        isinstance(c, (list, tuple, np.ndarray, range)) or hasattr(c, "ndim") for c in output
    ):
        return list(output)
    raise _BadOutput(f"returned {type(output).__name__}, not a list of clips")


def _run_grid(
    sampler: SamplerUnderTest,
    lengths: Iterable[int],
    clip_lengths: Iterable[int],
    seeds: Iterable[int],
    layout: str,
    result: _GridResult,
) -> None:
    lengths = list(lengths)
    for seed in seeds:
        for T in clip_lengths:
            bucket = result.rows.setdefault((T, seed), [])
            for num_frames in lengths:
                cell = _Cell(num_frames, T, seed)
                result.calls += 1
                try:
                    output = sampler.invoke(num_frames, T, seed)
                except MemoryError:
                    raise  # the sandbox's memory limit: an error for the object, not a property of the sampler
                except Exception as exc:  # noqa: BLE001 - user code may raise anything; each is a finding
                    result.crashes.append((cell, exc))
                    continue
                if num_frames == 0:
                    result.empty_returns.append((cell, output))
                    continue
                try:
                    if sampler.role == "multiclip":
                        clip_rows = [_as_row(c) for c in _clips_of(output)]
                        result.clips[(num_frames, T, seed)] = len(clip_rows)
                    elif sampler.role == "subsample":
                        clip_rows = [_frames_chosen(output, layout, T)]
                    else:
                        clip_rows = [_as_row(output)]
                except _BadOutput as exc:
                    result.bad.append((cell, str(exc)))
                    continue
                for row in clip_rows:
                    if row.shape[0] != T:
                        result.wrong_length.append((cell, row))
                    else:
                        bucket.append((num_frames, row))


# --- reporting -----------------------------------------------------------------------------------


@dataclass
class _Failure:
    key: tuple[int, int, int]
    message: str
    extra: dict


class _Collector:
    def __init__(self, sampler: SamplerUnderTest) -> None:
        self.sampler = sampler
        self.failures: dict[str, list[_Failure]] = {}

    def add(self, prop: str, cell: _Cell, what: str, **extra: Any) -> None:
        self.failures.setdefault(prop, []).append(
            _Failure((cell.num_frames, cell.T, cell.seed), what, {"cell": cell, **extra})
        )

    def findings(self) -> list[Finding]:
        findings = []
        for prop, failures in self.failures.items():
            rule = RULES[prop]
            worst = min(failures, key=lambda f: f.key)
            cell = worst.extra.pop("cell")
            call = (
                self.sampler.describe(cell.num_frames, cell.T, cell.seed)
                if not worst.extra.get("call")
                else worst.extra.pop("call")
            )
            others = len({f.key[:2] for f in failures}) - 1
            message = f"`{call}` {worst.message}"
            if others > 0:
                message += f" ({others} more failing input{'s' if others > 1 else ''} of the grid)"
            extra = {
                "counterexample": {"num_frames": cell.num_frames, "T": cell.T, "seed": cell.seed},
                "failing_inputs": others + 1,
                "object": self.sampler.name,
                **worst.extra,
            }
            findings.append(rule.finding(message, extra=extra))
        findings.sort(key=lambda f: f.rule)
        return findings


def _crash_property(sampler: SamplerUnderTest, cell: _Cell, kind: str | None) -> str:
    if cell.num_frames < cell.T:
        return "short_clip"
    if kind == "window" and cell.num_frames - cell.T <= 1:
        return "start_range"
    return "length"


def _exception_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _classify(sampler: SamplerUnderTest, layout: str) -> tuple[bool, str | None, int]:
    """(random?, "uniform"|"window"|None, stride) from the outputs at a few long videos under four seeds."""
    for num_frames, T in ((300, 8), (1000, 16), (64, 4), (300, 2)):
        rows = []
        for seed in range(4):
            try:
                output = sampler.invoke(num_frames, T, seed)
                if sampler.role == "multiclip":
                    output = _clips_of(output)[0]
                row = _frames_chosen(output, layout, T) if sampler.role == "subsample" else _as_row(output)
            except Exception:  # noqa: BLE001 - a sampler that fails here is reported by the grid
                rows = []
                break
            if row.shape[0] != T or props.out_of_range_rows(row, num_frames)[0]:
                rows = []
                break
            rows.append(row)
        if not rows:
            continue
        is_random = any(not np.array_equal(rows[0], r) for r in rows[1:])
        steps = [np.unique(np.diff(r)) for r in rows]
        contiguous = all(s.size == 1 and s[0] >= 1 for s in steps)
        span = max(int(r[-1] - r[0]) + 1 for r in rows)
        if contiguous and span <= num_frames // 2:
            return is_random, "window", int(steps[0][0])
        return is_random, "uniform", 1
    return False, None, 1


def check_sampler(
    sampler: SamplerUnderTest,
    *,
    lengths: Iterable[int] | None = None,
    clip_lengths: Iterable[int] = CLIP_LENGTHS,
    seeds: Iterable[int] = GRID_SEEDS,
    layout: str = "TCHW",
) -> list[Finding]:
    """Run every property over the grid; one finding (with its smallest counterexample) per failed property."""
    started = time.perf_counter()
    lengths = list(SMALL_LENGTHS + LARGE_LENGTHS if lengths is None else lengths)
    clip_lengths = list(clip_lengths)
    seeds = list(seeds)
    is_random, kind, stride = _classify(sampler, layout)
    kind = sampler.kind or kind
    result = _GridResult()
    _run_grid(sampler, lengths, clip_lengths, seeds[:1], layout, result)
    if (is_random or sampler.seeded) and len(seeds) > 1:
        _run_grid(sampler, [n for n in lengths if n <= EXTRA_SEED_MAX_LENGTH], clip_lengths, seeds[1:], layout, result)
    report = _Collector(sampler)

    for cell, exc in result.crashes:
        if cell.num_frames == 0:
            # User-defined exceptions are taken as deliberate; builtin low-level ones are not.
            if not isinstance(exc, CLEAR_EMPTY_VIDEO_ERRORS) and type(exc).__module__ == "builtins":
                report.add(
                    "empty",
                    cell,
                    f"raised {_exception_text(exc)} for an empty video; raise a ValueError that says the video is empty",
                )
            continue
        prop = _crash_property(sampler, cell, kind)
        what = f"raised {_exception_text(exc)}"
        if prop == "short_clip":
            what += f" on a short clip (num_frames={cell.num_frames} < T={cell.T}); it must return T indices"
        report.add(prop, cell, what, exception=_exception_text(exc))
    for cell, output in result.empty_returns:
        report.add(
            "empty", cell, f"returned {_describe_output(output)} for an empty video instead of raising a clear error"
        )
    for cell, message in result.bad:
        report.add("length", cell, message)
    for cell, row in result.wrong_length:
        report.add("length", cell, props.length_violation(row, cell.T) or "", returned=row.tolist()[:64])

    for (T, seed), bucket in result.rows.items():
        if not bucket:
            continue
        frames = np.fromiter((n for n, _ in bucket), dtype=np.int64, count=len(bucket))
        matrix = np.stack([row for _, row in bucket])
        _bulk(
            report,
            "range",
            props.out_of_range_rows(matrix, frames),
            frames,
            matrix,
            T,
            seed,
            lambda row, n: props.range_violation(row, n),
        )
        _bulk(
            report,
            "order",
            props.unsorted_rows(matrix),
            frames,
            matrix,
            T,
            seed,
            lambda row, n: props.order_violation(row),
        )
        _bulk(
            report,
            "short_clip",
            props.missing_frame_rows(matrix, frames),
            frames,
            matrix,
            T,
            seed,
            lambda row, n: (
                props.short_clip_violation(row, n)
                + ("; a zero step repeats one frame" if len(set(row.tolist())) == 1 and n > 1 else "")
            ),
        )
        if sampler.role != "multiclip" and kind == "uniform" and not is_random:
            # Short clips are the short_clip property's business; coverage is judged on long videos.
            uneven = props.uneven_coverage_rows(matrix, frames, props.AUDIT_GAP_FACTOR) & (frames >= T)
            _bulk(
                report,
                "coverage",
                uneven,
                frames,
                matrix,
                T,
                seed,
                lambda row, n: props.coverage_violation(row, n, props.AUDIT_GAP_FACTOR),
            )

    if sampler.role == "multiclip":
        _check_clip_counts(report, sampler, result)
    if sampler.test_time or sampler.role == "multiclip":
        _check_test_time(report, sampler, lengths, clip_lengths, layout)
    elif sampler.seeded:
        _check_same_seed(report, sampler, lengths, clip_lengths, layout)
    if is_random and kind == "window" and not sampler.test_time and sampler.role != "multiclip":
        _check_reachability(report, sampler, stride, layout)

    findings = report.findings()
    elapsed = time.perf_counter() - started
    sampler.notes.append(
        f"{sampler.name}: {'random' if is_random else 'deterministic'} {kind or 'unclassified'} {sampler.role}"
        f"{' (test-time)' if sampler.test_time else ''}; {result.calls} calls in {elapsed:.2f} s"
    )
    return findings


def _describe_output(output: Any) -> str:
    try:
        return props._short_list(np.asarray(output).ravel())
    except Exception:  # noqa: BLE001
        return type(output).__name__


def _bulk(
    report: _Collector,
    prop: str,
    mask: np.ndarray,
    frames: np.ndarray,
    matrix: np.ndarray,
    T: int,
    seed: int,
    explain: Callable[[np.ndarray, int], str | None],
) -> None:
    failing = np.flatnonzero(mask)
    if failing.size == 0:
        return
    # Only the smallest failing input is explained; the rest are counted.
    order = failing[np.argsort(frames[failing], kind="stable")]
    first = int(order[0])
    message = explain(matrix[first], int(frames[first])) or ""
    report.add(prop, _Cell(int(frames[first]), T, seed), message, returned=matrix[first].tolist()[:64])
    for index in order[1:]:
        report.failures[prop].append(_Failure((int(frames[index]), T, seed), message, {}))


def _check_clip_counts(report: _Collector, sampler: SamplerUnderTest, result: _GridResult) -> None:
    expected = sampler.num_clips
    counts = result.clips
    if expected is None and counts:
        expected = max(set(counts.values()), key=list(counts.values()).count)
    for (num_frames, T, seed), count in counts.items():
        if count != expected:
            report.add("length", _Cell(num_frames, T, seed), f"returned {count} clips (expected {expected})")


def _spot_cells(lengths: list[int], clip_lengths: list[int]) -> list[tuple[int, int]]:
    spot_lengths = sorted({n for n in lengths if n <= 40} | set(lengths[::17]) | {max(lengths)})
    spot_ts = sorted({t for t in clip_lengths if t in (1, 2, 3, 4, 7, 8, 16, 32, 64)} or set(clip_lengths[:4]))
    return [(n, t) for n in spot_lengths for t in spot_ts if n > 0]


def _outputs_equal(a: Any, b: Any) -> bool:
    try:
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return len(a) == len(b) and all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))
        return np.array_equal(np.asarray(a), np.asarray(b))
    except Exception:  # noqa: BLE001
        return False


def _check_test_time(
    report: _Collector, sampler: SamplerUnderTest, lengths: list[int], clip_lengths: list[int], layout: str
) -> None:
    for num_frames, T in _spot_cells(lengths, clip_lengths):
        try:
            if sampler.seeded:
                # Same seed argument, different global random state: only hidden randomness can differ.
                _seed_globals(1)
                first = sampler.invoke(num_frames, T, 0)
                _seed_globals(2)
                second = sampler.invoke(num_frames, T, 0)
            else:
                first = sampler.invoke(num_frames, T, 1)
                second = sampler.invoke(num_frames, T, 2)
        except Exception:  # noqa: BLE001 - crashes are reported by the grid
            continue
        if not _outputs_equal(first, second):
            what = "test-time" if sampler.role != "multiclip" else "multi-clip (test-time)"
            report.add(
                "test_time",
                _Cell(num_frames, T, 0),
                f"is {what} sampling but returned {_describe_output(_first_clip(first))} on one call and "
                f"{_describe_output(_first_clip(second))} on another; evaluation results change from run to run",
            )
            return


def _first_clip(output: Any) -> Any:
    if isinstance(output, (list, tuple)) and output and not np.isscalar(output[0]):
        return output[0]
    return output


def _check_same_seed(
    report: _Collector, sampler: SamplerUnderTest, lengths: list[int], clip_lengths: list[int], layout: str
) -> None:
    for num_frames, T in _spot_cells(lengths, clip_lengths):
        try:
            first = sampler.invoke(num_frames, T, 7)
            second = sampler.invoke(num_frames, T, 7)
        except Exception:  # noqa: BLE001
            continue
        if not _outputs_equal(first, second):
            report.add(
                "seed",
                _Cell(num_frames, T, 7),
                f"returned {_describe_output(first)} and then {_describe_output(second)} for the same seed; "
                "some randomness does not come from the seed argument",
            )
            return


def _check_reachability(report: _Collector, sampler: SamplerUnderTest, stride: int, layout: str) -> None:
    # Windows with 2, 3 and 6 valid starts: few draws are needed for a low false-alarm rate.
    cells = sorted(((T - 1) * stride + 1 + extra, T) for T in REACHABILITY_T for extra in REACHABILITY_EXTRA_STARTS)
    for num_frames, T in cells:
        span = (T - 1) * stride + 1
        last_start = num_frames - span
        draws = props.draws_for_reachability(last_start + 1)
        starts = []
        for draw in range(draws):
            try:
                output = sampler.invoke(num_frames, T, 1000 + draw)
                row = _frames_chosen(output, layout, T) if sampler.role == "subsample" else _as_row(output)
            except Exception:  # noqa: BLE001 - crashes are reported by the grid
                continue
            if row.shape[0] == T:
                starts.append(int(row[0]))
        if not starts:
            continue
        violation = props.start_reachability_violation(starts, last_start)
        if violation:
            call = sampler.describe(num_frames, T, 1000)
            if sampler.seeded:
                call = call.replace("(1000)", "(s)").replace("=1000", "=s")
            tries = f"over {len(starts)} seeds s" if sampler.seeded else f"over {len(starts)} calls"
            report.add(
                "start_range",
                _Cell(num_frames, T, 1000),
                f"{tries} {violation.replace(f' in {len(starts)} draws', '')} "
                f"(a sampler drawing starts uniformly is flagged with probability <= {props.START_FALSE_ALARM_RATE:g})",
                call=call,
                starts_seen=sorted(set(starts)),
            )
            return
