"""Synthetic indoor scans: determinism and the grid of the real scans (10 bits over the bounding box)."""

from __future__ import annotations

import numpy as np

from datasets.synthetic_indoor import generate_indoor
from omnicodec.pointcloud.octree import morton_encode


def test_indoor_scan_is_deterministic_and_spans_the_grid():
    a, b = generate_indoor(2, bits=9), generate_indoor(2, bits=9)
    assert np.array_equal(a.coords, b.coords) and a.source == b.source
    c = a.coords
    assert c.dtype == np.int32 and c.min() == 0 and c.max() == 511  # the longest side of the box spans the grid
    keys = morton_encode(c)
    assert np.all(keys[1:] > keys[:-1])
    assert a.params["sensor"] in ("rgbd", "panoramic") and len(c) > 5000
    assert not np.array_equal(c[:100], generate_indoor(3, bits=9).coords[:100])


def test_both_sensors_capture_only_what_they_see():
    sensors = set()
    for seed in range(6):
        s = generate_indoor(seed, bits=8)
        sensors.add(s.params["sensor"])
        assert 0 < len(s.coords) <= s.params["captured"]
    assert sensors == {"rgbd", "panoramic"}
