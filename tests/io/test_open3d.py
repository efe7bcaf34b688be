"""open3d interop: legacy and tensor clouds, exact colours, extra attributes, missing package."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from omnicodec.errors import InputError
from omnicodec.io import from_open3d, to_open3d
from omnicodec.types import PointCloud

o3d = pytest.importorskip("open3d")


def _cloud(rng, n=200):
    return PointCloud(
        rng.standard_normal((n, 3)).astype(np.float32),
        {
            "rgb": np.concatenate([np.arange(256, dtype=np.uint8)] * 3)[: n * 3].reshape(n, 3),
            "normals": rng.standard_normal((n, 3)).astype(np.float32),
            "intensity": rng.random(n).astype(np.float32),
            "label": rng.integers(0, 9, n).astype(np.int32),
            "feature": rng.random((n, 2)),
        },
    )


def test_legacy_round_trip(rng):
    cloud = _cloud(rng)
    legacy = to_open3d(cloud)
    assert isinstance(legacy, o3d.geometry.PointCloud)
    np.testing.assert_array_equal(np.asarray(legacy.colors), cloud.rgb / 255.0)
    back = from_open3d(legacy)
    assert back.positions.dtype == np.float64
    np.testing.assert_array_equal(back.positions, cloud.positions)
    assert back.rgb.dtype == np.uint8
    np.testing.assert_array_equal(back.rgb, cloud.rgb)
    np.testing.assert_array_equal(back.normals, cloud.normals)
    assert sorted(back.attributes) == ["normals", "rgb"]


def test_tensor_round_trip_keeps_every_attribute(rng):
    cloud = _cloud(rng)
    t = to_open3d(cloud, tensor=True)
    assert isinstance(t, o3d.t.geometry.PointCloud)
    assert t.point.positions.dtype == o3d.core.float32
    assert t.point.colors.dtype == o3d.core.float32
    back = from_open3d(t)
    assert sorted(back.attributes) == sorted(cloud.attributes)
    assert back.positions.dtype == np.float32
    np.testing.assert_array_equal(back.positions, cloud.positions)
    for name, arr in cloud.attributes.items():
        assert back.attributes[name].dtype == arr.dtype, name
        np.testing.assert_array_equal(back.attributes[name], arr, err_msg=name)


def test_every_uint8_colour_is_exact(rng):
    levels = np.arange(256, dtype=np.uint8)
    cloud = PointCloud(np.zeros((256, 3)), {"rgb": np.stack([levels, levels[::-1], levels], 1)})
    for tensor in (False, True):
        np.testing.assert_array_equal(from_open3d(to_open3d(cloud, tensor=tensor)).rgb, cloud.rgb)


def test_open3d_built_cloud_and_empty(rng):
    legacy = o3d.geometry.PointCloud()
    legacy.points = o3d.utility.Vector3dVector(rng.random((10, 3)))
    assert len(from_open3d(legacy)) == 10 and not from_open3d(legacy).attributes
    assert len(from_open3d(o3d.t.geometry.PointCloud())) == 0
    assert len(from_open3d(o3d.geometry.PointCloud())) == 0


def test_errors(rng, monkeypatch):
    with pytest.raises(InputError, match="expected an open3d PointCloud"):
        from_open3d(np.zeros((3, 3)))
    with pytest.raises(InputError, match="reserved by open3d"):
        to_open3d(PointCloud(np.zeros((2, 3)), {"colors": np.zeros(2)}), tensor=True)
    monkeypatch.setitem(sys.modules, "open3d", None)
    with pytest.raises(InputError, match=r'needs the optional package open3d: pip install "omnicodec\[open3d\]"'):
        to_open3d(PointCloud(np.zeros((2, 3))))
