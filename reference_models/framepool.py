"""FramePool: a 2D ResNet-18 applied to every frame, features pooled over time, a linear head.

The baseline every temporal model should beat: it sees appearance only, never order (mean and max
pooling are permutation-invariant; so is attention pooling, which weights frames by content).
"""

from __future__ import annotations

import torch
from temporalkit.reference_models.blocks import RESNET18_WIDTHS, ResNet2d
from torch import nn

POOLINGS = ("mean", "max", "attention")


class AttentionPool(nn.Module):
    """Softmax-weighted mean over time, weights scored from each frame's features."""

    def __init__(self, feature_dim: int) -> None:
        super().__init__()
        self.score = nn.Linear(feature_dim, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:  # (N, T, D) -> (N, D)
        weights = self.score(features).softmax(dim=1)  # (N, T, 1)
        return (weights * features).sum(dim=1)


class FramePool(nn.Module):
    """Per-frame ResNet-18 -> pooling over time ("mean" | "max" | "attention") -> linear head.

    Input `(N, T, 3, H, W)` (frames first, as a decoded clip comes out of a loader), output
    `(N, num_classes)`. The backbone's parameter names are torchvision resnet18's (prefix
    `backbone.`), so an ImageNet checkpoint loads into it.
    """

    input_layout = "NTCHW"

    def __init__(
        self, num_classes: int = 400, widths: tuple[int, ...] = RESNET18_WIDTHS, pooling: str = "mean"
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        self.pooling = pooling
        self.backbone = ResNet2d(widths=widths)
        self.backbone.fc = nn.Identity()
        self.attention_pool = AttentionPool(widths[-1]) if pooling == "attention" else None
        self.head = nn.Linear(widths[-1], num_classes)

    def frame_features(self, clip: torch.Tensor) -> torch.Tensor:
        n, t = clip.shape[:2]
        features = self.backbone(clip.flatten(0, 1))  # (N*T, 3, H, W) -> (N*T, D)
        return features.unflatten(0, (n, t))  # (N, T, D)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        features = self.frame_features(clip)
        if self.pooling == "mean":
            pooled = features.mean(dim=1)
        elif self.pooling == "max":
            pooled = features.amax(dim=1)
        else:
            pooled = self.attention_pool(features)
        return self.head(pooled)


def framepool_r18(
    num_classes: int = 400, pooling: str = "mean", pretrained_2d=None, widths=RESNET18_WIDTHS
) -> FramePool:
    """FramePool on ResNet-18; `pretrained_2d` is a path or hub-cache name of a resnet18 checkpoint."""
    model = FramePool(num_classes=num_classes, widths=widths, pooling=pooling)
    if pretrained_2d is not None:
        from temporalkit.reference_models.weights import load_weights

        load_weights(model.backbone, pretrained_2d)
    return model
