"""Dynamic checks for video loaders (a path in, frames out), run against the probe videos.

Every probe frame carries its index, so the frames a loader returns say which source frames it
decoded, in which order, with what aspect and channel order. A loader that takes a frame count
(`num_frames`, `T`, `clip_len`...) is called with T and judged as a sampler; one that does not is
expected to return every frame.

Checks TK611-TK619 (declared, with their documentation and fixes, in `checks.DYNAMIC_CHECKS`), one
finding per category with the smallest probe that shows it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from temporalkit.validators.dynamic import policy as policies
from temporalkit.validators.dynamic.checks import DYNAMIC_CHECKS, DynamicCheck
from temporalkit.validators.dynamic.clips import UnusableCallable, clip_to_frames, seed_everything, short_repr
from temporalkit.validators.dynamic.frame_code import read_frame
from temporalkit.validators.dynamic.probes import ProbeVideo, make_probe_set
from temporalkit.validators.dynamic.transform_checks import is_blank
from temporalkit.validators.findings import Finding

COUNT_PARAMETERS = (
    "num_frames",
    "T",
    "t",
    "clip_len",
    "clip_length",
    "num_samples",
    "n_frames",
    "nframes",
    "frames_per_clip",
    "num_segments",
    "frames",
)
ROUND_TOLERANCE = 1.12

# Category -> the check that reports it (declared in `checks.DYNAMIC_CHECKS`), in reporting order.
RULES: dict[str, DynamicCheck] = {
    DYNAMIC_CHECKS[check_id].category: DYNAMIC_CHECKS[check_id]
    for check_id in ("TK611", "TK612", "TK613", "TK614", "TK615", "TK616", "TK617", "TK618", "TK619")
}


@dataclass
class ProbeOutcome:
    """What the loader did with one probe."""

    probe: ProbeVideo
    T: int = 0
    seed: int = 0
    indices: list[int | None] = field(default_factory=list)
    blank: list[int] = field(default_factory=list)
    error: str | None = None
    error_type: str | None = None
    aspect_change: float | None = None
    channel_order: str | None = None
    problems: dict[str, str] = field(default_factory=dict)  # category -> detail


def count_parameter(fn: Callable) -> str | None:
    """The name of `fn`'s frame-count parameter, if it has one."""
    try:
        parameters = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return None
    for name in parameters[1:]:
        if name in COUNT_PARAMETERS:
            return name
    return None


def _describe(probe: ProbeVideo) -> str:
    claim = "no count" if probe.claimed_frames == 0 else f"{probe.claimed_frames}"
    rate = "variable rate" if probe.vfr else f"{probe.fps:g} fps"
    note = f", container claims {claim}" if probe.metadata_is_wrong else ""
    return f"{probe.path.name} ({probe.frames} frames, {rate}, {probe.aspect}{note})"


def _show(indices: Sequence[int | None], limit: int = 12) -> str:
    shown = ["?" if i is None else str(i) for i in indices[:limit]]
    return "[" + ", ".join(shown) + (", ..." if len(indices) > limit else "") + "]"


def _run_one(fn: Callable, probe: ProbeVideo, parameter: str | None, T: int, seed: int = 0) -> ProbeOutcome:
    outcome = ProbeOutcome(probe, T=T, seed=seed)
    seed_everything(seed)
    try:
        output = fn(str(probe.path), **{parameter: T}) if parameter else fn(str(probe.path))
        frames = clip_to_frames(output)
    except Exception as error:  # user code
        outcome.error, outcome.error_type = short_repr(error), type(error).__name__
        return outcome
    readings = [read_frame(frame) for frame in frames]
    outcome.indices = [reading.index for reading in readings]
    outcome.blank = [position for position, frame in enumerate(frames) if is_blank(frame)]
    aspects = [r.aspect_change for r in readings if r.index is not None and r.aspect_change]
    outcome.aspect_change = float(np.median(aspects)) if aspects else None
    orders = [r.channel_order for r in readings if r.channel_order]
    outcome.channel_order = max(set(orders), key=orders.count) if orders else None
    return outcome


def _padding_of_short_clip(known: Sequence[int], n: int) -> str | None:
    """ "repeat_last" or "loop" when `known` is every one of the `n` frames padded that way, else None."""
    if len(known) <= n or n < 1:
        return None
    if list(known) == [min(i, n - 1) for i in range(len(known))]:
        return "repeat_last"
    if list(known) == [i % n for i in range(len(known))] or list(known) == sorted(i % n for i in range(len(known))):
        return "loop"
    return None


def _judge(outcome: ProbeOutcome, parameter: str | None, T: int, name: str, seeded: bool = False) -> None:
    """Fill `outcome.problems` with what is wrong with this one probe's result."""
    probe, indices, problems = outcome.probe, outcome.indices, outcome.problems
    policy = policies.current()
    where = _describe(probe)
    sampling = parameter is not None
    call = f"`{name}({probe.path.name!r}{f', {parameter}={T}' if sampling else ''})`"
    if seeded:
        call += f" (random state seeded with {outcome.seed})"
    if outcome.error:
        if probe.frames < T and sampling and policy.short_clip == "error":
            return  # raising on a short clip is the declared policy
        if probe.frames < T and sampling:
            problems["short-clip"] = f"{call} raised {outcome.error} on {where}"
        else:
            problems["index-out-of-range"] = f"{call} raised {outcome.error} on {where}"
        return
    if outcome.blank:
        category = "zero-padding" if probe.frames < T or len(indices) > probe.frames else "index-out-of-range"
        problems[category] = (
            f"{call} returned {len(outcome.blank)} blank frame(s) at position(s) {outcome.blank[:8]} on {where}"
        )
    unreadable = [p for p, i in enumerate(indices) if i is None and p not in outcome.blank]
    if unreadable:
        problems["index-out-of-range"] = (
            f"{call} returned {len(unreadable)} frame(s) that are not frames of the video "
            f"(positions {unreadable[:8]}) on {where}"
        )
    known = [i for i in indices if i is not None]
    padding = _padding_of_short_clip(known, probe.frames) if len(indices) == len(known) else None
    deliberate = padding is not None and policy.allows_short_clip(padding)
    if any(b < a for a, b in zip(known, known[1:])) and not deliberate:
        problems["temporal-order"] = f"{call} returned frames {_show(indices)} out of order on {where}"
    if outcome.channel_order == "BGR":
        problems["color-order"] = f"{call} returned BGR frames (red came out in channel 2) on {where}"
    if outcome.aspect_change and abs(math.log(outcome.aspect_change)) > math.log(ROUND_TOLERANCE):
        problems["aspect-distortion"] = (
            f"{call} stretched frames of {where} by {outcome.aspect_change:.2f} (width/height change)"
        )
    n = probe.frames
    if sampling:
        if len(indices) != T:
            problems["clip-length"] = f"{call} returned {len(indices)} frames, not {T}, on {where}"
        if not known:
            return
        if n < T:
            missing = sorted(set(range(n)) - set(known))
            if missing and "zero-padding" not in problems:
                problems["short-clip"] = (
                    f"{call} returned frames {_show(indices)} on {where}: frames {missing[:8]} never used"
                )
            return
        span = max(known) - min(known)
        if span >= len(known):  # spread over the video (not one window of consecutive frames)
            allowance = n / T + 1
            widest = max((b - a for a, b in zip(known, known[1:])), default=0)
            if widest > 2 * allowance:
                problems["uneven-coverage"] = (
                    f"{call} returned frames {_show(indices)} on {where}: a gap of {widest} frames "
                    f"(uniform spacing is {n / T:.1f})"
                )
            if n - 1 - max(known) > allowance or min(known) > allowance:
                problems["uneven-coverage"] = f"{call} returned frames {_show(indices)} on {where}: " + (
                    f"the last {n - 1 - max(known)} frames ({max(known) + 1}..{n - 1}) are never sampled"
                    if n - 1 - max(known) > allowance
                    else f"the first {min(known)} frames are never sampled"
                )
        return
    expected = list(range(n))
    if known == expected and len(indices) == n or deliberate:
        return
    missing = sorted(set(expected) - set(known))
    repeated = sorted({i for i in known if known.count(i) > 1})
    if missing and (missing == list(range(missing[0], n)) or missing == list(range(len(missing)))):
        head = missing[0] == 0
        problems["uneven-coverage"] = f"{call} returned {len(indices)} frames of {where}, " + (
            f"starting at frame {min(known)} (frames {missing} skipped: off-by-one decode)"
            if head
            else f"ending at frame {max(known)} (frames {missing[0]}..{n - 1} dropped)"
        )
    elif missing or repeated:
        problems["clip-length"] = (
            f"{call} returned {len(indices)} frames of {where}"
            + (f", missing {missing[:8]}" if missing else "")
            + (f", repeating {repeated[:8]}" if repeated else "")
        )


LOADER_CLIP_LENGTHS: tuple[int, ...] = (8, 16)
SECOND_T_MAX_FRAMES = 64
# A random loader is called under this many seeds at each T on the probes whose container lies
# about its frame count (where trusting that count bites on some draws only), and under
# `RANDOM_SEEDS` at the first T on the others: a problem shown by 1 call in 10 on a lying probe is
# missed with probability 0.9^48 < 0.7%.
LYING_PROBE_SEEDS = 24
RANDOM_SEEDS = 3


def _is_random(
    fn: Callable,
    probes: Sequence[ProbeVideo],
    parameter: str | None,
    T: int,
    done: dict[tuple[str, int, int], ProbeOutcome] | None = None,
) -> bool:
    """Whether two seeds give different clips on the longest honest probe. `done`: outcomes already
    had, by (probe, T, seed); the seed-0 one of the first pass is reused (the longest probe is the
    dearest call), and the seed-1 call is added to it for the seeded pass to reuse."""
    longest = max((p for p in probes if not p.metadata_is_wrong), key=lambda p: p.frames, default=None)
    if longest is None or parameter is None:
        return False
    done = {} if done is None else done
    first = done.get((longest.name, T, 0)) or _run_one(fn, longest, parameter, T, 0)
    second = done[(longest.name, T, 1)] = _run_one(fn, longest, parameter, T, 1)
    return (first.indices, first.error) != (second.indices, second.error)


def check_loader(
    fn: Callable,
    probes: Sequence[ProbeVideo] | None = None,
    *,
    T: int = 8,
    name: str | None = None,
    probe_dir: str | None = None,
    clip_lengths: Sequence[int] | None = None,
) -> list[Finding]:
    """Call the loader on every probe and report what it got wrong (see the module docstring).

    `probes` defaults to `make_probe_set(probe_dir)` (the cached set when `probe_dir` is None). A
    loader that takes a frame count is called at every T of `clip_lengths` (default `T` and
    `LOADER_CLIP_LENGTHS`); one whose output changes with the random state is called under several
    seeds (`LYING_PROBE_SEEDS` on the probes whose container lies about its frame count). A problem
    is reported only when calling again with the same probe, T and seed shows it again; one that
    does not reproduce is left out (the decoder, not the loader, is then the suspect).

    Raises `UnusableCallable` when the loader fails on every probe the same way (wrong signature,
    missing dependency) rather than reporting that as a finding per probe.
    """
    name = name or getattr(fn, "__qualname__", None) or type(fn).__name__
    if probes is None:
        probes = make_probe_set(probe_dir)
    probes = sorted(probes, key=lambda p: (p.metadata_is_wrong, p.frames, p.name))
    parameter = count_parameter(fn)
    sampling = parameter is not None
    lengths = [T] if not sampling else list(dict.fromkeys(clip_lengths or (T, *LOADER_CLIP_LENGTHS)))
    # The first T on every probe; the others on the probes up to `SECOND_T_MAX_FRAMES` long, where a
    # longer clip changes what happens (short clips, a lying count), not on the long ones decoding costs.
    first_pass = [
        _run_one(fn, probe, parameter, length, 0)
        for length in lengths
        for probe in probes
        if length == lengths[0] or probe.frames <= SECOND_T_MAX_FRAMES
    ]
    errors = {o.error for o in first_pass}
    if first_pass and all(o.error for o in first_pass) and len(errors) == 1:
        raise UnusableCallable(f"`{name}` raised {errors.pop()} on every probe video")
    done = {(o.probe.name, o.T, o.seed): o for o in first_pass}
    seeded = _is_random(fn, probes, parameter, lengths[0], done)
    outcomes = list(first_pass)
    if seeded:
        for length in lengths:
            for probe in probes:
                if length != lengths[0] and probe.frames > SECOND_T_MAX_FRAMES:
                    continue
                extra = LYING_PROBE_SEEDS if probe.metadata_is_wrong else RANDOM_SEEDS if length == lengths[0] else 1
                outcomes += [
                    done.get((probe.name, length, seed)) or _run_one(fn, probe, parameter, length, seed)
                    for seed in range(1, extra)
                ]
    for outcome in outcomes:
        _judge(outcome, parameter, outcome.T, name, seeded)

    # A problem seen only on probes whose container count is missing or wrong is the loader
    # trusting that count.
    honest_categories = {c for o in outcomes if not o.probe.metadata_is_wrong for c in o.problems}
    for outcome in outcomes:
        if outcome.probe.metadata_is_wrong:
            blamed = [c for c in outcome.problems if c not in honest_categories]
            if blamed:
                details = "; ".join(outcome.problems.pop(c) for c in blamed)
                outcome.problems["frame-count-metadata"] = details

    findings = []
    for category, check in RULES.items():
        showing = [o for o in outcomes if category in o.problems]
        if not showing:
            continue
        first = next((o for o in showing if _reproduces(fn, o, parameter, name, seeded, category)), None)
        if first is None:
            continue
        failing_probes = list(dict.fromkeys(o.probe.name for o in showing))
        calls_on_probe = sum(o.probe.name == first.probe.name for o in outcomes)
        failing_calls = sum(o.probe.name == first.probe.name for o in showing)
        tail = f" (and {len(failing_probes) - 1} more of {len(probes)} probes)" if len(failing_probes) > 1 else ""
        if calls_on_probe > 1:
            tail += f"; {failing_calls} of {calls_on_probe} calls on {first.probe.name} show it"
        findings.append(
            check.finding(
                first.problems[category] + tail,
                extra={
                    "probe": first.probe.name,
                    "frames_returned": first.indices,
                    "probes_failing": failing_probes,
                    "T": first.T if sampling else None,
                    "seed": first.seed if seeded else None,
                    "failing_calls": failing_calls,
                    "calls": calls_on_probe,
                },
            )
        )
    return findings


def _reproduces(
    fn: Callable, outcome: ProbeOutcome, parameter: str | None, name: str, seeded: bool, category: str
) -> bool:
    """Whether calling again with the same probe, T and seed shows `category` again."""
    again = _run_one(fn, outcome.probe, parameter, outcome.T, outcome.seed)
    _judge(again, parameter, outcome.T, name, seeded)
    if outcome.probe.metadata_is_wrong and category == "frame-count-metadata":
        return bool(again.problems)
    return category in again.problems
