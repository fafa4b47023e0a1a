"""Clip types the dynamic checks speak (findings are made by `checks.DynamicCheck.finding`).

A clip goes into user code as one of the common types (`CLIP_TYPES`) and whatever comes back is
turned into a list of (H, W, 3) float frames with `clip_to_frames`, guided by the layout that was
sent. Torch is imported only when a torch clip type is built.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence

import numpy as np
from temporalkit.validators.dynamic.frame_code import frame_to_hwc, to_numpy

# name -> what it is; tried in this order when the caller does not say which a transform takes.
CLIP_TYPES: dict[str, str] = {
    "tensor-TCHW": "torch float tensor (T, C, H, W) in 0..1",
    "tensor-CTHW": "torch float tensor (C, T, H, W) in 0..1",
    "tensor-TCHW-uint8": "torch uint8 tensor (T, C, H, W)",
    "array-THWC": "numpy uint8 array (T, H, W, C)",
    "pil-list": "list of PIL RGB images",
    "array-list": "list of numpy uint8 (H, W, C) arrays",
}


class UnusableCallable(Exception):
    """The user's callable could not be exercised at all (no accepted input type, wrong signature)."""


def make_clip(frames: Sequence[np.ndarray], clip_type: str):
    """`frames` ((H, W, 3) uint8 RGB arrays) as a clip of `clip_type`."""
    stacked = np.stack(frames)  # (T, H, W, C)
    if clip_type == "array-THWC":
        return stacked.copy()
    if clip_type == "array-list":
        return [frame.copy() for frame in frames]
    if clip_type == "pil-list":
        from PIL import Image

        return [Image.fromarray(frame) for frame in frames]
    if clip_type.startswith("tensor-"):
        import torch

        # Built in numpy and handed to torch once: torch's strided `contiguous()` and `float()` on a
        # permuted view cost 5-10x more (8 ms a clip here, half of a transform's checks), with the same
        # values (float32 division by 255 either way). The clone gives torch its own, resizable storage.
        order = (3, 0, 1, 2) if clip_type == "tensor-CTHW" else (0, 3, 1, 2)  # (C, T, H, W) or (T, C, H, W)
        array = np.ascontiguousarray(stacked.transpose(order))
        if clip_type != "tensor-TCHW-uint8":
            array = array.astype(np.float32)
            np.divide(array, np.float32(255.0), out=array)
        return torch.from_numpy(array).clone()
    raise ValueError(f"unknown clip type {clip_type!r}; choose one of {', '.join(CLIP_TYPES)}")


def _unwrap(output: object) -> object:
    """The clip inside a (clip, label) tuple or a {"video": clip} dict, else `output`."""
    if isinstance(output, dict):
        for key in ("video", "clip", "frames", "imgs", "images", "inputs"):
            if key in output:
                return output[key]
        raise ValueError(f"returned a dict without a clip key (keys: {', '.join(map(str, output))})")
    if isinstance(output, tuple) and output and not _looks_like_frame(output[0]):
        return output[0]
    return output


def _looks_like_frame(value: object) -> bool:
    if type(value).__module__.startswith("PIL"):
        return True
    shape = getattr(value, "shape", None)
    return shape is not None and len(shape) in (2, 3)


def clip_to_frames(output: object, sent_type: str | None = None) -> list[np.ndarray]:
    """Whatever came back, as a list of (H, W, 3) float32 frames in 0..1.

    The time axis is found from the layout that was sent (`sent_type`) when the channel axis is
    where that layout puts it, else from where a 1- or 3-channel axis is.
    """
    output = _unwrap(output)
    if isinstance(output, (list, tuple)):
        return [frame_to_hwc(frame) for frame in output]
    array = to_numpy(output)
    while array.ndim == 5 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 3:
        return [frame_to_hwc(array)]
    if array.ndim != 4:
        raise ValueError(f"returned an array of shape {tuple(array.shape)}, not a clip")
    channel_sizes = (1, 3)
    if sent_type == "tensor-CTHW" and array.shape[0] in channel_sizes:
        frames = np.moveaxis(array, 1, 0)  # (T, C, H, W)
    elif sent_type in ("tensor-TCHW", "tensor-TCHW-uint8") and array.shape[1] in channel_sizes:
        frames = array
    elif sent_type == "array-THWC" and array.shape[-1] in channel_sizes:
        frames = array
    elif array.shape[1] in channel_sizes:
        frames = array
    elif array.shape[-1] in channel_sizes:
        frames = array
    elif array.shape[0] in channel_sizes:
        frames = np.moveaxis(array, 1, 0)
    else:
        raise ValueError(f"returned an array of shape {tuple(array.shape)} with no 1- or 3-channel axis")
    return [frame_to_hwc(frame) for frame in frames]


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and (when already imported) torch, so a seed names one run."""
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def short_repr(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:200] if text else type(error).__name__
