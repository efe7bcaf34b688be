"""KITTI and nuScenes LiDAR scans: headerless float32 rows.

* KITTI ``.bin``: N x 4 float32 (x, y, z, intensity), little endian.
* nuScenes ``.pcd.bin``: N x 5 float32 (x, y, z, intensity, ring index).
"""

from __future__ import annotations

import os

import numpy as np

from ..types import PointCloud
from ._util import fail, read_bytes
from .atomic import atomic_open

__all__ = ["read_kitti", "write_kitti", "kitti_columns"]

_ROW = np.dtype("<f4")


def kitti_columns(path: str | os.PathLike) -> int:
    """Values per row a ``.bin`` file holds by its name: 5 for nuScenes ``*.pcd.bin``, else 4 (KITTI)."""
    return 5 if os.fspath(path).lower().endswith(".pcd.bin") else 4


def read_kitti(path: str | os.PathLike, *, columns: int | None = None) -> PointCloud:
    """Read a KITTI (4 columns) or nuScenes (5 columns) ``.bin`` scan.

    Args:
        path: the ``.bin`` file.
        columns: values per row, 4 or 5; default from the name (see :func:`kitti_columns`).

    Returns:
        A PointCloud: positions (N, 3) float32 (metres, sensor frame), ``intensity`` (N,) float32 and, with 5 columns,
        ``ring`` (N,) float32 (the laser index, as stored). ``metadata``: ``format`` ("kitti" or "nuscenes"),
        ``columns``.

    Raises:
        InputError: a missing file, or a size that is not a whole number of rows.
    """
    columns = kitti_columns(path) if columns is None else columns
    if columns not in (4, 5):
        raise fail(path, f"columns must be 4 (KITTI) or 5 (nuScenes), got {columns}")
    buf = read_bytes(path)
    row = columns * _ROW.itemsize
    if len(buf) % row:
        raise fail(path, f"size {len(buf)} bytes is not a multiple of the {row}-byte row ({columns} float32 values)")
    data = np.frombuffer(buf, dtype=_ROW).reshape(-1, columns).astype(np.float32)  # native, owned copy
    attributes = {"intensity": np.ascontiguousarray(data[:, 3])}
    if columns == 5:
        attributes["ring"] = np.ascontiguousarray(data[:, 4])
    metadata = {"format": "kitti" if columns == 4 else "nuscenes", "columns": columns}
    return PointCloud(np.ascontiguousarray(data[:, :3]), attributes, metadata=metadata)


def write_kitti(path: str | os.PathLike, cloud: PointCloud, *, columns: int | None = None) -> None:
    """Write a cloud as KITTI (4 columns) or nuScenes (5 columns) float32 rows, atomically.

    Positions and attributes are cast to float32; a missing ``intensity`` (or ``ring``) is written as zeros. Other
    attributes are not stored.

    Args:
        path: destination ``.bin`` (``.pcd.bin`` for 5 columns by default).
        cloud: positions (N, 3); ``intensity`` (N,) and ``ring`` (N,) when present.
        columns: 4 or 5; default from the name.
    """
    columns = kitti_columns(path) if columns is None else columns
    if columns not in (4, 5):
        raise fail(path, f"columns must be 4 (KITTI) or 5 (nuScenes), got {columns}")
    data = np.zeros((len(cloud), columns), dtype=_ROW)
    data[:, :3] = cloud.positions
    for j, name in ((3, "intensity"), (4, "ring"))[: columns - 3]:
        value = cloud.attributes.get(name)
        if value is not None:
            if value.ndim != 1:
                raise fail(path, f"attribute {name!r} must have shape (N,), got {value.shape}")
            data[:, j] = value
    with atomic_open(path, "wb") as fh:
        fh.write(data.tobytes())
