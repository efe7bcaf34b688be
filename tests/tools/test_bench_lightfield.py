"""tools/bench_lightfield.py on the shipped 5x5 sample light field (needs the ``bench`` extra)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

try:
    import av  # noqa: F401
except ImportError:
    pytest.skip("PyAV is not installed (the anchors need the bench extra: pip install 'omnicodec[bench]')",
                allow_module_level=True)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tools import bench_lightfield  # noqa: E402


def test_sample_run(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert bench_lightfield.main(["--sample", "--rates", "2", "5", "--codecs", "lightfield", "hevc_pseudo",
                                  "--qualities", "hevc_pseudo=27,37", "--json", str(out), "--no-plot"]) == 0
    printed = capsys.readouterr().out
    assert "BD-rate" in printed and "Targets" in printed
    result = json.loads(out.read_text())
    rows = result["rows"]
    assert {r["codec"] for r in rows} == {"lightfield", "hevc_pseudo"}
    assert sorted(r["quality"] for r in rows if r["codec"] == "lightfield") == [2, 5]
    assert sorted(r["quality"] for r in rows if r["codec"] == "hevc_pseudo") == [27, 37]
    for r in rows:
        assert r["field"] == "lightfield_layers" and r["views"] == [5, 5] and (r["width"], r["height"]) == (192, 192)
        assert r["bytes"] > 0 and r["bpp"] == pytest.approx(8 * r["bytes"] / (25 * 192 * 192))
        assert math.isfinite(r["psnr_y"]) and math.isfinite(r["psnr_rgb"]) and 0 < r["ssim_y"] <= 1
        assert r["encode_s"] >= 0 and r["decode_s"] >= 0 and r["peak_mb"] >= r["base_mb"] > 0
        assert math.isfinite(r["psnr_y_held_out"]) and 0 < r["ssim_y_held_out"] <= 1  # the 16 views sparse=2 skips
    assert result["sparse_mode"] == []  # no sparse-mode rows in this run
    bd = result["bd_rate_psnr_y"]["lightfield_layers"]["lightfield"]
    assert "vs hevc_pseudo" in bd
    value = bd["vs hevc_pseudo"]
    assert (value is not None and math.isfinite(value)) or any("lightfield" in n for n in result["notes"])
    if value is not None:
        lo, hi = result["bd_overlap_psnr_y"]["lightfield_layers"]["lightfield"]["vs hevc_pseudo"]
        assert lo < hi
    assert result["reference"]["x265_3.5_ref"]["antinous"]["qp"] == [22, 27, 32, 37]
    assert result["qualities"] == {"hevc_pseudo": [27, 37]} and result["rates"] == [2, 5]
    assert all(t["met"] is None for t in result["targets"])  # the sample is none of the target fields
    assert result["versions"]["x265"] and result["command"].endswith("--no-plot")


def test_sparse_mode_is_compared_on_its_synthesised_views_at_equal_bits():
    held = bench_lightfield.held_out(5, 5)
    assert held.sum() == 16 and not held[0, 0] and not held[2, 4] and held[1, 0] and held[3, 3]
    assert bench_lightfield.held_out(4, 1).tolist() == [[False], [True], [False], [False]]  # rows 0, 2 and the last
    full = [{"field": "f", "codec": "lightfield", "quality": q, "bpp": b, "psnr_y": a, "psnr_y_held_out": h}
            for q, b, a, h in ((1, 0.01, 31.0, 30.0), (3, 0.04, 35.0, 34.0))]
    sparse = [{"field": "f", "codec": "lightfield_sparse2", "quality": q, "bpp": b, "psnr_y": 33.5,
               "psnr_y_held_out": 31.5, "ssim_y_held_out": 0.9} for q, b in ((2, 0.02), (5, 0.08))]
    inside, outside = bench_lightfield.sparse_comparison(full + sparse, ["f"])
    assert inside["rate"] == 2 and inside["synthesised_psnr_y"] == 31.5 and inside["all_views_psnr_y"] == 33.5
    assert inside["coded_at_equal_bpp_psnr_y"] == pytest.approx(32.0)  # halfway in log bpp
    assert inside["coded_at_equal_bpp_all_views_psnr_y"] == pytest.approx(33.0)
    assert outside["coded_at_equal_bpp_psnr_y"] is None  # beyond the all-views curve: not extrapolated
