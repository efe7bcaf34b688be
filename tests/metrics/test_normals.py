"""PCA normals and pc_error's transfer of A's normals onto B."""

from __future__ import annotations

import numpy as np
import pytest

from omnicodec.errors import InputError
from omnicodec.metrics import estimate_normals, point_metrics
from omnicodec.metrics._neighbours import build_tree, equal_distance_sets
from omnicodec.metrics.normals import _segment_sum_f32, transfer_normals


def _plane(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.meshgrid(np.arange(20), np.arange(20), indexing="ij")
    x, y = i.ravel().astype(np.float64), j.ravel().astype(np.float64)
    z = 0.5 * x - 0.25 * y + 3.0
    unit = np.array([-0.5, 0.25, 1.0]) / np.linalg.norm([-0.5, 0.25, 1.0])
    return np.stack([x, y, z], axis=1)[:n], unit


def test_plane_normals():
    pts, unit = _plane()
    n = estimate_normals(pts, 12, orient=None)
    assert n.dtype == np.float32 and n.shape == pts.shape
    assert np.allclose(np.abs(n.astype(np.float64) @ unit), 1.0, atol=1e-6)


def test_orientation():
    pts, unit = _plane()
    towards_up = estimate_normals(pts, orient=np.array([0.0, 0.0, 1000.0]))
    assert np.allclose(towards_up.astype(np.float64) @ unit, 1.0, atol=1e-6)
    towards_down = estimate_normals(pts, orient=np.array([0.0, 0.0, -1000.0]))
    assert np.allclose(towards_down.astype(np.float64) @ unit, -1.0, atol=1e-6)
    # A sphere's normals point outwards with the default (away from the centroid).
    g = np.random.default_rng(3).normal(size=(2000, 3))
    sphere = 50 * g / np.linalg.norm(g, axis=1, keepdims=True)
    n = estimate_normals(sphere).astype(np.float64)
    assert (np.einsum("ij,ij->i", n, sphere) > 0).all()


def test_estimate_normals_bad_input():
    for bad in (np.zeros((2, 3)), np.zeros((5, 2)), np.full((5, 3), np.nan)):
        with pytest.raises(InputError):
            estimate_normals(bad)
    with pytest.raises(InputError):
        estimate_normals(np.eye(3) * np.arange(1, 4), k=2)
    with pytest.raises(InputError):
        estimate_normals(_plane()[0], orient="north")


def test_segment_sum_is_a_running_float32_sum_in_row_order():
    values = np.array([[1e8], [1.0], [-1e8], [1.0]], dtype=np.float32).repeat(3, axis=1)
    groups = np.zeros(4, dtype=np.int64)
    got = _segment_sum_f32(groups, values, 2)
    # ((1e8 + 1) - 1e8) + 1 in float32 is 1 (the first 1 is lost); a pairwise sum would differ.
    assert got[0, 0] == np.float32(1.0)
    assert (got[1] == 0).all()


def _sets(a, b):
    a32, b32 = np.asarray(a, np.float32), np.asarray(b, np.float32)
    ab = equal_distance_sets(build_tree(b32), b32, a32)
    ba = equal_distance_sets(build_tree(a32), a32, b32)
    return ab, ba


def test_transfer_averages_without_renormalising_and_falls_back_for_unchosen_points():
    a = [[0.0, 0, 0], [2.0, 0, 0], [10.0, 0, 0]]
    b = [[1.0, 0, 0], [10.0, 0, 5.0], [10.0, 0, -5.0], [20.0, 0, 0]]
    normals_a = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    ab, ba = _sets(a, b)
    nb = transfer_normals(normals_a, 4, ab, ba)
    # b0 is the nearest B point of a0 and of a1: the mean of their normals, length 0.707.
    assert nb[0].tolist() == [0.5, 0.5, 0.0]
    # b1 and b2 are tied for a2: both get its normal.
    assert nb[1].tolist() == [0, 0, 1] and nb[2].tolist() == [0, 0, 1]
    # b3 is nobody's nearest: it takes the normal of its own nearest A point, a2.
    assert nb[3].tolist() == [0, 0, 1]


def test_unoriented_normals_cancel_in_d2_a_to_b():
    """pc_error's averaging makes D2 depend on normal signs: opposite normals cancel on the shared B point."""
    a = np.array([[0.0, 0, 1], [0.0, 0, -1]])
    b = np.array([[0.0, 0, 0]])
    same = point_metrics(a, b, peak=1, reference_normals=[[0, 0, 1], [0, 0, 1]])
    opposite = point_metrics(a, b, peak=1, reference_normals=[[0, 0, 1], [0, 0, -1]])
    assert same["d2_mse_ab"] == 1.0 and opposite["d2_mse_ab"] == 0.0
    assert same["d2_mse_ba"] == opposite["d2_mse_ba"]
