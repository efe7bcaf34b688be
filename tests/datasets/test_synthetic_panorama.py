"""The synthetic room panorama: deterministic, (H, 2H, 3) uint8, continuous across the seam, and the shipped sample
is exactly a fresh render."""

from __future__ import annotations

import numpy as np
from PIL import Image

from datasets.synthetic_panorama import main, render_room_panorama, render_room_view
from omnicodec.omni import erp_to_viewport
from tests.conftest import SAMPLES


def test_render_is_deterministic_with_shape_and_dtype():
    a, b = render_room_panorama(64, seed=3), render_room_panorama(64, seed=3)
    assert a.shape == (64, 128, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, render_room_panorama(64, seed=4))  # the seed changes the textures
    assert a.std() > 20 and len(np.unique(a.reshape(-1, 3), axis=0)) > 1000  # not flat: there is texture to code


def test_render_is_continuous_across_the_seam():
    img = render_room_panorama(128).astype(np.float64)
    h, w = img.shape[:2]
    seam = np.abs(img[:, 0] - img[:, -1]).mean()  # columns 0 and W-1 are neighbours on the sphere
    neighbours = np.abs(np.diff(img, axis=1)).mean(axis=(0, 2))  # every other pair of adjacent columns
    assert seam <= np.percentile(neighbours, 95)
    assert seam < np.abs(img[:, 0] - img[:, w // 2]).mean() / 3  # against unrelated columns
    # the seam marker: the picture's sun, centred on longitude 180, fills both edge columns at the horizon
    rows = slice(h // 2 - 3, h // 2 + 1)  # latitudes +4 to -1 degrees
    band = np.concatenate([img[rows, 0], img[rows, -1]])
    assert np.all(band[:, 0] > 150) and np.all(band[:, 1] > 120) and np.all(band[:, 2] < 120)
    assert np.abs(img[rows, 0] - img[rows, -1]).mean() < 6


def test_shipped_sample_is_a_fresh_render():
    shipped = np.asarray(Image.open(SAMPLES / "room_panorama.png").convert("RGB"))
    assert shipped.shape == (512, 1024, 3)
    assert np.array_equal(shipped, render_room_panorama(512, seed=0))


def test_perspective_view_matches_the_panorama_viewport():
    view = render_room_view(yaw=-60.0, pitch=-10.0, fov_deg=70.0, size=(48, 64))  # the bookcase, asymmetric
    assert view.shape == (48, 64, 3) and view.dtype == np.uint8
    assert np.array_equal(view, render_room_view(yaw=-60.0, pitch=-10.0, fov_deg=70.0, size=(48, 64)))
    pano = render_room_panorama(128)
    same, turned = (erp_to_viewport(pano, yaw, -10.0, 0.0, 70.0, (48, 64), "bilinear") for yaw in (-60.0, -45.0))
    diff = np.abs(view.astype(np.float64) - same).mean()  # the same geometry; only resolution and resampling differ
    assert diff < 10, diff
    assert diff < np.abs(view.astype(np.float64) - turned).mean() / 3  # a view turned by 15 degrees is far off
    assert diff < np.abs(view.astype(np.float64) - same[:, ::-1]).mean() / 3  # and so is the mirror image


def test_cli_writes_a_png(tmp_path):
    out = tmp_path / "sub" / "pano.png"
    assert main(["--out", str(out), "--height", "16", "--seed", "2"]) == 0
    assert np.array_equal(np.asarray(Image.open(out)), render_room_panorama(16, seed=2))
