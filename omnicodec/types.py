"""The data types every codec, reader and metric shares.

* :class:`PointCloud`: positions (N, 3) plus named per-point attributes and an optional integer grid.
* :class:`LightField`: sub-aperture views as a (U, V, H, W, C) array.
* :class:`ErpImage`: an equirectangular (360 degree) image as an (H, W, C) array.

Attribute naming conventions for point clouds (readers produce these, writers consume them):

============  ===========  ===============================================================
name          shape        meaning
============  ===========  ===============================================================
``rgb``       (N, 3)       colour, from PLY ``red/green/blue`` or PCD ``rgb``/``rgba``
``normals``   (N, 3)       surface normals, from ``nx/ny/nz`` (PLY) or ``normal_x..`` (PCD)
``intensity`` (N,)         LiDAR return strength (KITTI 4th column, PCD/PLY ``intensity``)
anything else (N,)/(N, k)  kept under its own name and dtype
============  ===========  ===============================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["Grid", "PointCloud", "LightField", "ErpImage"]


@dataclass(frozen=True)
class Grid:
    """An integer voxel grid: ``position = (index + offset) * step``.

    Attributes:
        step: edge of one voxel, in the units of the positions (1.0 for voxelised clouds, 0.001 for metres to mm).
        offset: (3,) integer offset of the grid origin, in voxels.
        bit_depth: bits per axis needed for the indices (0 when unknown).
    """

    step: float = 1.0
    offset: tuple[int, int, int] = (0, 0, 0)
    bit_depth: int = 0


@dataclass
class PointCloud:
    """A point cloud: positions plus named per-point attributes.

    Attributes:
        positions: (N, 3) array, any real or integer dtype (the reader keeps the file's dtype).
        attributes: name -> (N,) or (N, k) array; see the module docstring for the standard names.
        grid: the integer grid the positions lie on, when known.
        metadata: free-form information from the file (format, organized width/height, viewpoint, comments).
    """

    positions: np.ndarray
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    grid: Grid | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        pos = np.asarray(self.positions)
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise InputError(f"positions must have shape (N, 3), got {pos.shape}")
        if not (np.issubdtype(pos.dtype, np.floating) or np.issubdtype(pos.dtype, np.integer)):
            raise InputError(f"positions must be real or integer, got dtype {pos.dtype}")
        self.positions = pos
        attrs = {}
        for name, value in self.attributes.items():
            arr = np.asarray(value)
            if arr.ndim not in (1, 2) or arr.shape[0] != len(pos):
                raise InputError(
                    f"attribute {name!r} must have shape ({len(pos)},) or ({len(pos)}, k), got {arr.shape}"
                )
            attrs[name] = arr
        self.attributes = attrs

    def __len__(self) -> int:
        return int(self.positions.shape[0])

    @property
    def num_points(self) -> int:
        """Number of points N."""
        return len(self)

    @property
    def rgb(self) -> np.ndarray | None:
        """(N, 3) colours, or None."""
        return self.attributes.get("rgb")

    @property
    def normals(self) -> np.ndarray | None:
        """(N, 3) normals, or None."""
        return self.attributes.get("normals")

    @property
    def intensity(self) -> np.ndarray | None:
        """(N,) intensity, or None."""
        return self.attributes.get("intensity")

    def select(self, index: np.ndarray) -> PointCloud:
        """A new cloud holding the points ``index`` (an integer index array or a boolean mask of length N)."""
        return PointCloud(
            self.positions[index],
            {k: v[index] for k, v in self.attributes.items()},
            grid=self.grid,
            metadata=dict(self.metadata),
        )

    def __repr__(self) -> str:
        attrs = ", ".join(f"{k}:{v.dtype}{list(v.shape[1:])}" for k, v in self.attributes.items())
        return f"PointCloud(N={len(self)}, positions:{self.positions.dtype}, attributes=[{attrs}])"


@dataclass
class LightField:
    """A 4D light field of sub-aperture views.

    Attributes:
        views: (U, V, H, W, C) array; U indexes view rows (top to bottom), V view columns (left to right),
            H and W pixel rows and columns, C channels (3 for RGB). Usually uint8.
        metadata: free-form information (naming scheme, source folder, prefix).
    """

    views: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        v = np.asarray(self.views)
        if v.ndim != 5:
            raise InputError(f"light field views must have shape (U, V, H, W, C), got {v.shape}")
        self.views = v

    @property
    def shape(self) -> tuple[int, int, int, int, int]:
        """(U, V, H, W, C)."""
        return tuple(self.views.shape)  # type: ignore[return-value]


@dataclass
class ErpImage:
    """An equirectangular (360 x 180 degree) image.

    Attributes:
        pixels: (H, W, C) array, usually uint8, with W == 2 H for a full sphere; row 0 is the north pole side.
        metadata: free-form information (source file, format).
    """

    pixels: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        p = np.asarray(self.pixels)
        if p.ndim == 2:
            p = p[:, :, None]
        if p.ndim != 3:
            raise InputError(f"ERP pixels must have shape (H, W, C), got {p.shape}")
        self.pixels = p
