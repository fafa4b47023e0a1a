"""Frame samplers as they are often written, with the bugs that ship with them.

Audit: temporalkit audit examples/pipelines/buggy_sampler.py
"""

import random

import numpy as np
import torch


def uniform_indices(num_frames: int, clip_len: int) -> np.ndarray:
    """Evenly spaced frames over the whole video (TSN-style test sampling)."""
    return np.linspace(0, num_frames, clip_len).astype(int)


def uniform_indices_torch(num_frames: int, clip_len: int) -> torch.Tensor:
    return torch.linspace(0, num_frames, clip_len).long()


def strided_indices(num_frames: int, stride: int) -> list[int]:
    return list(range(0, num_frames + 1, stride))


def random_window(num_frames: int, clip_len: int) -> list[int]:
    """A random window of consecutive frames (training)."""
    start = random.randint(0, num_frames - clip_len + 1)
    return list(range(start, start + clip_len))


def random_window_numpy(num_frames: int, clip_len: int, rng: np.random.Generator) -> np.ndarray:
    start = rng.integers(0, num_frames - clip_len)
    return np.arange(start, start + clip_len)


def segment_indices(num_frames: int, num_segments: int) -> list[int]:
    """One random frame per segment (TSN training)."""
    seg_len = num_frames // num_segments
    return [i * seg_len + random.randrange(seg_len) for i in range(num_segments)]


def stepped_indices(num_frames: int, clip_len: int) -> list[int]:
    step = num_frames // clip_len
    return list(range(0, step * clip_len, step))


def float_step_indices(num_frames: int, clip_len: int) -> np.ndarray:
    return np.arange(0, num_frames, num_frames / clip_len).astype(int)


def sparse_random_indices(num_frames: int, clip_len: int) -> list[int]:
    return random.sample(range(num_frames), clip_len)


def unique_indices(indices: list[int]) -> list[int]:
    return list(set(indices))
