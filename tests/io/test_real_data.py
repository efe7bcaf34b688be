"""Every data file in ../shared/data reads, with the expected sizes, and agrees with plyfile / pypcd4.

Skipped (with a reason) when the data folder is absent.
"""

from __future__ import annotations

import numpy as np
import plyfile
import pytest
from pypcd4 import PointCloud as Pypcd4Cloud

import omnicodec
from omnicodec import io
from omnicodec.errors import InputError

pytestmark = pytest.mark.realdata

LOOT = "pointcloud/dense_loot/loot_vox10_patchvvc_union.ply"

# path -> (points, attribute names, points dropped as invalid (PCD))
POINT_CLOUDS = {
    LOOT: (778_554, {"rgb"}, 0),
    "pointcloud/scans/stanford_bunny/bun_zipper.ply": (35_947, {"confidence", "intensity"}, 0),
    "pointcloud/lidar/kitti00/000000.bin": (124_668, {"intensity"}, 0),
    "pointcloud/lidar/kitti00/000001.bin": (124_605, {"intensity"}, 0),
    "pointcloud/lidar/kitti00/000002.bin": (124_478, {"intensity"}, 0),
    "pointcloud/lidar/kitti00/000003.bin": (124_167, {"intensity"}, 0),
    "pointcloud/lidar/kitti00/000004.bin": (123_969, {"intensity"}, 0),
    "pointcloud/lidar/kitti00/000005.bin": (123_924, {"intensity"}, 0),
    "pointcloud/lidar/kitti_det/000008.bin": (17_238, {"intensity"}, 0),
    "pointcloud/scans/pcl_test/bun0.pcd": (397, {"normals", "curvature"}, 0),
    "pointcloud/scans/pcl_test/five_people.pcd": (239_075, {"rgb", "alpha"}, 68_125),
    "pointcloud/scans/pcl_test/frame_20121214T142255.814212.pcd": (271_575, {"rgb", "alpha"}, 35_625),
    "pointcloud/scans/pcl_test/frame_20121214T142256.068683.pcd": (271_395, {"rgb", "alpha"}, 35_805),
    "pointcloud/scans/pcl_test/frame_20121214T142256.332395.pcd": (271_328, {"rgb", "alpha"}, 35_872),
    "pointcloud/scans/pcl_test/office1.pcd": (254_456, {"rgb"}, 52_744),
    "pointcloud/scans/pcl_test/table_scene_mug_stereo_textured.pcd": (209_280, {"rgb", "alpha"}, 97_920),
    "pointcloud/scans/pcl_data/room_scan1.pcd": (112_586, set(), 0),
    "pointcloud/scans/pcl_data/room_scan2.pcd": (112_624, set(), 0),
    "pointcloud/scans/pcl_data/samp11-utm.pcd": (38_010, set(), 0),
}
# metric reference cases: points in A.ply / B.ply (A_normals.ply has A's points plus float32 normals)
METRIC_REFS = {
    "c1_loot_crop_gpcc_pqs0.5": (49_337, 13_944),
    "c2_loot_crop_noise_sigma1": (49_337, 49_337),
    "c3_loot_crop_subsample50": (49_337, 24_668),
    "c4_bunny_10bit_gpcc_pqs0.25": (35_943, 35_725),
    "c5_kitti_crop_mm_gpcc_pqs1_32": (53_157, 52_048),
    "c6_duplicates_and_outliers": (15_511, 16_784),
}
LIGHT_FIELDS = {
    "lightfield/antinous": ((9, 9, 512, 512, 3), "hci", "input_"),
    "lightfield/lytro_2067": ((9, 9, 383, 552, 3), "rowcol", "2067"),
}
IMAGES = {
    "erp/horizonnet_demo_panocontext_1024x512.png": (512, 1024, 3),
    "erp/bifuse_sample_2048x1024.jpg": (1024, 2048, 3),
}


@pytest.mark.parametrize("rel", list(POINT_CLOUDS))
def test_point_clouds(shared_data, rel):
    n, attrs, dropped = POINT_CLOUDS[rel]
    cloud = omnicodec.read(shared_data / rel)
    assert len(cloud) == n
    assert set(cloud.attributes) == attrs
    assert cloud.positions.dtype == np.float32
    assert np.isfinite(cloud.positions).all()
    if rel.endswith(".pcd"):
        assert cloud.metadata["dropped_invalid"] == dropped
        assert len(cloud) + dropped == cloud.metadata["width"] * cloud.metadata["height"]
    if "rgb" in attrs:
        assert cloud.rgb.dtype == np.uint8 and cloud.rgb.shape == (n, 3)


def test_dense_loot_matches_plyfile(shared_data):
    path = shared_data / LOOT
    cloud = omnicodec.read(path)  # the read-time target is measured by tools/bench_io.py
    ref = plyfile.PlyData.read(str(path))["vertex"].data
    np.testing.assert_array_equal(cloud.positions, np.stack([ref["x"], ref["y"], ref["z"]], 1))
    np.testing.assert_array_equal(cloud.rgb, np.stack([ref["red"], ref["green"], ref["blue"]], 1))
    assert (cloud.positions == np.round(cloud.positions)).all() and cloud.positions.max() <= 1023


def test_bunny_ascii_matches_plyfile(shared_data):
    path = shared_data / "pointcloud/scans/stanford_bunny/bun_zipper.ply"
    cloud = omnicodec.read(path)
    ref = plyfile.PlyData.read(str(path))
    v = ref["vertex"].data
    np.testing.assert_array_equal(cloud.positions, np.stack([v["x"], v["y"], v["z"]], 1))
    np.testing.assert_array_equal(cloud.attributes["confidence"], v["confidence"])
    assert cloud.metadata["elements"] == {"vertex": 35_947, "face": 69_451}
    assert cloud.metadata["encoding"] == "ascii"


@pytest.mark.parametrize(
    "rel",
    [
        "pointcloud/scans/pcl_test/table_scene_mug_stereo_textured.pcd",
        "pointcloud/scans/pcl_test/office1.pcd",
        "pointcloud/scans/pcl_test/bun0.pcd",
        "pointcloud/scans/pcl_data/room_scan1.pcd",
    ],
)
def test_pcd_matches_pypcd4(shared_data, rel):
    cloud = omnicodec.read(shared_data / rel)
    ref = Pypcd4Cloud.from_path(shared_data / rel).pc_data
    xyz = np.stack([ref["x"], ref["y"], ref["z"]], 1)
    valid = np.isfinite(xyz).all(1)
    np.testing.assert_array_equal(cloud.positions, xyz[valid])
    packed = next((f for f in ("rgb", "rgba") if f in ref.dtype.names), None)
    if packed:
        bits = ref[packed][valid].view(np.uint32)
        expected = np.stack([(bits >> 16) & 255, (bits >> 8) & 255, bits & 255], 1)
        np.testing.assert_array_equal(cloud.rgb, expected)
    if "normal_x" in ref.dtype.names:
        np.testing.assert_array_equal(cloud.normals[:, 1], ref["normal_y"])


def test_kitti_matches_raw_floats(shared_data):
    path = shared_data / "pointcloud/lidar/kitti00/000000.bin"
    raw = np.fromfile(path, dtype="<f4").reshape(-1, 4)
    cloud = omnicodec.read(path)
    np.testing.assert_array_equal(cloud.positions, raw[:, :3])
    np.testing.assert_array_equal(cloud.intensity, raw[:, 3])
    assert 0 <= cloud.intensity.min() and cloud.intensity.max() <= 1


@pytest.mark.parametrize("case", list(METRIC_REFS))
def test_metric_reference_plys(shared_data, case):
    folder = shared_data / "reference/metric_refs" / case
    n_a, n_b = METRIC_REFS[case]
    a, b, an = (omnicodec.read(folder / f) for f in ("A.ply", "B.ply", "A_normals.ply"))
    assert (len(a), len(b), len(an)) == (n_a, n_b, n_a)
    np.testing.assert_array_equal(an.positions, a.positions)
    assert an.normals.dtype == np.float32 and not b.attributes
    if (folder / "B.bin").exists():  # a G-PCC bitstream, not a KITTI scan: refused with the reason
        with pytest.raises(InputError, match="not a multiple of the 16-byte row"):
            omnicodec.read(folder / "B.bin")


@pytest.mark.parametrize("rel", list(LIGHT_FIELDS))
def test_light_fields(shared_data, rel):
    shape, naming, prefix = LIGHT_FIELDS[rel]
    lf = omnicodec.read(shared_data / rel)
    assert lf.views.shape == shape and lf.views.dtype == np.uint8
    assert (lf.metadata["naming"], lf.metadata["prefix"]) == (naming, prefix)
    if naming == "hci":  # Cam040 is the centre view: row 4, column 4
        centre = io.read(shared_data / rel / "input_Cam040.png").pixels
        np.testing.assert_array_equal(lf.views[4, 4], centre)
    else:
        view = io.read(shared_data / rel / "2067_03_07.png").pixels
        np.testing.assert_array_equal(lf.views[2, 6], view)


@pytest.mark.parametrize("rel", list(IMAGES))
def test_images(shared_data, rel):
    img = omnicodec.read(shared_data / rel)
    assert img.pixels.shape == IMAGES[rel] and img.pixels.dtype == np.uint8


def test_every_shared_file_is_read_or_refused_cleanly(shared_data):
    """Walk the whole data folder: supported files read; anything else is an InputError, never a traceback."""
    lf_dirs = {shared_data / rel for rel in LIGHT_FIELDS}
    seen = 0
    for path in sorted(shared_data.rglob("*")):
        if path.is_dir() or path.parent in lf_dirs:
            continue  # light-field views are read through their folders (test_light_fields)
        seen += 1
        try:
            io.detect_modality(path)
        except InputError:
            continue  # .md, .json, .txt, .pfm, ...
        try:
            data = omnicodec.read(path)
        except InputError as exc:
            assert path.name == "B.bin" and "reference" in path.parts, exc  # G-PCC bitstreams only
            continue
        assert data is not None
    assert seen > 50
