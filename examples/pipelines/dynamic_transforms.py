"""Clip transforms that look fine in review and misbehave at run time: one planted bug each.

Audit: temporalkit audit --dynamic examples/pipelines/dynamic_transforms.py
The correct counterparts are in dynamic_transforms_correct.py.
"""

import numpy as np
import torch
import torch.nn.functional as F

CROP_SIZE = 112
CLIP_LEN = 8


def random_crop_each_frame(clip: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) -> (T, C, 112, 112). Bug: a new crop window is drawn for every frame."""
    _, _, height, width = clip.shape
    frames = []
    for frame in clip:
        top = int(torch.randint(0, max(0, height - CROP_SIZE) + 1, ()))
        left = int(torch.randint(0, max(0, width - CROP_SIZE) + 1, ()))
        frames.append(frame[:, top : top + CROP_SIZE, left : left + CROP_SIZE])
    return torch.stack(frames)


def random_crop_never_last_row(clip: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) -> (T, C, 112, 112). Bug: numpy's randint excludes its upper bound, so no crop
    ever includes the last row or the last column of the frame."""
    _, _, height, width = clip.shape
    top = np.random.randint(0, max(1, height - CROP_SIZE))
    left = np.random.randint(0, max(1, width - CROP_SIZE))
    return clip[:, :, top : top + CROP_SIZE, left : left + CROP_SIZE]


def resize_to_square(clip: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) -> (T, C, 112, 112). Bug: squashes a 16:9 frame into a square."""
    return F.interpolate(clip, size=(CROP_SIZE, CROP_SIZE), mode="bilinear", align_corners=False)


def opencv_style_color(clip: np.ndarray) -> np.ndarray:
    """(T, H, W, C) uint8. Bug: reverses the channels, as frames read with cv2 are BGR."""
    return np.ascontiguousarray(clip[..., ::-1])


def pad_to_clip_len(clip: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) -> (CLIP_LEN, C, H, W). Bug: a short clip is padded with black frames."""
    missing = CLIP_LEN - clip.shape[0]
    if missing <= 0:
        return clip
    return torch.cat([clip, torch.zeros((missing, *clip.shape[1:]), dtype=clip.dtype)])
