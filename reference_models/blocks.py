"""Named building blocks the reference networks are assembled from.

Layouts: 2D blocks take `(N, C, H, W)`; 3D blocks take `(N, C, T, H, W)`.
Parameter names follow torchvision's `resnet18` / `r2plus1d_18` so their checkpoints load.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock as BasicBlock2d

RESNET18_WIDTHS = (64, 128, 256, 512)
RESNET18_DEPTHS = (2, 2, 2, 2)

# A residual block as a stage builder calls it: block(in_channels, out_channels, stride).
BlockFactory = Callable[[int, int, int], nn.Module]


def make_stages(
    block: BlockFactory, widths: Sequence[int], depths: Sequence[int] = RESNET18_DEPTHS
) -> dict[str, nn.Sequential]:
    """The residual stages of a ResNet, by name: `{"layer1": ..., "layer4": ...}`.

    One builder for every network here, as torchvision's `VideoResNet._make_layer` is: stage i has
    `depths[i]` blocks of `widths[i]` channels; its first block takes the previous stage's width at
    stride 2 (stride 1 in the first stage, which follows the stem), the others keep the size. The
    block decides what a stride means (H, W for 2D blocks; T, H, W for (2+1)D blocks) and builds its
    own projection shortcut, so the parameter names stay torchvision's (`layer2.0.downsample.0`).
    """
    stages = {}
    in_channels = widths[0]
    for index, (width, depth) in enumerate(zip(widths, depths), start=1):
        stride = 1 if index == 1 else 2
        blocks = [block(in_channels, width, stride)]
        blocks += [block(width, width, 1) for _ in range(depth - 1)]
        stages[f"layer{index}"] = nn.Sequential(*blocks)
        in_channels = width
    return stages


def basic_block_2d(in_channels: int, out_channels: int, stride: int = 1) -> BasicBlock2d:
    """torchvision's 2D `BasicBlock`, with the 1x1 projection shortcut it needs when the size changes."""
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
        )
    return BasicBlock2d(in_channels, out_channels, stride, downsample)


class ResNet2d(nn.Module):
    """ResNet-18 on single frames, with configurable stage widths.

    With the default widths its parameter names and shapes are exactly those of
    `torchvision.models.resnet18`, so an ImageNet checkpoint loads with `load_state_dict`.
    Input `(N, 3, H, W)`; `forward_features` returns the `(N, widths[-1], H/32, W/32)` map.
    """

    def __init__(self, num_classes: int = 1000, widths: tuple[int, ...] = RESNET18_WIDTHS) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for name, stage in make_stages(basic_block_2d, widths).items():
            self.add_module(name, stage)  # layer1..layer4 output (N, widths[k], H/4, W/4) ... (H/32, W/32)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[-1], num_classes)
        self.feature_dim = widths[-1]

    def forward_features(self, frames: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(frames))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.forward_features(frames)), 1))


def r2plus1d_mid_channels(in_channels: int, out_channels: int) -> int:
    """Mid channels M of a (2+1)D conv so that it has as many weights as a full 3x3x3 conv.

    A t x d x d conv has in*out*t*d^2 weights; the (2+1)D pair has in*M*d^2 + M*out*t.
    Equating them (Tran et al. 2018, eq. 1) gives M = floor(t*d^2*in*out / (d^2*in + t*out)).
    """
    return (in_channels * out_channels * 3 * 3 * 3) // (in_channels * 3 * 3 + 3 * out_channels)


class Conv2Plus1D(nn.Sequential):
    """A 3x3x3 conv factorised into 1x3x3 (space) -> BN -> ReLU -> 3x1x1 (time).

    The extra ReLU between the two doubles the non-linearities at the same parameter budget,
    which is the point of R(2+1)D. Input/output `(N, C, T, H, W)`; `stride` applies to T, H, W.
    """

    def __init__(self, in_channels: int, out_channels: int, mid_channels: int, stride: int = 1) -> None:
        super().__init__(
            nn.Conv3d(in_channels, mid_channels, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False),
            nn.BatchNorm3d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv3d(mid_channels, out_channels, (3, 1, 1), stride=(stride, 1, 1), padding=(1, 0, 0), bias=False),
        )


class R2Plus1dStem(nn.Sequential):
    """1x7x7 spatial conv (stride 1,2,2) then 3x1x1 temporal conv: `(N, 3, T, H, W) -> (N, C, T, H/2, W/2)`.

    torchvision's stem uses 45 mid channels for 64 outputs; we scale that with the width.
    """

    def __init__(self, out_channels: int = 64) -> None:
        mid_channels = max(1, 45 * out_channels // 64)
        super().__init__(
            nn.Conv3d(3, mid_channels, (1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
            nn.BatchNorm3d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv3d(mid_channels, out_channels, (3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0), bias=False),
            nn.BatchNorm3d(out_channels),
            nn.ReLU(inplace=True),
        )


def projection_shortcut_3d(
    in_channels: int, out_channels: int, stride: int | tuple[int, int, int]
) -> nn.Sequential | None:
    """The 1x1x1 conv + BatchNorm a 3D residual block's shortcut needs when its stride or width
    changes the shape (None when the identity fits); `stride` is one int or (t, h, w)."""
    if stride in (1, (1, 1, 1)) and in_channels == out_channels:
        return None
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
        nn.BatchNorm3d(out_channels),
    )


class Conv2Plus1DBasicBlock(nn.Module):
    """ResNet basic block of two (2+1)D convs with a residual: `(N, C, T, H, W) -> (N, C', T/s, H/s, W/s)`.

    Both convs use the mid width computed from (in_channels, out_channels), as torchvision's
    r2plus1d_18 does; in the first block of a stage this makes the second conv slightly wider
    than its own formula would give, and matching it keeps the parameter count (31,505,325)
    and checkpoint layout identical.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        mid_channels = r2plus1d_mid_channels(in_channels, out_channels)
        self.conv1 = nn.Sequential(
            Conv2Plus1D(in_channels, out_channels, mid_channels, stride),
            nn.BatchNorm3d(out_channels),
            nn.ReLU(inplace=True),
        )
        self.conv2 = nn.Sequential(Conv2Plus1D(out_channels, out_channels, mid_channels), nn.BatchNorm3d(out_channels))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = projection_shortcut_3d(in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + residual)


class ReplicateTimePadConv3d(nn.Conv3d):
    """A Conv3d whose time axis is padded by repeating the edge frames; space is zero-padded.

    `nn.Conv3d(padding_mode=...)` applies one mode to every axis. Replicating only in time keeps
    an inflated network exactly equal to its 2D source on a clip of identical frames, boundary
    frames included, while the spatial zero padding stays that of the 2D network. Same parameter
    names as `nn.Conv3d`, so checkpoints are interchangeable. Input/output `(N, C, T, H, W)`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.time_padding = self.padding[0]
        self.padding = (0, self.padding[1], self.padding[2])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.time_padding
        x = nn.functional.pad(x, (0, 0, 0, 0, pad, pad), mode="replicate")  # (N, C, T + 2*pad, H, W)
        return super().forward(x)
