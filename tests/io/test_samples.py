"""The PCL sample scans bundled in datasets/samples read, match their README, and survive a re-encode."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import omnicodec
from tests.conftest import SAMPLES

from .conftest import assert_same_cloud

EXPECTED = {
    "bun0.pcd": (397, {"normals", "curvature"}, "ascii"),
    "table_scene_mug_stereo_textured.pcd": (209_280, {"rgb", "alpha"}, "binary_compressed"),
    "room_scan1.pcd": (112_586, set(), "binary_compressed"),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_sample_reads_and_round_trips(tmp_path, name):
    n, attrs, encoding = EXPECTED[name]
    cloud = omnicodec.read(SAMPLES / name)
    assert (len(cloud), set(cloud.attributes), cloud.metadata["encoding"]) == (n, attrs, encoding)
    for kind in ("ascii", "binary", "binary_compressed"):
        omnicodec.write(tmp_path / f"{kind}.pcd", cloud, encoding=kind)
        assert_same_cloud(cloud, omnicodec.read(tmp_path / f"{kind}.pcd"))
    omnicodec.write(tmp_path / "c.ply", cloud)
    assert_same_cloud(cloud, omnicodec.read(tmp_path / "c.ply"))


def test_readme_names_every_sample_with_its_checksum():
    readme = (SAMPLES / "README.md").read_text()
    assert "BSD-3-Clause" in readme and "Open Perception, Inc." in readme and "Willow Garage, Inc." in readme
    files = sorted(p.name for p in SAMPLES.iterdir() if p.suffix == ".pcd")
    assert files == sorted(EXPECTED)
    for name in files:
        digest = hashlib.sha256((SAMPLES / name).read_bytes()).hexdigest()
        assert f"`{name}`" in readme and digest in readme, name


def test_table_scene_is_organized_with_colour():
    cloud = omnicodec.read(SAMPLES / "table_scene_mug_stereo_textured.pcd")
    assert (cloud.metadata["width"], cloud.metadata["height"]) == (640, 480)
    assert cloud.metadata["dropped_invalid"] == 97_920
    assert (cloud.attributes["alpha"] == 255).all() and cloud.rgb.std() > 10
    assert np.isfinite(cloud.positions).all()
