"""Image quality: PSNR on all channels, BT.709 luma, PSNR-Y and SSIM.

Conventions:

* Images are numpy arrays of any real or integer dtype on a 0..peak scale (uint8: peak 255); RGB images are
  (..., H, W, 3). Everything is computed in float64, nothing is rounded.
* Luma Y = 0.2126 R + 0.7152 G + 0.0722 B (ITU-R BT.709 weights, full range, on the scale of the input, not
  offset or rounded; for uint8 RGB, Y is a float64 in 0..255).
* PSNR = 10 log10(peak^2 / MSE), the MSE taken over every value compared; +inf when the images are equal.
* SSIM follows Wang, Bovik, Sheikh and Simoncelli (IEEE TIP 2004): an 11 x 11 Gaussian window of standard deviation
  1.5 (the separable kernel exp(-d^2 / 4.5), d = -5..5, normalised to sum 1), K1 = 0.01, K2 = 0.03, L = the data
  range; local means, variances and covariance are window-weighted averages (population moments, no n/(n-1)
  correction); the SSIM map is computed only where the window lies inside the image ("valid" filtering, an
  (H - 10) x (W - 10) map, no padding) and averaged. No downsampling of large images. By default on luma.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError

__all__ = ["BT709", "mse", "psnr", "psnr_from_mse", "rgb_to_y", "psnr_y", "ssim", "ssim_per_image"]

BT709 = (0.2126, 0.7152, 0.0722)
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _pair(ref: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two float64 arrays of the same, non-empty shape."""
    a, b = np.asarray(ref), np.asarray(dec)
    if a.shape != b.shape:
        raise InputError(f"reference and decoded shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        raise InputError("images are empty")
    for x in (a, b):
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer) or x.dtype == bool):
            raise InputError(f"images must be real or integer arrays, got dtype {x.dtype}")
    return a.astype(np.float64), b.astype(np.float64)


def psnr_from_mse(mse_value: float, peak: float = 255.0) -> float:
    """10 log10(peak^2 / mse) in dB; +inf for mse 0.

    Args:
        mse_value: mean squared error, in squared sample units.
        peak: the largest possible sample value.
    """
    if peak <= 0:
        raise InputError(f"peak must be positive, got {peak}")
    if mse_value == 0:
        return math.inf
    return 10.0 * math.log10(peak * peak / mse_value)


def mse(ref: np.ndarray, dec: np.ndarray) -> float:
    """Mean squared error over every value of two arrays of the same shape (any layout), in float64."""
    a, b = _pair(ref, dec)
    d = a - b
    return float(np.mean(d * d))


def psnr(ref: np.ndarray, dec: np.ndarray, peak: float = 255.0) -> float:
    """PSNR over all values (all pixels and all channels together).

    Args:
        ref: reference image, any shape, e.g. (H, W, 3) uint8.
        dec: decoded image, same shape.
        peak: the largest possible sample value.

    Returns:
        PSNR in dB (+inf for identical images).
    """
    return psnr_from_mse(mse(ref, dec), peak)


def rgb_to_y(rgb: np.ndarray) -> np.ndarray:
    """BT.709 luma of RGB values: Y = 0.2126 R + 0.7152 G + 0.0722 B, float64, same scale as the input.

    Args:
        rgb: (..., 3) array, e.g. (H, W, 3) uint8.

    Returns:
        (...) float64 luma, not rounded.
    """
    x = np.asarray(rgb)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise InputError(f"RGB input must have 3 channels in its last axis, got shape {x.shape}")
    x = x.astype(np.float64)
    return BT709[0] * x[..., 0] + BT709[1] * x[..., 1] + BT709[2] * x[..., 2]


def psnr_y(ref: np.ndarray, dec: np.ndarray, peak: float = 255.0) -> float:
    """PSNR of BT.709 luma (see :func:`rgb_to_y`).

    Args:
        ref: (..., H, W, 3) RGB reference.
        dec: decoded, same shape.
        peak: the largest possible sample value.

    Returns:
        PSNR-Y in dB (+inf when the lumas are equal).
    """
    a, b = _pair(ref, dec)
    return psnr(rgb_to_y(a), rgb_to_y(b), peak)


def _gaussian_window() -> np.ndarray:
    d = np.arange(SSIM_WINDOW, dtype=np.float64) - (SSIM_WINDOW - 1) / 2
    g = np.exp(-(d * d) / (2.0 * SSIM_SIGMA * SSIM_SIGMA))
    return g / g.sum()


def _valid_filter(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 'valid' correlation of (..., H, W) with the window g along the last two axes."""
    n = len(g)
    h, w = x.shape[-2:]
    rows = g[0] * x[..., : w - n + 1]
    for i in range(1, n):
        rows = rows + g[i] * x[..., i : i + w - n + 1]
    out = g[0] * rows[..., : h - n + 1, :]
    for i in range(1, n):
        out = out + g[i] * rows[..., i : i + h - n + 1, :]
    return out


def _ssim_batch(x: np.ndarray, y: np.ndarray, data_range: float) -> np.ndarray:
    """Mean SSIM of each (H, W) plane of two float64 (..., H, W) arrays; returns (...)."""
    h, w = x.shape[-2:]
    if h < SSIM_WINDOW or w < SSIM_WINDOW:
        raise InputError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, got {h}x{w}")
    g = _gaussian_window()
    mx, my = _valid_filter(x, g), _valid_filter(y, g)
    vx = _valid_filter(x * x, g) - mx * mx
    vy = _valid_filter(y * y, g) - my * my
    vxy = _valid_filter(x * y, g) - mx * my
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    smap = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return smap.mean(axis=(-2, -1))


def _planes(ref: np.ndarray, dec: np.ndarray, on: str) -> tuple[np.ndarray, np.ndarray]:
    a, b = _pair(ref, dec)
    if on == "y":
        return rgb_to_y(a), rgb_to_y(b)
    if on == "gray":
        return a, b
    raise InputError(f"on must be 'y' or 'gray', got {on!r}")


def ssim_per_image(ref: np.ndarray, dec: np.ndarray, *, data_range: float = 255.0, on: str = "y") -> np.ndarray:
    """SSIM of each image of a batch.

    Args:
        ref: (..., H, W, 3) RGB with ``on="y"``, or (..., H, W) single-channel planes with ``on="gray"``.
        dec: decoded, same shape.
        data_range: L, the dynamic range of the samples (255 for 8 bits).
        on: ``"y"``: SSIM of BT.709 luma; ``"gray"``: SSIM of the planes as given.

    Returns:
        (...) float64 mean SSIM of each image (H >= 11 and W >= 11 required).
    """
    x, y = _planes(ref, dec, on)
    if x.ndim < 2:
        raise InputError(f"SSIM needs at least 2-D images, got shape {x.shape}")
    return _ssim_batch(x, y, float(data_range))


def ssim(ref: np.ndarray, dec: np.ndarray, *, data_range: float = 255.0, on: str = "y") -> float:
    """SSIM of one image (Wang et al. 2004; conventions in the module docstring).

    Args:
        ref: (H, W, 3) RGB with ``on="y"``, or (H, W) with ``on="gray"``.
        dec: decoded, same shape.
        data_range: L, the dynamic range of the samples (255 for 8 bits).
        on: ``"y"`` (luma) or ``"gray"`` (the plane as given).

    Returns:
        Mean SSIM, at most 1 (1 for identical images).
    """
    x, y = _planes(ref, dec, on)
    if x.ndim != 2:
        raise InputError(f"ssim takes one image; got planes of shape {x.shape} (use ssim_per_image for batches)")
    return float(_ssim_batch(x, y, float(data_range)))
