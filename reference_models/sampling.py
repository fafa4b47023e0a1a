"""Reference frame samplers: the behaviour the dynamic auditor holds user code to.

Every sampler takes the number of decoded frames `num_frames` and the clip length `T`, and
returns exactly `T` sorted frame indices (a 1-D ``int64`` array) in ``[0, num_frames - 1]``.

- `sample_uniform_indices`: segment-based (TSN). The video is cut into `T` equal segments and
  one frame is taken per segment, at its centre (``variant="centre"``, the usual test-time
  choice) or at its first frame (``variant="start"``). No stretch of more than
  ``ceil(num_frames / T)`` frames is left unsampled.
- `sample_dense_indices`: a random contiguous window of `T` frames, `stride` apart. Every valid
  start ``0 .. num_frames - (T - 1) * stride - 1`` is drawn with the same probability, the
  last one included.
- `sample_multi_clip_indices`: test-time multi-clip. `num_clips` windows whose starts are spread
  evenly from the first valid start to the last, so the first and the last frames of the video
  are both covered. Deterministic.

Short clips (``num_frames < T``) follow an explicit policy, the same for every sampler:

- ``"repeat_last"``: every frame once, in order, then the last frame repeated to length `T`
  (the clip "freezes" at its end).
- ``"loop"``: the frames are cycled through as if the video were played again, and the result
  is returned in temporal order, so every frame is used ``T // num_frames`` or one more times
  and the clip never jumps backwards.
- ``"error"``: raise `ValueError`.

An empty video (``num_frames == 0``) always raises `ValueError`: there is no frame to return.

When a dense window with `stride` does not fit but ``num_frames >= T`` frames exist, the stride
is reduced to the largest one that fits (``(num_frames - 1) // (T - 1)``) rather than repeating
frames, because distinct frames carry more signal than a frozen tail.

Only numpy is used, so these run in the auditor's child process without torch.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

ShortClipPolicy = Literal["repeat_last", "loop", "error"]
UniformVariant = Literal["centre", "start"]

SHORT_CLIP_POLICIES: tuple[str, ...] = ("repeat_last", "loop", "error")
UNIFORM_VARIANTS: tuple[str, ...] = ("centre", "start")

__all__ = [
    "SHORT_CLIP_POLICIES",
    "UNIFORM_VARIANTS",
    "sample_dense_indices",
    "sample_multi_clip_indices",
    "sample_uniform_indices",
    "short_clip_indices",
    "window_span",
]


def _validate(num_frames: int, T: int, short_clip: str) -> None:
    if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)):
        raise TypeError(f"num_frames must be an int, got {type(num_frames).__name__}")
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)):
        raise TypeError(f"T must be an int, got {type(T).__name__}")
    if short_clip not in SHORT_CLIP_POLICIES:
        raise ValueError(f"unknown short_clip policy {short_clip!r}; choose one of {', '.join(SHORT_CLIP_POLICIES)}")
    if T < 1:
        raise ValueError(f"T must be at least 1, got T={T}")
    if num_frames < 0:
        raise ValueError(f"num_frames must be >= 0, got num_frames={num_frames}")
    if num_frames == 0:
        raise ValueError("cannot sample from an empty video (num_frames=0): the decoder returned no frames")


def short_clip_indices(num_frames: int, T: int, short_clip: ShortClipPolicy = "repeat_last") -> np.ndarray:
    """`T` sorted indices for a video of ``1 <= num_frames < T`` frames, using every frame.

    See the module docstring for the policies; ``"error"`` raises `ValueError`.
    """
    _validate(num_frames, T, short_clip)
    if num_frames >= T:
        raise ValueError(f"not a short clip: num_frames={num_frames} >= T={T}")
    if short_clip == "error":
        raise ValueError(
            f"video too short: num_frames={num_frames} < T={T} and short_clip='error'; "
            "use short_clip='repeat_last' or 'loop' to pad"
        )
    if short_clip == "repeat_last":
        return np.minimum(np.arange(T, dtype=np.int64), num_frames - 1)
    return np.sort(np.arange(T, dtype=np.int64) % num_frames)


def sample_uniform_indices(
    num_frames: int,
    T: int,
    *,
    variant: UniformVariant = "centre",
    short_clip: ShortClipPolicy = "repeat_last",
) -> np.ndarray:
    """Segment-based (TSN) sampling: one frame from each of `T` equal segments of the video.

    ``variant="centre"`` takes ``floor((i + 0.5) * num_frames / T)``, ``variant="start"`` takes
    ``floor(i * num_frames / T)`` for segment ``i``. Deterministic.

    >>> sample_uniform_indices(10, 4).tolist()
    [1, 3, 6, 8]
    >>> sample_uniform_indices(3, 5).tolist()
    [0, 1, 2, 2, 2]
    """
    _validate(num_frames, T, short_clip)
    if variant not in UNIFORM_VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(UNIFORM_VARIANTS)}")
    if num_frames < T:
        return short_clip_indices(num_frames, T, short_clip)
    offset = 0.5 if variant == "centre" else 0.0
    # Integer arithmetic: floor((2i + 1) * n / 2T) exactly, with no float rounding at large n.
    numerators = (2 * np.arange(T, dtype=np.int64) + int(2 * offset)) * int(num_frames)
    return numerators // (2 * int(T))


def window_span(T: int, stride: int) -> int:
    """Number of frames a window of `T` frames `stride` apart covers: ``(T - 1) * stride + 1``."""
    return (T - 1) * stride + 1


def _fitting_stride(num_frames: int, T: int, stride: int) -> int:
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got stride={stride}")
    if window_span(T, stride) <= num_frames or T == 1:
        return stride
    return max(1, (num_frames - 1) // (T - 1))


def _as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")


def sample_dense_indices(
    num_frames: int,
    T: int,
    *,
    stride: int = 1,
    rng: np.random.Generator | int | None = None,
    short_clip: ShortClipPolicy = "repeat_last",
) -> np.ndarray:
    """A random contiguous window: ``start + stride * arange(T)``.

    `start` is drawn uniformly from ``0 .. num_frames - (T - 1) * stride - 1`` inclusive, so the
    window can end on the last frame. `rng` is a `numpy.random.Generator` or an int seed (same seed,
    same window); None draws fresh entropy.

    >>> sample_dense_indices(100, 4, stride=2, rng=0).tolist()
    [79, 81, 83, 85]
    """
    _validate(num_frames, T, short_clip)
    generator = _as_generator(rng)
    if num_frames < T:
        return short_clip_indices(num_frames, T, short_clip)
    stride = _fitting_stride(num_frames, T, stride)
    last_start = num_frames - window_span(T, stride)
    start = int(generator.integers(0, last_start + 1))
    return start + stride * np.arange(T, dtype=np.int64)


def sample_multi_clip_indices(
    num_frames: int,
    T: int,
    num_clips: int,
    *,
    stride: int = 1,
    short_clip: ShortClipPolicy = "repeat_last",
) -> list[np.ndarray]:
    """`num_clips` windows with starts evenly spread from 0 to the last valid start.

    The first window starts on frame 0 and the last ends on the last frame reachable with `stride`;
    with ``num_clips == 1`` the single window is centred. Deterministic: the same inputs always
    give the same clips, as test-time evaluation needs.

    >>> [c.tolist() for c in sample_multi_clip_indices(10, 3, 3)]
    [[0, 1, 2], [4, 5, 6], [7, 8, 9]]
    """
    _validate(num_frames, T, short_clip)
    if isinstance(num_clips, bool) or not isinstance(num_clips, (int, np.integer)) or num_clips < 1:
        raise ValueError(f"num_clips must be a positive int, got {num_clips!r}")
    if num_frames < T:
        clip = short_clip_indices(num_frames, T, short_clip)
        return [clip.copy() for _ in range(num_clips)]
    stride = _fitting_stride(num_frames, T, stride)
    last_start = num_frames - window_span(T, stride)
    if num_clips == 1:
        starts = np.array([last_start // 2], dtype=np.int64)
    else:
        # i * last / (k - 1) rounded to the nearest integer, in exact integer arithmetic
        steps = np.arange(num_clips, dtype=np.int64) * last_start
        starts = (2 * steps + (num_clips - 1)) // (2 * (num_clips - 1))
    offsets = stride * np.arange(T, dtype=np.int64)
    return [int(start) + offsets for start in starts]
