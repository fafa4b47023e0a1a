"""Frame samplers with behavioural bugs that only show when the code runs.

`temporalkit audit --dynamic examples/pipelines` (or `temporalkit check FILE:OBJECT --role sampler`)
finds each one with the smallest input that shows it. Every function here handles the empty video
correctly, so each reports exactly the bug it plants.
"""

import numpy as np


def sample_uniform_off_by_one(num_frames, T):
    """BUG (index-out-of-range): linspace up to num_frames, not num_frames - 1, returns index num_frames."""
    if num_frames == 0:
        raise ValueError("empty video")
    return np.linspace(0, num_frames, T).astype(np.int64)


class RandomClipSampler:
    """BUG (short-clip): crashes when the video is shorter than the clip (rng.integers with high <= 0)."""

    def __init__(self, clip_len):
        self.clip_len = clip_len

    def __call__(self, num_frames, rng):
        if num_frames == 0:
            raise ValueError("empty video")
        start = rng.integers(0, num_frames - self.clip_len + 1)
        return np.arange(start, start + self.clip_len)


def sample_strided(num_frames, clip_len):
    """BUG (short-clip, uneven-coverage): an integer step is 0 for short videos (every index is 0),
    and it drops the remainder, so the tail of long videos is never sampled."""
    if num_frames == 0:
        raise ValueError("empty video")
    step = num_frames // clip_len
    return [i * step for i in range(clip_len)]


def sample_segments_tail_dropped(total, num_segments):
    """BUG (uneven-coverage): segment length rounded down, so the last frames are never sampled."""
    if total == 0:
        raise ValueError("empty video")
    segment = max(total // num_segments, 1)
    return np.minimum(np.arange(num_segments) * segment, total - 1)


def sample_dense_window(num_frames, T, rng):
    """BUG (start-range): the upper bound of rng.integers is exclusive, so the window never ends on the last frame."""
    if num_frames == 0:
        raise ValueError("empty video")
    if num_frames <= T:
        return np.minimum(np.arange(T), num_frames - 1)
    start = rng.integers(0, num_frames - T)
    return start + np.arange(T)


def sample_random_frames(num_frames, num_samples, seed):
    """BUG (temporal-order): rng.choice returns the frames in random order; they are never sorted."""
    if num_frames == 0:
        raise ValueError("empty video")
    rng = np.random.default_rng(seed)
    if num_frames < num_samples:
        return np.sort(np.arange(num_samples) % num_frames)
    return rng.choice(num_frames, num_samples, replace=False)


def sample_val_clip(num_frames, T):
    """BUG (nondeterministic-eval): a validation clip drawn from the global random state changes every run."""
    if num_frames == 0:
        raise ValueError("empty video")
    if num_frames < T:
        return np.minimum(np.arange(T), num_frames - 1)
    start = np.random.randint(0, num_frames - T + 1)
    return np.arange(start, start + T)
