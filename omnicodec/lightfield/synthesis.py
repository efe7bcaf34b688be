"""View synthesis: light-field views rendered at any angular position from the views that are available.

A light field here is ``views`` (U, V, H, W, 3) uint8 with a ``present`` (U, V) bool mask (absent entries are never
read), for example the decoded views of a field some of whose views were not coded. A position is a pair of floats
``(u, v)`` (view row, view column) inside the grid, ``0 <= u <= U - 1`` and ``0 <= v <= V - 1``. Disparity follows
:mod:`omnicodec.lightfield`: a point at disparity ``d`` (pixels per view step) seen at ``(y, x)`` from position
``(u, v)`` is at ``(y + d (u' - u), x + d (v' - v))`` from ``(u', v')``; larger disparity is nearer.

Method, for each target position:

1. The :data:`NEIGHBOURS` present views nearest to it (all of them when there are fewer; ties by view index).
2. :func:`estimate_disparity_at`: a plane sweep at the target. For each candidate disparity the neighbours' luma
   (BT.709, smoothed by a Gaussian of sigma 1 pixel so that bilinear interpolation, which averages noise away at
   fractional shifts, does not favour fractional candidates) is warped to the target (bilinear, edges replicated)
   and scored by its variance across the views, averaged over a ``block`` x ``block`` box; each pixel takes the best
   candidate (on ties the smallest ``|d|``). Coarse to fine: every multiple of 1/2 pixel in ``[-max_disparity,
   max_disparity]``, then per pixel +-1/4 and +-1/8 around the choice. A 5 x 5 median filter removes outliers.
3. The neighbours' colours warped to the target with that disparity and blended per pixel with weights
   ``1 / distance^2`` (angular distance in view steps) times ``1 / (1 + (e / 10)^2)``, ``e`` the distance (grey
   levels of luma) of the view's sample from the median of the views' samples there (a view that sees an occluder
   or an occluded surface disagrees with the others and is down-weighted), and 1/1000 for samples that fall outside
   the view.

A position on a present view returns that view unchanged. Everything is vectorised numpy over the pixels; cost is
about ``(2 * max_disparity / 0.5 + 7) * NEIGHBOURS`` warps of one luma plane per target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.ndimage import gaussian_filter, median_filter, uniform_filter

from ..errors import InputError
from ..types import LightField

__all__ = ["NEIGHBOURS", "synthesize", "estimate_disparity_at"]

NEIGHBOURS = 4
"""Views used per target position (the nearest present ones)."""
_COARSE_STEP = 0.5
_REFINE_STEPS = (0.25, 0.125)
_MEDIAN_SIZE = 5
_PRESMOOTH = 1.0  # sigma (pixels) of the Gaussian applied to the luma planes of the sweep
_DISAGREEMENT = 10.0  # grey levels of luma at which a view's occlusion weight halves
_OUTSIDE = 1e-3  # weight factor of a sample that falls outside its view
_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def _check_views(views: np.ndarray | LightField, present: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    arr = views.views if isinstance(views, LightField) else np.asarray(views)
    if arr.ndim != 5 or arr.shape[-1] != 3 or arr.size == 0:
        raise InputError(f"views must have shape (U, V, H, W, 3) and not be empty, got {arr.shape}")
    if arr.dtype != np.uint8:
        raise InputError(f"views must be uint8, got dtype {arr.dtype}")
    if present is None:
        mask = np.ones(arr.shape[:2], dtype=bool)
    else:
        mask = np.asarray(present)
        if mask.dtype != bool and not np.issubdtype(mask.dtype, np.integer):
            raise InputError(f"present must be a bool mask, got dtype {mask.dtype}")
        if mask.shape != arr.shape[:2]:
            raise InputError(f"present must have shape (U, V) = {arr.shape[:2]}, got {mask.shape}")
        mask = mask.astype(bool)
    if not mask.any():
        raise InputError("no view is present: at least one view is needed to synthesise others")
    return arr, mask


def _position(p, u: int, v: int, k: int) -> tuple[float, float]:
    try:
        a, b = (float(x) for x in p)
    except (TypeError, ValueError):
        raise InputError(f"position {k} must be a (u, v) pair of numbers, got {p!r}") from None
    if not (math.isfinite(a) and math.isfinite(b) and 0.0 <= a <= u - 1 and 0.0 <= b <= v - 1):
        raise InputError(f"position {k} {p!r} is outside the {u} x {v} view grid (0..{u - 1}, 0..{v - 1})")
    return a, b


def _options(max_disparity: float, block: int) -> tuple[float, int]:
    try:
        limit = float(max_disparity)
    except (TypeError, ValueError):
        raise InputError(f"max_disparity must be a number, got {max_disparity!r}") from None
    if not (math.isfinite(limit) and limit >= 0):
        raise InputError(f"max_disparity must be finite and >= 0, got {max_disparity!r}")
    if isinstance(block, bool) or not isinstance(block, int | np.integer) or block < 1:
        raise InputError(f"block must be a positive integer, got {block!r}")
    return limit, int(block)


def _nearest(present: np.ndarray, target: tuple[float, float]) -> list[tuple[tuple[int, int], float]]:
    """``[((row, col), squared distance), ...]``: the present views nearest to ``target``, nearest first."""
    rows, cols = np.nonzero(present)
    d2 = (rows - target[0]) ** 2 + (cols - target[1]) ** 2
    order = np.lexsort((cols, rows, d2))[:NEIGHBOURS]
    return [((int(rows[i]), int(cols[i])), float(d2[i])) for i in order]


def _warp(img: np.ndarray, disparity: np.ndarray, du: float, dv: float) -> tuple[np.ndarray, np.ndarray]:
    """``img`` (H, W, C) float32 sampled where the target's pixels point, bilinear: ``((H, W, C), inside (H, W))``.

    ``du, dv``: the view's position minus the target's; ``disparity`` (H, W) float32 of the target's pixels.
    """
    h, w = disparity.shape
    py = np.arange(h, dtype=np.float32)[:, None] + disparity * np.float32(du)
    px = np.arange(w, dtype=np.float32)[None, :] + disparity * np.float32(dv)
    inside = (py >= 0) & (py <= h - 1) & (px >= 0) & (px <= w - 1)
    py, px = np.clip(py, 0, h - 1), np.clip(px, 0, w - 1)
    y0, x0 = np.floor(py).astype(np.intp), np.floor(px).astype(np.intp)
    fy, fx = (py - y0)[..., None], (px - x0)[..., None]
    r0, r1 = y0 * w, np.minimum(y0 + 1, h - 1) * w
    x1 = np.minimum(x0 + 1, w - 1)
    flat = img.reshape(h * w, -1)
    top = flat[r0 + x0] + fx * (flat[r0 + x1] - flat[r0 + x0])
    bottom = flat[r1 + x0] + fx * (flat[r1 + x1] - flat[r1 + x0])
    return top + fy * (bottom - top), inside


def _luma(view: np.ndarray) -> np.ndarray:
    return gaussian_filter(view.astype(np.float32) @ _LUMA, _PRESMOOTH, mode="nearest")[..., None]


def _sweep(lumas: list[np.ndarray], offsets: list[tuple[float, float]], limit: float, block: int) -> np.ndarray:
    """Per-pixel disparity (H, W) float32 at the target from the neighbours' luma planes (see the module)."""
    h, w = lumas[0].shape[:2]
    if len(lumas) < 2:
        return np.zeros((h, w), dtype=np.float32)

    def cost(disparity: np.ndarray) -> np.ndarray:
        pairs = zip(lumas, offsets, strict=True)
        warped = np.stack([_warp(lu, disparity, du, dv)[0][..., 0] for lu, (du, dv) in pairs])
        return uniform_filter(warped.var(axis=0), size=block, mode="nearest")

    n = int(math.floor(limit / _COARSE_STEP + 1e-9))
    candidates = sorted((k * _COARSE_STEP for k in range(-n, n + 1)), key=lambda d: (abs(d), d))  # ties: small |d|
    best = np.zeros((h, w), dtype=np.float32)
    best_cost = np.full((h, w), np.inf, dtype=np.float32)
    for d in candidates:
        c = cost(np.full((h, w), d, dtype=np.float32))
        better = c < best_cost
        best[better], best_cost[better] = d, c[better]
    for step in _REFINE_STEPS:
        base = best.copy()
        best_cost = cost(base)
        for off in (-step, step):
            cand = np.clip(base + np.float32(off), -limit, limit)
            c = cost(cand)
            better = c < best_cost
            best[better], best_cost[better] = cand[better], c[better]
    return median_filter(best, size=_MEDIAN_SIZE, mode="nearest")


def _disparity(views: np.ndarray, near: list, target: tuple[float, float], limit: float, block: int) -> np.ndarray:
    lumas = [_luma(views[rc]) for rc, _ in near]
    offsets = [(rc[0] - target[0], rc[1] - target[1]) for rc, _ in near]
    return _sweep(lumas, offsets, limit, block)


def estimate_disparity_at(views: np.ndarray | LightField, present: np.ndarray | None,
                          position: tuple[float, float], *, max_disparity: float = 4.0, block: int = 8) -> np.ndarray:
    """Per-pixel disparity of the scene as seen from ``position``, by a plane sweep over the nearest present views.

    Args:
        views: (U, V, H, W, 3) uint8 views, or a LightField.
        present: (U, V) bool, the views that may be read; None for all.
        position: ``(u, v)`` floats, the target position inside the grid.
        max_disparity: the sweep's range, ``+-`` pixels per view step.
        block: side in pixels of the box over which photo-consistency is averaged.

    Returns:
        (H, W) float32 disparity in pixels per view step, a multiple of 1/8 (zero when only one view is present).

    Raises:
        InputError: bad shapes or dtypes, no view present, a position outside the grid, or bad options.
    """
    arr, mask = _check_views(views, present)
    limit, block = _options(max_disparity, block)
    target = _position(position, arr.shape[0], arr.shape[1], 0)
    return _disparity(arr, _nearest(mask, target), target, limit, block)


def _render(views: np.ndarray, near: list, target: tuple[float, float], limit: float, block: int) -> np.ndarray:
    disparity = _disparity(views, near, target, limit, block)
    samples, weights = [], []
    for (r, c), d2 in near:
        sample, inside = _warp(views[r, c].astype(np.float32), disparity, r - target[0], c - target[1])
        samples.append(sample)
        weights.append(np.where(inside, np.float32(1.0 / d2), np.float32(_OUTSIDE / d2)))
    samples_arr = np.stack(samples)  # (K, H, W, 3)
    luma = samples_arr @ _LUMA
    disagreement = np.abs(luma - np.median(luma, axis=0)) / np.float32(_DISAGREEMENT)
    w = np.stack(weights) / (1.0 + disagreement * disagreement)
    out = (w[..., None] * samples_arr).sum(axis=0) / w.sum(axis=0)[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def synthesize(views: np.ndarray | LightField, present: np.ndarray | None, positions: Sequence[tuple[float, float]],
               *, max_disparity: float = 4.0, block: int = 8) -> np.ndarray:
    """Views rendered at ``positions`` from the present views (see the module for the method).

    Args:
        views: (U, V, H, W, 3) uint8 views, or a LightField; absent entries are ignored.
        present: (U, V) bool, the views that may be read; None for all.
        positions: N ``(u, v)`` float pairs (view row, view column) inside the grid; a position on a present view
            gives that view unchanged.
        max_disparity: the disparity sweep's range, ``+-`` pixels per view step.
        block: side in pixels of the box over which the sweep averages photo-consistency.

    Returns:
        (N, H, W, 3) uint8, one view per position.

    Raises:
        InputError: bad shapes or dtypes, no view present, no position, a position outside the grid, bad options.
    """
    arr, mask = _check_views(views, present)
    limit, block = _options(max_disparity, block)
    if len(positions) == 0:
        raise InputError("no positions to synthesise")
    targets = [_position(p, arr.shape[0], arr.shape[1], k) for k, p in enumerate(positions)]
    out = np.empty((len(targets),) + arr.shape[2:], dtype=np.uint8)
    for k, target in enumerate(targets):
        near = _nearest(mask, target)
        out[k] = arr[near[0][0]] if near[0][1] == 0 else _render(arr, near, target, limit, block)
    return out
