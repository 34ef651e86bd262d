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
    rz = _dot(r, z)
    for _ in range(steps):
        ap = apply(p)
        alpha = rz / max(_dot(p, ap), 1e-30)
        x = x + alpha * p
        r = r - alpha * ap
        z = r if precondition is None else precondition(r)
        rz_new = _dot(r, z)
        if precondition is None and rz_new < stop_below:
            break
        p = z + (rz_new / max(rz, 1e-30)) * p
        rz = rz_new
    return x


def _dot(a, b) -> float:
    """Sum of a * b by NumPy's pairwise summation, for either kind of array: torch's sum
    splits the work over its threads, so its rounding, and the result, followed the thread
    count (a job run by a Ray worker, given one thread, came out 1 level different in a
    few pixels)."""
    return float(np.multiply(np.asarray(a), np.asarray(b)).sum())
