"""omnicodec.omni.projection: pixel <-> lon/lat <-> xyz conventions and round trips, view rotations."""

from __future__ import annotations

import numpy as np
import pytest

from omnicodec.errors import InputError
from omnicodec.omni import (
    lonlat_to_pixel,
    lonlat_to_xyz,
    pixel_to_lonlat,
    pixel_to_xyz,
    rotation_matrix,
    xyz_to_lonlat,
    xyz_to_pixel,
)

H, W = 100, 200


def test_pixel_centres_and_edges():
    lon, lat = pixel_to_lonlat([0.0, 0.5, W / 2, W], [0.0, 0.5, H / 2, H], H, W)
    np.testing.assert_array_equal(lon, [-180.0, -180.0 + 0.9, 0.0, 180.0])
    np.testing.assert_array_equal(lat, [90.0, 90.0 - 0.9, 0.0, -90.0])
    x, y = lonlat_to_pixel([-180.0, 0.0, 180.0, 90.0], [90.0, 0.0, -90.0, 45.0], H, W)
    np.testing.assert_array_equal(x, [0.0, W / 2, 0.0, 3 * W / 4])  # +180 is the seam, x = 0
    np.testing.assert_array_equal(y, [0.0, H / 2, H, H / 4])


def test_axes():
    got = lonlat_to_xyz([0.0, 90.0, 180.0, -90.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 90.0, -90.0])
    want = [[1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]]
    np.testing.assert_allclose(got, want, atol=1e-15)
    lon, lat = xyz_to_lonlat(np.array([[2.0, 0, 0], [0, 3.0, 0], [0, 0, 5.0], [0, -1.0, 0]]))  # any length
    np.testing.assert_allclose(lon, [0, 90, 0, -90], atol=1e-12)
    np.testing.assert_allclose(lat, [0, 0, 90, 0], atol=1e-12)


def test_round_trips(rng):
    x = rng.uniform(0, W, 5000)
    y = rng.uniform(0, H, 5000)
    lon, lat = pixel_to_lonlat(x, y, H, W)
    x2, y2 = lonlat_to_pixel(lon, lat, H, W)
    np.testing.assert_allclose(x2, x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y2, y, rtol=0, atol=1e-12)
    xyz = lonlat_to_xyz(lon, lat)
    np.testing.assert_allclose(np.linalg.norm(xyz, axis=-1), 1.0, rtol=0, atol=1e-15)
    lon2, lat2 = xyz_to_lonlat(xyz)
    np.testing.assert_allclose(lon2, lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lat2, lat, rtol=0, atol=1e-12)
    x3, y3 = xyz_to_pixel(pixel_to_xyz(x, y, H, W), H, W)
    np.testing.assert_allclose(x3, x, rtol=0, atol=1e-10)
    np.testing.assert_allclose(y3, y, rtol=0, atol=1e-10)
    # longitudes outside [-180, 180) wrap into [0, W)
    xw, _ = lonlat_to_pixel(lon + 720.0, lat, H, W)
    np.testing.assert_allclose(xw, x, rtol=0, atol=1e-10)
    assert pixel_to_xyz(x.reshape(50, 100), y.reshape(50, 100), H, W).shape == (50, 100, 3)


def test_rotation_matrix_conventions(rng):
    np.testing.assert_array_equal(rotation_matrix(), np.eye(3))
    # multiples of 90 degrees are exact
    np.testing.assert_array_equal(rotation_matrix(90, 0, 0), [[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(rotation_matrix(0, 90, 0)[:, 0], [0, 0, 1])  # looks at the north pole
    np.testing.assert_array_equal(rotation_matrix(0, 90, 0)[:, 2], [-1, 0, 0])  # up points to the back
    np.testing.assert_array_equal(rotation_matrix(0, 0, 90)[:, 2], [0, 1, 0])  # roll: up tilts to the right
    np.testing.assert_array_equal(rotation_matrix(-270, 360, 720), rotation_matrix(90, 0, 0))
    for yaw, pitch, roll in rng.uniform(-400, 400, (20, 3)):
        r = rotation_matrix(yaw, pitch, roll)
        np.testing.assert_allclose(r.T @ r, np.eye(3), atol=1e-14)
        assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-14)
        np.testing.assert_allclose(r[:, 0], rotation_matrix(yaw, pitch, 0)[:, 0], atol=1e-15)  # roll keeps forward
        lat = pitch / 5  # within (-90, 90): forward is the direction (lon yaw, lat pitch)
        np.testing.assert_allclose(rotation_matrix(yaw, lat, roll)[:, 0], lonlat_to_xyz(yaw, lat), atol=1e-15)


def test_bad_sizes():
    for h, w in ((0, 10), (10, -1), (2.5, 4)):
        with pytest.raises(InputError, match="ERP size"):
            pixel_to_lonlat(0.0, 0.0, h, w)
    with pytest.raises(InputError, match=r"\(\.\.\., 3\)"):
        xyz_to_lonlat(np.zeros((4, 2)))
