"""A sampling and cropping pipeline that the auditor should find nothing wrong with.

Every index stays in [0, num_frames - 1], short videos are handled explicitly, random windows can
start anywhere in [0, num_frames - clip_len], validation sampling is deterministic, frames are
resized on the short side and cropped, and one crop is drawn per clip, not per frame.

Audit: temporalkit audit examples/pipelines/correct_pipeline.py
"""

import random

try:
    import cv2
except ImportError:  # OpenCV is optional here: only the cv2 helpers need it
    cv2 = None
import numpy as np
import torch
from torchvision.transforms import v2


def uniform_indices(num_frames: int, clip_len: int) -> np.ndarray:
    """`clip_len` evenly spaced indices; short videos repeat frames instead of running past the end."""
    if num_frames < 1:
        raise ValueError("video has no frames")
    return np.linspace(0, num_frames - 1, clip_len).round().astype(int)


def random_window(num_frames: int, clip_len: int) -> list[int]:
    """A random window of consecutive frames; a short video loops (kept in temporal order)."""
    if num_frames < 1:
        raise ValueError("video has no frames")
    if num_frames < clip_len:
        return sorted(i % num_frames for i in range(clip_len))
    start = random.randint(0, num_frames - clip_len)  # inclusive: the last window can be drawn
    return list(range(start, start + clip_len))


def center_window(num_frames: int, clip_len: int) -> list[int]:
    """Validation: the same window every epoch."""
    if num_frames < 1:
        raise ValueError("video has no frames")
    start = max(0, (num_frames - clip_len) // 2)
    return [min(start + i, num_frames - 1) for i in range(clip_len)]


def read_rgb(path: str) -> np.ndarray:
    frame = cv2.imread(path)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


# Applied to a whole (T, C, H, W) clip tensor: one random crop and flip for all frames.
train_transform = v2.Compose(
    [
        v2.Resize(256, antialias=True),
        v2.RandomCrop(224),
        v2.RandomHorizontalFlip(),
    ]
)

val_transform = v2.Compose([v2.Resize(256, antialias=True), v2.CenterCrop(224)])


def to_model_input(clip: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) clip -> (N, C, T, H, W) batch for a 3D CNN."""
    return clip.permute(1, 0, 2, 3).unsqueeze(0)
