"""HDF5 training sets: one file per set, one group per sample; a writer and a reader with bounded-memory crops.

Layout::

    /                         attrs: format ("omnicodec-pointcloud-trainset"), format_version, builder_version,
                                     command, seed, kind, split, samples, total_points, sample_list_sha256
    /000000                   one group per sample, names in order
        coords   (M, 3) int32 unique non-negative voxel indices, sorted by Morton key (shuffle + gzip)
        cells    (K, 2) int64 index for partial reads: Morton key of each occupied cell of edge
                              2**index_shift voxels (key of the voxel >> 3*index_shift) and the row where its
                              points start (rows of one cell are contiguous because of the Morton order)
        attrs: kind ("dense" | "lidar"), grid_step (1.0 or 0.001: units per voxel), source (generator and
               seed, or file path and augmentation), bits (grid depth), index_shift, points, sha256 (of coords'
               little-endian bytes), plus any builder-specific attributes (e.g. origin for LiDAR, in voxels)

``sample_list_sha256`` is the sha256 of the lines ``name source points sha256`` of all samples in order: two files
with equal hashes hold identical samples.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from omnicodec.io.atomic import atomic_path
from omnicodec.pointcloud.octree import morton_decode, morton_encode

from .grid import bit_depth

__all__ = ["FORMAT", "FORMAT_VERSION", "Sample", "Crop", "TrainingSetWriter", "TrainingSet", "coords_sha256"]

FORMAT = "omnicodec-pointcloud-trainset"
FORMAT_VERSION = 1
_INDEX_CELLS_LEVEL = 5  # index cells sit this many levels above the leaves (32-voxel cells on a 10-bit grid)


def coords_sha256(coords: np.ndarray) -> str:
    """sha256 of the (M, 3) int32 little-endian bytes of coordinates."""
    return hashlib.sha256(np.ascontiguousarray(coords, "<i4").tobytes()).hexdigest()


@dataclass
class Sample:
    """One stored sample: Morton-sorted (M, 3) int32 ``coords`` and the group's attributes."""

    name: str
    coords: np.ndarray
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.attrs.get("kind", ""))

    @property
    def bits(self) -> int:
        return int(self.attrs.get("bits", 0))


@dataclass
class Crop:
    """A training crop: ``coords`` (n, 3) int32 Morton-sorted (absolute grid indices, a subset of the sample) of
    the points inside the cube ``[lo, lo + size)``, n at most the requested maximum."""

    name: str
    coords: np.ndarray
    lo: np.ndarray
    size: int


class TrainingSetWriter:
    """Write a training set; use as a context manager. The file appears atomically when the block succeeds.

    Args:
        path: output ``.h5`` file.
        **root_attrs: recorded on the root group (builder_version, command, seed, kind, split, ...).
    """

    def __init__(self, path: str | os.PathLike, **root_attrs: Any) -> None:
        self.path = Path(path)
        self.root_attrs = root_attrs
        self._lines: list[str] = []
        self._total = 0

    def __enter__(self) -> TrainingSetWriter:
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        self._file = h5py.File(self._tmp, "w", track_order=True)
        return self

    def add(self, coords: np.ndarray, *, kind: str, grid_step: float, source: str, bits: int | None = None,
            **attrs: Any) -> str:
        """Append a sample and return its group name.

        Args:
            coords: (M, 3) unique non-negative integer voxel indices, Morton-sorted (checked), M > 0.
            kind: ``dense`` or ``lidar``.
            grid_step: voxel edge in source units (1.0 for voxelised clouds, 0.001 for metres on the 1 mm grid).
            source: where it came from (generator and seed, or file path and augmentation).
            bits: grid depth (default: the smallest holding the coordinates).
            **attrs: extra scalar or small-array attributes.
        """
        c = np.ascontiguousarray(coords, np.int32)
        if c.ndim != 2 or c.shape[1] != 3 or len(c) == 0 or c.min() < 0:
            raise ValueError("coords must be (M, 3) non-negative integers, M > 0")
        keys = morton_encode(c)
        if len(c) > 1 and not np.all(keys[1:] > keys[:-1]):
            raise ValueError("coords must be unique and sorted by Morton key")
        bits = bit_depth(c) if bits is None else int(bits)
        if len(c) and int(c.max()) >= 1 << bits:
            raise ValueError(f"coordinates exceed the {bits}-bit grid")
        name = f"{len(self._lines):06d}"
        g = self._file.create_group(name)
        g.create_dataset("coords", data=c, chunks=(min(max(len(c), 1), 65536), 3), compression="gzip",
                         compression_opts=4, shuffle=True)
        shift = max(bits - _INDEX_CELLS_LEVEL, 0)
        cell = keys >> (3 * shift)
        starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
        g.create_dataset("cells", data=np.stack([cell[starts], starts], -1).astype(np.int64).reshape(-1, 2))
        digest = coords_sha256(c)
        g.attrs.update(dict(kind=kind, grid_step=float(grid_step), source=source, bits=bits, index_shift=shift,
                            points=len(c), sha256=digest, **attrs))
        self._lines.append(f"{name} {source} {len(c)} {digest}")
        self._total += len(c)
        return name

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._file.attrs.update(dict(format=FORMAT, format_version=FORMAT_VERSION, **self.root_attrs))
                self._file.attrs["samples"] = len(self._lines)
                self._file.attrs["total_points"] = self._total
                self._file.attrs["sample_list_sha256"] = hashlib.sha256("\n".join(self._lines).encode()).hexdigest()
        finally:
            self._file.close()
            if exc_type is None:  # mkstemp makes the file private; give it the usual permissions
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(self._tmp, 0o666 & ~umask)
            self._atomic.__exit__(exc_type, exc, tb)


class TrainingSet:
    """Read a training set: ``len``, indexing and iteration give whole :class:`Sample` objects; :meth:`crop` reads
    only the part of a sample around a random point (bounded memory). Usable as a map-style dataset in PyTorch
    data loaders: the file is opened lazily and reopened in each worker process.

    Args:
        path: the ``.h5`` file.
        kinds: keep only samples of these kinds (``dense``, ``lidar``); all when None.
    """

    def __init__(self, path: str | os.PathLike, kinds: tuple[str, ...] | None = None) -> None:
        self.path = Path(path)
        self._h5: h5py.File | None = None
        self._pid = -1
        f = self._file
        if f.attrs.get("format") != FORMAT:
            raise ValueError(f"{self.path}: not an omnicodec training set")
        self.attrs = dict(f.attrs)
        self.names = [n for n in f if kinds is None or f[n].attrs["kind"] in kinds]

    @property
    def _file(self) -> h5py.File:
        if self._h5 is None or self._pid != os.getpid():
            self._h5 = h5py.File(self.path, "r")
            self._pid = os.getpid()
        return self._h5

    def close(self) -> None:
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None

    def __enter__(self) -> TrainingSet:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_h5"], state["_pid"] = None, -1
        return state

    def __len__(self) -> int:
        return len(self.names)

    def sample_attrs(self, index: int) -> dict[str, Any]:
        """Attributes of sample ``index`` (no coordinates read)."""
        return dict(self._file[self.names[index]].attrs)

    def __getitem__(self, index: int) -> Sample:
        g = self._file[self.names[index]]
        return Sample(self.names[index], g["coords"][()], dict(g.attrs))

    def __iter__(self) -> Iterator[Sample]:
        for i in range(len(self)):
            yield self[i]

    def crop(self, index: int, max_points: int, rng: np.random.Generator, size: int | None = None,
             read_limit: int | None = None) -> Crop:
        """The points of sample ``index`` in a cube centred on a random point of it, at most ``max_points``.

        Only the index cells around the chosen point are read: the largest block of cells around it holding at
        most ``read_limit`` points (default ``max(4 * max_points, 2**18)``), and at least the point's own cell.
        With ``size`` None the cube is the largest inside that block holding at most ``max_points`` points; with
        ``size`` (voxels; odd sizes are exact) it has that edge unless it would hold more than ``max_points``
        points or leave the block, in which case it shrinks until it does not.

        Returns:
            The crop; its coordinates are absolute grid indices in Morton order.
        """
        if max_points < 1:
            raise ValueError("max_points must be positive")
        g = self._file[self.names[index]]
        shift = int(g.attrs["index_shift"])
        cells = g["cells"][()]
        starts = cells[:, 1]
        counts = np.diff(np.r_[starts, int(g.attrs["points"])])
        k = int(rng.choice(len(cells), p=counts / counts.sum()))
        centre = g["coords"][int(starts[k] + rng.integers(counts[k]))].astype(np.int64)
        cell_of_centre = centre >> shift
        cheb = np.abs(morton_decode(cells[:, 0]) - cell_of_centre).max(axis=1)
        budget, radius = read_limit or max(4 * max_points, 1 << 18), 0
        while radius < cheb.max() and counts[cheb <= radius + 1].sum() <= budget:
            radius += 1
        pts = self._read_cells(g["coords"], starts, counts, np.flatnonzero(cheb <= radius))
        dist = np.abs(pts - centre).max(axis=1)
        half = int(dist.max())
        if radius < cheb.max():  # points beyond the block of cells read may be missing: stay inside it
            block_lo = (cell_of_centre - radius) << shift
            block_hi = ((cell_of_centre + radius + 1) << shift) - 1
            half = min(half, int(np.min(np.r_[centre - block_lo, block_hi - centre])))
        if size is not None:
            half = min(half, (int(size) - 1) // 2)
        if np.count_nonzero(dist <= half) > max_points:
            half = int(np.partition(dist, max_points)[max_points]) - 1  # dist <= half now holds <= max_points
        keep = dist <= half
        return Crop(self.names[index], pts[keep].astype(np.int32), centre - half, 2 * half + 1)

    @staticmethod
    def _read_cells(dset: h5py.Dataset, starts: np.ndarray, counts: np.ndarray, which: np.ndarray) -> np.ndarray:
        """Rows of the chosen cells, in key order, reading contiguous runs of cells as single slices."""
        if len(which) == 0:
            return np.empty((0, 3), np.int64)
        which = np.sort(which)
        lo, hi = starts[which], starts[which] + counts[which]
        brk = np.flatnonzero(lo[1:] != hi[:-1]) + 1
        runs = zip(lo[np.r_[0, brk]], hi[np.r_[brk - 1, len(which) - 1]], strict=True)
        return np.concatenate([dset[int(a) : int(b)] for a, b in runs]).astype(np.int64)
