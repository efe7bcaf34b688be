"""The evaluation-only guard: every path to evaluation data is refused before anything opens it."""

from __future__ import annotations

import pytest

from datasets.build import main, make_tasks
from datasets.paths import (
    DENSE_TRAINING_FILES,
    LIDAR_TRAINING_FILES,
    EvaluationDataError,
    check_training_path,
    is_evaluation_only,
    training_files,
)
from datasets.real_scans import read_training_positions

EVALUATION_ONLY = [
    "pointcloud/dense_loot/loot_vox10_patchvvc_union.ply",
    "pointcloud/dense_loot",
    "pointcloud/lidar/kitti00/000005.bin",
    "lightfield/antinous/input_Cam040.png",
    "erp/horizonnet_demo_panocontext_1024x512.png",
    "reference/metric_refs/some_case.ply",
]


@pytest.mark.parametrize("rel", EVALUATION_ONLY)
def test_evaluation_paths_are_refused_before_opening(tmp_path, rel):
    path = tmp_path / "shared" / "data" / rel  # does not exist: a refusal proves the check comes first
    assert is_evaluation_only(path)
    with pytest.raises(EvaluationDataError):
        check_training_path(path)
    with pytest.raises(EvaluationDataError):
        read_training_positions(path)


def test_renamed_copies_and_links_are_refused(tmp_path):
    assert is_evaluation_only(tmp_path / "copies" / "loot_vox10_1000.ply")
    target = tmp_path / "pointcloud" / "lidar" / "kitti00"
    target.mkdir(parents=True)
    (target / "000005.bin").write_bytes(b"")
    link = tmp_path / "innocent.bin"
    link.symlink_to(target / "000005.bin")
    assert is_evaluation_only(link)


def test_training_files_are_allowed(tmp_path):
    for rel in DENSE_TRAINING_FILES + LIDAR_TRAINING_FILES:
        assert not is_evaluation_only(tmp_path / rel), rel
    assert "pointcloud/lidar/kitti00/000005.bin" not in LIDAR_TRAINING_FILES
    assert not any("dense_loot" in f for f in DENSE_TRAINING_FILES)


def test_builder_refuses_evaluation_files_as_validation_files(tmp_path):
    with pytest.raises(EvaluationDataError):
        main(["--kind", "lidar", "--out", str(tmp_path), "--val-files", "pointcloud/lidar/kitti00/000005.bin",
              "--data", str(tmp_path)])
    with pytest.raises(EvaluationDataError):
        main(["--kind", "dense", "--out", str(tmp_path), "--data", str(tmp_path / "pointcloud" / "dense_loot")])
    assert not list(tmp_path.glob("*.h5"))


def test_tasks_of_a_real_data_folder_hold_only_training_files(shared_data):
    for kind in ("dense", "lidar"):
        files = training_files(kind, shared_data)
        assert files and not any(is_evaluation_only(f) for f in files)
        tasks = make_tasks(kind, "train", 0, 0, 1, shared_data, ())
        assert tasks and all(not is_evaluation_only(shared_data / t[1]) for t in tasks)
