"""omnicodec.omni.rotate_erp: identities, exact column rolls, centring, agreement with viewports."""

from __future__ import annotations

import numpy as np
import pytest

from omnicodec.errors import InputError
from omnicodec.omni import erp_to_viewport, rotate_erp
from tests.omni._images import centroid, direction_image, spot_image

H, W = 64, 128


@pytest.fixture
def img(rng):
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)


@pytest.mark.parametrize("angles", [(0, 0, 0), (360, 0, 0), (-720, 0, 0), (0, 360, 0), (0, 0, -360), (360, 720, 1080)])
def test_identity(img, angles):
    for interp in ("nearest", "bilinear", "bicubic"):
        out = rotate_erp(img, *angles, interpolation=interp)
        np.testing.assert_array_equal(out, img)
        assert not np.shares_memory(out, img)


@pytest.mark.parametrize("k", [1, 5, -3, W // 4, W - 1, W + 2, -2 * W - 7])
def test_yaw_by_pixel_steps_is_a_column_roll(img, k):
    for interp in ("bilinear", "bicubic"):
        np.testing.assert_array_equal(rotate_erp(img, k * 360 / W, interpolation=interp), np.roll(img, -k, axis=1))
    f = img[..., 0].astype(np.float64) / 7
    np.testing.assert_array_equal(rotate_erp(f, k * 360 / W), np.roll(f, -k, axis=1))


def test_half_turns_through_the_general_path(img):
    """pitch 180 then roll 180 is the same rotation as yaw 180 (with exact sines): pixel centres map to centres."""
    for interp in ("nearest", "bilinear"):
        np.testing.assert_array_equal(rotate_erp(img, 0, 180, 180, interp), np.roll(img, -W // 2, axis=1))


def test_half_pixel_yaw_interpolates(rng):
    f = rng.uniform(0, 1, (H, W))
    out = rotate_erp(f, 0.5 * 360 / W, interpolation="bilinear")
    np.testing.assert_allclose(out, (f + np.roll(f, -1, axis=1)) / 2, rtol=0, atol=1e-9)


@pytest.mark.parametrize("yaw,pitch", [(40.0, 30.0), (-150.0, -45.0), (180.0, 0.0), (0.0, 90.0)])
def test_output_centre_shows_the_input_at_yaw_pitch(yaw, pitch):
    src = spot_image(128, 256, yaw, pitch, radius_deg=5.0)
    out = rotate_erp(src, yaw, pitch, 0.0)
    cx, cy = centroid(out)
    assert abs(cx - 127.5) < 0.5 and abs(cy - 63.5) < 0.5, (cx, cy)


def test_viewport_of_the_rotated_panorama():
    d = direction_image(128, 256)
    for yaw, pitch, roll in ((30.0, 20.0, 10.0), (-100.0, -40.0, 75.0)):
        rotated = rotate_erp(d, yaw, pitch, roll, "bicubic")
        a = erp_to_viewport(rotated, 0, 0, 0, 60, (24, 24), "bicubic")
        b = erp_to_viewport(d, yaw, pitch, roll, 60, (24, 24), "bicubic")
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)


def test_dtypes_constants_and_errors(rng):
    for value, dtype in ((5, np.uint8), (0.3, np.float64), (1000, np.uint16)):
        c = np.full((H, W), value, dtype=dtype)
        out = rotate_erp(c, 13, 27, 31, "bicubic")
        assert out.dtype == dtype and out.shape == (H, W)
        np.testing.assert_array_equal(out, c)
    with pytest.raises(InputError, match="interpolation"):
        rotate_erp(np.zeros((4, 8)), 10, interpolation="cubic")


def test_full_size_panorama_memory(rng):
    """6656 x 3328 RGB: temporaries stay within a few times the image size (tracemalloc sees numpy's buffers)."""
    import tracemalloc

    from omnicodec.omni import cubemap_to_erp, erp_to_cubemap

    big = np.empty((3328, 6656, 3), dtype=np.uint8)
    big[:] = rng.integers(0, 256, (3328, 1, 3), dtype=np.uint8)
    size = big.nbytes
    tracemalloc.start()
    try:
        out = rotate_erp(big, 10, 20, 30, "bicubic")
        assert tracemalloc.get_traced_memory()[1] < 2.5 * size  # the output is one image size of it
        del out
        tracemalloc.reset_peak()
        erp_to_viewport(big, 10, 20, 30)
        assert tracemalloc.get_traced_memory()[1] < 4 * size
        tracemalloc.reset_peak()
        faces = erp_to_cubemap(big, 1664)
        assert tracemalloc.get_traced_memory()[1] < 4 * size
        tracemalloc.reset_peak()
        cubemap_to_erp(faces, 3328, 6656)
        assert tracemalloc.get_traced_memory()[1] < 5 * size
    finally:
        tracemalloc.stop()
