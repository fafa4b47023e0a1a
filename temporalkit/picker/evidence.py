"""The published figures the picker quotes and ranks by, each with the protocol it was measured under.

A top-1 figure means little without its protocol: S3D's torchvision figure is for one 128-frame
clip, Video Swin's for 32 frames x 12 clips, MViT's for 16 frames x 5 clips; a 30-view X3D figure
costs 30 forward passes. Every row therefore carries frames x clips x crops, the input side, the
frame rate where the source gives one, the pretraining the model started from and the split, next
to the figure and its source. `catalogue.py` points each model at its rows; `search.py` adjusts
them to the clip and views an answer actually uses.

Standard library only (torchvision's rows are read from its weights metadata on demand).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """One published figure and the protocol it was measured under (None: the source does not say)."""

    key: str
    method: str
    benchmark: str  # "K400", "K600", "SSv2", "UCF101", "HMDB51", "MSR-VTT"
    metric: str  # "top-1" or "text-to-video R@1"
    value: float
    frames: int | None
    size: int | None
    clips: int | None
    crops: int | None
    pretraining: str  # what the model started from before training on `benchmark`
    source: str
    fps: float | None = None
    split: str = "val"

    @property
    def views(self) -> int | None:
        return None if self.clips is None or self.crops is None else self.clips * self.crops

    @property
    def protocol(self) -> str:
        """`16f x 224 px, 5 clips x 1 crop, 7.5 fps` (unknown parts say so)."""
        clip = f"{self.frames}f" if self.frames else "?f"
        side = f" x {self.size} px" if self.size else ""
        if self.clips is None:
            views = "views not stated"
        else:
            crops = "?" if self.crops is None else self.crops
            views = f"{self.clips} clip{'s' if self.clips != 1 else ''} x {crops} crop{'s' if crops != 1 else ''}"
        rate = f", {self.fps:g} fps" if self.fps else ""
        return f"{clip}{side}, {views}{rate}"


_TSM = "Lin et al., TSM, ICCV 2019 (arXiv:1811.08383); mit-han-lab/temporal-shift-module README"
_TIMESFORMER = "Bertasius et al., Is Space-Time Attention All You Need?, ICML 2021 (arXiv:2102.05095), Table 1"
_MVIT = "Fan et al., Multiscale Vision Transformers, ICCV 2021 (arXiv:2104.11227)"
_VIDEOMAE = "Tong et al., VideoMAE, NeurIPS 2022 (arXiv:2203.12602)"

# Paper figures, each under its paper's own protocol. "self_supervised" = pretrained without labels
# on the benchmark's own training videos (VideoMAE), i.e. with no other data.
PAPER_EVIDENCE: tuple[Evidence, ...] = (
    Evidence(
        "i3d_rgb_k400",
        "I3D (RGB)",
        "K400",
        "top-1",
        71.1,
        64,
        224,
        1,
        1,
        "imagenet",
        "Carreira & Zisserman, Quo Vadis, Action Recognition?, CVPR 2017 (arXiv:1705.07750)",
        fps=25,
        split="test",
    ),
    Evidence(
        "r2plus1d_34_k400",
        "R(2+1)D-34 (RGB)",
        "K400",
        "top-1",
        72.0,
        32,
        112,
        10,
        1,
        "none",
        "Tran et al., A Closer Look at Spatiotemporal Convolutions, CVPR 2018 (arXiv:1711.11248)",
    ),
    Evidence("tsn_r50_k400", "TSN ResNet-50 (2D + average)", "K400", "top-1", 70.6, 8, 224, 10, 1, "imagenet", _TSM),
    Evidence("tsm_r50_ssv2", "TSM ResNet-50", "SSv2", "top-1", 61.2, 8, 224, 2, 3, "kinetics", _TSM),
    Evidence("tsm_mbv2_k400", "TSM MobileNetV2", "K400", "top-1", 69.5, 8, 224, 10, 1, "imagenet", _TSM),
    Evidence(
        "timesformer_space_k400",
        "TimeSformer space-only",
        "K400",
        "top-1",
        76.9,
        8,
        224,
        1,
        3,
        "imagenet",
        _TIMESFORMER,
    ),
    Evidence(
        "timesformer_space_ssv2",
        "TimeSformer space-only",
        "SSv2",
        "top-1",
        36.6,
        8,
        224,
        1,
        3,
        "imagenet",
        _TIMESFORMER,
    ),
    Evidence(
        "timesformer_joint_k400",
        "TimeSformer joint space-time",
        "K400",
        "top-1",
        77.4,
        8,
        224,
        1,
        3,
        "imagenet",
        _TIMESFORMER,
    ),
    Evidence(
        "timesformer_joint_ssv2",
        "TimeSformer joint space-time",
        "SSv2",
        "top-1",
        58.5,
        8,
        224,
        1,
        3,
        "imagenet",
        _TIMESFORMER,
    ),
    Evidence(
        "timesformer_divided_k400",
        "TimeSformer divided space-time",
        "K400",
        "top-1",
        78.0,
        8,
        224,
        1,
        3,
        "imagenet",
        _TIMESFORMER,
    ),
    Evidence(
        "timesformer_divided_ssv2",
        "TimeSformer divided space-time",
        "SSv2",
        "top-1",
        59.5,
        8,
        224,
        1,
        3,
        "imagenet",
        _TIMESFORMER,
    ),
    Evidence(
        "vivit_l_fe_ssv2",
        "ViViT-L/16x2 factorised encoder",
        "SSv2",
        "top-1",
        65.9,
        32,
        224,
        None,
        None,
        "kinetics",
        "Arnab et al., ViViT: A Video Vision Transformer, ICCV 2021 (arXiv:2103.15691)",
    ),
    Evidence(
        "slowfast_r50_ssv2",
        "SlowFast R50 16x8",
        "SSv2",
        "top-1",
        61.7,
        64,
        224,
        1,
        3,
        "kinetics",
        _MVIT + ", SSv2 table",
    ),
    # MViT-B trains from scratch on Kinetics-400: a video transformer needs no image pretraining at this scale.
    Evidence("mvit_b_k400", "MViT-B 16x4", "K400", "top-1", 78.4, 16, 224, 5, 1, "none", _MVIT, fps=7.5),
    Evidence("mvit_b_ssv2", "MViT-B 16x4", "SSv2", "top-1", 64.7, 16, 224, 1, 3, "kinetics", _MVIT),
    Evidence(
        "mvitv2_s_k400",
        "MViTv2-S 16x4",
        "K400",
        "top-1",
        81.0,
        16,
        224,
        5,
        1,
        "none",
        "Li et al., MViTv2, CVPR 2022 (arXiv:2112.01526)",
        fps=7.5,
    ),
    Evidence(
        "mvitv2_s_ssv2",
        "MViTv2-S 16x4",
        "SSv2",
        "top-1",
        68.2,
        16,
        224,
        1,
        3,
        "kinetics",
        "Li et al., MViTv2, CVPR 2022 (arXiv:2112.01526)",
    ),
    Evidence(
        "swin_b_k400",
        "Video Swin-B",
        "K400",
        "top-1",
        80.6,
        32,
        224,
        4,
        3,
        "imagenet",
        "Liu et al., Video Swin Transformer, CVPR 2022 (arXiv:2106.13230)",
    ),
    Evidence(
        "swin_b_ssv2",
        "Video Swin-B",
        "SSv2",
        "top-1",
        69.6,
        32,
        224,
        1,
        3,
        "kinetics",
        "Liu et al., Video Swin Transformer, CVPR 2022 (arXiv:2106.13230)",
    ),
    Evidence("videomae_s_ssv2", "VideoMAE ViT-S", "SSv2", "top-1", 66.8, 16, 224, 2, 3, "self_supervised", _VIDEOMAE),
    Evidence("videomae_b_ssv2", "VideoMAE ViT-B", "SSv2", "top-1", 70.8, 16, 224, 2, 3, "self_supervised", _VIDEOMAE),
    # Small data: self-supervised on the 9.5k (UCF101) / 3.5k (HMDB51) training videos only, no other data.
    Evidence(
        "videomae_b_ucf101", "VideoMAE ViT-B", "UCF101", "top-1", 91.3, 16, 224, 5, 3, "self_supervised", _VIDEOMAE
    ),
    Evidence(
        "videomae_b_hmdb51", "VideoMAE ViT-B", "HMDB51", "top-1", 62.6, 16, 224, 5, 3, "self_supervised", _VIDEOMAE
    ),
    Evidence(
        "clip4clip_msrvtt",
        "CLIP4Clip (CLIP ViT-B/32 frames, mean pooling)",
        "MSR-VTT",
        "text-to-video R@1",
        42.1,
        12,
        224,
        1,
        1,
        "image_text",
        "Luo et al., CLIP4Clip, Neurocomputing 2022 (arXiv:2104.08860), Table 1 (MSR-VTT 1k-A)",
        fps=1,
        split="1k-A test",
    ),
)

EVIDENCE: dict[str, Evidence] = {row.key: row for row in PAPER_EVIDENCE}

# The figure a registry entry declares with its cost (`Published`: one source for a model's own paper
# figure); the table above holds the rest (SSv2, other methods, small-data and retrieval figures).
REGISTRY_PREFIX = "registry:"


def _pretraining_value(text: str | None) -> str:
    text = (text or "").lower()
    for needle, value in (
        ("self-supervised", "self_supervised"),
        ("clip", "image_text"),
        ("kinetics", "kinetics"),
        ("imagenet", "imagenet"),
    ):
        if needle in text:
            return value
    return "none"


def registry_evidence(model_id: str) -> Evidence | None:
    """The accuracy the registry declares for `model_id` (built or published-only), as an Evidence row."""
    from temporalkit.reference_models.registry import MODELS, PUBLISHED_ONLY

    entry = MODELS.get(model_id)
    published = getattr(entry, "paper", None) if entry is not None else PUBLISHED_ONLY.get(model_id)
    if published is None or published.top1 is None:
        return None
    return Evidence(
        key=f"{REGISTRY_PREFIX}{model_id}",
        method=model_id,
        benchmark=published.dataset or "?",
        metric="top-1",
        value=published.top1,
        frames=published.frames,
        size=published.size,
        clips=published.clips,
        crops=published.crops,
        pretraining=_pretraining_value(published.pretraining),
        source=published.source,
    )


# Kinetics-600 figures run about 2-3 points above Kinetics-400 for the same model (X3D-M: 76.0 on
# K400 vs 78.8 on K600, X3D Table 4); the search subtracts this to rank K600-only models with K400 ones.
K600_OVER_K400 = 2.8

_DOCS_PARAMETER = re.compile(r"`(frame_rate|clips_per_video|clip_len)=([\d.]+)`")


def protocol_from_torchvision_docs(docs: str) -> dict:
    """`frame_rate`, `clips_per_video` and `clip_len` as torchvision's `_docs` string states them."""
    found = {name: float(value) for name, value in _DOCS_PARAMETER.findall(docs or "")}
    return {
        "fps": found.get("frame_rate"),
        "clips": int(found["clips_per_video"]) if "clips_per_video" in found else None,
        "frames": int(found["clip_len"]) if "clip_len" in found else None,
    }


def _crop_size(weights) -> int | None:
    """The side torchvision evaluates at: its transforms' crop, else the metadata's minimum size."""
    crop = getattr(weights.transforms, "keywords", {}).get("crop_size")
    if crop:
        return int(crop[0])
    side = int(weights.meta["min_size"][0])
    return side if side > 1 else None


def torchvision_evidence(model_id: str, weights_name: str) -> Evidence:
    """The Kinetics-400 figure of torchvision's default weights, with the protocol its `_docs` states
    (S3D: one 128-frame clip; Swin3D: 32 frames x 12 clips; MViT: 16 frames x 5 clips). Imports torchvision."""
    import torchvision.models.video as video

    default = getattr(video, weights_name).DEFAULT
    meta = default.meta
    protocol = protocol_from_torchvision_docs(meta.get("_docs", ""))
    return Evidence(
        key=f"torchvision_{model_id}",
        method=f"torchvision {model_id}",
        benchmark="K400",
        metric="top-1",
        value=round(meta["_metrics"]["Kinetics-400"]["acc@1"], 2),
        frames=protocol["frames"],
        size=_crop_size(default),
        clips=protocol["clips"],
        crops=1,
        pretraining="imagenet" if "IMAGENET" in default.name else "none",
        source=f"torchvision {weights_name}.{default.name}.meta",
        fps=protocol["fps"],
    )
