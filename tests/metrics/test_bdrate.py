"""BD-rate and BD-PSNR with PCHIP interpolation."""

from __future__ import annotations

import math

import pytest

from omnicodec.errors import InputError
from omnicodec.metrics import bd_psnr, bd_rate

# Golden values from the `bjontegaard` package 1.3.0 (scipy 1.17.1, numpy 2.4.6):
# bjontegaard.bd_rate(..., method="pchip") and bjontegaard.bd_psnr(..., method="pchip")
# (require_matching_points=False where the curves have different lengths).
GOLDEN = [
    # G-PCC v23 octree (anchor) and trisoup (test) on dense_loot, D1 PSNR against bpp (docs guide table)
    (
        [0.021, 0.062, 0.195, 0.437, 0.562],
        [52.8, 58.4, 63.2, 68.0, 69.7],
        [0.007, 0.023, 0.076, 0.238],
        [56.4, 63.8, 69.6, 71.5],
        -87.87202848840394,
        9.897609363134809,
    ),
    (
        [100, 200, 400, 800],
        [30.0, 33.0, 36.0, 38.5],
        [90, 170, 360, 700],
        [30.2, 33.5, 36.1, 38.9],
        -18.5373582868708,
        0.8427475211903084,
    ),
    # decreasing order, as a QP sweep lists them
    (
        [0.780, 0.484, 0.295, 0.184],
        [47.79, 44.68, 41.42, 38.22],
        [0.70, 0.45, 0.27, 0.17],
        [47.29, 44.05, 40.69, 37.43],
        1.5827528144989778,
        -0.11085247153293534,
    ),
]


@pytest.mark.parametrize("ra, pa, rt, pt, want_rate, want_psnr", GOLDEN)
def test_golden(ra, pa, rt, pt, want_rate, want_psnr):
    assert bd_rate(ra, pa, rt, pt) == pytest.approx(want_rate, abs=1e-9)
    assert bd_psnr(ra, pa, rt, pt) == pytest.approx(want_psnr, abs=1e-9)


def test_scaled_rates_give_exactly_that_percentage():
    rates, psnrs = [100.0, 200.0, 400.0, 800.0], [30.0, 33.0, 36.0, 38.5]
    assert bd_rate(rates, psnrs, [r * 0.9 for r in rates], psnrs) == pytest.approx(-10.0, abs=1e-9)
    assert bd_rate(rates, psnrs, [r * 1.25 for r in rates], psnrs) == pytest.approx(25.0, abs=1e-9)
    assert bd_rate(rates, psnrs, rates, psnrs) == 0.0
    assert bd_psnr(rates, psnrs, rates, [p + 0.5 for p in psnrs]) == pytest.approx(0.5, abs=1e-12)


def test_point_order_does_not_matter():
    ra, pa, rt, pt = GOLDEN[1][:4]
    assert bd_rate(ra[::-1], pa[::-1], rt, pt) == pytest.approx(bd_rate(ra, pa, rt, pt), abs=1e-12)


def test_two_points_are_linear():
    # log10 rate linear in PSNR: the test curve is 10^0.1 cheaper at every PSNR of the overlap
    got = bd_rate([10, 100], [30, 40], [10 / 10**0.1, 100 / 10**0.1], [30, 40])
    assert got == pytest.approx((10**-0.1 - 1) * 100, abs=1e-9)
    assert math.isfinite(bd_psnr([10, 100], [30, 40], [20, 200], [30, 40]))


@pytest.mark.parametrize(
    "args",
    [
        ([1], [30], [1], [30]),
        ([1, 2], [30], [1, 2], [30, 31]),
        ([0, 2], [30, 31], [1, 2], [30, 31]),
        ([1, 2], [30, 30], [1, 2], [30, 31]),
        ([1, 2], [30, 31], [3, 4], [40, 41]),
        ([1, float("nan")], [30, 31], [1, 2], [30, 31]),
    ],
)
def test_bad_curves(args):
    with pytest.raises(InputError):
        bd_rate(*args)
