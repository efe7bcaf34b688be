"""Disparity-compensated prediction of a view from decoded views, in exact integer arithmetic.

Convention: a scene point at disparity ``d`` (pixels per view step) seen at pixel ``(y, x)`` of view ``(u, v)``
is at ``(y + d (u' - u), x + d (v' - v))`` in view ``(u', v')``. Disparities are integers in 1/8 pixel
(:data:`DISP_ONE`); sample positions are therefore multiples of 1/8 pixel and bilinear weights are integers, so
the prediction is bit-identical on every machine. Samples outside a view take its nearest edge pixel.

* :func:`upsample_disparity`: a block disparity map to one value per pixel (bilinear between block centres,
  integer).
* :func:`warp_view`: one reference view sampled at the positions a target view's disparity points to, by
  bilinear interpolation or (``sharp``) by the 4-tap eighth-sample filters of HEVC's chroma interpolation, which
  keep more detail (the encoder chooses per view).
* :func:`blend_weights` / :func:`predict_view`: several warped references averaged with integer weights that fall
  with the squared angular distance.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np

__all__ = ["DISP_ONE", "upsample_disparity", "warp_view", "blend_weights", "predict_view"]

DISP_ONE = 8
"""Disparity units per pixel (values are multiples of 1/8 pixel per view step)."""
_WEIGHT_BITS = 6
SHARP_TAPS = np.array([[0, 64, 0, 0], [-2, 58, 10, -2], [-4, 54, 16, -2], [-6, 46, 28, -4], [-4, 36, 36, -4],
                       [-4, 28, 46, -6], [-2, 16, 54, -4], [-2, 10, 58, -2]], dtype=np.int32)
"""Taps (summing to 64) at sample offsets -1, 0, 1, 2 for each eighth-sample phase: HEVC's chroma filters."""
_TAP_COLUMNS = np.ascontiguousarray(SHARP_TAPS.T)  # (4, 8): each offset's tap by phase


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


def warp_view(ref: np.ndarray | PhasePlanes, disparity: np.ndarray, du: int, dv: int,
              sharp: bool = False, out: np.ndarray | None = None) -> np.ndarray:
    """Samples ``ref`` where the target's pixels point: ``(H, W, C)`` int32 in 1/64 units of the input.

    Args:
        ref: ``(H, W, C)`` uint8 reference view (or, with ``sharp``, its :class:`PhasePlanes`).
        disparity: ``(H, W)`` int64 disparity of the target's pixels, 1/8 pixel per view step.
        du, dv: the reference's position minus the target's (view rows, view columns).
        sharp: the 4-tap filters of :data:`SHARP_TAPS` (results clipped to the sample range) instead of bilinear
            weights.
        out: an ``(H, W, C)`` int32 array to write the result to (returned).
    """
    if sharp:
        return _warp_sharp(ref, disparity, du, dv, out)
    if out is not None:
        out[...] = warp_view(ref, disparity, du, dv)
        return out
    h, w = disparity.shape
    c = ref.shape[2]
    d = disparity.astype(np.int32, copy=False)
    px = np.arange(w, dtype=np.int32)[None, :] * DISP_ONE + d * np.int32(dv)
    fx = (px & 7).astype(np.int16)[..., None]
    ix = px >> 3
    x0, x1 = np.clip(ix, 0, w - 1), np.clip(ix + 1, 0, w - 1)  # edge replication
    flat = ref.reshape(h * w, c)

    def take(index: np.ndarray) -> np.ndarray:  # int16 is enough: 8 * 255 + 7 * 255 < 2**15
        return np.take(flat, index.reshape(-1), axis=0).reshape(h, w, c).astype(np.int16)

    if not du:  # the same view row: horizontal interpolation only
        r0 = np.arange(h, dtype=np.int32)[:, None] * w
        a = take(r0 + x0)
        return 8 * (8 * a + fx * (take(r0 + x1) - a)).astype(np.int32)
    py = np.arange(h, dtype=np.int32)[:, None] * DISP_ONE + d * np.int32(du)
    fy = (py & 7).astype(np.int16)[..., None]
    iy = py >> 3
    r0, r1 = np.clip(iy, 0, h - 1) * w, np.clip(iy + 1, 0, h - 1) * w
    if not dv:
        a = take(r0 + x0)
        return 8 * (8 * a + fy * (take(r1 + x0) - a)).astype(np.int32)
    a = take(r0 + x0)
    top = 8 * a + fx * (take(r0 + x1) - a)
    a = take(r1 + x0)
    bottom = 8 * a + fx * (take(r1 + x1) - a)
    return 8 * top.astype(np.int32) + fy * (bottom - top).astype(np.int32)


class PhasePlanes:
    """A reference view filtered horizontally at the eight eighth-sample phases, for :func:`warp_view`'s ``sharp``
    filters: built once per decoded view and shared by every warp of it.

    ``planes[c, f * n + (y + 3) * (w + 3) + x + 2]`` (int16) is ``sum_k SHARP_TAPS[f, k] * ref[y', x + k - 1, c]``
    for ``x`` in ``-2 .. w`` and ``y`` in ``-3 .. h + 2``, coordinates clipped to the view (edge replication);
    ``n = (h + 6) * (w + 3)``. A row of taps adds at most 80 times 255, so int16 holds it.
    """

    def __init__(self, ref: np.ndarray) -> None:
        h, w, c = ref.shape
        self.shape = (h, w, c)
        pad = np.pad(np.moveaxis(ref, 2, 0), ((0, 0), (3, 3), (3, 3)), mode="edge").astype(np.int16)
        self.n = (h + 6) * (w + 3)
        planes = np.empty((c, 8, h + 6, w + 3), dtype=np.int16)
        for f in range(8):
            taps = SHARP_TAPS[f].astype(np.int16)
            planes[:, f] = taps[0] * pad[:, :, 0 : w + 3]
            for k in range(1, 4):
                if taps[k]:
                    planes[:, f] += taps[k] * pad[:, :, k : k + w + 3]
        self.planes = planes.reshape(c, 8 * self.n)


@functools.lru_cache(maxsize=4)
def _pixel_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Column and row of every pixel in raster order, ``(H W,)`` int32 each (read-only, cached)."""
    x = np.tile(np.arange(w, dtype=np.int32), h)
    y = np.repeat(np.arange(h, dtype=np.int32), w)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def _warp_sharp(ref: np.ndarray | PhasePlanes, disparity: np.ndarray, du: int, dv: int,
                out: np.ndarray | None = None) -> np.ndarray:
    """:func:`warp_view` with the 4-tap filters: the rows of taps from :class:`PhasePlanes`, then the column of
    taps, integers throughout."""
    pp = ref if isinstance(ref, PhasePlanes) else PhasePlanes(ref)
    h, w, c = pp.shape
    d = disparity.astype(np.int32, copy=False).reshape(-1)
    x, y = _pixel_grid(h, w)
    px = x * DISP_ONE + d * np.int32(dv)
    col = (px & 7) * pp.n + np.clip(px >> 3, -2, w) + 2
    stride = w + 3
    if du:
        py = y * DISP_ONE + d * np.int32(du)
        base = col + (np.clip(py >> 3, -2, h) + 2) * stride  # the row of tap 0 (y - 1, padded by 3)
        fy = py & 7
        acc = np.zeros((c, h * w), dtype=np.int32)
        for a in range(4):
            acc += np.take(_TAP_COLUMNS[a], fy) * np.take(pp.planes, base + a * stride, axis=1)
    else:
        acc = np.take(pp.planes, col + (y + 3) * stride, axis=1).astype(np.int32) * 64
    if out is None:
        out = np.empty((h, w, c), dtype=np.int32)
    acc += 32
    acc >>= 6
    np.clip(acc.reshape(c, h, w), 0, 255 * 64, out=np.moveaxis(out, 2, 0))
    return out


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
                 disparity: np.ndarray, net=None, sharp: bool = False,
                 planes: dict[tuple[int, int], PhasePlanes] | None = None) -> np.ndarray:
    """The blended prediction of ``target`` from decoded ``refs`` at ``positions``: ``(H, W, C)`` uint8.

    Args:
        refs: decoded views, ``(H, W, C)`` uint8 each.
        positions: their ``(row, col)``.
        target: the predicted view's ``(row, col)``.
        disparity: ``(H, W)`` int64 target disparity, 1/8 pixel per view step.
        net: a :class:`~.blend_net.BlendNet` giving per-block weights (with two references or more); without it,
            the weights of :func:`blend_weights` everywhere.
        sharp: warp with the 4-tap filters (:func:`warp_view`).
        planes: with ``sharp``, a cache of the references' :class:`PhasePlanes` by position (filled here; the
            caller drops what it no longer needs).
    """
    if sharp and planes is not None:
        for i, pos in enumerate(positions):
            if pos not in planes:
                planes[pos] = PhasePlanes(refs[i])
        refs = [planes[pos] for pos in positions]
    base = blend_weights(target, positions)
    offsets = [(p[0] - target[0], p[1] - target[1]) for p in positions]
    shift = _WEIGHT_BITS + 6
    if net is None or len(refs) < 2:
        acc = np.zeros(refs[0].shape, dtype=np.int64)
        for ref, (du, dv), wt in zip(refs, offsets, base, strict=True):
            if wt:
                acc += wt * warp_view(ref, disparity, du, dv, sharp)
        return ((acc + (1 << (shift - 1))) >> shift).astype(np.uint8)
    from .blend_net import BLOCK, block_features

    warps = np.empty((len(refs),) + disparity.shape + (refs[0].shape[2],), dtype=np.int32)
    for i, (ref, (du, dv)) in enumerate(zip(refs, offsets, strict=True)):
        warp_view(ref, disparity, du, dv, sharp, out=warps[i])
    weights = net.exact(block_features(warps, base, disparity, offsets), np.ones(len(refs), dtype=bool))
    h, w = disparity.shape
    per_pixel = np.repeat(np.repeat(weights.astype(np.int32), BLOCK, axis=1), BLOCK, axis=2)[:, :h, :w, None]
    acc = (per_pixel * warps).sum(axis=0, dtype=np.int64)
    return ((acc + (1 << (shift - 1))) >> shift).astype(np.uint8)
