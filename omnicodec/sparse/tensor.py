"""Sparse tensors: integer voxel coordinates with a feature row per voxel.

A :class:`SparseTensor` is a :class:`CoordinateSet` (the voxels, their packed keys, their sort order and every kernel
map built on them) plus a feature matrix. Operations that keep the voxels (submanifold convolution, activations,
:meth:`SparseTensor.replace_features`) share the coordinate set, so kernel maps are built once per set and reused by
every layer that runs on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..errors import InputError
from .keys import BATCH_SHIFT, COORD_MAX, COORD_MIN, MAX_BATCH, check_coordinate_range, pack_keys, unpack_keys

__all__ = ["CoordinateSet", "SparseTensor"]


def _is_power_of_two(v: int) -> bool:
    return v >= 1 and not v & (v - 1)


class CoordinateSet:
    """Unique voxel coordinates at one tensor stride, with the structures built on them.

    Rows keep the order they were given in; :attr:`sorted_keys` and :attr:`order` give the sorted view used for
    look-ups. Build one with :meth:`from_coordinates`; the constructor takes keys already checked.

    Args:
        keys: (N,) int64 packed keys (see :mod:`omnicodec.sparse.keys`), unique.
        stride: tensor stride, a power of two; every coordinate is a multiple of it.
        batched: whether :attr:`coordinates` shows the batch index as a first column.
        is_sorted: True when the keys are known to be strictly increasing (None: find out when needed).
    """

    def __init__(self, keys: torch.Tensor, stride: int, batched: bool, *, is_sorted: bool | None = None) -> None:
        self.keys = keys
        self.stride = int(stride)
        self.batched = bool(batched)
        self.cache: dict[Any, Any] = {}
        """Kernel maps and derived coordinate sets, keyed by the operation and its parameters."""
        self._sorted: tuple[torch.Tensor, torch.Tensor | None] | None = (keys, None) if is_sorted else None
        self._coordinates: torch.Tensor | None = None
        self._bounds: tuple[int, int] | None = None

    @classmethod
    def from_coordinates(cls, coordinates: torch.Tensor, stride: int = 1) -> CoordinateSet:
        """Check and pack coordinates.

        Args:
            coordinates: (N, 3) integer x, y, z, or (N, 4) batch index then x, y, z; multiples of ``stride``.
            stride: tensor stride, a power of two.

        Raises:
            InputError: wrong shape or dtype, a coordinate out of range or not a multiple of the stride, a batch
                index out of ``[0, 64)``, or a repeated voxel.
        """
        if not isinstance(coordinates, torch.Tensor):
            coordinates = torch.as_tensor(coordinates)
        if coordinates.ndim != 2 or coordinates.shape[1] not in (3, 4):
            raise InputError(f"coordinates must be (N, 3) or (N, 4), got {tuple(coordinates.shape)}")
        if coordinates.dtype.is_floating_point or coordinates.dtype.is_complex or coordinates.dtype == torch.bool:
            raise InputError(f"coordinates must be integers, got {coordinates.dtype}")
        if not _is_power_of_two(int(stride)):
            raise InputError(f"tensor stride must be a power of two, got {stride}")
        coordinates = coordinates.to(torch.int64)
        batched = coordinates.shape[1] == 4
        xyz = coordinates[:, 1:] if batched else coordinates
        batch = coordinates[:, 0] if batched else None
        if len(coordinates):
            check_coordinate_range(int(xyz.min()), int(xyz.max()))
            if stride > 1 and bool((xyz % stride).any()):
                raise InputError(f"coordinates must be multiples of the tensor stride {stride}")
            if batch is not None and (int(batch.min()) < 0 or int(batch.max()) >= MAX_BATCH):
                raise InputError(f"batch indices must lie in [0, {MAX_BATCH})")
        cs = cls(pack_keys(xyz, batch), stride, batched)
        cs._coordinates = coordinates
        cs.sorted_view()  # checks uniqueness
        return cs

    def __len__(self) -> int:
        return self.keys.shape[0]

    @property
    def device(self) -> torch.device:
        return self.keys.device

    def sorted_view(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(sorted_keys, order)``: (N,) increasing keys and (N,) int64 rows in that order (None: rows are sorted).

        Raises:
            InputError: two rows hold the same voxel.
        """
        if self._sorted is None:
            keys = self.keys
            if len(keys) < 2 or bool((keys[1:] > keys[:-1]).all()):
                self._sorted = (keys, None)
            else:
                skeys, order = torch.sort(keys)
                if bool((skeys[1:] == skeys[:-1]).any()):
                    raise InputError("sparse tensor coordinates must be unique (a voxel appears twice)")
                self._sorted = (skeys, order)
        return self._sorted

    @property
    def sorted_keys(self) -> torch.Tensor:
        """(N,) int64 keys in increasing order."""
        return self.sorted_view()[0]

    @property
    def order(self) -> torch.Tensor | None:
        """(N,) int64 row of each sorted key, or None when the rows are already in key order."""
        return self.sorted_view()[1]

    @property
    def coordinates(self) -> torch.Tensor:
        """(N, 3) int64 x, y, z, or (N, 4) with the batch index first when batched."""
        if self._coordinates is None:
            xyz, batch = unpack_keys(self.keys)
            self._coordinates = torch.cat([batch[:, None], xyz], dim=1) if self.batched else xyz
        return self._coordinates

    @property
    def bounds(self) -> tuple[int, int]:
        """(smallest, largest) coordinate over all axes; (0, 0) when empty."""
        if self._bounds is None:
            if len(self) == 0:
                self._bounds = (0, 0)
            else:
                xyz = self.coordinates[:, 1:] if self.batched else self.coordinates
                lo_hi = torch.stack([xyz.min(), xyz.max()]).tolist()
                self._bounds = (int(lo_hi[0]), int(lo_hi[1]))
        return self._bounds

    def batch_size(self) -> int:
        """1 + the largest batch index (1 when not batched or empty)."""
        if not self.batched or len(self) == 0:
            return 1
        return int(self.sorted_keys[-1] >> BATCH_SHIFT) + 1

    def subset(self, rows: torch.Tensor) -> CoordinateSet:
        """The coordinate set of the given rows, in that order (rows: (M,) int64 or (N,) bool)."""
        keys = self.keys[rows]
        parent_sorted = self._sorted is not None and self._sorted[1] is None
        is_sorted = True if (parent_sorted and rows.dtype == torch.bool) else None
        out = CoordinateSet(keys, self.stride, self.batched, is_sorted=is_sorted)
        if self._coordinates is not None:
            out._coordinates = self._coordinates[rows]
        return out

    def to(self, device: torch.device | str) -> CoordinateSet:
        """The same set on another device (kernel maps are rebuilt there when needed)."""
        device = torch.device(device)
        if device == self.device:
            return self
        out = CoordinateSet(self.keys.to(device), self.stride, self.batched)
        if self._sorted is not None:
            skeys, order = self._sorted
            out._sorted = (skeys.to(device), None if order is None else order.to(device))
        if self._coordinates is not None:
            out._coordinates = self._coordinates.to(device)
        out._bounds = self._bounds
        return out


class SparseTensor:
    """Features on the occupied voxels of an integer grid.

    Args:
        coordinates: (N, 3) integer x, y, z, or (N, 4) with a batch index in ``[0, 64)`` first; unique rows, each
            coordinate a multiple of ``tensor_stride`` in ``[-2**18, 2**18)``.
        features: (N, C) float features, on the coordinates' device.
        tensor_stride: spacing of the grid the voxels live on (1, 2, 4, ...).

    Raises:
        InputError: see :meth:`CoordinateSet.from_coordinates`; features of the wrong shape.
    """

    def __init__(self, coordinates: torch.Tensor, features: torch.Tensor, tensor_stride: int = 1) -> None:
        cs = (
            coordinates
            if isinstance(coordinates, CoordinateSet)
            else CoordinateSet.from_coordinates(coordinates, tensor_stride)
        )
        if features.ndim != 2 or features.shape[0] != len(cs):
            raise InputError(f"features must be ({len(cs)}, C), got {tuple(features.shape)}")
        self.coordinate_set = cs
        self.features = features

    @classmethod
    def from_set(cls, coordinate_set: CoordinateSet, features: torch.Tensor) -> SparseTensor:
        """A tensor on an existing coordinate set (shares its kernel maps). features: (N, C)."""
        return cls(coordinate_set, features)  # type: ignore[arg-type]

    @classmethod
    def collate(cls, items: Sequence[tuple[torch.Tensor, torch.Tensor]], tensor_stride: int = 1) -> SparseTensor:
        """One batched tensor from up to 64 clouds.

        Args:
            items: ``(coordinates, features)`` pairs, (N_i, 3) integers and (N_i, C) floats.
            tensor_stride: common tensor stride.

        Returns:
            A batched tensor: rows of cloud i, in their order, with batch index i.
        """
        if not items:
            raise InputError("collate needs at least one cloud")
        coords = [
            torch.cat([torch.full((len(c), 1), i, dtype=torch.int64, device=c.device), c.to(torch.int64)], dim=1)
            for i, (c, _) in enumerate(items)
        ]
        return cls(torch.cat(coords), torch.cat([f for _, f in items]), tensor_stride)

    def decollate(self) -> list[SparseTensor]:
        """Split a batched tensor into unbatched tensors, one per batch index (empty ones included)."""
        if not self.batched:
            return [self]
        batch = self.coordinates[:, 0]
        out = []
        for b in range(self.coordinate_set.batch_size()):
            rows = torch.nonzero(batch == b).squeeze(1)
            out.append(SparseTensor(self.coordinates[rows, 1:], self.features[rows], self.tensor_stride))
        return out

    # ---- views -------------------------------------------------------------------------------------------------
    @property
    def coordinates(self) -> torch.Tensor:
        """(N, 3) int64 x, y, z, or (N, 4) with the batch index first."""
        return self.coordinate_set.coordinates

    @property
    def tensor_stride(self) -> int:
        return self.coordinate_set.stride

    @property
    def keys(self) -> torch.Tensor:
        """(N,) int64 packed keys, in row order."""
        return self.coordinate_set.keys

    @property
    def sorted_keys(self) -> torch.Tensor:
        """(N,) int64 keys in increasing order (cached)."""
        return self.coordinate_set.sorted_keys

    @property
    def kernel_map_cache(self) -> dict[Any, Any]:
        """The kernel maps built on this tensor's coordinate set."""
        return self.coordinate_set.cache

    @property
    def batched(self) -> bool:
        return self.coordinate_set.batched

    @property
    def batch_size(self) -> int:
        return self.coordinate_set.batch_size()

    @property
    def num_channels(self) -> int:
        return self.features.shape[1]

    @property
    def device(self) -> torch.device:
        return self.features.device

    @property
    def dtype(self) -> torch.dtype:
        return self.features.dtype

    def __len__(self) -> int:
        return self.features.shape[0]

    def __repr__(self) -> str:
        return (
            f"SparseTensor(voxels={len(self)}, channels={self.num_channels}, tensor_stride={self.tensor_stride}, "
            f"batched={self.batched}, dtype={self.dtype}, device={self.device})"
        )

    # ---- derived tensors ---------------------------------------------------------------------------------------
    def replace_features(self, features: torch.Tensor) -> SparseTensor:
        """The same voxels (and kernel maps) with other features: (N, C') tensor."""
        return SparseTensor(self.coordinate_set, features)  # type: ignore[arg-type]

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> SparseTensor:
        """Move to a device and/or cast the features to a floating dtype."""
        cs = self.coordinate_set if device is None else self.coordinate_set.to(device)
        return SparseTensor(cs, self.features.to(device=cs.device, dtype=dtype))  # type: ignore[arg-type]

    def detach(self) -> SparseTensor:
        return self.replace_features(self.features.detach())

    def features_at(self, coordinates: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
        """Features at arbitrary voxels, ``fill`` where a voxel is absent.

        Args:
            coordinates: (M, 3) or (M, 4) integers, with the batch column when this tensor is batched.
            fill: value for absent voxels.

        Returns:
            (M, C) features.
        """
        from .kernel_map import lookup_rows

        rows = lookup_rows(self.coordinate_set, _keys_of(coordinates, self.batched).to(self.device))
        out = self.features.new_full((len(rows), self.num_channels), fill)
        hit = rows >= 0
        out[hit] = self.features[rows[hit]]
        return out


def _keys_of(coordinates: torch.Tensor, batched: bool) -> torch.Tensor:
    coordinates = torch.as_tensor(coordinates).to(torch.int64)
    if coordinates.ndim != 2 or coordinates.shape[1] != (4 if batched else 3):
        raise InputError(f"coordinates must be (M, {4 if batched else 3}), got {tuple(coordinates.shape)}")
    xyz = coordinates[:, 1:] if batched else coordinates
    batch = coordinates[:, 0] if batched else None
    keys = pack_keys(xyz, batch)
    valid = ((xyz >= COORD_MIN) & (xyz <= COORD_MAX)).all(dim=1)
    if batch is not None:
        valid &= (batch >= 0) & (batch < MAX_BATCH)
    return torch.where(valid, keys, torch.full_like(keys, -1))  # -1 matches no voxel
