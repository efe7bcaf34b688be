"""PCD header parsing: VERSION, FIELDS (or COLUMNS), SIZE, TYPE, COUNT, WIDTH, HEIGHT, VIEWPOINT, POINTS, DATA.

Lines starting with ``#`` are comments. The header is checked for consistency (equal list lengths, supported
TYPE/SIZE pairs, POINTS == WIDTH * HEIGHT) before any of the body is read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._util import fail

__all__ = ["PCD_DATA_KINDS", "Field", "Header", "parse_header"]

#: The DATA encodings read and written.
PCD_DATA_KINDS = ("ascii", "binary", "binary_compressed")
_KEYS = ("VERSION", "FIELDS", "COLUMNS", "SIZE", "TYPE", "COUNT", "WIDTH", "HEIGHT", "VIEWPOINT", "POINTS", "DATA")
#: Most values one point may hold over all fields (COUNT summed): PCL's largest descriptors hold under 2000.
MAX_VALUES_PER_POINT = 1 << 16
_TYPES = {("I", 1), ("I", 2), ("I", 4), ("I", 8), ("U", 1), ("U", 2), ("U", 4), ("U", 8), ("F", 4), ("F", 8)}


@dataclass
class Field:
    """One PCD field: ``dtype`` is its little-endian scalar type, ``count`` the values per point."""

    name: str  # as in the file ("_" for padding)
    key: str  # unique name inside the structured dtype
    dtype: np.dtype  # little-endian scalar dtype
    count: int


@dataclass
class Header:
    """A parsed header; ``body_offset`` is the byte just after the DATA line."""

    fields: list[Field]
    width: int
    height: int
    points: int
    viewpoint: list[float]
    data: str
    version: str
    comments: list[str]
    body_offset: int


def parse_header(buf: bytes, path) -> Header:
    """Parse the header lines up to DATA; InputError (naming ``path``) when they are malformed."""
    values: dict[str, list[str]] = {}
    comments: list[str] = []
    pos = 0
    lineno = 0
    while True:
        if pos >= len(buf):
            raise fail(path, "PCD header has no DATA line")
        nl = buf.find(b"\n", pos)
        end = len(buf) if nl < 0 else nl
        line = buf[pos:end].decode("latin-1").strip()
        pos = end + 1
        lineno += 1
        if not line:
            continue
        if line.startswith("#"):
            comments.append(line[1:].strip())
            continue
        words = line.split()
        key = words[0].upper()
        if key not in _KEYS:
            what = "not a PCD file" if lineno == 1 else "unknown PCD header keyword"
            raise fail(path, f"{what} {words[0][:40]!r} (header line {lineno})")
        values["FIELDS" if key == "COLUMNS" else key] = words[1:]
        if key == "DATA":
            break
    return _check_header(values, comments, min(pos, len(buf)), path)


def _ints(values: dict, key: str, path, default=None) -> list[int]:
    if key not in values:
        if default is None:
            raise fail(path, f"PCD header has no {key} line")
        return default
    try:
        out = [int(v) for v in values[key]]
    except ValueError:
        raise fail(path, f"PCD {key} values must be integers, got {' '.join(values[key])!r}") from None
    if any(v < 0 for v in out):
        raise fail(path, f"PCD {key} values must not be negative")
    return out


def _check_header(values: dict, comments: list[str], body_offset: int, path) -> Header:
    names = values.get("FIELDS") or []
    if not names:
        raise fail(path, "PCD header has no FIELDS")
    n = len(names)
    sizes = _ints(values, "SIZE", path)
    types = [t.upper() for t in values.get("TYPE", [])]
    counts = _ints(values, "COUNT", path, default=[1] * n)
    if not (len(sizes) == len(types) == len(counts) == n):
        raise fail(path, f"PCD FIELDS/SIZE/TYPE/COUNT lengths differ ({n}/{len(sizes)}/{len(types)}/{len(counts)})")
    fields = []
    for i, (name, size, kind, count) in enumerate(zip(names, sizes, types, counts, strict=True)):
        if (kind, size) not in _TYPES:
            raise fail(path, f"unsupported PCD field type {kind}{size} for field {name!r}")
        if count < 1:
            raise fail(path, f"PCD field {name!r} has COUNT {count}")
        dtype = np.dtype(f"<{ {'I': 'i', 'U': 'u', 'F': 'f'}[kind] }{size}")
        key = name if name != "_" else f"_pad{i}"
        fields.append(Field(name, key, dtype, count))
    if sum(counts) > MAX_VALUES_PER_POINT:
        raise fail(path, f"PCD COUNT values add up to {sum(counts)} values per point, more than the "
                         f"{MAX_VALUES_PER_POINT} read")
    keys = [f.key for f in fields]
    if len(set(keys)) != len(keys):
        raise fail(path, "PCD FIELDS names a field twice")
    (width,) = _ints(values, "WIDTH", path)[:1] or [0]
    height = (_ints(values, "HEIGHT", path, default=[1]) or [1])[0]
    points = (_ints(values, "POINTS", path, default=[width * height]) or [0])[0]
    if points != width * height:
        raise fail(path, f"PCD POINTS {points} differs from WIDTH*HEIGHT {width}*{height}")
    try:
        viewpoint = [float(v) for v in values.get("VIEWPOINT", [0, 0, 0, 1, 0, 0, 0])]
    except ValueError:
        raise fail(path, "PCD VIEWPOINT values must be numbers") from None
    data = (values.get("DATA") or [""])[0].lower()
    if data not in PCD_DATA_KINDS:
        raise fail(path, f"unsupported PCD DATA {data!r} (expected ascii, binary or binary_compressed)")
    version = " ".join(values.get("VERSION", []))
    return Header(fields, width, height, points, viewpoint, data, version, comments, body_offset)
