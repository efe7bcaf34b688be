"""Rectilinear (perspective) viewports of an ERP image.

A viewport is what a pinhole camera at the centre of the sphere sees: ``yaw`` and ``pitch`` give the longitude and
latitude of the view centre, ``roll`` turns the camera about its viewing axis (conventions in :mod:`.projection`),
``fov_deg`` is the horizontal field of view; pixels are square, so the vertical field of view is
2 atan(tan(fov / 2) h / w). The sampling grid is computed once (:func:`viewport_grid`) and can be applied to any
number of images of the same size (:func:`~omnicodec.omni.sampling.sample_erp`); :func:`erp_to_viewport` does both.

Viewport pixel (column i, row j) of an (h, w) view looks along the camera direction ``forward + a right + b up``
with a = (2 (i + 0.5) / w - 1) tan(fov / 2) and b = (1 - 2 (j + 0.5) / h) tan(fov / 2) h / w: row 0 is the top of
the view, column 0 its left.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from .projection import check_erp_size, rotation_matrix, xyz_to_pixel_fast
from .sampling import as_hwc, check_interpolation, sample_erp

__all__ = ["viewport_directions", "viewport_grid", "erp_to_viewport", "default_viewport_size"]


def _check_size(size) -> tuple[int, int]:
    try:
        h, w = (int(s) for s in size)
    except (TypeError, ValueError):
        raise InputError(f"viewport size must be (height, width), got {size!r}") from None
    if h < 1 or w < 1:
        raise InputError(f"viewport size must be positive, got {h}x{w}")
    return h, w


def default_viewport_size(width: int, fov_deg: float = 90.0) -> tuple[int, int]:
    """A square viewport size with about the ERP's resolution at the view centre: side round(W fov / 360), >= 1."""
    side = max(1, round(width * float(fov_deg) / 360.0))
    return side, side


def viewport_directions(
    yaw: float, pitch: float, roll: float = 0.0, fov_deg: float = 90.0, size: tuple[int, int] = (512, 512)
) -> np.ndarray:
    """World directions of the pixel centres of a viewport.

    Args:
        yaw: longitude of the view centre, degrees.
        pitch: latitude of the view centre, degrees (+-90 look at the poles).
        roll: turn about the viewing axis, degrees (positive: the scene appears turned counter-clockwise).
        fov_deg: horizontal field of view, degrees, in (0, 180).
        size: (h, w) of the viewport, pixels.

    Returns:
        (h, w, 3) float64 directions (not normalised; the centre ray has length 1).
    """
    h, w = _check_size(size)
    fov = float(fov_deg)
    if not 0.0 < fov < 180.0:
        raise InputError(f"the field of view must be in (0, 180) degrees, got {fov_deg}")
    half = 1.0 if fov == 90.0 else math.tan(math.radians(fov) / 2.0)  # exact for cube faces
    a = ((np.arange(w) + 0.5) * (2.0 / w) - 1.0) * half
    b = (1.0 - (np.arange(h) + 0.5) * (2.0 / h)) * (half * h / w)
    rot = rotation_matrix(yaw, pitch, roll)
    f, r, u = rot[:, 0], rot[:, 1], rot[:, 2]
    return f + a[None, :, None] * r + b[:, None, None] * u


def viewport_grid(
    erp_size: tuple[int, int],
    yaw: float,
    pitch: float,
    roll: float = 0.0,
    fov_deg: float = 90.0,
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    """The ERP sampling grid of a viewport, to use with :func:`~omnicodec.omni.sampling.sample_erp`.

    Args:
        erp_size: (H, W) of the ERP images to sample.
        yaw: longitude of the view centre, degrees.
        pitch: latitude of the view centre, degrees.
        roll: turn about the viewing axis, degrees.
        fov_deg: horizontal field of view, degrees, in (0, 180).
        size: (h, w) of the viewport; default :func:`default_viewport_size` (square, about the ERP's resolution).

    Returns:
        (h, w, 2) float64 ERP continuous pixel coordinates (x in [0, W], y in [0, H]).
    """
    hh, ww = check_erp_size(*erp_size)
    size = default_viewport_size(ww, fov_deg) if size is None else size
    x, y = xyz_to_pixel_fast(viewport_directions(yaw, pitch, roll, fov_deg, size), hh, ww)
    return np.stack([x, y], axis=-1)


def erp_to_viewport(
    pixels: np.ndarray,
    yaw: float,
    pitch: float,
    roll: float = 0.0,
    fov_deg: float = 90.0,
    size: tuple[int, int] | None = None,
    interpolation: str = "bilinear",
) -> np.ndarray:
    """Render a rectilinear perspective view of an ERP image.

    Longitude wraps around the 0/360 degree seam; latitude is clamped at the poles.

    Args:
        pixels: (H, W, C) or (H, W) ERP image, any real or integer dtype.
        yaw: longitude of the view centre, degrees (0: the image centre, 180: the seam).
        pitch: latitude of the view centre, degrees.
        roll: turn about the viewing axis, degrees (positive: the scene appears turned counter-clockwise).
        fov_deg: horizontal field of view, degrees, in (0, 180).
        size: (h, w) of the view; default square with side round(W fov / 360).
        interpolation: ``"bilinear"``, ``"bicubic"`` or ``"nearest"``.

    Returns:
        (h, w, C) (or (h, w)) view with the dtype of ``pixels`` (integers rounded and clipped).
    """
    check_interpolation(interpolation)
    p, _ = as_hwc(pixels)
    grid = viewport_grid(p.shape[:2], yaw, pitch, roll, fov_deg, size)
    return sample_erp(pixels, grid, interpolation)
