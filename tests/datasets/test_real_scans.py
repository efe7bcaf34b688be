"""Real training scans on the training grids, and their augmentations (needs ../shared/data)."""

from __future__ import annotations

import numpy as np
import pytest

from datasets.real_scans import (
    augment_dense,
    augment_lidar,
    dense_from_positions,
    lidar_from_positions,
    read_training_positions,
)
from omnicodec.pointcloud.octree import morton_encode

pytestmark = pytest.mark.realdata


def _sorted_unique(c):
    k = morton_encode(c)
    return bool(np.all(k[1:] > k[:-1]))


def test_dense_scan_on_a_10_bit_grid(shared_data):
    p = read_training_positions(shared_data / "pointcloud/scans/stanford_bunny/bun_zipper.ply")
    c = dense_from_positions(p, 10)
    assert c.dtype == np.int32 and _sorted_unique(c)
    assert c.min() == 0 and c.max() == 1023 and 30000 < len(c) <= len(p)
    a1, bits1, note1 = augment_dense(p, np.random.default_rng(4))
    a2, bits2, note2 = augment_dense(p, np.random.default_rng(4))
    assert np.array_equal(a1, a2) and bits1 == bits2 and note1 == note2 and note1.startswith("rotate")
    assert _sorted_unique(a1) and a1.max() == (1 << bits1) - 1


def test_lidar_frame_on_the_1mm_grid(shared_data):
    p = read_training_positions(shared_data / "pointcloud/lidar/kitti00/000000.bin")
    c, origin = lidar_from_positions(p)
    assert c.dtype == np.int32 and _sorted_unique(c) and c.min() == 0
    back = (c.astype(np.float64) + origin) * 0.001
    assert len(c) > 0.99 * len(p) and np.abs(np.sort(back[:, 2]) - np.sort(np.round(p[:, 2], 3))).max() < 1e-3
    rng = np.random.default_rng(2)
    for _ in range(3):
        a, o, note = augment_lidar(p, rng)
        assert _sorted_unique(a) and "yaw" in note
        r = np.linalg.norm((a.astype(np.float64) + o) * 0.001, axis=1)
        assert r.max() <= np.linalg.norm(p, axis=1).max() + 0.01  # rotations and mirrors keep ranges
