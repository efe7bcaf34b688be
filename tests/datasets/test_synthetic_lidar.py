"""Synthetic LiDAR: determinism, points on the beam cones, ranges within limits, the 1 mm grid."""

from __future__ import annotations

import numpy as np
import pytest

from datasets.lidar_scenes import SCENE_KINDS, random_scene
from datasets.synthetic_lidar import PRESETS, generate_lidar, lidar_grid, random_model, simulate
from omnicodec.pointcloud.octree import morton_encode


@pytest.fixture(scope="module")
def scan_and_model():
    rng = np.random.default_rng(11)
    model = random_model(rng)
    scene = random_scene(rng, "urban", extent=model.max_range + 10)
    scan = simulate(scene.meshes, scene.reflectivity, model, rng, np.array([0.0, 0.0, 1.8]))
    return scan, model


def test_generate_lidar_is_deterministic():
    a, b = generate_lidar(3), generate_lidar(3)
    assert np.array_equal(a.xyz, b.xyz) and np.array_equal(a.intensity, b.intensity) and a.source == b.source
    assert a.xyz.dtype == np.float32 and a.intensity.dtype == np.float32 and len(a.xyz) > 5000
    assert a.source.startswith("synthetic_lidar:") and a.source.endswith(":seed=3")
    assert not np.array_equal(a.xyz[:100], generate_lidar(4).xyz[:100])


def test_points_lie_on_their_beam_cones(scan_and_model):
    scan, model = scan_and_model
    r = np.linalg.norm(scan.xyz.astype(np.float64), axis=1)
    elevation = np.degrees(np.arcsin(scan.xyz[:, 2] / r))
    assert np.abs(elevation - model.elevations[scan.ring]).max() < 0.01
    # elevations cluster on the beam angles: every point is near some beam, and most beams are seen
    nearest = np.abs(elevation[:, None] - model.elevations[None, :]).min(axis=1)
    assert nearest.max() < 0.01
    assert len(np.unique(scan.ring)) >= 0.7 * model.beams
    assert np.all((scan.intensity >= 0) & (scan.intensity <= 1))


def test_ranges_are_within_the_sensor_limits(scan_and_model):
    scan, model = scan_and_model
    r = np.linalg.norm(scan.xyz.astype(np.float64), axis=1)
    assert r.min() >= model.min_range - 1e-3 and r.max() <= model.max_range + 1e-3
    per_ring = np.bincount(scan.ring, minlength=model.beams)
    assert per_ring.max() <= round(360 / model.azimuth_step)


def test_the_1mm_grid_keeps_the_rings(scan_and_model):
    scan, model = scan_and_model
    coords, origin = lidar_grid(scan)
    assert coords.dtype == np.int32 and coords.min() >= 0
    keys = morton_encode(coords)
    assert np.all(keys[1:] > keys[:-1])
    xyz = (coords.astype(np.float64) + origin) * 0.001
    r = np.linalg.norm(xyz, axis=1)
    elevation = np.degrees(np.arcsin(xyz[:, 2] / r))
    nearest = np.abs(elevation[:, None] - model.elevations[None, :]).min(axis=1)
    assert np.all(nearest < np.degrees(0.0009 / r) + 0.01)  # rounding moves a point by at most 0.87 mm


def test_presets_and_scene_kinds_build():
    rng = np.random.default_rng(0)
    for name, p in PRESETS.items():
        e = np.asarray(p["elev"]())
        assert len(e) in (16, 32, 64, 128) and np.all(np.diff(e) < 0), name
    for kind in SCENE_KINDS:
        scene = random_scene(rng, kind, extent=60)
        assert scene.kind == kind and len(scene.meshes) == len(scene.reflectivity) >= 3
