"""Real training scans from the shared data folder, put on training grids, with random augmentations.

* Dense: a scan's positions minus their box minimum, scaled so the longest side spans ``2**bits - 1`` voxels,
  rounded, duplicates merged (:func:`~datasets.grid.voxelize_bbox`). Augmented copies are randomly rotated,
  sometimes cropped to a random box, and sometimes voxelised on a coarser 9- or 8-bit grid, where the sparse
  scans become dense surfaces (the ``bits`` attribute says which).
* LiDAR: ``round(xyz * 1000)``, duplicates removed (:func:`~datasets.grid.quantize_metric`). Augmented copies are
  turned about the vertical axis (any angle), tilted by up to 2 degrees, sometimes mirrored, shifted by a sub-mm
  offset, and sometimes cropped to a forward sector or a range.

Every file goes through :func:`~datasets.paths.check_training_path` before it is opened.
"""

from __future__ import annotations

import os

import numpy as np

import omnicodec

from .grid import quantize_metric, random_rotation, voxelize_bbox
from .paths import check_training_path

__all__ = ["read_training_positions", "dense_from_positions", "lidar_from_positions", "augment_dense",
           "augment_lidar"]


def read_training_positions(path: str | os.PathLike) -> np.ndarray:
    """(N, 3) float64 finite positions of a training file (refuses evaluation-only paths before opening them)."""
    p = np.asarray(omnicodec.read(check_training_path(path)).positions, np.float64)
    return p[np.isfinite(p).all(axis=1)]


def dense_from_positions(positions: np.ndarray, bits: int = 10) -> np.ndarray:
    """(M, 3) int32 Morton-sorted voxels of positions over their bounding box on a ``bits``-bit grid."""
    return voxelize_bbox(positions, bits)


def lidar_from_positions(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 1 mm grid of LiDAR positions (metres): (M, 3) int32 Morton-sorted indices and the (3,) origin."""
    return quantize_metric(positions, 0.001)


def augment_dense(positions: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, int, str]:
    """A random rotation, crop and grid depth of a dense scan.

    Returns:
        (M, 3) int32 voxels, the grid depth, and a short description of the augmentation.
    """
    p = positions - positions.mean(axis=0)
    p = p @ random_rotation(rng).T
    notes = ["rotate"]
    if rng.random() < 0.4:  # crop a random box holding 25-80 % of the extent on each axis
        lo, hi = p.min(axis=0), p.max(axis=0)
        frac = rng.uniform(0.25, 0.8, 3)
        start = lo + rng.random(3) * (1 - frac) * (hi - lo)
        keep = np.all((p >= start) & (p <= start + frac * (hi - lo)), axis=1)
        if keep.sum() >= max(1000, len(p) // 20):
            p = p[keep]
            notes.append("crop")
    bits = int(rng.choice([10, 9, 8], p=[0.6, 0.25, 0.15]))
    return voxelize_bbox(p, bits), bits, "+".join(notes) + f"+bits{bits}"


def augment_lidar(positions: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    """A random yaw, small tilt, optional mirror, sub-mm shift and optional crop of a LiDAR scan (metres).

    Returns:
        (M, 3) int32 indices on the 1 mm grid, the (3,) origin in voxels, and a short description.
    """
    yaw = rng.uniform(-np.pi, np.pi)
    tilt = np.deg2rad(rng.normal(0, 0.7, 2).clip(-2, 2))
    cz, sz = np.cos(yaw), np.sin(yaw)
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1.0]])
    rx = np.array([[1, 0, 0], [0, np.cos(tilt[0]), -np.sin(tilt[0])], [0, np.sin(tilt[0]), np.cos(tilt[0])]])
    ry = np.array([[np.cos(tilt[1]), 0, np.sin(tilt[1])], [0, 1, 0], [-np.sin(tilt[1]), 0, np.cos(tilt[1])]])
    p = positions @ (ry @ rx @ rz).T
    notes = ["yaw", "tilt"]
    if rng.random() < 0.5:
        p[:, 1] = -p[:, 1]
        notes.append("mirror")
    u = rng.random()
    if u < 0.25:  # a forward sector, like a camera-synchronised crop
        half = np.deg2rad(rng.uniform(40, 100))
        az = np.arctan2(p[:, 1], p[:, 0]) - rng.uniform(-np.pi, np.pi)
        p = p[np.abs(np.angle(np.exp(1j * az))) <= half]
        notes.append("sector")
    elif u < 0.45:
        p = p[np.linalg.norm(p[:, :2], axis=1) <= rng.uniform(25, 70)]
        notes.append("range")
    p = p + rng.uniform(0, 0.001, 3)
    coords, origin = quantize_metric(p, 0.001)
    return coords, origin, "+".join(notes)
