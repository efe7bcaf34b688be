"""Light fields on the command line: folders and HDF5 in and out with their naming kept, eval with bpp, and bad
input (mixed sizes, missing views, non-PNG files, absurd HDF5, damaged streams): one line, exit 2, nothing written."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from PIL import Image

import omnicodec
from omnicodec.cli import main
from omnicodec.types import LightField
from tests.lightfield.test_codec import layered_field


@pytest.fixture
def folder(tmp_path):
    views = layered_field(3, 3, 40, 48, seed=1)
    path = tmp_path / "views"
    path.mkdir()
    for r in range(3):
        for c in range(3):
            Image.fromarray(views[r, c]).save(path / f"scene_{r:02d}_{c:02d}.png")  # numbered from 0
    return path, views


def test_folder_round_trip_keeps_the_naming(tmp_path, folder, capsys):
    path, views = folder
    omc, out = tmp_path / "lf.omc", tmp_path / "decoded"
    assert main(["compress", str(path), "-o", str(omc), "--rate", "5", "--json", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pixels"] == 9 * 40 * 48 and report["bpp"] == pytest.approx(report["bits"] / report["pixels"])
    assert main(["decompress", str(omc), "-o", str(out), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in path.iterdir())
    assert main(["eval", str(path), str(out), "--stream", str(omc), "--json"]) == 0
    q = json.loads(capsys.readouterr().out)
    assert q["bits"] == 8 * omc.stat().st_size and q["bpp"] == pytest.approx(q["bits"] / (9 * 40 * 48))
    assert q["mean_psnr_y"] > 28 and len(q["per_view_psnr_y"]) == 3 and len(q["per_view_ssim_y"][0]) == 3


def test_eval_of_a_sparse_stream_scores_the_synthesised_views(tmp_path, capsys):
    views = layered_field(5, 5, 48, 56, seed=2)
    src, omc, out = tmp_path / "src.h5", tmp_path / "s.omc", tmp_path / "dec.h5"
    omnicodec.write(src, LightField(views))
    assert main(["compress", str(src), "-o", str(omc), "--rate", "5", "--sparse", "2", "-q"]) == 0
    assert main(["decompress", str(omc), "-o", str(out), "-q"]) == 0
    assert main(["eval", str(src), str(out), "--stream", str(omc), "--json"]) == 0
    q = json.loads(capsys.readouterr().out)
    psnr = np.array(q["per_view_psnr_y"])
    synthesised = np.ones((5, 5), bool)
    synthesised[::2, ::2] = False  # rows and columns 0, 2, 4 are coded
    assert q["synthesised_views"] == 16
    assert q["synthesised_mean_psnr_y"] == pytest.approx(psnr[synthesised].mean())
    assert q["coded_mean_psnr_y"] == pytest.approx(psnr[~synthesised].mean())
    assert min(q["coded_mean_psnr_y"], q["synthesised_mean_psnr_y"]) > 25
    full = tmp_path / "full.omc"
    assert main(["compress", str(src), "-o", str(full), "--rate", "5", "-q"]) == 0
    assert main(["eval", str(src), str(out), "--stream", str(full), "--json"]) == 0
    assert "synthesised_views" not in json.loads(capsys.readouterr().out)  # every view coded
    _fails(capsys, ["eval", str(src), str(src), "--stream", str(tmp_path / "nothing.omc")], what="no such stream")
    small = tmp_path / "small.h5"
    omnicodec.write(small, LightField(views[:3, :3]))
    _fails(capsys, ["eval", str(small), str(small), "--stream", str(omc)], what="codes a 5x5 grid")


def test_hdf5_in_and_out(tmp_path, folder):
    _, views = folder
    h5 = tmp_path / "lf.h5"
    omnicodec.write(h5, LightField(views))
    omc, out = tmp_path / "lf.omc", tmp_path / "out.h5"
    assert main(["compress", str(h5), "-o", str(omc), "--rate", "3", "-q"]) == 0
    assert main(["decompress", str(omc), "-o", str(out), "-q"]) == 0
    assert omnicodec.read(out).views.shape == views.shape


def _fails(capsys, args, *, what: str) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and what in err, err
    return err


def test_mixed_sizes_missing_views_and_other_files(tmp_path, folder, capsys):
    path, views = folder
    omc = tmp_path / "x.omc"
    Image.fromarray(views[0, 0, :20]).save(path / "scene_00_00.png")
    _fails(capsys, ["compress", str(path), "-o", str(omc)], what="scene_00_00.png")
    (path / "scene_00_00.png").unlink()
    _fails(capsys, ["compress", str(path), "-o", str(omc)], what="missing views: scene_00_00.png")
    (path / "scene_00_00.png").write_bytes(b"not a png at all")
    _fails(capsys, ["compress", str(path), "-o", str(omc)], what="cannot read the image")
    assert not omc.exists()


def test_absurd_hdf5_shapes_are_refused(tmp_path, capsys):
    h5 = tmp_path / "bad.h5"
    with h5py.File(h5, "w") as f:
        f.create_dataset("views", shape=(2, 2, 4, 4), dtype=np.uint8)  # not 5-D
    _fails(capsys, ["compress", str(h5), "-o", str(tmp_path / "a.omc")], what="(U, V, H, W, C)")
    with h5py.File(h5, "w") as f:
        f.create_dataset("views", shape=(1000, 1000, 4000, 4000, 3), dtype=np.uint8, chunks=(1, 1, 64, 64, 3),
                         compression="gzip")  # a claim of 48 TB, nothing stored
    _fails(capsys, ["compress", str(h5), "-o", str(tmp_path / "b.omc")], what="bad.h5")
    assert not (tmp_path / "a.omc").exists() and not (tmp_path / "b.omc").exists()


def test_damaged_streams_leave_no_output(tmp_path, folder, capsys):
    path, _ = folder
    omc = tmp_path / "lf.omc"
    assert main(["compress", str(path), "-o", str(omc), "-q"]) == 0
    data = omc.read_bytes()
    for name, bad, what in (("cut.omc", data[: len(data) // 2], "truncated"),
                            ("foreign.omc", b"PK\x03\x04" + data[4:], "omnicodec stream")):
        (tmp_path / name).write_bytes(bad)
        _fails(capsys, ["decompress", str(tmp_path / name), "-o", str(tmp_path / "out")], what=what)
        assert not (tmp_path / "out").exists()


def test_options_for_other_data_are_refused(tmp_path, folder, capsys):
    path, _ = folder
    _fails(capsys, ["compress", str(path), "-o", str(tmp_path / "a.omc"), "--grid-step", "1"], what="--grid-step")
    _fails(capsys, ["compress", str(path), "-o", str(tmp_path / "a.omc"), "--rate", "12"], what="rate")
    _fails(capsys, ["compress", str(path), "-o", str(tmp_path / "a.omc"), "--sparse", "0"], what="sparse")
    assert not (tmp_path / "a.omc").exists()  # nothing written for a refused option
