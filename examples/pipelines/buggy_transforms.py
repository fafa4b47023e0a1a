"""Clip transforms with the spatial and colour bugs the auditor looks for.

Audit: temporalkit audit examples/pipelines/buggy_transforms.py
"""

try:
    import cv2
except ImportError:  # OpenCV is optional here: only the cv2 helpers need it
    cv2 = None
import numpy as np
import torch
import torch.nn.functional as F
from torchvision.transforms import v2


def resize_frames_cv2(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Squashes every frame to a square, whatever the video's aspect ratio."""
    return [cv2.resize(frame, (224, 224)) for frame in frames]


def resize_clip(clip: torch.Tensor) -> torch.Tensor:
    """clip: (T, C, H, W) float tensor."""
    return F.interpolate(clip, size=(224, 224), mode="bilinear", align_corners=False)


train_transform = v2.Compose(
    [
        v2.Resize((224, 224)),
        v2.RandomHorizontalFlip(),
    ]
)

random_crop = v2.RandomResizedCrop(224, scale=(0.5, 1.0))


def augment_clip(frames: list[torch.Tensor]) -> torch.Tensor:
    """A new crop and flip is drawn for every frame: the clip jitters."""
    return torch.stack([random_crop(frame) for frame in frames])


def load_frame_cv2(path: str) -> torch.Tensor:
    frame = cv2.imread(path)  # BGR
    return torch.from_numpy(frame).permute(2, 0, 1)


def pad_short_clip(frames: list[np.ndarray], clip_len: int) -> np.ndarray:
    """Short clips are padded with black frames."""
    while len(frames) < clip_len:
        frames.append(np.zeros_like(frames[0]))
    return np.stack(frames)
