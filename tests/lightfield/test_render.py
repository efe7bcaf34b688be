"""Light-field rendering: mosaic, shift-and-add refocusing, EPIs, parallax paths and GIFs.

The synthetic fields follow the module's disparity convention exactly: view (u, v) of a field with integer
disparity d is the texture rolled by d (u - uc) rows and d (v - vc) columns (np.roll moves content towards higher
indices), so a texture pixel at (y, x) in the centre view sits at (y + d (u - uc), x + d (v - vc)) in view (u, v).
Rolling wraps around, so comparisons with refocused images stay 2 d away from the borders of a 5 x 5 field.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from omnicodec.errors import InputError
from omnicodec.lightfield.render import (
    PATH_KINDS,
    epi,
    mosaic,
    parallax_frames,
    parallax_path,
    refocus,
    refocus_sweep,
    save_gif,
)
from omnicodec.types import LightField


def shifted_field(tex: np.ndarray, d: int, u: int = 5, v: int = 5) -> np.ndarray:
    """(u, v, H, W, C) views of ``tex`` (H, W, C) at integer disparity ``d``, centred on the middle view."""
    uc, vc = (u - 1) // 2, (v - 1) // 2
    return np.stack(
        [np.stack([np.roll(tex, (d * (a - uc), d * (b - vc)), axis=(0, 1)) for b in range(v)]) for a in range(u)]
    )


@pytest.fixture
def tex(rng) -> np.ndarray:
    return rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)


# mosaic


def test_mosaic_blocks_and_gaps(rng):
    views = rng.integers(1, 256, size=(3, 4, 5, 6, 3), dtype=np.uint8)
    tiled = mosaic(views)
    assert tiled.shape == (15, 24, 3) and tiled.dtype == np.uint8
    gapped = mosaic(LightField(views), gap=2, background=(0, 7, 255))
    assert gapped.shape == (3 * 5 + 2 * 2, 4 * 6 + 3 * 2, 3)
    mask = np.ones(gapped.shape[:2], dtype=bool)
    for a in range(3):
        for b in range(4):
            np.testing.assert_array_equal(tiled[a * 5 : a * 5 + 5, b * 6 : b * 6 + 6], views[a, b])
            np.testing.assert_array_equal(gapped[a * 7 : a * 7 + 5, b * 8 : b * 8 + 6], views[a, b])
            mask[a * 7 : a * 7 + 5, b * 8 : b * 8 + 6] = False
    assert mask.sum() == gapped.shape[0] * gapped.shape[1] - 12 * 30
    np.testing.assert_array_equal(gapped[mask], np.broadcast_to([0, 7, 255], (mask.sum(), 3)))


def test_mosaic_grey_float_and_bad_background(rng):
    views = rng.random((2, 2, 3, 4, 1)) * 255
    out = mosaic(views, gap=1, background=-1.5)
    assert out.shape == (7, 9, 1) and out.dtype == np.float64
    assert np.all(out[3] == -1.5) and np.all(out[:, 4] == -1.5)
    np.testing.assert_array_equal(out[4:, 5:], views[1, 1])
    with pytest.raises(InputError, match="background"):
        mosaic(views.astype(np.uint8), gap=1, background=300)
    with pytest.raises(InputError, match="background"):
        mosaic(views, gap=1, background=(1, 2))
    with pytest.raises(InputError, match="gap"):
        mosaic(views, gap=-1)


# refocus


@pytest.mark.parametrize("d", [1, 2])
def test_refocus_at_the_disparity_gives_the_centre_view(tex, d):
    lf = shifted_field(tex, d)
    m = 2 * d
    sharp = refocus(lf, d)
    assert sharp.shape == tex.shape and sharp.dtype == np.uint8
    np.testing.assert_array_equal(sharp[m:-m, m:-m], tex[m:-m, m:-m])
    blurred = refocus(lf, -d)
    assert np.abs(blurred[m:-m, m:-m].astype(float) - tex[m:-m, m:-m]).mean() > 20


def test_refocus_centre_and_sweep(tex):
    lf = LightField(shifted_field(tex, 1))
    # aligned with view (0, 0) instead of the middle one
    np.testing.assert_array_equal(refocus(lf, 1, centre=(0, 0))[4:-4, 4:-4], lf.views[0, 0, 4:-4, 4:-4])
    stack = refocus_sweep(lf, [1.0, -0.5, 0.0])
    assert stack.shape == (3,) + tex.shape and stack.dtype == np.uint8
    for k, s in enumerate([1.0, -0.5, 0.0]):
        np.testing.assert_array_equal(stack[k], refocus(lf, s))
    # slope 0 is the plain mean of the views
    np.testing.assert_array_equal(stack[2], np.rint(lf.views.astype(float).mean(axis=(0, 1))).astype(np.uint8))


def test_refocus_subpixel_is_bilinear():
    # a horizontal ramp 3 x + y at disparity 0.3: shifting a linear function bilinearly is exact
    y, x = np.mgrid[0:10, 0:20].astype(np.float32)
    views = np.stack([np.stack([3 * (x - 0.3 * (b - 1.5)) + y for b in range(4)]) for _ in range(2)])[..., None]
    out = refocus(views, 0.3)
    assert out.dtype == np.float32 and out.shape == (10, 20, 1)
    np.testing.assert_allclose(out[1:-1, 1:-1, 0], (3 * x + y)[1:-1, 1:-1], atol=1e-4)
    # edges are replicated, not wrapped: view row 0 samples rows -0.15 (clamped to 0) and +0.15
    np.testing.assert_allclose(out[0, 1:-1, 0], (3 * x)[0, 1:-1] + 0.075, atol=1e-4)


def test_grey_field(tex):
    grey = shifted_field(tex[:, :, :1], 2)
    assert mosaic(grey).shape == (5 * 24, 5 * 32, 1)
    np.testing.assert_array_equal(refocus(grey, 2)[4:-4, 4:-4], tex[4:-4, 4:-4, :1])
    assert epi(grey).shape == (5, 32, 1)
    assert all(f.shape == (24, 32, 1) for f in parallax_frames(grey, [(0, 0), (1.5, 2.25)]))


# EPIs


def test_epi_lines_have_slope_d(tex):
    d = 2
    lf = shifted_field(tex, d)
    h = epi(lf, row=7)
    assert h.shape == (5, 32, 3)
    for k in range(5):
        np.testing.assert_array_equal(h[k], np.roll(h[0], d * k, axis=0))
        np.testing.assert_array_equal(h[k], lf[2, k, 7])
    vert = epi(lf, axis="vertical", col=3, view_col=1)
    assert vert.shape == (5, 24, 3)
    for k in range(5):
        np.testing.assert_array_equal(vert[k], np.roll(vert[0], d * k, axis=0))
        np.testing.assert_array_equal(vert[k], lf[k, 1, :, 3])
    stretched = epi(lf, row=7, stretch=4)
    assert stretched.shape == (20, 32, 3)
    np.testing.assert_array_equal(stretched[::4], h)
    np.testing.assert_array_equal(stretched[3::4], h)
    np.testing.assert_array_equal(epi(lf), lf[2, :, 12])


# parallax


def test_parallax_paths():
    assert parallax_path(2, 3, kind="serpentine") == [(0, 0), (0, 1), (0, 2), (1, 2), (1, 1), (1, 0)]
    assert parallax_path(3, 4, kind="row") == [(1, 0), (1, 1), (1, 2), (1, 3), (1, 2), (1, 1)]
    row = parallax_path(3, 4, kind="row", steps=12)
    assert len(row) == 12 and row[0] == (1.0, 0.0) and row[6] == (1.0, 3.0) and row[3] == (1.0, 1.5)
    circle = parallax_path(5, 9, steps=8)
    assert len(circle) == 8 and all(isinstance(c, float) for p in circle for c in p)
    assert circle[0] == (2.0, 8.0)
    np.testing.assert_allclose(circle[2], (0.0, 4.0), atol=1e-12)
    np.testing.assert_allclose(circle[4], (2.0, 0.0), atol=1e-12)
    assert all(0 <= a <= 4 and 0 <= b <= 8 for a, b in circle)
    assert len(parallax_path(9, 9)) == 36
    assert set(PATH_KINDS) == {"circle", "serpentine", "row"}


def test_parallax_frames(rng):
    views = rng.integers(0, 256, size=(3, 3, 4, 5, 3), dtype=np.uint8)
    frames = parallax_frames(LightField(views), [(0, 2), (2.0, 1.0), (0.5, 0), (1.25, 1.5)])
    np.testing.assert_array_equal(frames[0], views[0, 2])
    np.testing.assert_array_equal(frames[1], views[2, 1])
    f = views.astype(float)
    np.testing.assert_array_equal(frames[2], np.rint((f[0, 0] + f[1, 0]) / 2).astype(np.uint8))
    blend = 0.75 * 0.5 * (f[1, 1] + f[1, 2]) + 0.25 * 0.5 * (f[2, 1] + f[2, 2])
    np.testing.assert_array_equal(frames[3], np.rint(blend).astype(np.uint8))
    frames[0][:] = 0  # frames are copies
    assert views[0, 2].any()
    with pytest.raises(InputError, match="outside"):
        parallax_frames(views, [(0, 3)])
    with pytest.raises(InputError, match="empty"):
        parallax_frames(views, [])


def test_gif_round_trip(tmp_path, rng):
    views = rng.integers(0, 256, size=(3, 3, 16, 20, 3), dtype=np.uint8)
    path = parallax_path(3, 3, kind="serpentine")
    target = tmp_path / "sub" / "anim.gif"
    save_gif(parallax_frames(views, path), target, fps=20, loop=0)
    with Image.open(target) as im:
        assert im.format == "GIF" and im.size == (20, 16) and im.n_frames == 9
        assert im.info["loop"] == 0 and im.info["duration"] == 50
    assert [p.name for p in target.parent.iterdir()] == ["anim.gif"]
    grey = tmp_path / "grey.gif"
    save_gif([np.full((4, 6, 1), 10.0 * k) for k in range(3)], grey, fps=5)
    with Image.open(grey) as im:
        assert im.size == (6, 4) and im.n_frames == 3
        im.seek(2)
        assert np.all(np.asarray(im.convert("L")) == 20)


def test_failed_gif_write_leaves_no_file(tmp_path, monkeypatch):
    target = tmp_path / "anim.gif"
    target.write_bytes(b"old")

    def broken_save(self, fp, *args, **kwargs):
        with open(fp, "wb") as fh:
            fh.write(b"GIF89a partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_gif([np.zeros((4, 4, 3), np.uint8), np.ones((4, 4, 3), np.uint8)], target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["anim.gif"]
    with pytest.raises(OSError):
        save_gif([np.zeros((4, 4), np.uint8)], tmp_path / "new.gif")
    assert [p.name for p in tmp_path.iterdir()] == ["anim.gif"]


def test_gif_bad_frames(tmp_path):
    target = tmp_path / "x.gif"
    with pytest.raises(InputError, match="no frames"):
        save_gif([], target)
    with pytest.raises(InputError, match="same shape"):
        save_gif([np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8)], target)
    with pytest.raises(InputError, match="dtype"):
        save_gif([np.zeros((4, 4), np.uint16)], target)
    with pytest.raises(InputError, match="fps"):
        save_gif([np.zeros((4, 4), np.uint8)], target, fps=0)
    assert not any(tmp_path.iterdir())


# bad input


def test_bad_input(tex):
    lf = shifted_field(tex, 1)
    for bad in (lf[0], np.zeros((0, 5, 4, 4, 3), np.uint8), lf.astype(complex)):
        with pytest.raises(InputError):
            mosaic(bad)
    with pytest.raises(InputError, match=r"\(U, V, H, W, C\)"):
        refocus(lf[0], 1)
    with pytest.raises(InputError, match="empty"):
        epi(np.zeros((5, 5, 0, 4, 3)))
    with pytest.raises(InputError, match="axis"):
        epi(lf, axis="diagonal")
    with pytest.raises(InputError, match="row 24 is out of range"):
        epi(lf, row=24)
    with pytest.raises(InputError, match="view_row"):
        epi(lf, view_row=-1)
    with pytest.raises(InputError, match="vertical"):
        epi(lf, col=3)
    with pytest.raises(InputError, match="stretch"):
        epi(lf, stretch=0)
    with pytest.raises(InputError, match="unknown parallax path kind"):
        parallax_path(5, 5, kind="spiral")
    with pytest.raises(InputError, match="serpentine"):
        parallax_path(5, 5, kind="serpentine", steps=10)
    with pytest.raises(InputError, match="slope"):
        refocus(lf, [1, 2])
    with pytest.raises(InputError, match="finite"):
        refocus_sweep(lf, [1, np.nan])
    with pytest.raises(InputError, match="centre"):
        refocus(lf, 1, centre=(1,))


# real data


def read_pfm(path) -> np.ndarray:
    """A PFM image as (H, W) or (H, W, 3) float32, top row first (PFM stores rows bottom-up)."""
    with open(path, "rb") as fh:
        kind = fh.readline().strip()
        width, height = (int(x) for x in fh.readline().split())
        scale = float(fh.readline())
        channels = {b"Pf": 1, b"PF": 3}[kind]
        data = np.fromfile(fh, dtype="<f4" if scale < 0 else ">f4", count=width * height * channels)
    shape = (height, width) if channels == 1 else (height, width, 3)
    return data.reshape(shape)[::-1].astype(np.float32)


def laplacian_variance(rgb: np.ndarray) -> float:
    luma = rgb.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])
    lap = luma[1:-1, :-2] + luma[1:-1, 2:] + luma[:-2, 1:-1] + luma[2:, 1:-1] - 4 * luma[1:-1, 1:-1]
    return float(lap.var())


@pytest.mark.realdata
def test_sign_convention_on_hci_antinous(shared_data):
    from omnicodec.io.lightfield import read_lightfield_folder

    folder = shared_data / "lightfield" / "antinous"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    lf = read_lightfield_folder(folder)
    u, v, h, w, _ = lf.shape
    d0 = float(read_pfm(folder / "gt_disp_lowres.pfm").mean())
    assert abs(d0) > 0.5  # a clear typical disparity (about -1.23)
    # the central region of every view, plus a margin wider than the largest shift (|d0| (U - 1) / 2 pixels)
    crop = lf.views[:, :, h // 4 - 16 : 3 * h // 4 + 16, w // 4 - 16 : 3 * w // 4 + 16]
    focused, mirrored = refocus_sweep(crop, [d0, -d0])[:, 16:-16, 16:-16]
    sharp, blurred = laplacian_variance(focused), laplacian_variance(mirrored)
    assert sharp > 2 * blurred, (d0, sharp, blurred)
