"""Octree structure over an integer voxel grid: Morton keys, levels and occupancy codes.

Conventions used by every point-cloud codec:

* Coordinates are non-negative int64 voxel indices below ``2**depth`` on each axis.
* A Morton key interleaves the bits of x, y, z with x the most significant of each triple, so the key of a child is
  ``parent_key * 8 + child_index`` with ``child_index = 4*ox + 2*oy + oz`` (``o`` = the child's offset, 0 or 1).
* Sorting by Morton key lists the children of each parent together, in child-index order, parents in key order.
"""

from __future__ import annotations

import numpy as np

from ..bitstream.limits import MAX_OCTREE_DEPTH

__all__ = [
    "morton_encode",
    "morton_decode",
    "depth_for",
    "occupancy_codes",
    "expand_children",
    "CHILD_OFFSETS",
    "CHILD_COUNT",
]

CHILD_OFFSETS = np.array([[(i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(8)], dtype=np.int64)
"""(8, 3) offset (ox, oy, oz) of each child index."""

CHILD_COUNT = np.array([bin(v).count("1") for v in range(256)], dtype=np.int64)
"""(256,) number of children (set bits) of each occupancy code."""


def _spread(v: np.ndarray) -> np.ndarray:
    """Spread the low 21 bits of ``v`` so that bit k moves to bit 3k (uint64)."""
    v = v.astype(np.uint64) & np.uint64(0x1FFFFF)
    v = (v | (v << np.uint64(32))) & np.uint64(0x1F00000000FFFF)
    v = (v | (v << np.uint64(16))) & np.uint64(0x1F0000FF0000FF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x100F00F00F00F00F)
    v = (v | (v << np.uint64(4))) & np.uint64(0x10C30C30C30C30C3)
    v = (v | (v << np.uint64(2))) & np.uint64(0x1249249249249249)
    return v


def _compact(v: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_spread`: gather bits 0, 3, 6, ... into the low 21 bits."""
    v = v & np.uint64(0x1249249249249249)
    v = (v | (v >> np.uint64(2))) & np.uint64(0x10C30C30C30C30C3)
    v = (v | (v >> np.uint64(4))) & np.uint64(0x100F00F00F00F00F)
    v = (v | (v >> np.uint64(8))) & np.uint64(0x1F0000FF0000FF)
    v = (v | (v >> np.uint64(16))) & np.uint64(0x1F00000000FFFF)
    v = (v | (v >> np.uint64(32))) & np.uint64(0x1FFFFF)
    return v


def morton_encode(coords: np.ndarray) -> np.ndarray:
    """Morton keys of integer coordinates.

    Args:
        coords: (N, 3) non-negative integers below 2**21.

    Returns:
        (N,) int64 keys (x bits most significant in each triple).
    """
    c = np.asarray(coords)
    key = (_spread(c[:, 0]) << np.uint64(2)) | (_spread(c[:, 1]) << np.uint64(1)) | _spread(c[:, 2])
    return key.astype(np.int64)


def morton_decode(keys: np.ndarray) -> np.ndarray:
    """(N,) Morton keys -> (N, 3) int64 coordinates."""
    k = np.asarray(keys).astype(np.uint64)
    return np.stack(
        [_compact(k >> np.uint64(2)), _compact(k >> np.uint64(1)), _compact(k)], axis=1
    ).astype(np.int64)


def depth_for(coords: np.ndarray) -> int:
    """Smallest octree depth whose cube holds every coordinate (at least 1).

    Raises:
        ValueError: a coordinate needs more than ``MAX_OCTREE_DEPTH`` bits.
    """
    top = int(np.max(coords)) if len(coords) else 0
    depth = max(1, top.bit_length())
    if depth > MAX_OCTREE_DEPTH:
        raise ValueError(f"the grid needs {depth} bits per axis, more than {MAX_OCTREE_DEPTH}")
    return depth


def occupancy_codes(leaf_keys: np.ndarray, depth: int) -> list[np.ndarray]:
    """Occupancy code of every node, level by level, from sorted unique leaf Morton keys.

    Args:
        leaf_keys: (M,) sorted unique int64 Morton keys at ``depth``.
        depth: octree depth.

    Returns:
        ``depth`` arrays; entry d holds one uint8 code per occupied node at depth d (in key order), bit i set when
        child i is occupied.
    """
    codes: list[np.ndarray] = [np.empty(0, np.uint8)] * depth
    keys = leaf_keys
    for d in range(depth - 1, -1, -1):
        parents = keys >> 3
        starts = np.flatnonzero(np.r_[True, parents[1:] != parents[:-1]])
        bits = np.left_shift(np.uint8(1), (keys & 7).astype(np.uint8))
        codes[d] = np.bitwise_or.reduceat(bits, starts).astype(np.uint8)
        keys = parents[starts]
    return codes


def expand_children(parent_keys: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Morton keys of the occupied children, in key order.

    Args:
        parent_keys: (P,) sorted int64 keys of the parents.
        codes: (P,) uint8 occupancy codes.

    Returns:
        (C,) int64 sorted child keys.
    """
    bits = np.unpackbits(codes[:, None], axis=1, bitorder="little").astype(bool)  # (P, 8), column = child index
    parent_idx, child_idx = np.nonzero(bits)
    return parent_keys[parent_idx] * 8 + child_idx
