"""MoViNet-A0, -A1 and -A2 base networks (Kondratyuk et al. 2021, https://arxiv.org/abs/2103.11511).

Mobile video networks found by architecture search in an X3D-like space: 3D inverted bottlenecks
with channel-wise (depthwise) convolutions, squeeze-excitation and swish, whose kernel sizes and
widths vary block by block (the table below is the searched architecture as the authors' code
declares it, tensorflow/models official/projects/movinet/modeling/movinet.py `BLOCK_SPECS`,
written as (out, expanded, kernel, spatial stride) per block):

    (N, 3, T, H, W) -> stem 1x3x3/2 -> 5 stages of blocks -> 1x1x1 conv -> global pool
                    -> linear to 2048 -> linear to classes

Time is never strided (like X3D). Published clips: A0 and A1 read 50 frames at 172 px (5 fps,
10 s), A2 50 frames at 224 px; their GFLOPs (2.71, 6.02, 10.3) are per clip. A0 and A1 built
here count within 3 % of theirs; A2 counts 11.56 GMACs (+12 %), so the registry quotes A2's
figure instead of measuring it (`registry.PUBLISHED_ONLY`).

`causal=True` pads every temporal kernel on the past side only (kt - 1 frames before, none after)
and pools squeeze-excitation over space only, per frame, so no output depends on a later frame:
the block structure of the streaming MoViNets. Their stream buffers (carrying the last kt - 1
frames across calls) are not built here: a whole clip in, one prediction out. The published
figures are those of the base (non-causal) networks, which `causal=False` (default) builds.
"""

from __future__ import annotations

import torch
from torch import nn

# Per block: (out channels, expanded channels, (kt, k, k) kernel, spatial stride). Stages are the
# paper's b2..b6; every block's input is the previous block's output.
MOVINET_BLOCKS = {
    "a0": {
        "stem": 8,
        "stages": (
            ((8, 24, (1, 5, 5), 2),),
            ((32, 80, (3, 3, 3), 2), (32, 80, (3, 3, 3), 1), (32, 80, (3, 3, 3), 1)),
            ((56, 184, (5, 3, 3), 2), (56, 112, (3, 3, 3), 1), (56, 184, (3, 3, 3), 1)),
            ((56, 184, (5, 3, 3), 1), (56, 184, (3, 3, 3), 1), (56, 184, (3, 3, 3), 1), (56, 184, (3, 3, 3), 1)),
            ((104, 384, (5, 3, 3), 2), (104, 280, (1, 5, 5), 1), (104, 280, (1, 5, 5), 1), (104, 344, (1, 5, 5), 1)),
        ),
        "head": 480,
    },
    "a1": {
        "stem": 16,
        "stages": (
            ((16, 40, (1, 5, 5), 2), (16, 40, (3, 3, 3), 1)),
            ((40, 96, (3, 3, 3), 2), (40, 120, (3, 3, 3), 1), (40, 96, (3, 3, 3), 1), (40, 96, (3, 3, 3), 1)),
            (
                (64, 216, (5, 3, 3), 2),
                (64, 128, (3, 3, 3), 1),
                (64, 216, (3, 3, 3), 1),
                (64, 168, (3, 3, 3), 1),
                (64, 216, (3, 3, 3), 1),
            ),
            (
                (64, 216, (5, 3, 3), 1),
                (64, 216, (3, 3, 3), 1),
                (64, 216, (3, 3, 3), 1),
                (64, 128, (3, 3, 3), 1),
                (64, 128, (1, 5, 5), 1),
                (64, 216, (3, 3, 3), 1),
            ),
            (
                (136, 456, (5, 3, 3), 2),
                (136, 360, (1, 5, 5), 1),
                (136, 360, (1, 5, 5), 1),
                (136, 360, (1, 5, 5), 1),
                (136, 456, (1, 5, 5), 1),
                (136, 456, (3, 3, 3), 1),
                (136, 544, (1, 3, 3), 1),
            ),
        ),
        "head": 600,
    },
    "a2": {
        "stem": 16,
        "stages": (
            ((16, 40, (1, 5, 5), 2), (16, 40, (3, 3, 3), 1), (16, 64, (3, 3, 3), 1)),
            (
                (40, 96, (3, 3, 3), 2),
                (40, 120, (3, 3, 3), 1),
                (40, 96, (3, 3, 3), 1),
                (40, 96, (3, 3, 3), 1),
                (40, 120, (3, 3, 3), 1),
            ),
            (
                (72, 240, (5, 3, 3), 2),
                (72, 160, (3, 3, 3), 1),
                (72, 240, (3, 3, 3), 1),
                (72, 192, (3, 3, 3), 1),
                (72, 240, (3, 3, 3), 1),
            ),
            (
                (72, 240, (5, 3, 3), 1),
                (72, 240, (3, 3, 3), 1),
                (72, 240, (3, 3, 3), 1),
                (72, 240, (3, 3, 3), 1),
                (72, 144, (1, 5, 5), 1),
                (72, 240, (3, 3, 3), 1),
            ),
            (
                (144, 480, (5, 3, 3), 2),
                (144, 384, (1, 5, 5), 1),
                (144, 384, (1, 5, 5), 1),
                (144, 480, (1, 5, 5), 1),
                (144, 480, (1, 5, 5), 1),
                (144, 480, (3, 3, 3), 1),
                (144, 576, (1, 3, 3), 1),
            ),
        ),
        "head": 640,
    },
}
HEAD_HIDDEN = 2048
# The published inputs: (frames, size).
MOVINET_INPUTS = {"a0": (50, 172), "a1": (50, 172), "a2": (50, 224)}


def make_divisible(value: float, divisor: int = 8) -> int:
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class CausalConv3d(nn.Conv3d):
    """A Conv3d padded "same" in space and, in time, either on both sides or only on the past side.

    `(N, C, T, H, W) -> (N, C', T, H/s, W/s)`; with `causal`, output frame t sees input frames
    t - kt + 1 ... t only.
    """

    def __init__(self, in_channels, out_channels, kernel, stride=(1, 1, 1), groups=1, causal=False, bias=False):
        kt, kh, kw = kernel
        super().__init__(
            in_channels, out_channels, kernel, stride, padding=(0, kh // 2, kw // 2), groups=groups, bias=bias
        )
        self.time_padding = (kt - 1, 0) if causal else (kt // 2, (kt - 1) // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(nn.functional.pad(x, (0, 0, 0, 0, *self.time_padding)))


def conv_bn_swish(in_channels, out_channels, kernel, stride=(1, 1, 1), groups=1, causal=False, act=True):
    layers = [
        CausalConv3d(in_channels, out_channels, kernel, stride, groups, causal),
        nn.BatchNorm3d(out_channels),
    ]
    return nn.Sequential(*layers, nn.SiLU()) if act else nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    """Gate channels by a pooled summary: over the whole clip, or (causal) over each frame's space."""

    def __init__(self, channels: int, causal: bool) -> None:
        super().__init__()
        hidden = make_divisible(channels // 4)
        self.pool_dims = (3, 4) if causal else (2, 3, 4)
        self.fc1 = nn.Conv3d(channels, hidden, 1)
        self.act = nn.SiLU()
        self.fc2 = nn.Conv3d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.fc2(self.act(self.fc1(x.mean(dim=self.pool_dims, keepdim=True))))
        return x * gate.sigmoid()


class MoViNetBlock(nn.Module):
    """1x1x1 expand -> channel-wise kt x k x k conv -> SE -> 1x1x1 project, + shortcut.

    `(N, C, T, H, W) -> (N, C', T, H/s, W/s)`. The shortcut average-pools space (1x3x3) when it
    strides and projects with a 1x1x1 conv when the width changes, as the paper's blocks do.
    """

    def __init__(self, in_channels, out_channels, expanded, kernel, stride, causal):
        super().__init__()
        self.expand = conv_bn_swish(in_channels, expanded, (1, 1, 1))
        self.channelwise = conv_bn_swish(
            expanded, expanded, kernel, (1, stride, stride), groups=expanded, causal=causal
        )
        self.se = SqueezeExcite(expanded, causal)
        self.project = conv_bn_swish(expanded, out_channels, (1, 1, 1), act=False)
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            pool = (
                nn.AvgPool3d((1, 3, 3), (1, stride, stride), (0, 1, 1), count_include_pad=False)
                if stride != 1
                else nn.Identity()
            )
            self.shortcut = nn.Sequential(pool, conv_bn_swish(in_channels, out_channels, (1, 1, 1), act=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.shortcut is None else self.shortcut(x)
        return residual + self.project(self.se(self.channelwise(self.expand(x))))


class MoViNet(nn.Module):
    """MoViNet base network of `variant` ("a0", "a1", "a2"). Input `(N, 3, T, H, W)`, output `(N, classes)`.

    `width` > 0 replaces every width by a small one (a CPU-test network with the same block layout).
    """

    input_layout = "NCTHW"

    def __init__(self, num_classes: int = 600, variant: str = "a0", causal: bool = False, width: int = 0) -> None:
        super().__init__()
        if variant not in MOVINET_BLOCKS:
            raise ValueError(f"variant must be one of {', '.join(MOVINET_BLOCKS)}, got {variant!r}")
        spec = MOVINET_BLOCKS[variant]
        stem = width or spec["stem"]
        self.stem = conv_bn_swish(3, stem, (1, 3, 3), (1, 2, 2))
        in_channels = stem
        stages = []
        for stage in spec["stages"]:
            blocks = []
            for out_channels, expanded, kernel, stride in stage:
                out_channels, expanded = (width, 2 * width) if width else (out_channels, expanded)
                blocks.append(MoViNetBlock(in_channels, out_channels, expanded, kernel, stride, causal))
                in_channels = out_channels
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        head = width or spec["head"]
        hidden = width or HEAD_HIDDEN
        self.head_conv = conv_bn_swish(in_channels, head, (1, 1, 1))
        self.head_fc = nn.Sequential(nn.Linear(head, hidden), nn.SiLU())
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(clip))  # (N, C, T, H/32, W/32)
        x = self.head_conv(x).mean(dim=(2, 3, 4))  # (N, head)
        return self.fc(self.head_fc(x))


def movinet(num_classes: int = 600, variant: str = "a0", causal: bool = False, width: int = 0) -> MoViNet:
    """MoViNet-A0/A1/A2 base (random init; 600 classes by default, as published on Kinetics-600)."""
    return MoViNet(num_classes=num_classes, variant=variant, causal=causal, width=width)
