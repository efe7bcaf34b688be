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

The search: one kd-tree per level, over the points up to it (the next level's coarser points), built on a second
thread while the levels before it are searched; the later groups of a level are searched together, and each point
first asks for :data:`FIRST_ASK` candidates, then for all of them only where those leave its choice open
(:func:`_predictors`), which chooses the same predictors.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
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
FIRST_ASK = 12
"""Candidates asked first (see :func:`_predictors`); the format depends on ``CANDIDATES`` and ``CANDIDATES_SPLIT``
only."""
_INDEX_BITS = 28
SPLIT_MIN = 64
"""Levels with more points than this are coded in eight interleaved groups."""
_CHUNK = 1 << 16  # query points handled at once
_THREADED = 4096  # queries of more points than this run on every core
_TREES_AHEAD = 3  # trees built or being built at once: this level's two and the next one
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
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` nearest usable candidates of each query point by (squared distance ``d2``, index): ``(n, k)``
    indices and integer weights (0 where fewer than ``k`` are usable), and the squared distance of the ``k``-th
    (larger than any distance where fewer than ``k`` are usable)."""
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
    return np.ascontiguousarray(np.where(ok, nb, nb[:, :1])), w, d2[:, k - 1]


class _PrefixTrees:
    """kd-trees over prefixes ``order[:size]`` of the coding order (the points of the coarsest levels), each built once.

    A level's first group asks the points before the level (``order[:start]``), its later groups the points up to
    its end (``order[:stop]``), which are the next level's points before it: one tree per level serves both. The
    trees of the next levels are built by ``builder`` (a thread) while the points of the current one are asked.
    """

    def __init__(self, coords: np.ndarray, order: np.ndarray, sizes: list[int], builder: ThreadPoolExecutor) -> None:
        self.coords = coords  # (N, 3) int64
        self.points = coords.astype(np.float64)
        self.order = order
        self.builder = builder
        self.upcoming = sorted(set(sizes))  # the trees the levels will ask for, in the order they will
        self.trees: dict[int, Future] = {}

    def _build(self, size: int) -> cKDTree:
        return cKDTree(self.points[self.order[:size]])

    def advance(self, start: int) -> None:
        """Go to the level that starts at ``start``: drop the trees over fewer points (no later level asks them) and
        have the next ones built."""
        self.trees = {s: t for s, t in self.trees.items() if s >= start}
        self.upcoming = [s for s in self.upcoming if s >= start]
        while self.upcoming and len(self.trees) < _TREES_AHEAD:
            size = self.upcoming.pop(0)
            self.trees.setdefault(size, self.builder.submit(self._build, size))

    def nearest(self, size: int, query: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``min(kk, size)`` nearest points of ``order[:size]`` to the points ``query`` (indices into the cloud):
        ``(n, kk)`` indices and exact integer squared distances. With ``size <= kk`` these are all of them, in order."""
        pool = self.order[:size]
        if size <= kk:
            cand = np.repeat(pool[None, :], len(query), axis=0)
            return cand, ((self.coords[cand] - self.coords[query][:, None, :]) ** 2).sum(axis=2)
        if size not in self.trees:
            self.trees[size] = self.builder.submit(self._build, size)
        workers = -1 if len(query) > _THREADED else 1
        dist, idx = self.trees[size].result().query(self.points[query], k=kk, workers=workers)
        dist, idx = dist.reshape(len(query), kk), idx.reshape(len(query), kk)
        d2 = np.rint(np.square(dist, out=dist), out=dist).astype(np.int64)  # float distances squared: exact < 2**50
        return pool[idx], d2


def _predictors(trees: _PrefixTrees, step_of: np.ndarray, size: int, query: np.ndarray, kk: int, k: int,
                coarser: int) -> tuple[np.ndarray, np.ndarray]:
    """Predictors and weights of the points ``query``: the ``k`` nearest usable ones (coded in an earlier step, by
    ``step_of``) of the ``kk`` nearest points of ``order[:size]``; where none of those is usable, the ``k`` nearest
    of the ``coarser`` points before the level.

    Asking for :data:`FIRST_ASK` < ``kk`` candidates first gives the same choice wherever the ``k``-th chosen one is
    nearer than the farthest candidate: every point nearer than that is among the ``FIRST_ASK`` and among the ``kk``
    nearest, whatever order the kd-tree gives equidistant points. Only the other points are asked for ``kk``.
    """
    if len(query) > _CHUNK:  # in pieces whose arrays stay in the cache
        parts = [_predictors(trees, step_of, size, query[i : i + _CHUNK], kk, k, coarser)
                 for i in range(0, len(query), _CHUNK)]
        return np.concatenate([nb for nb, _ in parts]), np.concatenate([w for _, w in parts])
    if not FIRST_ASK < kk < size:
        return _ask(trees, step_of, size, query, kk, k, coarser)
    cand, d2 = trees.nearest(size, query, FIRST_ASK)
    nb, w, kth = _pick(trees.coords, cand, d2, step_of[cand] < step_of[query][:, None], k)
    again = np.flatnonzero(kth >= d2[:, -1])  # the tree lists candidates by distance: the last is the farthest
    if len(again):
        nb[again], w[again] = _ask(trees, step_of, size, query[again], kk, k, coarser)
    return nb, w


def _ask(trees: _PrefixTrees, step_of: np.ndarray, size: int, query: np.ndarray, kk: int, k: int,
         coarser: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_predictors` from the ``kk`` nearest candidates."""
    cand, d2 = trees.nearest(size, query, kk)
    usable = step_of[cand] < step_of[query][:, None]  # every point of order[:size] has its step by now
    lonely = ~usable.any(axis=1)
    if lonely.any():  # no usable candidate among the proposals: ask the coarser points alone
        extra, extra_d2 = trees.nearest(coarser, query[lonely], k)
        cand[lonely, : extra.shape[1]] = extra
        d2[lonely, : extra.shape[1]] = extra_d2
        usable[lonely, : extra.shape[1]] = True
    nb, w, _ = _pick(trees.coords, cand, d2, usable, k)
    return nb, w


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
    depth = (top - levels).astype(np.uint8)  # 0 for the top level .. top + 1 for the repeated voxels
    order = np.argsort(depth, kind="stable")  # by level, coarse first; index order within a level
    bounds = np.concatenate([[0], np.cumsum(np.bincount(depth, minlength=top + 2))])  # level top - j: bounds[j:j+2]
    starts = [int(b) for b in bounds[1:-1]]  # where the levels below the top start: the sizes of the trees asked
    with ThreadPoolExecutor(max_workers=1) as builder:
        trees = _PrefixTrees(coords, order, [b for b in starts if b > CANDIDATES], builder)
        step_of = np.full(n, -1, dtype=np.int32)
        step_of[order[0]] = 0
        steps: list[LevelStep] = []
        for lev in range(top - 1, -2, -1):
            start, stop = int(bounds[top - lev]), int(bounds[top - lev + 1])
            if stop == start:
                continue
            trees.advance(start)
            query = order[start:stop]
            k = min(neighbours, start)
            if lev < 0 or stop - start <= SPLIT_MIN:
                groups = [query]
            else:  # interleaved groups by the three Morton bits above the level; later groups also use earlier ones
                g = ((keys[query] >> (lev + 1)) & 7).astype(np.uint8)
                sizes = np.bincount(g, minlength=8)
                groups = np.split(query[np.argsort(g, kind="stable")], np.cumsum(sizes[sizes > 0])[:-1])
            for gi, part in enumerate(groups):
                step_of[part] = len(steps) + 1 + gi
            # the first group: the nearest coarser points
            nb, w = _predictors(trees, step_of, start, groups[0], CANDIDATES, k, start)
            steps.append(LevelStep(groups[0], nb, w, lev))
            if len(groups) > 1:  # the later groups, all at once: the nearest points of the level and above
                later = np.concatenate(groups[1:])
                nb, w = _predictors(trees, step_of, stop, later, CANDIDATES_SPLIT, k, start)
                cuts = np.cumsum([len(part) for part in groups[1:-1]])
                for part, nb_g, w_g in zip(groups[1:], np.split(nb, cuts), np.split(w, cuts), strict=True):
                    steps.append(LevelStep(part, nb_g, w_g, lev))
    return 0, steps
