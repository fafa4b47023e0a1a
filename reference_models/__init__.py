"""Reference video models for temporalkit and the model registry the cost table and picker read.

Nothing here imports torch at import time: `temporalkit.reference_models.registry` lists
model ids without torch, and the model classes and builders below are loaded on first use.

Input layouts (written again on each class):

* `FramePool`, `TemporalShiftNetwork` (TSM) and `ClipFrameEncoder` take `(N, T, 3, H, W)`
  (`input_layout = "NTCHW"`): one 2D backbone per frame.
* `I3DResNet`, `R2Plus1dResNet`, `VideoTransformer` (TimeSformer, VideoMAE), `X3D`, `SlowFast`
  and `MoViNet` take `(N, C, T, H, W)` (`"NCTHW"`), the layout of torchvision's video models.
"""

from __future__ import annotations

import importlib

# Public name -> module that defines it; loaded lazily by __getattr__ (PEP 562).
_LAZY = {
    "FramePool": "framepool",
    "framepool_r18": "framepool",
    "ResNet2d": "blocks",
    "Conv2Plus1D": "blocks",
    "make_stages": "blocks",
    "inflate_conv2d": "inflate",
    "inflate_batchnorm2d": "inflate",
    "inflate_resnet2d": "inflate",
    "I3DResNet": "inflate",
    "i3d_r18": "inflate",
    "R2Plus1dResNet": "r2plus1d",
    "r2plus1d_r18": "r2plus1d",
    "TransformerConfig": "transformer",
    "VideoTransformer": "transformer",
    "timesformer": "transformer",
    "TemporalShiftNetwork": "tsm",
    "temporal_shift": "tsm",
    "tsm_resnet50": "tsm",
    "tsm_mobilenet_v2": "tsm",
    "X3D": "x3d",
    "x3d": "x3d",
    "SlowFast": "slowfast",
    "slowfast_r50": "slowfast",
    "MoViNet": "movinet",
    "movinet": "movinet",
    "videomae_vit": "transformer",
    "ClipFrameEncoder": "clip_frames",
    "clip_frame_encoder": "clip_frames",
    "MODELS": "registry",
    "PUBLISHED_ONLY": "registry",
    "Published": "registry",
    "ModelEntry": "registry",
    "build_tiny": "registry",
    "measure_cost": "cost",
    "cost_table": "cost",
    "CostRow": "cost",
    "load_weights": "weights",
    "read_checkpoint": "weights",
    "load_state_dict_file": "weights",
    "find_checkpoint": "weights",
    "WeightsNotFoundError": "weights",
    "pick_device": "device",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from temporalkit.extras import require

    require("models", f"{__name__}.{name}")  # the core install has no torch: one line naming the extra
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
