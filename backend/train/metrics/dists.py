"""DISTS (Ding et al. 2020): per channel of the image and of five VGG16 stages (with L2
pooling), compare global means ("structure-free" texture statistics) and correlations
(structure), weighted by learned alpha/beta. Lower is more similar; 0 for identical images.
"""

from __future__ import annotations

import torch
from torch import nn

from . import backbones, weights

_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)
_C1 = _C2 = 1e-6  # the paper's stabilisers; small, as features are unbounded
_WIDTHS = (3, 64, 128, 256, 512, 512)  # channels of the image and of the five VGG stages


class DISTS(nn.Module):
    """forward(x, y): NCHW float images in [0, 1] -> per-image distance, shape (N,)."""

    def __init__(self, weights_dir=None) -> None:
        super().__init__()
        self.backbone = backbones.load_vgg16(weights_dir, "l2")
        fitted = weights.load_tensors(weights.DISTS, weights_dir)
        if fitted["alpha"].numel() != sum(_WIDTHS):
            raise ValueError(f"{weights.DISTS}: {fitted['alpha'].numel()} weights for "
                             f"{sum(_WIDTHS)} channels")
        # normalised to sum 1 together, so identical images score exactly 0
        total = fitted["alpha"].sum() + fitted["beta"].sum()
        self.register_buffer("alpha", (fitted["alpha"] / total).flatten(), persistent=False)
        self.register_buffer("beta", (fitted["beta"] / total).flatten(), persistent=False)
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)
        backbones.frozen(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        both = torch.cat([x, y])  # one backbone pass for both images
        # the raw image itself is DISTS's stage 0
        stages = [both] + self.backbone((both - self.mean) / self.std)
        texture, structure = [], []
        for features in stages:
            a, b = features[:batch].flatten(2), features[batch:].flatten(2)
            mean_a, mean_b = a.mean(2), b.mean(2)
            var_a = (a - mean_a[..., None]).pow(2).mean(2)
            var_b = (b - mean_b[..., None]).pow(2).mean(2)
            cov = (a * b).mean(2) - mean_a * mean_b
            texture.append((2 * mean_a * mean_b + _C1) / (mean_a**2 + mean_b**2 + _C1))
            structure.append((2 * cov + _C2) / (var_a + var_b + _C2))
        similarity = torch.cat(texture, 1) @ self.alpha + torch.cat(structure, 1) @ self.beta
        return 1 - similarity
