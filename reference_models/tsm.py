"""TSM: the Temporal Shift Module (Lin, Gan and Han 2019, https://arxiv.org/abs/1811.08383).

A 2D network runs on every frame; inside each residual branch, before its first convolution, a
fraction of the channels is shifted one frame along time (1/8 from the next frame, 1/8 from the
previous one, the rest untouched). The shift costs no multiply-adds and no parameters, yet every
block now mixes three frames, so a 2D network at 2D cost models motion. The clip's per-frame
scores are averaged ("consensus average", as TSN).

    clip (N, T, 3, H, W) --flatten--> (N*T, 3, H, W) --2D backbone with shifts--> (N*T, classes)
        --unflatten--> (N, T, classes) --mean over T--> (N, classes)

Why the shift sits in the residual branch ("residual shift", the paper's Fig. 3b): shifting the
block's input itself would destroy the spatial features the identity path carries; shifting only
what the branch sees keeps them. Why the frame count is fixed at build time: the backbone sees
`(N*T, C, H, W)` and cannot know where one clip ends, so each shift is told T (the paper's
`n_segment`), and a clip of another length is refused with a message.

Backbones: torchvision's ResNet-50 (shift before `conv1` of every bottleneck) and MobileNetV2
(shift before the first conv of every inverted residual block that has a residual connection, as
the authors' online TSM does). Their parameter names are torchvision's with the shifted conv under
`.net` (`layer1.0.conv1.net.weight`), the naming of the authors' checkpoints.
"""

from __future__ import annotations

import torch
from torch import nn

SHIFT_DIVISOR = 8  # 1/8 of the channels shift each way, 3/4 stay (the paper's best trade-off)


def temporal_shift(x: torch.Tensor, frames: int, divisor: int = SHIFT_DIVISOR) -> torch.Tensor:
    """Shift C/divisor channels back and C/divisor forward by one frame; zero at the clip's ends.

    `(N*T, C, H, W) -> (N*T, C, H, W)`: output frame t takes channels [0, C/d) from frame t+1 and
    [C/d, 2C/d) from frame t-1; channels [2C/d, C) are frame t's own.
    """
    batch_frames, channels, height, width = x.shape
    if batch_frames % frames:
        raise ValueError(f"temporal shift built for {frames}-frame clips got {batch_frames} frames in the batch")
    x = x.view(batch_frames // frames, frames, channels, height, width)  # (N, T, C, H, W)
    fold = channels // divisor
    out = torch.zeros_like(x)
    out[:, :-1, :fold] = x[:, 1:, :fold]  # from the next frame
    out[:, 1:, fold : 2 * fold] = x[:, :-1, fold : 2 * fold]  # from the previous frame
    out[:, :, 2 * fold :] = x[:, :, 2 * fold :]  # unshifted
    return out.view(batch_frames, channels, height, width)


class TemporalShift(nn.Module):
    """Wrap a layer so that its input is temporally shifted first: `net(temporal_shift(x))`.

    Input/output `(N*T, C, H, W)`; adds no parameters (the layer's live under `net.`).
    """

    def __init__(self, net: nn.Module, frames: int, divisor: int = SHIFT_DIVISOR) -> None:
        super().__init__()
        self.net = net
        self.frames = frames
        self.divisor = divisor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(temporal_shift(x, self.frames, self.divisor))


def shift_resnet_blocks(backbone: nn.Module, frames: int) -> nn.Module:
    """Insert a residual shift before `conv1` of every block of a torchvision ResNet (in place)."""
    for stage in (backbone.layer1, backbone.layer2, backbone.layer3, backbone.layer4):
        for block in stage:
            block.conv1 = TemporalShift(block.conv1, frames)
    return backbone


def shift_mobilenet_blocks(backbone: nn.Module, frames: int) -> nn.Module:
    """Insert a shift before the first conv of every residual inverted-residual block (in place)."""
    from torchvision.models.mobilenetv2 import InvertedResidual

    for block in backbone.features:
        if isinstance(block, InvertedResidual) and block.use_res_connect:
            block.conv[0] = TemporalShift(block.conv[0], frames)
    return backbone


class TemporalShiftNetwork(nn.Module):
    """A per-frame 2D classifier with temporal shifts, its scores averaged over the clip.

    Input `(N, T, 3, H, W)` with T = `frames`; output `(N, num_classes)`.
    """

    input_layout = "NTCHW"

    def __init__(self, backbone: nn.Module, frames: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.frames = frames

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        n, t = clip.shape[:2]
        if t != self.frames:
            raise ValueError(f"this TSM was built for {self.frames}-frame clips, got {t} frames")
        scores = self.backbone(clip.flatten(0, 1))  # (N*T, 3, H, W) -> (N*T, classes)
        return scores.unflatten(0, (n, t)).mean(dim=1)  # consensus: average over T


def tsm_resnet50(num_classes: int = 400, frames: int = 8, width_per_group: int = 64) -> TemporalShiftNetwork:
    """TSM on torchvision's ResNet-50 (random init); `frames` is the clip length it shifts over."""
    from torchvision.models import resnet50

    backbone = resnet50(num_classes=num_classes, width_per_group=width_per_group)
    return TemporalShiftNetwork(shift_resnet_blocks(backbone, frames), frames)


def tsm_mobilenet_v2(num_classes: int = 400, frames: int = 8, width_mult: float = 1.0) -> TemporalShiftNetwork:
    """TSM on torchvision's MobileNetV2 (random init), as the authors' online/edge TSM."""
    from torchvision.models import mobilenet_v2

    backbone = mobilenet_v2(num_classes=num_classes, width_mult=width_mult)
    return TemporalShiftNetwork(shift_mobilenet_blocks(backbone, frames), frames)


def tiny_tsm(num_classes: int, frames: int, widths: tuple[int, ...]) -> TemporalShiftNetwork:
    """TSM on the small ResNet-18 of `blocks.ResNet2d` (basic blocks, the given widths) for CPU training."""
    from temporalkit.reference_models.blocks import ResNet2d

    backbone = ResNet2d(num_classes=num_classes, widths=widths)
    return TemporalShiftNetwork(shift_resnet_blocks(backbone, frames), frames)
