"""A short fixed-seed run of tools/fuzz.py over every target: nothing uncaught, no crash, hang or memory blow-up."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tools import fuzz  # noqa: E402


def test_short_run_over_every_target_is_clean(tmp_path):
    out = tmp_path / "report.json"
    status = fuzz.main(["--targets", "all", "--cases", "25", "--seed", "3", "--workers", "2", "--cli", "16",
                        "--out", str(out), "--save", str(tmp_path / "failures")])
    report = json.loads(out.read_text())
    assert set(report["targets"]) == set(fuzz.TARGETS)
    for target, st in report["targets"].items():
        assert st["cases"] == 25, target
        assert all(st[o] == 0 for o in fuzz.FAILURES), (target, st, report["failures"])
    assert report["cli"]["cases"] == 16 and not report["cli"]["problems"], report["cli"]["problems"]
    assert set(report["cli"]["status"]["compress"]) <= {"0", "2"} and report["cli"]["status"]["compress"]
    assert status == 0


def test_cases_are_reproducible_and_structure_aware():
    seeds = fuzz.make_seeds(["octree"])
    a = fuzz.make_case("octree", 5, seeds["octree"], 1, [])
    b = fuzz.make_case("octree", 5, seeds["octree"], 1, [])
    assert a.data == b.data and a.mutations == b.mutations
    # a parameter mutation keeps the container valid: the header checksum is recomputed
    from omnicodec.bitstream import unpack

    rng = random.Random(0)
    for _ in range(20):
        data, what = fuzz.mutate_stream(seeds["octree"][0].data, rng, [])
        if what.startswith("params ["):
            unpack(data)
            break
    else:
        raise AssertionError("no parameter mutation in 20 draws")


def test_a_huge_declared_count_is_refused_quickly(tmp_path):
    results = fuzz.replay([_ply(tmp_path)])
    assert results[0][1]["outcome"] == "clean" and results[0][1]["seconds"] < 1.0


def _ply(tmp_path: Path) -> Path:
    path = tmp_path / "huge.ply"
    path.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 1000000000\nproperty float x\n"
                     b"property float y\nproperty float z\nend_header\n" + bytes(12))
    return path
