"""Synthetic ERP test images built from the documented geometry."""

from __future__ import annotations

import numpy as np

from omnicodec.omni import lonlat_to_xyz, pixel_to_xyz


def centres(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) continuous coordinates of every pixel centre, each (h, w) float64."""
    y, x = np.mgrid[0:h, 0:w] + 0.5
    return x, y


def direction_image(h: int, w: int) -> np.ndarray:
    """(h, w, 3) float64 ERP whose pixels hold their own unit direction (x, y, z)."""
    return pixel_to_xyz(*centres(h, w), h, w)


def smooth_image(h: int, w: int) -> np.ndarray:
    """(h, w) float64, a smooth function on the sphere (values in about 0..1)."""
    d = direction_image(h, w)
    return smooth(d)


def smooth(d: np.ndarray) -> np.ndarray:
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    return 0.5 + 0.3 * d[..., 0] + 0.2 * d[..., 1] * d[..., 2] + 0.1 * d[..., 2] ** 2


def spot_image(h: int, w: int, lon: float, lat: float, radius_deg: float = 3.0) -> np.ndarray:
    """(h, w, 3) uint8: black, white within ``radius_deg`` of (lon, lat) on the sphere."""
    cosang = direction_image(h, w) @ lonlat_to_xyz(lon, lat)
    img = np.zeros((h, w, 3), dtype=np.uint8)
    img[cosang >= np.cos(np.radians(radius_deg))] = 255
    return img


def centroid(img: np.ndarray) -> tuple[float, float]:
    """(x, y) brightness centroid of an (h, w[, C]) image in pixel-index units (pixel i's centre is i)."""
    v = img.astype(np.float64)
    if v.ndim == 3:
        v = v.mean(axis=2)
    y, x = np.mgrid[0 : v.shape[0], 0 : v.shape[1]]
    return float((x * v).sum() / v.sum()), float((y * v).sum() / v.sum())
