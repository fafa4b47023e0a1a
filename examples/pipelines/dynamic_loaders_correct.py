"""The correct counterparts of dynamic_loaders.py: the dynamic auditor finds nothing here.

Audit: temporalkit audit --dynamic examples/pipelines/dynamic_loaders_correct.py
"""

import av
import numpy as np
from PIL import Image


def load_video(path: str) -> list[np.ndarray]:
    """Every decoded frame, RGB, in presentation order."""
    with av.open(path) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def load_clip(path: str, num_frames: int = 8) -> np.ndarray:
    """(T, H, W, C): T frames spread over the frames that really decode (repeats when fewer)."""
    frames = load_video(path)
    indices = np.linspace(0, len(frames) - 1, num_frames).round().astype(int)
    return np.stack([frames[i] for i in indices])


def load_video_short_side(path: str) -> list[np.ndarray]:
    """Every frame with the short side resized to 112, aspect ratio kept."""
    frames = load_video(path)
    height, width = frames[0].shape[:2]
    scale = 112 / min(height, width)
    size = (round(width * scale), round(height * scale))
    return [np.asarray(Image.fromarray(frame).resize(size)) for frame in frames]
