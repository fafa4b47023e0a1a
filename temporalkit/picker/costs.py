"""What the picker knows about each model: measured cost, family, usable weights, native clip,
and the published accuracies it quotes.

Costs come from the one cost table (`temporalkit.reference_models.cost.measure_cost`); this module
only caches them per (model, frames, size, device, latency) because building MViT or Swin, even on
the meta device, takes seconds and the recommender asks for the same rows many times.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from temporalkit.reference_models.families import Family

TORCHVISION_MODELS: frozenset[str] = frozenset(
    {"r3d_18", "mc3_18", "r2plus1d_18", "s3d", "mvit_v1_b", "mvit_v2_s", "swin3d_t", "swin3d_s", "swin3d_b"}
)

# Models that never mix information across frames before the final pooling: for a label defined
# by motion they are as blind as averaging frames (TimeSformer Table 1: space-only attention
# drops to 36.6% on SSv2 against 59.5% for divided attention).
NO_TEMPORAL_MIXING: frozenset[str] = frozenset({"framepool_r18", "timesformer_space_only"})

# The clip each model's recipe trains on (frames, side): the paper's or torchvision's recipe.
NATIVE_CLIP: dict[str, tuple[int, int]] = {
    "framepool_r18": (8, 224),  # TSN: 8 segments, 224 crops
    "i3d_r18": (16, 112),
    "r2plus1d_r18": (16, 112),
    "timesformer_divided": (8, 224),  # TimeSformer: 8 x 224
    "timesformer_joint": (8, 224),
    "timesformer_space_only": (8, 224),
    "r3d_18": (16, 112),  # torchvision video-ResNet recipe: 16 x 112
    "mc3_18": (16, 112),
    "r2plus1d_18": (16, 112),
    "s3d": (16, 224),
    "mvit_v1_b": (16, 224),  # MViT-B 16x4
    "mvit_v2_s": (16, 224),  # MViTv2-S 16x4
    # Video Swin trains at 32 x 224; torchvision's published `_ops` are for 16 x 224, which we follow.
    "swin3d_t": (16, 224),
    "swin3d_s": (16, 224),
    "swin3d_b": (16, 224),
}

# Which starting weights exist for a model. torchvision video models publish Kinetics-400
# weights; the reference 2D and inflated models start from an ImageNet ResNet-18 (inflation for
# I3D), TimeSformer from an ImageNet ViT as in its paper. Everything can be trained from scratch.
_USABLE_PRETRAINING_OF_REFERENCE_MODEL: dict[str, tuple[str, ...]] = {
    "framepool_r18": ("none", "imagenet"),
    "i3d_r18": ("none", "imagenet"),
    "r2plus1d_r18": ("none",),
    "timesformer_divided": ("none", "imagenet"),
    "timesformer_joint": ("none", "imagenet"),
    "timesformer_space_only": ("none", "imagenet"),
}


def usable_pretraining(model_id: str) -> tuple[str, ...]:
    if model_id in TORCHVISION_MODELS:
        return ("none", "kinetics")
    return _USABLE_PRETRAINING_OF_REFERENCE_MODEL.get(model_id, ("none",))


@dataclass(frozen=True)
class PublishedResult:
    """One published accuracy (top-1, %) with where it was published."""

    method: str
    family: str  # answer vocabulary
    setting: str
    kinetics400: float | None
    ssv2: float | None
    source: str


# Paper figures (top-1 %, the paper's own evaluation protocol; settings differ, so compare with care).
PAPER_RESULTS: tuple[PublishedResult, ...] = (
    PublishedResult(
        "I3D (RGB)",
        "i3d",
        "64f x 224, ImageNet-inflated",
        71.1,
        None,
        "Carreira & Zisserman, Quo Vadis, Action Recognition?, CVPR 2017 (arXiv:1705.07750)",
    ),
    PublishedResult(
        "R(2+1)D-34 (RGB)",
        "r2plus1d",
        "32f x 112, from scratch",
        72.0,
        None,
        "Tran et al., A Closer Look at Spatiotemporal Convolutions, CVPR 2018 (arXiv:1711.11248)",
    ),
    PublishedResult(
        "TimeSformer space-only",
        "transformer",
        "8f x 224, ImageNet-21K init",
        76.9,
        36.6,
        "Bertasius et al., Is Space-Time Attention All You Need?, ICML 2021 (arXiv:2102.05095), Table 1",
    ),
    PublishedResult(
        "TimeSformer joint space-time",
        "transformer",
        "8f x 224, ImageNet-21K init",
        77.4,
        58.5,
        "Bertasius et al., ICML 2021 (arXiv:2102.05095), Table 1",
    ),
    PublishedResult(
        "TimeSformer divided space-time",
        "transformer",
        "8f x 224, ImageNet-21K init",
        78.0,
        59.5,
        "Bertasius et al., ICML 2021 (arXiv:2102.05095), Table 1",
    ),
    PublishedResult(
        "TSN ResNet-50 (2D + average)",
        "2d_pool",
        "8f x 10 clips, dense",
        70.6,
        None,
        "mit-han-lab/temporal-shift-module README, Kinetics-400 table (TSM paper Table 1)",
    ),
    PublishedResult(
        "TSM ResNet-50",
        "2d + temporal shift",
        "8f, temporal shift in a 2D net; K400 8f x 10 clips, SSv2 8f x 2 clips",
        74.1,
        61.2,
        "Lin et al., TSM, ICCV 2019 (arXiv:1811.08383); mit-han-lab/temporal-shift-module README",
    ),
    PublishedResult(
        "ViViT-L/16x2 factorised encoder",
        "transformer",
        "32f x 224, Kinetics init for SSv2",
        None,
        65.4,
        "Arnab et al., ViViT: A Video Vision Transformer, ICCV 2021 (arXiv:2103.15691)",
    ),
    PublishedResult(
        "MViT-B 16x4",
        "transformer",
        "16f x 224, Kinetics-400 init for SSv2",
        78.4,
        64.7,
        "Fan et al., Multiscale Vision Transformers, ICCV 2021 (arXiv:2104.11227)",
    ),
    PublishedResult(
        "MViTv2-S 16x4",
        "transformer",
        "16f x 224, Kinetics-400 init for SSv2",
        81.0,
        68.2,
        "Li et al., MViTv2, CVPR 2022 (arXiv:2112.01526)",
    ),
    PublishedResult(
        "Video Swin-B",
        "transformer",
        "32f x 224, Kinetics-400 init for SSv2",
        80.6,
        69.6,
        "Liu et al., Video Swin Transformer, CVPR 2022 (arXiv:2106.13230)",
    ),
    PublishedResult(
        "VideoMAE ViT-B",
        "transformer",
        "16f x 224, self-supervised on the target data",
        81.5,
        70.8,
        "Tong et al., VideoMAE, NeurIPS 2022 (arXiv:2203.12602)",
    ),
)


def _registry():
    from temporalkit.reference_models.registry import MODELS

    return MODELS


def model_ids() -> list[str]:
    return list(_registry())


def model_entry(model_id: str):
    """The registry entry, or None for an id the cost table does not know."""
    return _registry().get(model_id)


def answer_family(model_id: str) -> str | None:
    entry = model_entry(model_id)
    if entry is None:
        return None
    return Family(entry.family).answer_name


def unsupported_reason(model_id: str, frames: int, size: int) -> str | None:
    entry = model_entry(model_id)
    if entry is None:
        return f"unknown model {model_id!r}"
    return entry.unsupported(frames, size)


@functools.lru_cache(maxsize=None)
def measured_cost(model_id: str, frames: int, size: int, device: str = "meta", latency: bool = False):
    """`measure_cost` from the cost table, once per (model, frames, size, device, latency) per process.

    Without torch (the core install) the counts come from the shipped cost snapshot; a clip off
    its grid, or a latency, raises MissingExtra naming the `models` extra.
    """
    from temporalkit.extras import missing_modules, require

    if missing_modules("models"):
        from temporalkit.picker.cost_snapshot import snapshot_cost

        row = None if latency else snapshot_cost(model_id, frames, size)
        if row is None:
            what = (
                "measuring latency"
                if latency
                else f"the cost of {model_id} at {frames}x{size} (not in the shipped table)"
            )
            require("models", what)
        return row
    from temporalkit.reference_models.cost import measure_cost

    return measure_cost(model_id, frames, size, device=device, latency=latency)


def torchvision_published_rows(measure: bool = False) -> list[dict]:
    """Kinetics-400 accuracies, ops and parameters from torchvision's weights metadata (via the registry).

    Without torchvision (and unless `measure`) the rows come from the shipped cost snapshot.
    """
    from temporalkit.extras import missing_modules

    if not measure and missing_modules("models"):
        from temporalkit.picker.cost_snapshot import load_snapshot

        return load_snapshot()["torchvision_published"]
    rows = []
    for model_id, entry in _registry().items():
        if entry.torchvision_weights is None:
            continue
        published = entry.published
        rows.append(
            {
                "model": model_id,
                "family": Family(entry.family).answer_name,
                "acc1": published["acc1"],
                "acc5": published["acc5"],
                "gflops": published["gmacs"],
                "params_m": published["params"] / 1e6,
                "source": f"torchvision {entry.torchvision_weights}.DEFAULT.meta",
            }
        )
    return rows
