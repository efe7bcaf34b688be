"""Lossy colour coding by the region-adaptive hierarchical transform (RAHT), predicted from decoded neighbours,
with adaptive learned contexts.

Colours are coded as BT.709 Y, Cb, Cr (:func:`rgb_to_ycbcr`; the decoder rounds back to 8-bit RGB), so errors of
the chroma channels do not leak into luma; chroma steps are :data:`CHROMA_FACTOR` times the luma step.

**Transform.** The points' voxels form an octree (:class:`RahtTree`). Every node holds the mean attribute of the
points below it and a **weight**, their count. Going down one level, a node's mean splits into its (up to eight)
children's means by three rounds of two-point RAHT butterflies, one axis after the other (the forward
transform pairs the 2x2x2 block along z, then y, then x; the decoder splits along x first): two nodes of weights
``w1``, ``w2`` and means ``m1``, ``m2`` have the low-pass mean ``(w1 m1 + w2 m2) / (w1 + w2)`` and the
orthonormal high-pass coefficient ``sqrt(w1 w2 / (w1 + w2)) (m2 - m1)``. A block of ``k`` children has ``k - 1``
coefficients; the root mean and all coefficients describe the attribute exactly, and the squared error of the
means is the sum of the coefficients' squared errors.

**Prediction.** Levels are coded root first; each level's parents in eight interleaved groups (by the parity of
their coordinates). A child's mean is predicted by a weighted mean of

* the parent and the parent's neighbours on the child's side (the 2x2x2 nodes of the parent level around the
  child's centre, weights 27, 9, 3, 1: parent, face, edge, corner), leaving out neighbours whose decoded luma
  differs from the parent's by more than :data:`EDGE_LIMIT` (they lie across an edge), and
* the child's face and edge neighbours at its own level that earlier groups have decoded already
  (:data:`CHILD_WEIGHTS`);

the butterflies are applied to the predicted means too, and only the difference between the true and the
predicted coefficient is quantised (step ``delta``, :func:`raht_step`) and coded.

**Entropy coding.** Coefficients are coded stage by stage (the block's x split first), in chunks: first one
binary flag per coefficient, non-zero or not, under the probability its context's adaptive table gives zero (at
low rates almost every coefficient is zero, and a flag costs far less than a symbol of a 256-entry table), then the
non-zero values under the same tables with zero left out. The tables are adaptive (:mod:`.attr_raht_model`) and a
coefficient's context is what the decoder knows: the coefficient's scale times the texture
of its predictors (their weighted mean absolute deviation from the prediction) and times the size of the coded
detail around it, in quantiser steps; the size of the same block's coefficients of earlier stages; for chroma,
the size of the same coefficient's luma value. The encoder rounds with a dead zone and a rate-distortion check
(:data:`ROUNDING`, :data:`RDOQ_LAMBDA`); the decoder does not depend on either.

**Exactness.** The decoder computes means and predictions in IEEE float64 with element-wise operations only
(additions, multiplications, divisions and square roots, each correctly rounded, in a fixed order; no reductions,
no transcendental functions, no BLAS), so every machine rebuilds the same means and contexts; the contexts are
binned from them in integers.

Payload: ``u8`` format version (2), ``C x i64`` root mean in 1/16 units, then the entropy-coded coefficients.
"""

from __future__ import annotations

import os
import struct
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..entropy import Decoder, TableSet, decode_binary, decode_indexed, encode_binary, encode_indexed, get_coder
from ..entropy.tables import normalize_weights
from ..errors import CorruptStreamError, InputError, UnsupportedVersionError
from . import attr_raht_model as rm
from .octree import morton_decode, morton_encode

__all__ = ["RahtTree", "encode_raht", "decode_raht", "raht_step", "RAHT_RATES", "rgb_to_ycbcr", "ycbcr_to_rgb"]

FORMAT = 2
RAHT_RATES = tuple(range(1, 9))
"""Lossy rate points (1 = fewest bits)."""
CHROMA_FACTOR = 3.0
"""Chroma (Cb, Cr) quantiser steps are this many times the luma step."""
ROUNDING = 0.35
"""Encoder's quantiser offset: ``|q| = floor(|r| / delta + ROUNDING)`` (a dead zone; the decoder does not depend
on it)."""
EDGE_LIMIT = 96.0
"""Parent-level neighbours whose decoded luma differs from the parent's by more than this (0..255 scale) are left
out of the prediction: they lie across an edge."""
RDOQ_LAMBDA = 0.1
"""Encoder's rate-distortion trade-off in rounding (squared quantiser steps per bit; 0: plain rounding)."""
CHUNK_MIN = 1024
CHUNK_SHARE = 0.125
"""Tables adapt after every chunk of ``max(CHUNK_MIN, CHUNK_SHARE x coefficients coded so far)`` coefficients."""
MAX_LEVEL_VALUE = 1 << 20
"""Decoded coefficients beyond this many steps are corrupt."""
_PRED_WEIGHTS = (27.0, 9.0, 3.0, 1.0)  # by how many of the offset's components are non-zero
_STAGE_PAIRS = (((0, 1), (2, 3), (4, 5), (6, 7)), ((0, 2), (4, 6)), ((0, 4),))  # z, then y, then x butterflies
_SLOTS = 7  # coefficients of a block: stage 2 (one), stage 1 (two), stage 0 (four)
_STAGE_SLOTS = ((0,), (1, 2), (3, 4, 5, 6))  # the slots of each coding stage, coarse split first
_SLOT_OF = {(2, 0): 0, (1, 0): 1, (1, 1): 2, (0, 0): 3, (0, 1): 4, (0, 2): 5, (0, 3): 6}


def raht_step(attr_rate: int) -> float:
    """Luma (and scalar) quantiser step of the transform coefficients at ``attr_rate`` (1 = coarsest)."""
    return 96.0 / 2.0 ** ((attr_rate - 1) * 0.75)


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """``(N, 3)`` uint8 RGB -> ``(N, 3)`` float64 BT.709 Y, Cb, Cr (Y in 0..255, Cb and Cr in -127.5..127.5)."""
    r, g, b = (rgb[:, i].astype(np.float64) for i in range(3))
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return np.stack([y, (b - y) / 1.8556, (r - y) / 1.5748], axis=1)


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr`, rounded and clipped to ``(N, 3)`` uint8 (element-wise float64 operations:
    the same bytes on every machine)."""
    y, cb, cr = ycc[:, 0], ycc[:, 1], ycc[:, 2]
    r = y + 1.5748 * cr
    b = y + 1.8556 * cb
    g = (y - 0.2126 * r - 0.0722 * b) / 0.7152
    return np.clip(np.rint(np.stack([r, g, b], axis=1)), 0, 255).astype(np.uint8)


def _offsets() -> np.ndarray:
    """The 27 offsets of a 3x3x3 neighbourhood, (27, 3), index ``9 (dx + 1) + 3 (dy + 1) + (dz + 1)``."""
    r = np.arange(-1, 2)
    return np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(27, 3)


PARALLEL_ROWS = 1 << 15
"""Prediction runs on every core (up to :data:`_THREADS`) when a group has at least twice this many children."""
_THREADS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None

_OFFSETS = _offsets()
_CHILD_OFFSETS = _OFFSETS[(np.abs(_OFFSETS).sum(axis=1) >= 1) & (np.abs(_OFFSETS).sum(axis=1) <= 2)]
"""The 18 face and edge neighbour offsets of a child."""
_CHILD_COLUMNS = np.flatnonzero((np.abs(_OFFSETS).sum(axis=1) >= 1) & (np.abs(_OFFSETS).sum(axis=1) <= 2))
_CHILD_FACE = np.abs(_CHILD_OFFSETS).sum(axis=1) == 1
CHILD_WEIGHTS = (4.0, 1.0)
"""Prediction weights of decoded child-level face and edge neighbours (the parent weighs 27)."""


def _octant_predictors() -> tuple[np.ndarray, np.ndarray]:
    """For each child octant (bit 2: x, bit 1: y, bit 0: z), the 8 neighbour offsets (indices into the 27) on its
    side and their weights."""
    idx = np.zeros((8, 8), dtype=np.int64)
    wts = np.zeros((8, 8), dtype=np.float64)
    for o in range(8):
        side = np.array([1 if o & 4 else -1, 1 if o & 2 else -1, 1 if o & 1 else -1])
        for j in range(8):
            pick = np.array([(j >> 2) & 1, (j >> 1) & 1, j & 1])
            off = side * pick
            idx[o, j] = 9 * (off[0] + 1) + 3 * (off[1] + 1) + (off[2] + 1)
            wts[o, j] = _PRED_WEIGHTS[int(pick.sum())]
    return idx, wts


_PRED_INDEX, _PRED_WEIGHT = _octant_predictors()


class _Level:
    """One split: the parents of a level and their children (geometry only)."""

    def __init__(self, slots: np.ndarray, weights: np.ndarray, neighbours: np.ndarray, keys: np.ndarray) -> None:
        self.slots = slots  # (P, 8) child index at the finer level, -1 where empty
        self.weights = weights  # (P, 8) float64 child weights, 0 where empty
        self.neighbours = neighbours  # (P, 27) parent-level node index of each neighbour offset, -1 where empty
        self.parents = len(slots)
        self.children = int((slots >= 0).sum())
        c = morton_decode(keys)
        group = ((c[:, 0] & 1) << 2) | ((c[:, 1] & 1) << 1) | (c[:, 2] & 1)
        self.groups = [np.flatnonzero(group == g) for g in range(8)]  # parents of each interleaved group
        self.child_neighbours: np.ndarray | None = None  # (Q, 18) child-level face and edge neighbours, -1: none


class RahtTree:
    """The octree of a cloud's voxels as the transform walks it (encoder and decoder build the same one).

    Attributes:
        voxel_of_point: ``(N,)`` voxel index of each input point (points repeating a voxel share it).
        voxels: number of distinct voxels (the finest level's nodes, in Morton order).
        levels: the splits, root first: ``levels[0]`` has the root as its only parent, ``levels[-1]`` the voxels
            as its children.
    """

    def __init__(self, coords: np.ndarray) -> None:
        coords = np.asarray(coords, dtype=np.int64)
        if coords.ndim != 2 or coords.shape[1] != 3:
            raise InputError(f"coordinates must have shape (N, 3), got {coords.shape}")
        self.n = len(coords)
        self.levels: list[_Level] = []
        if self.n == 0:
            self.voxel_of_point = np.zeros(0, np.int64)
            self.voxels = 0
            self.voxel_weights = np.zeros(0)
            return
        keys = morton_encode(coords - coords.min(axis=0))
        uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        self.voxel_of_point = inverse.reshape(-1)
        self.voxels = len(uniq)
        self.voxel_weights = counts.astype(np.float64)
        keys, weights = uniq, self.voxel_weights
        levels = []
        while not (len(keys) == 1 and keys[0] == 0):
            pk = keys >> 3
            new = np.r_[True, pk[1:] != pk[:-1]]
            parent_of = np.cumsum(new) - 1
            pkeys = pk[new]
            p = len(pkeys)
            slots = np.full((p, 8), -1, dtype=np.int64)
            w = np.zeros((p, 8), dtype=np.float64)
            octant = keys & 7
            slots[parent_of, octant] = np.arange(len(keys))
            w[parent_of, octant] = weights
            levels.append(_Level(slots, w, np.empty((0, 27), np.int64), pkeys))
            weights = np.bincount(parent_of, weights=weights, minlength=p)
            keys = pkeys
        self.levels = levels[::-1]
        # neighbour tables root first: a node's neighbour is a child of its parent's neighbour (no search)
        nbrs = np.full((1, 27), -1, dtype=np.int64)
        nbrs[0, 13] = 0  # the root: itself only
        for i, level in enumerate(self.levels):
            level.neighbours = nbrs
            if i + 1 < len(self.levels):
                nbrs = _child_table(level.slots, nbrs, _OFFSETS)
                level.child_neighbours = nbrs[:, _CHILD_COLUMNS]  # the children's face and edge neighbours
            else:  # the voxels: only their face and edge neighbours are needed
                level.child_neighbours = _child_table(level.slots, nbrs, _CHILD_OFFSETS)


_AXIS_MASKS = [np.uint64(sum(1 << (3 * i + 2 - a) for i in range(21))) for a in range(3)]  # x, y, z bits of a key


def _shift(keys: np.ndarray, axis: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Morton keys moved one cell along ``axis`` (``step`` +1 or -1) by dilated-integer arithmetic, and whether
    the move stays inside the grid."""
    mask = _AXIS_MASKS[axis]
    one = np.uint64(1 << (2 - axis))
    part = keys & mask
    if step > 0:
        moved = ((part | ~mask) + one) & mask
        ok = part != mask
    else:
        moved = (part - one) & mask
        ok = part != 0
    return (keys & ~mask) | moved, ok


def _child_steps() -> np.ndarray:
    """``(8, 3, 3, 3, 2)``: for a child in octant ``o`` and an offset ``d`` (index ``d + 1`` per axis), the parent's
    neighbour column ``9 ux + 3 uy + uz + 13`` with ``u = floor((o + d) / 2)`` per axis, and the neighbour's octant
    ``(o + d) mod 2``."""
    out = np.zeros((8, 3, 3, 3, 2), dtype=np.int64)
    for o in range(8):
        bits = np.array([(o >> 2) & 1, (o >> 1) & 1, o & 1])
        for off in _OFFSETS:
            t = bits + off
            up, octant = t >> 1, t & 1  # floor division and remainder by 2, also for -1
            out[(o, *(off + 1))] = 9 * up[0] + 3 * up[1] + up[2] + 13, (octant[0] << 2) | (octant[1] << 1) | octant[2]
    return out


_CHILD_STEP = _child_steps()


def _child_table(slots: np.ndarray, neighbours: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``(children, len(offsets))`` index of each child's neighbour at each offset (-1: none), from its parent's
    neighbour table ``(P, 27)`` and the parents' child slots ``(P, 8)``: the cell at offset ``d`` of the child in
    octant ``o`` is the child in octant ``(o + d) mod 2`` of the parent's neighbour at offset ``floor((o + d) / 2)``
    (per axis). The same table as a search for every shifted Morton key among the children's (:func:`_neighbours`).
    Children are numbered in Morton order, so parent by parent, octant by octant: the order of ``nonzero``."""
    r, o = np.nonzero(slots >= 0)
    flat_slots, flat_nbrs = slots.reshape(-1), neighbours.reshape(-1)
    out = np.empty((len(r), len(offsets)), dtype=np.int64)

    def part(sel: slice) -> None:
        row27, oct_ = r[sel] * 27, o[sel]
        for j, off in enumerate(offsets):
            up, octant = _CHILD_STEP[:, off[0] + 1, off[1] + 1, off[2] + 1].T
            q = flat_nbrs[row27 + up[oct_]]
            found = flat_slots[np.maximum(q, 0) * 8 + octant[oct_]]
            out[sel, j] = np.where(q >= 0, found, -1)

    _run_parts(part, len(r))
    return out


def _neighbours(keys: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``(P, len(offsets))`` index of each node's neighbour at each offset among the Morton-sorted ``keys`` (-1:
    none)."""
    k0 = keys.astype(np.uint64)
    out = np.full((len(keys), len(offsets)), -1, dtype=np.int64)
    for j, off in enumerate(offsets):
        if not off.any():
            out[:, j] = np.arange(len(keys))
            continue
        k, ok = k0, np.ones(len(keys), dtype=bool)
        for axis in range(3):
            if off[axis]:
                k, inside = _shift(k, axis, int(off[axis]))
                ok &= inside
        k = k.astype(np.int64)
        pos = np.minimum(np.searchsorted(keys, k), len(keys) - 1)
        out[:, j] = np.where(ok & (keys[pos] == k), pos, -1)
    return out


def _predict(level: _Level, rows: np.ndarray, known: np.ndarray, child_known: np.ndarray, child_done: np.ndarray,
             limit: float) -> np.ndarray:
    """For the children of the parents ``rows``: ``(n, 8, 3C)`` their predicted means, the predictors' mean absolute
    deviation from them and their mean coded detail (``C`` columns each), from the parent level's decoded means and
    details ``known`` ``(P, 2C)`` and those of the children decoded so far (``child_known``, rows ``child_done``).
    Sums run term by term in a fixed order (element-wise, so every machine gets the same floats)."""
    n, c = len(rows), known.shape[1] // 2
    slots = level.slots[rows]
    r, o = np.nonzero(slots >= 0)  # the occupied children, (row, octant)
    idx = np.empty((n, 27), dtype=np.int64)
    usable = np.empty((n, 27), dtype=bool)
    luma = known[:, 0]

    def parents(sel: slice) -> None:  # the parents' neighbours, and which of them predict
        nbrs = level.neighbours[rows[sel]]
        idx[sel] = np.maximum(nbrs, 0)
        usable[sel] = nbrs >= 0
        if limit > 0:  # neighbours across a luma edge do not predict
            usable[sel] &= np.abs(luma[idx[sel]] - luma[rows[sel]][:, None]) <= limit
            usable[sel, 13] = True  # the parent itself

    _run_parts(parents, n, PARALLEL_ROWS // 4)
    idx, usable = idx.reshape(-1), usable.reshape(-1)
    out = np.zeros((n, 8, 3 * c))
    late = None
    if child_done.any():  # the children's decoded neighbours: which, and the columns any child has
        cidx = np.empty((len(r), len(_CHILD_OFFSETS)), dtype=np.int64)
        ok = np.empty(cidx.shape, dtype=bool)

        def children(sel: slice) -> None:
            cn = level.child_neighbours[slots[r[sel], o[sel]]]
            cidx[sel] = np.maximum(cn, 0)
            ok[sel] = (cn >= 0) & child_done[cidx[sel]]

        _run_parts(children, len(r))
        late = (cidx, ok, np.flatnonzero(ok.any(axis=0)))

    def part(sel: slice) -> None:
        rows_late = None if late is None else (late[0][sel], late[1][sel], late[2])
        _predict_children(r[sel], o[sel], idx, usable, known, child_known, rows_late, out)

    _run_parts(part, len(r))
    return out


def _run_parts(fn, m: int, rows_per_part: int = PARALLEL_ROWS) -> None:
    """``fn(rows)`` over ``m`` rows, cut into parts of at least ``rows_per_part`` run on every core. The parts
    write disjoint rows, and each element's arithmetic is the same however the rows are cut."""
    parts = min(_THREADS, max(1, m // max(rows_per_part, 1)))
    if parts == 1:
        fn(slice(0, m))
        return
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_THREADS)
    bounds = np.linspace(0, m, parts + 1).astype(np.int64)
    for f in [_POOL.submit(fn, slice(int(a), int(b))) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]:
        f.result()


def _predict_children(r: np.ndarray, o: np.ndarray, idx: np.ndarray, usable: np.ndarray, known: np.ndarray,
                      child_known: np.ndarray, late: tuple | None, out: np.ndarray) -> None:
    """:func:`_predict` for the children ``(r, o)`` (row among the group's parents, octant), into ``out``; ``late``:
    their decoded neighbours at their own level ``(index, present, columns)``, or None."""
    c = known.shape[1] // 2
    flat = r * 27  # each child's row in the (n, 27) tables, flattened
    cols = _PRED_INDEX[o]  # (m, 8) neighbour offsets of each child's octant
    weights = [np.where(usable[flat + cols[:, j]], _PRED_WEIGHT[o, j], 0.0)[:, None] for j in range(8)]
    values = [known[idx[flat + cols[:, j]]] for j in range(8)]  # means and details together
    if late is not None:
        cidx, ok, columns = late
        for k in columns:
            w = CHILD_WEIGHTS[0] if _CHILD_FACE[k] else CHILD_WEIGHTS[1]
            weights.append(np.where(ok[:, k], w, 0.0)[:, None])
            values.append(child_known[cidx[:, k]])
    # running sums, term by term in a fixed order (in place: the same operations, fewer temporaries)
    wsum = weights[0].copy()
    acc = weights[0] * values[0]
    tmp = np.empty_like(acc)
    for w, v in zip(weights[1:], values[1:], strict=True):
        np.add(wsum, w, out=wsum)
        np.add(acc, np.multiply(w, v, out=tmp), out=acc)
    pr = acc[:, :c] / wsum
    dev = np.zeros_like(pr)
    tmp = tmp[:, :c]
    for i, (w, v) in enumerate(zip(weights, values, strict=True)):
        np.subtract(v[:, :c], pr, out=tmp)
        np.abs(tmp, out=tmp)
        np.multiply(w, tmp, out=tmp)
        if i:
            np.add(dev, tmp, out=dev)
        else:
            dev[...] = tmp
    out[r, o] = np.concatenate([pr, dev / wsum, acc[:, c:] / wsum], axis=1)


def _butterflies(weights: np.ndarray, values: list[np.ndarray]) -> list[tuple]:
    """Forward butterflies of a level's blocks: for each stage and pair, ``(stage, pair, a, b, wa, wb, both,
    [(va, vb) per value array])`` before combining; the value arrays are (P, 8, C) and are combined in place."""
    w = weights.copy()
    vals = [v.copy() for v in values]
    out = []
    for stage, pairs in enumerate(_STAGE_PAIRS):
        for pi, (a, b) in enumerate(pairs):
            wa, wb = w[:, a].copy(), w[:, b].copy()
            both = (wa > 0) & (wb > 0)
            snap = [(v[:, a].copy(), v[:, b].copy()) for v in vals]
            out.append((stage, pi, a, b, wa, wb, both, snap))
            tot = wa + wb
            safe = np.where(tot > 0, tot, 1.0)
            for v, (va, vb) in zip(vals, snap, strict=True):
                v[:, a] = np.where(both[:, None], (wa[:, None] * va + wb[:, None] * vb) / safe[:, None],
                                   np.where((wb > 0)[:, None], vb, va))
            w[:, a] = tot
    return out


def _scale(wa: np.ndarray, wb: np.ndarray) -> np.ndarray:
    tot = np.where(wa + wb > 0, wa + wb, 1.0)
    return np.sqrt(wa * wb / tot)


class _GroupCoding:
    """What both directions derive for one group of a level before its coefficients: predictions, scales,
    contexts; and the reconstruction from the coded coefficients."""

    def __init__(self, level: _Level, rows: np.ndarray, weights: np.ndarray, predicted: np.ndarray,
                 deltas: np.ndarray, colour: bool) -> None:
        """``predicted``: ``(n, 8, 3C)`` from :func:`_predict`."""
        self.level, self.rows, self.weights, self.deltas, self.colour = level, rows, weights, deltas, colour
        self.flies = _butterflies(weights, [])  # the pairs' weights
        n, c = len(rows), len(deltas)
        self.mask = np.zeros((n, _SLOTS), dtype=bool)
        self.pred_coef = np.zeros((n, _SLOTS, c))
        self.scale = np.zeros((n, _SLOTS))
        self.act16 = np.zeros((n, _SLOTS, c), dtype=np.int64)
        self.side16 = np.zeros((n, _SLOTS, c), dtype=np.int64)

        def part(sel: slice) -> None:
            act = np.zeros((sel.stop - sel.start, _SLOTS, c))
            side = np.zeros_like(act)
            for stage, pi, _a, _b, wa, wb, both, snap in _butterflies(weights[sel], [predicted[sel]]):
                s = _SLOT_OF[(stage, pi)]
                sc = _scale(wa, wb)
                ((va, vb),) = snap
                pa, ma, da = va[:, :c], va[:, c:2 * c], va[:, 2 * c:]
                pb, mb, db = vb[:, :c], vb[:, c:2 * c], vb[:, 2 * c:]
                self.mask[sel, s] = both
                self.scale[sel, s] = sc
                self.pred_coef[sel, s] = sc[:, None] * (pb - pa)
                act[:, s] = sc[:, None] * (ma + mb)
                side[:, s] = sc[:, None] * (da + db)
            # contexts in 1/16 quantiser steps (the floor of exactly computed float64 values)
            self.act16[sel] = np.floor(act * (8.0 / deltas))
            self.side16[sel] = np.floor(side * (8.0 / deltas))

        _run_parts(part, n, PARALLEL_ROWS // 4)
        self.count = int(self.mask.sum())
        # coding order: stage by stage (x split, then y, then z), each over all blocks of the group
        self.stages = []
        for slots in _STAGE_SLOTS:
            r, k = np.nonzero(self.mask[:, slots])
            self.stages.append((r, np.asarray(slots)[k]))

    def contexts(self, stage: int, c: int, q: np.ndarray, sel: slice) -> np.ndarray:
        """Contexts of channel ``c`` for the coefficients ``sel`` of ``stage`` (coding order), given the values
        ``q`` ``(n, 7, C)`` coded so far (earlier stages of the same blocks; for chroma, the same coefficient's
        luma)."""
        r, k = self.stages[stage]
        r, k = r[sel], k[sel]
        act, side = self.act16[r, k, c], self.side16[r, k, c]
        if stage == 0:
            earlier = np.zeros(len(r), dtype=np.int64)
        else:
            prev = np.abs(q[r, :_STAGE_SLOTS[stage][0], c]).sum(axis=1)
            earlier = 1 + np.minimum(prev, 2)
        if c and self.colour:
            return rm.chroma_contexts(act, np.abs(q[r, k, 0]) * 16, earlier)
        return rm.contexts(act, side, earlier)

    def coefficients(self, true: np.ndarray) -> np.ndarray:
        """Encoder: the quantised residual coefficients ``(n, 7, C)`` of children whose true means are ``true``
        ``(n, 8, C)``, and the residuals before rounding, in quantiser steps."""
        n, c = len(self.rows), len(self.deltas)
        q = np.zeros((n, _SLOTS, c), dtype=np.int64)
        scaled = np.zeros((n, _SLOTS, c))

        def part(sel: slice) -> None:
            for stage, pi, _a, _b, wa, wb, both, snap in _butterflies(self.weights[sel], [true[sel]]):
                s = _SLOT_OF[(stage, pi)]
                ta, tb = snap[0]
                r = _scale(wa, wb)[:, None] * (tb - ta) - self.pred_coef[sel, s]
                mag = np.floor(np.abs(r) / self.deltas + ROUNDING).astype(np.int64)
                q[sel, s] = np.where(both[:, None], np.sign(r).astype(np.int64) * mag, 0)
                scaled[sel, s] = np.where(both[:, None], r / self.deltas, 0.0)

        _run_parts(part, n, PARALLEL_ROWS // 4)
        return q, scaled

    def reconstruct(self, means: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The children's indices, decoded means and details from the parents' means ``(n, C)`` and the coded
        coefficients ``q`` ``(n, 7, C)`` (0 where a block has no such coefficient)."""
        n, c = means.shape
        vals = np.zeros((n, 8, c))
        vals[:, 0] = means
        det = np.zeros((n, 8, c))

        def part(sel: slice) -> None:
            coef = self.pred_coef[sel] + q[sel] * self.deltas  # decoded coefficients
            for stage, pi, a, b, wa, wb, both, _snap in reversed(self.flies):
                s = _SLOT_OF[(stage, pi)]
                wa, wb, both = wa[sel], wb[sel], both[sel]
                tot = np.where(both, wa + wb, 1.0)
                sc = np.where(both, self.scale[sel, s], 1.0)
                d = coef[:, s] / sc[:, None]  # decoded mean difference m_b - m_a
                mc = vals[sel, a].copy()
                va = np.where(both[:, None], mc - (wb / tot)[:, None] * d, np.where((wa > 0)[:, None], mc, 0.0))
                vb = np.where(both[:, None], mc + (wa / tot)[:, None] * d, np.where((wb > 0)[:, None], mc, 0.0))
                vals[sel, a], vals[sel, b] = va, vb
                e = np.where(both[:, None], np.abs(q[sel, s] * self.deltas) / sc[:, None], 0.0)
                det[sel, a] = det[sel, a] + e
                det[sel, b] = det[sel, b] + e

        _run_parts(part, n, PARALLEL_ROWS // 4)
        slots = self.level.slots[self.rows]
        occupied = slots >= 0
        return slots[occupied], vals[occupied], det[occupied]


def _true_means(tree: RahtTree, voxel_values: np.ndarray) -> list[np.ndarray]:
    """True means of every level's children, root split first (encoder only)."""
    means = [voxel_values]
    for level in tree.levels[::-1][:-1]:
        occupied = level.slots >= 0
        vals = np.zeros((level.parents, 8, voxel_values.shape[1]))
        vals[occupied] = means[-1][level.slots[occupied]]
        means.append((level.weights[..., None] * vals).sum(axis=1) / level.weights.sum(axis=1)[:, None])
    return means[::-1]


def _voxel_values(tree: RahtTree, x: np.ndarray) -> np.ndarray:
    sums = np.zeros((tree.voxels, x.shape[1]))
    np.add.at(sums, tree.voxel_of_point, x.astype(np.float64))
    return sums / tree.voxel_weights[:, None]


def _deltas(attr_rate: int, channels: int, scale: float) -> np.ndarray:
    base = raht_step(attr_rate) * scale
    return np.array([base] + [base * CHROMA_FACTOR] * (channels - 1))


def _chunks(n: int, done: int) -> list[tuple[int, int]]:
    """Chunks of a group's coefficients between table updates: each at most as large as what was coded before."""
    out, start = [], 0
    while start < n:
        size = max(CHUNK_MIN, int(done * CHUNK_SHARE))
        out.append((start, min(n, start + size)))
        done += min(n, start + size) - start
        start += size
    return out


def _walk(tree: RahtTree, root: np.ndarray, deltas: np.ndarray, colour: bool, code_group) -> np.ndarray:
    """Both directions: visit the levels root first, each in its eight interleaved groups of parents;
    ``code_group(i, coding)`` codes or decodes the group's coefficients and returns them ``(n, 7, C)``.
    Returns the voxels' decoded means."""
    c = len(deltas)
    known = np.concatenate([root.reshape(1, c), np.zeros((1, c))], axis=1)  # decoded means and details
    for i, level in enumerate(tree.levels):
        child_known = np.zeros((level.children, 2 * c))
        child_done = np.zeros(level.children, dtype=bool)
        for rows in level.groups:
            if not len(rows):
                continue
            predicted = _predict(level, rows, known, child_known, child_done, EDGE_LIMIT)
            coding = _GroupCoding(level, rows, level.weights[rows], predicted, deltas, colour)
            values = code_group(i, coding)
            idx, m, d = coding.reconstruct(known[rows, :c], values)
            child_known[idx, :c], child_known[idx, c:], child_done[idx] = m, d, True
        known = child_known
    return known[:, :c]


def _rdoq(q: np.ndarray, scaled: np.ndarray, ctx: np.ndarray, tables: rm.AdaptiveTables) -> np.ndarray:
    """Encoder: each non-zero value moves one step towards zero when the bits it saves (under the current tables)
    are worth more than the squared error it adds, at ``lambda = RDOQ_LAMBDA`` squared steps per bit."""
    nz = np.flatnonzero(q)
    if not len(nz):
        return q
    w = tables.prior[ctx[nz]] + tables.counts[ctx[nz]] * 256
    total = w.sum(axis=1).astype(np.float64)

    def bits(v: np.ndarray) -> np.ndarray:
        sym = np.where(np.abs(v) <= rm.HALF, v + rm.HALF, 2 * rm.HALF + 1)
        return -np.log2(np.take_along_axis(w, sym[:, None], axis=1)[:, 0] / total)

    cur, smaller = q[nz], q[nz] - np.sign(q[nz])
    x = scaled[nz]
    j_cur = (x - cur) ** 2 + RDOQ_LAMBDA * bits(cur)
    j_small = (x - smaller) ** 2 + RDOQ_LAMBDA * bits(smaller)
    out = q.copy()
    out[nz] = np.where(j_small < j_cur, smaller, cur)
    return out


def _significance(tables: rm.AdaptiveTables, ctx: np.ndarray) -> tuple[np.ndarray, TableSet, np.ndarray]:
    """For coefficients in contexts ``ctx``: the probability that each is non-zero (from its context's adaptive
    counts, an exact ratio of integers), and the table set and indices that code the non-zero ones (the same
    counts with the zero left out)."""
    used, index = tables.tables_weights(ctx)
    total = used.sum(axis=1)
    p1 = ((total - used[:, rm.HALF]) / total)[index]
    nonzero = used.copy()
    nonzero[:, rm.HALF] = 1
    freqs = normalize_weights(nonzero)
    k = freqs.shape[1]
    return p1, TableSet.from_padded(freqs, np.full(len(freqs), k), np.full(len(freqs), -rm.HALF)), index


def _code_group(coding: _GroupCoding, adaptive: list, q: np.ndarray, done: int, code) -> None:
    """Codes (or decodes into ``q``) a group's coefficients stage by stage, in chunks, channel after channel: first
    whether each is zero (binary, under its context's probability), then the non-zero ones under their contexts'
    tables. ``code(values, p1, tables, index, channel, contexts, (rows, slots), adaptive_tables)`` returns the
    values coded."""
    c = q.shape[2]
    for stage, (r, k) in enumerate(coding.stages):
        for a, b in _chunks(len(r), done):
            sel = slice(a, b)
            for ch in range(c):
                ctx = coding.contexts(stage, ch, q, sel)
                p1, tables, index = _significance(adaptive[ch], ctx)
                v = code(q[r[sel], k[sel], ch], p1, tables, index, ch, ctx, (r[sel], k[sel]), adaptive[ch])
                q[r[sel], k[sel], ch] = v
                adaptive[ch].update(v, ctx)
            done += b - a


def _groups(kind: str) -> list[int]:
    names = ["luma", "chroma", "chroma"] if kind == "colour" else ["scalar"]
    return [rm.GROUPS.index(g) for g in names]


def encode_raht(coords: np.ndarray, x: np.ndarray, kind: str, attr_rate: int, model: rm.RahtModel,
                coder: str | int = "constriction", scale: float = 1.0, collect: list | None = None
                ) -> tuple[bytes, np.ndarray]:
    """Code ``(N, C)`` values ``x`` (colour as BT.709 Y, Cb, Cr; or one scalar channel) of points at ``coords``.

    Returns the payload and the decoded values ``(N, C)`` float64 (per point; points of one voxel share their
    voxel's mean). ``collect``, when a list, receives ``(group, values, contexts)`` of every coded chunk.
    """
    if attr_rate not in RAHT_RATES:
        raise InputError(f"attribute rate must be one of {RAHT_RATES[0]}..{RAHT_RATES[-1]}, got {attr_rate!r}")
    x = np.asarray(x)
    c = x.shape[1]
    groups = _groups(kind)
    enc = get_coder(coder).encoder()
    adaptive = [rm.AdaptiveTables(model, g) for g in groups]
    tree = RahtTree(coords)
    deltas = _deltas(attr_rate, c, scale)
    head = bytearray([FORMAT])
    if tree.n == 0:
        return bytes(head) + enc.finish(), np.zeros((0, c))
    voxel = _voxel_values(tree, x)
    true = _true_means(tree, voxel)
    root_true = (voxel * tree.voxel_weights[:, None]).sum(axis=0) / tree.voxel_weights.sum()
    root16 = np.rint(root_true * 16.0).astype(np.int64)
    head += struct.pack(f"<{c}q", *[int(v) for v in root16])
    done = [0]

    def code_group(i: int, coding: _GroupCoding) -> np.ndarray:
        slots = coding.level.slots[coding.rows]
        occupied = slots >= 0
        t = np.zeros(slots.shape + (c,))
        t[occupied] = true[i][slots[occupied]]
        q, scaled = coding.coefficients(t)

        def code(values, p1, tables, index, ch, ctx, where, tables_state):
            if RDOQ_LAMBDA > 0:
                values = _rdoq(values, scaled[where[0], where[1], ch], ctx, tables_state)
            nz = values != 0
            encode_binary(enc, nz, p1)
            encode_indexed(enc, values[nz], index[nz], tables)
            if collect is not None:
                collect.append((groups[ch], values, ctx))
            return values

        _code_group(coding, adaptive, q, done[0], code)
        done[0] += coding.count
        return q

    means = _walk(tree, root16 / 16.0, deltas, kind == "colour", code_group)
    return bytes(head) + enc.finish(), means[tree.voxel_of_point]


def decode_raht(data: bytes, coords: np.ndarray, kind: str, attr_rate: int, model: rm.RahtModel,
                coder: str | int = "constriction", scale: float = 1.0) -> np.ndarray:
    """Inverse of :func:`encode_raht`: the decoded values ``(N, C)`` float64 of the points at ``coords``.

    Raises:
        CorruptStreamError: the payload is malformed or does not match the points.
        UnsupportedVersionError: a payload format newer than :data:`FORMAT`.
    """
    if attr_rate not in RAHT_RATES:
        raise CorruptStreamError(f"attribute rate {attr_rate!r} is not a rate point")
    view = memoryview(data)
    if len(view) >= 1 and view[0] > FORMAT:
        raise UnsupportedVersionError(f"attribute payload format {view[0]} is newer than this omnicodec reads (up to "
                                      f"{FORMAT}); upgrade omnicodec")
    if len(view) < 1 or view[0] != FORMAT:
        raise CorruptStreamError("attribute payload has an unknown format")
    groups = _groups(kind)
    c = len(groups)
    adaptive = [rm.AdaptiveTables(model, g) for g in groups]
    tree = RahtTree(coords)
    deltas = _deltas(attr_rate, c, scale)
    if tree.n == 0:
        return np.zeros((0, c))
    if len(view) < 1 + 8 * c:
        raise CorruptStreamError("attribute payload is truncated (mean)")
    root16 = np.array(struct.unpack_from(f"<{c}q", view, 1), dtype=np.int64)
    if (np.abs(root16) > 1 << 40).any():
        raise CorruptStreamError("attribute payload has a bad mean")
    dec: Decoder = get_coder(coder).decoder(bytes(view[1 + 8 * c:]))
    done = [0]

    def code(_values, p1, tables, index, *_):
        nz = decode_binary(dec, p1).astype(bool)
        v = np.zeros(len(p1), dtype=np.int64)
        v[nz] = decode_indexed(dec, index[nz], tables)
        if len(v) and int(np.abs(v).max()) > MAX_LEVEL_VALUE:
            raise CorruptStreamError("attribute payload is corrupt (coefficient out of range)")
        return v

    def code_group(i: int, coding: _GroupCoding) -> np.ndarray:
        q = np.zeros((len(coding.rows), _SLOTS, c), dtype=np.int64)
        _code_group(coding, adaptive, q, done[0], code)
        done[0] += coding.count
        return q

    means = _walk(tree, root16 / 16.0, deltas, kind == "colour", code_group)
    dec.finish()
    return means[tree.voxel_of_point]
