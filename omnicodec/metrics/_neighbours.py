"""Nearest-neighbour sets with the tie rules of MPEG pc_error 0.14.2 (internal to the metrics).

For every query point p of a cloud P, searched in a cloud Q, pc_error looks at its k nearest neighbours in Q, k starting
at 10 and growing by 5 (up to 30) while the k-th squared distance is exactly equal to the first. From that list it
takes the *equal-distance set* S(p): the nearest neighbour, then the following ones for as long as each squared
distance differs from the previous one's by less than 1e-8 (a chain, not a comparison with the first).

This module computes S(p) for all points at once. Most points need far fewer than 10 neighbours to settle S(p), so
the search starts with a cheaper probe of ``k_probe`` neighbours and only the rows whose chain reaches the end of the
probe are searched again with 10, then 15, ..., 30. The result is the same as pc_error's: a chain that breaks inside
the probe also breaks inside a 10-neighbour list, and then the 10th distance cannot equal the first.

Squared distances are recomputed the way pc_error forms them (``metric_L2_double``): each coordinate difference in
float32, squared and summed in float64, in the order x, y, z.

When more than 30 points of Q lie at exactly the same distance from p, which 30 of them enter S(p) depends on the
kd-tree (pc_error's nanoflann and scipy's cKDTree may pick different ones); this cannot happen on integer grids for
squared distances below 14.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["NeighbourSets", "build_tree", "equal_distance_sets", "squared_distances_f32"]

K_FIRST = 10
K_STEP = 5
K_MAX = 30
SIMILAR_POINT_THRESHOLD = 1e-8


@dataclass
class NeighbourSets:
    """Equal-distance sets S(p) of every point p of P in Q, flattened.

    Attributes:
        nearest: (N,) int64, index in Q of the nearest neighbour of each p.
        nearest_sq: (N,) float64, its squared distance.
        rows: (M,) int64, the p each member of a set belongs to; a row's members are contiguous, in distance order.
        cols: (M,) int64, index in Q of each member.
        sq: (M,) float64, squared distance of each member.
    """

    nearest: np.ndarray
    nearest_sq: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    sq: np.ndarray

    def exact_ties(self) -> tuple[np.ndarray, np.ndarray]:
        """Members at exactly the nearest distance (pc_error's ``scaleNormals`` rule, no threshold).

        Returns:
            (rows, cols): two (M',) int64 arrays, as in the attributes.
        """
        keep = self.sq == self.nearest_sq[self.rows]
        return self.rows[keep], self.cols[keep]

    def counts(self, n: int) -> np.ndarray:
        """(n,) int64 size of each set."""
        return np.bincount(self.rows, minlength=n)


def build_tree(points32: np.ndarray) -> cKDTree:
    """A kd-tree over float32 points (searched in float64, which holds every float32 exactly).

    Args:
        points32: (N, 3) float32.
    """
    return cKDTree(points32.astype(np.float64), balanced_tree=False, compact_nodes=False)


def squared_distances_f32(p32: np.ndarray, q32: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Squared distances as pc_error forms them: float32 differences, squared and summed in float64.

    Args:
        p32: (m, 3) float32 query points.
        q32: (n, 3) float32 searched points.
        idx: (m, k) integer indices into ``q32``.

    Returns:
        (m, k) float64.
    """
    sq = np.zeros(idx.shape, dtype=np.float64)
    for axis in range(3):  # x, then y, then z; one coordinate at a time keeps the gathers small
        d = (np.ascontiguousarray(q32[:, axis])[idx] - p32[:, axis, None]).astype(np.float64)
        d *= d
        sq += d
    return sq


def _query(tree: cKDTree, q32: np.ndarray, p32: np.ndarray, k: int, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours (k <= len(q32)) with pc_error squared distances, rows sorted by them."""
    _, idx = tree.query(p32.astype(np.float64), k=k, workers=workers)
    idx = np.asarray(idx, dtype=np.int64).reshape(len(p32), k)
    sq = squared_distances_f32(p32, q32, idx)
    if k > 1:
        unsorted = np.flatnonzero((np.diff(sq, axis=1) < 0).any(axis=1))
        if unsorted.size:
            order = np.argsort(sq[unsorted], axis=1, kind="stable")
            sq[unsorted] = np.take_along_axis(sq[unsorted], order, axis=1)
            idx[unsorted] = np.take_along_axis(idx[unsorted], order, axis=1)
    return idx, sq


def _chain(sq: np.ndarray, threshold: float) -> np.ndarray:
    """(m, k) bool: column j is in S(p) when every step up to j changes the squared distance by < threshold."""
    steps = np.abs(np.diff(sq, axis=1)) < threshold
    return np.concatenate([np.ones((len(sq), 1), dtype=bool), np.logical_and.accumulate(steps, axis=1)], axis=1)


def equal_distance_sets(
    tree: cKDTree,
    q32: np.ndarray,
    p32: np.ndarray,
    *,
    k_probe: int = 3,
    threshold: float = SIMILAR_POINT_THRESHOLD,
    workers: int = -1,
) -> NeighbourSets:
    """S(p) for every point p of P, searched in Q, with pc_error's k-growing and tie rules.

    Args:
        tree: kd-tree over ``q32`` (from :func:`build_tree`).
        q32: (n, 3) float32, the searched cloud Q (n >= 1).
        p32: (N, 3) float32, the query cloud P.
        k_probe: neighbours of the first, cheaper search (1..10); the result does not depend on it.
        threshold: the chain threshold on squared distances (pc_error's ``similarPointThreshold``).
        workers: threads for the kd-tree search (-1: all cores).

    Returns:
        The flattened sets.
    """
    n_p, n_q = len(p32), len(q32)
    levels = [min(k_probe, K_FIRST)] + list(range(K_FIRST, K_MAX + 1, K_STEP))
    nearest = np.empty(n_p, dtype=np.int64)
    nearest_sq = np.empty(n_p, dtype=np.float64)
    parts_rows, parts_cols, parts_sq = [], [], []
    pending = np.arange(n_p, dtype=np.int64)
    for level, k in enumerate(levels):
        if pending.size == 0:
            break
        kk = min(k, n_q)
        idx, sq = _query(tree, q32, p32[pending], kk, workers)
        chain = _chain(sq, threshold)
        if kk == n_q or level == len(levels) - 1:
            more = np.zeros(len(pending), dtype=bool)
        elif level == 0 and k < K_FIRST:
            more = chain[:, -1]
        else:
            more = sq[:, -1] == sq[:, 0]
        done = ~more
        rows_local, cols_local = np.nonzero(chain & done[:, None])
        parts_rows.append(pending[rows_local])
        parts_cols.append(idx[rows_local, cols_local])
        parts_sq.append(sq[rows_local, cols_local])
        nearest[pending[done]] = idx[done, 0]
        nearest_sq[pending[done]] = sq[done, 0]
        pending = pending[more]
    return NeighbourSets(
        nearest=nearest,
        nearest_sq=nearest_sq,
        rows=np.concatenate(parts_rows),
        cols=np.concatenate(parts_cols),
        sq=np.concatenate(parts_sq),
    )
