"""I3D inflation: turn a 2D ResNet-18 (and its ImageNet checkpoint) into a 3D network.

Each k x k conv becomes t x k x k with the 2D kernel repeated t times along time and divided by
t (Carreira & Zisserman 2017). On a clip of identical frames every time tap sees the same input,
so the t copies sum back to the 2D response: the activation scale is that of the 2D network and
its ImageNet BatchNorm statistics stay valid.

Temporal padding decides whether that holds at the clip boundaries. With zero padding
(`temporal_padding="zeros"`, I3D's choice) the first and last frames see zeros instead of
copies, so their features differ. Only frames at least the temporal receptive radius from both
ends (one frame per inflated conv: 17 for ResNet-18 at t=3) are guaranteed to equal the 2D
features; in practice the error falls off geometrically (each conv gives the padded tap a third
of the weight): with random tiny-ResNet weights it is ~0.1 at the end frames, ~5e-4 three frames
in and below 1e-5 from the seventh. With `temporal_padding="replicate"` every frame equals the 2D
features. tests/test_reference_models.py checks both.
"""

from __future__ import annotations

import torch
from temporalkit.reference_models.blocks import RESNET18_WIDTHS, ReplicateTimePadConv3d, ResNet2d
from torch import nn

TEMPORAL_PADDINGS = ("zeros", "replicate")


def inflate_conv_weight(weight_2d: torch.Tensor, time_kernel: int) -> torch.Tensor:
    """(O, I, kH, kW) -> (O, I, t, kH, kW): repeat along time, divide by t to keep the scale."""
    return weight_2d.unsqueeze(2).repeat(1, 1, time_kernel, 1, 1) / time_kernel


def inflate_conv2d(
    conv: nn.Conv2d, time_kernel: int = 3, time_stride: int = 1, temporal_padding: str = "zeros"
) -> nn.Conv3d:
    """A Conv3d (t x kH x kW) that equals `conv` on a clip of identical frames (see module docs)."""
    if temporal_padding not in TEMPORAL_PADDINGS:
        raise ValueError(f"temporal_padding must be one of {', '.join(TEMPORAL_PADDINGS)}, got {temporal_padding!r}")
    conv_class = ReplicateTimePadConv3d if temporal_padding == "replicate" and time_kernel > 1 else nn.Conv3d
    conv3d = conv_class(
        conv.in_channels,
        conv.out_channels,
        kernel_size=(time_kernel, *conv.kernel_size),
        stride=(time_stride, *conv.stride),
        padding=(time_kernel // 2, *conv.padding),
        dilation=(1, *conv.dilation),
        groups=conv.groups,
        bias=conv.bias is not None,
        device=conv.weight.device,
        dtype=conv.weight.dtype,
    )
    with torch.no_grad():
        conv3d.weight.copy_(inflate_conv_weight(conv.weight, time_kernel))
        if conv.bias is not None:
            conv3d.bias.copy_(conv.bias)
    return conv3d


def inflate_batchnorm2d(batchnorm: nn.BatchNorm2d) -> nn.BatchNorm3d:
    """A BatchNorm3d with the same affine parameters and running statistics."""
    batchnorm3d = nn.BatchNorm3d(
        batchnorm.num_features,
        eps=batchnorm.eps,
        momentum=batchnorm.momentum,
        affine=batchnorm.affine,
        track_running_stats=batchnorm.track_running_stats,
        device=batchnorm.weight.device if batchnorm.affine else None,
    )
    batchnorm3d.load_state_dict(batchnorm.state_dict())
    return batchnorm3d


def _inflate_children(module: nn.Module, time_kernel: int, temporal_padding: str) -> None:
    """Replace every 2D layer under `module`, in place, by its inflated 3D counterpart."""
    for name, child in module.named_children():
        if isinstance(child, nn.Conv2d):
            kernel = time_kernel if child.kernel_size[0] > 1 else 1  # 1x1 convs stay 1x1x1
            setattr(module, name, inflate_conv2d(child, kernel, temporal_padding=temporal_padding))
        elif isinstance(child, nn.BatchNorm2d):
            setattr(module, name, inflate_batchnorm2d(child))
        elif isinstance(child, nn.MaxPool2d):
            setattr(
                module,
                name,
                nn.MaxPool3d(
                    (1, child.kernel_size, child.kernel_size),
                    (1, child.stride, child.stride),
                    (0, child.padding, child.padding),
                ),
            )
        elif isinstance(child, nn.AdaptiveAvgPool2d):
            setattr(module, name, nn.AdaptiveAvgPool3d(1))
        else:
            _inflate_children(child, time_kernel, temporal_padding)


class I3DResNet(ResNet2d):
    """ResNet-18 with every layer inflated: `(N, 3, T, H, W) -> (N, num_classes)`.

    Built by constructing the 2D ResNet-18 and inflating all of it, so the parameter names are
    torchvision resnet18's and an ImageNet checkpoint loads through the one loader,
    `weights.load_weights(model, checkpoint, adapt=model.inflate_2d_state_dict)`. Time is never
    strided (T is kept to the end and averaged by the global pool); `forward_features` returns
    `(N, widths[-1], T, H/32, W/32)`.
    """

    input_layout = "NCTHW"

    def __init__(
        self,
        num_classes: int = 400,
        widths: tuple[int, ...] = RESNET18_WIDTHS,
        time_kernel: int = 3,
        temporal_padding: str = "zeros",
    ) -> None:
        super().__init__(num_classes=num_classes, widths=widths)
        self.time_kernel = time_kernel
        _inflate_children(self, time_kernel, temporal_padding)

    def inflate_2d_state_dict(self, state_dict: dict) -> dict:
        """A 2D ResNet-18 state dict with its conv kernels inflated to this network's time kernels."""
        own = self.state_dict()
        inflated = {}
        for key, value in state_dict.items():
            if key in own and value.dim() == 4 and own[key].dim() == 5:
                value = inflate_conv_weight(value, own[key].shape[2])
            inflated[key] = value
        return inflated


def _widths_of(resnet2d: nn.Module) -> tuple[int, ...]:
    return tuple(getattr(resnet2d, f"layer{i}")[0].conv1.out_channels for i in range(1, 5))


def inflate_resnet2d(resnet2d: nn.Module, time_kernel: int = 3, temporal_padding: str = "zeros") -> I3DResNet:
    """Inflate a torchvision `resnet18` (or our `ResNet2d`) with its weights into an I3DResNet."""
    model = I3DResNet(
        num_classes=resnet2d.fc.out_features,
        widths=_widths_of(resnet2d),
        time_kernel=time_kernel,
        temporal_padding=temporal_padding,
    )
    from temporalkit.reference_models.weights import load_weights

    load_weights(model, resnet2d.state_dict(), adapt=model.inflate_2d_state_dict, skip_mismatched_head=False)
    return model.to(resnet2d.conv1.weight.device)


def i3d_r18(
    num_classes: int = 400,
    time_kernel: int = 3,
    weights_2d=None,
    widths: tuple[int, ...] = RESNET18_WIDTHS,
    temporal_padding: str = "zeros",
) -> I3DResNet:
    """I3D-ResNet-18; `weights_2d` is a path or hub-cache name of a 2D resnet18 checkpoint to inflate.

    The 2D classifier (`fc`, 1000 ImageNet classes) is dropped when its size differs.
    """
    model = I3DResNet(
        num_classes=num_classes, widths=widths, time_kernel=time_kernel, temporal_padding=temporal_padding
    )
    if weights_2d is not None:
        from temporalkit.reference_models.weights import load_weights

        load_weights(model, weights_2d, adapt=model.inflate_2d_state_dict)
    return model
