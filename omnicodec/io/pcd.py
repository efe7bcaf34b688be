"""PCD (Point Cloud Library) point clouds, header VERSION 0.7, DATA ascii / binary / binary_compressed.

Field mapping on reading:

* ``x, y, z`` -> positions (N, 3) in the file's dtype; points whose x, y or z is NaN or infinite are dropped
  (``metadata["dropped_invalid"]`` counts them; organized clouds keep ``width``/``height`` in the metadata).
* ``rgb`` / ``rgba`` (one packed 4-byte value, float or integer) -> ``rgb`` (N, 3) uint8, plus ``alpha`` (N,) uint8
  for ``rgba``. A ``rgb`` field with COUNT 3 (how omnicodec writes non-uint8 colour) -> ``rgb`` (N, 3) as stored.
* ``normal_x, normal_y, normal_z`` -> ``normals`` (N, 3); ``intensity`` -> ``intensity``.
* every other field -> an attribute of its name, (N,) or (N, COUNT); padding fields ``_`` are dropped.

``binary_compressed`` bodies hold two little-endian uint32 (compressed size, uncompressed size) and LZF data that
expands to the fields one after another (all x, then all y, ...).
"""

from __future__ import annotations

import os
import struct

import lzf
import numpy as np

from ..types import PointCloud
from ._util import fail, format_rows, grid_comment, load_ascii_rows, parse_grid_comment, read_bytes, split_attributes
from .atomic import atomic_open
from .pcd_header import PCD_DATA_KINDS, Field, Header, parse_header

__all__ = ["read_pcd", "write_pcd", "PCD_DATA_KINDS"]

_MAX_LZF_RATIO = 100  # LZF expands at most ~88x (a 3-byte back reference copies up to 264 bytes)
_PACKED = ("rgb", "rgba")


def read_pcd(path: str | os.PathLike, *, drop_invalid: bool = True) -> PointCloud:
    """Read a PCD file.

    Args:
        path: a ``.pcd`` file.
        drop_invalid: drop points whose x, y or z is NaN or infinite (organized clouds mark missing points so).

    Returns:
        A PointCloud (see the module docstring for the field mapping). ``metadata``: ``format`` ("pcd"),
        ``encoding`` (the DATA kind), ``version``, ``width``, ``height``, ``organized`` (height > 1), ``viewpoint``
        (7 floats: tx ty tz qw qx qy qz), ``dropped_invalid``, ``comments``.

    Raises:
        InputError: the file is missing or malformed (the message starts with the path).
    """
    buf = read_bytes(path)
    h = parse_header(buf, path)
    by_name = {f.name: f for f in h.fields}
    missing = [c for c in "xyz" if c not in by_name or by_name[c].count != 1]
    if missing:
        raise fail(path, f"PCD file has no single-valued {'/'.join(missing)} field")
    if h.data == "ascii":
        cols = _read_ascii(buf, h, path)
    elif h.data == "binary":
        cols = _read_binary(buf, h, path)
    else:
        cols = _read_compressed(buf, h, path)
    return _to_cloud(cols, h, drop_invalid, path)


def _row_dtype(fields: list[Field]) -> np.dtype:
    return np.dtype([(f.key, f.dtype) if f.count == 1 else (f.key, f.dtype, (f.count,)) for f in fields])


def _read_binary(buf: bytes, h: Header, path) -> dict[str, np.ndarray]:
    dtype = _row_dtype(h.fields)
    need = h.points * dtype.itemsize
    remaining = len(buf) - h.body_offset
    if need > remaining:
        raise fail(path, f"point count {h.points} needs {need} bytes but {remaining} remain")
    rows = np.frombuffer(buf, dtype=dtype, count=h.points, offset=h.body_offset)
    return {f.key: rows[f.key] for f in h.fields}


def _read_compressed(buf: bytes, h: Header, path) -> dict[str, np.ndarray]:
    remaining = len(buf) - h.body_offset
    if remaining < 8:
        raise fail(path, f"binary_compressed body needs an 8-byte size header but {remaining} bytes remain")
    comp_size, raw_size = struct.unpack_from("<II", buf, h.body_offset)
    rowsize = sum(f.dtype.itemsize * f.count for f in h.fields)
    need = h.points * rowsize
    if raw_size != need:
        raise fail(path, f"uncompressed size {raw_size} differs from point count {h.points} x {rowsize} bytes")
    if comp_size > remaining - 8:
        raise fail(path, f"compressed size {comp_size} but {remaining - 8} bytes remain")
    if raw_size > comp_size * _MAX_LZF_RATIO + 1024:
        raise fail(path, f"compressed size {comp_size} cannot expand to {raw_size} bytes")
    if raw_size == 0:
        raw = b""
    else:
        start = h.body_offset + 8
        try:
            raw = lzf.decompress(buf[start : start + comp_size], raw_size)
        except ValueError:
            raise fail(path, "corrupt LZF data in the binary_compressed body") from None
        if raw is None or len(raw) != raw_size:
            got = "more" if raw is None else len(raw)
            raise fail(path, f"LZF data expands to {got} bytes, not the declared {raw_size}")
    cols, offset = {}, 0
    for f in h.fields:
        arr = np.frombuffer(raw, dtype=f.dtype, count=h.points * f.count, offset=offset)
        cols[f.key] = arr if f.count == 1 else arr.reshape(h.points, f.count)
        offset += arr.nbytes
    return cols


def _read_ascii(buf: bytes, h: Header, path) -> dict[str, np.ndarray]:
    flat = []
    for f in h.fields:
        # packed colours are parsed as float64: PCL writes them as integers or (older files) as floats
        dt = np.dtype("f8") if _is_packed(f) else f.dtype
        flat += [(f"{f.key}#{i}", dt) for i in range(f.count)]
    dtype = np.dtype(flat)
    lines = buf[h.body_offset :].decode("latin-1").split("\n", h.points)[: h.points] if h.points else []
    rows = load_ascii_rows(path, lines, dtype, h.points, "ascii point", "point")
    cols = {}
    for f in h.fields:
        parts = [rows[f"{f.key}#{i}"] for i in range(f.count)]
        if _is_packed(f):
            cols[f.key] = _ascii_packed(parts[0])
        else:
            cols[f.key] = parts[0] if f.count == 1 else np.stack(parts, axis=1)
    return cols


def _is_packed(f: Field) -> bool:
    return f.name in _PACKED and f.count == 1 and f.dtype.itemsize == 4


def _ascii_packed(values: np.ndarray) -> np.ndarray:
    """Packed colour values read as text (float64) -> their uint32 bit patterns."""
    finite = np.isfinite(values)
    ints = finite.all() and (values == np.floor(values)).all() and (values >= 0).all() and (values < 2**32).all()
    if ints:
        return values.astype(np.uint32)
    return values.astype(np.float32).view(np.uint32)


def _to_cloud(cols: dict[str, np.ndarray], h: Header, drop_invalid: bool, path) -> PointCloud:
    by_name = {f.name: f for f in h.fields}
    pos_dtype = np.result_type(*[by_name[c].dtype for c in "xyz"]).newbyteorder("=")
    positions = np.empty((h.points, 3), dtype=pos_dtype)
    for j, c in enumerate("xyz"):
        positions[:, j] = cols[c]
    keep = None
    dropped = 0
    if drop_invalid and positions.dtype.kind == "f":
        valid = np.isfinite(positions).all(axis=1)
        dropped = int(h.points - np.count_nonzero(valid))
        if dropped:
            keep = valid
            positions = positions[valid]

    def take(arr: np.ndarray) -> np.ndarray:
        arr = arr if keep is None else arr[keep]
        return np.array(arr, dtype=arr.dtype.newbyteorder("="))  # an owned, native-order copy

    attributes: dict[str, np.ndarray] = {}
    used = {"x", "y", "z"}
    packed = next((f for f in h.fields if _is_packed(f)), None)
    if packed is not None:
        raw = cols[packed.key]
        bits = take(raw if raw.dtype.kind == "u" else raw.view(raw.dtype.byteorder.replace("=", "<") + "u4"))
        rgb = np.empty((len(bits), 3), dtype=np.uint8)
        rgb[:, 0] = bits >> 16
        rgb[:, 1] = bits >> 8
        rgb[:, 2] = bits
        attributes["rgb"] = rgb
        if packed.name == "rgba":
            attributes["alpha"] = (bits >> 24).astype(np.uint8)
        used.add(packed.name)
    if "rgb" not in attributes and "rgb" in by_name and by_name["rgb"].count == 3:
        attributes["rgb"] = take(cols["rgb"])
        used.add("rgb")
    if all(n in by_name and by_name[n].count == 1 for n in ("normal_x", "normal_y", "normal_z")):
        nd = np.result_type(*[by_name[n].dtype for n in ("normal_x", "normal_y", "normal_z")]).newbyteorder("=")
        normals = np.empty((len(positions), 3), dtype=nd)
        for j, n in enumerate(("normal_x", "normal_y", "normal_z")):
            normals[:, j] = take(cols[n])
        attributes["normals"] = normals
        used |= {"normal_x", "normal_y", "normal_z"}
    for f in h.fields:
        if f.name in used or f.name == "_":
            continue
        name = f.name if f.name not in attributes else f"{f.name}_1"
        attributes[name] = take(cols[f.key])
    grid = None
    comments = []
    for c in h.comments:
        g = parse_grid_comment(c)
        if g is not None:
            grid = g
        else:
            comments.append(c)
    metadata = {
        "format": "pcd",
        "encoding": h.data,
        "version": h.version,
        "width": h.width,
        "height": h.height,
        "organized": h.height > 1,
        "viewpoint": h.viewpoint,
        "dropped_invalid": dropped,
        "comments": comments,
    }
    return PointCloud(positions, attributes, grid=grid, metadata=metadata)


def write_pcd(
    path: str | os.PathLike,
    cloud: PointCloud,
    *,
    encoding: str = "binary",
    ascii: bool = False,
    viewpoint: list[float] | tuple[float, ...] | None = None,
) -> None:
    """Write a cloud as a PCD (VERSION 0.7) file, atomically.

    ``rgb`` (N, 3) uint8 is packed into one float field ``rgb`` (as PCL does), or into a uint32 field ``rgba`` when
    the cloud also has ``alpha``; colour of another dtype is written as a 3-valued field ``rgb``. A cloud whose
    ``metadata`` holds ``width``/``height`` with ``width * height == N`` is written organized.

    Args:
        path: destination ``.pcd``.
        cloud: positions (N, 3) and attributes (N,) or (N, k), of dtypes int8..int64, uint8..uint64, float32, float64
            (bool is written as uint8, float16 as float32).
        encoding: the DATA kind, ``"ascii"``, ``"binary"`` or ``"binary_compressed"`` (LZF).
        ascii: shorthand for ``encoding="ascii"``.
        viewpoint: 7 floats (tx ty tz qw qx qy qz); default the cloud's ``metadata["viewpoint"]`` or the identity.

    Raises:
        InputError: an unknown ``encoding`` or a dtype PCD cannot store.
    """
    data = "ascii" if ascii else encoding
    if data not in PCD_DATA_KINDS:
        raise fail(path, f"unknown PCD encoding {data!r} (expected one of {', '.join(PCD_DATA_KINDS)})")
    fields = _fields_for(cloud, path)
    n = len(cloud)
    width, height = n, 1
    w, h = cloud.metadata.get("width"), cloud.metadata.get("height")
    if isinstance(w, int) and isinstance(h, int) and h > 1 and w * h == n:
        width, height = w, h
    vp = viewpoint if viewpoint is not None else cloud.metadata.get("viewpoint", (0, 0, 0, 1, 0, 0, 0))
    if len(vp) != 7:
        raise fail(path, f"viewpoint needs 7 numbers, got {len(vp)}")
    kinds = {"i": "I", "u": "U", "f": "F"}
    lines = ["# .PCD v0.7 - Point Cloud Data file format"]
    gc = grid_comment(cloud)
    if gc:
        lines.append(f"# {gc}")
    lines += [
        "VERSION 0.7",
        "FIELDS " + " ".join(name for name, _ in fields),
        "SIZE " + " ".join(str(a.dtype.itemsize) for _, a in fields),
        "TYPE " + " ".join(kinds[a.dtype.kind] for _, a in fields),
        "COUNT " + " ".join(str(1 if a.ndim == 1 else a.shape[1]) for _, a in fields),
        f"WIDTH {width}",
        f"HEIGHT {height}",
        "VIEWPOINT " + " ".join(_number(v) for v in vp),
        f"POINTS {n}",
        f"DATA {data}",
    ]
    head = ("\n".join(lines) + "\n").encode("ascii")
    if data == "ascii":
        columns = []
        for name, arr in fields:
            if name == "rgb" and arr.ndim == 1 and arr.dtype == np.float32:
                arr = arr.view(np.uint32)  # PCL writes packed colour as its integer bit pattern in text
            columns += [arr] if arr.ndim == 1 else [arr[:, j] for j in range(arr.shape[1])]
        body = format_rows(columns)
    elif data == "binary":
        rows = np.empty(n, dtype=[(name, a.dtype, a.shape[1:]) for name, a in fields])
        for name, arr in fields:
            rows[name] = arr
        body = rows.tobytes()
    else:
        raw = b"".join(np.ascontiguousarray(arr).tobytes() for _, arr in fields)
        comp = lzf.compress(raw, len(raw) + len(raw) // 16 + 64) if raw else b""
        body = struct.pack("<II", len(comp), len(raw)) + comp
    with atomic_open(path, "wb") as fh:
        fh.write(head)
        fh.write(body)


def _number(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _fields_for(cloud: PointCloud, path) -> list[tuple[str, np.ndarray]]:
    """(field name, little-endian array (N,) or (N, k)) in file order."""
    rgb, alpha, normals, others = split_attributes(cloud)
    fields: list[tuple[str, np.ndarray]] = []

    def add(name: str, arr: np.ndarray, what: str) -> None:
        dtype = np.dtype(arr.dtype)
        if dtype.kind == "b":
            dtype = np.dtype("u1")
        elif dtype == np.float16:
            dtype = np.dtype("f4")
        if dtype.kind not in "iuf" or (dtype.kind == "f" and dtype.itemsize not in (4, 8)):
            raise fail(path, f"{what} has dtype {arr.dtype}, which PCD cannot store")
        fields.append((name, np.ascontiguousarray(arr, dtype=dtype.newbyteorder("<"))))

    for j, c in enumerate("xyz"):
        add(c, cloud.positions[:, j], "positions")
    if rgb is not None:
        if rgb.dtype == np.uint8:
            bits = (rgb[:, 0].astype(np.uint32) << 16) | (rgb[:, 1].astype(np.uint32) << 8) | rgb[:, 2]
            if alpha is not None and alpha.dtype == np.uint8:
                add("rgba", bits | (alpha.astype(np.uint32) << 24), "attribute 'alpha'")
                alpha = None
            else:
                add("rgb", bits.view(np.float32), "attribute 'rgb'")
        else:
            add("rgb", rgb, "attribute 'rgb'")
        if alpha is not None:
            add("alpha", alpha, "attribute 'alpha'")
    if normals is not None:
        for j, c in enumerate(("normal_x", "normal_y", "normal_z")):
            add(c, normals[:, j], "attribute 'normals'")
    for name, arr in others.items():
        add(name, arr, f"attribute {name!r}")
    names = [name for name, _ in fields]
    if len(set(names)) != len(names):
        dup = sorted({x for x in names if names.count(x) > 1})
        raise fail(path, f"attribute names clash with PCD field names: {', '.join(dup)}")
    return fields
