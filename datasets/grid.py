"""Integer grids for training samples: voxelisation, Morton-sorted unique coordinates, rotations, crops.

Every sample is an (M, 3) int32 array of non-negative voxel indices, unique, sorted by Morton key (the order of
:mod:`omnicodec.pointcloud.octree`: children of one parent are adjacent, parents in key order).
"""

from __future__ import annotations

import numpy as np

from omnicodec.pointcloud.octree import morton_decode, morton_encode

__all__ = [
    "unique_int",
    "sort_unique",
    "voxelize_bbox",
    "quantize_metric",
    "random_rotation",
    "cube_crop",
    "bit_depth",
]


def unique_int(values: np.ndarray) -> np.ndarray:
    """Sorted unique values of a 1-D integer array (sort and mask: several times faster than ``np.unique``'s
    hashing path in numpy 2 on millions of keys)."""
    s = np.sort(np.asarray(values).ravel())
    if len(s) < 2:
        return s
    return s[np.r_[True, s[1:] != s[:-1]]]


def sort_unique(coords: np.ndarray) -> np.ndarray:
    """Unique voxels in Morton order.

    Args:
        coords: (N, 3) non-negative integers below 2**21.

    Returns:
        (M, 3) int32, unique rows sorted by Morton key.
    """
    c = np.asarray(coords)
    if len(c) == 0:
        return np.empty((0, 3), np.int32)
    if c.min() < 0:
        raise ValueError("coordinates must be non-negative")
    keys = unique_int(morton_encode(c.astype(np.int64)))
    return morton_decode(keys).astype(np.int32)


def voxelize_bbox(positions: np.ndarray, bits: int = 10) -> np.ndarray:
    """Voxelise real positions over their bounding box on a ``bits``-bit grid.

    The positions minus the box minimum are scaled so the longest side spans ``2**bits - 1`` voxels, rounded, and
    duplicates are merged.

    Args:
        positions: (N, 3) float positions (any unit); non-finite rows are dropped.
        bits: grid depth.

    Returns:
        (M, 3) int32 unique Morton-sorted indices in ``[0, 2**bits)``.
    """
    p = np.asarray(positions, np.float64)
    p = p[np.isfinite(p).all(axis=1)]
    if len(p) == 0:
        return np.empty((0, 3), np.int32)
    lo = p.min(axis=0)
    extent = float((p.max(axis=0) - lo).max())
    scale = ((1 << bits) - 1) / extent if extent > 0 else 0.0
    q = np.rint((p - lo) * scale).astype(np.int64)
    return sort_unique(np.clip(q, 0, (1 << bits) - 1))


def quantize_metric(positions: np.ndarray, step: float = 0.001) -> tuple[np.ndarray, np.ndarray]:
    """Put metric positions on a fixed grid (LiDAR: ``round(xyz / 0.001)`` = millimetres), duplicates removed.

    Args:
        positions: (N, 3) float positions in metres; non-finite rows are dropped.
        step: voxel edge in metres.

    Returns:
        (M, 3) int32 unique Morton-sorted non-negative indices, and the (3,) int64 origin (in voxels) subtracted
        from the rounded positions, so ``position ~= (index + origin) * step``.
    """
    p = np.asarray(positions, np.float64)
    p = p[np.isfinite(p).all(axis=1)]
    if len(p) == 0:
        return np.empty((0, 3), np.int32), np.zeros(3, np.int64)
    q = np.rint(p / step).astype(np.int64)
    origin = q.min(axis=0)
    return sort_unique(q - origin), origin


def bit_depth(coords: np.ndarray) -> int:
    """Smallest grid depth (bits per axis, at least 1) holding every coordinate."""
    top = int(np.max(coords)) if len(coords) else 0
    return max(1, top.bit_length())


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rotation matrix (3, 3), from a normalised Gaussian quaternion."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def cube_crop(coords: np.ndarray, center: np.ndarray, size: int) -> np.ndarray:
    """Boolean mask of the voxels inside the axis-aligned cube ``[center - size/2, center + size/2)``.

    Args:
        coords: (N, 3) integer voxel indices.
        center: (3,) cube centre, in voxels.
        size: cube edge, in voxels.

    Returns:
        (N,) bool mask.
    """
    lo = np.asarray(center, np.int64) - size // 2
    c = np.asarray(coords)
    return np.all((c >= lo) & (c < lo + size), axis=1)
