"""EA-DISTS, the edge-aware image loss of OSDD: DISTS(x, y) + DISTS(S(x), S(y)), where S is
a fixed Sobel gradient magnitude of the channel mean, repeated to three channels. The edge
term makes a blurry output pay for its soft edges even where textures look alike."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .dists import DISTS


def sobel_magnitude(images: torch.Tensor) -> torch.Tensor:
    """NCHW in [0, 1] -> NCHW (3 equal channels) gradient magnitude, also in [0, 1]."""
    gray = images.mean(1, keepdim=True)
    # Sobel / 8 estimates the derivative per pixel, so a 0->1 step gives at most ~0.7:
    # S stays inside the [0, 1] range DISTS was fitted on.
    smooth = gray.new_tensor([1.0, 2.0, 1.0])
    slope = gray.new_tensor([-1.0, 0.0, 1.0])
    kernels = torch.stack([torch.outer(smooth, slope), torch.outer(slope, smooth)])[:, None] / 8
    # replicate padding: a zero or mirrored border would invent or hide edges at the frame
    gradients = F.conv2d(F.pad(gray, (1, 1, 1, 1), mode="replicate"), kernels)
    # the tiny offset keeps the gradient of the square root finite on flat areas
    magnitude = (gradients.pow(2).sum(1, keepdim=True) + 1e-12).sqrt()
    return magnitude.expand(-1, 3, -1, -1)


class EADists(nn.Module):
    """forward(x, y): NCHW float images in [0, 1] -> per-image loss, shape (N,).
    Frozen, but differentiable with respect to both inputs, so usable as a training loss."""

    def __init__(self, weights_dir=None) -> None:
        super().__init__()
        self.dists = DISTS(weights_dir)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # both terms in one DISTS call: one larger backbone batch instead of two passes
        both = self.dists(torch.cat([x, sobel_magnitude(x)]), torch.cat([y, sobel_magnitude(y)]))
        return both[: x.shape[0]] + both[x.shape[0]:]
