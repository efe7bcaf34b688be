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
