"""The command line: outputs, JSON keys, one-line errors with exit 2, atomic outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import omnicodec
from omnicodec.cli import main
from omnicodec.pointcloud.compare import same_on_grid
from omnicodec.types import PointCloud
from tests.conftest import REPO


@pytest.fixture
def scan(tmp_path, rng):
    pos = rng.integers(0, 300, size=(2000, 3)).astype(np.float32)
    cloud = PointCloud(pos, {"rgb": rng.integers(0, 256, size=(2000, 3), dtype=np.uint8)})
    path = tmp_path / "scan.ply"
    omnicodec.write(path, cloud)
    return path, cloud


def test_compress_decompress_info_eval(tmp_path, scan, capsys):
    path, cloud = scan
    omc = tmp_path / "scan.omc"
    assert main(["compress", str(path), "-o", str(omc), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"bits", "bpp", "points", "seconds"} <= set(out)
    assert out["points"] == 2000 and out["bits"] == 8 * omc.stat().st_size
    assert out["bpp"] == pytest.approx(out["bits"] / 2000)

    assert main(["info", str(omc), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["codec"] == "learned" and info["modality"] == "pointcloud" and info["params"]["points"] == 2000
    assert info["model"] in ("dense", "lidar") and len(info["weights_sha256"]) == 64

    dec = tmp_path / "dec.pcd"
    assert main(["decompress", str(omc), "-o", str(dec)]) == 0
    capsys.readouterr()
    assert same_on_grid(cloud, omnicodec.read(dec))

    assert main(["eval", str(path), str(dec), "--peak", "1023", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    for key in ("d1_mse", "d1_psnr", "d2_mse", "d2_psnr", "points_reference", "points_decoded"):
        assert key in metrics
    assert metrics["d1_mse"] == 0 and metrics["d1_psnr"] == "inf"


def test_grid_step_and_coder_options(tmp_path, rng, capsys):
    cloud = PointCloud(rng.random((500, 3)).astype(np.float32) * 5)
    src = tmp_path / "m.bin"
    cloud.attributes["intensity"] = rng.random(500).astype(np.float32)
    omnicodec.write(src, cloud)
    omc = tmp_path / "m.omc"
    assert main(["compress", str(src), "-o", str(omc), "--grid-step", "0.001", "--coder", "constriction", "-q"]) == 0
    assert omnicodec.open_stream(omc).header.params["grid_step"] == 0.001


def _run(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "omnicodec", *args], capture_output=True, text=True, env=env)


def test_errors_are_one_line_with_exit_2(tmp_path, scan):
    path, _ = scan
    cases = [
        ("compress", str(tmp_path / "missing.ply"), "-o", str(tmp_path / "x.omc")),
        ("compress", str(path), "-o", str(tmp_path / "x.omc"), "--codec", "nope"),
        ("compress", str(path), "-o", str(tmp_path / "x.omc"), "--grid-step", "-3"),
        ("compress", str(path)),  # -o missing: usage error
        ("compress", str(path), "-o", str(tmp_path / "x.omc"), "--coder", "zip"),
        ("decompress", str(path), "-o", str(tmp_path / "y.ply")),  # not a stream
        ("info", str(tmp_path / "missing.omc")),
    ]
    for args in cases:
        r = _run(*args)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, (args, r.stderr)
    assert not (tmp_path / "x.omc").exists() and not (tmp_path / "y.ply").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_model_option(tmp_path, scan, capsys):
    path, cloud = scan
    omc = tmp_path / "x.omc"
    assert main(["compress", str(path), "-o", str(omc), "--model", "dense", "-q"]) == 0
    assert main(["info", str(omc)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split() == ["codec", "learned"] for line in lines), lines
    assert any(line.split() == ["model", "dense"] for line in lines), lines
    assert any(line.split()[0] == "weights_sha256" for line in lines), lines
    dec = tmp_path / "x.ply"
    assert main(["decompress", str(omc), "-o", str(dec), "-q"]) == 0
    assert same_on_grid(cloud, omnicodec.read(dec))


def test_bad_model_options_are_one_line_with_exit_2(tmp_path, scan):
    path, _ = scan
    out = tmp_path / "x.omc"
    r = _run("compress", str(path), "-o", str(out), "--model", "nope")
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "model" in r.stderr and "nope" in r.stderr, r.stderr
    r = _run("compress", str(path), "-o", str(out), "--codec", "octree", "--model", "dense")
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "model" in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.ply"]


def test_truncated_stream_fails_without_partial_output(tmp_path, scan):
    path, _ = scan
    omc = tmp_path / "s.omc"
    assert main(["compress", str(path), "-o", str(omc), "-q"]) == 0
    data = omc.read_bytes()
    bad = tmp_path / "bad.omc"
    bad.write_bytes(data[: len(data) // 2])
    r = _run("decompress", str(bad), "-o", str(tmp_path / "out.ply"))
    assert r.returncode == 2 and "truncated" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.omc", "s.omc", "scan.ply"]
    newer = bytearray(data)
    newer[4] = 9
    bad.write_bytes(bytes(newer))
    r = _run("info", str(bad))
    assert r.returncode == 2 and "newer" in r.stderr


def test_version_flag():
    r = _run("--version")
    assert r.returncode == 0 and omnicodec.__version__ in r.stdout
