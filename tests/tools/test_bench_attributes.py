"""tools/bench_attributes.py: a quick run on its small synthetic clouds, and its helpers on hand-made data."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import omnicodec  # noqa: E402
from omnicodec.bitstream import Chunk, StreamHeader, pack  # noqa: E402
from omnicodec.types import PointCloud  # noqa: E402
from tools import bench_attributes as ba  # noqa: E402


def test_quick_run(tmp_path, capsys):
    out, png = tmp_path / "b.json", tmp_path / "rd.png"
    assert ba.main(["--quick", "--json", str(out), "--plot", str(png)]) == 0
    printed = capsys.readouterr().out
    assert "G-PCC v23" in printed and "Targets" in printed and "order-0 entropy" in printed
    result = json.loads(out.read_text())
    assert result["rates"] == [2, 6] and result["lossy_rates"] == [5] and result["lossy_attr_rates"] == [4]
    assert set(result["clouds_info"]) == {"synthetic_colour", "synthetic_lidar"}
    for name, info in result["clouds_info"].items():
        assert info["points"] > 2000 and info["order0_bpp"] > 0 and info["peak_mb"] > 0, name
    rows = result["rows"]
    for r in rows:
        assert r["attr_bpp"] == pytest.approx(8 * r["attr_bytes"] / r["points"])
        assert r["encode_s"] >= 0 and r["decode_s"] >= 0
    base = {r["cloud"]: r for r in rows if r["mode"] == "baseline"}
    assert set(base) == {"synthetic_colour", "synthetic_lidar"}
    assert all(r["exact"] and r["total_bpp"] > r["attr_bpp"] > 0 for r in base.values())
    ours = [r for r in rows if r["mode"] != "baseline"]
    if not ours:  # the attribute codec is not usable here (yet): every cloud says why
        assert all(any(n.startswith(f"{c} lossless:") for n in result["notes"]) for c in base)
    for cloud in {r["cloud"] for r in ours}:
        mine = {r["mode"]: r for r in ours if r["cloud"] == cloud}
        assert mine["lossless"]["exact"] and mine["lossless"]["method"] == "pred", cloud
        assert mine["a2"]["method"] == ("raht" if cloud == "synthetic_colour" else "pred"), cloud
        assert mine["a2"]["attr_bpp"] < mine["a6"]["attr_bpp"] < mine["lossless"]["attr_bpp"]
        key = "psnr_y" if cloud == "synthetic_colour" else "psnr_intensity"
        assert 10 < mine["a2"][key] < mine["a6"][key] < 100
        assert mine["a2"]["chunks"]["ATTR"] == mine["a2"]["attr_bytes"]
        if cloud == "synthetic_colour":
            lossy = mine["lossy g5 a4"]
            assert lossy["geometry_rate"] == 5 and lossy["decoded_points"] > 0 and math.isfinite(lossy["psnr_y"])
            geometry_only = result["clouds_info"][cloud]["lossy_geometry"]["5"]
            assert geometry_only["decoded_points"] == lossy["decoded_points"] and geometry_only["recolour_s"] > 0
            assert lossy["attr_encode_s"] == pytest.approx(lossy["encode_s"] - geometry_only["encode_s"])
            assert png.is_file()
    assert result["gpcc_v23"][ba.RAHT]["lossless_bpp"] == 7.104
    assert all(t["met"] is None for t in result["targets"])  # the synthetic clouds are none of the target clouds


def test_missing_cloud_is_skipped(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert ba.main(["--clouds", "office1", "--data", str(tmp_path), "--json", str(out), "--no-plot"]) == 0
    assert "office1.pcd not found; skipped" in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["rows"] == [] and any("not found" in n for n in result["notes"])


def test_order0_entropy():
    assert ba.order0_bpp(np.array([0.5, 0.5, 0.25, 0.25], np.float32)) == pytest.approx(1.0)
    rgb = np.array([[0, 0, 7], [1, 0, 7], [2, 9, 7], [3, 9, 7]], np.uint8)
    assert ba.order0_bpp(rgb) == pytest.approx(2.0 + 1.0 + 0.0)  # summed over channels


def test_attribute_chunks_pairs_header_entries_with_attr_chunks():
    header = StreamHeader(modality="pointcloud", codec="octree", coder_id=1,
                          params={"attributes": [{"name": "rgb"}, {"name": "intensity", "method": "pred"}]})
    stream = pack(header, [Chunk("OCCU", b"o" * 5), Chunk("ATTR", b"a" * 7), Chunk("ATTR", b"b" * 3)])
    sizes, specs, tags = ba.attribute_chunks(stream)
    assert sizes == {"rgb": 7, "intensity": 3} and specs["intensity"]["method"] == "pred"
    assert tags == {"OCCU": 5, "ATTR": 10}


def test_baseline_order_is_the_octree_decoder_order():
    rng = np.random.default_rng(3)
    q = np.unique(rng.integers(-40, 60, (500, 3)), axis=0).astype(np.int32)
    q = q[rng.permutation(len(q))]
    decoded = omnicodec.decompress(omnicodec.compress(PointCloud(q), codec="octree"))
    np.testing.assert_array_equal(decoded.positions, q[ba.morton_order(q)])


def test_bd_rate_and_targets_on_made_up_rows():
    raht = ba.GPCC_V23[ba.RAHT]
    rows = [{"cloud": ba.LOOT, "mode": f"a{i + 1}", "attr_bpp": 0.8 * b, "psnr_y": q, "attr_encode_s": 1.0,
             "attr_decode_s": 2.0} for i, (b, q) in enumerate(zip(raht["bpp"], raht["psnr_y"], strict=True))]
    rows.append({"cloud": ba.LOOT, "mode": "lossless", "attr_bpp": 5.5, "attr_encode_s": 3.0, "attr_decode_s": 6.0})
    rows.append({"cloud": ba.KITTI, "mode": "lossless", "attr_bpp": 3.0})
    bd, bdp, overlap, notes = ba.bd_tables(rows)
    assert bd[ba.RAHT] == pytest.approx(-20.0) and bdp[ba.RAHT] > 0 and not notes
    assert overlap[ba.RAHT] == pytest.approx([29.101, 42.662])
    targets = ba.check_targets(rows, {ba.KITTI: {"order0_bpp": 4.0}}, bd)
    met = [t["met"] for t in targets]
    # BD-rate -20 % (met), lossless 5.5 bpp (met), KITTI 3.0 <= 0.9 x 4.0 (met), attribute encode 3 s (met),
    # decode 6 s (not met), no lossy-geometry rows (not measured)
    assert met == [True, True, True, True, False, None, None]
    assert targets[2]["limit"] == pytest.approx(3.6) and targets[4]["mode"] == "lossless"
