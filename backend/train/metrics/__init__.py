"""Offline image-quality metrics for evaluation and training losses.

    psnr(a, b), ssim(a, b)            HxWxC float images in [0, 1] -> float (fidelity.py)
    LPIPS(net="alex"|"vgg")           nn.Module, forward(x, y) -> (N,)     (lpips.py)
    DISTS()                           nn.Module, forward(x, y) -> (N,)     (dists.py)
    EADists()                         DISTS plus DISTS of Sobel edges      (ea_dists.py)
    niqe(image)                       HxW or HxWxC float image in [0, 1] -> float,
                                      no-reference, lower is better; numpy only (niqe_metric.py)
    metric_weights_dir(explicit=None) where the converted weights are read (weights.py)

The modules take NCHW float tensors in [0, 1] and an optional `weights_dir`; their weights
come from safetensors files made once by scripts/convert_perceptual_weights.py. Names
resolve on first use, so importing this package loads neither torch nor weights.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "psnr": "fidelity", "ssim": "fidelity",
    "LPIPS": "lpips", "DISTS": "dists", "EADists": "ea_dists", "niqe": "niqe_metric",
    "metric_weights_dir": "weights",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
