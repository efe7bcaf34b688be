"""D1/D2 on tiny hand-computable clouds: ties, the chain threshold, duplicates, NaN normals, peaks, errors."""

from __future__ import annotations

import itertools
import math
import sys

import numpy as np
import pytest

from omnicodec.errors import InputError
from omnicodec.metrics import auto_peak, chamfer_distance, pc_psnr, point_metrics
from omnicodec.types import PointCloud

DBL_MIN = sys.float_info.min
UP = np.array([[0.0, 0.0, 1.0]])


def _signed_perms(values) -> np.ndarray:
    """All distinct sign changes and orderings of a 3-vector."""
    pts = {
        tuple(s * v for s, v in zip(signs, perm, strict=True))
        for perm in itertools.permutations(values)
        for signs in itertools.product((1, -1), repeat=3)
    }
    return np.array(sorted(pts), dtype=np.float64)


def test_one_point_against_three_tied_neighbours():
    a = np.zeros((1, 3))
    b = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 0, 1.0]])
    r = point_metrics(a, b, peak=1023, reference_normals=UP)
    assert r["d1_mse_ab"] == 1.0 and r["d1_mse_ba"] == 1.0
    # A->B: all three B points are tied, each gets A's normal; terms 0, 0, 1 averaged.
    assert r["d2_mse_ab"] == pytest.approx(1 / 3, rel=1e-15)
    # B->A: projections 0, 0, 1 on A's normal, averaged over B.
    assert r["d2_mse_ba"] == pytest.approx(1 / 3, rel=1e-15)
    assert r["d2_hausdorff_ab"] == pytest.approx(1 / 3) and r["d2_hausdorff_ba"] == 1.0
    assert r["d2_mse"] == pytest.approx(1 / 3) and r["d2_hausdorff"] == 1.0
    assert r["d1_psnr"] == pytest.approx(10 * math.log10(3 * 1023**2))
    assert (r["points_reference"], r["points_decoded"], r["peak"]) == (1, 3, 1023.0)


def test_k_grows_past_ten_for_24_tied_neighbours():
    b = _signed_perms((2, 1, 0))  # 24 points at squared distance 5
    assert len(b) == 24
    r = point_metrics(np.zeros((1, 3)), b, peak=1, reference_normals=UP)
    # All 24 enter S(p): the mean of z^2 over them is (8 * 0 + 8 * 1 + 8 * 4) / 24.
    assert r["d2_mse_ab"] == pytest.approx(5 / 3, rel=1e-15)
    assert r["d1_mse_ab"] == 5.0 and r["d1_mse_ba"] == 5.0
    assert r["d2_mse_ba"] == pytest.approx(5 / 3, rel=1e-15)


def test_equal_distance_set_is_a_chain():
    """Squared distances 1e-8, 1.6e-8, 2.2e-8, 4.2e-8: steps of 0.6e-8 chain, the 2e-8 step breaks it."""
    x = np.sqrt(np.array([1e-8, 1.6e-8, 2.2e-8, 4.2e-8]))
    b = np.stack([x, np.zeros(4), np.zeros(4)], axis=1)
    r = point_metrics(np.zeros((1, 3)), b, peak=1, reference_normals=np.array([[1.0, 0, 0]]))
    terms = (b[:3, 0].astype(np.float32) * np.float32(1)) ** 2
    assert r["d2_mse_ab"] == pytest.approx(float(terms.astype(np.float64).mean()), rel=1e-6)
    assert r["d2_mse_ab"] == pytest.approx(1.6e-8, rel=1e-5)  # a comparison with the first would give 1.3e-8
    assert r["d1_mse_ab"] == pytest.approx(1e-8, rel=1e-6)


def test_duplicates_are_dropped_and_identical_clouds_give_inf():
    grid = np.stack(np.meshgrid(np.arange(4), np.arange(4), np.arange(3), indexing="ij"), -1).reshape(-1, 3)
    dup = np.concatenate([grid, grid[::3], grid[:5]])
    rng = np.random.default_rng(0)
    dup = dup[rng.permutation(len(dup))]
    normals = np.tile([0.0, 0.0, 1.0], (len(grid), 1))
    for peak, h_psnr in ((1023, math.inf), (1, pytest.approx(3081.2977682330843, abs=1e-9))):
        r = point_metrics(grid, dup, peak=peak, reference_normals=normals)
        assert (r["points_reference"], r["points_decoded"]) == (len(grid), len(grid))
        for m in ("d1", "d2"):
            assert r[f"{m}_mse"] == 0.0 and r[f"{m}_psnr"] == math.inf
            assert r[f"{m}_hausdorff"] == DBL_MIN
            assert r[f"{m}_hausdorff_psnr"] == h_psnr


def test_row_order_does_not_matter():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 20, size=(400, 3))
    a = np.unique(a, axis=0)
    b = np.round(a + rng.normal(0, 1.0, size=a.shape))[: len(a) // 2 * 2]
    normals = rng.normal(size=a.shape)
    ref = point_metrics(a, b, peak=1023, reference_normals=normals)
    pa, pb = rng.permutation(len(a)), rng.permutation(len(b))
    shuffled = point_metrics(a[pa], b[pb], peak=1023, reference_normals=normals[pa])
    assert shuffled == ref
    # Estimated normals are computed on the sorted, deduplicated reference: also independent of row order.
    assert point_metrics(a[pa], b[pb], peak=1023) == point_metrics(a, b, peak=1023)


def test_symmetric_values_are_the_worse_direction_independently():
    a = np.array([[0.0, 0, 0], [10.0, 0, 0]])
    b = np.array([[0.0, 0, 2.0], [10.0, 3.0, 0]])
    normals = np.array([[1.0, 0, 0], [0.0, 0, 1.0]])
    r = point_metrics(a, b, peak=1023, reference_normals=normals)
    for m in ("d1", "d2"):
        assert r[f"{m}_mse"] == max(r[f"{m}_mse_ab"], r[f"{m}_mse_ba"])
        assert r[f"{m}_psnr"] == min(r[f"{m}_psnr_ab"], r[f"{m}_psnr_ba"])
        assert r[f"{m}_hausdorff"] == max(r[f"{m}_hausdorff_ab"], r[f"{m}_hausdorff_ba"])
    assert r["d1_mse_ab"] == pytest.approx((4 + 9) / 2)
    # Projections: (0,0,-2).(1,0,0) = 0 and (0,-3,0).(0,0,1) = 0.
    assert r["d2_mse"] == 0.0


def test_nan_normal_gives_signed_unsquared_sum():
    r = point_metrics(np.zeros((1, 3)), np.array([[1.0, 2.0, 3.0]]), peak=1, reference_normals=[[np.nan, 0, 0]])
    assert r["d2_mse_ba"] == 6.0  # (b - a) summed over x, y, z
    assert r["d2_mse_ab"] == -6.0  # B inherits the NaN normal: (a - b) summed
    assert r["d2_hausdorff_ab"] == DBL_MIN and r["d2_hausdorff_ba"] == 6.0
    assert r["d2_mse"] == 6.0


def test_normals_from_the_point_cloud_attribute_and_pointcloud_inputs():
    a = PointCloud(np.zeros((1, 3), dtype=np.int32), {"normals": np.array([[0.0, 0.0, 1.0]])})
    b = PointCloud(np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 0, 1.0]]))
    r = point_metrics(a, b, peak=1023)
    assert r["d2_mse_ab"] == pytest.approx(1 / 3)


def test_peak_is_parsed_as_float32_and_psnr_formula():
    r = point_metrics([[0.0, 0, 0]], [[1.0, 0, 0]], peak=59.7, reference_normals=UP)
    assert r["peak"] == float(np.float32(59.7)) == 59.70000076293945
    assert r["d1_psnr"] == pytest.approx(10 * math.log10(3 * r["peak"] ** 2 / 1.0), abs=1e-12)
    assert pc_psnr(0.0, 1023) == math.inf
    assert pc_psnr(DBL_MIN, 1023) == math.inf  # 3 p^2 / DBL_MIN overflows, as pc_error prints it
    assert pc_psnr(4.0, 2.0) == pytest.approx(10 * math.log10(3.0))


def test_auto_peak_is_the_largest_nearest_neighbour_distance():
    a = np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0], [2, 5, 0], [2, 5, 0]])  # the last is a duplicate
    assert auto_peak(a) == 5.0
    r = point_metrics(a, a[:3], reference_normals=np.tile([0.0, 0, 1], (5, 1)))
    assert r["peak"] == 5.0 and r["points_reference"] == 4
    assert r["d1_mse_ab"] == pytest.approx(25 / 4)


def test_hausdorff_can_be_left_out():
    r = point_metrics([[0.0, 0, 0]], [[1.0, 0, 0]], peak=1, reference_normals=UP, hausdorff=False)
    assert not any("hausdorff" in k for k in r)
    assert r["d1_mse"] == 1.0


def test_values_are_python_scalars():
    r = point_metrics([[0.0, 0, 0], [1, 1, 1]], [[1.0, 0, 0]], peak=1, reference_normals=UP.repeat(2, 0))
    assert all(type(v) in (float, int) for v in r.values())


def test_chamfer_distance():
    a = np.zeros((1, 3))
    b = np.array([[1.0, 0, 0], [3.0, 0, 0]])
    assert chamfer_distance(a, b) == pytest.approx(1.0 + (1.0 + 9.0) / 2)
    assert chamfer_distance(PointCloud(b), PointCloud(b)) == 0.0


@pytest.mark.parametrize(
    "a, b, kwargs",
    [
        (np.zeros((0, 3)), np.zeros((1, 3)), {}),
        (np.zeros((1, 3)), np.zeros((0, 3)), {}),
        (np.zeros((4, 2)), np.zeros((4, 2)), {}),
        (np.array([[np.nan, 0, 0]]), np.zeros((1, 3)), {}),
        (np.zeros((1, 3)), np.zeros((1, 3)), {"peak": 0}),
        (np.zeros((1, 3)), np.zeros((1, 3)), {"peak": -3}),
        (np.zeros((1, 3)), np.zeros((1, 3)), {"peak": 1e39}),
        (np.zeros((1, 3)), np.zeros((1, 3)), {"peak": "high"}),
        (np.zeros((2, 3)), np.zeros((1, 3)), {"peak": 1, "reference_normals": np.zeros((3, 3))}),
        (np.zeros((1, 3)), np.ones((1, 3)), {"reference_normals": UP}),  # automatic peak of a single point
    ],
)
def test_bad_input_raises_input_error(a, b, kwargs):
    with pytest.raises(InputError):
        point_metrics(a, b, **kwargs)


def test_chamfer_bad_input():
    with pytest.raises(InputError):
        chamfer_distance(np.zeros((0, 3)), np.zeros((2, 3)))
    with pytest.raises(InputError):
        chamfer_distance(np.zeros((2, 2)), np.zeros((2, 3)))
