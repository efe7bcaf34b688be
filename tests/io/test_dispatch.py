"""omnicodec.read / write / detect_modality: format choice, options, errors, atomic output."""

from __future__ import annotations

import numpy as np
import pytest

import omnicodec
from omnicodec import io
from omnicodec.errors import InputError
from omnicodec.types import ErpImage, LightField, PointCloud


def test_public_names():
    assert omnicodec.read is io.read and omnicodec.write is io.write
    assert io.POINT_CLOUD_EXTENSIONS == (".ply", ".pcd", ".bin", ".las", ".laz")
    for name in io.__all__:
        assert hasattr(io, name), name


@pytest.mark.parametrize(
    "name,modality",
    [
        ("a.ply", "pointcloud"),
        ("a.PCD", "pointcloud"),
        ("a.pcd.bin", "pointcloud"),
        ("a.laz", "pointcloud"),
        ("a.h5", "lightfield"),
        ("a.hdf5", "lightfield"),
        ("new_folder", "lightfield"),
        ("a.png", "image"),
        ("a.JPEG", "image"),
    ],
)
def test_detect_modality(tmp_path, name, modality):
    assert io.detect_modality(tmp_path / name) == modality


def test_detect_modality_folder_and_unsupported(tmp_path):
    assert io.detect_modality(tmp_path) == "lightfield"
    with pytest.raises(InputError, match=r"a\.xyz: unsupported file type '\.xyz'"):
        io.detect_modality(tmp_path / "a.xyz")
    (tmp_path / "README").write_text("x")
    with pytest.raises(InputError, match="no extension"):
        io.detect_modality(tmp_path / "README")


def test_read_errors_start_with_the_path(tmp_path):
    missing = tmp_path / "nope.ply"
    with pytest.raises(InputError) as err:
        omnicodec.read(missing)
    assert str(err.value) == f"{missing}: no such file or folder"
    (tmp_path / "a.obj").write_text("v 0 0 0\n")
    with pytest.raises(InputError, match=f"^{tmp_path / 'a.obj'}: unsupported file type"):
        omnicodec.read(tmp_path / "a.obj")
    (tmp_path / "a.ply").write_bytes(b"")
    with pytest.raises(InputError, match=f"^{tmp_path / 'a.ply'}: not a PLY file"):
        omnicodec.read(tmp_path / "a.ply")


def test_unknown_options_are_input_errors(tmp_path):
    cloud = PointCloud(np.zeros((2, 3), np.float32))
    with pytest.raises(InputError, match=r"unknown option\(s\) quality \(known here: ascii, big_endian, comments\)"):
        omnicodec.write(tmp_path / "a.ply", cloud, quality=3)
    omnicodec.write(tmp_path / "a.ply", cloud)
    with pytest.raises(InputError, match=r"unknown option\(s\) drop_invalid"):
        omnicodec.read(tmp_path / "a.ply", drop_invalid=False)


def test_data_must_fit_the_extension(tmp_path):
    lf = LightField(np.zeros((1, 1, 2, 2, 3), np.uint8))
    with pytest.raises(InputError, match="cannot write a LightField as .ply"):
        omnicodec.write(tmp_path / "a.ply", lf)
    with pytest.raises(InputError, match="cannot write a PointCloud as .png"):
        omnicodec.write(tmp_path / "a.png", PointCloud(np.zeros((1, 3))))
    with pytest.raises(InputError, match="cannot write a ErpImage as .h5"):
        omnicodec.write(tmp_path / "a.h5", ErpImage(np.zeros((2, 4, 3), np.uint8)))
    with pytest.raises(InputError, match="unsupported file type"):
        omnicodec.write(tmp_path / "a.obj", PointCloud(np.zeros((1, 3))))
    assert not list(tmp_path.iterdir())


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "a.pcd"
    omnicodec.write(path, PointCloud(np.ones((4, 3), np.float32)))
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("omnicodec.io.pcd.format_rows", boom)
    with pytest.raises(KeyboardInterrupt):
        omnicodec.write(path, PointCloud(np.zeros((9, 3), np.float32)), ascii=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.pcd"]


def test_low_level_errors_become_input_errors(tmp_path, monkeypatch):
    def broken(path):
        raise OSError("disk on fire")

    monkeypatch.setitem(io._READERS, ".ply", broken)
    (tmp_path / "a.ply").write_bytes(b"ply\n")
    with pytest.raises(InputError, match=f"^{tmp_path / 'a.ply'}: OSError: disk on fire"):
        omnicodec.read(tmp_path / "a.ply")
