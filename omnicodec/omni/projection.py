"""Equirectangular (ERP) pixel <-> (longitude, latitude) <-> unit-sphere direction, and view rotations.

Conventions (shared by every module of :mod:`omnicodec.omni` and by :mod:`omnicodec.metrics.sphere`):

* An ERP image is (H, W[, C]); W == 2 H for a full sphere but nothing here requires it.
* **Continuous pixel coordinates** (x, y): x across (columns), y down (rows). Pixel (column i, row j) covers
  [i, i + 1) x [j, j + 1); its centre is (i + 0.5, j + 0.5).
* **Longitude** (degrees) increases eastwards: x = 0 is longitude -180, x = W / 2 (the image centre) longitude 0,
  x = W longitude +180 (the same meridian as x = 0: the seam). lon = 360 x / W - 180.
* **Latitude** (degrees): y = 0 (row 0) is the north pole (+90), y = H the south pole (-90). lat = 90 - 180 y / H.
* **Directions**: right-handed, unit vectors (x, y, z) with +x at (lon 0, lat 0) (the image centre), +y at
  (lon +90, lat 0) (east, a quarter of the width right of the centre), +z at the north pole:
  x = cos(lat) cos(lon), y = cos(lat) sin(lon), z = sin(lat).
* **View angles** (degrees): ``yaw`` is the longitude the camera looks at (0: the image centre, 180: the seam),
  ``pitch`` the latitude it looks at (+90: straight up), ``roll`` a turn of the camera about its viewing axis,
  positive clockwise as the camera sees it (its up vector tilts towards its right), so the scene appears turned
  counter-clockwise in the view. See :func:`rotation_matrix`.

Angles that are multiples of 90 degrees give exact sines and cosines (0, +-1), so cube faces and quarter turns
carry no rounding error.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError

__all__ = [
    "pixel_to_lonlat",
    "lonlat_to_pixel",
    "lonlat_to_xyz",
    "xyz_to_lonlat",
    "pixel_to_xyz",
    "xyz_to_pixel",
    "rotation_matrix",
]

_EXACT = {0.0: (1.0, 0.0), 90.0: (0.0, 1.0), 180.0: (-1.0, 0.0), 270.0: (0.0, -1.0)}


def cos_sin_deg(angle: float) -> tuple[float, float]:
    """(cos, sin) of an angle in degrees, exact for multiples of 90 degrees."""
    exact = _EXACT.get(float(angle) % 360.0)
    if exact is not None:
        return exact
    rad = math.radians(float(angle))
    return math.cos(rad), math.sin(rad)


def check_erp_size(height: int, width: int) -> tuple[int, int]:
    """(height, width) as ints, both positive; raises InputError otherwise."""
    h, w = int(height), int(width)
    if h < 1 or w < 1 or h != height or w != width:
        raise InputError(f"ERP size must be positive integers, got height {height} and width {width}")
    return h, w


def pixel_to_lonlat(x: ArrayLike, y: ArrayLike, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """ERP continuous pixel coordinates to longitude and latitude.

    Args:
        x: (...) column coordinates; the centre of column i is i + 0.5. Any value is accepted (no wrapping).
        y: (...) row coordinates, broadcastable with ``x``; the centre of row j is j + 0.5.
        height: H, rows of the ERP image.
        width: W, columns of the ERP image.

    Returns:
        (lon, lat): float64 arrays of the broadcast shape, degrees; lon = 360 x / W - 180, lat = 90 - 180 y / H.
    """
    h, w = check_erp_size(height, width)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return x * (360.0 / w) - 180.0, 90.0 - y * (180.0 / h)


def lonlat_to_pixel(lon: ArrayLike, lat: ArrayLike, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude to ERP continuous pixel coordinates (inverse of :func:`pixel_to_lonlat`).

    Args:
        lon: (...) longitude, degrees; any value, wrapped into [-180, 180) so that x lies in [0, W).
        lat: (...) latitude, degrees, in [-90, 90] (not clamped).
        height: H.
        width: W.

    Returns:
        (x, y): float64 arrays of the broadcast shape; x in [0, W), y = (90 - lat) H / 180.
    """
    h, w = check_erp_size(height, width)
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    x = np.mod(lon + 180.0, 360.0) * (w / 360.0)
    x = np.where(x >= w, 0.0, x)  # mod can round up to exactly 360 for tiny negative inputs
    return x, (90.0 - lat) * (h / 180.0)


def lonlat_to_xyz(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Longitude and latitude to unit directions.

    Args:
        lon: (...) longitude, degrees.
        lat: (...) latitude, degrees, broadcastable with ``lon``.

    Returns:
        (..., 3) float64 unit vectors (x, y, z) = (cos lat cos lon, cos lat sin lon, sin lat).
    """
    return _lonlat_rad_to_xyz(np.radians(np.asarray(lon, dtype=np.float64)), np.radians(np.asarray(lat, np.float64)))


def xyz_to_lonlat(xyz: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Directions to longitude and latitude (inverse of :func:`lonlat_to_xyz`).

    Args:
        xyz: (..., 3) directions, any non-zero length (they need not be normalised).

    Returns:
        (lon, lat): (...) float64 degrees, lon in [-180, 180], lat in [-90, 90]. At the poles lon is 0 (or +-180).
    """
    lon, lat = _xyz_to_lonlat_rad(np.asarray(xyz, dtype=np.float64))
    return np.degrees(lon), np.degrees(lat)


def pixel_to_xyz(x: ArrayLike, y: ArrayLike, height: int, width: int) -> np.ndarray:
    """ERP continuous pixel coordinates to (..., 3) float64 unit directions."""
    return lonlat_to_xyz(*pixel_to_lonlat(x, y, height, width))


def xyz_to_pixel(xyz: ArrayLike, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(..., 3) directions to ERP continuous pixel coordinates (x in [0, W), y in [0, H]), float64."""
    h, w = check_erp_size(height, width)
    x, y = xyz_to_pixel_fast(np.asarray(xyz, dtype=np.float64), h, w)
    return np.where(x >= w, x - w, x), y


def rotation_matrix(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """The camera rotation for view angles in degrees (see the module docstring).

    The columns are the camera's forward, right and up vectors in world coordinates: a direction with camera
    coordinates (forward, right, up) = (f, r, u) is ``R @ (f, r, u)`` in the world. Yaw turns about +z, then pitch
    about the camera's right axis (positive looks up), then roll about its forward axis. At (0, 0, 0) it is the
    identity: forward +x, right +y (east), up +z.

    Args:
        yaw: longitude of the view centre, degrees.
        pitch: latitude of the view centre, degrees.
        roll: turn about the viewing axis, degrees, positive clockwise as the camera sees it.

    Returns:
        (3, 3) float64 orthonormal matrix with determinant +1.
    """
    cy, sy = cos_sin_deg(yaw)
    cp, sp = cos_sin_deg(pitch)
    cr, sr = cos_sin_deg(roll)
    forward = np.array([cy, sy, 0.0])
    right = np.array([-sy, cy, 0.0])
    up = np.array([0.0, 0.0, 1.0])
    forward, up = cp * forward + sp * up, cp * up - sp * forward
    up, right = cr * up + sr * right, cr * right - sr * up
    return np.stack([forward, right, up], axis=1)


# Radian helpers for the samplers (no validation, float64 in and out).


def _lonlat_rad_to_xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    c = np.cos(lat)
    return np.stack(np.broadcast_arrays(c * np.cos(lon), c * np.sin(lon), np.sin(lat)), axis=-1)


def _xyz_to_lonlat_rad(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if xyz.shape[-1:] != (3,):
        raise InputError(f"directions must have shape (..., 3), got {xyz.shape}")
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    return np.arctan2(y, x), np.arctan2(z, np.hypot(x, y))


def xyz_to_pixel_fast(xyz: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(..., 3) float64 directions to ERP pixel coordinates, x in [0, W] (W at lon +180), y in [0, H]; no checks."""
    lon, lat = _xyz_to_lonlat_rad(xyz)
    return (lon + np.pi) * (width / (2.0 * np.pi)), (np.pi / 2.0 - lat) * (height / np.pi)
