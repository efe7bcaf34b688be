"""Reading and writing point clouds, light fields and 360 degree images.

:func:`read` and :func:`write` pick the format from the path:

==========================  ============  ==========================================================
path                        data          module
==========================  ============  ==========================================================
``.ply``                    PointCloud    :mod:`~omnicodec.io.ply` (ascii, binary little/big endian)
``.pcd``                    PointCloud    :mod:`~omnicodec.io.pcd` (ascii, binary, binary_compressed)
``.bin`` / ``.pcd.bin``     PointCloud    :mod:`~omnicodec.io.kitti` (KITTI x,y,z,i / nuScenes +ring)
``.las`` / ``.laz``         PointCloud    :mod:`~omnicodec.io.las` (needs laspy; lazrs for .laz)
a folder                    LightField    :mod:`~omnicodec.io.lightfield` (PNG views, hci or rowcol)
``.h5`` / ``.hdf5``         LightField    :mod:`~omnicodec.io.lightfield`
``.png`` / ``.jpg/.jpeg``   ErpImage      :mod:`~omnicodec.io.image`
==========================  ============  ==========================================================

Every problem with a file raises :class:`~omnicodec.errors.InputError` whose message starts with the path.
"""

from __future__ import annotations

import inspect
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from ..errors import InputError
from ..types import ErpImage, LightField, PointCloud
from .image import read_image, write_image
from .kitti import read_kitti, write_kitti
from .las import read_las, write_las
from .lightfield import read_lightfield_folder, read_lightfield_h5, write_lightfield_folder, write_lightfield_h5
from .open3d_interop import from_open3d, to_open3d
from .pcd import read_pcd, write_pcd
from .ply import read_ply, write_ply

__all__ = [
    "read",
    "write",
    "detect_modality",
    "POINT_CLOUD_EXTENSIONS",
    "LIGHT_FIELD_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "Modality",
    "to_open3d",
    "from_open3d",
    "read_ply",
    "write_ply",
    "read_pcd",
    "write_pcd",
    "read_kitti",
    "write_kitti",
    "read_las",
    "write_las",
    "read_lightfield_folder",
    "write_lightfield_folder",
    "read_lightfield_h5",
    "write_lightfield_h5",
    "read_image",
    "write_image",
]

Modality = Literal["pointcloud", "lightfield", "image"]

#: File extensions read as point clouds (``.bin`` includes nuScenes ``.pcd.bin``).
POINT_CLOUD_EXTENSIONS = (".ply", ".pcd", ".bin", ".las", ".laz")
#: File extensions read as light fields (besides folders of views).
LIGHT_FIELD_EXTENSIONS = (".h5", ".hdf5")
#: File extensions read as (equirectangular) images.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

_READERS: dict[str, Callable] = {
    ".ply": read_ply,
    ".pcd": read_pcd,
    ".bin": read_kitti,
    ".las": read_las,
    ".laz": read_las,
    ".h5": read_lightfield_h5,
    ".hdf5": read_lightfield_h5,
    ".png": read_image,
    ".jpg": read_image,
    ".jpeg": read_image,
    ".tif": read_image,
    ".tiff": read_image,
    ".bmp": read_image,
}
_WRITERS: dict[str, Callable] = {
    ".ply": write_ply,
    ".pcd": write_pcd,
    ".bin": write_kitti,
    ".las": write_las,
    ".laz": write_las,
    ".h5": write_lightfield_h5,
    ".hdf5": write_lightfield_h5,
    ".png": write_image,
    ".jpg": write_image,
    ".jpeg": write_image,
    ".tif": write_image,
    ".tiff": write_image,
    ".bmp": write_image,
}
_SUPPORTED = (
    f"point clouds {' '.join(POINT_CLOUD_EXTENSIONS)}; light fields: a folder of views or "
    f"{' '.join(LIGHT_FIELD_EXTENSIONS)}; images {' '.join(IMAGE_EXTENSIONS)}"
)
# Low-level errors a reader may still meet on a malformed file; they are reported as InputError naming the file.
_LOW_LEVEL = (ValueError, OSError, EOFError, struct.error, IndexError, KeyError, OverflowError)


def detect_modality(path: str | os.PathLike) -> Modality:
    """What a path holds (or will hold, for a path to write): "pointcloud", "lightfield" or "image".

    A folder, or a path without an extension that does not exist yet, is a light field folder.

    Raises:
        InputError: an unsupported extension.
    """
    p = Path(path)
    if p.is_dir():
        return "lightfield"
    ext = p.suffix.lower()
    if ext in POINT_CLOUD_EXTENSIONS:
        return "pointcloud"
    if ext in LIGHT_FIELD_EXTENSIONS:
        return "lightfield"
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if not ext and not p.exists():
        return "lightfield"
    raise InputError(f"{os.fspath(path)}: unsupported file type {ext or '(no extension)'!r} ({_SUPPORTED})")


def _call(func: Callable, path: str | os.PathLike, args: tuple, options: dict):
    try:
        inspect.signature(func).bind(path, *args, **options)
    except TypeError:
        known = [n for n, p in inspect.signature(func).parameters.items() if p.kind is p.KEYWORD_ONLY]
        unknown = sorted(set(options) - set(known))
        raise InputError(
            f"{os.fspath(path)}: unknown option(s) {', '.join(unknown)} (known here: {', '.join(known) or 'none'})"
        ) from None
    try:
        return func(path, *args, **options)
    except InputError:
        raise
    except _LOW_LEVEL as exc:
        raise InputError(f"{os.fspath(path)}: {type(exc).__name__}: {exc}") from exc


def read(path: str | os.PathLike, **options) -> PointCloud | LightField | ErpImage:
    """Read a point cloud, light field or image, choosing the format from the path.

    Args:
        path: a file (see the table in the module docstring) or a folder of light-field views.
        **options: passed to the format's reader, e.g. ``drop_invalid=False`` (.pcd), ``columns=5`` (.bin),
            ``workers=2`` (folders), ``dataset="views"`` (.h5).

    Returns:
        A PointCloud, LightField or ErpImage.

    Raises:
        InputError: a missing path, an unsupported extension, an unknown option or a malformed file; the message
            starts with the path.
    """
    p = Path(path)
    if p.is_dir():
        return _call(read_lightfield_folder, path, (), options)
    if not p.exists():
        raise InputError(f"{os.fspath(path)}: no such file or folder")
    detect_modality(p)  # raises for unsupported extensions
    return _call(_READERS[p.suffix.lower()], path, (), options)


def write(path: str | os.PathLike, data: PointCloud | LightField | ErpImage, **options) -> None:
    """Write data atomically, choosing the format from the path.

    A LightField goes to ``.h5``/``.hdf5`` or, for any other path without an extension (or an existing folder), to a
    folder of PNG views.

    Args:
        path: destination.
        data: the PointCloud, LightField or ErpImage.
        **options: passed to the format's writer, e.g. ``ascii=True`` / ``big_endian=True`` (.ply),
            ``encoding="binary_compressed"`` (.pcd), ``naming="rowcol"`` (folders), ``quality=90`` (.jpg).

    Raises:
        InputError: the data does not fit the format chosen by the path, an unknown option, or data the format
            cannot hold.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if isinstance(data, LightField) and (p.is_dir() or (not ext and not p.is_file())):
        return _call(write_lightfield_folder, path, (data,), options)
    modality = detect_modality(p)
    expected = {"pointcloud": PointCloud, "lightfield": LightField, "image": ErpImage}[modality]
    if not isinstance(data, expected):
        raise InputError(
            f"{os.fspath(path)}: cannot write a {type(data).__name__} as {ext or 'a folder'} (that holds a {modality})"
        )
    return _call(_WRITERS[ext], path, (data,), options)
