"""X3D (Feichtenhofer 2020, https://arxiv.org/abs/2004.04730): a tiny 2D-like network expanded
one axis at a time (frames, frame rate, resolution, width, bottleneck width, depth) until it
reaches a compute target.

X3D-XS, -S and -M share one network (3.8M parameters); they differ only in their input:

    model   frames x size   sampling stride   published GFLOPs (= GMACs) per view
    X3D-XS   4 x 160         12                0.60
    X3D-S   13 x 160          6                1.96
    X3D-M   16 x 224          5                4.73   (the paper's 6.2 is its 256 px test crop)

Structure, `(N, 3, T, H, W)` in:

    stem      1x3x3 conv (stride 1,2,2) then a 5x1x1 channel-wise (depthwise) temporal conv
    res2..5   X3D blocks: 1x1x1 expand -> 3x3x3 channel-wise conv -> SE (every other block) -> swish
              -> 1x1x1 project, + residual; widths 24, 48, 96, 192 (the stem's 12 x width factor 2,
              then doubling), inner width 2.25x; depths 1, 2, 5, 3 x depth factor 2.2 (so 3, 5, 11, 7)
    head      1x1x1 conv to 2.25 x 192 = 432, global average pool, linear 432 -> 2048, ReLU, linear

Time is never strided: every stage keeps T frames, which is why X3D is cheap per frame but keeps
temporal detail. Widths are rounded as the authors' code rounds them (to multiples of 8).
"""

from __future__ import annotations

import math

import torch
from temporalkit.reference_models.blocks import projection_shortcut_3d
from torch import nn

STAGE_BLOCKS = (1, 2, 5, 3)  # before the depth factor
WIDTH_FACTOR = 2.0  # scales the stem's 12 channels; each stage then doubles the previous width
DEPTH_FACTOR = 2.2  # X3D-XS/S/M (X3D-L is 5.0)
BOTTLENECK_FACTOR = 2.25
STEM_WIDTH = 12
HEAD_WIDTH = 2048
SE_RATIO = 0.0625

# The published inputs of the three sizes: (frames, size).
X3D_INPUTS = {"xs": (4, 160), "s": (13, 160), "m": (16, 224)}


def round_width(width: float, multiplier: float, divisor: int = 8) -> int:
    """`width * multiplier` rounded to a multiple of `divisor` (at least `divisor`, at least 90% of it)."""
    width *= multiplier
    rounded = max(divisor, int(width + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * width:
        rounded += divisor
    return int(rounded)


class SqueezeExcite3d(nn.Module):
    """Channel attention: global average pool -> 1x1x1 bottleneck (ReLU) -> sigmoid gate. `(N, C, T, H, W)`."""

    def __init__(self, channels: int, ratio: float = SE_RATIO) -> None:
        super().__init__()
        hidden = round_width(channels, ratio)
        self.fc1 = nn.Conv3d(channels, hidden, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv3d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.fc2(self.relu(self.fc1(x.mean(dim=(2, 3, 4), keepdim=True))))  # (N, C, 1, 1, 1)
        return x * gate.sigmoid()


class X3DStem(nn.Sequential):
    """`(N, 3, T, H, W) -> (N, C, T, H/2, W/2)`: spatial 1x3x3 conv, then a channel-wise 5x1x1 temporal conv."""

    def __init__(self, out_channels: int, temporal_kernel: int = 5) -> None:
        super().__init__(
            nn.Conv3d(3, out_channels, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), bias=False),
            nn.Conv3d(
                out_channels,
                out_channels,
                (temporal_kernel, 1, 1),
                padding=(temporal_kernel // 2, 0, 0),
                groups=out_channels,
                bias=False,
            ),
            nn.BatchNorm3d(out_channels),
            nn.ReLU(inplace=True),
        )


class X3DBlock(nn.Module):
    """Inverted bottleneck with a channel-wise 3x3x3 conv: `(N, C, T, H, W) -> (N, C', T, H/s, W/s)`."""

    def __init__(self, in_channels: int, out_channels: int, inner_channels: int, stride: int, use_se: bool) -> None:
        super().__init__()
        self.expand = nn.Sequential(
            nn.Conv3d(in_channels, inner_channels, 1, bias=False), nn.BatchNorm3d(inner_channels), nn.ReLU(inplace=True)
        )
        self.channelwise = nn.Sequential(
            nn.Conv3d(
                inner_channels,
                inner_channels,
                3,
                stride=(1, stride, stride),
                padding=1,
                groups=inner_channels,
                bias=False,
            ),
            nn.BatchNorm3d(inner_channels),
        )
        self.se = SqueezeExcite3d(inner_channels) if use_se else nn.Identity()
        self.swish = nn.SiLU()
        self.project = nn.Sequential(
            nn.Conv3d(inner_channels, out_channels, 1, bias=False), nn.BatchNorm3d(out_channels)
        )
        self.shortcut = projection_shortcut_3d(in_channels, out_channels, (1, stride, stride))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.shortcut is None else self.shortcut(x)
        h = self.swish(self.se(self.channelwise(self.expand(x))))
        return self.relu(self.project(h) + residual)


class X3D(nn.Module):
    """Stem -> four stages of X3D blocks (space halves per stage, time never) -> head.

    Input `(N, 3, T, H, W)`, output `(N, num_classes)`. `width_factor` scales every width (2.0 is
    X3D's; a small one gives a network that runs in milliseconds on CPU).
    """

    input_layout = "NCTHW"

    def __init__(
        self,
        num_classes: int = 400,
        width_factor: float = WIDTH_FACTOR,
        depth_factor: float = DEPTH_FACTOR,
        head_width: int = HEAD_WIDTH,
    ) -> None:
        super().__init__()
        stem_width = round_width(STEM_WIDTH, width_factor)
        self.stem = X3DStem(stem_width)
        in_channels = out_channels = stem_width
        for index, blocks in enumerate(STAGE_BLOCKS, start=2):
            out_channels = out_channels if index == 2 else round_width(out_channels, 2.0)
            inner_channels = int(BOTTLENECK_FACTOR * out_channels)
            stage = [
                X3DBlock(
                    in_channels if block == 0 else out_channels,
                    out_channels,
                    inner_channels,
                    stride=2 if block == 0 else 1,
                    use_se=block % 2 == 0,  # SE on every other block, starting with the first
                )
                for block in range(math.ceil(blocks * depth_factor))
            ]
            self.add_module(f"res{index}", nn.Sequential(*stage))
            in_channels = out_channels
        head_inner = int(BOTTLENECK_FACTOR * in_channels)
        self.head_conv = nn.Sequential(
            nn.Conv3d(in_channels, head_inner, 1, bias=False), nn.BatchNorm3d(head_inner), nn.ReLU(inplace=True)
        )
        self.head_fc = nn.Sequential(nn.Linear(head_inner, head_width, bias=False), nn.ReLU(inplace=True))
        self.fc = nn.Linear(head_width, num_classes)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        x = self.stem(clip)  # (N, 24, T, H/2, W/2)
        x = self.res5(self.res4(self.res3(self.res2(x))))  # (N, 192, T, H/32, W/32)
        x = self.head_conv(x).mean(dim=(2, 3, 4))  # (N, 432)
        return self.fc(self.head_fc(x))


def x3d(num_classes: int = 400, width_factor: float = WIDTH_FACTOR, head_width: int = HEAD_WIDTH) -> X3D:
    """X3D-XS/S/M (one network; the size is the input: see `X3D_INPUTS`), random init."""
    return X3D(num_classes=num_classes, width_factor=width_factor, head_width=head_width)
