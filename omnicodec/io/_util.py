"""Helpers shared by the readers and writers: error messages, file loading, attribute layout, ASCII formatting.

Every reader reports a problem as :class:`~omnicodec.errors.InputError` whose message starts with the file path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..types import PointCloud

__all__ = [
    "fail",
    "read_bytes",
    "split_attributes",
    "format_rows",
    "column_format",
    "parse_grid_comment",
    "grid_comment",
    "NAME_RE",
]

#: Property / field names the text headers can carry (no whitespace, printable ASCII).
NAME_RE = re.compile(r"^[!-~]+$")

# Rows formatted per chunk by format_rows: bounds the temporary Python objects (about 40 bytes per value).
_ROWS_PER_CHUNK = 65536


def fail(path: str | os.PathLike, message: str) -> InputError:
    """The error for a problem in a file: ``"<path>: <message>"`` (return it and ``raise`` at the call site)."""
    return InputError(f"{os.fspath(path)}: {message}")


def read_bytes(path: str | os.PathLike) -> bytes:
    """The whole content of ``path``; a missing or unreadable file raises InputError naming it."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise fail(path, "no such file") from None
    except IsADirectoryError:
        raise fail(path, "is a folder, not a file") from None
    except OSError as exc:
        raise fail(path, f"cannot read ({exc.strerror or exc})") from None


def split_attributes(cloud: PointCloud) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None, dict]:
    """Split a cloud's attributes into the standard ones and the rest.

    Returns:
        ``(rgb, alpha, normals, others)``: rgb (N, 3) or None, alpha (N,) or None, normals (N, 3) or None, and a
        dict of the remaining attributes in their original order.
    """
    attrs = dict(cloud.attributes)
    rgb = attrs.pop("rgb", None)
    alpha = attrs.pop("alpha", None) if rgb is not None else None
    normals = attrs.pop("normals", None)
    n = len(cloud)
    if rgb is not None and rgb.shape != (n, 3):
        raise InputError(f"attribute 'rgb' must have shape ({n}, 3), got {rgb.shape}")
    if normals is not None and normals.shape != (n, 3):
        raise InputError(f"attribute 'normals' must have shape ({n}, 3), got {normals.shape}")
    if alpha is not None and alpha.shape != (n,):
        raise InputError(f"attribute 'alpha' must have shape ({n},), got {alpha.shape}")
    for name in attrs:
        if not NAME_RE.match(name):
            raise InputError(f"attribute name {name!r} cannot be stored in a file header (use letters, digits, _)")
    return rgb, alpha, normals, attrs


def column_format(dtype: np.dtype) -> str:
    """The printf format that writes one value of ``dtype`` as text that reads back bit-exactly."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return "%d"
    if dtype.kind == "f":
        # 9 significant digits identify every float32, 17 every float64 (and parse back through float64 exactly).
        return "%.9g" if dtype.itemsize <= 4 else "%.17g"
    raise InputError(f"cannot write values of dtype {dtype} as text")


def format_rows(columns: Sequence[np.ndarray], sep: str = " ") -> bytes:
    """Format columns as text rows, one row per line.

    The rows are formatted a chunk at a time by one ``%`` operation on a repeated row template (no Python loop per
    point).

    Args:
        columns: arrays of shape (N,), any integer or float dtypes (each formatted by :func:`column_format`).
        sep: separator between values.

    Returns:
        ASCII bytes, ``N`` lines each ending in ``\\n``.
    """
    if not columns:
        return b""
    n = len(columns[0])
    row_fmt = sep.join(column_format(c.dtype) for c in columns) + "\n"
    out = []
    for start in range(0, n, _ROWS_PER_CHUNK):
        stop = min(n, start + _ROWS_PER_CHUNK)
        block = np.empty((stop - start, len(columns)), dtype=object)
        for j, col in enumerate(columns):
            block[:, j] = col[start:stop].tolist()
        out.append(((row_fmt * (stop - start)) % tuple(block.ravel().tolist())).encode("ascii"))
    return b"".join(out)


def grid_comment(cloud: PointCloud) -> str | None:
    """A header comment recording the cloud's grid (``omnicodec grid <step> <ox> <oy> <oz> <bit_depth>``)."""
    g = cloud.grid
    if g is None:
        return None
    ox, oy, oz = (int(v) for v in g.offset)
    return f"omnicodec grid {float(g.step)!r} {ox} {oy} {oz} {int(g.bit_depth)}"


def parse_grid_comment(text: str):
    """The :class:`~omnicodec.types.Grid` in a comment written by :func:`grid_comment`, or None."""
    from ..types import Grid

    parts = text.split()
    if len(parts) != 7 or parts[:2] != ["omnicodec", "grid"]:
        return None
    try:
        return Grid(float(parts[2]), (int(parts[3]), int(parts[4]), int(parts[5])), int(parts[6]))
    except ValueError:
        return None


def load_ascii_rows(
    path: str | os.PathLike, lines: Sequence[str], dtype: np.dtype, count: int, what: str, counted: str
) -> np.ndarray:
    """Parse ``count`` whitespace-separated text rows into a structured array of ``dtype`` (vectorised).

    Raises:
        InputError: a value does not parse (``bad {what} data``) or the row count differs from ``count``
            (``{counted} count N but the file holds M rows``).
    """
    if count == 0:
        return np.zeros(0, dtype)
    try:
        rows = np.loadtxt(lines, dtype=dtype, comments=None, ndmin=1)
    except ValueError as exc:
        raise fail(path, f"bad {what} data: {exc}") from None
    if len(rows) != count:
        raise fail(path, f"{counted} count {count} but the file holds {len(rows)} rows")
    return rows
