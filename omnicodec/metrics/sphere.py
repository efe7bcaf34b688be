"""Quality of 360-degree equirectangular (ERP) images: WS-PSNR and S-PSNR.

ERP layout: (H, W[, C]) with row 0 at the north pole side and column 0 at longitude -180 degrees; pixel (j, i)
covers latitudes [90 - 180 (j + 1) / H, 90 - 180 j / H] and longitudes [-180 + 360 i / W, -180 + 360 (i + 1) / W].

* **WS-PSNR** (weighted-to-spherically-uniform PSNR): squared errors weighted per row by
  w_j = cos((j + 0.5 - H / 2) pi / H), the relative area of the row's pixels on the sphere;
  WMSE = sum w e^2 / sum w over the compared values; WS-PSNR = 10 log10(peak^2 / WMSE).
* **S-PSNR** (spherical PSNR): both images sampled at a fixed set of points spread uniformly over the sphere (a
  Fibonacci lattice, 655,362 points by default, the size of the usual S-PSNR point set), PSNR over those samples.
  The points are not those of the point file that MPEG's 360Lib reads, so values differ from 360Lib's S-PSNR-NN in
  the last decimals.

Both default to BT.709 luma of RGB input (``on="y"``); ``on="all"`` uses every channel of the image as given.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..errors import InputError
from ..types import ErpImage
from .image import psnr_from_mse, rgb_to_y

__all__ = ["erp_row_weights", "ws_psnr", "ws_psnr_per_channel", "sphere_points", "s_psnr", "SPHERE_POINTS"]

SPHERE_POINTS = 655_362


def _pixels(img: ErpImage | np.ndarray) -> np.ndarray:
    return img.pixels if isinstance(img, ErpImage) else np.asarray(img)


def _erp_pair(ref, dec, on: str) -> tuple[np.ndarray, np.ndarray]:
    """Two float64 (H, W, C) arrays: luma (C = 1) or all channels."""
    a, b = _pixels(ref), _pixels(dec)
    if a.shape != b.shape:
        raise InputError(f"reference and decoded shapes differ: {a.shape} vs {b.shape}")
    if a.ndim == 2:
        a, b = a[:, :, None], b[:, :, None]
    if a.ndim != 3 or a.size == 0:
        raise InputError(f"ERP images must have shape (H, W) or (H, W, C) and not be empty, got {a.shape}")
    a, b = a.astype(np.float64), b.astype(np.float64)
    if on == "y":
        if a.shape[2] != 3:
            raise InputError(f"on='y' needs RGB (H, W, 3) images, got {a.shape}; use on='all'")
        return rgb_to_y(a)[:, :, None], rgb_to_y(b)[:, :, None]
    if on == "all":
        return a, b
    raise InputError(f"on must be 'y' or 'all', got {on!r}")


def erp_row_weights(height: int) -> np.ndarray:
    """(H,) float64 WS-PSNR row weights cos((j + 0.5 - H / 2) pi / H)."""
    if height < 1:
        raise InputError(f"height must be positive, got {height}")
    j = np.arange(height, dtype=np.float64)
    return np.cos((j + 0.5 - height / 2) * np.pi / height)


def _weighted_mse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(C,) weighted MSE of each channel of (H, W, C) arrays."""
    w = erp_row_weights(a.shape[0])
    d = a - b
    row_sums = (d * d).sum(axis=1)  # (H, C)
    return (w[:, None] * row_sums).sum(axis=0) / (w.sum() * a.shape[1])


def ws_psnr(ref: ErpImage | np.ndarray, dec: ErpImage | np.ndarray, *, peak: float = 255.0, on: str = "y") -> float:
    """WS-PSNR of an ERP image.

    Args:
        ref: (H, W, 3) RGB (or (H, W[, C]) with ``on="all"``), array or :class:`~omnicodec.types.ErpImage`.
        dec: decoded, same shape.
        peak: the largest possible sample value.
        on: ``"y"``: BT.709 luma; ``"all"``: every channel, pooled into one weighted MSE.

    Returns:
        WS-PSNR in dB (+inf for identical images).
    """
    a, b = _erp_pair(ref, dec, on)
    return psnr_from_mse(float(_weighted_mse(a, b).mean()), peak)


def ws_psnr_per_channel(ref: ErpImage | np.ndarray, dec: ErpImage | np.ndarray, *, peak: float = 255.0) -> np.ndarray:
    """WS-PSNR of each channel separately.

    Args:
        ref: (H, W, C) or (H, W), array or ErpImage.
        dec: decoded, same shape.
        peak: the largest possible sample value.

    Returns:
        (C,) float64 WS-PSNR in dB.
    """
    a, b = _erp_pair(ref, dec, "all")
    return np.array([psnr_from_mse(float(m), peak) for m in _weighted_mse(a, b)])


@functools.lru_cache(maxsize=4)
def sphere_points(n: int = SPHERE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """A Fibonacci lattice of n points spread uniformly over the unit sphere.

    Point i: z = 1 - (2 i + 1) / n, latitude = arcsin(z), longitude = 2 pi frac(i / phi) - pi with phi the golden
    ratio. Deterministic; cached.

    Args:
        n: number of points (>= 1).

    Returns:
        (latitude, longitude): two read-only (n,) float64 arrays, radians, latitude in (-pi/2, pi/2), longitude in
        [-pi, pi).
    """
    if n < 1:
        raise InputError(f"the number of sphere points must be positive, got {n}")
    i = np.arange(n, dtype=np.float64)
    lat = np.arcsin(1.0 - (2.0 * i + 1.0) / n)
    frac = np.mod(i * ((math.sqrt(5.0) - 1.0) / 2.0), 1.0)
    lon = 2.0 * np.pi * frac - np.pi
    lat.flags.writeable = False
    lon.flags.writeable = False
    return lat, lon


def _sample(img: np.ndarray, x: np.ndarray, y: np.ndarray, interpolation: str) -> np.ndarray:
    """Sample (H, W, C) at continuous pixel coordinates (x across, y down; pixel i spans [i, i + 1)); (n, C)."""
    h, w = img.shape[:2]
    if interpolation == "nearest":
        i = np.floor(x).astype(np.int64) % w
        j = np.clip(np.floor(y).astype(np.int64), 0, h - 1)
        return img[j, i]
    if interpolation == "bilinear":
        xc, yc = x - 0.5, np.clip(y - 0.5, 0.0, h - 1.0)
        i0, j0 = np.floor(xc).astype(np.int64), np.floor(yc).astype(np.int64)
        fx, fy = (xc - i0)[:, None], (yc - j0)[:, None]
        i0, i1 = i0 % w, (i0 + 1) % w
        j1 = np.minimum(j0 + 1, h - 1)
        top = img[j0, i0] * (1 - fx) + img[j0, i1] * fx
        bottom = img[j1, i0] * (1 - fx) + img[j1, i1] * fx
        return top * (1 - fy) + bottom * fy
    raise InputError(f"interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")


def s_psnr(
    ref: ErpImage | np.ndarray,
    dec: ErpImage | np.ndarray,
    *,
    peak: float = 255.0,
    on: str = "y",
    points: int = SPHERE_POINTS,
    interpolation: str = "nearest",
) -> float:
    """S-PSNR of an ERP image: PSNR over samples at points spread uniformly over the sphere.

    Each lattice point (see :func:`sphere_points`) maps to the continuous ERP position
    x = (longitude + pi) / (2 pi) W, y = (pi / 2 - latitude) / pi H. ``"nearest"`` takes the pixel containing it
    (the S-PSNR-NN variant); ``"bilinear"`` interpolates between the four nearest pixel centres, wrapping around in
    longitude and clamping at the poles. Luma is computed before sampling.

    Args:
        ref: (H, W, 3) RGB (or (H, W[, C]) with ``on="all"``), array or ErpImage.
        dec: decoded, same shape.
        peak: the largest possible sample value.
        on: ``"y"`` (BT.709 luma) or ``"all"`` (every channel pooled).
        points: size of the lattice.
        interpolation: ``"nearest"`` or ``"bilinear"``.

    Returns:
        S-PSNR in dB (+inf when all samples agree).
    """
    a, b = _erp_pair(ref, dec, on)
    h, w = a.shape[:2]
    lat, lon = sphere_points(points)
    x = (lon + np.pi) / (2.0 * np.pi) * w
    y = (np.pi / 2.0 - lat) / np.pi * h
    d = _sample(a, x, y, interpolation) - _sample(b, x, y, interpolation)
    return psnr_from_mse(float(np.mean(d * d)), peak)
