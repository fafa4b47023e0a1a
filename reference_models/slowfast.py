"""SlowFast ResNet-50 (Feichtenhofer et al. 2019, https://arxiv.org/abs/1812.03982).

Two ResNet-50s read one clip at two frame rates and talk through lateral connections:

    clip (N, 3, T, H, W)
      |-- every alpha-th frame --> Slow pathway: T/alpha frames, full width (64 ... 2048 channels),
      |                            temporal kernels only in res4/res5 (appearance, "what")
      '-- every frame ----------> Fast pathway: T frames, beta = 1/8 of the width (8 ... 256),
                                   temporal kernels everywhere (motion, "how it moves")
    after the stem and res2, res3, res4: Fast --(kx1x1 conv, stride alpha in time)--> concat into Slow
    head: global average pool of each pathway, concatenated (2048 + 256), linear

The names follow the paper's "T x tau": SlowFast 4x16 reads 32 frames sampled every 2nd frame
(alpha = 8, so the Slow pathway sees 4); 8x8 reads the same 32 frames with alpha = 4 (Slow sees 8).
The input T is the Fast pathway's (the frames a loader decodes), and must be a multiple of alpha.
"""

from __future__ import annotations

import torch
from temporalkit.reference_models.blocks import projection_shortcut_3d
from torch import nn

RESNET50_DEPTHS = (3, 4, 6, 3)
SLOW_WIDTH = 64  # stem width; stage outputs are 4x, 8x, 16x, 32x this (256 ... 2048)
BETA_INVERSE = 8  # the Fast pathway has 1/8 of the Slow pathway's channels
# variant -> (alpha, temporal kernel of the lateral convs), as the authors' configs (SLOWFAST_4x16_R50: 5,
# SLOWFAST_8x8_R50: 7).
SLOWFAST_VARIANTS = {"4x16": (8, 5), "8x8": (4, 7)}


def conv_bn_relu(in_channels: int, out_channels: int, kernel, stride=1, padding=0, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, kernel, stride=stride, padding=padding, groups=groups, bias=False),
        nn.BatchNorm3d(out_channels),
        nn.ReLU(inplace=True),
    )


class Stem(nn.Sequential):
    """`(N, 3, T, H, W) -> (N, C, T, H/4, W/4)`: a kt x 7 x 7 conv (stride 1,2,2) and a 1x3x3 max pool."""

    def __init__(self, out_channels: int, temporal_kernel: int) -> None:
        super().__init__(
            conv_bn_relu(3, out_channels, (temporal_kernel, 7, 7), (1, 2, 2), (temporal_kernel // 2, 3, 3)),
            nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
        )


class Bottleneck3d(nn.Module):
    """ResNet-50 bottleneck with a kt x 1 x 1 first conv: `(N, C, T, H, W) -> (N, C', T, H/s, W/s)`.

    kt = 1 makes it a 2D bottleneck applied per frame (the Slow pathway's res2/res3); kt = 3 lets
    the block see three frames. The spatial stride sits on the 3x3 conv, as in torchvision.
    """

    def __init__(self, in_channels: int, inner: int, out_channels: int, stride: int, temporal_kernel: int) -> None:
        super().__init__()
        self.conv_a = conv_bn_relu(in_channels, inner, (temporal_kernel, 1, 1), padding=(temporal_kernel // 2, 0, 0))
        self.conv_b = conv_bn_relu(inner, inner, (1, 3, 3), (1, stride, stride), (0, 1, 1))
        self.conv_c = nn.Sequential(nn.Conv3d(inner, out_channels, 1, bias=False), nn.BatchNorm3d(out_channels))
        self.shortcut = projection_shortcut_3d(in_channels, out_channels, (1, stride, stride))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.shortcut is None else self.shortcut(x)
        return self.relu(self.conv_c(self.conv_b(self.conv_a(x))) + residual)


def make_stage(in_channels: int, inner: int, depth: int, stride: int, temporal_kernel: int) -> nn.Sequential:
    out_channels = 4 * inner
    blocks = [Bottleneck3d(in_channels, inner, out_channels, stride, temporal_kernel)]
    blocks += [Bottleneck3d(out_channels, inner, out_channels, 1, temporal_kernel) for _ in range(depth - 1)]
    return nn.Sequential(*blocks)


class LateralFusion(nn.Module):
    """Fast -> Slow: a kx1x1 conv (k = 5 or 7) with time stride alpha (2x the Fast channels), concatenated to Slow.

    `(N, Cs, T/alpha, H, W), (N, Cf, T, H, W) -> (N, Cs + 2Cf, T/alpha, H, W)`.
    """

    def __init__(self, fast_channels: int, alpha: int, kernel: int) -> None:
        super().__init__()
        self.conv = conv_bn_relu(fast_channels, 2 * fast_channels, (kernel, 1, 1), (alpha, 1, 1), (kernel // 2, 0, 0))

    def forward(self, slow: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
        return torch.cat([slow, self.conv(fast)], dim=1)


class SlowFast(nn.Module):
    """SlowFast on ResNet-50 depths; input `(N, 3, T, H, W)` with T a multiple of `alpha`, output `(N, classes)`."""

    input_layout = "NCTHW"

    def __init__(self, num_classes: int = 400, alpha: int = 4, fusion_kernel: int = 7, width: int = SLOW_WIDTH) -> None:
        super().__init__()
        self.alpha = alpha
        fast_width = width // BETA_INVERSE
        self.slow_stem = Stem(width, temporal_kernel=1)
        self.fast_stem = Stem(fast_width, temporal_kernel=5)
        self.fusions = nn.ModuleList()
        self.slow_stages = nn.ModuleList()
        self.fast_stages = nn.ModuleList()
        slow_in, fast_in = width, fast_width
        for index, depth in enumerate(RESNET50_DEPTHS):
            self.fusions.append(LateralFusion(fast_in, alpha, fusion_kernel))
            slow_in += 2 * fast_in
            stride = 1 if index == 0 else 2
            slow_kernel = 1 if index < 2 else 3  # res2, res3 per frame; res4, res5 see 3 frames
            slow_inner, fast_inner = width * 2**index, fast_width * 2**index
            self.slow_stages.append(make_stage(slow_in, slow_inner, depth, stride, slow_kernel))
            self.fast_stages.append(make_stage(fast_in, fast_inner, depth, stride, temporal_kernel=3))
            slow_in, fast_in = 4 * slow_inner, 4 * fast_inner
        self.fc = nn.Linear(slow_in + fast_in, num_classes)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        frames = clip.shape[2]
        if frames % self.alpha:
            raise ValueError(f"SlowFast with alpha={self.alpha} needs a multiple of {self.alpha} frames, got {frames}")
        slow = self.slow_stem(clip[:, :, :: self.alpha])  # (N, 64, T/alpha, H/4, W/4)
        fast = self.fast_stem(clip)  # (N, 8, T, H/4, W/4)
        for fusion, slow_stage, fast_stage in zip(self.fusions, self.slow_stages, self.fast_stages):
            slow = slow_stage(fusion(slow, fast))
            fast = fast_stage(fast)
        pooled = torch.cat([slow.mean(dim=(2, 3, 4)), fast.mean(dim=(2, 3, 4))], dim=1)  # (N, 2048 + 256)
        return self.fc(pooled)


def slowfast_r50(num_classes: int = 400, variant: str = "8x8", width: int = SLOW_WIDTH) -> SlowFast:
    """SlowFast R50 "4x16" (alpha 8) or "8x8" (alpha 4), random init; both read 32 frames."""
    if variant not in SLOWFAST_VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(SLOWFAST_VARIANTS)}, got {variant!r}")
    alpha, fusion_kernel = SLOWFAST_VARIANTS[variant]
    return SlowFast(num_classes=num_classes, alpha=alpha, fusion_kernel=fusion_kernel, width=width)
