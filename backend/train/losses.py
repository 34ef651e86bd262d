"""The image loss of both stages: weighted MSE + EA-DISTS between output and target."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ImageLoss(nn.Module):
    def __init__(self, mse_weight: float = 1.0, ea_dists_weight: float = 1.0,
                 metric_weights: str | None = None) -> None:
        super().__init__()
        self.mse_weight, self.ea_dists_weight = mse_weight, ea_dists_weight
        self.ea_dists = None
        if ea_dists_weight:
            from .metrics import EADists

            self.ea_dists = EADists(metric_weights)

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """output: [0, 1]-ish NCHW (unclamped, so the MSE sees overshoot), target [0, 1].
        Returns the weighted total and each term (unweighted) for logging."""
        terms = {"mse": F.mse_loss(output.float(), target.float())}
        total = self.mse_weight * terms["mse"]
        if self.ea_dists is not None:
            terms["ea_dists"] = self.ea_dists(output.clamp(0, 1), target).mean()
            total = total + self.ea_dists_weight * terms["ea_dists"]
        terms["loss"] = total
        return terms
