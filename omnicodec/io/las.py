"""LAS and LAZ point clouds through the optional package laspy (and lazrs for LAZ).

Reading gives positions as scaled float64 (``X * scale + offset``), the colour as ``rgb`` (N, 3) uint16 (LAS stores
16-bit colour) and every other point dimension (``intensity``, ``return_number``, ``classification``, ``gps_time``,
extra bytes, ...) as an attribute of its own name, in laspy's dtype. ``metadata["las"]`` keeps the version, point
format, scales and offsets, which the writer reuses, so that writing a cloud read from LAS gives back the same file
content. When the three scales are equal, ``grid`` is the LAS integer grid.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
from pathlib import Path

import numpy as np

from ..types import Grid, PointCloud
from ._util import fail, split_attributes
from .atomic import atomic_path

__all__ = ["read_las", "write_las"]

_INSTALL = 'pip install "omnicodec[las]"'
_VLR_HEADER, _EVLR_HEADER = 54, 60  # bytes before each (extended) variable length record's payload
_MAX_LAZ_RATIO = 1000  # point data never compresses further than this
# Dimensions that exist only in point formats 6-10 (LAS 1.4).
_NEW_DIMS = {"scan_angle", "overlap", "scanner_channel"}


def _laspy(path, action: str):
    """Import laspy (and check for a LAZ backend for .laz), or raise the missing-package InputError."""
    ext = Path(path).suffix.lower() or ".las"
    try:
        import laspy
    except ImportError:
        raise fail(path, f"{action} {ext} needs the optional package laspy: {_INSTALL}") from None
    if ext == ".laz" and not laspy.LazBackend.detect_available():
        raise fail(path, f"{action} .laz needs the optional package lazrs: {_INSTALL}")
    return laspy


def read_las(path: str | os.PathLike) -> PointCloud:
    """Read a ``.las`` or ``.laz`` file.

    Args:
        path: the file.

    Returns:
        A PointCloud: positions (N, 3) float64 in the file's units; ``rgb`` (N, 3) uint16 when the point format has
        colour; every other dimension (N,) (or (N, k) for array extra bytes) under its laspy name.
        ``metadata``: ``format`` ("las" or "laz"), ``las`` (``version``, ``point_format``, ``scales``, ``offsets``).

    Raises:
        InputError: laspy (or lazrs for LAZ) is missing, or the file is missing or malformed.
    """
    laspy = _laspy(path, "reading")
    if not Path(path).is_file():
        raise fail(path, "no such file")
    _check_header(path)
    try:
        with _quiet(logging.getLogger("laspy")):
            # the sequential LAZ decoder: the parallel one trusts the chunk table and aborts the process
            # (out of memory) on a corrupt one, where the sequential one fails cleanly
            las = laspy.read(os.fspath(path), laz_backend=laspy.LazBackend.Lazrs)
        positions = np.stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)], axis=1).astype(np.float64)
        names = list(las.point_format.dimension_names)
        attributes: dict[str, np.ndarray] = {}
        if {"red", "green", "blue"} <= set(names):
            attributes["rgb"] = np.stack([np.asarray(las[c]) for c in ("red", "green", "blue")], axis=1)
        for name in names:
            if name in ("X", "Y", "Z", "red", "green", "blue"):
                continue
            attributes[name] = np.array(las[name])
        header = las.header
        scales = [float(s) for s in header.scales]
        offsets = [float(o) for o in header.offsets]
        ints = np.stack([np.asarray(las.X), np.asarray(las.Y), np.asarray(las.Z)], axis=1)
    except Exception as exc:  # noqa: BLE001 - laspy and lazrs raise many types (LazrsError, ...) on corrupt data
        raise fail(path, f"cannot read LAS data: {exc}") from None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":  # lazrs (Rust) panics on some corrupt LAZ chunk tables
            raise
        raise fail(path, f"cannot read LAS data: the LAZ decoder failed ({exc})") from None
    if len(positions) != header.point_count:
        raise fail(path, f"header declares {header.point_count} points but {len(positions)} were read")
    metadata = {
        "format": Path(path).suffix.lower().lstrip(".") or "las",
        "las": {
            "version": str(header.version),
            "point_format": int(header.point_format.id),
            "scales": scales,
            "offsets": offsets,
        },
    }
    return PointCloud(positions, attributes, grid=_grid(ints, scales, offsets), metadata=metadata)


@contextlib.contextmanager
def _quiet(logger: logging.Logger):
    """Silence ``logger`` inside the block (laspy logs each failed LAZ backend before raising; we raise once)."""
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _check_header(path) -> None:
    """Check the counts in the LAS public header block against the file size before laspy allocates anything.

    (laspy trusts them: a corrupt VLR count makes it loop for billions of empty records.)
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(375)
    if len(head) < 227 or head[:4] != b"LASF":
        raise fail(path, "not a LAS file (no LASF signature and 227-byte header)")
    minor = head[25]
    header_size, data_offset, n_vlrs = struct.unpack_from("<HII", head, 94)
    fmt, record_len, n_points = struct.unpack_from("<BHI", head, 104)
    if minor >= 4 and len(head) >= 375:
        first_evlr, n_evlrs, n_points64 = struct.unpack_from("<QIQ", head, 235)
        n_points = n_points or n_points64
        if n_evlrs and (first_evlr > size or n_evlrs * _EVLR_HEADER > size - first_evlr):
            raise fail(path, f"{n_evlrs} extended VLRs at byte {first_evlr} do not fit in {size} bytes")
    if not header_size <= data_offset <= size:
        raise fail(path, f"point data offset {data_offset} outside the file (header {header_size}, size {size} bytes)")
    if n_vlrs * _VLR_HEADER > data_offset - header_size:
        raise fail(
            path,
            f"{n_vlrs} VLRs need at least {n_vlrs * _VLR_HEADER} bytes but the header region has "
            f"{data_offset - header_size}",
        )
    need, remain = n_points * record_len, size - data_offset
    compressed = bool(fmt & 0x80) or Path(path).suffix.lower() == ".laz"
    if (not compressed and need > remain) or need > remain * _MAX_LAZ_RATIO + 2**20:
        raise fail(path, f"point count {n_points} needs {need} bytes but {remain} remain")
    if compressed and n_points:
        _check_chunk_table(path, size, data_offset)


def _check_chunk_table(path, size: int, data_offset: int) -> None:
    """Check the LAZ chunk table's place and chunk count (the decoder allocates the table before reading it)."""
    with open(path, "rb") as fh:
        fh.seek(data_offset)
        raw = fh.read(8)
        if len(raw) < 8:
            raise fail(path, "LAZ point data is too short to hold the chunk table offset")
        (table,) = struct.unpack("<q", raw)
        if table == -1:  # written at the end of the file instead
            fh.seek(max(size - 8, 0))
            (table,) = struct.unpack("<q", fh.read(8).rjust(8, b"\0"))
        if not data_offset + 8 <= table <= size - 8:
            raise fail(path, f"LAZ chunk table offset {table} is outside the point data (bytes {data_offset}..{size})")
        fh.seek(table)
        _, chunks = struct.unpack("<II", fh.read(8))
    if chunks > table - data_offset - 8:  # every chunk holds at least one byte
        raise fail(path, f"LAZ chunk table declares {chunks} chunks in {table - data_offset - 8} bytes of points")


def _grid(ints: np.ndarray, scales: list[float], offsets: list[float]) -> Grid | None:
    """The grid of the LAS integers when the scales are equal and the offsets are whole multiples of the scale."""
    step = scales[0]
    if step <= 0 or any(s != step for s in scales):
        return None
    origin = [o / step for o in offsets]
    if any(abs(v - round(v)) > 1e-6 for v in origin):
        return None
    if len(ints) == 0:
        return Grid(step, tuple(int(round(v)) for v in origin), 0)
    low = ints.min(axis=0).astype(np.int64)
    span = int((ints.max(axis=0).astype(np.int64) - low).max())
    offset = tuple(int(round(v)) + int(m) for v, m in zip(origin, low, strict=True))
    return Grid(step, offset, span.bit_length())


def write_las(
    path: str | os.PathLike,
    cloud: PointCloud,
    *,
    scale: float | tuple[float, float, float] | None = None,
    offset: float | tuple[float, float, float] | None = None,
    point_format: int | None = None,
) -> None:
    """Write a cloud as ``.las`` or ``.laz`` (by the extension), atomically.

    LAS stores positions as int32 ``X = round((x - offset) / scale)``. The scale and offset come from the arguments,
    else from ``metadata["las"]``, else from the cloud's grid, else 1 and 0 for integer positions, else 0.001 (1 mm
    for metres) and the floor of the minimum. Standard dimensions take LAS's dtype and must hold the values
    exactly; colour is written as uint16 without rescaling; other attributes become extra bytes dimensions.

    Args:
        path: destination ``.las`` or ``.laz``.
        cloud: positions (N, 3) and attributes (N,) or (N, k) with k <= 3.
        scale: one scale for all axes, or three.
        offset: one offset for all axes, or three.
        point_format: LAS point format id; default the cloud's own, else the smallest that holds its attributes.

    Raises:
        InputError: laspy is missing, positions overflow int32 at this scale, or an attribute does not fit.
    """
    laspy = _laspy(path, "writing")
    meta = cloud.metadata.get("las") or {}
    rgb, alpha, normals, others = split_attributes(cloud)
    dims = dict(others)
    if alpha is not None:
        dims["alpha"] = alpha
    if normals is not None:
        dims["normals"] = normals
    pf = point_format if point_format is not None else meta.get("point_format")
    if pf is None or not _format_holds(laspy, pf, rgb is not None, dims):
        pf = _smallest_format(rgb is not None, dims)
    version = "1.4" if pf >= 6 else "1.2"
    if not np.isfinite(cloud.positions).all():
        raise fail(path, "LAS cannot store NaN or infinite positions")
    scales, offsets = _scale_offset(cloud, scale, offset, meta)
    ints = np.round((cloud.positions.astype(np.float64) - offsets) / scales)
    if len(ints) and (ints.min() < -(2**31) or ints.max() > 2**31 - 1):
        raise fail(path, f"positions do not fit LAS int32 integers at scale {scales.tolist()}; pass a larger scale")
    header = laspy.LasHeader(point_format=pf, version=version)
    header.scales = scales
    header.offsets = offsets
    fmt = laspy.PointFormat(pf)
    standard = set(fmt.dimension_names)
    try:
        for name, arr in dims.items():
            if name not in standard:
                if arr.ndim == 2 and not 1 <= arr.shape[1] <= 3:
                    raise fail(path, f"attribute {name!r} has {arr.shape[1]} values per point; LAS holds 1 to 3")
                kind = arr.dtype.str.lstrip("<>=|") if arr.ndim == 1 else f"{arr.shape[1]}{arr.dtype.str[1:]}"
                header.add_extra_dim(laspy.ExtraBytesParams(name=name, type=kind))
        las = laspy.LasData(header)
        las.X, las.Y, las.Z = (ints[:, j].astype(np.int32) for j in range(3))
        if rgb is not None:
            for j, c in enumerate(("red", "green", "blue")):
                las[c] = _exact(rgb[:, j], np.dtype("u2"), "rgb", path)
        for name, arr in dims.items():
            if name in standard:
                las[name] = _exact(arr, np.dtype(fmt.dimension_by_name(name).dtype or "u1"), name, path)
            else:
                las[name] = arr
        with atomic_path(path) as tmp:
            las.write(os.fspath(tmp), do_compress=Path(path).suffix.lower() == ".laz")
    except (laspy.errors.LaspyException, OverflowError, TypeError) as exc:
        raise fail(path, f"cannot write LAS data: {exc}") from None


def _exact(arr: np.ndarray, dtype: np.dtype, name: str, path) -> np.ndarray:
    if arr.ndim != 1:
        raise fail(path, f"attribute {name!r} must have shape (N,) for LAS, got {arr.shape}")
    out = arr.astype(dtype)
    if not np.array_equal(out, arr):
        raise fail(path, f"attribute {name!r} ({arr.dtype}) does not fit the LAS field exactly ({dtype}); convert it")
    return out


def _format_holds(laspy, pf: int, has_rgb: bool, dims: dict) -> bool:
    try:
        names = set(laspy.PointFormat(pf).dimension_names)
    except Exception:  # noqa: BLE001 - an unknown id simply does not hold the data
        return False
    if has_rgb and "red" not in names:
        return False
    return all(n in names or n not in _all_standard_names(laspy) for n in dims)


def _all_standard_names(laspy) -> set[str]:
    return set(laspy.PointFormat(8).dimension_names) | set(laspy.PointFormat(3).dimension_names)


def _smallest_format(has_rgb: bool, dims: dict) -> int:
    if "nir" in dims:
        return 8
    if _NEW_DIMS & set(dims):
        return 7 if has_rgb else 6
    if has_rgb:
        return 3 if "gps_time" in dims else 2
    return 1 if "gps_time" in dims else 0


def _scale_offset(cloud: PointCloud, scale, offset, meta: dict) -> tuple[np.ndarray, np.ndarray]:
    if scale is None:
        if "scales" in meta:
            scale = meta["scales"]
        elif cloud.grid is not None:
            scale = cloud.grid.step
        elif np.issubdtype(cloud.positions.dtype, np.integer):
            scale = 1.0
        else:
            scale = 0.001
    if offset is None:
        if "offsets" in meta:
            offset = meta["offsets"]
        elif cloud.grid is not None and scale == cloud.grid.step:
            offset = [o * cloud.grid.step for o in cloud.grid.offset]
        elif len(cloud) and not np.issubdtype(cloud.positions.dtype, np.integer):
            offset = np.floor(cloud.positions.min(axis=0).astype(np.float64))
        else:
            offset = 0.0
    scales = np.broadcast_to(np.asarray(scale, dtype=np.float64), (3,)).copy()
    offsets = np.broadcast_to(np.asarray(offset, dtype=np.float64), (3,)).copy()
    return scales, offsets
