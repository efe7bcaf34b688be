"""Disparity of a light field's key view: estimated by the encoder (plane sweep), sent as a coded block map.

Disparity is in pixels per view step with the sign convention of :mod:`.warp`: the point at ``(y, x)`` of view
``(u, v)`` is at ``(y + d (u' - u), x + d (v' - v))`` in view ``(u', v')``. The map holds one value per
``block x block`` pixels of the key view, as integers in 1/8 pixel (:data:`~.warp.DISP_ONE`); the decoder upsamples
it bilinearly (:func:`~.warp.upsample_disparity`) and uses it for every view.

* :func:`estimate_block_disparity`: a plane sweep over candidate disparities, each candidate scored per block by the
  absolute luma difference between the key view and a few views around it warped back onto it (the same integer
  warp the decoder uses), coarse to fine; a 3 x 3 median keeps the map smooth (cheap to code, few outliers).
* :func:`encode_disparity` / :func:`decode_disparity`: differences (along the first row, then down the columns)
  under one discretised-Gaussian table whose scale the encoder picks.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from ..entropy import Decoder, Encoder, decode_indexed, encode_indexed
from ..entropy.scale_table import NUM_SCALES, load_scale_tables
from ..errors import CorruptStreamError
from .warp import DISP_ONE, upsample_disparity, warp_view

__all__ = ["estimate_block_disparity", "encode_disparity", "decode_disparity", "MAX_DISPARITY", "sweep_views"]

MAX_DISPARITY = 64 * DISP_ONE
"""Largest ``|disparity|`` a stream may hold (64 pixels per view step, in 1/8 pixel)."""


def _luma(img: np.ndarray) -> np.ndarray:
    p = img.astype(np.int64)
    return (p[..., 0] + 2 * p[..., 1] + p[..., 2])[..., None]


def sweep_views(u: int, v: int, key: tuple[int, int]) -> list[tuple[int, int]]:
    """The views the sweep compares with the key view: up to two steps away along rows, columns and diagonals."""
    out = []
    for a in (2, 1):
        for du, dv in ((-a, 0), (a, 0), (0, -a), (0, a), (-a, -a), (a, a), (-a, a), (a, -a)):
            r, c = key[0] + du, key[1] + dv
            if 0 <= r < u and 0 <= c < v and (r, c) not in out:
                out.append((r, c))
        if len(out) >= 4:
            break
    return out


def _block_cost(key_luma: np.ndarray, others: list[tuple[np.ndarray, int, int]], disparity: np.ndarray,
                block: int) -> np.ndarray:
    h, w = disparity.shape
    cost = np.zeros((h, w), dtype=np.int64)
    for luma, du, dv in others:
        cost += np.abs((warp_view(luma, disparity, du, dv)[..., 0] >> 6) - key_luma[..., 0])
    bh, bw = -(-h // block), -(-w // block)
    padded = np.pad(cost, ((0, bh * block - h), (0, bw * block - w)))
    return padded.reshape(bh, block, bw, block).sum(axis=(1, 3))


def estimate_block_disparity(views: np.ndarray, key: tuple[int, int], block: int = 16,
                             max_disparity: float = 4.0) -> np.ndarray:
    """Block disparity of the key view, ``(ceil(H/block), ceil(W/block))`` int64 in 1/8 pixel per view step.

    Args:
        views: ``(U, V, H, W, 3)`` uint8 original views.
        key: the key view's ``(row, col)``.
        block: pixels per block side.
        max_disparity: the sweep's range, ``+-`` pixels per view step.
    """
    u, v, h, w, _ = views.shape
    bh, bw = -(-h // block), -(-w // block)
    near = sweep_views(u, v, key)
    if not near:
        return np.zeros((bh, bw), dtype=np.int64)
    key_luma = _luma(views[key])
    others = [(_luma(views[r, c]), r - key[0], c - key[1]) for r, c in near]  # 10-bit luma planes
    limit = int(round(max_disparity * DISP_ONE))
    coarse = np.arange(-limit, limit + 1, DISP_ONE // 2, dtype=np.int64)
    best = np.zeros((bh, bw), dtype=np.int64)
    best_cost = np.full((bh, bw), np.iinfo(np.int64).max)
    for d in coarse:
        c = _block_cost(key_luma, others, np.full((h, w), d, dtype=np.int64), block)
        better = c < best_cost
        best[better], best_cost[better] = d, c[better]
    centre = best.copy()
    for off in range(-DISP_ONE // 2 + 1, DISP_ONE // 2):
        if off == 0:
            continue
        cand = np.clip(centre + off, -limit, limit)
        full = np.repeat(np.repeat(cand, block, axis=0), block, axis=1)[:h, :w]
        c = _block_cost(key_luma, others, full, block)
        better = c < best_cost
        best[better], best_cost[better] = cand[better], c[better]
    return median_filter(best, size=3, mode="nearest").astype(np.int64)


def _differences(q: np.ndarray) -> np.ndarray:
    e = q.copy()
    e[0, 1:] = np.diff(q[0])
    e[1:] = np.diff(q, axis=0)
    return e


def _integrate(e: np.ndarray) -> np.ndarray:
    q = e.copy()
    q[0] = np.cumsum(e[0])
    return np.cumsum(q, axis=0)


def encode_disparity(enc: Encoder, blocks: np.ndarray) -> int:
    """Codes a block map; returns the table (scale index) it chose, which the caller stores in the stream."""
    e = _differences(np.asarray(blocks, dtype=np.int64)).reshape(-1)
    tables = load_scale_tables()
    costs = [tables.log2_prob(e, np.full(e.shape, s)).sum() for s in range(NUM_SCALES)]
    scale = int(np.argmin(costs))
    encode_indexed(enc, e, np.full(e.shape, scale), tables)
    return scale


def decode_disparity(dec: Decoder, shape: tuple[int, int], scale: int) -> np.ndarray:
    """Inverse of :func:`encode_disparity`.

    Raises:
        CorruptStreamError: a bad scale index or disparities beyond :data:`MAX_DISPARITY`.
    """
    if not 0 <= scale < NUM_SCALES:
        raise CorruptStreamError(f"disparity table {scale} out of range")
    n = shape[0] * shape[1]
    e = decode_indexed(dec, np.full(n, scale), load_scale_tables())
    if np.abs(e).max(initial=0) > 2 * MAX_DISPARITY:
        raise CorruptStreamError("disparity difference out of range")
    q = _integrate(e.reshape(shape))
    if np.abs(q).max(initial=0) > MAX_DISPARITY:
        raise CorruptStreamError("disparity out of range")
    return q


def full_disparity(blocks: np.ndarray, block: int, height: int, width: int) -> np.ndarray:
    """``(H, W)`` per-pixel disparity (1/8 pixel) from the block map (see :func:`~.warp.upsample_disparity`)."""
    return upsample_disparity(blocks, block, height, width)
