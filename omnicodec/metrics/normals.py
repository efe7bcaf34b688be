"""Normals for the point-to-plane (D2) metric: PCA estimation and pc_error's transfer of A's normals onto B."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..errors import InputError
from ._neighbours import NeighbourSets

__all__ = ["DEFAULT_NORMALS_K", "estimate_normals", "transfer_normals"]

DEFAULT_NORMALS_K = 12
_CHUNK = 200_000


def estimate_normals(
    positions: np.ndarray,
    k: int = DEFAULT_NORMALS_K,
    *,
    orient: str | np.ndarray | None = "centroid",
    workers: int = -1,
) -> np.ndarray:
    """Unit normals by principal component analysis of each point's k nearest neighbours.

    For every point: its ``k`` nearest neighbours, the point itself included (``scipy.spatial.cKDTree``; which of
    several neighbours tied at the k-th distance are used depends on the tree); the covariance of those neighbours
    about their mean, accumulated from offsets to the point in float64; the eigenvector of its smallest eigenvalue
    (``numpy.linalg.eigh``). This is the recipe of the ``A_normals.ply`` files of the project's pc_error reference
    cases (k = 12), which kept the sign that ``eigh`` returns (``orient=None``).

    Orientation matters to D2: pc_error averages A's normals onto B without renormalising, so neighbouring normals of
    opposite signs partly cancel. The sign ``eigh`` returns depends on the LAPACK build, hence the default, which is
    deterministic: normals point away from the centroid of the cloud (a normal exactly perpendicular to that
    direction keeps the sign that makes its largest-magnitude component positive).

    Args:
        positions: (N, 3) real or integer array; coordinates in any unit.
        k: neighbours per point, itself included (capped at N; at least 3).
        orient: ``"centroid"`` (away from the centroid), a (3,) viewpoint the normals face (e.g. a LiDAR sensor at
            the origin), or None (the sign ``eigh`` returns).
        workers: threads for the kd-tree search (-1: all cores).

    Returns:
        (N, 3) float32 unit normals.

    Raises:
        InputError: on a wrong shape, fewer than 3 points, k < 3, non-finite coordinates or an unknown ``orient``.
    """
    pts = np.asarray(positions)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise InputError(f"positions must have shape (N, 3), got {pts.shape}")
    if len(pts) < 3:
        raise InputError(f"normal estimation needs at least 3 points, got {len(pts)}")
    if k < 3:
        raise InputError(f"normal estimation needs k >= 3 neighbours, got {k}")
    pts = pts.astype(np.float64)
    if not np.isfinite(pts).all():
        raise InputError("positions must be finite")
    if isinstance(orient, str):
        if orient != "centroid":
            raise InputError(f"orient must be 'centroid', a (3,) viewpoint or None, got {orient!r}")
        viewpoint = None
    elif orient is not None:
        viewpoint = np.asarray(orient, dtype=np.float64)
        if viewpoint.shape != (3,) or not np.isfinite(viewpoint).all():
            raise InputError(f"an orient viewpoint must be 3 finite numbers, got {orient!r}")
    k = min(k, len(pts))
    tree = cKDTree(pts)
    out = np.empty((len(pts), 3), dtype=np.float32)
    for start in range(0, len(pts), _CHUNK):
        stop = min(start + _CHUNK, len(pts))
        _, idx = tree.query(pts[start:stop], k=k, workers=workers)
        normals = _smallest_eigenvectors(_covariances(pts, pts[start:stop], idx))
        if orient is not None:
            away = pts[start:stop] - pts.mean(axis=0) if viewpoint is None else viewpoint - pts[start:stop]
            normals = _orient(normals, away)
        out[start:stop] = normals
    return out


def _covariances(pts: np.ndarray, centres: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(m, 3, 3) covariance of each neighbourhood, from float64 offsets to its centre point (one pass per column)."""
    m, k = idx.shape
    coords = [np.ascontiguousarray(pts[:, axis]) for axis in range(3)]
    first = np.zeros((3, m))
    second = np.zeros((6, m))
    pairs = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]
    for j in range(k):
        col = idx[:, j]
        d = [coords[axis][col] - centres[:, axis] for axis in range(3)]
        for axis in range(3):
            first[axis] += d[axis]
        for n, (r, c) in enumerate(pairs):
            second[n] += d[r] * d[c]
    mean = first / k
    cov = np.empty((m, 3, 3))
    for n, (r, c) in enumerate(pairs):
        cov[:, r, c] = cov[:, c, r] = second[n] / k - mean[r] * mean[c]
    return cov


def _smallest_eigenvectors(cov: np.ndarray) -> np.ndarray:
    """(m, 3) unit eigenvector of the smallest eigenvalue of each symmetric (3, 3) matrix."""
    _, vecs = np.linalg.eigh(cov)
    return vecs[:, :, 0]


def _orient(normals: np.ndarray, towards: np.ndarray) -> np.ndarray:
    """Flip normals to have a positive dot product with ``towards`` (ties: largest component positive)."""
    dot = np.einsum("mi,mi->m", normals, towards)
    largest = np.take_along_axis(normals, np.abs(normals).argmax(axis=1)[:, None], axis=1)[:, 0]
    flip = (dot < 0) | ((dot == 0) & (largest < 0))
    return np.where(flip[:, None], -normals, normals)


def _segment_sum_f32(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Per-group float32 sums, each added one after the other in the order the rows are given.

    numpy's own reductions sum pairwise, which rounds differently from pc_error's running float32 sums; here the
    k-th members of all groups are added in one vectorised step, k = 0, 1, ...

    Args:
        groups: (M,) int64 group of each row, in [0, n_groups).
        values: (M, 3) float32.
        n_groups: number of groups.

    Returns:
        (n_groups, 3) float32 sums (0 for empty groups).
    """
    acc = np.zeros((n_groups, 3), dtype=np.float32)
    if groups.size == 0:
        return acc
    order = np.argsort(groups, kind="stable")
    groups, values = groups[order], values[order]
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    lengths = np.diff(np.r_[starts, len(groups)])
    rank = np.arange(len(groups)) - np.repeat(starts, lengths)
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(lengths.max() + 1))
    for r in range(lengths.max()):
        sel = by_rank[bounds[r] : bounds[r + 1]]
        acc[groups[sel]] += values[sel]
    return acc


def transfer_normals(normals_a: np.ndarray, n_b: int, sets_ab: NeighbourSets, sets_ba: NeighbourSets) -> np.ndarray:
    """Normals of B for the A->B point-to-plane pass, as pc_error's ``scaleNormals`` (averageNormals=1) makes them.

    Every point a of A, in order, adds its normal (float32 running sum) to each point of B at exactly its nearest
    distance. A point of B chosen by c > 0 points of A gets sum / c. A point of B chosen by none gets the mean of the
    normals of the points of A at exactly its own nearest distance (summed in increasing index of A). Nothing is
    renormalised: averaging unoriented normals shortens them, as in pc_error.

    Args:
        normals_a: (N_A, 3) float32 normals of A (sorted, deduplicated order).
        n_b: number of points of B.
        sets_ab: equal-distance sets of A's points in B.
        sets_ba: equal-distance sets of B's points in A.

    Returns:
        (n_b, 3) float32 normals of B.
    """
    rows_a, cols_b = sets_ab.exact_ties()
    order = np.lexsort((rows_a, cols_b))
    rows_a, cols_b = rows_a[order], cols_b[order]
    sums = _segment_sum_f32(cols_b, normals_a[rows_a], n_b)
    count = np.bincount(cols_b, minlength=n_b)
    chosen = count > 0
    out = np.empty((n_b, 3), dtype=np.float32)
    out[chosen] = sums[chosen] / count[chosen, None].astype(np.float32)
    if not chosen.all():
        rows_b, cols_a = sets_ba.exact_ties()
        keep = ~chosen[rows_b]
        rows_b, cols_a = rows_b[keep], cols_a[keep]
        order = np.lexsort((cols_a, rows_b))
        rows_b, cols_a = rows_b[order], cols_a[order]
        fallback = _segment_sum_f32(rows_b, normals_a[cols_a], n_b)
        fcount = np.bincount(rows_b, minlength=n_b)
        lone = ~chosen
        out[lone] = fallback[lone] / fcount[lone, None].astype(np.float32)
    return out
