"""Parameters whose names leave their role open: which is the frame count and which the clip length.

``def sample_frames(vlen, num_frames)`` (VideoMAE-style: ``num_frames`` is the clip length there, the
video's frame count elsewhere), ``def pick(total, n)``, or ``def f(a, b)`` checked with ``--role
sampler``. Both assignments are tried on a few probe calls (frame count n, clip length T, n > T) and
the one whose outputs behave like a sampler's, T indices in 0..n-1, on most of them is kept; a tie
keeps the order the names suggest (else the signature's: count first). The choice and the scores go
into the mapping that ``-v`` prints. A pair the vocabulary settles (``num_frames, T``; ``vlen,
clip_len``) or one given with ``--args`` is never second-guessed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from temporalkit.validators.dynamic.adapters import instance, module
from temporalkit.validators.dynamic.vocabulary import (
    CLIP_LENGTH_NAMES,
    FRAME_COUNT_NAMES,
    NUM_CLIPS_NAMES,
    SEED_NAMES,
    TEST_MODE_FLAGS,
    VIDEO_NAMES,
)

# (n, T) with n > T, several ratios: a swapped sampler asks for more frames than the video has.
PROBE_CELLS: tuple[tuple[int, int], ...] = ((300, 8), (100, 16), (64, 4), (50, 32), (1000, 16), (37, 5))
_OTHER_ROLES = set(SEED_NAMES) | set(NUM_CLIPS_NAMES) | set(VIDEO_NAMES) | set(TEST_MODE_FLAGS)


def _parameters(obj: Any) -> list[inspect.Parameter]:
    """The parameters the sampler is called with (without self), or [] when they cannot be read."""
    owner, method = None, None
    if isinstance(obj, instance.MethodOf):
        owner, method = obj.cls, obj.method
    elif inspect.isclass(obj):
        owner, method = obj, "forward" if module.is_module_class(obj) else "__call__"
    target = obj if owner is None else getattr(owner, method, None)
    if target is None or target is object.__call__ or target is type.__call__:
        return []
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return []
    raw = None if owner is None else inspect.getattr_static(owner, method, None)
    if owner is not None and parameters and not isinstance(raw, (staticmethod, classmethod)):
        parameters = parameters[1:]  # self
    return [p for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def ambiguous_pair(obj: Any, args: Mapping[str, str]) -> tuple[str, str] | None:
    """The two parameters (in the order to try first as frame count, clip length) when the names do not
    say which is which; None when the vocabulary or `args` settle it."""
    if {"num_frames", "T"} & {str(v) for v in args.values()}:
        return None
    parameters = [p for p in _parameters(obj) if p.name not in args and p.name not in _OTHER_ROLES]
    countish = [p for p in parameters if p.name in FRAME_COUNT_NAMES or p.name in CLIP_LENGTH_NAMES]
    unknown = [p for p in parameters if p not in countish and p.default is inspect.Parameter.empty]
    pair = countish + unknown if len(countish) + len(unknown) == 2 else countish if len(countish) == 2 else []
    if len(pair) != 2:
        return None
    first, second = sorted(pair, key=parameters.index)
    count_only = set(FRAME_COUNT_NAMES) - set(CLIP_LENGTH_NAMES)
    clip_only = set(CLIP_LENGTH_NAMES) - set(FRAME_COUNT_NAMES)
    if first.name in count_only and second.name in clip_only or first.name in clip_only and second.name in count_only:
        return None  # the vocabulary settles it
    if first.name in clip_only or second.name in count_only and first.name not in count_only:
        return second.name, first.name
    return first.name, second.name


def _behaves(output: Any, num_frames: int, T: int, multiclip: bool) -> bool:
    """Whether `output` looks like what a sampler returns for (num_frames, T): T indices in range."""
    try:
        rows = [np.asarray(clip) for clip in output] if multiclip else [np.asarray(output)]
    except Exception:  # noqa: BLE001 - anything unconvertible does not behave
        return False
    if not rows:
        return False
    for row in rows:
        if row.ndim != 1 or row.shape[0] != T or row.dtype.kind not in "iuf":
            return False
        if not (np.all(np.isfinite(row)) and np.all(row == np.rint(row)) and row.min() >= 0 and row.max() < num_frames):
            return False
    return True


def choose(
    pair: tuple[str, str], build: Callable[[dict[str, str]], Any], multiclip: bool
) -> tuple[dict[str, str], str]:
    """The `--args` entries of the assignment that behaves best, and the line that says so for -v.

    `build(extra_args)` wraps the object with those entries added and returns its `invoke(n, T, seed)`;
    an assignment that cannot even be built scores 0."""
    a, b = pair
    tried = [{a: "num_frames", b: "T"}, {a: "T", b: "num_frames"}]
    scores = []
    for assignment in tried:
        try:
            invoke = build(assignment)
        except Exception:  # noqa: BLE001 - e.g. an __init__ that refuses the swapped values
            scores.append(0)
            continue
        score = 0
        for num_frames, T in PROBE_CELLS:
            try:
                score += _behaves(invoke(num_frames, T, 0), num_frames, T, multiclip)
            except Exception:  # noqa: BLE001 - a call that raises does not behave
                pass
        scores.append(score)
    best = 1 if scores[1] > scores[0] else 0
    shown = [", ".join(f"{k}={v}" for k, v in t.items()) for t in tried]
    note = (
        f"{a} and {b} could each be the frame count or the clip length: tried both on {len(PROBE_CELLS)} calls, "
        f"{shown[best]} returned T indices in 0..n-1 on {scores[best]}, {shown[1 - best]} on {scores[1 - best]}; "
        f"kept {shown[best]}"
    )
    return tried[best], note
