"""Video loaders with run-time bugs that only show on real files: one planted bug each.

Audit: temporalkit audit --dynamic examples/pipelines/dynamic_loaders.py
The correct counterparts are in dynamic_loaders_correct.py.
"""

import av
import numpy as np
from PIL import Image


def decode_rgb(path: str) -> list[np.ndarray]:
    with av.open(path) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def load_clip_trusting_metadata(path: str, num_frames: int = 8) -> np.ndarray:
    """(T, H, W, C). Bug: the frame count comes from the container header."""
    with av.open(path) as container:
        total = container.streams.video[0].frames
    frames = decode_rgb(path)
    indices = np.linspace(0, total - 1, num_frames).round().astype(int)
    return np.stack([frames[i] for i in indices])


def load_clip_strided(path: str, num_frames: int = 8) -> np.ndarray:
    """(T, H, W, C). Bug: a floor stride stops short of the end of long videos."""
    frames = decode_rgb(path)
    if len(frames) < num_frames:
        indices = np.linspace(0, len(frames) - 1, num_frames).round().astype(int)
    else:
        step = len(frames) // num_frames
        indices = np.arange(0, step * num_frames, step)
    return np.stack([frames[i] for i in indices])


def load_video_bgr(path: str) -> list[np.ndarray]:
    """Every frame. Bug: decoded as BGR (as cv2 does) and never converted."""
    with av.open(path) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def load_video_from_one(path: str) -> list[np.ndarray]:
    """Every frame. Bug: frame numbers treated as 1-based, so the first frame is skipped."""
    frames = decode_rgb(path)
    return [frames[number] for number in range(1, len(frames))]


def load_video_square(path: str) -> list[np.ndarray]:
    """Every frame at 112x112. Bug: squashes the frame whatever its aspect ratio."""
    return [np.asarray(Image.fromarray(frame).resize((112, 112))) for frame in decode_rgb(path)]
