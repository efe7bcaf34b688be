"""WS-PSNR and S-PSNR of ERP images."""

from __future__ import annotations

import math

import numpy as np
import pytest

from omnicodec.errors import InputError
from omnicodec.metrics import erp_row_weights, psnr, rgb_to_y, s_psnr, sphere_points, ws_psnr, ws_psnr_per_channel
from omnicodec.types import ErpImage

from ._patterns import degrade, pattern_rgb


def test_row_weights():
    w = erp_row_weights(4)
    c1, c3 = math.cos(math.pi / 8), math.cos(3 * math.pi / 8)
    assert w.tolist() == pytest.approx([c3, c1, c1, c3], abs=1e-15)


def test_ws_psnr_by_hand():
    """H = 4, W = 8, an error of 10 in row 0 only: WMSE = 100 w0 W / (W (2 w0 + 2 w1))."""
    ref = np.zeros((4, 8), dtype=np.uint8)
    dec = ref.copy()
    dec[0] = 10
    c1, c3 = math.cos(math.pi / 8), math.cos(3 * math.pi / 8)
    wmse = 100 * c3 / (2 * (c3 + c1))  # 14.644660940672625
    assert wmse == pytest.approx(14.644660940672625, abs=1e-12)
    want = 10 * math.log10(255**2 / wmse)
    assert ws_psnr(ref, dec, on="all") == pytest.approx(want, abs=1e-10)
    assert want == pytest.approx(36.47401039701745, abs=1e-12)
    # The same error at the equator row weighs more.
    dec2 = ref.copy()
    dec2[1] = 10
    assert ws_psnr(ref, dec2, on="all") < want


def test_ws_psnr_equals_psnr_for_a_uniform_error_and_defaults_to_luma():
    uniform = np.full((8, 16, 3), 7, dtype=np.uint8)
    assert ws_psnr(uniform * 0, uniform, on="all") == pytest.approx(psnr(uniform * 0, uniform), abs=1e-12)
    a = pattern_rgb(32, 64, 1)
    noisy = degrade(a, 1, 9)
    w = erp_row_weights(32)[:, None]
    err = (rgb_to_y(a) - rgb_to_y(noisy)) ** 2
    want = 10 * math.log10(255**2 / ((w * err).sum() / (w.sum() * 64)))
    assert ws_psnr(ErpImage(a), ErpImage(noisy)) == pytest.approx(want, abs=1e-10)
    assert ws_psnr(a, a) == math.inf
    per = ws_psnr_per_channel(a, noisy)
    assert per.shape == (3,)
    assert per[0] == pytest.approx(ws_psnr(a[..., :1], noisy[..., :1], on="all"), abs=1e-12)


def test_sphere_points_are_uniform():
    lat, lon = sphere_points(100_000)
    assert lat.shape == lon.shape == (100_000,)
    assert np.all(np.abs(lat) < np.pi / 2) and np.all((lon >= -np.pi) & (lon < np.pi))
    # Area fractions: the band |lat| < 30 degrees holds half the sphere.
    assert np.mean(np.abs(lat) < np.pi / 6) == pytest.approx(0.5, abs=1e-4)
    xyz = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
    assert np.abs(xyz.mean(axis=0)).max() < 1e-4
    assert sphere_points(100_000) is sphere_points(100_000)  # cached


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_s_psnr_polar_cap(interpolation):
    """Error only in the top row of an 8 x 16 ERP image: S-PSNR sees the cap's share of the sphere."""
    ref = np.zeros((8, 16), dtype=np.float64)
    dec = ref.copy()
    dec[0] = 20.0
    got = s_psnr(ref, dec, on="all", interpolation=interpolation)
    if interpolation == "nearest":
        cap = (1 - math.sin(math.radians(67.5))) / 2  # area above latitude 67.5 degrees
        assert got == pytest.approx(10 * math.log10(255**2 / (400 * cap)), abs=1e-4)
    else:
        assert math.isfinite(got)


def test_s_psnr_uniform_error_and_identity():
    a = pattern_rgb(32, 64, 2)
    b = a.astype(np.float64) + 3.0  # Y error 3 everywhere (the BT.709 weights sum to 1)
    assert s_psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 9.0), abs=1e-9)
    assert s_psnr(a, a) == math.inf
    assert s_psnr(a, b, interpolation="bilinear") == pytest.approx(s_psnr(a, b), abs=1e-9)


def test_bad_erp_input():
    with pytest.raises(InputError):
        ws_psnr(np.zeros((4, 8, 3)), np.zeros((4, 9, 3)))
    with pytest.raises(InputError):
        ws_psnr(np.zeros((4, 8)), np.zeros((4, 8)))  # luma needs RGB
    with pytest.raises(InputError):
        s_psnr(np.zeros((4, 8, 3)), np.zeros((4, 8, 3)), interpolation="cubic")
    with pytest.raises(InputError):
        sphere_points(0)
