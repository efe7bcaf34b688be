"""omnicodec.omni.cubemap: face order and orientation, ERP <-> cubemap accuracy, layouts."""

from __future__ import annotations

import numpy as np
import pytest

from omnicodec.errors import InputError
from omnicodec.omni import (
    FACE_ANGLES,
    FACES,
    c2e,
    cubemap_layout,
    cubemap_to_erp,
    e2c,
    erp_to_cubemap,
    erp_to_viewport,
    face_basis,
)
from tests.omni._images import centroid, direction_image, smooth, smooth_image, spot_image

H, W, F = 256, 512, 128


def _face_directions(f: int) -> dict[str, np.ndarray]:
    """Unit directions of every face pixel, written out from the documented table (a right, b up)."""
    a = (np.arange(f) + 0.5) * 2 / f - 1
    a, b = np.meshgrid(a, -a)
    one = np.ones_like(a)
    d = {
        "px": (one, a, b), "nx": (-one, -a, b), "py": (-a, one, b),
        "ny": (a, -one, b), "pz": (-b, a, one), "nz": (b, a, -one),
    }
    out = {k: np.stack(v, axis=-1) for k, v in d.items()}
    return {k: v / np.linalg.norm(v, axis=-1, keepdims=True) for k, v in out.items()}


def test_faces_show_what_the_geometry_says():
    assert FACES == ("px", "nx", "py", "ny", "pz", "nz")
    faces = erp_to_cubemap(direction_image(H, W), 32, "bicubic")
    assert faces.shape == (6, 32, 32, 3)
    for k, (name, want) in enumerate(_face_directions(32).items()):
        assert FACES[k] == name
        np.testing.assert_allclose(faces[k], want, rtol=0, atol=0.02, err_msg=name)  # 0.02: pole clamping
        np.testing.assert_array_equal(face_basis(name), face_basis(k))
    # the +x face, centre and orientation: a spot at (lon 30, lat 0) lies right of its centre, at
    # column (1 + tan 30) F / 2, and a spot at (lon 0, lat 20) above it, at row (1 - tan 20) F / 2
    for lon, lat, col, row in ((30.0, 0.0, (1 + np.tan(np.radians(30))) * 32, 32.0),
                               (0.0, 20.0, 32.0, (1 - np.tan(np.radians(20))) * 32)):
        px = erp_to_cubemap(spot_image(H, W, lon, lat, 2.0), 64)[0]
        cx, cy = centroid(px)
        assert abs(cx + 0.5 - col) < 0.5 and abs(cy + 0.5 - row) < 0.5, (lon, lat, cx, cy)


def test_each_face_is_the_90_degree_viewport(rng):
    img = rng.integers(0, 256, (64, 128, 3), dtype=np.uint8)
    faces = e2c(img, 24, "bilinear")
    for k, (yaw, pitch) in enumerate(FACE_ANGLES):
        np.testing.assert_array_equal(faces[k], erp_to_viewport(img, yaw, pitch, 0.0, 90.0, (24, 24)))


@pytest.mark.parametrize("interp,tol", [("bilinear", 1e-4), ("bicubic", 1e-3), ("nearest", 1e-2)])
def test_round_trip_of_a_smooth_function(interp, tol):
    """ERP -> cubemap -> ERP of a smooth function on the sphere (values 0.2..0.9) stays within ``tol``."""
    erp = smooth_image(H, W)
    back = cubemap_to_erp(erp_to_cubemap(erp, F, interp), H, W, interp)
    assert back.shape == (H, W) and back.dtype == np.float64
    assert np.abs(back - erp).max() < tol
    exact_faces = np.stack([smooth(v) for v in _face_directions(F).values()])
    assert np.abs(cubemap_to_erp(exact_faces, H, W, interp) - erp).max() < tol  # across the cube's edges too


def test_c2e_uint8_and_channels(rng):
    faces = rng.integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
    erp = c2e(faces, 32, 64, "bicubic")
    assert erp.shape == (32, 64, 3) and erp.dtype == np.uint8
    # ERP pixel (row 15, column at the face's yaw) lies 2.8 degrees north-east of the centre of a side face: with
    # nearest sampling it shows face pixel (row 7, column 8), just up and right of the face centre
    near = c2e(faces, 32, 64, "nearest")
    for k, (yaw, _) in enumerate(FACE_ANGLES[:4]):
        col = round((yaw + 180) % 360 / 360 * 64)
        np.testing.assert_array_equal(near[15, col], faces[k, 7, 8])


def test_constants_are_exact():
    for value, dtype in ((200, np.uint8), (0.3, np.float64)):
        erp = np.full((64, 128, 2), value, dtype=dtype)
        for interp in ("nearest", "bilinear", "bicubic"):
            faces = erp_to_cubemap(erp, 16, interp)
            np.testing.assert_array_equal(faces, np.full((6, 16, 16, 2), value, dtype=dtype))
            np.testing.assert_array_equal(cubemap_to_erp(faces, 64, 128, interp), erp)


def test_layouts():
    faces = np.stack([np.full((4, 4, 1), k + 1, np.uint8) for k in range(6)])
    cross = cubemap_layout(faces)
    assert cross.shape == (12, 16, 1)
    cells = cross[::4, ::4, 0]
    np.testing.assert_array_equal(cells, [[0, 5, 0, 0], [4, 1, 3, 2], [0, 6, 0, 0]])  # ny px py nx, pz/nz at px
    grid = cubemap_layout(faces[..., 0], "3x2")
    np.testing.assert_array_equal(grid[::4, ::4], [[1, 2, 3], [4, 5, 6]])
    assert cubemap_layout(faces, fill=9)[0, 0, 0] == 9


def test_errors():
    with pytest.raises(InputError, match="face_size"):
        erp_to_cubemap(np.zeros((8, 16)), 0)
    with pytest.raises(InputError, match="faces must"):
        cubemap_to_erp(np.zeros((5, 4, 4)), 8, 16)
    with pytest.raises(InputError, match="layout"):
        cubemap_layout(np.zeros((6, 4, 4)), "4x3")
    for bad in ("qx", 6, -1, 1.5):
        with pytest.raises(InputError, match="face must"):
            face_basis(bad)
    with pytest.raises(InputError, match="interpolation"):
        cubemap_to_erp(np.zeros((6, 4, 4)), 8, 16, "area")
