"""PSNR, BT.709 luma, PSNR-Y and SSIM."""

from __future__ import annotations

import math

import numpy as np
import pytest

from omnicodec.errors import InputError
from omnicodec.metrics import psnr, psnr_y, rgb_to_y, ssim, ssim_per_image

from ._patterns import degrade, pattern_rgb

# Golden SSIM values from scikit-image 0.26.0 (numpy 2.4.6, scipy 1.17.1):
# skimage.metrics.structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
# data_range=255) on float64 planes; "y" = BT.709 luma of pattern_rgb(h, w, seed) and degrade(..., seed, amplitude),
# "red" = their channel 0.
SSIM_GOLDEN = [
    # (h, w, seed, amplitude, ssim of luma, ssim of the red channel)
    (32, 48, 1, 6, 0.9940459221024842, 0.9878949973145692),
    (64, 40, 2, 20, 0.9606239516115681, 0.902089973797394),
    (11, 11, 3, 3, 0.9966801387742612, 0.9970596685860807),
    (23, 57, 4, 40, 0.7652796251698653, 0.7157226077299327),
]


def test_psnr_by_hand():
    a = np.zeros((2, 2, 3), dtype=np.uint8)
    b = a.copy()
    b[0, 1, 2] = 10
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 * 12 / 100), abs=1e-12)
    assert psnr(a, a) == math.inf
    assert psnr(a.astype(np.float32) / 255, b.astype(np.float32) / 255, peak=1.0) == pytest.approx(psnr(a, b))


def test_rgb_to_y_bt709():
    rgb = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [10, 20, 30]], dtype=np.uint8)
    y = rgb_to_y(rgb)
    assert y.dtype == np.float64
    assert y[:3].tolist() == pytest.approx([0.2126 * 255, 0.7152 * 255, 0.0722 * 255], abs=1e-12)
    assert y[3] == pytest.approx(255.0, abs=1e-12)
    assert y[4] == pytest.approx(0.2126 * 10 + 0.7152 * 20 + 0.0722 * 30, abs=1e-12)  # 17.202, not rounded


def test_psnr_y_sees_only_luma_errors():
    a = np.full((4, 4, 3), 100, dtype=np.uint8)
    b = a.copy()
    b[..., 1] = 110  # Y error 7.152 everywhere
    assert psnr_y(a, b) == pytest.approx(10 * math.log10(255**2 / 7.152**2), abs=1e-9)
    assert psnr_y(a, a) == math.inf


@pytest.mark.parametrize("h, w, seed, amplitude, want_y, want_red", SSIM_GOLDEN)
def test_ssim_golden(h, w, seed, amplitude, want_y, want_red):
    a = pattern_rgb(h, w, seed)
    b = degrade(a, seed, amplitude)
    assert ssim(a, b) == pytest.approx(want_y, abs=1e-12)
    assert ssim(a[..., 0], b[..., 0], on="gray") == pytest.approx(want_red, abs=1e-12)


def test_ssim_identity_symmetry_and_batches():
    a = pattern_rgb(20, 30, 7)
    b = degrade(a, 7, 15)
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-15)
    assert ssim(a, b) == pytest.approx(ssim(b, a), abs=1e-15)
    batch = ssim_per_image(np.stack([a, a, b]), np.stack([a, b, a]))
    assert batch.shape == (3,)
    assert batch[0] == pytest.approx(1.0) and batch[1] == pytest.approx(ssim(a, b), abs=1e-15)


def test_constant_images():
    a = np.full((16, 16), 50.0)
    assert ssim(a, a, on="gray") == pytest.approx(1.0)
    # Constant images: SSIM reduces to the luminance term (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1).
    c1 = (0.01 * 255) ** 2
    want = (2 * 50 * 60 + c1) / (50**2 + 60**2 + c1)
    assert ssim(a, a + 10, on="gray") == pytest.approx(want, rel=1e-12)


def test_bad_images():
    with pytest.raises(InputError):
        psnr(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(InputError):
        psnr(np.zeros((0,)), np.zeros((0,)))
    with pytest.raises(InputError):
        rgb_to_y(np.zeros((4, 4, 4)))
    with pytest.raises(InputError):
        ssim(np.zeros((10, 40, 3)), np.zeros((10, 40, 3)))  # smaller than the window
    with pytest.raises(InputError):
        ssim(np.zeros((12, 12, 3)), np.zeros((12, 12, 3)), on="lab")
    with pytest.raises(InputError):
        ssim(np.zeros((2, 12, 12, 3)), np.zeros((2, 12, 12, 3)))  # a batch: use ssim_per_image
    with pytest.raises(InputError):
        psnr(np.zeros(3), np.ones(3), peak=0)
