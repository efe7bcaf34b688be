"""PCD: exact round trips for every DATA kind and dtype, PCL conventions, pypcd4 cross-checks, malformed files."""

from __future__ import annotations

import struct
import time

import lzf
import numpy as np
import pytest
from pypcd4 import Encoding
from pypcd4 import PointCloud as Pypcd4Cloud

import omnicodec
from omnicodec.errors import InputError
from omnicodec.io import read_pcd, write_pcd
from omnicodec.types import Grid, PointCloud

from .conftest import PCD_DTYPES, assert_same_cloud

KINDS = ("ascii", "binary", "binary_compressed")


@pytest.mark.parametrize("data", KINDS)
@pytest.mark.parametrize("pos_dtype", PCD_DTYPES)
def test_round_trip_every_dtype(tmp_path, cloud_factory, data, pos_dtype):
    cloud = cloud_factory(pos_dtype=pos_dtype, attr_dtypes=PCD_DTYPES)
    cloud.attributes["a_float64"][3] = np.nan
    cloud.attributes["counted"] = np.arange(257 * 4, dtype=np.int16).reshape(257, 4)
    path = tmp_path / "c.pcd"
    omnicodec.write(path, cloud, encoding=data)
    back = omnicodec.read(path)
    assert back.metadata["encoding"] == data
    assert back.metadata["dropped_invalid"] == 0
    assert_same_cloud(cloud, back)


def test_header_layout_follows_pcl(tmp_path, rng):
    n = 50
    rgb = rng.integers(0, 256, (n, 3), dtype=np.uint8)
    cloud = PointCloud(rng.random((n, 3), dtype=np.float32), {"rgb": rgb, "normals": rng.random((n, 3)).astype("f4")})
    write_pcd(tmp_path / "a.pcd", cloud)
    head = (tmp_path / "a.pcd").read_bytes().split(b"DATA binary\n")[0].decode()
    assert "FIELDS x y z rgb normal_x normal_y normal_z\n" in head
    assert "SIZE 4 4 4 4 4 4 4\nTYPE F F F F F F F\nCOUNT 1 1 1 1 1 1 1\nWIDTH 50\nHEIGHT 1\n" in head
    assert "VIEWPOINT 0 0 0 1 0 0 0\nPOINTS 50\n" in head
    # with alpha the colour is packed into a uint32 "rgba" field
    cloud.attributes["alpha"] = np.full(n, 200, np.uint8)
    write_pcd(tmp_path / "b.pcd", cloud)
    assert b"FIELDS x y z rgba normal_x" in (tmp_path / "b.pcd").read_bytes()
    assert_same_cloud(cloud, read_pcd(tmp_path / "b.pcd"))


@pytest.mark.parametrize("data", KINDS)
def test_pypcd4_reads_what_we_write(tmp_path, rng, data):
    n = 300
    cloud = PointCloud(
        rng.standard_normal((n, 3)).astype(np.float32),
        {"rgb": rng.integers(0, 256, (n, 3), dtype=np.uint8), "intensity": rng.random(n, dtype=np.float32)},
    )
    write_pcd(tmp_path / "w.pcd", cloud, encoding=data)
    ref = Pypcd4Cloud.from_path(tmp_path / "w.pcd")
    assert ref.fields == ("x", "y", "z", "rgb", "intensity")
    arr = ref.pc_data
    np.testing.assert_array_equal(np.stack([arr["x"], arr["y"], arr["z"]], 1), cloud.positions)
    np.testing.assert_array_equal(arr["intensity"], cloud.intensity)
    if data == "ascii":
        # PCL writes a float "rgb" field in text as its uint32 bit pattern; pypcd4 parses that text as a float value
        bits = Pypcd4Cloud.encode_rgb(cloud.rgb).view(np.uint32)
        np.testing.assert_array_equal(arr["rgb"], bits.astype(np.float32))
    else:
        np.testing.assert_array_equal(Pypcd4Cloud.decode_rgb(arr["rgb"]), cloud.rgb)


@pytest.mark.parametrize("encoding", ["ascii", "binary", "binary_compressed"])
def test_we_read_what_pypcd4_writes(tmp_path, rng, encoding):
    n = 200
    xyz = rng.standard_normal((n, 3)).astype(np.float32)
    rgb = rng.integers(0, 256, (n, 3), dtype=np.uint8)
    packed = Pypcd4Cloud.encode_rgb(rgb)
    ref = Pypcd4Cloud.from_xyzrgb_points(np.column_stack([xyz, packed.astype(np.float64)]))
    ref.save(tmp_path / "r.pcd", encoding=Encoding(encoding))
    cloud = read_pcd(tmp_path / "r.pcd")
    assert cloud.positions.dtype == np.float32 and cloud.rgb.dtype == np.uint8
    if encoding == "ascii":
        # pypcd4 writes text with "%.10f": values keep 10 decimals and the tiny packed-colour floats print as 0
        np.testing.assert_allclose(cloud.positions, xyz, rtol=0, atol=1e-9)
        assert not cloud.rgb.any()
    else:
        np.testing.assert_array_equal(cloud.positions, xyz)
        np.testing.assert_array_equal(cloud.rgb, rgb)


def _organized(tmp_path, data):
    w, h = 4, 3
    pos = np.arange(w * h * 3, dtype=np.float32).reshape(-1, 3)
    pos[[1, 7], 0] = np.nan
    pos[5, 2] = np.inf
    rgba = np.arange(w * h, dtype=np.uint32) | (np.uint32(255) << 24)
    cloud = PointCloud(pos, {"rgb": np.zeros((w * h, 3), np.uint8)}, metadata={"width": w, "height": h})
    path = tmp_path / "o.pcd"
    write_pcd(path, cloud, encoding=data)
    return path, pos, rgba


@pytest.mark.parametrize("data", KINDS)
def test_organized_cloud_drops_invalid_points(tmp_path, data):
    path, pos, _ = _organized(tmp_path, data)
    assert b"WIDTH 4\nHEIGHT 3\n" in path.read_bytes()
    cloud = omnicodec.read(path)
    assert len(cloud) == 9
    assert cloud.metadata["dropped_invalid"] == 3
    assert (cloud.metadata["width"], cloud.metadata["height"], cloud.metadata["organized"]) == (4, 3, True)
    np.testing.assert_array_equal(cloud.positions, pos[np.isfinite(pos).all(1)])
    kept = omnicodec.read(path, drop_invalid=False)
    assert len(kept) == 12 and kept.metadata["dropped_invalid"] == 0
    write_pcd(tmp_path / "again.pcd", kept, encoding=data)  # still organized when nothing was dropped
    assert b"WIDTH 4\nHEIGHT 3\n" in (tmp_path / "again.pcd").read_bytes()


def test_old_ascii_float_packed_rgb_and_padding(tmp_path):
    rgb = np.array([[255, 0, 0], [1, 2, 3]], np.uint8)
    bits = (rgb[:, 0].astype(np.uint32) << 16) | (rgb[:, 1].astype(np.uint32) << 8) | rgb[:, 2]
    floats = bits.view(np.float32)
    body = "".join(f"{i} 0 0 {f:.9g} 9 7\n" for i, f in enumerate(floats))
    head = "VERSION .7\nFIELDS x y z rgb _ label\nSIZE 4 4 4 4 4 2\nTYPE F F F F F U\nCOUNT 1 1 1 1 1 1\n"
    head += "WIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA ascii\n"
    (tmp_path / "old.pcd").write_text(head + body)
    cloud = read_pcd(tmp_path / "old.pcd")
    np.testing.assert_array_equal(cloud.rgb, rgb)
    assert list(cloud.attributes) == ["rgb", "label"]
    assert cloud.attributes["label"].dtype == np.uint16


def test_grid_round_trip_and_viewpoint(tmp_path):
    cloud = PointCloud(np.ones((3, 3), np.uint16), grid=Grid(0.001, (5, 6, 7), 12))
    write_pcd(tmp_path / "g.pcd", cloud, viewpoint=(1, 2, 3, 1, 0, 0, 0.5))
    back = read_pcd(tmp_path / "g.pcd")
    assert back.grid == cloud.grid
    assert back.metadata["viewpoint"] == [1, 2, 3, 1, 0, 0, 0.5]


def _pcd(fields="x y z", size="4 4 4", types="F F F", count="1 1 1", width=2, points=None, data="binary") -> bytes:
    points = width if points is None else points
    return (
        f"# .PCD v0.7\nVERSION 0.7\nFIELDS {fields}\nSIZE {size}\nTYPE {types}\nCOUNT {count}\n"
        f"WIDTH {width}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {points}\nDATA {data}\n"
    ).encode()


def _compressed(raw_size: int, payload: bytes, comp_size: int | None = None) -> bytes:
    return struct.pack("<II", len(payload) if comp_size is None else comp_size, raw_size) + payload


@pytest.mark.parametrize(
    "content,message",
    [
        (_pcd(width=1000) + bytes(11985), "point count 1000 needs 12000 bytes but 11985 remain"),
        (_pcd(width=10**12) + bytes(40), "point count 1000000000000 needs 12000000000000 bytes but 40 remain"),
        (_pcd(width=3, data="ascii") + b"1 2 3\n4 5 6\n", "point count 3 but the file holds 2 rows"),
        (_pcd(width=1, data="ascii") + b"1 2\n", "bad ascii point data"),
        (_pcd(types="F F X"), "unsupported PCD field type X4"),
        (_pcd(size="4 4 3"), "unsupported PCD field type F3"),
        (_pcd(size="4 4"), "lengths differ"),
        (_pcd().replace(b"DATA binary\n", b""), "no DATA line"),
        (_pcd(data="binary_zstd"), "unsupported PCD DATA 'binary_zstd'"),
        (_pcd(points=5), "POINTS 5 differs from WIDTH\\*HEIGHT 2\\*1"),
        (_pcd(fields="a b c"), "no single-valued x/y/z field"),
        (_pcd().replace(b"WIDTH 2", b"WIDTH two"), "WIDTH values must be integers"),
        (b"\x89PNG\r\n\x1a\n" + bytes(30), "not a PCD file"),
        (_pcd(data="binary_compressed") + b"\x01\x00", "needs an 8-byte size header"),
        (_pcd(data="binary_compressed") + _compressed(20, b"\x00" * 8), "uncompressed size 20 differs"),
        (_pcd(data="binary_compressed") + _compressed(24, b"\x00" * 8, 500), "compressed size 500 but 8 bytes"),
        (_pcd(data="binary_compressed") + _compressed(24, b"\x05ab"), "corrupt LZF data"),
        (_pcd(data="binary_compressed") + _compressed(24, lzf.compress(bytes(200))), "expands to more"),
        (_pcd(data="binary_compressed") + _compressed(24, b"\x03abcd"), "expands to 4 bytes"),
        (_pcd(width=10**9, data="binary_compressed") + _compressed(12 * 10**9 % 2**32, b"\x00a"), "differs"),
    ],
)
def test_malformed(tmp_path, content, message):
    path = tmp_path / "bad.pcd"
    path.write_bytes(content)
    t = time.perf_counter()
    with pytest.raises(InputError, match=message) as err:
        omnicodec.read(path)
    assert str(err.value).startswith(f"{path}: ")
    assert time.perf_counter() - t < 1.0


def test_lzf_bomb_is_refused_before_allocating(tmp_path):
    path = tmp_path / "bomb.pcd"
    path.write_bytes(_pcd(width=10**8, data="binary_compressed") + _compressed(12 * 10**8, b"\x00a"))
    with pytest.raises(InputError, match="cannot expand to 1200000000 bytes"):
        read_pcd(path)


def test_unknown_data_kind_on_write(tmp_path):
    with pytest.raises(InputError, match="unknown PCD encoding"):
        write_pcd(tmp_path / "x.pcd", PointCloud(np.zeros((1, 3))), encoding="binary_lz4")
