"""The correct counterparts of dynamic_transforms.py: the dynamic auditor finds nothing here.

Audit: temporalkit audit --dynamic examples/pipelines/dynamic_transforms_correct.py
"""

import numpy as np
import torch
import torch.nn.functional as F

CROP_SIZE = 112
CLIP_LEN = 8
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def random_crop_clip(clip: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) -> (T, C, 112, 112): one crop window, drawn once, for every frame."""
    _, _, height, width = clip.shape
    top = int(torch.randint(0, max(0, height - CROP_SIZE) + 1, ()))
    left = int(torch.randint(0, max(0, width - CROP_SIZE) + 1, ()))
    return clip[:, :, top : top + CROP_SIZE, left : left + CROP_SIZE]


def resize_short_side(clip: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) -> (T, C, h, w) with min(h, w) == 112 and the aspect ratio kept."""
    _, _, height, width = clip.shape
    scale = CROP_SIZE / min(height, width)
    size = (round(height * scale), round(width * scale))
    return F.interpolate(clip, size=size, mode="bilinear", align_corners=False)


def normalize_rgb(clip: np.ndarray) -> np.ndarray:
    """(T, H, W, C) uint8 RGB -> float32 normalised with the ImageNet mean/std, channels kept."""
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    return (clip.astype(np.float32) / 255.0 - mean) / std


def pad_by_looping(clip: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) -> (CLIP_LEN, C, H, W): a short clip is filled by looping its own frames."""
    if clip.shape[0] >= CLIP_LEN:
        return clip
    loop = torch.arange(CLIP_LEN) % clip.shape[0]
    return clip[loop]


def normalize_clip(clip: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) float in 0..1 -> normalised with the ImageNet mean/std."""
    return (clip - MEAN) / STD
