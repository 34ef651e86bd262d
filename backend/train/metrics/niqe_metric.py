"""NIQE, the no-reference "Natural Image Quality Evaluator" (Mittal, Soundararajan and
Bovik, "Making a completely blind image quality analyzer", IEEE SPL 2013). Lower is better.

Follows the authors' MATLAB release (computequality.m) step by step, in numpy/scipy:
8-bit luma, cropped to whole 96 px patches; MSCN coefficients from a 7x7 Gaussian window
(sigma 7/6, replicated borders); per patch 18 features from asymmetric generalised
Gaussian fits (the coefficients and their products with the four neighbours); the same at
half size after MATLAB's antialiased bicubic imresize; then the distance between the
patches' Gaussian (mean, covariance) and the pristine model in niqe.safetensors (the
release's modelparameters.mat, converted by scripts/convert_perceptual_weights.py).

RGB input becomes round(255 * (0.299 R + 0.587 G + 0.114 B)), the luma pyiqa's NIQE uses
by default; the MATLAB release calls rgb2gray, whose weights differ in the 4th decimal.

Agreement, measured against published MATLAB results with the same model:
  * BasicSR's MATLAB R2021a NIQE of its baboon.png, 5.72957338, computed on the Y of
    MATLAB's rgb2ycbcr: this code on that same Y gives 5.72957388 (5e-7 apart).
  * pyiqa's official MATLAB NIQE of its five calibration images (I03, I04, I06, I08, I19;
    15.7536, 3.6549, 3.2355, 3.1840, 8.6352, rgb2gray input): this code gives -0.083,
    +0.000, -0.0005, +0.015, +0.031 from those (-0.008, 0, -0.001, +0.018, +0.030 with
    rgb2gray's weights). pyiqa 0.1.16, run on them with this model, is within 0.018 of
    this code except on I19 (0.41 higher, and 0.44 off MATLAB): see mscn() for why.
"""

from __future__ import annotations

import os

import numpy as np
from scipy.ndimage import correlate
from scipy.special import gammaln

from . import weights

PATCH = 96
LUMA = np.array([0.299, 0.587, 0.114])
# MATLAB's grid of shape parameters, 0.2:0.001:10, and the ratio E|x|^2 / E[x^2] of a
# generalised Gaussian at each; the fit picks the grid point nearest the sample's ratio
_SHAPES = 0.2 + 0.001 * np.arange(9801)
_RATIOS = np.exp(2 * gammaln(2 / _SHAPES) - gammaln(1 / _SHAPES) - gammaln(3 / _SHAPES))
# the pixel pairs of the four orientations, as MATLAB's circshift moves the patch
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))
# far above the filter's rounding on 0-255 values, far below any real local contrast
_ROUNDING = 1e-9


def niqe(image: np.ndarray, weights_dir: str | os.PathLike | None = None) -> float:
    """NIQE of an HxW or HxWxC (C = 1 or 3) float image in [0, 1]; typically 2.5-6 for
    sharp natural photos, higher for blurred or noisy ones. Needs at least two 96x96
    patches with texture; raises ValueError otherwise."""
    model = weights.load_arrays(weights.NIQE, weights_dir)
    luma = to_luma(image)
    rows, cols = (n // PATCH for n in luma.shape)
    luma = luma[:rows * PATCH, :cols * PATCH]
    if rows * cols == 0:
        raise ValueError(f"NIQE needs an image of at least {PATCH}x{PATCH}, got {image.shape}")
    features = np.concatenate([patch_features(mscn(luma), PATCH),
                               patch_features(mscn(imresize_half(luma)), PATCH // 2)], axis=1)
    return distance(features, model["mu"], model["cov"])


def to_luma(image: np.ndarray) -> np.ndarray:
    """The 8-bit luma as float64: what the MATLAB code sees after imread and rgb2gray
    (values clipped to [0, 1] first, as an 8-bit file would be)."""
    image = np.clip(np.asarray(image, np.float64), 0, 1)
    if image.ndim == 3 and image.shape[2] == 3:
        image = image @ LUMA
    elif image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    elif image.ndim != 2:
        raise ValueError(f"expected an HxW, HxWx1 or HxWx3 image, got shape {image.shape}")
    return np.floor(255 * image + 0.5)  # MATLAB rounds halves up (away from zero)


def mscn(image: np.ndarray) -> np.ndarray:
    """Mean-subtracted, contrast-normalised coefficients (eq. 1 of the paper)."""
    axis = np.arange(-3, 4)
    window = np.exp(-(axis[:, None] ** 2 + axis[None, :] ** 2) / (2 * (7 / 6) ** 2))
    window /= window.sum()
    mean = correlate(image, window, mode="nearest")
    std = np.sqrt(np.abs(correlate(image * image, window, mode="nearest") - mean * mean))
    centred = image - mean
    # In flat areas the exact value is 0, but the filter's rounding leaves about 1e-13 of
    # either sign, and the fits count signs: on a photo with saturated areas that alone
    # moved NIQE by 0.5. Exact zeros match the MATLAB results best (see the docstring).
    centred[np.abs(centred) < _ROUNDING] = 0
    return centred / (std + 1)


def patch_features(coeffs: np.ndarray, size: int) -> np.ndarray:
    """(patches, 18): per size x size patch, the AGGD shape and mean scale of the
    coefficients, then shape, mean, left and right scale of each neighbour product."""
    rows, cols = coeffs.shape[0] // size, coeffs.shape[1] // size
    patches = (coeffs.reshape(rows, size, cols, size).swapaxes(1, 2)
               .reshape(rows * cols, size, size))
    shape, left, right = aggd_fit(patches)
    columns = [shape, (left + right) / 2]
    for shift in _SHIFTS:  # products wrap around inside the patch, as circshift does
        shape, left, right = aggd_fit(patches * np.roll(patches, shift, axis=(1, 2)))
        mean = (right - left) * np.exp(gammaln(2 / shape) - gammaln(1 / shape))
        columns += [shape, mean, left, right]
    return np.stack(columns, axis=1)


def aggd_fit(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moment-matching fit of an asymmetric generalised Gaussian to each patch
    (estimateaggdparam.m): shape from the nearest grid ratio, then left and right scales.
    A patch without negative or positive values gives NaN scales (MATLAB's mean of
    nothing), and its shape is then the grid's first value, as MATLAB's min returns."""
    flat = samples.reshape(len(samples), -1)
    negative, positive = flat < 0, flat > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.sqrt((flat**2 * negative).sum(1) / negative.sum(1))
        right = np.sqrt((flat**2 * positive).sum(1) / positive.sum(1))
        skew = left / right
        ratio = np.abs(flat).mean(1) ** 2 / (flat**2).mean(1)
        ratio = ratio * (skew**3 + 1) * (skew + 1) / (skew**2 + 1) ** 2
    shape = _SHAPES[_nearest_ratio(ratio)]
    scale = np.exp(0.5 * (gammaln(1 / shape) - gammaln(3 / shape)))
    return shape, left * scale, right * scale


def _nearest_ratio(ratio: np.ndarray) -> np.ndarray:
    """Index of the grid ratio nearest each value, the first on a tie; index 0 for NaN.
    The ratios grow with the shape, so a sorted search replaces MATLAB's full scan."""
    above = np.clip(np.searchsorted(_RATIOS, ratio), 1, len(_RATIOS) - 1)
    below = above - 1
    pick = np.where((ratio - _RATIOS[below]) ** 2 <= (_RATIOS[above] - ratio) ** 2,
                    below, above)
    return np.where(np.isnan(ratio), 0, pick)


def imresize_half(image: np.ndarray) -> np.ndarray:
    """MATLAB's imresize(image, 0.5): bicubic (a = -0.5), antialiased, mirrored borders;
    rows first, then columns, as MATLAB orders equal scales."""
    rows = _resize_matrix(image.shape[0], 0.5)
    cols = _resize_matrix(image.shape[1], 0.5)
    return rows @ image @ cols.T


def _resize_matrix(length: int, scale: float) -> np.ndarray:
    """(out, in) weights of MATLAB's imresize along one axis for a scale below 1: the cubic
    kernel stretched by 1/scale (antialiasing), each row normalised, taps past either
    end folded back onto the image (MATLAB's symmetric padding)."""
    width = 4 / scale
    out = int(np.ceil(length * scale))
    centre = np.arange(1, out + 1) / scale + 0.5 * (1 - 1 / scale)  # 1-based positions
    first = np.floor(centre - width / 2)
    taps = first[:, None] + np.arange(int(np.ceil(width)) + 2)[None, :]
    weight = scale * _cubic(scale * (centre[:, None] - taps))
    weight /= weight.sum(1, keepdims=True)
    folded = np.mod(taps.astype(int) - 1, 2 * length)
    index = np.where(folded < length, folded, 2 * length - 1 - folded)
    matrix = np.zeros((out, length))
    np.add.at(matrix, (np.repeat(np.arange(out), taps.shape[1]), index.ravel()),
              weight.ravel())
    return matrix


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5, MATLAB's 'bicubic'."""
    x = np.abs(x)
    near = (1.5 * x**3 - 2.5 * x**2 + 1) * (x <= 1)
    far = (-0.5 * x**3 + 2.5 * x**2 - 4 * x + 2) * ((x > 1) & (x <= 2))
    return near + far


def distance(features: np.ndarray, mu: np.ndarray, cov: np.ndarray) -> float:
    """Eq. 10: the Mahalanobis-like distance between the patches' Gaussian and the
    pristine one, with MATLAB's nanmean and nancov (rows with any NaN left out)."""
    complete = features[~np.isnan(features).any(axis=1)]
    if len(complete) < 2:
        raise ValueError(f"NIQE needs at least two textured {PATCH}x{PATCH} patches; "
                         f"{len(complete)} of {len(features)} could be fitted")
    gap = mu - np.nanmean(features, axis=0)
    pooled = (cov + np.cov(complete, rowvar=False)) / 2
    # MATLAB's pinv tolerance: max(size) * eps * the largest singular value
    inverse = np.linalg.pinv(pooled, rcond=len(pooled) * np.finfo(float).eps)
    return float(np.sqrt(gap @ inverse @ gap))
