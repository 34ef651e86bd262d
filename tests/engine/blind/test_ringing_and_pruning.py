"""Why-tests for the two anti-artefact rules: detached kernel blobs are dropped only when the
two windows then agree better, and ringing is removed where the blurred image is flat."""

from __future__ import annotations

import numpy as np

from backend.engine.blind import BlurEstimate, deconvolve
from backend.engine.blind.deconvolve import edge_support
from backend.engine.blind.estimate import recenter
from backend.engine.blind.guard import agreement, assess, drop_unshared, prune_detached
from backend.train.data.protocol import protocol_blur


def _stroke(n: int = 31) -> np.ndarray:
    k = np.zeros((n, n), np.float32)
    idx = np.arange(8, 20)
    k[idx, idx] = 1.0  # diagonal trajectory
    return k


def _norm(k: np.ndarray) -> np.ndarray:
    return (k / k.sum()).astype(np.float32)


def test_prune_detached_removes_weak_blob_only() -> None:
    k = _stroke()
    k[2, 26:29] = 0.5  # weak blob far from the trajectory
    out = prune_detached(_norm(k))
    assert out[:6, 22:].sum() == 0 and abs(float(out.sum()) - 1) < 1e-5
    single = _norm(_stroke())
    np.testing.assert_array_equal(prune_detached(single), single)


def test_blobs_seen_by_one_window_only_are_dropped() -> None:
    a, b = _stroke(), _stroke()
    a[2, 26:29] = 0.5
    b[27, 2:5] = 0.5  # each window has its own streak: spurious
    pa, pb = drop_unshared(_norm(a), _norm(b))
    assert agreement(pa, pb) > agreement(_norm(a), _norm(b)) and agreement(pa, pb) > 0.99


def test_pieces_seen_by_both_windows_are_kept() -> None:
    # A fragment of a long trajectory (mass 5 and 7 vs 12 for the main piece) estimated in
    # both windows: pruning removes it from one window only, so the windows would disagree.
    a, b = _stroke(), _stroke()
    a[2, 24:29] = 1.0
    b[2, 22:29] = 1.0
    a, b = _norm(a), _norm(b)
    pa, pb = drop_unshared(a, b)
    np.testing.assert_array_equal(pa, a)
    np.testing.assert_array_equal(pb, b)


def test_pieces_seen_by_both_windows_are_kept_even_if_dropping_them_agrees_better() -> None:
    # Both windows see the fragment, a pixel apart: dropping it from both would make the
    # two kernels identical, but it is part of the shake (CC0 camera x 71 px: the kernel
    # lost three of its four pieces that way, NCC with the truth 0.79 -> 0.59).
    a, b = _stroke(), _stroke()
    a[2, 24:29] = 1.0
    b[2, 23:28] = 1.0
    a, b = _norm(a), _norm(b)
    assert agreement(prune_detached(a), prune_detached(b)) > agreement(a, b)
    pa, pb = drop_unshared(a, b)
    np.testing.assert_array_equal(pa, a)
    np.testing.assert_array_equal(pb, b)


def test_no_ringing_in_flat_surroundings() -> None:
    # A bright disc on a flat background, blurred by a horizontal line: far from the blurred
    # disc (more than a kernel length) the output must stay flat, not show ghost rings.
    yy, xx = np.mgrid[:160, :240]
    sharp = np.where((yy - 80) ** 2 + (xx - 120) ** 2 < 30 ** 2, 0.9, 0.4).astype(np.float32)
    k = np.zeros((25, 25), np.float32)
    k[12, 2:23] = 1.0 / 21
    blurred = protocol_blur(sharp[..., None], k, seed=5)
    support = edge_support(blurred[..., 0], k)
    # at the disc edge: full support; far away only sensor noise (weak, partial support)
    assert support[80, 120 - 30] == 1.0 and support[80, 20] < 0.3
    # Ringing comes from kernel errors: deconvolve with a slightly too long estimate (the
    # plain deconvolution leaves ghosts of 0.055 there, and the blurred input has 0.04 noise).
    wrong = np.zeros((25, 25), np.float32)
    wrong[12, :] = 1.0 / 25
    out = deconvolve(blurred, BlurEstimate(kernel=wrong, confident=True), 1.0)[..., 0]
    far = np.abs(xx - 120) > 30 + 10 + 25  # beyond disc + blur half-length + a kernel
    assert float(np.abs(out[far] - 0.4).max()) < 0.03


def test_the_kernel_used_is_both_windows_estimates_averaged_once_aligned() -> None:
    # The windows' kernels may sit a few pixels apart; averaged unaligned they would be a
    # double trajectory, a ghost in every edge.
    a = _norm(_stroke())
    estimate = assess(a, np.roll(a, (3, -2), axis=(0, 1)))
    np.testing.assert_allclose(estimate.kernel, recenter(a), atol=1e-6)
    # A piece only one window saw is kept, at half its weight.
    b = _stroke()
    b[8:11, 8:11] = 0.0  # the other window missed the trajectory's start
    kernel = assess(a, _norm(b)).kernel
    values = np.sort(kernel[kernel > 0])
    assert values.size == 12  # the whole trajectory
    np.testing.assert_allclose(values[:3], 0.5 / 12, rtol=1e-5)  # half of a's 1/12 each
