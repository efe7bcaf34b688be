"""PLY: exact round trips for every encoding and dtype, other elements, plyfile cross-checks, malformed files."""

from __future__ import annotations

import time

import numpy as np
import plyfile
import pytest

import omnicodec
from omnicodec.errors import InputError
from omnicodec.io import read_ply, write_ply
from omnicodec.types import Grid, PointCloud

from .conftest import PLY_DTYPES, assert_same_cloud

ENCODINGS = {"binary_little_endian": {}, "binary_big_endian": {"big_endian": True}, "ascii": {"ascii": True}}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("pos_dtype", PLY_DTYPES)
def test_round_trip_every_dtype(tmp_path, cloud_factory, encoding, pos_dtype):
    cloud = cloud_factory(pos_dtype=pos_dtype)
    cloud.attributes["a_float32"][5] = np.nan  # NaN survives too
    path = tmp_path / "c.ply"
    omnicodec.write(path, cloud, **ENCODINGS[encoding])
    back = omnicodec.read(path)
    assert back.metadata["encoding"] == encoding
    assert_same_cloud(cloud, back)


def test_header_and_plyfile_agree(tmp_path, cloud_factory):
    cloud = cloud_factory(n=100)
    for encoding, opts in ENCODINGS.items():
        path = tmp_path / f"{encoding}.ply"
        write_ply(path, cloud, **opts)
        ref = plyfile.PlyData.read(str(path))
        assert ref.text == (encoding == "ascii")
        v = ref["vertex"]
        assert [p.name for p in v.properties][:10] == ["x", "y", "z", "red", "green", "blue", "alpha", "nx", "ny", "nz"]
        assert v["red"].dtype == np.uint8 and v["a_uint32"].dtype.kind == "u"
        np.testing.assert_array_equal(v["x"], cloud.positions[:, 0])
        np.testing.assert_array_equal(v["blue"], cloud.rgb[:, 2])
        np.testing.assert_array_equal(v["feature_2"], cloud.attributes["feature"][:, 2])
        np.testing.assert_array_equal(v["a_int16"], cloud.attributes["a_int16"])


def test_grid_and_comments_round_trip(tmp_path):
    cloud = PointCloud(np.arange(30, dtype=np.int32).reshape(10, 3), grid=Grid(0.5, (1, -2, 3), 10))
    path = tmp_path / "g.ply"
    write_ply(path, cloud, comments=["made by a test"])
    back = read_ply(path)
    assert back.grid == cloud.grid
    assert back.metadata["comments"] == ["made by a test"]
    assert back.metadata["elements"] == {"vertex": 10}


def test_empty_cloud(tmp_path):
    for opts in ENCODINGS.values():
        cloud = PointCloud(np.zeros((0, 3), np.float32), {"rgb": np.zeros((0, 3), np.uint8)})
        write_ply(tmp_path / "e.ply", cloud, **opts)
        back = read_ply(tmp_path / "e.ply")
        assert_same_cloud(cloud, back)


def test_int64_bool_float16_are_narrowed_losslessly(tmp_path):
    cloud = PointCloud(
        np.array([[1, 2, 3], [-4, 5, 2**31 - 1]], np.int64),
        {"flag": np.array([True, False]), "h": np.array([0.5, 1.5], np.float16)},
    )
    write_ply(tmp_path / "n.ply", cloud)
    back = read_ply(tmp_path / "n.ply")
    assert back.positions.dtype == np.int32 and back.attributes["flag"].dtype == np.uint8
    np.testing.assert_array_equal(back.positions, cloud.positions)
    np.testing.assert_array_equal(back.attributes["h"], [0.5, 1.5])
    too_big = PointCloud(np.array([[2**40, 0, 0]], np.int64))
    with pytest.raises(InputError, match="outside the range"):
        write_ply(tmp_path / "big.ply", too_big)


def test_unwritable_dtype_and_name_clash(tmp_path):
    cloud = PointCloud(np.zeros((2, 3)), {"c": np.zeros(2, np.complex64)})
    with pytest.raises(InputError, match="complex64"):
        write_ply(tmp_path / "x.ply", cloud)
    cloud = PointCloud(np.zeros((2, 3)), {"x": np.zeros(2)})
    with pytest.raises(InputError, match="clash"):
        write_ply(tmp_path / "x.ply", cloud)
    assert not list(tmp_path.iterdir())  # nothing left behind


def _mesh(byte_order: str, text: bool, mixed: bool, faces_first: bool, path):
    vertex = np.zeros(4, dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"), ("quality", "u2")])
    vertex["x"] = [0, 1, 0, 1]
    vertex["y"] = [0, 0, 1, 1]
    vertex["quality"] = [7, 8, 9, 10]
    rows = [[0, 1, 2], [1, 3, 2, 0]] if mixed else [[0, 1, 2], [1, 3, 2]]
    face = np.empty(len(rows), dtype=[("vertex_indices", "O"), ("flags", "i2")])
    face["vertex_indices"] = [np.array(r, np.int32) for r in rows]
    face["flags"] = [-1, 5]
    els = [plyfile.PlyElement.describe(vertex, "vertex"), plyfile.PlyElement.describe(face, "face")]
    edge = plyfile.PlyElement.describe(np.zeros(3, dtype=[("a", "f8")]), "edge")
    els = [els[1], edge, els[0]] if faces_first else [els[0], els[1], edge]
    plyfile.PlyData(els, text=text, byte_order=byte_order).write(str(path))
    return vertex


@pytest.mark.parametrize("byte_order,text", [("<", False), (">", False), ("=", True)])
@pytest.mark.parametrize("mixed", [False, True])
@pytest.mark.parametrize("faces_first", [False, True])
def test_other_elements_are_skipped(tmp_path, byte_order, text, mixed, faces_first):
    path = tmp_path / "mesh.ply"
    vertex = _mesh(byte_order, text, mixed, faces_first, path)
    cloud = read_ply(path)
    np.testing.assert_array_equal(cloud.positions[:, :2], np.stack([vertex["x"], vertex["y"]], 1))
    assert cloud.attributes["quality"].dtype == np.uint16
    np.testing.assert_array_equal(cloud.attributes["quality"], [7, 8, 9, 10])
    assert cloud.metadata["elements"] == {"face": 2, "edge": 3, "vertex": 4}


def test_truncated_faces_before_vertex(tmp_path):
    path = tmp_path / "mesh.ply"
    _mesh("<", False, True, True, path)
    data = path.read_bytes()
    head = data[: data.index(b"end_header\n") + 11]
    path.write_bytes(head + data[len(head) : len(head) + 10])
    with pytest.raises(InputError, match=f"^{path}: face count 2 but the data ends"):
        read_ply(path)


def _header(fmt="binary_little_endian", count=10, props=("float x", "float y", "float z"), end=True) -> bytes:
    lines = ["ply", f"format {fmt} 1.0", f"element vertex {count}"] + [f"property {p}" for p in props]
    return ("\n".join(lines + (["end_header"] if end else [])) + "\n").encode()


def test_truncated_binary_names_the_bytes(tmp_path):
    path = tmp_path / "scan.ply"
    path.write_bytes(_header(count=1000) + bytes(11985))
    with pytest.raises(InputError) as err:
        read_ply(path)
    assert str(err.value) == f"{path}: vertex count 1000 needs 12000 bytes but 11985 remain"


def test_huge_declared_count_fails_at_once(tmp_path):
    path = tmp_path / "huge.ply"
    path.write_bytes(_header(count=10**12) + bytes(40))
    t = time.perf_counter()
    with pytest.raises(InputError, match="vertex count 1000000000000 needs 12000000000000 bytes but 40 remain"):
        omnicodec.read(path)
    path.write_bytes(_header(fmt="ascii", count=10**12) + b"1 2 3\n")
    with pytest.raises(InputError, match="vertex count 1000000000000 but the file holds 1 rows"):
        omnicodec.read(path)
    assert time.perf_counter() - t < 1.0


@pytest.mark.parametrize(
    "content,message",
    [
        (_header(props=("float128 x", "float y", "float z")), "unknown PLY property type 'float128'"),
        (_header(end=False) + bytes(120), "no 'end_header'"),
        (b"plx\nformat ascii 1.0\n", "not a PLY file"),
        (_header(fmt="binary_middle_endian"), "unsupported PLY format"),
        (_header(props=("float x", "float y")) + bytes(80), "no z property"),
        (_header(fmt="ascii", count=3) + b"1 2 3\n4 5 6\n", "vertex count 3 but the file holds 2 rows"),
        (_header(fmt="ascii", count=2) + b"1 2 3\n4 5 six\n", "bad vertex data"),
        (_header(fmt="ascii", count=2) + b"1 2 3\n4 5\n", "bad vertex data"),
        (_header(props=("float x", "float y", "float z", "float x")), "declares a property twice"),
        (b"ply\nformat ascii 1.0\nelement face 1\nproperty list uchar int v\nend_header\n3 0 1 2\n", "no 'vertex'"),
        (b"ply\nformat ascii 1.0\nproperty float x\nend_header\n", "property before any element"),
        (b"ply\nformat ascii 1.0\nelement vertex -3\nend_header\n", "bad element line"),
        (b"ply\nformat ascii 1.0\nbogus line\nend_header\n", "unknown PLY header keyword 'bogus'"),
    ],
)
def test_malformed(tmp_path, content, message):
    path = tmp_path / "bad.ply"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        omnicodec.read(path)
    assert str(err.value).startswith(f"{path}: ")


def test_ascii_integer_overflow_is_an_input_error(tmp_path):
    path = tmp_path / "o.ply"
    path.write_bytes(_header(fmt="ascii", count=1, props=("uchar x", "uchar y", "uchar z")) + b"1 2 300\n")
    with pytest.raises(InputError, match="bad vertex data"):
        read_ply(path)


def test_crlf_header(tmp_path):
    path = tmp_path / "crlf.ply"
    path.write_bytes(_header(fmt="ascii", count=2).replace(b"\n", b"\r\n") + b"1 2 3\r\n4 5 6\r\n")
    np.testing.assert_array_equal(read_ply(path).positions, [[1, 2, 3], [4, 5, 6]])


def test_huge_face_count_before_vertex_fails_at_once(tmp_path):
    path = tmp_path / "faces.ply"
    head = b"ply\nformat binary_little_endian 1.0\nelement face 1000000000000\nproperty list uchar int v\n"
    path.write_bytes(
        head + b"element vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n" + bytes(40)
    )
    t = time.perf_counter()
    with pytest.raises(InputError, match="face count 1000000000000 needs at least 1000000000000 bytes but 40 remain"):
        read_ply(path)
    assert time.perf_counter() - t < 0.5


def test_elements_after_the_vertex_element_are_not_needed(tmp_path):
    path = tmp_path / "mesh.ply"
    _mesh("<", False, True, False, path)
    data = path.read_bytes()
    path.write_bytes(data[:-30])  # faces and edges cut short: the points are all there
    cloud = read_ply(path)
    assert len(cloud) == 4 and cloud.metadata["elements"] == {"vertex": 4, "face": 2, "edge": 3}
