"""Viewport PSNR and the seam score: the viewport set, exact expectations, seam and centre error bands."""

from __future__ import annotations

import math

import numpy as np
import pytest

from omnicodec import metrics
from omnicodec.errors import InputError
from omnicodec.metrics.viewport import (
    VIEWPORT_FOV,
    VIEWPORTS,
    seam_score,
    viewport_psnr,
    viewport_psnr_per_view,
    viewport_quality,
)
from omnicodec.omni import erp_to_viewport, lonlat_to_xyz, rotation_matrix
from omnicodec.types import ErpImage
from tests.metrics._patterns import degrade, pattern_rgb

H, W = 64, 128


@pytest.fixture
def ref():
    return pattern_rgb(H, W, seed=3)


def test_the_viewport_set_covers_the_sphere():
    assert len(VIEWPORTS) == 18 and VIEWPORT_FOV == 90.0
    assert VIEWPORTS[:8] == tuple((float(y), 0.0) for y in range(0, 360, 45))
    assert VIEWPORTS[8:12] == ((45.0, 45.0), (135.0, 45.0), (225.0, 45.0), (315.0, 45.0))
    assert VIEWPORTS[12:16] == ((45.0, -45.0), (135.0, -45.0), (225.0, -45.0), (315.0, -45.0))
    assert VIEWPORTS[16:] == ((0.0, 90.0), (0.0, -90.0))
    lat, lon = metrics.sphere_points(20_000)
    d = lonlat_to_xyz(np.degrees(lon), np.degrees(lat))
    inside = np.zeros(len(d), dtype=bool)
    for yaw, pitch in VIEWPORTS:
        cam = d @ rotation_matrix(yaw, pitch, 0.0)  # (forward, right, up) components
        f = cam[:, 0]
        inside |= (f > 0) & (np.abs(cam[:, 1]) <= f) & (np.abs(cam[:, 2]) <= f)  # 90 x 90 degree frustum
    assert inside.all()


def test_identical_images(ref):
    per_view = viewport_psnr_per_view(ref, ref)
    assert per_view.shape == (18,) and np.isinf(per_view).all()
    assert viewport_psnr(ref, ref) == math.inf
    assert seam_score(ref, ref) == 0.0


@pytest.mark.parametrize("interp", ["bilinear", "bicubic"])
def test_a_uniform_luma_offset_gives_its_psnr_in_every_view(ref, interp):
    base = np.clip(ref, 20, 200)
    dec = base + np.uint8(5)  # luma + 5 everywhere, no clipping
    want = 10 * math.log10(255.0**2 / 25.0)
    np.testing.assert_allclose(viewport_psnr_per_view(base, dec, interpolation=interp), want, rtol=0, atol=1e-9)
    assert viewport_psnr(ErpImage(base), ErpImage(dec), interpolation=interp) == pytest.approx(want, abs=1e-9)
    assert seam_score(base, dec, interpolation=interp) == pytest.approx(0.0, abs=1e-9)
    assert viewport_psnr(base, dec, peak=1023.0) == pytest.approx(10 * math.log10(1023.0**2 / 25.0), abs=1e-9)


def test_per_view_values_are_psnr_y_of_the_rendered_views(ref):
    dec = degrade(ref, seed=1, amplitude=6)
    per_view = viewport_psnr_per_view(ref, dec, size=20)
    for k in (0, 4, 9, 16):
        yaw, pitch = VIEWPORTS[k]
        a, b = (erp_to_viewport(x.astype(np.float64), yaw, pitch, 0.0, 90.0, (20, 20), "bicubic") for x in (ref, dec))
        assert per_view[k] == pytest.approx(metrics.psnr_y(a, b), abs=1e-9)  # luma first or last: the same
    assert viewport_psnr(ref, dec, size=20) == pytest.approx(per_view.mean(), abs=1e-12)


def test_bicubic_hides_less_error_than_bilinear(ref):
    dec = degrade(ref, seed=2, amplitude=9)  # white-noise-like error
    direct = metrics.psnr_y(ref, dec)
    assert direct < viewport_psnr(ref, dec) < viewport_psnr(ref, dec, interpolation="bilinear")


def test_golden_values(ref):
    dec = degrade(ref, seed=2, amplitude=9)
    assert viewport_psnr(ref, dec) == pytest.approx(GOLDEN_VIEWPORT_PSNR, abs=1e-6)
    assert seam_score(ref, dec) == pytest.approx(GOLDEN_SEAM_SCORE, abs=1e-6)
    assert viewport_psnr(ref, dec, interpolation="bilinear") == pytest.approx(GOLDEN_VIEWPORT_PSNR_BILINEAR, abs=1e-6)


def _band(img: np.ndarray, cols: np.ndarray, error: int) -> np.ndarray:
    out = img.astype(np.int64)
    out[:, cols] += error
    return np.clip(out, 0, 255).astype(np.uint8)


def test_an_error_band_at_the_seam_gives_a_negative_score(ref):
    ref = np.clip(ref, 40, 215)
    noisy = degrade(ref, seed=5, amplitude=2)
    at_seam = _band(noisy, np.r_[0:3, W - 3 : W], 30)
    assert seam_score(ref, at_seam) < -5.0
    at_centre = _band(noisy, np.arange(W // 2 - 3, W // 2 + 3), 30)
    assert seam_score(ref, at_centre) > 5.0
    at_side = _band(noisy, np.arange(W // 4 - 3, W // 4 + 3), 30)  # longitude -90: outside both views
    assert abs(seam_score(ref, at_side)) < 0.5
    per_view = viewport_psnr_per_view(ref, at_seam)
    assert np.argmin(per_view) == VIEWPORTS.index((180.0, 0.0))
    assert viewport_psnr(ref, at_seam) < viewport_psnr(ref, noisy)


def test_viewport_quality_is_all_three_in_one_pass(ref):
    dec = _band(degrade(ref, seed=6, amplitude=3), np.r_[0:2, W - 2 : W], 25)
    q = viewport_quality(ref, dec, interpolation="bilinear", size=24)
    per_view = viewport_psnr_per_view(ref, dec, interpolation="bilinear", size=24)
    np.testing.assert_array_equal(q["per_view"], per_view)
    assert q["viewport_psnr"] == viewport_psnr(ref, dec, interpolation="bilinear", size=24)
    assert q["seam_score"] == seam_score(ref, dec, interpolation="bilinear", size=24)
    assert q["seam_score"] == per_view[4] - per_view[0]  # the seam (yaw 180) and centre (yaw 0) views of the set
    assert viewport_quality(ref, ref)["seam_score"] == 0.0


def test_infinities_of_the_seam_score(ref):
    dec = _band(ref, np.r_[0:2, W - 2 : W], 20)  # only the seam differs: the centre view is identical
    assert seam_score(ref, dec) == -math.inf
    dec = _band(ref, np.arange(W // 2 - 2, W // 2 + 2), 20)
    assert seam_score(ref, dec) == math.inf


def test_on_all_and_gray(rng):
    a = rng.uniform(0, 1, (H, W))
    b = a + 0.01
    assert viewport_psnr(a, b, on="all", peak=1.0) == pytest.approx(40.0, abs=1e-9)
    c = np.stack([a, a], axis=-1)
    assert viewport_psnr(c, c + 0.01, on="all", peak=1.0) == pytest.approx(40.0, abs=1e-9)


def test_errors(ref):
    with pytest.raises(InputError, match="differ"):
        viewport_psnr(ref, ref[:, :-1])
    with pytest.raises(InputError, match="RGB"):
        viewport_psnr(ref[..., 0], ref[..., 0])
    with pytest.raises(InputError, match="on must"):
        seam_score(ref, ref, on="u")
    with pytest.raises(InputError, match="interpolation"):
        viewport_psnr(ref, ref, interpolation="nearest")
    with pytest.raises(InputError, match="size"):
        viewport_psnr(ref, ref, size=0)


# Regression values (bicubic by default), recorded from this implementation on the deterministic patterns above.
GOLDEN_VIEWPORT_PSNR = 36.857666
GOLDEN_SEAM_SCORE = -0.198323
GOLDEN_VIEWPORT_PSNR_BILINEAR = 39.524748
