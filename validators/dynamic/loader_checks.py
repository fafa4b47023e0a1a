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
from temporalkit.validators.dynamic.checks import DYNAMIC_CHECKS, DynamicCheck
from temporalkit.validators.dynamic.clips import UnusableCallable, clip_to_frames, short_repr
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


def _run_one(fn: Callable, probe: ProbeVideo, parameter: str | None, T: int) -> ProbeOutcome:
    outcome = ProbeOutcome(probe)
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


def _judge(outcome: ProbeOutcome, parameter: str | None, T: int, name: str) -> None:
    """Fill `outcome.problems` with what is wrong with this one probe's result."""
    probe, indices, problems = outcome.probe, outcome.indices, outcome.problems
    where = _describe(probe)
    sampling = parameter is not None
    call = f"`{name}({probe.path.name!r}{f', {parameter}={T}' if sampling else ''})`"
    if outcome.error:
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
    if any(b < a for a, b in zip(known, known[1:])):
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
    if known == expected and len(indices) == n:
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


def check_loader(
    fn: Callable,
    probes: Sequence[ProbeVideo] | None = None,
    *,
    T: int = 8,
    name: str | None = None,
    probe_dir: str | None = None,
) -> list[Finding]:
    """Call the loader on every probe and report what it got wrong (see the module docstring).

    `probes` defaults to `make_probe_set(probe_dir)` (the cached set when `probe_dir` is None).

    Raises `UnusableCallable` when the loader fails on every probe the same way (wrong signature,
    missing dependency) rather than reporting that as a finding per probe.
    """
    name = name or getattr(fn, "__qualname__", None) or type(fn).__name__
    if probes is None:
        probes = make_probe_set(probe_dir)
    parameter = count_parameter(fn)
    sampling = parameter is not None
    outcomes = [
        _run_one(fn, probe, parameter, T)
        for probe in sorted(probes, key=lambda p: (p.metadata_is_wrong, p.frames, p.name))
    ]
    errors = {o.error for o in outcomes}
    if outcomes and all(o.error for o in outcomes) and len(errors) == 1:
        raise UnusableCallable(f"`{name}` raised {errors.pop()} on every probe video")
    for outcome in outcomes:
        _judge(outcome, parameter, T, name)

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
        first = showing[0]
        tail = f" (and {len(showing) - 1} more of {len(outcomes)} probes)" if len(showing) > 1 else ""
        findings.append(
            check.finding(
                first.problems[category] + tail,
                extra={
                    "probe": first.probe.name,
                    "frames_returned": first.indices,
                    "probes_failing": [o.probe.name for o in showing],
                    "T": T if sampling else None,
                },
            )
        )
    return findings
