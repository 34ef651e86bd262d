"""LPIPS v0.1 (Zhang et al. 2018): channel-normalised deep features of both images, squared
differences weighted per channel by the learned linear heads, averaged over space, summed
over the five stages. Lower is more similar; 0 for identical images."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import backbones, weights

# LPIPS's input scaling: maps [-1, 1] images to ImageNet-like statistics. Kept as published,
# since the linear heads were fitted on features of inputs scaled exactly this way.
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


def unit_channels(features: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """Each pixel's feature vector scaled to unit length (LPIPS compares directions)."""
    return features / (features.pow(2).sum(1, keepdim=True).sqrt() + eps)


class LPIPS(nn.Module):
    """forward(x, y): NCHW float images in [0, 1] -> per-image distance, shape (N,)."""

    def __init__(self, net: str = "alex", weights_dir=None) -> None:
        super().__init__()
        if net not in weights.LPIPS_HEADS:
            raise ValueError(f"net must be one of {sorted(weights.LPIPS_HEADS)}, not {net!r}")
        self.net_name = net
        self.backbone = (backbones.load_alexnet(weights_dir) if net == "alex"
                         else backbones.load_vgg16(weights_dir, "max"))
        heads = weights.load_tensors(weights.LPIPS_HEADS[net], weights_dir)
        self.heads = nn.ParameterList(
            nn.Parameter(heads[f"lin{i}.weight"], requires_grad=False) for i in range(5))
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1), persistent=False)
        backbones.frozen(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        both = torch.cat([x, y]) * 2 - 1  # one backbone pass for both images
        stages = self.backbone((both - self.shift) / self.scale)
        total = x.new_zeros(batch)
        for features, head in zip(stages, self.heads, strict=True):
            unit = unit_channels(features)
            diff = (unit[:batch] - unit[batch:]).pow(2)
            total = total + F.conv2d(diff, head).mean((1, 2, 3))
        return total
