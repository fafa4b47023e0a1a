"""R(2+1)D-18 (Tran et al. 2018) assembled from `Conv2Plus1D` blocks.

Same layout and parameter names as torchvision's `r2plus1d_18`: 31,505,325 parameters with 400
classes and the same FLOPs (both tested), so its Kinetics checkpoint loads with `load_state_dict`.
"""

from __future__ import annotations

import torch
from temporalkit.reference_models.blocks import RESNET18_WIDTHS, Conv2Plus1DBasicBlock, R2Plus1dStem, make_stages
from torch import nn


class R2Plus1dResNet(nn.Module):
    """Stem -> 4 stages of (2+1)D basic blocks -> global average pool -> linear.

    Input `(N, 3, T, H, W)`, output `(N, num_classes)`. Stages 2-4 halve T, H and W.
    """

    input_layout = "NCTHW"

    def __init__(self, num_classes: int = 400, widths: tuple[int, ...] = RESNET18_WIDTHS) -> None:
        super().__init__()
        self.stem = R2Plus1dStem(widths[0])
        for name, stage in make_stages(Conv2Plus1DBasicBlock, widths).items():
            self.add_module(name, stage)
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(widths[-1], num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        # torchvision's video ResNet initialisation: He-normal convs, unit BatchNorm, small linear.
        for module in self.modules():
            if isinstance(module, nn.Conv3d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm3d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.zeros_(module.bias)

    def forward_features(self, clip: torch.Tensor) -> torch.Tensor:
        x = self.stem(clip)  # (N, C0, T, H/2, W/2)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, C3, T/8, H/16, W/16)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.forward_features(clip)), 1))


def r2plus1d_r18(num_classes: int = 400, widths: tuple[int, ...] = RESNET18_WIDTHS, weights=None) -> R2Plus1dResNet:
    """R(2+1)D-18; `weights` is a path or hub-cache name of a torchvision r2plus1d_18 checkpoint."""
    model = R2Plus1dResNet(num_classes=num_classes, widths=widths)
    if weights is not None:
        from temporalkit.reference_models.weights import load_weights

        load_weights(model, weights)
    return model
