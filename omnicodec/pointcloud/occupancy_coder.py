"""Context-modelled adaptive arithmetic coding of octree occupancy, coarse to fine (not learned).

Each level codes the 8 child-occupancy bits of every occupied parent. The bits are coded in eight passes, one per
child index i = 0..7; pass i codes bit i of every parent at once, so the context of a bit may use every bit of a
lower child index anywhere in the level (the sibling bits of its own parent and the children of neighbouring
parents) as well as the parent level, which the decoder already knows. The context of child i of parent P is:

* for each of the 6 face neighbours of the child at the child level: empty (its parent is empty, or it is known
  empty), occupied (already decoded), or unknown with an occupied parent;
* how many siblings of lower index are occupied (0, 1, 2, 3 or more);
* how many of the 7 neighbours of P lying in the child's octant direction are occupied (0..7);
* how many of the child's 12 edge neighbours at the child level are already known to be occupied (0..3 or more).

Probabilities adapt: every context keeps integer counts of zeros and ones, halved when they grow large, and the
bits of a pass are coded in chunks (128 symbols at first, doubling to 16384) whose probabilities come from the
counts after the previous chunk. All of this is integer arithmetic, so encoder and decoder agree bit for bit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from ..entropy import freqs_from_counts
from ..errors import CorruptStreamError
from .child_context import neighbour_lookup
from .octree import CHILD_COUNT, CHILD_OFFSETS, expand_children

__all__ = ["encode_occupancy", "decode_occupancy", "AdaptiveBinary", "pass_contexts", "child_neighbours", "chunks"]

_FACE_DIRS = [(a, s) for a in range(3) for s in (-1, 1)]
_AXIS_BIT = (4, 2, 1)  # child-index bit of the x, y, z offset
_DELTAS = [d for d in itertools.product((-1, 0, 1), repeat=3) if d != (0, 0, 0)]  # the 26 neighbours
_DELTA_INDEX = {d: k for k, d in enumerate(_DELTAS)}
_FACE_COLUMNS = [_DELTA_INDEX[tuple(sign if a == axis else 0 for a in range(3))] for axis, sign in _FACE_DIRS]
_N_FACE = 3**6
_N_SIB = 4
_N_OCTANT = 8
_N_EDGE = 4
_N_CTX = 8 * _N_FACE * _N_SIB * _N_OCTANT * _N_EDGE
_FIRST_CHUNK = 128
_MAX_CHUNK = 16384
_COUNT_LIMIT = 1 << 13

Progress = Callable[[int], None] | None


class AdaptiveBinary:
    """Integer counts per context; probabilities for a chunk come from the counts before it."""

    def __init__(self) -> None:
        self.counts = np.zeros((_N_CTX, 2), dtype=np.int64)

    def freqs(self, ctx: np.ndarray) -> np.ndarray:
        return freqs_from_counts(self.counts[ctx])

    def update(self, ctx: np.ndarray, bits: np.ndarray) -> None:
        used, inverse = np.unique(ctx, return_inverse=True)
        rows = self.counts[used] + np.bincount(inverse * 2 + bits, minlength=2 * len(used)).reshape(-1, 2)
        full = rows.sum(axis=1) > _COUNT_LIMIT
        rows[full] = (rows[full] + 1) >> 1
        self.counts[used] = rows


_LUT_COLUMN, _LUT_CHILD = neighbour_lookup(_DELTAS, own=-1)


def child_neighbours(nbr: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The (C, 26) neighbour table of the next level, from the parents' table and occupancy codes.

    A child's neighbour lies in its own parent or in one of the parent's neighbours, so it is found by gathers:
    it exists when that parent's code has the neighbour's bit set, and its index is the parent's first child index
    plus the number of lower bits set in that code.

    Args:
        nbr: (P, 26) neighbour table of the parents (-1 where empty).
        codes: (P,) uint8 occupancy codes of the parents.
    """
    codes64 = codes.astype(np.int64)
    counts = CHILD_COUNT[codes64]
    first = np.cumsum(counts) - counts
    parent = np.repeat(np.arange(len(codes)), counts)
    child = np.nonzero(np.unpackbits(codes[:, None], axis=1, bitorder="little"))[1]
    out = np.full((len(parent), len(_DELTAS)), -1, dtype=np.int64)
    # Only a child whose parent has a neighbour or another child can have a neighbour (sparse levels skip most).
    rows = np.flatnonzero(((nbr >= 0).any(axis=1) | (counts > 1))[parent])
    if len(rows) == 0:
        return out
    par, ch = parent[rows], child[rows]
    col = _LUT_COLUMN[ch]  # (R, 26)
    j = _LUT_CHILD[ch]
    p = np.where(col < 0, par[:, None], np.take_along_axis(nbr[par], np.maximum(col, 0), axis=1))
    safe = np.maximum(p, 0)
    pc = np.where(p >= 0, codes64[safe], 0)
    exists = ((pc >> j) & 1).astype(bool)
    out[rows] = np.where(exists, first[safe] + CHILD_COUNT[pc & ((1 << j) - 1)], -1)
    return out


def _octant_plan(i: int) -> tuple[list[int], list[tuple[int, int]]]:
    """For child ``i``: the neighbour columns in its octant, and (column or -1 for the own parent, child index) of
    its edge neighbours at the child level whose child index is below ``i`` (already coded in this level)."""
    o = CHILD_OFFSETS[i]
    octant = [k for k, d in enumerate(_DELTAS) if all(dd in (0, 2 * oo - 1) for dd, oo in zip(d, o, strict=True))]
    edges = []
    for d in _DELTAS:
        if sum(abs(x) for x in d) != 2:
            continue
        t = o + np.asarray(d)
        parent = tuple(int(x) for x in np.floor_divide(t, 2))
        j = int(((t % 2) * np.array(_AXIS_BIT)).sum())
        if j < i:
            edges.append((-1 if parent == (0, 0, 0) else _DELTA_INDEX[parent], j))
    return octant, edges


_PLANS = [_octant_plan(i) for i in range(8)]


def pass_contexts(i: int, nbr: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """(P,) context index of child ``i`` of every parent, given the bits of lower child indices in ``bits``.

    Args:
        i: child index being coded.
        nbr: (P, 26) neighbour table of the parents (:func:`child_neighbours`).
        bits: (P, 8) uint8 child bits decoded so far (columns below ``i`` are valid).
    """
    n = len(nbr)
    own = np.arange(n)

    def child_bit(pidx: np.ndarray, j: int) -> np.ndarray:
        exists = pidx >= 0
        return np.where(exists, bits[np.where(exists, pidx, 0), j], 0).astype(np.int64)

    face = np.zeros(n, dtype=np.int64)
    for k, (axis, sign) in enumerate(_FACE_DIRS):
        o_a = CHILD_OFFSETS[i, axis]
        j = i ^ _AXIS_BIT[axis]
        same_parent = (o_a == 0 and sign == 1) or (o_a == 1 and sign == -1)
        pidx = own if same_parent else nbr[:, _FACE_COLUMNS[k]]
        state = child_bit(pidx, j) if j < i else np.where(pidx >= 0, 2, 0)
        face = face * 3 + state
    sib = np.minimum(bits[:, :i].sum(axis=1, dtype=np.int64), _N_SIB - 1)
    octant_cols, edges = _PLANS[i]
    octant = (nbr[:, octant_cols] >= 0).sum(axis=1)
    edge = np.zeros(n, dtype=np.int64)
    for col, j in edges:
        edge += child_bit(own if col < 0 else nbr[:, col], j)
    edge = np.minimum(edge, _N_EDGE - 1)
    return (((i * _N_FACE + face) * _N_SIB + sib) * _N_OCTANT + octant) * _N_EDGE + edge


def _code_levels(depth: int, code_pass: Callable, progress: Progress) -> np.ndarray:
    """Walk the levels coarse to fine; ``code_pass(level, child_index, contexts)`` codes (or decodes) the bits of
    one pass and returns them as a (P,) array."""
    keys = np.zeros(1, dtype=np.int64)
    nbr = np.full((1, len(_DELTAS)), -1, dtype=np.int64)
    for d in range(depth):
        bits = np.zeros((len(keys), 8), dtype=np.uint8)
        for i in range(8):
            ctx = pass_contexts(i, nbr, bits)
            bits[:, i] = code_pass(d, i, ctx)
        codes = np.packbits(bits, axis=1, bitorder="little")[:, 0]
        keys = expand_children(keys, codes)
        if d + 1 < depth:
            nbr = child_neighbours(nbr, codes)
        if progress is not None:
            progress(1)
    return keys


def chunks(n: int):
    start, size = 0, _FIRST_CHUNK
    while start < n:
        yield start, min(n, start + size)
        start += size
        size = min(size * 2, _MAX_CHUNK)


def encode_occupancy(codes: list[np.ndarray], encoder, progress: Progress = None) -> None:
    """Code the occupancy codes of every level (from :func:`~omnicodec.pointcloud.octree.occupancy_codes`).

    Args:
        codes: ``depth`` uint8 arrays, one code per occupied node of each level in Morton order.
        encoder: an entropy encoder (``omnicodec.entropy``) the bits are written to.
        progress: called with 1 after each level.
    """
    model = AdaptiveBinary()

    def code_pass(d: int, i: int, ctx: np.ndarray) -> np.ndarray:
        sym = ((codes[d] >> i) & 1).astype(np.int64)
        for a, b in chunks(len(ctx)):
            encoder.encode(sym[a:b], model.freqs(ctx[a:b]))
            model.update(ctx[a:b], sym[a:b])
        return sym

    _code_levels(len(codes), code_pass, progress)


def decode_occupancy(decoder, depth: int, max_nodes: int, progress: Progress = None) -> np.ndarray:
    """Decode the octree written by :func:`encode_occupancy`.

    Args:
        decoder: an entropy decoder over the coded bytes.
        depth: octree depth.
        max_nodes: the most nodes any level may hold (the declared point count); more means a corrupt stream.
        progress: called with 1 after each level.

    Returns:
        (M,) sorted int64 Morton keys of the occupied leaves.

    Raises:
        CorruptStreamError: a level decodes to more nodes than ``max_nodes``.
    """
    model = AdaptiveBinary()

    def code_pass(d: int, i: int, ctx: np.ndarray) -> np.ndarray:
        if len(ctx) > max_nodes:
            raise CorruptStreamError(f"octree level {d} holds {len(ctx)} nodes, more than the {max_nodes} declared")
        sym = np.empty(len(ctx), dtype=np.int64)
        for a, b in chunks(len(ctx)):
            sym[a:b] = decoder.decode(model.freqs(ctx[a:b]))
            model.update(ctx[a:b], sym[a:b])
        return sym

    keys = _code_levels(depth, code_pass, progress)
    if len(keys) > max_nodes:
        raise CorruptStreamError(f"the octree holds {len(keys)} leaves, more than the {max_nodes} points declared")
    return keys
