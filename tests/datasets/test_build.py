"""The builder: deterministic sets with the recorded provenance."""

from __future__ import annotations

import h5py
import numpy as np

from datasets.build import BUILDER_VERSION, main, make_tasks


def _build(out, *extra):
    assert main(["--out", str(out), "--train", "1", "--val", "1", "--no-real", "--workers", "1",
                 "--bpp-samples", "0", "--seed", "5", *extra]) == 0


def test_build_is_deterministic_and_records_provenance(tmp_path, capsys):
    _build(tmp_path / "a", "--kind", "lidar")
    _build(tmp_path / "b", "--kind", "lidar")
    table = capsys.readouterr().out
    assert "lidar_train.h5" in table and "lidar_val.h5" in table
    for split in ("train", "val"):
        name = f"lidar_{split}.h5"
        with h5py.File(tmp_path / "a" / name) as fa, h5py.File(tmp_path / "b" / name) as fb:
            assert fa.attrs["sample_list_sha256"] == fb.attrs["sample_list_sha256"]
            assert fa.attrs["builder_version"] == BUILDER_VERSION and fa.attrs["seed"] == 5
            assert "--kind lidar" in fa.attrs["command"] and fa.attrs["split"] == split
            g = fa["000000"]
            assert g.attrs["kind"] == "lidar" and g.attrs["grid_step"] == 0.001
            assert g.attrs["source"].startswith("synthetic_lidar:") and g["coords"].dtype == np.int32
    with h5py.File(tmp_path / "a" / "lidar_train.h5") as ft, h5py.File(tmp_path / "a" / "lidar_val.h5") as fv:
        assert ft.attrs["sample_list_sha256"] != fv.attrs["sample_list_sha256"]  # splits use different seeds


def test_tasks_depend_only_on_seed_split_and_index():
    a = make_tasks("dense", "train", 5, 0, 2, None, ())
    assert a == make_tasks("dense", "train", 5, 0, 2, None, ())
    assert a[:3] == make_tasks("dense", "train", 3, 0, 2, None, ())  # growing a set keeps its first samples
    assert {t[2] for t in a}.isdisjoint({t[2] for t in make_tasks("dense", "val", 5, 0, 2, None, ())})
    assert a != make_tasks("dense", "train", 5, 1, 2, None, ())
