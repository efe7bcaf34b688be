"""Synthetic dense surfaces: determinism, grid range, and the thin watertight shells of voxelised scans."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from datasets import meshes as M
from datasets.shape_recipes import RECIPES
from datasets.stats import geometry_stats, neighbour_counts
from datasets.surface_voxels import voxelize_meshes
from datasets.synthetic_surfaces import generate_surface, speckle
from omnicodec.pointcloud.octree import morton_encode


def _check_sample(coords: np.ndarray, bits: int) -> None:
    assert coords.dtype == np.int32 and coords.ndim == 2 and coords.shape[1] == 3
    assert coords.min() >= 0 and coords.max() < 1 << bits
    keys = morton_encode(coords)
    assert np.all(keys[1:] > keys[:-1]), "unique and Morton-sorted"


@pytest.mark.parametrize("recipe", [r for r in RECIPES if r not in ("blob", "group")])
def test_every_recipe_is_deterministic_and_on_the_grid(recipe):
    a = generate_surface(7, bits=8, recipe=recipe)
    b = generate_surface(7, bits=8, recipe=recipe)
    _check_sample(a.coords, 8)
    assert np.array_equal(a.coords, b.coords) and a.source == b.source and a.params == b.params
    assert len(a.coords) > 1000
    extent = a.coords.max(axis=0) - a.coords.min(axis=0)
    assert 0.45 * 255 <= extent.max() <= 255  # the longest side spans half the grid or more


def test_full_size_sample_spans_a_10_bit_grid():
    s = generate_surface(3, recipe="cloth")
    _check_sample(s.coords, 10)
    assert s.bits == 10 and 500 <= np.ptp(s.coords, axis=0).max() <= 1023
    assert s.source == "synthetic_surfaces:cloth:seed=3"
    assert not np.array_equal(s.coords, generate_surface(4, recipe="cloth").coords)


@pytest.mark.parametrize("shape", ["ellipsoid", "superquadric", "rounded_box", "displaced_sphere"])
def test_thin_voxelisation_is_a_watertight_one_voxel_shell(shape):
    rng = np.random.default_rng(5)
    mesh = {
        "ellipsoid": lambda: M.superquadric(np.array([60.0, 45, 50]), 1, 1, 1.0),
        "superquadric": lambda: M.superquadric(np.array([60.0, 40, 50]), 0.3, 0.5, 1.0),
        "rounded_box": lambda: M.rounded_box(np.array([60.0, 40, 30]), 6, 1.0),
        "displaced_sphere": lambda: M.displaced_sphere(55.0, rng, 1.0, lmax=10, amp=0.3),
    }[shape]()
    rot = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    coords = voxelize_meshes([mesh.moved(rot, [100.3, 100.6, 100.1])], 8, rng, spacing=0.6, thickness=0.0)
    assert len(np.unique(coords, axis=0)) == len(coords)
    n = neighbour_counts(coords)
    assert (n[:, 0] == 6).mean() < 0.001  # hardly any voxel has all 6 face neighbours: no solid, no thick shell
    assert ((n[:, 1] >= 4) & (n[:, 1] <= 8)).mean() > 0.95  # 4-8 face/edge neighbours, like voxelised scans
    occupied = np.zeros((256,) * 3, bool)
    occupied[tuple(coords.T)] = True
    labels, count = ndimage.label(~occupied)  # 6-connected empty space
    assert count == 2 and labels[100, 100, 100] != labels[0, 0, 0], "the shell separates inside from outside"


def test_thickness_and_unions():
    rng = np.random.default_rng(1)
    a = M.superquadric(np.array([40.0, 40, 40]), 1, 1, 1.0).moved(None, [80.2, 80.1, 80.3])
    b = M.superquadric(np.array([30.0, 30, 30]), 1, 1, 1.0).moved(None, [120.1, 80.2, 80.4])
    thin = voxelize_meshes([a, b], 8, rng, spacing=0.6, thickness=0.0)
    thick = voxelize_meshes([a, b], 8, rng, spacing=0.6, thickness=1.0)
    assert len(thick) > 1.2 * len(thin)
    # no inner walls: no voxel of one sphere lies inside the other
    inside_a = np.linalg.norm(thin - [80.2, 80.1, 80.3], axis=1) < 38
    inside_b = np.linalg.norm(thin - [120.1, 80.2, 80.4], axis=1) < 28
    assert not inside_a.any() and not inside_b.any()
    stats = geometry_stats(thin.astype(np.int32), 8)
    assert 7 <= stats["n26"] <= 9.5 and stats["isolated"] == 0


def test_speckle_adds_neighbours_and_drops_voxels():
    rng = np.random.default_rng(0)
    c = np.stack(np.meshgrid(np.arange(50), np.arange(50), [10], indexing="ij"), -1).reshape(-1, 3)
    out = speckle(c, rng, 0.1, 0.05, 8)
    assert out.min() >= 0 and np.abs(out[:, 2] - 10).max() <= 1
    kept = (out[:, 2] == 10).sum()
    assert 0.85 * len(c) < kept < len(c) + 0.1 * len(c)
