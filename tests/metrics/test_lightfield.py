"""Per-view light-field quality."""

from __future__ import annotations

import math

import numpy as np
import pytest

from omnicodec.errors import InputError
from omnicodec.metrics import lightfield_quality, mean_psnr_rgb, mean_psnr_y, mean_ssim_y, psnr, psnr_y, ssim
from omnicodec.types import LightField

from ._patterns import degrade, pattern_rgb


def _field(u: int = 2, v: int = 3, h: int = 16, w: int = 20) -> tuple[np.ndarray, np.ndarray]:
    ref = np.stack([np.stack([pattern_rgb(h, w, 10 * i + j) for j in range(v)]) for i in range(u)])
    dec = ref.copy()
    for i in range(u):
        for j in range(v):
            if (i, j) != (0, 0):  # view (0, 0) is decoded without error
                dec[i, j] = degrade(ref[i, j], i + j, 2 + 3 * i + j)
    return ref, dec


def test_per_view_values_match_the_image_metrics():
    ref, dec = _field()
    q = lightfield_quality(LightField(ref), LightField(dec))
    assert q["psnr_y"].shape == q["ssim_y"].shape == q["psnr_rgb"].shape == (2, 3)
    assert q["psnr_y"][0, 0] == math.inf and q["ssim_y"][0, 0] == pytest.approx(1.0)
    for i in range(2):
        for j in range(3):
            if (i, j) == (0, 0):
                continue
            assert q["psnr_y"][i, j] == pytest.approx(psnr_y(ref[i, j], dec[i, j]), abs=1e-12)
            assert q["psnr_rgb"][i, j] == pytest.approx(psnr(ref[i, j], dec[i, j]), abs=1e-12)
            assert q["ssim_y"][i, j] == pytest.approx(ssim(ref[i, j], dec[i, j]), abs=1e-14)
    assert q["mean_psnr_y"] == math.inf  # one lossless view
    assert q["mean_ssim_y"] == pytest.approx(float(np.mean(q["ssim_y"])))
    assert isinstance(q["mean_psnr_rgb"], float)


def test_means():
    ref, dec = _field()
    dec[0, 0, 0, 0, 0] ^= 1  # now every view has an error
    q = lightfield_quality(ref, dec)
    assert mean_psnr_y(ref, dec) == pytest.approx(float(np.mean(q["psnr_y"])))  # mean of dB values
    assert mean_psnr_rgb(ref, dec) == pytest.approx(float(np.mean(q["psnr_rgb"])))
    assert mean_ssim_y(ref, dec) == pytest.approx(q["mean_ssim_y"])
    assert "ssim_y" not in lightfield_quality(ref, dec, ssim=False)


def test_bad_light_fields():
    ref, dec = _field()
    with pytest.raises(InputError):
        lightfield_quality(ref, dec[:, :2])
    with pytest.raises(InputError):
        lightfield_quality(ref[0], dec[0])
    with pytest.raises(InputError):
        mean_psnr_y(ref[..., :2], dec[..., :2])
