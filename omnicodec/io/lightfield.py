"""Light fields: folders of sub-aperture PNG views, and HDF5 files.

Folder naming schemes:

* ``hci``: ``<prefix>CamNNN.png`` (HCI benchmark, prefix ``input_``), ``NNN = row * V + col`` from 0, on a square
  U x U grid (81 views -> 9 x 9).
* ``rowcol``: ``<prefix>_RR_CC.png`` with row and column numbered from 1 (Lytro datasets, e.g. ``2067_01_01.png``)
  or from 0, as found (``metadata["first_index"]``), and written back the same way.

Other files in the folder (licences, disparity maps) are ignored. HDF5 files hold a dataset ``views``
(U, V, H, W, C) and the metadata as attributes.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..types import LightField
from ._util import fail
from .atomic import atomic_path

__all__ = ["read_lightfield_folder", "write_lightfield_folder", "read_lightfield_h5", "write_lightfield_h5", "NAMINGS"]

#: Folder naming schemes.
NAMINGS = ("hci", "rowcol")
_HCI = re.compile(r"^(?P<prefix>.*)Cam(?P<index>\d+)\.png$", re.IGNORECASE)
_ROWCOL = re.compile(r"^(?P<prefix>.*?)_(?P<row>\d+)_(?P<col>\d+)\.png$", re.IGNORECASE)
_MODES = {"L": 1, "RGB": 3, "RGBA": 4, "I;16": 1}
_DEFAULT_PREFIX = {"hci": "input_", "rowcol": "view"}
_MAX_H5_RATIO = 2048  # refuse datasets that claim to expand further than gzip can (about 1000:1)


def _workers(workers: int | None) -> int:
    return max(1, workers if workers is not None else min(4, os.cpu_count() or 1))


def _grid_of(folder: Path) -> tuple[str, str, dict[tuple[int, int], Path], int, int, int]:
    """(naming, prefix, (row, col) -> file, U, V, first index) for the views in ``folder``."""
    hci: dict[str, dict[int, Path]] = {}
    rowcol: dict[str, dict[tuple[int, int], Path]] = {}
    for entry in folder.iterdir():
        if not entry.is_file():
            continue
        if m := _HCI.match(entry.name):
            slot = hci.setdefault(m["prefix"], {})
            index = int(m["index"])
            if index in slot:
                raise fail(folder, f"two files for view {index}: {slot[index].name} and {entry.name}")
            slot[index] = entry
        elif m := _ROWCOL.match(entry.name):
            slot = rowcol.setdefault(m["prefix"], {})
            key = (int(m["row"]), int(m["col"]))
            if key in slot:
                raise fail(folder, f"two files for view {key}: {slot[key].name} and {entry.name}")
            slot[key] = entry
    groups = [("hci", p, v) for p, v in hci.items()] + [("rowcol", p, v) for p, v in rowcol.items()]
    if not groups:
        raise fail(folder, "no sub-aperture views (<prefix>CamNNN.png or <prefix>_RR_CC.png) in this folder")
    if len(groups) > 1:
        names = ", ".join(f"{n} prefix {p!r}" for n, p, _ in groups)
        raise fail(folder, f"views of more than one light field in this folder ({names})")
    naming, prefix, found = groups[0]
    if naming == "hci":
        n = max(found) + 1
        u = math.isqrt(n)
        if u * u != n:
            raise fail(folder, f"highest view index {n - 1} does not close a square grid of views")
        missing = sorted(set(range(n)) - set(found))
        if missing:
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            raise fail(folder, f"missing views: {', '.join(f'{prefix}Cam{i:03d}.png' for i in missing[:10])}{more} "
                               f"(the codec needs the full {u}x{u} grid)")
        return naming, prefix, {divmod(i, u): p for i, p in found.items()}, u, u, 0
    base = min(min(r for r, _ in found), min(c for _, c in found))
    if base not in (0, 1):
        raise fail(folder, "row/column view numbers start at 0 or 1")
    u, v = max(r for r, _ in found) + 1 - base, max(c for _, c in found) + 1 - base
    missing = sorted({(r, c) for r in range(base, u + base) for c in range(base, v + base)} - set(found))
    if missing:
        names = ", ".join(f"{prefix}_{r:02d}_{c:02d}.png" for r, c in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise fail(folder, f"missing views: {names}{more} (the codec needs the full {u}x{v} grid)")
    return naming, prefix, {(r - base, c - base): p for (r, c), p in found.items()}, u, v, base


def _load_png(path: Path) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.mode not in _MODES:
                im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
            arr = np.asarray(im)
    except Exception as exc:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, ValueError, ... on bad files
        raise fail(path, f"cannot read the image ({exc})") from None
    if arr.dtype != np.uint8 and arr.dtype != np.uint16:
        arr = arr.astype(np.uint16)
    return arr if arr.ndim == 3 else arr[:, :, None]


def read_lightfield_folder(path: str | os.PathLike, *, workers: int | None = None) -> LightField:
    """Read a folder of sub-aperture views.

    Args:
        path: the folder.
        workers: threads decoding PNGs (default up to 4).

    Returns:
        A LightField with views (U, V, H, W, C), uint8 for 8-bit PNGs (C = 3 for RGB, 4 RGBA, 1 grey), uint16 for
        16-bit grey. ``metadata``: ``format`` ("folder"), ``naming`` ("hci" or "rowcol"), ``prefix``.

    Raises:
        InputError: no views, missing views, or views that differ in size or mode.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise fail(path, "no such folder")
    naming, prefix, files, u, v, base = _grid_of(folder)
    order = sorted(files)
    views: np.ndarray | None = None
    first: Path | None = None

    def load(i: int) -> tuple[int, np.ndarray]:
        return i, _load_png(files[order[i]])

    with ThreadPoolExecutor(_workers(workers)) as pool:
        for i, arr in pool.map(load, range(len(order))):
            if views is None:
                views = np.empty((u, v) + arr.shape, dtype=arr.dtype)
                first = files[order[i]]
            elif arr.shape != views.shape[2:] or arr.dtype != views.dtype:
                raise fail(
                    files[order[i]],
                    f"view is {arr.shape[1]}x{arr.shape[0]}x{arr.shape[2]} {arr.dtype} but {first.name} is "
                    f"{views.shape[3]}x{views.shape[2]}x{views.shape[4]} {views.dtype}",
                )
            views[order[i]] = arr
    return LightField(views, metadata={"format": "folder", "naming": naming, "prefix": prefix, "first_index": base})


def _view_name(naming: str, prefix: str, row: int, col: int, v: int, base: int = 1) -> str:
    if naming == "hci":
        return f"{prefix}Cam{row * v + col:03d}.png"
    return f"{prefix}_{row + base:02d}_{col + base:02d}.png"


def write_lightfield_folder(
    path: str | os.PathLike,
    lf: LightField,
    *,
    naming: str | None = None,
    prefix: str | None = None,
    overwrite: bool = False,
    compress_level: int = 6,
    workers: int | None = None,
) -> None:
    """Write the views as PNG files into a folder, atomically (written beside it, then renamed).

    Args:
        path: the folder; it must not exist or be empty, unless ``overwrite`` (which replaces it whole).
        lf: views (U, V, H, W, C), uint8 with C in 1, 3, 4, or uint16 with C = 1.
        naming: ``"hci"`` (needs U == V) or ``"rowcol"``; default the light field's ``metadata["naming"]``, else
            hci for square grids.
        prefix: file name prefix; default ``metadata["prefix"]`` when the naming matches, else ``input_`` / ``view``.
            Rowcol views are numbered from ``metadata["first_index"]`` (0 or 1; default 1).
        overwrite: replace an existing non-empty folder.
        compress_level: PNG zlib level 0-9 (lossless at every level).
        workers: threads encoding PNGs (default up to 4).

    Raises:
        InputError: an unknown naming, a non-square grid for hci, an unsupported dtype or channel count, or an
            existing non-empty folder without ``overwrite``.
    """
    from PIL import Image

    u, v, _, _, c = lf.views.shape
    naming = naming or lf.metadata.get("naming") or ("hci" if u == v else "rowcol")
    if naming not in NAMINGS:
        raise fail(path, f"unknown view naming {naming!r} (expected one of {', '.join(NAMINGS)})")
    if naming == "hci" and u != v:
        raise fail(path, f"hci naming needs a square grid of views, got {u}x{v}")
    if prefix is None:
        prefix = lf.metadata.get("prefix") if lf.metadata.get("naming") == naming else None
        prefix = prefix if isinstance(prefix, str) else _DEFAULT_PREFIX[naming]
    dtype = lf.views.dtype
    if not ((dtype == np.uint8 and c in (1, 3, 4)) or (dtype == np.uint16 and c == 1)):
        raise fail(path, f"PNG views must be uint8 with 1, 3 or 4 channels or uint16 grey, got {dtype} x {c}")
    final = Path(path)
    if final.exists() and not final.is_dir():
        raise fail(path, "exists and is not a folder")
    if final.is_dir() and any(final.iterdir()) and not overwrite:
        raise fail(path, "folder exists and is not empty (pass overwrite=True to replace it)")
    final.parent.mkdir(parents=True, exist_ok=True)
    base = lf.metadata.get("first_index", 1) if lf.metadata.get("naming") == naming else 1
    base = base if base in (0, 1) else 1
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a written folder gets the usual permissions

    def save(rc: tuple[int, int]) -> None:
        arr = lf.views[rc]
        img = Image.fromarray(arr[:, :, 0] if c == 1 else arr)
        img.save(tmp / _view_name(naming, prefix, rc[0], rc[1], v, base), format="PNG",
                 compress_level=compress_level)

    try:
        with ThreadPoolExecutor(_workers(workers)) as pool:
            list(pool.map(save, [(r, k) for r in range(u) for k in range(v)]))
        _replace_folder(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace_folder(tmp: Path, final: Path) -> None:
    """Rename ``tmp`` to ``final``; an existing ``final`` is moved aside first and removed after."""
    if not final.exists():
        os.replace(tmp, final)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
    os.rmdir(old)
    os.replace(final, old)
    try:
        os.replace(tmp, final)
    except BaseException:
        os.replace(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def read_lightfield_h5(path: str | os.PathLike, *, dataset: str = "views") -> LightField:
    """Read a light field from HDF5.

    Args:
        path: ``.h5`` / ``.hdf5`` file.
        dataset: name of the (U, V, H, W, C) dataset.

    Returns:
        A LightField; the dataset's attributes become the metadata (plus ``format`` = "hdf5").

    Raises:
        InputError: not an HDF5 file, no such dataset, or a dataset that is not 5-dimensional or is truncated.
    """
    import h5py

    if not Path(path).is_file():
        raise fail(path, "no such file")
    try:
        with h5py.File(path, "r") as f:
            if dataset not in f or not isinstance(f[dataset], h5py.Dataset):
                raise fail(path, f"no dataset {dataset!r} in the HDF5 file")
            ds = f[dataset]
            if ds.ndim != 5:
                raise fail(path, f"dataset {dataset!r} must be (U, V, H, W, C), got shape {ds.shape}")
            need, stored = ds.size * ds.dtype.itemsize, ds.id.get_storage_size()
            if (ds.chunks is None and stored < need) or need > stored * _MAX_H5_RATIO + 2**20:
                raise fail(path, f"dataset {dataset!r} of shape {ds.shape} needs {need} bytes but stores {stored}")
            views = ds[()]
            metadata = {k: _plain(val) for k, val in ds.attrs.items()}
    except InputError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError) as exc:  # h5py reports corrupt files as any of these
        raise fail(path, f"cannot read HDF5 ({exc})") from None
    metadata["format"] = "hdf5"
    return LightField(views, metadata=metadata)


def _plain(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_lightfield_h5(
    path: str | os.PathLike, lf: LightField, *, dataset: str = "views", compression: str | None = None
) -> None:
    """Write a light field to HDF5, atomically.

    Metadata entries that are strings, numbers, booleans or lists of numbers become attributes of the dataset;
    others are skipped.

    Args:
        path: ``.h5`` / ``.hdf5`` file.
        lf: the light field (any numeric dtype).
        dataset: name of the dataset.
        compression: an h5py filter (``"gzip"``, ``"lzf"``) or None.
    """
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        ds = f.create_dataset(dataset, data=lf.views, compression=compression)
        for key, value in lf.metadata.items():
            if key == "format":
                continue
            with contextlib.suppress(TypeError, ValueError):
                if isinstance(value, str | int | float | bool) or (
                    isinstance(value, list | tuple) and all(isinstance(x, int | float) for x in value)
                ):
                    ds.attrs[key] = value
