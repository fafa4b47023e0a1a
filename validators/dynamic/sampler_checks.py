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

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from temporalkit.validators import sampler_properties as props
from temporalkit.validators.dynamic import coverage
from temporalkit.validators.dynamic import policy as policies
from temporalkit.validators.dynamic.adapters import (  # noqa: F401 - re-exported for callers of the old home
    AdapterError,
    SamplerUnderTest,
    build_samplers,
    index_video,
)
from temporalkit.validators.dynamic.adapters import seed_globals as _seed_globals
from temporalkit.validators.dynamic.adapters.base import GlobalState, seed_some
from temporalkit.validators.dynamic.adapters.instance import forget_instances
from temporalkit.validators.dynamic.checks import DYNAMIC_CHECKS, DynamicCheck
from temporalkit.validators.findings import Finding

SMALL_LENGTHS: tuple[int, ...] = tuple(range(0, 301))
LARGE_LENGTHS: tuple[int, ...] = (333, 401, 512, 640, 777, 1000, 1501, 2048, 3001, 4999, 10007)
CLIP_LENGTHS: tuple[int, ...] = tuple(range(1, 65))
GRID_SEEDS: tuple[int, ...] = (0, 1, 2)
# Extra seeds run on the short lengths only, where short-clip and off-by-one bugs live.
EXTRA_SEED_MAX_LENGTH = 100
SUBSAMPLE_MAX_LENGTH = 2048  # longest video fed to a subsampler (its cost grows with the frames it walks)
SUBSAMPLE_DENSE_LENGTH = 130  # every length up to here; every 5th above (and the large ones up to the max)
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


def _frames_chosen(output: Any, layout: str, T: int) -> np.ndarray:
    """Frame indices read back from a subsampler's output (the values `index_video` planted)."""
    if output is None:
        raise _BadOutput("returned None")
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
    if per_frame.dtype.kind in "fiu" and np.array_equal(per_frame, np.broadcast_to(first[:, None], per_frame.shape)):
        rounded = np.rint(first)  # the planted values, untouched (the common case; allclose costs ~10x)
        if np.array_equal(first, rounded):
            return rounded.astype(np.int64)
    if not np.allclose(per_frame, first[:, None]) or not np.allclose(first, np.rint(first)):
        raise _BadOutput("returned frames that are not input frames (blended or rescaled values)")
    return np.rint(first).astype(np.int64)


class _BadOutput(ValueError):
    pass


def _as_row(output: Any) -> np.ndarray:
    if output is None:
        raise _BadOutput("returned None")
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

    def merge(self, other: "_GridResult", T: int, seed: int) -> None:
        """Add one row's results (`other`, for this T and seed)."""
        self.rows.setdefault((T, seed), []).extend(other.rows.get((T, seed), ()))
        self.clips.update(other.clips)
        self.crashes += other.crashes
        self.bad += other.bad
        self.wrong_length += other.wrong_length
        self.empty_returns += other.empty_returns
        self.calls += other.calls


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
    """Call `sampler` on every (num_frames, T, seed) and sort what came back into `result`.

    An unseeded sampler sees the global random state seeded with the cell's seed at each call. Only the
    generators it moves are seeded again before each call: all of them are seeded once per seed, each
    row of the grid (one T) is run, and a generator the row moved that was not being seeded makes the
    row run again with it seeded too (and the rest of the grid). The outputs are what seeding every
    generator before every call gives: a generator no call moved is still in its seeded state."""
    lengths = list(lengths)
    role = sampler.role
    unseeded = sampler.invoke_unseeded
    for seed in seeds:
        state = GlobalState(seed) if unseeded is not None else None
        if state is not None and state.snapshot is None:
            state = None
        used: set[str] = set()
        if state is not None and sampler.random:
            # A random sampler: which generators one call moves (a row finds any others).
            try:
                unseeded(lengths[-1], 8, seed)
            except Exception:  # noqa: BLE001 - the grid reports it
                pass
            used = state.moved() or set(GlobalState.NAMES)
            state = GlobalState(seed)
        for T in clip_lengths:
            while state is not None:
                reseed = seed_some(used)

                def call(num_frames: int, T: int, seed: int, reseed: Callable = reseed) -> Any:
                    reseed(seed)
                    return unseeded(num_frames, T, seed)

                row = _GridResult()
                _run_row(call if used else unseeded, role, lengths, T, seed, layout, row)
                moved = state.moved()
                if moved is None:
                    state = None  # cannot tell: seed everything before each call from here on
                elif moved <= used:
                    result.merge(row, T, seed)
                    break
                else:
                    used |= moved  # a generator it moved was not being seeded: run the row again with it
                    state = GlobalState(seed)
            else:
                row = _GridResult()
                _run_row(sampler.invoke, role, lengths, T, seed, layout, row)
                result.merge(row, T, seed)


def _run_row(
    call: Callable[[int, int, int], Any],
    role: str,
    lengths: list[int],
    T: int,
    seed: int,
    layout: str,
    result: _GridResult,
) -> None:
    bucket = result.rows.setdefault((T, seed), [])
    result.calls += len(lengths)
    for num_frames in lengths:
        try:
            output = call(num_frames, T, seed)
        except MemoryError:
            raise  # the sandbox's memory limit: an error for the object, not a property of the sampler
        except Exception as exc:  # noqa: BLE001 - user code may raise anything; each is a finding
            result.crashes.append((_Cell(num_frames, T, seed), exc))
            continue
        if num_frames == 0:
            result.empty_returns.append((_Cell(num_frames, T, seed), output))
            continue
        try:
            if role == "multiclip":
                clip_rows = [_as_row(c) for c in _clips_of(output)]
                result.clips[(num_frames, T, seed)] = len(clip_rows)
            elif role == "subsample":
                clip_rows = [_frames_chosen(output, layout, T)]
            else:
                clip_rows = [_as_row(output)]
        except _BadOutput as exc:
            result.bad.append((_Cell(num_frames, T, seed), str(exc)))
            continue
        for row in clip_rows:
            if row.shape[0] != T:
                result.wrong_length.append((_Cell(num_frames, T, seed), row))
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
            if self.sampler.random and not self.sampler.seeded:
                # The call shows no seed: say which one reproduces it (random, numpy.random and torch).
                message += f" (global random state seeded with {cell.seed})"
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
    layout: str | None = None,
) -> list[Finding]:
    """Run every property over the grid; one finding (with its smallest counterexample) per failed property.

    `layout`: how a subsampler's output is read back; None: the layout its index video was built in."""
    layout = layout or sampler.layout
    started = time.perf_counter()
    lengths = list(SMALL_LENGTHS + LARGE_LENGTHS if lengths is None else lengths)
    if sampler.role == "subsample":
        # A subsampler gets the video itself: code that walks it frame by frame in Python (np.stack over
        # a tensor of 10007 frames, 64 clip lengths, several seeds) spent minutes there and hit the time
        # limit (examples' pad_short_clip), while index bugs at large n show by SUBSAMPLE_MAX_LENGTH.
        # Every length up to twice the longest clip (short-clip and 2T-1 coverage bugs), every 5th above.
        lengths = [
            n
            for n in lengths
            if n <= SUBSAMPLE_DENSE_LENGTH or (n <= 300 and n % 5 == 0) or 300 < n <= SUBSAMPLE_MAX_LENGTH
        ]
    clip_lengths = list(clip_lengths)
    seeds = list(seeds)
    is_random, kind, stride = _classify(sampler, layout)
    sampler.random = is_random
    kind = sampler.kind or kind
    result = _GridResult()
    _run_grid(sampler, lengths, clip_lengths, seeds[:1], layout, result)
    if (is_random or sampler.seeded) and len(seeds) > 1:
        _run_grid(sampler, [n for n in lengths if n <= EXTRA_SEED_MAX_LENGTH], clip_lengths, seeds[1:], layout, result)
    report = _Collector(sampler)
    policy = policies.current()

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
        if prop == "short_clip" and policy.short_clip == "error" and _deliberate_error(exc):
            continue  # raising on a short clip is the declared policy
        what = f"raised {_exception_text(exc)}"
        if prop == "short_clip":
            what += f" on a short clip (num_frames={cell.num_frames} < T={cell.T}); it must return T indices"
        report.add(prop, cell, what, exception=_exception_text(exc))
    for cell, output in result.empty_returns if policy.empty_video == "raise" else ():
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
        unsorted = props.unsorted_rows(matrix)
        if policy.allows_short_clip("loop"):
            unsorted &= ~props.loop_rows(matrix, frames)  # a short clip played again from its start
        _bulk(
            report,
            "order",
            unsorted,
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

    multiclip_test_time = sampler.role == "multiclip" and _multiclip_is_test_time(sampler, policy)
    if sampler.role == "multiclip" and (sampler.num_clips is not None or policy.num_clips == "fixed"):
        _check_clip_counts(report, sampler, result)
    if sampler.test_time or multiclip_test_time:
        _check_test_time(report, sampler, lengths, clip_lengths, layout)
    elif sampler.seeded:
        _check_same_seed(report, sampler, lengths, clip_lengths, layout)
    if is_random and kind == "window" and not sampler.test_time and sampler.role != "multiclip":
        _check_reachability(report, sampler, stride, layout)
    _check_coverage(report, sampler, layout, is_random, kind, multiclip_test_time)

    findings = report.findings()
    elapsed = time.perf_counter() - started
    sampler.notes.append(
        f"{sampler.name}: {'random' if is_random else 'deterministic'} {kind or 'unclassified'} {sampler.role}"
        f"{' (test-time)' if sampler.test_time else ''}; {result.calls} calls in {elapsed:.2f} s"
    )
    return findings


def _deliberate_error(exc: BaseException) -> bool:
    """A clear refusal (ValueError and kin, or the user's own exception), not a crash."""
    return isinstance(exc, CLEAR_EMPTY_VIDEO_ERRORS) or type(exc).__module__ != "builtins"


def _multiclip_is_test_time(sampler: SamplerUnderTest, policy: policies.Policy) -> bool:
    """Whether a multi-clip sampler is held to test-time determinism (TK507): declared test-time,
    `multiclip = "test"`, or (`auto`) neither named for training nor the training side of a sampler a
    flag such as ``test_mode`` switches to test time. A class named ``Random...`` (torchvision's and
    pytorchvideo's convention for training-time draws: RandomCrop, RandomMultiClipSampler) is training."""
    if sampler.test_time or policy.multiclip == "test":
        return True
    if policy.multiclip == "train" or getattr(sampler, "training", False):
        return False
    if sampler.name.rsplit(".", 1)[-1].startswith("Random"):
        return False
    return "train" not in sampler.name.lower()


def _rows_drawn(sampler: SamplerUnderTest, layout: str) -> Callable[[int, int, int], list[np.ndarray]]:
    """``draw(num_frames, T, seed)`` -> the index rows of one call (K rows for a multi-clip sampler)."""

    def draw(num_frames: int, T: int, seed: int) -> list[np.ndarray]:
        output = sampler.invoke(num_frames, T, seed)
        if sampler.role == "multiclip":
            return [_as_row(clip) for clip in _clips_of(output)]
        if sampler.role == "subsample":
            return [_frames_chosen(output, layout, T)]
        return [_as_row(output)]

    return draw


def _check_coverage(
    report: _Collector, sampler: SamplerUnderTest, layout: str, is_random: bool, kind: str | None, test_time: bool
) -> None:
    """The union of what a random sampler samples over seeds, and of a multi-clip sampler's clips,
    must reach both ends of the video (`coverage`). Contiguous random windows are judged by their
    starts (`_check_reachability`); uneven (linspace-built) windows and spread samplers here."""
    draw = _rows_drawn(sampler, layout)
    miss = None
    if sampler.role == "multiclip" and not is_random:
        miss = coverage.multiclip_coverage(draw)
    elif is_random and (kind != "window" or sampler.role == "multiclip") and not (sampler.test_time or test_time):
        miss = coverage.random_coverage(draw)
    if miss is None:
        return
    call = sampler.describe(miss.num_frames, miss.T, miss.seed)
    if sampler.seeded and miss.kind != "multiclip":
        call = call.replace(f"({miss.seed})", "(s)").replace(f"={miss.seed}", "=s")
    prop = "start_range" if miss.kind == "window" else "coverage"
    report.add(prop, _Cell(miss.num_frames, miss.T, miss.seed), miss.message, call=call, **miss.extra)


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
                forget_instances()  # each call on a fresh instance: a stateful sampler's state is not randomness
                first = sampler.invoke(num_frames, T, 0)
                _seed_globals(2)
                forget_instances()
                second = sampler.invoke(num_frames, T, 0)
            else:
                forget_instances()
                first = sampler.invoke(num_frames, T, 1)
                forget_instances()
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
            forget_instances()  # a fresh instance per call: self.rng made in __init__ starts from the seed again
            first = sampler.invoke(num_frames, T, 7)
            forget_instances()
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
