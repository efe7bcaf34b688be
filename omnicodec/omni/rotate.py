"""Rotating an ERP panorama on the sphere.

``rotate_erp(pixels, yaw, pitch, roll)`` re-centres the panorama on the view direction (yaw, pitch) with the camera
turned by roll: the output is what a whole-sphere camera with the orientation of
:func:`~omnicodec.omni.projection.rotation_matrix` (yaw, pitch, roll) sees, so output direction d shows the input at
direction R d. The output's centre (longitude 0, latitude 0) shows the input's (yaw, pitch), and
``erp_to_viewport(rotate_erp(p, yaw, pitch, roll), 0, 0, 0, ...)`` is, up to resampling, ``erp_to_viewport(p, yaw,
pitch, roll, ...)``.

A pure yaw (pitch and roll multiples of 360) of k pixel steps (yaw = 360 k / W degrees, k any integer) moves no
sample between pixels: it is exactly ``np.roll(pixels, -k, axis=1)`` and is computed that way, whatever the
interpolation. A rotation that is the identity (all angles multiples of 360) returns a copy.
"""

from __future__ import annotations

import numpy as np

from .projection import rotation_matrix, xyz_to_pixel_fast
from .sampling import BLOCK, as_hwc, check_interpolation, sample_planes

__all__ = ["rotate_erp"]

_PIXEL_STEP_TOLERANCE = 1e-6  # in pixels: a yaw this close to k pixel steps is treated as exactly k steps


def rotate_erp(
    pixels: np.ndarray, yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0, interpolation: str = "bilinear"
) -> np.ndarray:
    """Rotate an ERP image on the sphere (see the module docstring for the meaning of the angles).

    The output is computed in blocks of rows, so memory beyond the output stays a small multiple of one block.

    Args:
        pixels: (H, W, C) or (H, W) ERP image, any real or integer dtype.
        yaw: longitude the output is centred on, degrees.
        pitch: latitude the output is centred on, degrees.
        roll: turn about the new centre, degrees.
        interpolation: ``"bilinear"``, ``"bicubic"`` or ``"nearest"``.

    Returns:
        A new array with the shape and dtype of ``pixels`` (integers rounded and clipped).
    """
    check_interpolation(interpolation)
    p, squeeze = as_hwc(pixels)
    h, w = p.shape[:2]
    if float(pitch) % 360.0 == 0.0 and float(roll) % 360.0 == 0.0:
        k = float(yaw) * w / 360.0
        if abs(k - round(k)) <= _PIXEL_STEP_TOLERANCE:
            return np.roll(np.asarray(pixels), -round(k), axis=1)
    rot = rotation_matrix(yaw, pitch, roll)
    out = np.empty_like(p)
    lon = (np.arange(w) + 0.5) * (2.0 * np.pi / w) - np.pi
    cos_lon, sin_lon = np.cos(lon), np.sin(lon)
    step = max(1, BLOCK // w)
    for r0 in range(0, h, step):
        rows = np.arange(r0, min(h, r0 + step))
        lat = np.pi / 2.0 - (rows + 0.5) * (np.pi / h)
        c = np.cos(lat)[:, None]
        d = np.stack(np.broadcast_arrays(c * cos_lon, c * sin_lon, np.sin(lat)[:, None]), axis=-1)
        x, y = xyz_to_pixel_fast(d.reshape(-1, 3) @ rot.T, h, w)
        out[rows] = sample_planes(p[None], 0, x, y, interpolation, wrap_x=True).reshape(len(rows), w, -1)
    return out[..., 0] if squeeze else out
