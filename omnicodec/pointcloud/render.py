"""Render a point cloud to an RGB image: an orthographic projection from a fixed camera with a z-buffered splat.

Meant for looking at clouds in notebooks and reports (no OpenGL, no matplotlib: numpy only). A camera is given by an
azimuth and an elevation around the cloud, in one of two world frames:

* ``"camera"``: the optical frame of a camera or stereo sensor (x right, y down, z forward; PCL's organized clouds).
  ``view=(0, 0)`` looks along +z as the sensor did, with x to the right and y down in the image.
* ``"z-up"``: a z-up world (LiDAR, x forward, y left, z up). ``view=(0, 0)`` looks horizontally along +y with x to
  the right; ``view=(0, 90)`` looks straight down (a top-down view, x right and y up in the image).

Azimuth turns the camera around the up axis (positive: the camera moves to its right, so the scene turns left),
elevation raises it (positive: it looks down on the cloud). The projection is orthographic and uniformly scaled: the
box ``bounds`` (default: the box of the points) is framed in the image with its aspect ratio kept, so two clouds
rendered with the same ``bounds`` and ``view`` (an original and its decoded version) line up pixel for pixel.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError

__all__ = ["FRAMES", "view_rotation", "render_points"]

# frame -> (up, forward at azimuth 0) in world coordinates
FRAMES: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "camera": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    "z-up": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),
}


def view_rotation(azimuth: float = 0.0, elevation: float = 0.0, *, frame: str = "camera") -> np.ndarray:
    """The (3, 3) world-to-view rotation of a camera at ``azimuth``, ``elevation`` (degrees) in ``frame``.

    Its rows are the camera's right, down and forward directions in world coordinates (a right-handed, orthonormal
    basis: right x down = forward), so ``R @ p`` gives (image x, image y, depth) of a world point ``p``.
    """
    if frame not in FRAMES:
        raise InputError(f"frame must be one of {sorted(FRAMES)}, got {frame!r}")
    if not (math.isfinite(azimuth) and math.isfinite(elevation)) or abs(elevation) > 90.0:
        raise InputError(f"azimuth must be finite and elevation within [-90, 90], got {azimuth!r}, {elevation!r}")
    up, forward0 = (np.asarray(v, dtype=np.float64) for v in FRAMES[frame])
    a, e = math.radians(azimuth), math.radians(elevation)
    right0 = np.cross(forward0, up)
    # azimuth: turn the horizontal forward and right directions around the up axis
    forward_h = math.cos(a) * forward0 - math.sin(a) * right0
    right = math.cos(a) * right0 + math.sin(a) * forward0
    forward = math.cos(e) * forward_h - math.sin(e) * up  # elevation: the camera rises and looks down
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def _rotation(view, frame: str) -> np.ndarray:
    if isinstance(view, np.ndarray) and view.shape == (3, 3):
        r = view.astype(np.float64)
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-6):
            raise InputError("a view matrix must be a rotation (orthonormal rows)")
        return r
    try:
        azimuth, elevation = (float(v) for v in view)
    except (TypeError, ValueError):
        raise InputError(f"view must be (azimuth, elevation) in degrees or a (3, 3) rotation, got {view!r}") from None
    return view_rotation(azimuth, elevation, frame=frame)


def _to_uint8(colours: np.ndarray, n: int) -> np.ndarray:
    c = np.asarray(colours)
    if c.ndim == 1:
        c = np.repeat(c[:, None], 3, axis=1)
    if c.ndim != 2 or c.shape != (n, 3):
        raise InputError(f"colours must have shape ({n}, 3) (or ({n},) for grey), got {c.shape}")
    if c.dtype == np.uint8:
        return c
    if np.issubdtype(c.dtype, np.floating):  # reals in [0, 1]
        return np.clip(np.rint(np.nan_to_num(c.astype(np.float64)) * 255.0), 0, 255).astype(np.uint8)
    if np.issubdtype(c.dtype, np.integer) or c.dtype == np.bool_:  # integers in 0..255
        return np.clip(c.astype(np.int64), 0, 255).astype(np.uint8)
    raise InputError(f"colours must be uint8, integers in 0..255 or reals in [0, 1], got {c.dtype}")


def render_points(
    positions: np.ndarray,
    colours: np.ndarray,
    *,
    view=(0.0, 0.0),
    frame: str = "camera",
    size: int | tuple[int, int] = 512,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    point_size: int = 1,
    background: int | tuple[int, int, int] = 255,
    margin: float = 0.02,
) -> np.ndarray:
    """Render points as an image: orthographic projection, each point a ``point_size`` square, nearest one wins.

    Args:
        positions: (N, 3) real or integer positions; points that are not finite are skipped.
        colours: (N, 3) colours (uint8, integers in 0..255, or reals in [0, 1]), or (N,) grey levels likewise.
        view: (azimuth, elevation) in degrees (see the module docstring), or a (3, 3) world-to-view rotation whose
            rows are the camera's right, down and forward directions.
        frame: ``"camera"`` (x right, y down, z forward) or ``"z-up"``; how ``view`` angles are read.
        size: (height, width) of the image, or the longer side with the other from the framed box's aspect ratio.
        bounds: (lo, hi), the (3,) corners of the world box to frame (points outside it are not drawn); default the
            box of the finite points. Pass the same box to line up renders of different clouds.
        point_size: the side of each point's square, in pixels (>= 1).
        background: the grey level or RGB colour of empty pixels.
        margin: the empty border around the framed box, as a fraction of the image's shorter side.

    Returns:
        (H, W, 3) uint8 image.
    """
    pos = np.asarray(positions)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise InputError(f"positions must have shape (N, 3), got {pos.shape}")
    rgb = _to_uint8(colours, len(pos))
    if int(point_size) != point_size or point_size < 1:
        raise InputError(f"point_size must be a positive integer, got {point_size!r}")
    if not 0.0 <= margin < 0.5:
        raise InputError(f"margin must be in [0, 0.5), got {margin!r}")
    rot = _rotation(view, frame)
    pos = pos.astype(np.float64)
    keep = np.isfinite(pos).all(axis=1)
    if bounds is None:
        if not keep.any():
            raise InputError("no finite point to frame; pass bounds")
        lo, hi = pos[keep].min(axis=0), pos[keep].max(axis=0)
    else:
        lo, hi = (np.asarray(b, dtype=np.float64).reshape(3) for b in bounds)
        if not (np.isfinite(lo).all() and np.isfinite(hi).all() and (hi >= lo).all()):
            raise InputError(f"bounds must be finite (lo, hi) corners with lo <= hi, got {bounds!r}")
        keep &= ((pos >= lo) & (pos <= hi)).all(axis=1)
    pos, rgb = pos[keep], rgb[keep]

    # the framed box's extent in view coordinates (its 8 corners, rotated)
    corners = np.array([[(lo, hi)[i >> k & 1][k] for k in range(3)] for i in range(8)])
    uv_corners = corners @ rot[:2].T
    uv_lo, uv_hi = uv_corners.min(axis=0), uv_corners.max(axis=0)
    extent = np.maximum(uv_hi - uv_lo, 1e-12)  # (width, height) in world units
    if isinstance(size, tuple | list):
        h, w = (int(s) for s in size)
    else:
        side = int(size)
        if extent[0] >= extent[1]:
            w, h = side, max(1, round(side * extent[1] / extent[0]))
        else:
            h, w = side, max(1, round(side * extent[0] / extent[1]))
    if h < 1 or w < 1:
        raise InputError(f"size must be positive, got {size!r}")
    border = margin * min(h, w)
    scale = min((w - 2 * border) / extent[0], (h - 2 * border) / extent[1])
    scale = max(scale, 1e-12)
    offset = (np.array([w, h], dtype=np.float64) - scale * extent) / 2.0

    image = np.empty((h, w, 3), dtype=np.uint8)
    image[...] = np.asarray(background, dtype=np.uint8)
    if not len(pos):
        return image
    view_pos = pos @ rot.T
    px = (view_pos[:, :2] - uv_lo) * scale + offset - (point_size - 1) / 2.0  # top-left of each point's square
    # every point drawn lies in the framed box: one on its far edge (or pushed out by rounding) stays in the image
    base = np.floor(px).astype(np.int64)
    base = np.clip(base, 0, np.maximum(np.array([w, h]) - int(point_size), 0))
    depth = view_pos[:, 2]
    s = int(point_size)
    dx, dy = np.meshgrid(np.arange(s), np.arange(s))
    cols = (base[:, 0:1] + dx.reshape(1, -1)).ravel()
    rows = (base[:, 1:2] + dy.reshape(1, -1)).ravel()
    owner = np.repeat(np.arange(len(pos)), s * s)
    inside = (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
    cols, rows, owner = cols[inside], rows[inside], owner[inside]
    pixel = rows * w + cols
    order = np.lexsort((depth[owner], pixel))  # by pixel, then nearest first
    pixel, owner = pixel[order], owner[order]
    first = np.ones(len(pixel), dtype=bool)
    first[1:] = pixel[1:] != pixel[:-1]
    image.reshape(-1, 3)[pixel[first]] = rgb[owner[first]]
    return image
