"""Offline image-quality metrics for evaluation and training losses.

    psnr(a, b), ssim(a, b)            HxWxC float images in [0, 1] -> float (fidelity.py)

Names resolve on first use, so importing this package loads nothing heavy.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "psnr": "fidelity", "ssim": "fidelity",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
