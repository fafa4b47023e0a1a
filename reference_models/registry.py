"""The model registry: one entry per model the cost table and the architecture picker know.

Importing this module does not import torch: `MODELS` can be listed cheaply. Building a model
(`entry.build(...)`) and reading torchvision's published metadata (`entry.published`) import
torch/torchvision on first use. Builders return randomly initialised networks (no weights are
ever downloaded); on the meta device they take no memory.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

# The family vocabulary lives in `families`; FAMILIES and TINY_FAMILIES are read from here too.
from temporalkit.reference_models.families import FAMILIES, TINY_FAMILIES, Family  # noqa: F401

# TimeSformer-Base (Bertasius et al. 2021, ViT-B/16 at 8x224^2) for the cost table: the
# `timesformer()` builder defaults to a tiny size for CPU training, which would make the table
# compare a toy with full-size networks.
TIMESFORMER_BASE = {"dim": 768, "depth": 12, "heads": 12, "patch": 16}

Unsupported = Callable[[int, int], "str | None"]


def _always_supported(frames: int, size: int) -> str | None:
    if frames < 1 or size < 1:
        return f"frames and size must be positive (got frames={frames}, size={size})"
    return None


def _s3d_unsupported(frames: int, size: int) -> str | None:
    # S3D ends in a fixed 2x7x7 average pool over an 8x temporally / 32x spatially reduced map;
    # below these sizes the map is smaller than the pool. Bounds checked against a meta-device
    # forward pass in tests/test_cost.py.
    if frames < 13:
        return f"s3d needs at least 13 frames for its final 2x7x7 pool (got {frames}; trained at 16)"
    if size < 209:
        return f"s3d needs at least 209 px for its final 2x7x7 pool (got {size}; trained at 224)"
    return None


def _mvit_unsupported(frames: int, size: int) -> str | None:
    # torchvision's MViT fixes temporal_size=16 and spatial_size=224 in its position embeddings.
    if frames != 16 or size != 224:
        return f"mvit in torchvision is built for exactly 16 frames at 224 px (got {frames} frames, {size} px)"
    return None


def _patch_unsupported(patch: int, tubelet: int = 1) -> Unsupported:
    def unsupported(frames: int, size: int) -> str | None:
        if frames < 1 or size < 1:
            return f"frames and size must be positive (got frames={frames}, size={size})"
        if size % patch:
            return f"size {size} is not divisible by the {patch}px patch"
        if frames % tubelet:
            return f"frames {frames} is not divisible by the tubelet length {tubelet}"
        return None

    return unsupported


@dataclass(frozen=True)
class ModelEntry:
    """One model: how to build it (no weights), its input layout, limits and published figures.

    `builder` is "module:function" relative to this package or a torchvision.models.video
    function name prefixed with "torchvision:"; it is resolved on first `build` so that listing
    the registry stays torch-free.
    """

    id: str
    family: str  # a `Family` value: "2d_pool", "3d_conv", "2plus1d", "transformer" or "temporal_shift"
    input_layout: str  # "NTCHW" (FramePool, TSM, CLIP frames) or "NCTHW" (3D conv, transformers, torchvision)
    builder: str
    builder_kwargs: dict = field(default_factory=dict)
    # Which of the clip's `frames` and `size` the builder takes (position embeddings, shifts).
    input_kwargs: tuple[str, ...] = ()
    unsupported: Unsupported = _always_supported
    source: str = ""  # paper or documentation URL
    torchvision_weights: str | None = None  # name of the torchvision Weights enum, e.g. "R3D_18_Weights"

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"{self.id}: family must be one of {', '.join(FAMILIES)}, got {self.family!r}")

    def build(self, num_classes: int = 400, frames: int = 16, size: int = 224):
        """Return the network (random init, on the current default device) for this input."""
        module_name, function_name = self.builder.split(":")
        if module_name == "torchvision":
            import torchvision.models.video as video

            return getattr(video, function_name)(num_classes=num_classes)
        module = importlib.import_module(f"temporalkit.reference_models.{module_name}")
        kwargs = dict(self.builder_kwargs)
        kwargs.update(
            {name: value for name, value in (("frames", frames), ("size", size)) if name in self.input_kwargs}
        )
        return getattr(module, function_name)(num_classes=num_classes, **kwargs)

    @cached_property
    def published(self) -> dict:
        """Published figures: torchvision's weights `.meta` (no download needed) or the paper."""
        if self.torchvision_weights is None:
            return {"source": self.source}
        import torchvision.models.video as video

        weights = getattr(video, self.torchvision_weights)
        figures: dict = {"source": self.source}
        for member in weights:
            meta = member.meta
            figures[member.name] = {
                "kinetics400_acc1": meta["_metrics"]["Kinetics-400"]["acc@1"],
                "kinetics400_acc5": meta["_metrics"]["Kinetics-400"]["acc@5"],
                "gmacs": meta["_ops"],
                "params": meta["num_params"],
                "min_size": list(meta["min_size"]),
                "min_temporal_size": meta.get("min_temporal_size"),
                "recipe": meta.get("recipe"),
                "url": member.url,
            }
        default = weights.DEFAULT.meta
        figures.update(
            acc1=default["_metrics"]["Kinetics-400"]["acc@1"],
            acc5=default["_metrics"]["Kinetics-400"]["acc@5"],
            gmacs=default["_ops"],
            params=default["num_params"],
        )
        return figures


def _torchvision(model_id: str, family: str, weights: str, source: str, unsupported: Unsupported = _always_supported):
    return ModelEntry(
        id=model_id,
        family=family,
        input_layout="NCTHW",
        builder=f"torchvision:{model_id}",
        unsupported=unsupported,
        source=source,
        torchvision_weights=weights,
    )


_TORCHVISION_DOCS = "https://pytorch.org/vision/stable/models.html#video-classification"

_ENTRIES = [
    ModelEntry(
        "framepool_r18",
        "2d_pool",
        "NTCHW",
        "framepool:framepool_r18",
        source="https://arxiv.org/abs/1608.00859 (TSN-style average of per-frame ResNet-18 features)",
    ),
    ModelEntry(
        "i3d_r18",
        "3d_conv",
        "NCTHW",
        "inflate:i3d_r18",
        source="https://arxiv.org/abs/1705.07750 (I3D inflation of an ImageNet ResNet-18)",
    ),
    ModelEntry(
        "r2plus1d_r18",
        "2plus1d",
        "NCTHW",
        "r2plus1d:r2plus1d_r18",
        source="https://arxiv.org/abs/1711.11248",
    ),
    *(
        ModelEntry(
            f"timesformer_{attention}",
            "transformer",
            "NCTHW",
            "transformer:timesformer",
            builder_kwargs={"attention": attention, **TIMESFORMER_BASE},
            input_kwargs=("frames", "size"),
            unsupported=_patch_unsupported(TIMESFORMER_BASE["patch"]),
            source="https://arxiv.org/abs/2102.05095 (TimeSformer-Base, ViT-B/16)",
        )
        for attention in ("divided", "joint", "space_only")
    ),
    ModelEntry(
        "tsm_r50",
        "temporal_shift",
        "NTCHW",
        "tsm:tsm_resnet50",
        input_kwargs=("frames",),
        source="https://arxiv.org/abs/1811.08383 (TSM, residual shift 1/8 each way, ResNet-50)",
    ),
    ModelEntry(
        "tsm_mobilenet_v2",
        "temporal_shift",
        "NTCHW",
        "tsm:tsm_mobilenet_v2",
        input_kwargs=("frames",),
        source="https://arxiv.org/abs/1811.08383 (online TSM on MobileNetV2, section 5)",
    ),
    _torchvision("r3d_18", "3d_conv", "R3D_18_Weights", _TORCHVISION_DOCS),
    _torchvision("mc3_18", "3d_conv", "MC3_18_Weights", _TORCHVISION_DOCS),
    _torchvision("r2plus1d_18", "2plus1d", "R2Plus1D_18_Weights", _TORCHVISION_DOCS),
    # S3D factorises every 3D conv into a spatial and a temporal one: a (2+1)D network.
    _torchvision("s3d", "2plus1d", "S3D_Weights", _TORCHVISION_DOCS, _s3d_unsupported),
    _torchvision("mvit_v1_b", "transformer", "MViT_V1_B_Weights", _TORCHVISION_DOCS, _mvit_unsupported),
    _torchvision("mvit_v2_s", "transformer", "MViT_V2_S_Weights", _TORCHVISION_DOCS, _mvit_unsupported),
    _torchvision("swin3d_t", "transformer", "Swin3D_T_Weights", _TORCHVISION_DOCS),
    _torchvision("swin3d_s", "transformer", "Swin3D_S_Weights", _TORCHVISION_DOCS),
    _torchvision("swin3d_b", "transformer", "Swin3D_B_Weights", _TORCHVISION_DOCS),
]

MODELS: dict[str, ModelEntry] = {entry.id: entry for entry in _ENTRIES}
OURS = tuple(entry.id for entry in _ENTRIES if entry.torchvision_weights is None)
TORCHVISION = tuple(entry.id for entry in _ENTRIES if entry.torchvision_weights is not None)

TINY_WIDTHS = (8, 16, 32, 64)


def build_tiny(family: str, num_classes: int, frames: int, size: int):
    """A small network of `family` (any spelling `Family.parse` accepts) that trains in seconds on
    CPU at 8-16 frames, 32-64 px.

    framepool/i3d/r2plus1d/tsm use ResNet-18 depth with widths (8, 16, 32, 64) (tsm shifts over
    `frames`, so it takes clips of exactly that length); the transformer is
    divided attention with dim 64, depth 2, 2 heads and a patch of size // 8 (so 8x8 patches of
    a 64 px frame). Input layout: `model.input_layout` ("NTCHW" for framepool, else "NCTHW").
    """
    which = Family.parse(family)
    if which is Family.POOL_2D:
        from temporalkit.reference_models.framepool import FramePool

        return FramePool(num_classes=num_classes, widths=TINY_WIDTHS)
    if which is Family.CONV_3D:
        from temporalkit.reference_models.inflate import I3DResNet

        return I3DResNet(num_classes=num_classes, widths=TINY_WIDTHS)
    if which is Family.CONV_2PLUS1D:
        from temporalkit.reference_models.r2plus1d import R2Plus1dResNet

        return R2Plus1dResNet(num_classes=num_classes, widths=TINY_WIDTHS)
    if which is Family.TEMPORAL_SHIFT:
        from temporalkit.reference_models.tsm import tiny_tsm

        return tiny_tsm(num_classes=num_classes, frames=frames, widths=TINY_WIDTHS)
    from temporalkit.reference_models.transformer import timesformer

    if size % 8:
        raise ValueError(f"tiny transformer needs a size divisible by 8 (got {size})")
    return timesformer(
        num_classes=num_classes,
        attention="divided",
        frames=frames,
        size=size,
        dim=64,
        depth=2,
        heads=2,
        patch=size // 8,
    )
