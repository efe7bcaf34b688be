"""Sampling images at continuous pixel coordinates: nearest, bilinear and bicubic, in blocks.

Coordinates are continuous pixel coordinates (the centre of pixel i is i + 0.5, see :mod:`.projection`). Rows are
clamped to the image (edge pixels repeat: "clamping at the poles" for ERP images); columns either wrap around (ERP
longitude, so the 0/360 degree seam is seamless) or are clamped (cube faces).

* ``"nearest"``: the pixel containing the point.
* ``"bilinear"``: the 2 x 2 pixel centres around the point.
* ``"bicubic"``: the 4 x 4 pixel centres around the point, Keys' cubic convolution kernel with a = -0.5
  (interpolating: it reproduces the samples at pixel centres, and quadratics exactly). It can overshoot.

Interpolated values are combined as ``v0 + sum_k w_k (v_k - v0)`` (v0 the tap at the point's own cell, the weights
summing to 1), so a constant image gives that constant exactly with every method. The arithmetic is float64 for
float64 images and float32 otherwise; the result has the input's dtype: integer images are rounded to nearest and
clipped to the dtype's range (no wrap-around on overshoot), float images are cast.

Work is done in blocks of :data:`BLOCK` output samples, so temporaries stay around ``BLOCK * C * 4`` bytes times a
small factor whatever the size of the image or the output.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["INTERPOLATIONS", "sample_erp", "sample_planes", "BLOCK"]

INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
#: Output samples handled per block.
BLOCK = 1 << 18
_KEYS_A = -0.5


def check_interpolation(interpolation: str) -> str:
    if interpolation not in INTERPOLATIONS:
        raise InputError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}, got {interpolation!r}")
    return interpolation


def as_hwc(pixels) -> tuple[np.ndarray, bool]:
    """(H, W, C) view of an (H, W) or (H, W, C) real or integer array, and whether a channel axis was added."""
    p = np.asarray(pixels)
    squeeze = p.ndim == 2
    if squeeze:
        p = p[:, :, None]
    if p.ndim != 3 or p.size == 0:
        raise InputError(f"images must have shape (H, W) or (H, W, C) and not be empty, got {p.shape}")
    if not (np.issubdtype(p.dtype, np.floating) or np.issubdtype(p.dtype, np.integer)):
        raise InputError(f"images must be real or integer arrays, got dtype {p.dtype}")
    return p, squeeze


def _work_dtype(dtype: np.dtype) -> type:
    return np.float64 if dtype == np.float64 else np.float32


def cast_like(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float values to ``dtype``: integers rounded to nearest and clipped to the dtype's range."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = np.clip(np.rint(values), info.min, info.max)
    return values.astype(dtype, copy=False)


def _taps(c: np.ndarray, n: int, interpolation: str, wrap: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Indices along one axis (the point's own cell first) and the weights of the other taps."""
    cc = c - 0.5
    i0 = np.floor(cc)
    t = cc - i0
    i0 = i0.astype(np.intp)
    if interpolation == "bilinear":
        offsets, weights = (0, 1), [t]
    else:
        a, s = _KEYS_A, 1.0 - t
        offsets = (0, -1, 1, 2)
        weights = [a * t * s * s, ((a + 2.0) * s - (a + 3.0)) * s * s + 1.0, a * s * t * t]
    idx = [np.mod(i0 + o, n) if wrap else np.clip(i0 + o, 0, n - 1) for o in offsets]
    return idx, weights


def _combine(values: list[np.ndarray], weights: list[np.ndarray]) -> np.ndarray:
    out = values[0].copy()
    for v, w in zip(values[1:], weights, strict=True):
        v -= values[0]
        v *= w
        out += v
    return out


def _sample_block(flat, plane, x, y, h, w, interpolation, wrap_x, work):
    """(n, C) samples of ``flat`` = planes.reshape(P * h * w, C) at one block of coordinates."""
    if interpolation == "nearest":
        i = np.floor(x).astype(np.intp)
        i = np.mod(i, w) if wrap_x else np.clip(i, 0, w - 1)
        j = np.clip(np.floor(y).astype(np.intp), 0, h - 1)
        return np.take(flat, (plane * h + j) * w + i, axis=0)  # np.take: faster than fancy indexing
    cols, wx = _taps(x, w, interpolation, wrap_x)
    rows, wy = _taps(y, h, interpolation, False)
    wx = [c[:, None].astype(work, copy=False) for c in wx]
    wy = [c[:, None].astype(work, copy=False) for c in wy]
    lines = []
    for r in rows:
        base = (plane * h + r) * w
        lines.append(_combine([np.take(flat, base + c, axis=0).astype(work) for c in cols], wx))
    return _combine(lines, wy)


def sample_planes(
    planes: np.ndarray,
    plane: np.ndarray | int,
    x: np.ndarray,
    y: np.ndarray,
    interpolation: str,
    *,
    wrap_x: bool,
    out_dtype: np.dtype | None = None,
) -> np.ndarray:
    """Sample a stack of same-size images at continuous coordinates.

    Args:
        planes: (P, H, W, C) images.
        plane: (n,) int index of the image each point samples (or one int for all).
        x: (n,) float column coordinates (centre of column i at i + 0.5).
        y: (n,) float row coordinates, clamped to the rows.
        interpolation: ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.
        wrap_x: wrap columns around (ERP longitude) instead of clamping them.
        out_dtype: dtype of the result (default: the planes' dtype; see the module docstring for the rounding).

    Returns:
        (n, C) samples.
    """
    check_interpolation(interpolation)
    p, h, w, c = planes.shape
    flat = planes.reshape(p * h * w, c)
    out_dtype = planes.dtype if out_dtype is None else np.dtype(out_dtype)
    work = _work_dtype(planes.dtype)
    n = x.shape[0]
    out = np.empty((n, c), dtype=out_dtype)
    plane = np.asarray(plane, dtype=np.intp)
    for s in range(0, n, BLOCK):
        e = min(n, s + BLOCK)
        pl = plane if plane.ndim == 0 else plane[s:e]
        block = _sample_block(flat, pl, x[s:e], y[s:e], h, w, interpolation, wrap_x, work)
        out[s:e] = block if interpolation == "nearest" else cast_like(block, out_dtype)
    return out


def sample_erp(pixels: np.ndarray, grid: np.ndarray, interpolation: str = "bilinear") -> np.ndarray:
    """Sample an ERP image at a grid of continuous pixel coordinates.

    Longitude wraps around (a point left of column 0 is interpolated with column W - 1), latitude is clamped at the
    poles (rows 0 and H - 1 repeat).

    Args:
        pixels: (H, W, C) or (H, W) ERP image, any real or integer dtype.
        grid: (..., 2) float coordinates (x, y) in ERP pixels (see :mod:`.projection`), e.g. from
            :func:`~omnicodec.omni.viewport.viewport_grid`; any x is accepted.
        interpolation: ``"nearest"``, ``"bilinear"`` or ``"bicubic"`` (see the module docstring).

    Returns:
        (..., C) (or (...) for an (H, W) image) samples with the dtype of ``pixels``; integer results are rounded
        and clipped.
    """
    p, squeeze = as_hwc(pixels)
    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim < 1 or grid.shape[-1] != 2:
        raise InputError(f"the sampling grid must have shape (..., 2), got {grid.shape}")
    pts = grid.reshape(-1, 2)
    out = sample_planes(p[None], 0, pts[:, 0], pts[:, 1], interpolation, wrap_x=True)
    out = out.reshape(*grid.shape[:-1], p.shape[2])
    return out[..., 0] if squeeze else out
