"""Levels of detail over a voxelised cloud, and each point's predictors, for the attribute codec.

The points are sorted by Morton key (:mod:`.octree`). A point's **level** is the number of trailing Morton bits
below which it is the first point of its cell: the point is the first of the cell ``key >> b`` for every
``b <= level``. So ``{level >= b}`` is one point per cell of ``key >> b``: a subsample of the cloud whose spacing
doubles every three levels (one axis at a time). The first point overall has the top level; points that repeat a
voxel have level -1.

Attributes are coded **coarse to fine**, one level after the other. A level with more than :data:`SPLIT_MIN`
points is coded in eight interleaved groups (by the three Morton bits above the level), each predicted from the
coarser levels and the groups of its level coded before it, so most points have predictors at distance 1-2 on
every side. One group is one step: one vectorised operation over all its points.

Each point has up to :data:`NEIGHBOURS` predictors: its nearest usable points by squared distance, ties broken by
the lower point index, weighted by ``2**20 (4 d0^2 + 1) // (4 d^2 + 1)`` (``d0``: the nearest one's distance).
All integers, so encoder and decoder agree on every machine. The kd-tree only proposes candidates; the choice
among them is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["LevelStep", "build_levels", "point_levels", "NEIGHBOURS", "CANDIDATES", "WEIGHT_ONE"]

NEIGHBOURS = 6
"""Predictors per point."""
CANDIDATES = 10
"""Nearest coarser points the kd-tree proposes before the exact (distance, index) choice."""
CANDIDATES_SPLIT = 16
"""Nearest points (coarser or of the same level) proposed for the later groups of a level."""
_INDEX_BITS = 28
SPLIT_MIN = 64
"""Levels with more points than this are coded in eight interleaved groups."""
WEIGHT_ONE = 1 << 20
"""Weight of the nearest predictor; one at squared distance d2 weighs ``WEIGHT_ONE (4 d2_0 + 1) // (4 d2 + 1)``."""


@dataclass
class LevelStep:
    """The points coded in one step and their predictors.

    Attributes:
        points: ``(n,)`` int64 indices (into the Morton-sorted cloud) of the points coded in this step.
        neighbours: ``(n, k)`` int64 indices of their predictors (coded in earlier steps); ``k <= NEIGHBOURS``.
        weights: ``(n, k)`` int64 integer weights (0 where a point has fewer than ``k`` predictors).
        level: the level of the points (-1: repeated voxels).
    """

    points: np.ndarray
    neighbours: np.ndarray
    weights: np.ndarray
    level: int


def _bit_length(x: np.ndarray) -> np.ndarray:
    """Bit length of non-negative int64 values, exact for all of them (no float rounding of large values)."""
    x = x.astype(np.uint64)
    hi = (x >> np.uint64(32)).astype(np.float64)
    lo = (x & np.uint64(0xFFFFFFFF)).astype(np.float64)
    bl_hi = np.frexp(hi)[1].astype(np.int64)
    bl_lo = np.frexp(lo)[1].astype(np.int64)
    return np.where(hi > 0, bl_hi + 32, bl_lo)


def point_levels(keys: np.ndarray) -> np.ndarray:
    """``(N,)`` level of each point of a Morton-sorted key array (see the module docstring).

    The first point gets ``max(bit length of the largest key, 0)``; a point repeating the previous voxel gets -1.
    """
    keys = np.asarray(keys, dtype=np.int64)
    n = len(keys)
    levels = np.empty(n, dtype=np.int64)
    if n == 0:
        return levels
    diff = keys[1:] ^ keys[:-1]
    levels[1:] = _bit_length(diff) - 1  # highest differing bit; -1 where equal (a repeated voxel)
    levels[0] = max(int(_bit_length(keys[-1:])[0]), 0)
    return levels


def _pick(coords: np.ndarray, cand: np.ndarray, d2: np.ndarray, usable: np.ndarray, k: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest usable candidates of each query point by (squared distance ``d2``, index): ``(n, k)``
    indices and integer weights (0 where fewer than ``k`` are usable)."""
    if len(coords) < 1 << _INDEX_BITS and (d2.size == 0 or int(d2.max()) < 1 << (62 - _INDEX_BITS)):
        big = 1 << (62 - _INDEX_BITS)
        key = (np.where(usable, d2, big) << _INDEX_BITS) | cand  # by squared distance, then index: one sort
        key = np.sort(key, axis=1)[:, :k]
        nb, d2 = key & ((1 << _INDEX_BITS) - 1), key >> _INDEX_BITS
    else:
        big = np.iinfo(np.int64).max
        d2 = np.where(usable, d2, big)
        order = np.lexsort((cand, d2), axis=1)[:, :k]
        nb = np.take_along_axis(cand, order, axis=1)
        d2 = np.take_along_axis(d2, order, axis=1)
    ok = d2 != big
    near = np.where(ok[:, :1], d2[:, :1], 0)
    w = np.where(ok, WEIGHT_ONE * (4 * near + 1) // (4 * np.where(ok, d2, 0) + 1), 0)  # the nearest weighs WEIGHT_ONE
    return np.ascontiguousarray(np.where(ok, nb, nb[:, :1])), w


def _query(tree: cKDTree, pool: np.ndarray, points: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``kk`` nearest points of ``pool`` (the tree's points) to ``points`` ((n, 3) float64): indices and exact
    integer squared distances (the tree's float distances squared and rounded: exact below 2**50)."""
    dist, idx = tree.query(points, k=kk, workers=-1 if len(points) > 20000 else 1)
    dist, idx = dist.reshape(len(points), kk), idx.reshape(len(points), kk)
    return pool[idx], np.rint(dist * dist).astype(np.int64)


def _candidates(coords: np.ndarray, query: np.ndarray, refs: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``min(kk, len(refs))`` nearest points of ``refs`` to each query point and their squared distances."""
    m = len(refs)
    if m <= kk:
        cand = np.broadcast_to(refs, (len(query), m))
        return cand, ((coords[cand] - coords[query][:, None, :]) ** 2).sum(axis=2)
    return _query(cKDTree(coords[refs].astype(np.float64)), refs, coords[query].astype(np.float64), kk)


def build_levels(coords: np.ndarray, keys: np.ndarray, neighbours: int = NEIGHBOURS) -> tuple[int, list[LevelStep]]:
    """The coding steps of a Morton-sorted cloud.

    Args:
        coords: ``(N, 3)`` int64 voxel coordinates, sorted by Morton key.
        keys: ``(N,)`` their Morton keys (non-decreasing).
        neighbours: predictors per point.

    Returns:
        The index of the first point (coded without predictors) and the steps, coarse to fine, then the repeated
        voxels; every point but the first is in exactly one step. An empty cloud gives ``(-1, [])``.
    """
    coords = np.asarray(coords, dtype=np.int64)
    n = len(coords)
    if n == 0:
        return -1, []
    levels = point_levels(keys)
    top = int(levels[0])
    order = np.argsort(-levels, kind="stable")  # by level, coarse first; index order within a level
    sorted_levels = levels[order]
    bounds = np.r_[np.searchsorted(-sorted_levels, np.arange(-top, 2)), n]  # starts of levels top..-1, then the end
    step_of = np.full(n, -1, dtype=np.int64)
    step_of[order[0]] = 0
    steps: list[LevelStep] = []
    for j, lev in enumerate(range(top - 1, -2, -1)):
        start, stop = int(bounds[j + 1]), int(bounds[j + 2])
        if stop == start:
            continue
        query, refs = order[start:stop], order[:start]
        k = min(neighbours, len(refs))
        if lev < 0 or stop - start <= SPLIT_MIN:
            groups = [query]
        else:  # interleaved groups by the three Morton bits above the level; later groups also use earlier ones
            g = (keys[query] >> (lev + 1)) & 7
            groups = [query[g == v] for v in range(8)]
            groups = [q for q in groups if len(q)]
        for gi, part in enumerate(groups):
            step_of[part] = len(steps) + 1
            if gi == 0:
                cand, d2 = _candidates(coords, part, refs, CANDIDATES)
                usable = np.ones(cand.shape, dtype=bool)
            else:
                if gi == 1:
                    pool = np.concatenate([refs, query])
                    tree = cKDTree(coords[pool].astype(np.float64))
                cand, d2 = _query(tree, pool, coords[part].astype(np.float64), min(CANDIDATES_SPLIT, len(pool)))
                usable = (step_of[cand] >= 0) & (step_of[cand] < step_of[part][:, None])
                lonely = ~usable.any(axis=1)
                if lonely.any():  # no usable candidate among the proposals: ask the coarser points alone
                    extra, extra_d2 = _candidates(coords, part[lonely], refs, k)
                    cand[lonely, : extra.shape[1]] = extra
                    d2[lonely, : extra.shape[1]] = extra_d2
                    usable[lonely, : extra.shape[1]] = True
            nb, w = _pick(coords, cand, d2, usable, k)
            steps.append(LevelStep(part, nb, w, lev))
    return 0, steps
