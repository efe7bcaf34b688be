"""Disparity-compensated prediction of a view from decoded views, in exact integer arithmetic.

Convention: a scene point at disparity ``d`` (pixels per view step) seen at pixel ``(y, x)`` of view ``(u, v)``
is at ``(y + d (u' - u), x + d (v' - v))`` in view ``(u', v')``. Disparities are integers in 1/8 pixel
(:data:`DISP_ONE`); sample positions are therefore multiples of 1/8 pixel and bilinear weights are integers, so
the prediction is bit-identical on every machine. Samples outside a view take its nearest edge pixel.

* :func:`upsample_disparity`: a block disparity map to one value per pixel (bilinear between block centres,
  integer).
* :func:`warp_view`: one reference view sampled at the positions a target view's disparity points to.
* :func:`blend_weights` / :func:`predict_view`: several warped references averaged with integer weights that fall
  with the squared angular distance.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

__all__ = ["DISP_ONE", "upsample_disparity", "warp_view", "blend_weights", "predict_view"]

DISP_ONE = 8
"""Disparity units per pixel (values are multiples of 1/8 pixel per view step)."""
_WEIGHT_BITS = 6


def upsample_disparity(blocks: np.ndarray, block: int, height: int, width: int) -> np.ndarray:
    """``(Bh, Bw)`` integer block disparities (block centres) -> ``(height, width)`` int64, bilinear, exact.

    Weights are ``2 * block`` ths; results round half up.
    """
    d = np.asarray(blocks, dtype=np.int64)
    bh, bw = d.shape

    def axis(n: int, nb: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # pixel centre p + 1/2 against block centre b * block + block / 2, in units of 1 / (2 block)
        pos = 2 * np.arange(n, dtype=np.int64) + 1 - block  # 2 * (p + 1/2 - block / 2)
        i0 = np.clip(pos // (2 * block), 0, nb - 1)
        frac = np.clip(pos - i0 * 2 * block, 0, 2 * block)
        frac = np.where(i0 >= nb - 1, 0, frac)
        return i0, np.minimum(i0 + 1, nb - 1), frac

    y0, y1, fy = axis(height, bh)
    x0, x1, fx = axis(width, bw)
    den = 2 * block
    top = d[y0][:, x0] * (den - fx) + d[y0][:, x1] * fx
    bot = d[y1][:, x0] * (den - fx) + d[y1][:, x1] * fx
    num = top * (den - fy)[:, None] + bot * fy[:, None]
    return (num + den * den // 2) // (den * den)


def warp_view(ref: np.ndarray, disparity: np.ndarray, du: int, dv: int) -> np.ndarray:
    """Samples ``ref`` where the target's pixels point: ``(H, W, C)`` int64 in 1/64 units of the input.

    Args:
        ref: ``(H, W, C)`` uint8 reference view.
        disparity: ``(H, W)`` int64 disparity of the target's pixels, 1/8 pixel per view step.
        du, dv: the reference's position minus the target's (view rows, view columns).
    """
    h, w = disparity.shape
    py = np.arange(h, dtype=np.int64)[:, None] * DISP_ONE + disparity * du
    px = np.arange(w, dtype=np.int64)[None, :] * DISP_ONE + disparity * dv
    iy, fy = py >> 3, py & 7
    ix, fx = px >> 3, px & 7
    y0, y1 = np.clip(iy, 0, h - 1), np.clip(iy + 1, 0, h - 1)
    x0, x1 = np.clip(ix, 0, w - 1), np.clip(ix + 1, 0, w - 1)
    r = ref.astype(np.int64)
    fy, fx = fy[..., None], fx[..., None]
    return ((8 - fy) * ((8 - fx) * r[y0, x0] + fx * r[y0, x1]) + fy * ((8 - fx) * r[y1, x0] + fx * r[y1, x1]))


def blend_weights(target: tuple[int, int], refs: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Integer weights (summing to 64) proportional to ``1 / squared distance``, exact (rational arithmetic)."""
    inv = [Fraction(1, (r[0] - target[0]) ** 2 + (r[1] - target[1]) ** 2) for r in refs]
    total = sum(inv)
    scaled = [x * (1 << _WEIGHT_BITS) / total for x in inv]
    w = [int(s) for s in scaled]  # floor
    rest = (1 << _WEIGHT_BITS) - sum(w)
    by_remainder = sorted(range(len(w)), key=lambda i: (-(scaled[i] - w[i]), i))
    for i in by_remainder[:rest]:
        w[i] += 1
    return np.array(w, dtype=np.int64)


def predict_view(refs: list[np.ndarray], positions: tuple[tuple[int, int], ...], target: tuple[int, int],
                 disparity: np.ndarray) -> np.ndarray:
    """The blended prediction of ``target`` from decoded ``refs`` at ``positions``: ``(H, W, C)`` uint8.

    Args:
        refs: decoded views, ``(H, W, C)`` uint8 each.
        positions: their ``(row, col)``.
        target: the predicted view's ``(row, col)``.
        disparity: ``(H, W)`` int64 target disparity, 1/8 pixel per view step.
    """
    weights = blend_weights(target, positions)
    acc = np.zeros(refs[0].shape, dtype=np.int64)
    for ref, pos, wt in zip(refs, positions, weights, strict=True):
        if wt:
            acc += wt * warp_view(ref, disparity, pos[0] - target[0], pos[1] - target[1])
    shift = _WEIGHT_BITS + 6
    return ((acc + (1 << (shift - 1))) >> shift).astype(np.uint8)
