"""Packing of batched integer voxel coordinates into one sortable int64 key.

Bit layout of a key (bit 0 = least significant; bit 63, the sign bit, is always 0)::

    bits 57..62   batch index b            6 bits, 0 <= b < 64
    bits 38..56   x + 2**18                19 bits
    bits 19..37   y + 2**18                19 bits
    bits  0..18   z + 2**18                19 bits

so every coordinate must lie in ``[-2**18, 2**18)`` = ``[-262144, 262144)`` (a 1 mm grid spans +-262 m).
Sorting keys sorts rows by (batch, x, y, z). Adding :func:`pack_offsets` of an offset to a key moves the voxel by that
offset as long as the result stays inside the range on every axis (the kernel-map builders check this from the
coordinate bounds): that is how neighbours are looked up without unpacking.

With the bias a power of two, flooring a coordinate to a multiple of a power of two ``m <= 2**18`` is clearing the
low ``log2(m)`` bits of its field: parents are found with one bitwise and (:func:`floor_keys`).
"""

from __future__ import annotations

import torch

from ..errors import InputError

__all__ = [
    "AXIS_BITS",
    "BATCH_BITS",
    "COORD_MIN",
    "COORD_MAX",
    "MAX_BATCH",
    "BATCH_SHIFT",
    "pack_keys",
    "unpack_keys",
    "pack_offsets",
    "floor_keys",
    "check_coordinate_range",
]

AXIS_BITS = 19
"""Bits per spatial axis."""
BATCH_BITS = 6
"""Bits of the batch index."""
_BIAS = 1 << (AXIS_BITS - 1)
_AXIS_MASK = (1 << AXIS_BITS) - 1
COORD_MIN = -_BIAS
"""Smallest allowed coordinate (inclusive)."""
COORD_MAX = _BIAS - 1
"""Largest allowed coordinate (inclusive)."""
MAX_BATCH = 1 << BATCH_BITS
"""Number of batch indices a key can hold (batch indices are ``0 .. MAX_BATCH - 1``)."""
_SHIFTS = (3 * AXIS_BITS, 2 * AXIS_BITS, AXIS_BITS, 0)  # batch, x, y, z
BATCH_SHIFT = _SHIFTS[0]
"""Position of the lowest bit of the batch index in a key."""


def check_coordinate_range(low: int, high: int, what: str = "coordinates") -> None:
    """Raise :class:`InputError` unless ``COORD_MIN <= low`` and ``high <= COORD_MAX``."""
    if low < COORD_MIN or high > COORD_MAX:
        raise InputError(
            f"{what} span [{low}, {high}], outside the range [{COORD_MIN}, {COORD_MAX}] that sparse keys can hold"
        )


def pack_keys(coordinates: torch.Tensor, batch: torch.Tensor | None = None) -> torch.Tensor:
    """Keys of voxel coordinates.

    Args:
        coordinates: (N, 3) integer x, y, z, each in ``[COORD_MIN, COORD_MAX]`` (not checked here).
        batch: (N,) integer batch indices in ``[0, MAX_BATCH)``, or None for batch 0.

    Returns:
        (N,) int64 keys on the coordinates' device.
    """
    c = coordinates.to(torch.int64) + _BIAS
    key = (c[:, 0] << _SHIFTS[1]) | (c[:, 1] << _SHIFTS[2]) | c[:, 2]
    if batch is not None:
        key = key | (batch.to(torch.int64) << _SHIFTS[0])
    return key


def unpack_keys(keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`pack_keys`.

    Args:
        keys: (N,) int64 keys.

    Returns:
        ``(coordinates, batch)``: (N, 3) int64 x, y, z and (N,) int64 batch indices.
    """
    xyz = torch.stack([((keys >> s) & _AXIS_MASK) for s in _SHIFTS[1:]], dim=1) - _BIAS
    return xyz, keys >> _SHIFTS[0]


def pack_offsets(offsets: torch.Tensor) -> torch.Tensor:
    """Key increments of coordinate offsets (no bias, no batch): ``key(c + d) == key(c) + pack_offsets(d)``.

    Args:
        offsets: (K, 3) integer offsets, each component in ``(-2**18, 2**18)``.

    Returns:
        (K,) int64 increments (may be negative).
    """
    d = offsets.to(torch.int64)
    return d[:, 0] * (1 << _SHIFTS[1]) + d[:, 1] * (1 << _SHIFTS[2]) + d[:, 2]


def floor_keys(keys: torch.Tensor, multiple: int) -> torch.Tensor:
    """Keys of ``floor(c / multiple) * multiple`` on every axis (batch unchanged).

    Args:
        keys: (N,) int64 keys.
        multiple: a power of two, at most ``2**18``.

    Returns:
        (N,) int64 keys.
    """
    if multiple < 1 or multiple & (multiple - 1) or multiple > _BIAS:
        raise InputError(f"floor multiple must be a power of two in [1, {_BIAS}], got {multiple}")
    low = multiple - 1
    clear = (low << _SHIFTS[1]) | (low << _SHIFTS[2]) | low
    return keys & ~clear
