"""PLY point clouds: ascii, binary_little_endian and binary_big_endian.

Reading keeps the ``vertex`` element; ``x, y, z`` become the positions (in the file's dtype), ``red, green, blue``
the ``rgb`` attribute, ``nx, ny, nz`` the ``normals`` and every other vertex property an attribute of its own name and
dtype. Other elements (faces and their list properties) are skipped and their names and counts recorded in
``metadata["elements"]``. Binary bodies are read with numpy structured dtypes straight from the file's bytes.

Writing produces binary little endian (or ``big_endian=True``, or ``ascii=True``). Two header comments, written by
omnicodec and understood only by it, make the round trip exact: ``omnicodec grid ...`` (the cloud's grid) and
``omnicodec attribute <name> <k>`` (an (N, k) attribute stored as properties ``<name>_0 .. <name>_<k-1>``).
"""

from __future__ import annotations

import os

import numpy as np

from ..types import PointCloud
from ._util import fail, format_rows, grid_comment, load_ascii_rows, parse_grid_comment, read_bytes, split_attributes
from .atomic import atomic_open
from .ply_header import ENCODINGS, Element, Header, parse_header, skip_list_element

__all__ = ["read_ply", "write_ply"]

_WRITE_NAMES = {
    np.dtype(c): n
    for c, n in [
        ("i1", "char"),
        ("u1", "uchar"),
        ("i2", "short"),
        ("u2", "ushort"),
        ("i4", "int"),
        ("u4", "uint"),
        ("f4", "float"),
        ("f8", "double"),
    ]
}
_GROUP_TAG = "omnicodec attribute "


def read_ply(path: str | os.PathLike) -> PointCloud:
    """Read the vertex element of a PLY file.

    Args:
        path: a ``.ply`` file (ascii, binary_little_endian or binary_big_endian).

    Returns:
        A PointCloud: positions (N, 3) in the dtype of ``x, y, z``; attributes ``rgb`` (N, 3) (+ ``alpha`` (N,)),
        ``normals`` (N, 3) and every other vertex property (N,) in its own dtype, all native byte order.
        ``metadata``: ``format`` ("ply"), ``encoding``, ``elements`` (name -> count), ``comments``, ``obj_info``.

    Raises:
        InputError: the file is missing or malformed (the message starts with the path).
    """
    buf = read_bytes(path)
    header = parse_header(buf, path)
    vertex = next((el for el in header.elements if el.name == "vertex"), None)
    if vertex is None:
        raise fail(path, "PLY file has no 'vertex' element")
    if vertex.has_lists:
        raise fail(path, "list properties in the vertex element are not supported")
    names = {p.name for p in vertex.properties}
    missing = [c for c in "xyz" if c not in names]
    if missing:
        raise fail(path, f"vertex element has no {'/'.join(missing)} property")
    if header.encoding == "ascii":
        rows = _read_ascii_vertices(buf, header, vertex, path)
    else:
        rows = _read_binary_vertices(buf, header, vertex, ENCODINGS[header.encoding], path)
    groups = {}
    grid = None
    comments = []
    for c in header.comments:
        if c.startswith(_GROUP_TAG):
            parts = c[len(_GROUP_TAG) :].split()
            if len(parts) == 2 and parts[1].isdigit():
                groups[parts[0]] = int(parts[1])
                continue
        g = parse_grid_comment(c)
        if g is not None:
            grid = g
            continue
        comments.append(c)
    positions, attributes = _rows_to_arrays(rows, groups)
    metadata = {
        "format": "ply",
        "encoding": header.encoding,
        "elements": {el.name: el.count for el in header.elements},
        "comments": comments,
        "obj_info": header.obj_info,
    }
    return PointCloud(positions, attributes, grid=grid, metadata=metadata)


def _read_binary_vertices(buf: bytes, header: Header, vertex: Element, endian: str, path) -> np.ndarray:
    """The vertex rows, a structured view of ``buf``; the elements before the vertex element are skipped.

    Elements after the vertex element are not read (their counts are only recorded in the metadata).
    """
    offset = header.body_offset
    for el in header.elements:
        remaining = len(buf) - offset
        if el.has_lists:
            offset = skip_list_element(buf, offset, el, endian, path)
            continue
        dtype = el.row_dtype(endian)
        need = el.count * dtype.itemsize
        if need > remaining:
            raise fail(path, f"{el.name} count {el.count} needs {need} bytes but {remaining} remain")
        if el is vertex:
            return np.frombuffer(buf, dtype=dtype, count=el.count, offset=offset)
        offset += need
    raise AssertionError("the vertex element is in the header")  # unreachable: read_ply checked it


def _read_ascii_vertices(buf: bytes, header: Header, vertex: Element, path) -> np.ndarray:
    before = 0
    for el in header.elements:
        if el is vertex:
            break
        before += el.count
    text = buf[header.body_offset :].decode("latin-1")
    lines = text.split("\n", before + vertex.count)
    if lines and not lines[-1].strip() and len(lines) <= before + vertex.count:
        lines.pop()  # the empty string after the final newline
    available = len(lines) - before
    if available < vertex.count:
        raise fail(path, f"vertex count {vertex.count} but the file holds {max(available, 0)} rows")
    block = lines[before : before + vertex.count]
    dtype = vertex.row_dtype("=")
    return load_ascii_rows(path, block, dtype, vertex.count, "vertex", "vertex")


def _rows_to_arrays(rows: np.ndarray, groups: dict[str, int]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    names = list(rows.dtype.names)

    def stack(cols: list[str]) -> np.ndarray:
        dtype = np.result_type(*[rows.dtype[c].newbyteorder("=") for c in cols])
        out = np.empty((len(rows), len(cols)), dtype=dtype)
        for j, c in enumerate(cols):
            out[:, j] = rows[c]
        return out

    positions = stack(["x", "y", "z"])
    used = {"x", "y", "z"}
    attributes: dict[str, np.ndarray] = {}
    if {"red", "green", "blue"} <= set(names):
        attributes["rgb"] = stack(["red", "green", "blue"])
        used |= {"red", "green", "blue"}
    if {"nx", "ny", "nz"} <= set(names):
        attributes["normals"] = stack(["nx", "ny", "nz"])
        used |= {"nx", "ny", "nz"}
    for gname, k in groups.items():
        cols = [f"{gname}_{i}" for i in range(k)]
        if k > 0 and set(cols) <= set(names) - used and gname not in attributes:
            attributes[gname] = stack(cols)
            used |= set(cols)
    for name in names:
        if name in used:
            continue
        key = name if name not in attributes else f"{name}_1"
        attributes[key] = np.array(rows[name], dtype=rows.dtype[name].newbyteorder("="))
    return positions, attributes


def write_ply(
    path: str | os.PathLike,
    cloud: PointCloud,
    *,
    ascii: bool = False,
    big_endian: bool = False,
    comments: list[str] | tuple[str, ...] = (),
) -> None:
    """Write a cloud as a PLY file with one ``vertex`` element, atomically.

    Args:
        path: destination ``.ply``.
        cloud: positions (N, 3) and attributes in any PLY dtype (int8..uint32, float32, float64). ``rgb`` (N, 3) is
            written as ``red, green, blue``, ``normals`` as ``nx, ny, nz``, other (N, k) attributes as
            ``<name>_0 ..``.
        ascii: write ``format ascii`` (values written so that they read back bit-exactly).
        big_endian: write ``binary_big_endian`` (ignored with ``ascii``).
        comments: extra header comment lines.

    Raises:
        InputError: a dtype PLY cannot store, or property names that clash.
    """
    columns, groups = _columns(cloud, path)
    if ascii:
        encoding, endian = "ascii", "="
    else:
        encoding, endian = ("binary_big_endian", ">") if big_endian else ("binary_little_endian", "<")
    lines = ["ply", f"format {encoding} 1.0"]
    lines += [f"comment {c}" for c in comments]
    gc = grid_comment(cloud)
    if gc:
        lines.append(f"comment {gc}")
    lines += [f"comment {_GROUP_TAG}{name} {k}" for name, k in groups]
    lines.append(f"element vertex {len(cloud)}")
    lines += [f"property {_WRITE_NAMES[arr.dtype]} {name}" for name, arr in columns]
    lines.append("end_header")
    head = ("\n".join(lines) + "\n").encode("utf-8")
    if ascii:
        body = format_rows([arr for _, arr in columns])
    else:
        rows = np.empty(len(cloud), dtype=[(name, arr.dtype.newbyteorder(endian)) for name, arr in columns])
        for name, arr in columns:
            rows[name] = arr
        body = rows.tobytes()
    with atomic_open(path, "wb") as fh:
        fh.write(head)
        fh.write(body)


def _columns(cloud: PointCloud, path) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, int]]]:
    rgb, alpha, normals, others = split_attributes(cloud)
    columns: list[tuple[str, np.ndarray]] = []
    groups: list[tuple[str, int]] = []

    def add(names: list[str], arr: np.ndarray, what: str) -> None:
        dtype = _storable_dtype(arr, what, path)
        arr = arr.reshape(len(cloud), len(names))
        for j, name in enumerate(names):
            columns.append((name, np.ascontiguousarray(arr[:, j], dtype=dtype)))

    add(["x", "y", "z"], cloud.positions, "positions")
    if rgb is not None:
        add(["red", "green", "blue"], rgb, "attribute 'rgb'")
        if alpha is not None:
            add(["alpha"], alpha, "attribute 'alpha'")
    if normals is not None:
        add(["nx", "ny", "nz"], normals, "attribute 'normals'")
    for name, arr in others.items():
        if arr.ndim == 2:
            add([f"{name}_{i}" for i in range(arr.shape[1])], arr, f"attribute {name!r}")
            groups.append((name, arr.shape[1]))
        else:
            add([name], arr, f"attribute {name!r}")
    names = [n for n, _ in columns]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise fail(path, f"attribute names clash with PLY property names: {', '.join(dup)}")
    return columns, groups


def _storable_dtype(arr: np.ndarray, what: str, path) -> np.dtype:
    """The PLY dtype ``arr`` is written in: its own, or a narrower one holding the same values.

    bool -> uint8, float16 -> float32, and int64/uint64 -> int32/uint32 when every value fits; anything else that
    PLY cannot store raises InputError.
    """
    dtype = np.dtype(arr.dtype).newbyteorder("=")
    if dtype in _WRITE_NAMES:
        return dtype
    if dtype.kind == "b":
        return np.dtype("u1")
    if dtype == np.float16:
        return np.dtype("f4")
    if dtype.kind in "iu":
        target = np.dtype("i4") if dtype.kind == "i" else np.dtype("u4")
        info = np.iinfo(target)
        if arr.size == 0 or (arr.min() >= info.min and arr.max() <= info.max):
            return target
        raise fail(path, f"{what} has {dtype} values outside the range of {target}, the widest PLY integer")
    raise fail(path, f"{what} has dtype {arr.dtype}, which PLY cannot store (int8..uint32, float32, float64)")
