"""Exact round trip of the octree codec on every point cloud in ../shared/data.

LiDAR and scans in metres are coded on a 1 mm grid, voxelised clouds on their integer grid. Exact means: the same
number of points, every point on the same grid voxel, every attribute value bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

import omnicodec
from omnicodec.pointcloud.compare import same_on_grid
from tests.conftest import SHARED_DATA

_FILES = sorted(
    p.relative_to(SHARED_DATA).as_posix()
    for pattern in ("pointcloud/**/*.ply", "pointcloud/**/*.pcd", "pointcloud/**/*.bin", "reference/**/*.ply")
    for p in (SHARED_DATA.glob(pattern) if SHARED_DATA.is_dir() else [])
)


def _step(cloud) -> float:
    pos = cloud.positions
    integer = pos.dtype.kind in "iu" or np.array_equal(pos, np.round(pos))
    return 1.0 if integer else 0.001


@pytest.mark.parametrize("codec", ["octree", "learned"])
@pytest.mark.parametrize("name", _FILES or ["<no data>"])
def test_exact_round_trip_on_real_data(shared_data, name, codec):
    cloud = omnicodec.read(shared_data / name)
    step = _step(cloud)
    stream = omnicodec.compress(cloud, grid_step=step, codec=codec)
    out = omnicodec.decompress(stream)
    assert same_on_grid(cloud, out, step), name
    assert out.positions.dtype == cloud.positions.dtype
    if step == 1.0:
        assert np.array_equal(np.unique(out.positions, axis=0), np.unique(cloud.positions, axis=0))
