"""omnicodec.omni viewports and sampling: geometry, seam wrap-around, poles, roll, dtypes, exact constants."""

from __future__ import annotations

import numpy as np
import pytest

from omnicodec.errors import InputError
from omnicodec.omni import (
    default_viewport_size,
    e2p,
    erp_to_viewport,
    sample_erp,
    viewport_directions,
    viewport_grid,
)
from tests.omni._images import centroid, direction_image, spot_image

H, W = 128, 256


def _unit(d: np.ndarray) -> np.ndarray:
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


@pytest.mark.parametrize("lon,lat", [(37.5, 22.5), (0.0, 0.0), (179.0, -10.0), (-120.0, -60.0), (90.0, 80.0)])
def test_marked_spot_is_at_the_centre(lon, lat):
    img = spot_image(256, 512, lon, lat, radius_deg=4.0)
    view = erp_to_viewport(img, lon, lat, 0.0, 60.0, (64, 64))
    cx, cy = centroid(view)
    assert abs(cx - 31.5) < 0.5 and abs(cy - 31.5) < 0.5, (cx, cy)
    assert view[31:33, 31:33].min() == 255
    assert view[0].max() == 0 and view[:, 0].max() == 0  # nothing else is bright


def test_direction_image_matches_the_documented_geometry():
    d = direction_image(H, W)
    for yaw, pitch, roll in [(0, 0, 0), (30, 20, 10), (180, 0, 0), (-135, -30, 200), (0, 90, 0), (45, -90, 30)]:
        want = _unit(viewport_directions(yaw, pitch, roll, 90.0, (32, 32)))
        for interp, tol in (("bilinear", 5e-4), ("bicubic", 1e-6)):
            got = erp_to_viewport(d, yaw, pitch, roll, 90.0, (32, 32), interp)
            np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=f"{yaw} {pitch} {roll} {interp}")


def test_viewport_axes_without_the_module():
    # the view at (yaw, pitch, roll) = 0 looks at +x with +y (east) to the right and +z up, fov 90
    want = _unit(np.stack(np.broadcast_arrays(1.0, np.linspace(-0.75, 0.75, 4)[None, :],
                                              np.linspace(0.75, -0.75, 4)[:, None]), axis=-1))
    np.testing.assert_allclose(_unit(viewport_directions(0, 0, 0, 90, (4, 4))), want, atol=1e-15)


def test_pitch_plus_and_minus_90():
    d = direction_image(H, W)
    up = erp_to_viewport(d, 0.0, 90.0, 0.0, 90.0, (33, 33), "bicubic")
    # the north pole at the centre (rows are clamped at the pole: within half a pixel of it row 0 is repeated)
    np.testing.assert_allclose(up[16, 16], [0, 0, 1], atol=0.02)
    assert up[32, 16, 0] > 0.5 and up[0, 16, 0] < -0.5  # bottom towards +x (the image centre), top towards -x
    assert up[16, 32, 1] > 0.5  # right is east
    down = erp_to_viewport(d, 0.0, -90.0, 0.0, 90.0, (33, 33), "bicubic")
    np.testing.assert_allclose(down[16, 16], [0, 0, -1], atol=0.02)
    assert down[0, 16, 0] > 0.5 and down[32, 16, 0] < -0.5 and down[16, 32, 1] > 0.5
    # a pole view of a real image works with every method and any yaw
    img = spot_image(H, W, 0.0, 90.0, radius_deg=10.0)
    for interp in ("nearest", "bilinear", "bicubic"):
        v = erp_to_viewport(img, 123.0, 90.0, 0.0, 90.0, (32, 32), interp)
        assert v[15:17, 15:17].min() == 255 and v[0, 0].max() == 0


def test_roll_turns_the_view():
    img = spot_image(256, 512, 10.0, 0.0, radius_deg=2.0)  # a spot right (east) of the view centre
    centres = {}
    for roll in (0.0, 90.0, -90.0, 180.0):
        centres[roll] = centroid(erp_to_viewport(img, 0.0, 0.0, roll, 60.0, (65, 65)))
    cx, cy = centres[0.0]
    assert cx > 32 + 8 and abs(cy - 32) < 0.5  # right of the centre
    x, y = centres[90.0]
    assert abs(x - 32) < 0.5 and y < 32 - 8  # the scene turned counter-clockwise: the spot is now above
    x, y = centres[-90.0]
    assert abs(x - 32) < 0.5 and y > 32 + 8
    x, y = centres[180.0]
    assert x < 32 - 8 and abs(y - 32) < 0.5
    assert abs((cx - 32) - (32 - centres[90.0][1])) < 0.5  # the same distance from the centre


def test_wraps_around_the_seam(rng):
    img = rng.uniform(0, 1, (H, W, 2))
    for interp in ("bilinear", "bicubic"):
        seam = erp_to_viewport(img, 180.0, 10.0, 5.0, 80.0, (40, 50), interp)
        centre = erp_to_viewport(np.roll(img, W // 2, axis=1), 0.0, 10.0, 5.0, 80.0, (40, 50), interp)
        np.testing.assert_allclose(seam, centre, rtol=0, atol=1e-9)
    x = viewport_grid((H, W), 180.0, 0.0, 0.0, 90.0, (8, 8))[..., 0]
    assert x.min() < 10 and x.max() > W - 10  # the grid straddles the seam


def test_grid_once_sample_many(rng):
    grid = viewport_grid((H, W), 20.0, -15.0, 5.0, 75.0, (30, 40))
    assert grid.shape == (30, 40, 2) and grid.dtype == np.float64
    for _ in range(2):
        img = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        np.testing.assert_array_equal(sample_erp(img, grid, "bicubic"),
                                      erp_to_viewport(img, 20.0, -15.0, 5.0, 75.0, (30, 40), "bicubic"))
    gray = rng.uniform(0, 1, (H, W))
    assert sample_erp(gray, grid).shape == (30, 40)
    assert e2p is erp_to_viewport


def test_default_size_and_vertical_fov():
    assert default_viewport_size(6656) == (1664, 1664)
    assert erp_to_viewport(np.zeros((H, W, 3), np.uint8), 0, 0).shape == (64, 64, 3)
    assert erp_to_viewport(np.zeros((H, W, 3), np.uint8), 0, 0, 0, 45).shape == (32, 32, 3)
    d = _unit(viewport_directions(0, 0, 0, 90, (2, 4)))  # 90 degrees across, about 53 degrees high
    assert np.degrees(np.arcsin(d[0, 0, 2])) < 27 and np.degrees(np.arctan2(d[0, -1, 1], d[0, -1, 0])) > 30


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
def test_output_dtype_follows_the_input(dtype, rng):
    img = rng.integers(0, 200, (H, W, 3)).astype(dtype)
    for interp in ("nearest", "bilinear", "bicubic"):
        assert erp_to_viewport(img, 10, 20, 30, 90, (16, 16), interp).dtype == dtype


def test_uint8_is_rounded_and_clipped_not_wrapped():
    img = np.zeros((H, W, 1), np.uint8)
    img[:, (np.arange(W) // 4) % 2 == 1] = 255  # stripes: bicubic overshoots next to each edge
    as_float = erp_to_viewport(img.astype(np.float64), 3, 4, 5, 30, (40, 40), "bicubic")
    assert as_float.min() < -1 and as_float.max() > 256  # the test means something
    got = erp_to_viewport(img, 3, 4, 5, 30, (40, 40), "bicubic")
    np.testing.assert_array_equal(got, np.clip(np.rint(as_float), 0, 255).astype(np.uint8))


def test_constant_images_are_exact():
    for value, dtype in ((77, np.uint8), (0.3, np.float64), (0.7, np.float32)):
        img = np.full((H, W, 3), value, dtype=dtype)
        views = [erp_to_viewport(img, 33, -47, 12, 100, (20, 30), i) for i in ("nearest", "bilinear", "bicubic")]
        for v in views:
            np.testing.assert_array_equal(v, np.full((20, 30, 3), value, dtype=dtype))


def test_errors():
    img = np.zeros((H, W, 3), np.uint8)
    with pytest.raises(InputError, match="field of view"):
        erp_to_viewport(img, 0, 0, 0, 180)
    with pytest.raises(InputError, match="field of view"):
        erp_to_viewport(img, 0, 0, 0, 0)
    with pytest.raises(InputError, match="interpolation"):
        erp_to_viewport(img, 0, 0, interpolation="lanczos")
    with pytest.raises(InputError, match="size"):
        erp_to_viewport(img, 0, 0, size=(0, 4))
    with pytest.raises(InputError, match="shape"):
        erp_to_viewport(np.zeros((2, 3, 4, 5)), 0, 0)
    with pytest.raises(InputError, match="dtype"):
        erp_to_viewport(np.zeros((4, 8), dtype=bool), 0, 0)
    with pytest.raises(InputError, match=r"\(\.\.\., 2\)"):
        sample_erp(img, np.zeros((3, 3)))
