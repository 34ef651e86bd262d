"""Conjugate gradients for the blind core's symmetric positive-definite systems: the kernel
update (on the kernel's support) and the deconvolution's x step when clipped pixels leave
its data term (on the padded image). Operators are callables, so each caller applies its
own with FFTs. Works on NumPy arrays and torch tensors alike."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Operator = Callable[[np.ndarray], np.ndarray]


def conjugate_gradients(apply: Operator, b: np.ndarray, x: np.ndarray, steps: int,
                        precondition: Operator | None = None,
                        stop_below: float = 0.0) -> np.ndarray:
    """At most ``steps`` steps of (preconditioned) conjugate gradients on apply(x) = b from
    ``x`` (not modified). Without a preconditioner it stops early once the squared residual
    falls below ``stop_below``."""
    r = b - apply(x)
    z = r if precondition is None else precondition(r)
    p = 1.0 * z  # a copy, for either kind of array
    rz = float((r * z).sum())
    for _ in range(steps):
        ap = apply(p)
        alpha = rz / max(float((p * ap).sum()), 1e-30)
        x = x + alpha * p
        r = r - alpha * ap
        z = r if precondition is None else precondition(r)
        rz_new = float((r * z).sum())
        if precondition is None and rz_new < stop_below:
            break
        p = z + (rz_new / max(rz, 1e-30)) * p
        rz = rz_new
    return x
