"""Surface reconstruction of coarse cells: the decoder rebuilds full-resolution points on planes fitted through
the decoded cells.

A lossy stream whose grid was coarsened by ``2**shift`` decodes to occupied **cells** of ``S = 2**shift`` voxels a
side. One point at each cell's centre leaves points up to ``S/2`` voxels off the surface, and a point-to-point
error that grows with ``S**2``. Instead, for every decoded cell:

1. **Normal.** The cell's occupied neighbours (its 3 x 3 x 3 block of cells) give a scatter matrix, in exact
   integers (offsets in ``{-1, 0, 1}``); the normal is the candidate direction of :data:`NORMALS` (the 145
   primitive integer vectors with components in ``-3..3``, one of each pair ``+-n``) along which the neighbours
   spread least, ``argmin n^T C n / |n|^2``.
2. **Plane.** ``n . x = d`` through the centroid of the neighbours' cell centres (``x`` in voxel units).
3. **Voxels.** The cell's voxels whose centres lie within the plane's digital thickness, ``|n . x - d| <= max|n_i|
   / 2`` (a naive digital plane: one voxel thick, without holes), become the decoded points; a cell none of whose
   voxels qualifies keeps its voxel closest to the plane, so every decoded cell yields at least one point and
   every point lies in a decoded cell. A cell with fewer than :data:`MIN_NEIGHBOURHOOD` occupied cells around it
   (itself included) has no plane: it is the one voxel at its centre (coordinates rounded down).
4. **Density.** A scan sampled more sparsely than its grid (a depth camera's points a few voxels apart) would come
   back far denser than it went in. The encoder then sends a **stride** ``s`` (:func:`choose_stride`: about the
   square root of rebuilt over input points): of each plane only the voxels whose two coordinates across the
   normal's largest component are multiples of ``s`` are kept, about ``1 / s**2`` of them.

Apart from the stride no side information is sent: the rebuilt points are a function of the decoded cells. The
encoder computes the same points, for the attributes it codes on them.

**Exactness.** Normals, neighbour sums and ``n . x`` are integers; ``d`` is one correctly rounded IEEE float64
division added to an exact value, so every machine rebuilds the same points.

Memory: at most :data:`CHUNK_CANDIDATES` voxels are examined at a time.
"""

from __future__ import annotations

from math import gcd

import numpy as np

from .octree import morton_encode

__all__ = ["NORMALS", "fit_normals", "centroid_offsets", "voxelise", "surface_points", "choose_stride", "MAX_SHIFT",
           "MAX_STRIDE", "MIN_NEIGHBOURHOOD"]

MAX_SHIFT = 5
"""Largest cell size (``2**MAX_SHIFT`` voxels a side) the surface reconstruction accepts."""
MAX_STRIDE = 8
"""Largest plane thinning stride (:func:`voxelise`)."""
MIN_NEIGHBOURHOOD = 3
"""Occupied cells (itself included) a cell's 3 x 3 x 3 block needs for a plane; with fewer the cell is one point."""
CHUNK_CANDIDATES = 1 << 21
"""Voxels examined at once (cells of ``8**shift`` voxels each; bounds the memory of :func:`voxelise`)."""


def _normals() -> np.ndarray:
    out = []
    r = range(-3, 4)
    for a in r:
        for b in r:
            for c in r:
                if (a, b, c) == (0, 0, 0) or gcd(gcd(abs(a), abs(b)), abs(c)) != 1:
                    continue
                if [t for t in (a, b, c) if t][0] < 0:  # one of each pair +-n
                    continue
                out.append((a, b, c))
    return np.array(out, dtype=np.int64)


NORMALS = _normals()
"""``(K, 3)`` candidate plane normals (primitive integer vectors, components in ``-3..3``, first non-zero > 0)."""
_PAIRS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
_QUAD = np.stack([NORMALS[:, i] * NORMALS[:, j] * (1 if i == j else 2) for i, j in _PAIRS], axis=1)  # (K, 6)
_NORM2 = (NORMALS**2).sum(axis=1)
_OFFSETS = np.array([(x, y, z) for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1)], dtype=np.int64)
_OFFSET_PAIRS = np.stack([_OFFSETS[:, i] * _OFFSETS[:, j] for i, j in _PAIRS], axis=1)  # (27, 6)


class _Cells:
    """Sorted Morton keys of the cells for neighbour lookups."""

    def __init__(self, cells: np.ndarray) -> None:
        keys = morton_encode(cells) if len(cells) else np.zeros(0, np.int64)
        self.order = np.argsort(keys, kind="stable")
        self.keys = keys[self.order]

    def find(self, coords: np.ndarray) -> np.ndarray:
        """Row of each cell at ``coords`` (``-1`` where there is none)."""
        ok = (coords >= 0).all(axis=1)
        keys = morton_encode(np.maximum(coords, 0))
        pos = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        hit = ok & (self.keys[pos] == keys) if len(self.keys) else np.zeros(len(coords), bool)
        return np.where(hit, self.order[pos], -1)


def fit_normals(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normals of ``(M, 3)`` int64 cells from their occupied 3 x 3 x 3 neighbourhoods.

    Returns:
        ``normals (M, 3)`` int64, ``counts (M,)`` occupied cells in each neighbourhood (itself included) and ``sums
        (M, 3)`` int64 sums of the occupied neighbours' offsets.
    """
    m = len(cells)
    lookup = _Cells(cells)
    pattern = np.zeros(m, np.int64)  # the neighbourhood's occupancy, one bit per offset of _OFFSETS
    for bit, o in enumerate(_OFFSETS):
        hit = lookup.find(cells + o) >= 0 if o.any() else np.ones(m, bool)
        pattern |= hit.astype(np.int64) << bit
    patterns, inverse = np.unique(pattern, return_inverse=True)  # normals depend on the pattern alone
    occupied = (patterns[:, None] >> np.arange(len(_OFFSETS))) & 1  # (U, 27)
    counts = occupied.sum(axis=1)
    s1 = occupied @ _OFFSETS
    s2 = occupied @ _OFFSET_PAIRS
    scatter = counts[:, None] * s2 - np.stack([s1[:, i] * s1[:, j] for i, j in _PAIRS], axis=1)
    spread = (scatter @ _QUAD.T).astype(np.float64) / _NORM2  # exact integers, one rounding each
    inverse = inverse.reshape(-1)
    return NORMALS[np.argmin(spread, axis=1)][inverse], counts[inverse], s1[inverse]


def _centres_dot(cells: np.ndarray, shift: int, normals: np.ndarray) -> np.ndarray:
    """``n . c`` for the cells' centres ``c = p S + (S - 1) / 2`` (exact in float64)."""
    size = 1 << shift
    return ((cells * size) * normals).sum(axis=1).astype(np.float64) + (size - 1) / 2.0 * normals.sum(axis=1)


def centroid_offsets(cells: np.ndarray, shift: int, normals: np.ndarray, counts: np.ndarray,
                     sums: np.ndarray) -> np.ndarray:
    """Offsets ``d`` of the planes through the centroids of the neighbourhoods' cell centres."""
    size = 1 << shift
    return _centres_dot(cells, shift, normals) + (size * (normals * sums).sum(axis=1)) / counts.astype(np.float64)


def voxelise(cells: np.ndarray, shift: int, normals: np.ndarray, offsets: np.ndarray, stride: int = 1) -> np.ndarray:
    """The voxels ``(K, 3)`` int64 (fine coordinates) of each cell that lie on its plane ``n . x = d`` (within
    ``max|n_i| / 2``); a cell with none keeps its voxel closest to the plane. With ``stride > 1`` only the plane's
    voxels whose two coordinates across the normal's largest component are multiples of ``stride`` are kept (the
    first of the cell's plane voxels when none is), about ``1 / stride**2`` of them."""
    size = 1 << shift
    grid = np.stack(np.meshgrid(*[np.arange(size)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    chunk = max(1, CHUNK_CANDIDATES >> (3 * shift))
    out = []
    for a in range(0, len(cells), chunk):
        c, n, d = cells[a : a + chunk], normals[a : a + chunk], offsets[a : a + chunk]
        base = (c * size * n).sum(axis=1)  # n . (cell corner), exact
        dist = np.abs((base[:, None] + n @ grid.T).astype(np.float64) - d[:, None])  # exact integers, then d
        half = np.abs(n).max(axis=1) / 2.0
        keep = dist <= half[:, None]
        empty = ~keep.any(axis=1)
        if empty.any():
            keep[np.flatnonzero(empty), np.argmin(dist[empty], axis=1)] = True
        if stride > 1:
            across = np.argmax(np.abs(n), axis=1)  # the axis the plane is least spread along
            on = np.ones(keep.shape, bool)
            for axis in range(3):
                coord = (c[:, axis, None] * size + grid[None, :, axis]) % stride == 0
                on &= np.where((across == axis)[:, None], True, coord)
            thinned = keep & on
            lost = ~thinned.any(axis=1)
            thinned[np.flatnonzero(lost), np.argmax(keep[lost], axis=1)] = True
            keep = thinned
        r, k = np.nonzero(keep)
        out.append(c[r] * size + grid[k])
    return np.concatenate(out) if out else np.zeros((0, 3), np.int64)


def surface_points(cells: np.ndarray, shift: int, stride: int = 1) -> np.ndarray:
    """The full-resolution points ``(K, 3)`` int64 that the decoded ``cells`` (coarse coordinates, ``2**shift``
    voxels a side) rebuild, in Morton order; ``stride`` thins the planes (:func:`voxelise`)."""
    normals, counts, sums = fit_normals(cells)
    fit = counts >= MIN_NEIGHBOURHOOD
    offsets = centroid_offsets(cells[fit], shift, normals[fit], counts[fit], sums[fit])
    lone = (cells[~fit] << shift) + ((1 << shift) - 1) // 2  # no plane to fit: the voxel at the cell's centre
    pts = np.concatenate([voxelise(cells[fit], shift, normals[fit], offsets, stride), lone])
    return pts[np.argsort(morton_encode(pts), kind="stable")] if len(pts) else pts


def choose_stride(rebuilt: int, points: int) -> int:
    """The thinning stride that brings ``rebuilt`` plane points near ``points`` (the input's count):
    ``round(sqrt(rebuilt / points))`` within ``1 .. MAX_STRIDE``."""
    if points <= 0 or rebuilt <= points:
        return 1
    return int(min(MAX_STRIDE, max(1, round(float(np.sqrt(rebuilt / points))))))
