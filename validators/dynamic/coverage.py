"""Coverage of random and multi-clip samplers: does the union of what they sample reach both ends?

A random sampler is judged on what it can ever return, not on one draw. Over many seeds the union
of its indices must reach frame 0 and frame ``n - 1``:

    TSN-style  avg = n // T; offsets = arange(T) * avg + randint(avg)     n=300, T=64: never past 255
    SlowFast   start = uniform(0, n - 2T); linspace(start, start + 2T - 1, T).long()   never n - 1
    VideoMAE   end = randint(T * rate, n); clip(linspace(end - T * rate, end, T), .., end - 1)

Each of these looks fine on any single call; only the union over seeds shows the frames no seed
ever reaches. A multi-clip sampler's K clips together must reach both ends of the video
(``start = delta * k / K`` for k < K never reaches the last ``delta / K`` frames).

Why these cells. The number of draws is what makes the false-alarm rate: a sampler that picks the
last frame with probability ``1 / M`` misses it in ``K`` draws with probability ``(1 - 1/M)^K``,
so cells are chosen where ``M`` is small and a few dozen draws suffice
(`sampler_properties.draws_for_reachability`, `START_FALSE_ALARM_RATE`):

- spread samplers (one frame per segment): ``n = k * T + r`` with small ``k``; a correct sampler's
  segments are at most ``ceil(n / T)`` frames wide, so ``M = ceil(n / T)``;
- windows, contiguous or built by ``linspace`` with uneven integer steps: ``n = span + extra`` with a
  small ``extra``; ``M = n - span + 2`` possible positions (one more than the starts, for the
  windows whose span is measured one short because of a fractional start).

Numpy only. The sampler is reached through a plain callable ``draw(num_frames, T, seed)`` returning
the clips of one call (one row for a sampler, K rows for a multi-clip sampler), so this module does
not depend on how the sampler is called.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from temporalkit.validators import sampler_properties as props

Draw = Callable[[int, int, int], Sequence[np.ndarray]]

COVERAGE_T: tuple[int, ...] = (2, 3, 5, 8, 16, 32, 64)
SEGMENT_MULTIPLES: tuple[int, ...] = (1, 2, 3)
WINDOW_EXTRAS: tuple[int, ...] = (1, 2, 5, 9)
SPAN_PROBE_SEEDS = 4
FIRST_SEED = 5000
# A multi-clip sampler may leave at each end up to this fraction of the spacing between its clip
# starts: clips centred in K equal segments (mmaction2's test mode) leave half a spacing at each
# end and pass; starts ``delta * k / K`` leave a whole spacing at the tail and do not.
MULTICLIP_END_FRACTION = 0.75
MULTICLIP_LENGTHS: tuple[int, ...] = (30, 64, 97, 150, 300, 1000)
MULTICLIP_T: tuple[int, ...] = (1, 2, 4, 8, 16, 32)


@dataclass
class CoverageMiss:
    """One frame never reached: where, and the message that explains it."""

    num_frames: int
    T: int
    seed: int
    kind: str  # "window" | "spread" | "multiclip"
    message: str
    extra: dict = field(default_factory=dict)


def _rows(draw: Draw, num_frames: int, T: int, seed: int) -> list[np.ndarray] | None:
    try:
        rows = [np.asarray(row, dtype=np.int64).ravel() for row in draw(num_frames, T, seed)]
    except Exception:  # noqa: BLE001 - crashes and bad outputs are reported by the grid
        return None
    if not rows or any(row.shape[0] != T for row in rows):
        return None
    if any(props.out_of_range_rows(row, num_frames)[0] for row in rows):
        return None  # the range check reports it
    return rows


def window_span(draw: Draw, T: int, seeds: Iterable[int] = range(SPAN_PROBE_SEEDS)) -> int | None:
    """The number of frames one window of T covers (``last - first + 1``), read from a long video;
    None when the rows are spread over the video (not a window) or the sampler fails there."""
    num_frames = max(1000, 40 * T)
    spans = []
    for seed in seeds:
        rows = _rows(draw, num_frames, T, seed)
        if rows is None:
            return None
        row = rows[0]
        if (np.diff(row) < 0).any():
            return None
        spans.append(int(row[-1] - row[0]) + 1)
    span = max(spans)
    return span if span <= num_frames // 4 else None


def _union_miss(draw: Draw, num_frames: int, T: int, positions: int, kind: str) -> CoverageMiss | None:
    draws = props.draws_for_reachability(positions)
    seen = np.zeros(num_frames, dtype=bool)
    tried = 0
    for draw_index in range(draws):
        rows = _rows(draw, num_frames, T, FIRST_SEED + draw_index)
        if rows is None:
            continue
        tried += 1
        for row in rows:
            seen[row] = True
        if seen[0] and seen[-1]:
            return None
    if tried < draws:
        return None  # crashes or bad outputs on this cell: the grid reports those
    end = "last" if not seen[-1] else "first"
    frame = num_frames - 1 if end == "last" else 0
    reached = np.flatnonzero(seen)
    stretch = num_frames - 1 - int(reached.max()) if end == "last" else int(reached.min())
    where = (
        f"highest frame seen {int(reached.max())}: frames {int(reached.max()) + 1}..{num_frames - 1} never sampled"
        if end == "last"
        else f"lowest frame seen {int(reached.min())}: frames 0..{int(reached.min()) - 1} never sampled"
    )
    message = (
        f"never sampled the {end} frame {frame} over {tries_text(tried)} ({where}); "
        f"a sampler that reaches it with probability 1/{positions} per call is flagged with probability "
        f"<= {props.START_FALSE_ALARM_RATE:g}"
    )
    return CoverageMiss(
        num_frames,
        T,
        FIRST_SEED,
        kind,
        message,
        {"unsampled_frames": stretch, "draws": tried, "highest_frame_seen": int(reached.max())},
    )


def tries_text(tried: int) -> str:
    return f"{tried} seeds ({FIRST_SEED}..{FIRST_SEED + tried - 1})"


def random_coverage(
    draw: Draw,
    *,
    clip_lengths: Iterable[int] = COVERAGE_T,
) -> CoverageMiss | None:
    """The smallest cell where the union over seeds of a random sampler's frames misses frame 0 or n-1.

    Windows (read from the rows at a long video, `window_span`) are tried at ``n = span + extra``;
    spread samplers at ``n = k * T + r``. None when every cell's union reaches both ends.
    """
    misses = []
    for T in clip_lengths:
        span = window_span(draw, T)
        if span is not None:
            cells = [(span + extra, span + extra - span + 2, "window") for extra in WINDOW_EXTRAS]
        else:
            remainders = sorted({0, 1, T // 2, T - 1})
            cells = [
                (k * T + r, math.ceil((k * T + r) / T), "spread")
                for k in SEGMENT_MULTIPLES
                for r in remainders
                if k * T + r >= max(T, 2)
            ]
        for num_frames, positions, kind in sorted(cells):
            miss = _union_miss(draw, num_frames, T, max(positions, 2), kind)
            if miss is not None:
                misses.append(miss)
                break  # the smallest failing n for this T
    return min(misses, key=lambda m: (m.num_frames, m.T), default=None)


def multiclip_coverage(
    draw: Draw,
    *,
    lengths: Iterable[int] = MULTICLIP_LENGTHS,
    clip_lengths: Iterable[int] = MULTICLIP_T,
    seed: int = 0,
) -> CoverageMiss | None:
    """The smallest cell where a multi-clip sampler's K clips (K >= 2) leave an end of the video
    unsampled by more than `MULTICLIP_END_FRACTION` of the spacing between clip starts."""
    for T in clip_lengths:
        for num_frames in lengths:
            rows = _rows(draw, num_frames, T, seed)
            if rows is None or len(rows) < 2:
                continue
            span = max(int(row.max() - row.min()) + 1 for row in rows)
            if span * 2 > num_frames:
                continue  # clips as long as half the video: the ends are the short-clip checks' business
            spacing = (num_frames - span + 1) / len(rows)
            allowed = math.ceil(MULTICLIP_END_FRACTION * spacing)
            union = np.unique(np.concatenate(rows))
            head = int(union.min())
            tail = num_frames - 1 - int(union.max())
            if max(head, tail) <= allowed:
                continue
            gaps = np.diff(union) - 1
            largest = max(head, tail, int(gaps.max(initial=0)))
            end = (
                f"frames {int(union.max()) + 1}..{num_frames - 1} at the tail"
                if tail >= head
                else f"frames 0..{head - 1} at the head"
            )
            message = (
                f"returned {len(rows)} clips that never reach {end} (largest unsampled stretch: "
                f"{largest} frames; clips start {[int(r.min()) for r in rows][:8]}); spread the starts from 0 to "
                f"the last valid start {num_frames - span}"
            )
            return CoverageMiss(
                num_frames,
                T,
                seed,
                "multiclip",
                message,
                {"unsampled_frames": max(head, tail), "largest_unsampled_stretch": largest},
            )
    return None
