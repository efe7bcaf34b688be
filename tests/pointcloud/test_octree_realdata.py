"""Exact round trip of the octree codecs on every point cloud in ../shared/data.

LiDAR and scans in metres are coded on a 1 mm grid, voxelised clouds on their integer grid. Exact means: the same
number of points, every point on the same grid voxel, every attribute value bit for bit.

Frames of a sequence after its first (the same sensor, the same scene a moment later) are marked ``slow``: ``make
test`` codes the first frame of each sequence, ``make test-all`` every frame.
"""

from __future__ import annotations

import re

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
_SEQUENCES = (re.compile(r"kitti00/\d+\.bin$"), re.compile(r"pcl_test/frame_[\d.T]+\.pcd$"))


def _cases() -> list:
    """Every file; the frames of a sequence after its first marked ``slow``."""
    seen, cases = set(), []
    for name in _FILES:
        pattern = next((p for p in _SEQUENCES if p.search(name)), None)
        later = pattern is not None and pattern.pattern in seen
        if pattern is not None:
            seen.add(pattern.pattern)
        cases.append(pytest.param(name, marks=pytest.mark.slow) if later else name)
    return cases


def _step(cloud) -> float:
    pos = cloud.positions
    integer = pos.dtype.kind in "iu" or np.array_equal(pos, np.round(pos))
    return 1.0 if integer else 0.001


@pytest.mark.parametrize("codec", ["octree", "learned"])
@pytest.mark.parametrize("name", _cases() or ["<no data>"])
def test_exact_round_trip_on_real_data(shared_data, name, codec):
    cloud = omnicodec.read(shared_data / name)
    step = _step(cloud)
    stream = omnicodec.compress(cloud, grid_step=step, codec=codec)
    out = omnicodec.decompress(stream)
    assert same_on_grid(cloud, out, step), name
    assert out.positions.dtype == cloud.positions.dtype
    if step == 1.0:
        assert np.array_equal(np.unique(out.positions, axis=0), np.unique(cloud.positions, axis=0))
