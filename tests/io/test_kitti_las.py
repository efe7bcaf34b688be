"""KITTI / nuScenes .bin and LAS / LAZ: exact round trips, layouts, and errors."""

from __future__ import annotations

import struct
import sys
import time

import laspy
import numpy as np
import pytest

import omnicodec
from omnicodec.errors import InputError
from omnicodec.io import read_kitti, read_las, write_kitti, write_las
from omnicodec.types import Grid, PointCloud

from .conftest import assert_same_cloud, values


@pytest.mark.parametrize("name,columns", [("scan.bin", 4), ("scan.pcd.bin", 5)])
def test_kitti_round_trip(tmp_path, rng, name, columns):
    n = 1000
    attrs = {"intensity": values(rng, (n,), np.float32)}
    if columns == 5:
        attrs["ring"] = rng.integers(0, 32, n).astype(np.float32)
    cloud = PointCloud(values(rng, (n, 3), np.float32), attrs)
    path = tmp_path / name
    omnicodec.write(path, cloud)
    assert path.stat().st_size == n * columns * 4
    raw = np.fromfile(path, dtype="<f4").reshape(n, columns)
    np.testing.assert_array_equal(raw[:, :3], cloud.positions)
    back = omnicodec.read(path)
    assert back.metadata == {"format": "kitti" if columns == 4 else "nuscenes", "columns": columns}
    assert_same_cloud(cloud, back)


def test_kitti_missing_intensity_is_zero_and_columns_option(tmp_path):
    cloud = PointCloud(np.ones((3, 3), np.float64))
    write_kitti(tmp_path / "a.bin", cloud, columns=5)
    back = read_kitti(tmp_path / "a.bin", columns=5)
    assert back.positions.dtype == np.float32
    np.testing.assert_array_equal(back.attributes["ring"], 0)
    np.testing.assert_array_equal(back.intensity, 0)
    with pytest.raises(InputError, match="columns must be 4"):
        read_kitti(tmp_path / "a.bin", columns=3)


def test_kitti_size_not_multiple_of_row(tmp_path):
    path = tmp_path / "bad.bin"
    path.write_bytes(bytes(16 * 3 + 5))
    with pytest.raises(InputError) as err:
        omnicodec.read(path)
    assert str(err.value) == f"{path}: size 53 bytes is not a multiple of the 16-byte row (4 float32 values)"
    path = tmp_path / "bad.pcd.bin"
    path.write_bytes(bytes(16 * 5))  # 80 bytes = 4 rows of 20
    assert len(omnicodec.read(path)) == 4
    path.write_bytes(bytes(48))
    with pytest.raises(InputError, match="20-byte row"):
        omnicodec.read(path)


def _las_cloud(rng, n=500, pf=3):
    scale, offset = 0.01, np.array([1000.0, -20.0, 3.0])
    ints = rng.integers(-(10**6), 10**6, (n, 3))
    positions = ints * np.array([scale] * 3) + offset  # what LAS readers compute: X * scale + offset
    attrs = {
        "rgb": rng.integers(0, 65536, (n, 3)).astype(np.uint16),
        "intensity": rng.integers(0, 65536, n).astype(np.uint16),
        "return_number": rng.integers(1, 6, n).astype(np.uint8),
        "classification": rng.integers(0, 32, n).astype(np.uint8),
        "gps_time": rng.random(n) * 1e5,
        "user_data": rng.integers(0, 256, n).astype(np.uint8),
        "reflectance": rng.random(n).astype(np.float32),
        "normals": rng.random((n, 3)),
    }
    meta = {"las": {"version": "1.2", "point_format": pf, "scales": [scale] * 3, "offsets": offset.tolist()}}
    return PointCloud(positions, attrs, metadata=meta)


@pytest.mark.parametrize("ext", [".las", ".laz"])
def test_las_round_trip(tmp_path, rng, ext):
    cloud = _las_cloud(rng)
    path = tmp_path / f"c{ext}"
    omnicodec.write(path, cloud)
    back = omnicodec.read(path)
    assert back.positions.dtype == np.float64
    np.testing.assert_array_equal(back.positions, cloud.positions)
    for name, arr in cloud.attributes.items():
        assert back.attributes[name].dtype == arr.dtype, name
        np.testing.assert_array_equal(back.attributes[name], arr, err_msg=name)
    assert back.metadata["las"] == cloud.metadata["las"]
    assert back.metadata["format"] == ext[1:]
    # the grid is the LAS integer grid, shifted so that indices start at 0
    g = back.grid
    assert g.step == 0.01
    idx = np.round(back.positions / g.step - np.array(g.offset)).astype(np.int64)
    assert idx.min() == 0 and int(idx.max()).bit_length() == g.bit_depth
    np.testing.assert_allclose((idx + g.offset) * g.step, back.positions, atol=1e-6)
    # writing what was read gives the same points again (every standard dimension included)
    omnicodec.write(tmp_path / f"again{ext}", back)
    assert_same_cloud(back, omnicodec.read(tmp_path / f"again{ext}"))
    ref = laspy.read(path)
    np.testing.assert_array_equal(ref.classification, cloud.attributes["classification"])
    np.testing.assert_array_equal(ref.red, cloud.rgb[:, 0])


def test_las_defaults_for_plain_clouds(tmp_path):
    ints = np.array([[0, 0, 0], [1023, 5, 7]], np.int32)
    write_las(tmp_path / "i.las", PointCloud(ints))
    back = read_las(tmp_path / "i.las")
    np.testing.assert_array_equal(back.positions, ints)
    assert back.metadata["las"]["scales"] == [1.0, 1.0, 1.0] and back.grid == Grid(1.0, (0, 0, 0), 10)
    metres = np.array([[0.5, 1.25, -3.0], [10.001, 2.0, 0.0]])
    write_las(tmp_path / "m.las", PointCloud(metres))  # 1 mm default scale
    np.testing.assert_allclose(read_las(tmp_path / "m.las").positions, metres, atol=5e-4)
    with pytest.raises(InputError, match="do not fit LAS int32"):
        write_las(tmp_path / "o.las", PointCloud(np.array([[0.0, 0, 0], [1e9, 0, 0]])), scale=0.001)


def test_las_refuses_lossy_standard_fields(tmp_path):
    cloud = PointCloud(np.zeros((2, 3)), {"intensity": np.array([0.25, 0.5], np.float32)})
    with pytest.raises(InputError, match="'intensity' .* does not fit the LAS field exactly"):
        write_las(tmp_path / "x.las", cloud)
    assert not (tmp_path / "x.las").exists()


def test_las_malformed(tmp_path, rng):
    path = tmp_path / "c.las"
    write_las(path, _las_cloud(rng, n=100))
    data = path.read_bytes()
    cases = [
        (data[:-500], r"point count 100 needs 6200 bytes but 5700 remain"),
        (b"NOTLAS" + bytes(400), "not a LAS file"),
        (data[:100] + struct.pack("<I", 2_000_000_000) + data[104:], "2000000000 VLRs need at least"),
        (data[:96] + struct.pack("<I", 10**9) + data[100:], "point data offset 1000000000 outside the file"),
        (data[:107] + struct.pack("<I", 4_000_000_000) + data[111:], "point count 4000000000 needs"),
    ]
    for content, message in cases:
        path.write_bytes(content)
        t = time.perf_counter()
        with pytest.raises(InputError, match=f"^{path}: .*{message}"):
            omnicodec.read(path)
        assert time.perf_counter() - t < 1.0


def test_laz_corrupt_chunk_table_is_refused(tmp_path, rng):
    path = tmp_path / "c.laz"
    write_las(path, _las_cloud(rng, n=100))
    data = bytearray(path.read_bytes())
    (data_offset,) = struct.unpack_from("<I", data, 96)
    (table,) = struct.unpack_from("<q", data, data_offset)
    struct.pack_into("<I", data, table + 4, 2_000_000_000)  # the chunk count
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="LAZ chunk table declares 2000000000 chunks"):
        omnicodec.read(path)
    struct.pack_into("<q", data, data_offset, 10**12)
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="LAZ chunk table offset 1000000000000 is outside"):
        omnicodec.read(path)


def test_missing_laspy_is_named(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "laspy", None)
    (tmp_path / "a.las").write_bytes(b"")
    with pytest.raises(InputError) as err:
        omnicodec.read(tmp_path / "a.las")
    assert str(err.value) == (
        f'{tmp_path / "a.las"}: reading .las needs the optional package laspy: pip install "omnicodec[las]"'
    )
    with pytest.raises(InputError, match='writing .laz needs the optional package laspy: pip install "omnicodec'):
        omnicodec.write(tmp_path / "b.laz", PointCloud(np.zeros((1, 3))))
