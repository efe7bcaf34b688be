"""Light-field folders (hci, rowcol) and HDF5, and ERP images: exact round trips and errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import omnicodec
from omnicodec.errors import InputError
from omnicodec.io import read_lightfield_folder, write_lightfield_folder
from omnicodec.types import ErpImage, LightField


@pytest.fixture
def lf(rng):
    return LightField(rng.integers(0, 256, (3, 3, 8, 6, 3), dtype=np.uint8))


@pytest.mark.parametrize("naming,first", [("hci", "input_Cam000.png"), ("rowcol", "view_01_01.png")])
def test_folder_round_trip(tmp_path, lf, naming, first):
    path = tmp_path / "views"
    omnicodec.write(path, lf, naming=naming)
    names = sorted(p.name for p in path.iterdir())
    assert len(names) == 9 and names[0] == first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left
    back = omnicodec.read(path)
    assert back.views.dtype == np.uint8
    np.testing.assert_array_equal(back.views, lf.views)
    assert back.metadata["naming"] == naming
    # the view index is row * V + col (hci) or _RR_CC, 1-based (rowcol)
    name = "input_Cam005.png" if naming == "hci" else "view_02_03.png"
    np.testing.assert_array_equal(np.asarray(Image.open(path / name)), lf.views[1, 2])


def test_rowcol_non_square_prefix_and_ignored_files(tmp_path, rng):
    views = rng.integers(0, 256, (2, 4, 5, 7, 3), dtype=np.uint8)
    lf = LightField(views, metadata={"naming": "rowcol", "prefix": "2067"})
    path = tmp_path / "lytro"
    omnicodec.write(path, lf)
    assert (path / "2067_02_04.png").is_file()
    (path / "LICENSE.txt").write_text("licence")
    (path / "gt_disp_lowres.pfm").write_bytes(b"Pf\n7 5\n-1\n" + bytes(140))
    back = read_lightfield_folder(path)
    assert back.metadata == {"format": "folder", "naming": "rowcol", "prefix": "2067", "first_index": 1}
    np.testing.assert_array_equal(back.views, lf.views)
    with pytest.raises(InputError, match="hci naming needs a square grid"):
        omnicodec.write(tmp_path / "other", lf, naming="hci")


def test_grey_and_16_bit_views(tmp_path, rng):
    grey8 = rng.integers(0, 256, (2, 2, 4, 4, 1), dtype=np.uint8)
    grey16 = rng.integers(0, 65536, (2, 2, 4, 4, 1), dtype=np.uint16)
    for views in (grey8, grey16):
        write_lightfield_folder(tmp_path / "g", LightField(views), overwrite=True)
        back = read_lightfield_folder(tmp_path / "g")
        assert back.views.dtype == views.dtype
        np.testing.assert_array_equal(back.views, views)


def test_existing_folder_needs_overwrite(tmp_path, lf):
    path = tmp_path / "views"
    omnicodec.write(path, lf)
    with pytest.raises(InputError, match="not empty"):
        omnicodec.write(path, lf)
    lf2 = LightField(lf.views[:2, :2].copy())
    omnicodec.write(path, lf2, overwrite=True)
    assert len(list(path.iterdir())) == 4  # replaced whole: no stale views
    np.testing.assert_array_equal(omnicodec.read(path).views, lf2.views)
    (tmp_path / "empty").mkdir()
    omnicodec.write(tmp_path / "empty", lf)
    assert len(list((tmp_path / "empty").iterdir())) == 9


def test_missing_and_inconsistent_views(tmp_path, lf):
    path = tmp_path / "views"
    omnicodec.write(path, lf)
    (path / "input_Cam004.png").unlink()
    missing = rf"^{path}: missing views: input_Cam004.png \(the codec needs the full 3x3 grid\)"
    with pytest.raises(InputError, match=missing):
        omnicodec.read(path)
    Image.fromarray(np.zeros((8, 7, 3), np.uint8)).save(path / "input_Cam004.png")
    with pytest.raises(InputError, match="input_Cam004.png: view is 7x8x3 uint8 but input_Cam000.png is 6x8x3"):
        omnicodec.read(path)
    (path / "input_Cam004.png").unlink()
    (path / "input_Cam008.png").unlink()
    with pytest.raises(InputError, match="does not close a square grid"):
        omnicodec.read(path)
    for p in path.iterdir():
        p.unlink()
    with pytest.raises(InputError, match="no sub-aperture views"):
        omnicodec.read(path)
    (path / "a_01_01.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="a_01_01.png: cannot read the image"):
        omnicodec.read(path)
    (path / "b_01_01.png").write_bytes(b"")
    with pytest.raises(InputError, match="more than one light field"):
        omnicodec.read(path)


@pytest.mark.parametrize("ext", [".h5", ".hdf5"])
def test_hdf5_round_trip(tmp_path, lf, ext):
    lf.metadata.update({"naming": "hci", "scene": "synthetic", "baseline": [0.5, 0.25], "skip": {"a": 1}})
    path = tmp_path / f"lf{ext}"
    omnicodec.write(path, lf, compression="gzip")
    back = omnicodec.read(path)
    np.testing.assert_array_equal(back.views, lf.views)
    assert back.views.dtype == np.uint8
    assert back.metadata == {"naming": "hci", "scene": "synthetic", "baseline": [0.5, 0.25], "format": "hdf5"}


def test_hdf5_errors(tmp_path):
    import h5py

    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f["other"] = np.zeros(3)
        f["views"] = np.zeros((2, 2, 2))
    with pytest.raises(InputError, match="no dataset 'lf'"):
        omnicodec.read(path, dataset="lf")
    with pytest.raises(InputError, match=r"must be \(U, V, H, W, C\)"):
        omnicodec.read(path)
    with h5py.File(path, "w") as f:  # 4 GiB declared, nothing stored
        f.create_dataset("views", shape=(9, 9, 4096, 4096, 3), dtype="u1", chunks=(1, 1, 64, 64, 3), compression="gzip")
    with pytest.raises(InputError, match="needs 4076863488 bytes but stores 0"):
        omnicodec.read(path)
    path.write_bytes(b"not hdf5 at all")
    with pytest.raises(InputError, match=f"^{path}: cannot read HDF5"):
        omnicodec.read(path)


def test_png_exact_and_jpeg_quality(tmp_path, rng):
    pixels = rng.integers(0, 256, (32, 64, 3), dtype=np.uint8)
    omnicodec.write(tmp_path / "a.png", ErpImage(pixels))
    back = omnicodec.read(tmp_path / "a.png")
    assert back.metadata == {"format": "png", "mode": "RGB"}
    np.testing.assert_array_equal(back.pixels, pixels)
    smooth = np.broadcast_to(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], (32, 64, 3)).copy()
    errs = []
    for q in (30, 95):
        omnicodec.write(tmp_path / f"q{q}.jpg", ErpImage(smooth), quality=q)
        img = omnicodec.read(tmp_path / f"q{q}.jpg")
        assert img.pixels.shape == (32, 64, 3) and img.metadata["format"] == "jpeg"
        errs.append(np.abs(img.pixels.astype(int) - smooth).mean())
    assert errs[1] < errs[0] and errs[1] < 2


def test_image_modes_and_errors(tmp_path):
    Image.fromarray(np.full((4, 8), 77, np.uint8)).save(tmp_path / "g.png")
    img = omnicodec.read(tmp_path / "g.png")
    assert img.pixels.shape == (4, 8, 3) and img.metadata["mode"] == "L" and (img.pixels == 77).all()
    with pytest.raises(InputError, match="quality applies to JPEG only"):
        omnicodec.write(tmp_path / "q.png", img, quality=80)
    with pytest.raises(InputError, match="uint8"):
        omnicodec.write(tmp_path / "f.jpg", ErpImage(np.zeros((2, 2, 3), np.float32)))
    with pytest.raises(InputError, match="JPEG quality must be in 1..100"):
        omnicodec.write(tmp_path / "q.jpg", img, quality=0)
    data = (tmp_path / "g.png").read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=f"^{tmp_path / 't.png'}: cannot read the image"):
        omnicodec.read(tmp_path / "t.png")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
