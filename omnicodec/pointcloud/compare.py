"""Checking a decoded cloud against its original on the coding grid."""

from __future__ import annotations

import numpy as np

from ..types import PointCloud

__all__ = ["grid_rows", "same_on_grid"]


def grid_rows(cloud: PointCloud, grid_step: float = 1.0) -> np.ndarray:
    """(N,) byte-string rows of (grid index, every attribute's raw bytes), sorted: a multiset fingerprint.

    Args:
        cloud: the cloud.
        grid_step: voxel edge; positions are divided by it and rounded.
    """
    q = np.rint(cloud.positions.astype(np.float64) / grid_step).astype("<i8")
    parts = [q.reshape(len(q), -1).view(np.uint8).reshape(len(q), -1)]
    for name in sorted(cloud.attributes):
        v = np.ascontiguousarray(cloud.attributes[name].reshape(len(q), -1))
        parts.append(v.view(np.uint8).reshape(len(q), -1))
    rows = np.ascontiguousarray(np.concatenate(parts, axis=1))
    rows = rows.view(np.dtype((np.void, rows.shape[1]))).ravel()
    return np.sort(rows)


def same_on_grid(original: PointCloud, decoded: PointCloud, grid_step: float = 1.0) -> bool:
    """True when both clouds hold the same points on the grid, each with the same attribute values (bit for bit),
    in any order, and the same attribute names and dtypes."""
    if len(original) != len(decoded) or set(original.attributes) != set(decoded.attributes):
        return False
    if any(original.attributes[k].dtype != decoded.attributes[k].dtype for k in original.attributes):
        return False
    return bool(np.array_equal(grid_rows(original, grid_step), grid_rows(decoded, grid_step)))
