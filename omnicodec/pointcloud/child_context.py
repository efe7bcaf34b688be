"""Child-level neighbourhood states for octree occupancy coding in eight passes.

Within a level, pass ``i`` codes child ``i`` of every occupied parent. When it does, each voxel of the child level
is in one of three states: known empty (its parent is empty, or its bit is already coded as 0), known occupied, or
unknown (its parent is occupied and its child index is ``i`` or more). :func:`child_states` reads the states of the
124 voxels of the 5x5x5 block centred on child ``i`` of every parent; all of them lie in the parent or one of its 26
neighbours, so they are found with the parents' neighbour table and the bits coded so far.
"""

from __future__ import annotations

import itertools

import numpy as np

from .octree import CHILD_OFFSETS

__all__ = [
    "PARENT_DELTAS", "BLOCK_DELTAS", "EMPTY", "OCCUPIED", "UNKNOWN", "child_states", "parent_table", "neighbour_keys",
    "neighbour_lookup",
]

PARENT_DELTAS = [d for d in itertools.product((-1, 0, 1), repeat=3) if d != (0, 0, 0)]
"""The 26 neighbour offsets, in the column order of a parent neighbour table."""
BLOCK_DELTAS = [d for d in itertools.product(range(-2, 3), repeat=3) if d != (0, 0, 0)]
"""The 124 offsets of the 5x5x5 block around a child, in the column order of :func:`child_states`."""
EMPTY, OCCUPIED, UNKNOWN = 0, 1, 2
_OWN = len(PARENT_DELTAS)  # column of the parent itself in the extended table
_AXIS_BIT = np.array([4, 2, 1])


def neighbour_lookup(deltas: list[tuple[int, int, int]], own: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the child-level voxel at each offset from child c lies: (8, K) column of its parent in a parent
    neighbour table (columns in :data:`PARENT_DELTAS` order, ``own`` for the parent itself) and (8, K) its child
    index within that parent.

    Args:
        deltas: K offsets at the child level, each within -2..2 per axis (so the parent is a neighbour or itself).
        own: the column value that stands for the parent itself.
    """
    index = {d: k for k, d in enumerate(PARENT_DELTAS)}
    column = np.empty((8, len(deltas)), dtype=np.int64)
    child = np.empty((8, len(deltas)), dtype=np.int64)
    for c in range(8):
        for k, delta in enumerate(deltas):
            t = CHILD_OFFSETS[c] + np.asarray(delta)
            parent = tuple(int(x) for x in np.floor_divide(t, 2))
            column[c, k] = own if parent == (0, 0, 0) else index[parent]
            child[c, k] = int(((t % 2) * _AXIS_BIT).sum())
    return column, child


_COLUMN, _CHILD = neighbour_lookup(BLOCK_DELTAS, own=_OWN)


def parent_table(nbr: np.ndarray) -> np.ndarray:
    """(P, 27) neighbour table of the parents with each parent's own index appended (-1 where empty)."""
    return np.concatenate([nbr, np.arange(len(nbr), dtype=nbr.dtype)[:, None]], axis=1)


def child_states(i: int, table: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """(P, 124) int8 states (EMPTY, OCCUPIED, UNKNOWN) of the 5x5x5 block around child ``i`` of every parent.

    Args:
        i: the child index being coded (0..7).
        table: (P, 27) extended parent neighbour table (:func:`parent_table`).
        bits: (P, 8) uint8 child bits; columns below ``i`` are coded, the others are ignored.
    """
    p = table[:, _COLUMN[i]]  # (P, 124)
    j = _CHILD[i]
    exists = p >= 0
    out = np.where(exists, np.int8(UNKNOWN), np.int8(EMPTY)).astype(np.int8)
    known = j < i
    if known.any():
        pk = p[:, known]
        jk = np.broadcast_to(j[known], pk.shape)
        out[:, known] = np.where(pk >= 0, bits[np.maximum(pk, 0), jk], 0).astype(np.int8)
    return out


def neighbour_keys(table: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """(P, 27) int64 key ``2 * code + exists`` of every parent around each parent, where ``code`` packs the child
    bits coded so far: the block states of any pass follow from these keys.

    Args:
        table: (P, 27) extended parent neighbour table (:func:`parent_table`).
        bits: (P, 8) uint8 child bits coded so far (zeros elsewhere).
    """
    code = np.packbits(bits, axis=1, bitorder="little")[:, 0].astype(np.int64) * 2 + 1
    return np.append(code, 0)[table]  # table -1 reads the appended 0: no parent
