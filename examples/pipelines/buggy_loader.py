"""A video dataset whose loader trusts container metadata and samples randomly at test time.

Audit: temporalkit audit examples/pipelines/buggy_loader.py
"""

import random

import av

try:
    import cv2
except ImportError:  # OpenCV is optional here: only the cv2 helpers need it
    cv2 = None
import numpy as np
import torch
from torch.utils.data import Dataset


def count_frames_cv2(path: str) -> int:
    capture = cv2.VideoCapture(path)
    return int(capture.get(cv2.CAP_PROP_FRAME_COUNT))


def count_frames_av(path: str) -> int:
    with av.open(path) as container:
        return container.streams.video[0].frames


class VideoClips(Dataset):
    """Clips of `clip_len` frames; `split` is "train" or "val"."""

    def __init__(self, paths: list[str], clip_len: int = 16, split: str = "val") -> None:
        self.paths = paths
        self.clip_len = clip_len
        self.split = split

    def __len__(self) -> int:
        return len(self.paths)

    def sample_val(self, num_frames: int) -> np.ndarray:
        """Validation sampling: should be the same clip every epoch."""
        start = random.randint(0, max(0, num_frames - self.clip_len))
        return np.arange(start, start + self.clip_len)

    def __getitem__(self, index: int) -> torch.Tensor:
        path = self.paths[index]
        num_frames = count_frames_av(path)
        indices = np.linspace(0, num_frames, self.clip_len).astype(int)
        with av.open(path) as container:
            decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        clip = np.stack([decoded[i] for i in indices])  # (T, H, W, C)
        return torch.from_numpy(clip).permute(0, 3, 1, 2)  # (T, C, H, W)


def evaluate(model: torch.nn.Module, clip: torch.Tensor) -> torch.Tensor:
    """clip: (T, C, H, W). The video model expects (N, C, T, H, W)."""
    return model(clip.unsqueeze(0))
