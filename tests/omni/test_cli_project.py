"""`omnicodec project` (viewports, cubemaps) and the viewport metrics of `omnicodec eval`, through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import omnicodec
from omnicodec.cli import main
from omnicodec.omni import FACES, cubemap_layout, erp_to_cubemap, erp_to_viewport
from omnicodec.types import ErpImage, PointCloud
from tests.conftest import REPO
from tests.metrics._patterns import degrade, pattern_rgb

H, W = 64, 128


@pytest.fixture
def pano(tmp_path):
    img = pattern_rgb(H, W, seed=7)
    path = tmp_path / "pano.png"
    omnicodec.write(path, ErpImage(img))
    return path, img


def _run(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "omnicodec", *args], capture_output=True, text=True, env=env)


def test_one_viewport(tmp_path, pano, capsys):
    path, img = pano
    out = tmp_path / "view.png"
    assert main(["project", str(path), "--viewport", "30,-10,5,90", "-o", str(out)]) == 0
    np.testing.assert_array_equal(omnicodec.read(out).pixels, erp_to_viewport(img, 30, -10, 5, 90))  # 32x32
    assert "(yaw 30, pitch -10, roll 5, fov 90, 32x32)" in capsys.readouterr().out
    assert main(["project", str(path), "--viewport=-45,0,0,60", "--size", "20x30", "--interp", "bicubic",
                 "-o", str(out), "-q"]) == 0
    assert capsys.readouterr().out == ""
    np.testing.assert_array_equal(omnicodec.read(out).pixels,
                                  erp_to_viewport(img, -45, 0, 0, 60, (20, 30), "bicubic"))


def test_several_viewports_go_to_a_folder(tmp_path, pano):
    path, img = pano
    folder = tmp_path / "views"
    assert main(["project", str(path), "--viewport", "0,0,0,90", "--viewport", "180,45,10,70.5", "--size", "16x24",
                 "-o", str(folder), "-q"]) == 0
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["viewport_00_yaw0_pitch0_roll0_fov90.png", "viewport_01_yaw180_pitch45_roll10_fov70.5.png"]
    got = omnicodec.read(folder / names[1]).pixels
    np.testing.assert_array_equal(got, erp_to_viewport(img, 180, 45, 10, 70.5, (16, 24)))
    # one viewport into an existing folder is named the same way
    assert main(["project", str(path), "--viewport", "90,0,0,90", "-o", str(folder), "-q"]) == 0
    assert (folder / "viewport_00_yaw90_pitch0_roll0_fov90.png").is_file()


@pytest.mark.parametrize("layout", ["cross", "3x2"])
def test_cubemap(tmp_path, pano, layout):
    path, img = pano
    folder = tmp_path / "cube"
    assert main(["project", str(path), "--cubemap", "16", "--layout", layout, "-o", str(folder), "-q"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{f}.png" for f in FACES] + ["cubemap.png"])
    faces = erp_to_cubemap(img, 16)
    for k, name in enumerate(FACES):
        np.testing.assert_array_equal(omnicodec.read(folder / f"{name}.png").pixels, faces[k])
    np.testing.assert_array_equal(omnicodec.read(folder / "cubemap.png").pixels, cubemap_layout(faces, layout))


def test_errors_are_one_line_with_exit_2(tmp_path, pano):
    path, _ = pano
    cloud = tmp_path / "cloud.ply"
    omnicodec.write(cloud, PointCloud(np.zeros((3, 3), np.float32)))
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "out"
    cases = [
        (str(path), "--viewport", "0,0,0", "-o", str(out / "v.png")),  # three numbers
        (str(path), "--viewport", "a,0,0,90", "-o", str(out / "v.png")),
        (str(path), "--viewport", "0,0,0,180", "-o", str(out / "v.png")),  # field of view
        (str(path), "--viewport", "0,0,0,90", "--size", "10", "-o", str(out / "v.png")),
        (str(path), "--viewport", "0,0,0,90", "--size", "0x10", "-o", str(out / "v.png")),
        (str(path), "--viewport", "0,0,0,90", "--viewport", "1,0,0,90", "-o", str(out / "v.png")),  # needs a folder
        (str(path), "--viewport", "0,0,0,90", "-o", str(out / "v.webp")),
        (str(path), "--cubemap", "0", "-o", str(out)),
        (str(path), "--cubemap", "8", "--size", "8x8", "-o", str(out)),
        (str(path), "--cubemap", "8", "-o", str(tmp_path / "afile")),  # not a folder
        (str(path), "--cubemap", "8", "--viewport", "0,0,0,90", "-o", str(out)),  # one or the other
        (str(path), "-o", str(out)),  # neither
        (str(tmp_path / "missing.png"), "--cubemap", "8", "-o", str(out)),
        (str(cloud), "--cubemap", "8", "-o", str(out)),  # not an image
    ]
    for args in cases:
        r = _run("project", *args)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, (args, r.stderr)
    assert not out.exists()
    assert not [p for p in tmp_path.rglob("*.part*")]


def _eval_json(ref, dec, capsys) -> dict:
    assert main(["eval", str(ref), str(dec), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_eval_prints_viewport_psnr_and_seam_score(tmp_path, pano, capsys):
    path, img = pano
    img = np.clip(img, 40, 215)
    omnicodec.write(path, ErpImage(img))
    noisy = degrade(img, seed=4, amplitude=2).astype(np.int64)
    seam, centre = noisy.copy(), noisy.copy()
    seam[:, np.r_[0:3, W - 3 : W]] += 30
    centre[:, W // 2 - 3 : W // 2 + 3] += 30
    for name, arr in (("seam.png", seam), ("centre.png", centre)):
        omnicodec.write(tmp_path / name, ErpImage(np.clip(arr, 0, 255).astype(np.uint8)))

    assert main(["eval", str(path), str(tmp_path / "seam.png")]) == 0
    text = capsys.readouterr().out
    lines = dict(line.split(None, 1) for line in text.splitlines())
    assert {"psnr_y", "ws_psnr_y", "viewport_psnr_y", "seam_score_y"} <= set(lines)
    assert float(lines["seam_score_y"]) < -5.0  # the seam is worse than the centre
    assert 20.0 < float(lines["viewport_psnr_y"]) < 60.0

    result = _eval_json(path, tmp_path / "centre.png", capsys)
    assert result["seam_score_y"] > 5.0
    same = _eval_json(path, path, capsys)
    assert same["viewport_psnr_y"] == "inf" and same["seam_score_y"] == 0.0
