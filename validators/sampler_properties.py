"""The properties every frame sampler must have, as reusable checks.

One implementation of each property, used twice: by the hypothesis tests of the reference
samplers (`tests/test_sampling.py`) and by the dynamic auditor on user samplers
(`temporalkit.validators.dynamic.sampler_checks`). Each property comes in two forms:

- a bulk form over a matrix of index rows ``(R, T)`` with one ``num_frames`` per row, returning
  a boolean mask of violating rows (the dynamic checks call samplers over a whole grid and test
  it at once);
- a single-row form returning a description of the violation, or None when the row is fine.

Numpy only: this runs in the auditor's child process, which must not import torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# A uniform sampler leaves at most ceil(num_frames / T) frames in a row unsampled. Twice that is
# tolerated when auditing user code, so `linspace(0, n - 1, T)` (gap n / (T - 1)) and a TSN
# sampler with a random offset inside each segment (gap < 2 n / T) pass, while a tail that is
# never sampled does not.
UNIFORM_GAP_FACTOR = 1.0
AUDIT_GAP_FACTOR = 2.0

# Chance that the reachability check flags a sampler that draws starts uniformly at random.
START_FALSE_ALARM_RATE = 1e-6


def _rows(indices: np.ndarray) -> np.ndarray:
    matrix = np.asarray(indices)
    return matrix[None, :] if matrix.ndim == 1 else matrix


def _frames(num_frames: int | np.ndarray, rows: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(num_frames, dtype=np.int64), (rows,))


# --- bulk forms: (R, T) index rows -> bool[R] (True = violates) ----------------------------------


def out_of_range_rows(indices: np.ndarray, num_frames: int | np.ndarray) -> np.ndarray:
    matrix = _rows(indices)
    frames = _frames(num_frames, matrix.shape[0])[:, None]
    return ((matrix < 0) | (matrix >= frames)).any(axis=1)


def unsorted_rows(indices: np.ndarray) -> np.ndarray:
    matrix = _rows(indices)
    if matrix.shape[1] < 2:
        return np.zeros(matrix.shape[0], dtype=bool)
    return (np.diff(matrix, axis=1) < 0).any(axis=1)


def missing_frame_rows(indices: np.ndarray, num_frames: int | np.ndarray) -> np.ndarray:
    """Rows of a short clip (num_frames < T) that leave some existing frame out.

    Rows with ``num_frames >= T`` are never flagged (not every frame can be used there).
    """
    matrix = _rows(indices)
    rows, T = matrix.shape
    frames = _frames(num_frames, rows)
    short = (frames < T) & (frames > 0)
    if not short.any():
        return np.zeros(rows, dtype=bool)
    seen = np.zeros((rows, T), dtype=bool)
    row_ids = np.broadcast_to(np.arange(rows)[:, None], matrix.shape)
    valid = (matrix >= 0) & (matrix < T)
    seen[row_ids[valid], matrix[valid]] = True
    wanted = np.arange(T)[None, :] < frames[:, None]
    return short & (wanted & ~seen).any(axis=1)


def loop_rows(indices: np.ndarray, num_frames: int | np.ndarray) -> np.ndarray:
    """Rows that play a video too short for the window again from its start:
    ``(start + step * arange(T)) % num_frames`` wrapping at least once (mmaction2's
    ``out_of_bound_opt='loop'``, with any frame interval) - a deliberate "loop" policy, not an order bug."""
    matrix = _rows(indices).astype(np.int64, copy=False)
    rows, T = matrix.shape
    frames = _frames(num_frames, rows)
    if T < 2:
        return np.zeros(rows, dtype=bool)
    safe = np.maximum(frames, 1)[:, None]
    step = np.maximum((matrix[:, 1:2] - matrix[:, :1]) % safe, 1)
    unwrapped = matrix[:, :1] + step * np.arange(T)[None, :]
    wraps = unwrapped[:, -1] >= frames
    return (frames > 0) & wraps & (matrix == unwrapped % safe).all(axis=1)


def max_unsampled_stretch_rows(indices: np.ndarray, num_frames: int | np.ndarray) -> np.ndarray:
    """Longest run of frames no index points at, per row: head, tail and the gaps between.

    Indices outside ``[0, num_frames - 1]`` are ignored (the range check reports them).
    """
    matrix = _rows(indices).astype(np.int64, copy=False)
    rows = matrix.shape[0]
    frames = _frames(num_frames, rows)
    inside = (matrix >= 0) & (matrix < frames[:, None])
    any_inside = inside.any(axis=1)
    # Out-of-range entries are replaced by the row's smallest valid index, so they neither open
    # nor close a gap.
    smallest = np.where(inside, matrix, np.iinfo(np.int64).max).min(axis=1)
    ordered = np.sort(np.where(inside, matrix, smallest[:, None]), axis=1)
    head = ordered[:, 0]
    tail = frames - 1 - ordered[:, -1]
    inner = (np.diff(ordered, axis=1) - 1).max(axis=1, initial=0)
    stretch = np.maximum(np.maximum(head, tail), inner)
    return np.where(any_inside, stretch, frames)


def allowed_unsampled_stretch(num_frames: int | np.ndarray, T: int, factor: float = UNIFORM_GAP_FACTOR) -> np.ndarray:
    """The longest unsampled stretch a uniform sampler may leave: ``ceil(factor * num_frames / T)``."""
    frames = np.asarray(num_frames, dtype=np.int64)
    return np.ceil(factor * np.ceil(frames / T)).astype(np.int64)


def uneven_coverage_rows(
    indices: np.ndarray, num_frames: int | np.ndarray, factor: float = UNIFORM_GAP_FACTOR
) -> np.ndarray:
    matrix = _rows(indices)
    frames = _frames(num_frames, matrix.shape[0])
    return max_unsampled_stretch_rows(matrix, frames) > allowed_unsampled_stretch(frames, matrix.shape[1], factor)


# --- single-row forms: -> description of the violation, or None ----------------------------------


def length_violation(indices: Sequence[int] | np.ndarray, T: int) -> str | None:
    length = len(indices)
    if length != T:
        return f"returned {length} indices (expected T={T})"
    return None


def range_violation(indices: Sequence[int] | np.ndarray, num_frames: int) -> str | None:
    row = np.asarray(indices, dtype=np.int64)
    if not out_of_range_rows(row, num_frames)[0]:
        return None
    bad = row[(row < 0) | (row >= num_frames)]
    worst = int(bad.max()) if (bad >= num_frames).any() else int(bad.min())
    return f"returned index {worst} (valid 0..{num_frames - 1})"


def order_violation(indices: Sequence[int] | np.ndarray) -> str | None:
    row = np.asarray(indices, dtype=np.int64)
    if not unsorted_rows(row)[0]:
        return None
    position = int(np.flatnonzero(np.diff(row) < 0)[0])
    return f"returned {_short_list(row)}: index {int(row[position + 1])} comes after {int(row[position])} (indices must not decrease)"


def short_clip_violation(indices: Sequence[int] | np.ndarray, num_frames: int) -> str | None:
    row = np.asarray(indices, dtype=np.int64)
    if not missing_frame_rows(row, num_frames)[0]:
        return None
    missing = sorted(set(range(num_frames)) - set(row.tolist()))
    return (
        f"returned {_short_list(row)}, which never uses frame{'s' if len(missing) > 1 else ''} "
        f"{', '.join(map(str, missing[:8]))}{' ...' if len(missing) > 8 else ''} of the {num_frames} available"
    )


def coverage_violation(
    indices: Sequence[int] | np.ndarray, num_frames: int, factor: float = UNIFORM_GAP_FACTOR
) -> str | None:
    row = np.asarray(indices, dtype=np.int64)
    stretch = int(max_unsampled_stretch_rows(row, num_frames)[0])
    allowed = int(allowed_unsampled_stretch(num_frames, len(row), factor))
    if stretch <= allowed:
        return None
    where = _unsampled_stretch_location(row, num_frames, stretch)
    return f"returned {_short_list(row)}, leaving {stretch} frames in a row unsampled ({where}); at most {allowed} expected for T={len(row)}"


def determinism_violation(first: Sequence[int] | np.ndarray, second: Sequence[int] | np.ndarray) -> str | None:
    a = np.asarray(first)
    b = np.asarray(second)
    if a.shape == b.shape and np.array_equal(a, b):
        return None
    return f"returned {_short_list(a)} on one call and {_short_list(b)} on another"


def draws_for_reachability(num_starts: int, false_alarm_rate: float = START_FALSE_ALARM_RATE) -> int:
    """Draws needed so that a sampler choosing each of `num_starts` starts uniformly misses the first
    or the last start with probability at most `false_alarm_rate`: ``2 (1 - 1/M)^K <= rate``."""
    if num_starts <= 1:
        return 1
    return math.ceil(math.log(false_alarm_rate / 2) / math.log1p(-1.0 / num_starts))


def start_reachability_violation(starts: Sequence[int] | np.ndarray, last_valid_start: int) -> str | None:
    """Given the starts seen over `draws_for_reachability(last_valid_start + 1)` draws, was every end reached?

    With that many draws a sampler that draws the start uniformly from ``0..last_valid_start``
    is flagged with probability at most `START_FALSE_ALARM_RATE`.
    """
    seen = np.asarray(starts, dtype=np.int64)
    if (seen > last_valid_start).any():
        return f"drew start {int(seen.max())}, past the last valid start {last_valid_start}"
    if (seen < 0).any():
        return f"drew start {int(seen.min())} (negative)"
    if not (seen == last_valid_start).any():
        return (
            f"never drew the last valid start {last_valid_start} in {seen.size} draws "
            f"(highest start seen: {int(seen.max())}); windows can never end on the last frame"
        )
    if not (seen == 0).any():
        return f"never drew start 0 in {seen.size} draws (lowest start seen: {int(seen.min())})"
    return None


def _short_list(row: np.ndarray, limit: int = 12) -> str:
    values = [int(v) for v in np.asarray(row).ravel()]
    if len(values) <= limit:
        return "[" + ", ".join(map(str, values)) + "]"
    head = ", ".join(map(str, values[: limit // 2]))
    tail = ", ".join(map(str, values[-limit // 2 :]))
    return f"[{head}, ..., {tail}] ({len(values)} indices)"


def _unsampled_stretch_location(row: np.ndarray, num_frames: int, stretch: int) -> str:
    # temporalkit: ignore[TK153] -- the distinct indices locate an unsampled stretch; no clip is built from them
    inside = np.unique(row[(row >= 0) & (row < num_frames)])
    if inside.size == 0:
        return "no index inside the video"
    if int(inside[0]) == stretch:
        return f"frames 0..{stretch - 1} at the head"
    if num_frames - 1 - int(inside[-1]) == stretch:
        return f"frames {int(inside[-1]) + 1}..{num_frames - 1} at the tail"
    gaps = np.diff(inside) - 1
    position = int(np.flatnonzero(gaps == stretch)[0])
    return f"frames {int(inside[position]) + 1}..{int(inside[position + 1]) - 1}"
