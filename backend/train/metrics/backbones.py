"""Plain-torch VGG16 and AlexNet feature extractors (ImageNet weights from the converted
files), returning the five ReLU stages LPIPS and DISTS compare.

Layer indices follow torchvision's `features` layout, so the converted state dicts use the
same names ("features.0.weight", ...) as every published LPIPS/DISTS checkpoint refers to."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import weights

# VGG16 configuration "D": conv widths, "P" = 2x2 pooling; the last pool is never used.
_VGG16 = (64, 64, "P", 128, 128, "P", 256, 256, 256, "P", 512, 512, 512, "P", 512, 512, 512)
# AlexNet (torchvision variant): (width, kernel, stride, padding), "P" = 3x3/2 max pool.
_ALEXNET = ((64, 11, 4, 2), "P", (192, 5, 1, 2), "P", (384, 3, 1, 1), (256, 3, 1, 1),
            (256, 3, 1, 1))


class L2Pool(nn.Module):
    """DISTS's anti-aliased pooling: sqrt of a Hann-weighted 3x3 average of squares, stride
    2. Max pooling aliases, which makes DISTS jump for sub-pixel shifts."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        window = torch.tensor([0.5, 1.0, 0.5])  # Hann of length 5 without its zero ends
        kernel = torch.outer(window, window)
        kernel = (kernel / kernel.sum()).expand(channels, 1, 3, 3).contiguous()
        # not persistent: derived, so the converted checkpoints need not carry it
        self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.conv2d(x * x, self.kernel, stride=2, padding=1, groups=x.shape[1])
        return (pooled + 1e-12).sqrt()  # the offset keeps the gradient finite at 0


class Features(nn.Module):
    """`features` up to the last tapped ReLU; forward returns the tapped activations."""

    def __init__(self, layers: list[nn.Module], taps: tuple[int, ...]) -> None:
        super().__init__()
        self.features = nn.Sequential(*layers[: taps[-1] + 1])
        self.taps = taps

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        stages = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.taps:
                stages.append(x)
        return stages


def vgg16(pooling: str = "max") -> Features:
    """Untrained VGG16 tapped at relu1_2, relu2_2, relu3_3, relu4_3, relu5_3; pooling "max"
    (LPIPS) or "l2" (DISTS)."""
    if pooling not in ("max", "l2"):
        raise ValueError(f"pooling must be 'max' or 'l2', not {pooling!r}")
    layers: list[nn.Module] = []
    taps = []
    channels = 3
    for item in _VGG16:
        if item == "P":
            taps.append(len(layers) - 1)  # the ReLU just before each pool ends a stage
            layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else L2Pool(channels))
        else:
            layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU()]
            channels = item
    taps.append(len(layers) - 1)
    return Features(layers, tuple(taps))


def alexnet() -> Features:
    """Untrained AlexNet features tapped after each of its five ReLUs."""
    layers: list[nn.Module] = []
    channels = 3
    for item in _ALEXNET:
        if item == "P":
            layers.append(nn.MaxPool2d(3, 2))
        else:
            width, kernel, stride, padding = item
            layers += [nn.Conv2d(channels, width, kernel, stride, padding), nn.ReLU()]
            channels = width
    taps = tuple(i for i, layer in enumerate(layers) if isinstance(layer, nn.ReLU))
    return Features(layers, taps)


def frozen(module: nn.Module) -> nn.Module:
    """A fixed measuring instrument: eval mode and no parameter gradients, while gradients
    still flow to the inputs (so the metric can serve as a loss)."""
    module.eval()
    module.requires_grad_(False)
    return module


def load_vgg16(weights_dir=None, pooling: str = "max") -> Features:
    net = vgg16(pooling)
    net.load_state_dict(weights.load_tensors(weights.VGG16, weights_dir))
    return frozen(net)


def load_alexnet(weights_dir=None) -> Features:
    net = alexnet()
    net.load_state_dict(weights.load_tensors(weights.ALEXNET, weights_dir))
    return frozen(net)
