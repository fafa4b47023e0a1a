"""Dynamic checks for clip transforms (a clip in, a clip out).

Six behaviours, each reported with the input that shows it: per-frame randomness (TK601), aspect
distortion (TK602), channel order (TK603), blank padding (TK604), crashes on short clips (TK605) and
random crops whose offset never reaches the last row or column (TK606).
What each checks, why it matters and its fix are declared once, in `checks.DYNAMIC_CHECKS`.

The clip type the transform takes is found by trying `CLIP_TYPES` in order (or given); the
first whose output decodes back to the frame codes that went in is used, and reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from temporalkit.validators.dynamic.checks import DYNAMIC_CHECKS
from temporalkit.validators.dynamic.clips import (
    CLIP_TYPES,
    UnusableCallable,
    clip_to_frames,
    make_clip,
    seed_everything,
    short_repr,
)
from temporalkit.validators.dynamic.frame_code import (
    asymmetric_pattern,
    circle_canvas,
    encode_frame,
    measure_disc,
    read_frame,
    red_channel,
    red_patch_canvas,
)
from temporalkit.validators.findings import Finding

CLIP_FRAMES = 8
SHORT_CLIP_FRAMES = 3
CANVASES = {"16:9": (144, 256), "9:16": (256, 144), "4:3": (144, 192)}  # aspect -> (H, W)

# Output frames this close (0..1 scale) are "the same frame": resampling identical inputs
# identically is exact, so any real per-frame difference is far above it.
SAME_FRAME_TOLERANCE = 2e-3
# A circle whose width/height ratio stays within this factor of 1 is round (pixel rounding of
# a ~40 px disc is a few percent).
ROUND_TOLERANCE = 1.12
# Random aspect jitter varies across seeds; a fixed resize does not.
STEADY_LOG_RATIO_SPREAD = 0.03


@dataclass(frozen=True)
class TransformReport:
    """`clip_type`: the input type used; `tried`: why each earlier type was passed over."""

    clip_type: str
    findings: list[Finding]
    tried: dict[str, str] = field(default_factory=dict)


def _describe(frames: int, height: int, width: int, clip_type: str) -> str:
    return f"{frames} identical {width}x{height} frames ({clip_type})"


def _call(fn: Callable, frames: list[np.ndarray], clip_type: str, seed: int) -> list[np.ndarray]:
    seed_everything(seed)
    return clip_to_frames(fn(make_clip(frames, clip_type)), clip_type)


def find_clip_type(
    fn: Callable, clip_type: str | None = None, seeds: tuple[int, ...] = (0,)
) -> tuple[str, dict[str, str]]:
    """The first clip type `fn` runs on under every seed and returns decodable frames for, and why
    the types before it were passed over. Every seed is tried because a transform may only touch
    (and so only fail on) the input under some random draws."""
    height, width = CANVASES["16:9"]
    coded = [encode_frame(index, height, width) for index in range(CLIP_FRAMES)]
    candidates = [clip_type] if clip_type else list(CLIP_TYPES)
    tried: dict[str, str] = {}
    ran_but_unreadable = None
    for candidate in candidates:
        readable, total = 0, 0
        try:
            for seed in seeds or (0,):
                out = _call(fn, coded, candidate, seed)
                readable += sum(read_frame(frame).index is not None for frame in out)
                total += len(out)
        except Exception as error:  # user code: anything can come out
            tried[candidate] = f"{short_repr(error)} (seed {seed})"
            continue
        if total and readable * 2 >= total:
            return candidate, tried
        tried[candidate] = f"ran, but only {readable}/{total} output frames were readable"
        if ran_but_unreadable is None:
            ran_but_unreadable = candidate
    if ran_but_unreadable is not None:
        return ran_but_unreadable, tried
    reasons = "; ".join(f"{name}: {why}" for name, why in tried.items())
    raise UnusableCallable(f"no clip type was accepted ({reasons})")


def _first_differing_frame(frames: list[np.ndarray]) -> int | None:
    reference = frames[0]
    for position, frame in enumerate(frames[1:], start=1):
        if frame.shape != reference.shape or float(np.abs(frame - reference).max()) > SAME_FRAME_TOLERANCE:
            return position
    return None


def check_consistent_crop(fn: Callable, clip_type: str, seeds, name: str) -> list[Finding]:
    height, width = CANVASES["16:9"]
    pattern = asymmetric_pattern(height, width)
    for seed in seeds:
        out = _call(fn, [pattern] * CLIP_FRAMES, clip_type, seed)
        position = _first_differing_frame(out)
        if position is not None:
            return [
                DYNAMIC_CHECKS["TK601"].finding(
                    f"`{name}` on {_describe(CLIP_FRAMES, height, width, clip_type)} returned frames that "
                    f"differ: frame 0 vs {position} (seed {seed})",
                    extra={"seed": seed, "frames": [0, position], "clip_type": clip_type},
                )
            ]
    return []


def _disc_ratio(frame: np.ndarray) -> tuple[float, float, float] | None:
    """(width/height, height, width) of the disc, or None when it is cut or missing."""
    measured = measure_disc(frame)
    if measured is None or measured[2]:
        return None
    disc_h, disc_w, _ = measured
    if min(disc_h, disc_w) < 6:
        return None
    return disc_w / disc_h, disc_h, disc_w


def _grid_ratio(fn: Callable, clip_type: str, height: int, width: int, seed: int) -> float | None:
    out = _call(fn, [encode_frame(0, height, width)] * CLIP_FRAMES, clip_type, seed)
    return read_frame(out[0]).aspect_change


def check_aspect(fn: Callable, clip_type: str, seeds, name: str) -> list[Finding]:
    distorted = []  # (aspect, height, width, seed, ratio, disc, output shape)
    for aspect, (height, width) in CANVASES.items():
        canvas = circle_canvas(height, width)
        ratios: list[float] = []
        example = None
        for seed in seeds:
            out = _call(fn, [canvas] * CLIP_FRAMES, clip_type, seed)
            measured = _disc_ratio(out[0])
            if measured is None:  # the crop cut the circle: read the square tile grid instead
                ratio = _grid_ratio(fn, clip_type, height, width, seed)
                if ratio is None:
                    continue
                ratios.append(ratio)
                example = example or (seed, ratio, None, out[0].shape)
            else:
                ratios.append(measured[0])
                example = example or (seed, measured[0], measured[1:], out[0].shape)
        if not ratios or example is None:
            continue
        logs = np.log(ratios)
        steady = float(logs.max() - logs.min()) <= STEADY_LOG_RATIO_SPREAD
        if steady and abs(float(np.median(logs))) > math.log(ROUND_TOLERANCE):
            distorted.append((aspect, height, width, *example))
    if not distorted:
        return []
    aspect, height, width, seed, ratio, disc, shape = distorted[0]
    shape_text = f"a {disc[1]:.0f}x{disc[0]:.0f} ellipse" if disc else "a stretched grid"
    also = ", ".join(f"{other[0]} ({other[4]:.2f})" for other in distorted[1:])
    return [
        DYNAMIC_CHECKS["TK602"].finding(
            f"`{name}` turned a circle on a {aspect} {width}x{height} frame into {shape_text} "
            f"(width/height {ratio:.2f}) in its {shape[1]}x{shape[0]} output (seed {seed})"
            + (f"; also on {also}" if also else ""),
            extra={
                "ratios": {d[0]: round(d[4], 3) for d in distorted},
                "seed": seed,
                "clip_type": clip_type,
            },
        )
    ]


def check_color_order(fn: Callable, clip_type: str, seeds, name: str) -> list[Finding]:
    height, width = CANVASES["16:9"]
    canvas = red_patch_canvas(height, width)
    seed = seeds[0] if seeds else 0
    out = _call(fn, [canvas] * CLIP_FRAMES, clip_type, seed)
    channel = red_channel(out[0])
    if channel is None or channel == 0:
        return []
    return [
        DYNAMIC_CHECKS["TK603"].finding(
            f"`{name}` moved a pure red patch (RGB input, {clip_type}) to channel {channel}"
            + (" (BGR order)" if channel == 2 else "")
            + f" (seed {seed})",
            extra={"channel": channel, "seed": seed, "clip_type": clip_type},
        )
    ]


def is_blank(frame: np.ndarray) -> bool:
    """True for a frame with no content: every channel constant (black, or black after normalising)."""
    return float(np.abs(frame - frame[:1, :1]).max()) < 1e-3


def check_short_clip(fn: Callable, clip_type: str, seeds, name: str) -> list[Finding]:
    height, width = CANVASES["16:9"]
    short = [encode_frame(index, height, width) for index in range(SHORT_CLIP_FRAMES)]
    seed = seeds[0] if seeds else 0
    try:
        out = _call(fn, short, clip_type, seed)
    except Exception as error:
        from temporalkit.validators.dynamic import policy

        if policy.current().short_clip == "error" and isinstance(error, (ValueError, RuntimeError, AssertionError)):
            return []  # refusing a short clip is the declared policy
        return [
            DYNAMIC_CHECKS["TK605"].finding(
                f"`{name}` raised {short_repr(error)} on a {SHORT_CLIP_FRAMES}-frame clip ({clip_type}, seed {seed})",
                extra={"frames": SHORT_CLIP_FRAMES, "clip_type": clip_type},
            )
        ]
    if len(out) <= SHORT_CLIP_FRAMES:
        return []
    blank = [position for position, frame in enumerate(out) if is_blank(frame)]
    if not blank:
        return []
    listed = f"frames {blank[0]}..{blank[-1]}" if len(blank) > 1 else f"frame {blank[0]}"
    return [
        DYNAMIC_CHECKS["TK604"].finding(
            f"`{name}` padded a {SHORT_CLIP_FRAMES}-frame clip to {len(out)} frames with {len(blank)} blank "
            f"frame{'s' if len(blank) > 1 else ''} ({listed}) ({clip_type})",
            extra={"frames_in": SHORT_CLIP_FRAMES, "frames_out": len(out), "blank": blank, "clip_type": clip_type},
        )
    ]


def _coordinate_canvas(height: int, width: int) -> np.ndarray:
    """A frame whose red channel holds each pixel's row and green its column (uint8: up to 256)."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([rows, cols, np.full_like(rows, 128)], axis=-1).astype(np.uint8)


def _crop_offset(frame: np.ndarray) -> tuple[int, int] | None:
    """(top, left) of a pure crop of `_coordinate_canvas` (flipped or not), or None when the frame was
    resized, blended or normalised (its pixels are not the canvas's coordinates)."""
    values = frame[..., :2] * 255.0
    if not np.allclose(values, np.rint(values), atol=0.05):
        return None
    rows, cols = np.rint(values[..., 0]).astype(np.int64), np.rint(values[..., 1]).astype(np.int64)
    row_steps, col_steps = np.diff(rows, axis=0), np.diff(cols, axis=1)
    if row_steps.size and not (np.all(row_steps == 1) or np.all(row_steps == -1)):
        return None
    if col_steps.size and not (np.all(col_steps == 1) or np.all(col_steps == -1)):
        return None
    if (np.diff(rows, axis=1) != 0).any() or (np.diff(cols, axis=0) != 0).any():
        return None
    return int(rows.min()), int(cols.min())


CROP_MARGIN = 2  # the coordinate canvas is this much larger than the crop: 3 offsets per axis


def check_crop_reach(fn: Callable, clip_type: str, seeds, name: str) -> list[Finding]:
    """TK606: over seeds, a random crop's offset must reach 0 and the last row and column.

    The crop size is read from one output; a canvas `CROP_MARGIN` larger than the crop gives
    ``M = CROP_MARGIN + 1`` offsets per axis, so `draws_for_reachability(M)` seeds flag a crop
    drawing its offset uniformly with probability at most `START_FALSE_ALARM_RATE`. Crops that
    resize (RandomResizedCrop, Resize + crop) are not judged here: their pixels are not the canvas's.
    """
    from temporalkit.validators import sampler_properties as props

    height, width = CANVASES["16:9"]
    first_seed = seeds[0] if seeds else 0
    try:
        out = _call(fn, [encode_frame(0, height, width)] * CLIP_FRAMES, clip_type, first_seed)
    except Exception:  # noqa: BLE001 - crashes are the other checks' business
        return []
    crop_h, crop_w = out[0].shape[:2]
    canvas_h, canvas_w = crop_h + CROP_MARGIN, crop_w + CROP_MARGIN
    if crop_h >= height and crop_w >= width or max(canvas_h, canvas_w) > 256:
        return []
    canvas = _coordinate_canvas(canvas_h, canvas_w)
    draws = props.draws_for_reachability(CROP_MARGIN + 1)
    tops, lefts = set(), set()
    for draw in range(draws):
        seed = 1000 + draw
        try:
            frames = _call(fn, [canvas] * CLIP_FRAMES, clip_type, seed)
        except Exception:  # noqa: BLE001
            return []
        if frames[0].shape[:2] != (crop_h, crop_w):
            return []  # the crop size follows the input: not a fixed-size random crop
        offset = _crop_offset(frames[0])
        if offset is None:
            return []
        tops.add(offset[0])
        lefts.add(offset[1])
    if len(tops) == 1 and len(lefts) == 1:
        return []  # a fixed (centre) crop
    missed = []
    if len(tops) > 1 and max(tops) < CROP_MARGIN:
        missed.append(f"the last row (top offsets seen {sorted(tops)}, last valid {CROP_MARGIN})")
    if len(lefts) > 1 and max(lefts) < CROP_MARGIN:
        missed.append(f"the last column (left offsets seen {sorted(lefts)}, last valid {CROP_MARGIN})")
    if len(tops) > 1 and min(tops) > 0:
        missed.append(f"the first row (top offsets seen {sorted(tops)})")
    if len(lefts) > 1 and min(lefts) > 0:
        missed.append(f"the first column (left offsets seen {sorted(lefts)})")
    if not missed:
        return []
    return [
        DYNAMIC_CHECKS["TK606"].finding(
            f"`{name}` cropped {crop_w}x{crop_h} out of a {canvas_w}x{canvas_h} frame ({clip_type}) over {draws} "
            f"seeds (1000..{999 + draws}) and never reached " + " or ".join(missed) + "; a crop drawing its offset "
            f"uniformly is flagged with probability <= {props.START_FALSE_ALARM_RATE:g}",
            extra={"tops": sorted(tops), "lefts": sorted(lefts), "clip_type": clip_type, "draws": draws},
        )
    ]


def audit_transform(
    fn: Callable,
    *,
    seeds: tuple[int, ...] = (0, 1, 2, 3),
    clip_type: str | None = None,
    name: str | None = None,
) -> TransformReport:
    """Run every transform check on `fn` and say which clip type it was fed.

    Raises `UnusableCallable` when `fn` accepts none of the clip types.
    """
    name = name or getattr(fn, "__qualname__", None) or type(fn).__name__
    chosen, tried = find_clip_type(fn, clip_type, seeds)
    findings: list[Finding] = []
    findings += check_consistent_crop(fn, chosen, seeds, name)
    findings += check_aspect(fn, chosen, seeds, name)
    findings += check_color_order(fn, chosen, seeds, name)
    findings += check_short_clip(fn, chosen, seeds, name)
    findings += check_crop_reach(fn, chosen, seeds, name)
    return TransformReport(clip_type=chosen, findings=findings, tried=tried)


def check_transform(
    fn: Callable,
    *,
    seeds: tuple[int, ...] = (0, 1, 2, 3),
    clip_type: str | None = None,
    name: str | None = None,
) -> list[Finding]:
    """The findings of `audit_transform` (each carries the clip type used in `extra`)."""
    return audit_transform(fn, seeds=seeds, clip_type=clip_type, name=name).findings
