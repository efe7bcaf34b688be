"""tools/eval_metric_refs.py: table, JSON, exit status; and a whole dense_loot comparison (slow)."""

from __future__ import annotations

import importlib.util
import json
import shutil

import numpy as np
import pytest

from tests.conftest import REPO

pytest.importorskip("plyfile")


def _tool():
    spec = importlib.util.spec_from_file_location("eval_metric_refs", REPO / "tools" / "eval_metric_refs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.realdata
def test_tool_passes_and_writes_json(shared_data, tmp_path, capsys):
    case = shared_data / "reference" / "metric_refs" / "c6_duplicates_and_outliers"
    if not case.is_dir():
        pytest.skip(f"{case} not found")
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / case.name).symlink_to(case)
    out = tmp_path / "cmp.json"
    assert _tool().main(["--refs", str(refs), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert len(report["rows"]) == 2 * 27 and all(r["pass"] for r in report["rows"])
    assert "d2_hausdorff_psnr" in capsys.readouterr().out


@pytest.mark.realdata
def test_tool_fails_on_a_wrong_expected_value(shared_data, tmp_path):
    case = shared_data / "reference" / "metric_refs" / "c6_duplicates_and_outliers"
    if not case.is_dir():
        pytest.skip(f"{case} not found")
    folder = tmp_path / "refs" / "broken"
    folder.mkdir(parents=True)
    for name in ("A.ply", "B.ply", "A_normals.ply"):
        shutil.copy(case / name, folder / name)
    expected = json.loads((case / "expected.json").read_text())
    expected["p2point"]["mse2"] *= 1.0001
    (folder / "expected.json").write_text(json.dumps(expected))
    assert _tool().main(["--refs", str(folder.parent)]) == 1


def test_tool_without_cases(tmp_path):
    assert _tool().main(["--refs", str(tmp_path)]) == 2


@pytest.mark.realdata
def test_dense_loot_against_half_of_it(shared_data):
    from omnicodec.metrics import point_metrics

    path = shared_data / "pointcloud" / "dense_loot" / "loot_vox10_patchvvc_union.ply"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    a, _ = _tool().read_ply(path)
    b = a[np.sort(np.random.default_rng(0).choice(len(a), len(a) // 2, replace=False))]
    r = point_metrics(a, b, peak=1023)  # normals estimated; the speed target is in tools/bench_metrics.py
    assert r["points_reference"] == 778_554 and r["points_decoded"] == 389_277
    assert r["d1_mse_ba"] == 0.0 and 60 < r["d1_psnr"] < 80
