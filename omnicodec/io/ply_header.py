"""PLY header parsing and the layout of element rows in binary bodies.

The header becomes a :class:`Header` of :class:`Element` s and their :class:`Property` s; :func:`skip_list_element`
finds where an element with list properties (faces) ends without reading it into Python objects.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from ._util import fail

__all__ = ["PLY_TYPES", "ENCODINGS", "Property", "Element", "Header", "parse_header", "skip_list_element"]

#: PLY scalar type names (both spellings) -> numpy dtype.
PLY_TYPES: dict[str, np.dtype] = {
    name: np.dtype(code)
    for names, code in [
        (("char", "int8"), "i1"),
        (("uchar", "uint8"), "u1"),
        (("short", "int16"), "i2"),
        (("ushort", "uint16"), "u2"),
        (("int", "int32"), "i4"),
        (("uint", "uint32"), "u4"),
        (("float", "float32"), "f4"),
        (("double", "float64"), "f8"),
    ]
    for name in names
}
#: PLY format name -> numpy byte order of the body ("=" for ascii).
ENCODINGS = {"ascii": "=", "binary_little_endian": "<", "binary_big_endian": ">"}


@dataclass
class Property:
    """One property: a scalar, or a list (``count_dtype`` set) of ``dtype`` items."""

    name: str
    dtype: np.dtype
    count_dtype: np.dtype | None = None  # set for list properties


@dataclass
class Element:
    """One element (``vertex``, ``face``, ...) with ``count`` rows."""

    name: str
    count: int
    properties: list[Property] = field(default_factory=list)

    @property
    def has_lists(self) -> bool:
        return any(p.count_dtype is not None for p in self.properties)

    def row_dtype(self, endian: str) -> np.dtype:
        return np.dtype([(p.name, p.dtype.newbyteorder(endian)) for p in self.properties])


@dataclass
class Header:
    """A parsed header; ``body_offset`` is the byte just after ``end_header``."""

    encoding: str
    elements: list[Element]
    comments: list[str]
    obj_info: list[str]
    body_offset: int


def parse_header(buf: bytes, path) -> Header:
    """Parse the header at the start of ``buf``; InputError (naming ``path``) when it is malformed."""
    if not (buf.startswith(b"ply\n") or buf.startswith(b"ply\r\n")):
        raise fail(path, "not a PLY file (it does not start with the line 'ply')")
    pos = buf.find(b"\nend_header")
    while pos >= 0:
        end = pos + len(b"\nend_header")
        rest = buf[end : end + 2]
        if rest[:1] == b"\n" or rest == b"\r\n" or end == len(buf):
            break
        pos = buf.find(b"\nend_header", end)
    if pos < 0:
        raise fail(path, "PLY header has no 'end_header' line")
    body_offset = end + (2 if rest == b"\r\n" else 1 if rest[:1] == b"\n" else 0)
    text = buf[:pos].decode("utf-8", errors="replace")
    encoding = None
    elements: list[Element] = []
    comments: list[str] = []
    obj_info: list[str] = []
    for lineno, raw in enumerate(text.split("\n")[1:], start=2):
        line = raw.strip()
        words = line.split()
        if not words:
            continue
        key = words[0]
        if key == "comment":
            comments.append(line[len("comment") :].strip())
        elif key == "obj_info":
            obj_info.append(line[len("obj_info") :].strip())
        elif key == "format":
            if len(words) < 2 or words[1] not in ENCODINGS:
                raise fail(path, f"unsupported PLY format line {line!r} (header line {lineno})")
            encoding = words[1]
        elif key == "element":
            if len(words) != 3 or not words[2].isdigit():
                raise fail(path, f"bad element line {line!r} (header line {lineno})")
            elements.append(Element(words[1], int(words[2])))
        elif key == "property":
            if not elements:
                raise fail(path, f"property before any element (header line {lineno})")
            elements[-1].properties.append(_parse_property(words, line, lineno, path))
        else:
            raise fail(path, f"unknown PLY header keyword {key!r} (header line {lineno})")
    if encoding is None:
        raise fail(path, "PLY header has no 'format' line")
    for el in elements:
        names = [p.name for p in el.properties]
        if len(set(names)) != len(names):
            raise fail(path, f"element {el.name!r} declares a property twice")
    return Header(encoding, elements, comments, obj_info, body_offset)


def _parse_property(words: list[str], line: str, lineno: int, path) -> Property:
    if len(words) == 5 and words[1] == "list":
        kinds = words[2:4]
    elif len(words) == 3:
        kinds = words[1:2]
    else:
        raise fail(path, f"bad property line {line!r} (header line {lineno})")
    for kind in kinds:
        if kind not in PLY_TYPES:
            raise fail(path, f"unknown PLY property type {kind!r} (header line {lineno})")
    if len(kinds) == 2:
        if PLY_TYPES[kinds[0]].kind not in "iu":
            raise fail(path, f"list count type must be an integer, got {kinds[0]!r} (header line {lineno})")
        return Property(words[4], PLY_TYPES[kinds[1]], PLY_TYPES[kinds[0]])
    return Property(words[2], PLY_TYPES[kinds[0]])


def skip_list_element(buf: bytes, offset: int, el: Element, endian: str, path) -> int:
    """The offset just past element ``el`` (which has list properties) starting at ``offset``."""
    if el.count == 0:
        return offset
    least = el.count * sum(p.dtype.itemsize if p.count_dtype is None else p.count_dtype.itemsize for p in el.properties)
    if least > len(buf) - offset:
        raise fail(path, f"{el.name} count {el.count} needs at least {least} bytes but {len(buf) - offset} remain")
    # Fast path: every row has the list lengths of the first row (triangle meshes); checked with strided views.
    layout, rowsize, pos = [], 0, offset
    for p in el.properties:
        if p.count_dtype is None:
            rowsize += p.dtype.itemsize
            continue
        cdt = p.count_dtype.newbyteorder(endian)
        start = pos + rowsize
        if start + cdt.itemsize > len(buf):
            break
        n = int(np.frombuffer(buf, cdt, 1, start)[0])
        layout.append((rowsize, cdt, n))
        rowsize += cdt.itemsize + max(n, 0) * p.dtype.itemsize
    else:
        total = el.count * rowsize
        if all(n >= 0 for _, _, n in layout) and total <= len(buf) - offset:
            ok = True
            for at, cdt, n in layout:
                counts = np.ndarray((el.count,), cdt, buffer=buf, offset=offset + at, strides=(rowsize,))
                if not (counts == n).all():
                    ok = False
                    break
            if ok:
                return offset + total
    return _walk_list_element(buf, offset, el, endian, path)


def _walk_list_element(buf: bytes, offset: int, el: Element, endian: str, path) -> int:
    """Walk an element whose rows differ in length (a loop per row: only for mixed-length lists)."""
    order = ">" if endian == ">" else "<"
    steps = []  # (fixed bytes before, count struct or None, item size)
    for p in el.properties:
        if p.count_dtype is None:
            steps.append((p.dtype.itemsize, None, 0))
        else:
            steps.append((0, struct.Struct(order + p.count_dtype.char), p.dtype.itemsize))
    end = len(buf)
    pos = offset
    for row in range(el.count):
        for fixed, cstruct, isize in steps:
            if cstruct is None:
                pos += fixed
                continue
            if pos + cstruct.size > end:
                pos = end + 1
                break
            (n,) = cstruct.unpack_from(buf, pos)
            if n < 0:
                raise fail(path, f"{el.name} row {row} has a negative list length {n}")
            pos += cstruct.size + n * isize
        if pos > end:
            raise fail(path, f"{el.name} count {el.count} but the data ends in row {row}")
    return pos
