"""Quantising and coding the wavelet bands of one plane with learned, adaptive context tables.

Order (the decoder walks the same one): the coarse approximation ``LL``, then each level coarse to fine, each
orientation ``LH, HL, HH``, each in two checkerboard passes (``(i + j)`` even, then odd). A value's context comes
only from values decoded before it, as integers:

* ``par``: the size ``|q|`` of its parent (same orientation, one level coarser, at ``(i // 2, j // 2)``) and
  ``parn`` the sum over the parent's four neighbours;
* ``sib``: the sizes of the co-located values of the orientations coded before at this level;
* ``lum``: for chroma, the size of the co-located luma value of the same band (luma is coded first);
* ``n4`` (second pass only): the sum of the sizes of its four neighbours, all from the first pass.

The context is ``16 * bin(n4 + par + sib) + bin((4 par + parn + 2 sib + 4 lum) / 2)`` with the half-octave bins
``bin(x) = min(floor(2 log2(1 + x)), 15)``, computed exactly with integers (:func:`half_octave_bin`).

**Signs** (second pass of ``LH`` and ``HL``): next to an edge, a wavelet value tends to share the sign of its two
neighbours along the edge and to have the opposite sign of its two neighbours across it. The vote ``d`` is the sum
of the (signed) first-pass neighbours along the band's edge direction minus the sum across it (``LH``: the values
above and below minus those left and right; ``HL``: the reverse). The value is coded negated where ``d < 0``, and
``256 * min(|d|, 2)`` is added to its context, so the tables learn how often the vote is right.

``LL`` is coded as differences: the first row from left to right, every other row from the row above.

Quantisation (encoder): ``q = sign(x) floor(|x| / step + ROUNDING)`` with a step per band (and per row for
panoramas); reconstruction: ``sign(q) (|q| + offset) step`` with the model's learned offsets (``LL``: ``q step``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..entropy import Decoder, Encoder, decode_indexed, encode_indexed
from ..errors import CorruptStreamError
from ..pointcloud.attr_model import AdaptiveTables
from .subband_model import CONTEXTS, HALF, LL_GROUP, OFFSET_UNIT, ROUNDING, SIGN_LEVELS, SubbandModel, group_of

__all__ = ["band_shapes", "half_octave_bin", "quantise", "quantise_sizes", "dequantise", "code_plane", "check_decoded",
           "BandQ"]

BandQ = tuple[np.ndarray, list[list[np.ndarray]]]
"""``(LL, [[LH, HL, HH] per level, coarse to fine])`` of int64 quantised values."""
_CAP = 15


def band_shapes(height: int, width: int, levels: int) -> tuple[tuple[int, int], list[list[tuple[int, int]]]]:
    """Shapes of ``LL`` and of each level's ``(LH, HL, HH)``, coarse to fine (as :func:`.dwt.forward` makes them)."""
    h, w = height, width
    per_level = []
    for _ in range(levels):
        hl, hh, wl, wh = -(-h // 2), h // 2, -(-w // 2), w // 2
        per_level.append([(hl, wh), (hh, wl), (hh, wh)])
        h, w = hl, wl
    return (h, w), per_level[::-1]


def half_octave_bin(x: np.ndarray, den: int = 1) -> np.ndarray:
    """``min(floor(2 log2(1 + x / den)), 15)`` for non-negative integers ``x``, exactly (integer arithmetic)."""
    x = np.asarray(x, dtype=np.int64)
    v = (den + x) ** 2 // (den * den)  # floor((1 + x/den)^2) >= 2^k  <=>  (1 + x/den)^2 >= 2^k
    k = np.frexp(v.astype(np.float64))[1] - 1  # exact: v < 2**53
    return np.minimum(k, _CAP)


def _at(a: np.ndarray, shape: tuple[int, int], shift: int) -> np.ndarray:
    """``a[i >> shift, j >> shift]`` over ``shape``, indices clipped to ``a``'s shape."""
    r = np.minimum(np.arange(shape[0]) >> shift, a.shape[0] - 1)
    c = np.minimum(np.arange(shape[1]) >> shift, a.shape[1] - 1)
    return a[np.ix_(r, c)]


def _nb4(a: np.ndarray) -> np.ndarray:
    p = np.pad(a, 1)
    return p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]


def _side(o: int, lev: int, known: list[list[np.ndarray]], luma: BandQ | None,
          shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(par + sib, 4 par + parn + 2 sib + 4 lum)`` of a band (everything but the in-band neighbours)."""
    zero = np.zeros(shape, dtype=np.int64)
    par = parn = zero
    if lev > 0:
        p = np.abs(known[lev - 1][o])
        par = _at(p, shape, 1)
        parn = _at(_nb4(p), shape, 1)
    sib = zero
    for k in range(o):
        sib = sib + _at(np.abs(known[lev][k]), shape, 0)
    lum = zero if luma is None else _at(np.abs(luma[1][lev][o]), shape, 0)
    return par + sib, 4 * par + parn + 2 * sib + 4 * lum


def _sign_votes(known: np.ndarray, o: int) -> np.ndarray:
    """``d`` of every position from the first-pass values ``known`` (second-pass positions zero): the sum of the
    neighbours along the edge direction of orientation ``o`` (0 ``LH``, 1 ``HL``) minus the sum across it."""
    p = np.pad(known, 1)
    vertical = p[:-2, 1:-1] + p[2:, 1:-1]
    horizontal = p[1:-1, :-2] + p[1:-1, 2:]
    return vertical - horizontal if o == 0 else horizontal - vertical


def _ll_residual(q: np.ndarray) -> np.ndarray:
    r = q.copy()
    r[1:] -= q[:-1]
    r[0, 1:] -= q[0, :-1]
    return r


def _ll_from_residual(r: np.ndarray) -> np.ndarray:
    q = r.copy()
    q[0] = np.cumsum(r[0])
    return np.cumsum(q, axis=0)


def code_plane(io: Encoder | Decoder | None, model: SubbandModel, plane: int, height: int, width: int, levels: int,
               q: BandQ | None = None, luma: BandQ | None = None,
               record: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
               rdo: tuple[list[list[np.ndarray]], float] | None = None) -> BandQ:
    """Encodes ``q`` into ``io`` (an encoder) or decodes it from ``io`` (a decoder; ``q`` None) and returns it.

    Args:
        plane: 0 luma, 1 or 2 chroma (selects the groups; chroma contexts use ``luma``).
        height, width, levels: the plane's size and the number of wavelet levels.
        q: the quantised bands, when encoding.
        luma: the luma plane's bands, for chroma.
        record: called with ``(group, values, contexts)`` for every batch of values (training statistics); with
            ``io`` None nothing is coded.
        rdo: encoder only: ``(sizes, lam)``, the unquantised ``|x| / step`` of every band and a Lagrangian in squared
            steps per bit; each value is then lowered by one towards zero where that saves more than ``lam`` times
            the bits it costs (:func:`_rd_lower`), and ``q`` is changed in place to what is coded.
    """
    encoding = q is not None
    ll_shape, shapes = band_shapes(height, width, levels)
    tables: dict[int, AdaptiveTables] = {}

    def run(values: np.ndarray | None, group: int, ctx: np.ndarray) -> np.ndarray:
        if record is not None:
            record(group, values, ctx)
        if io is None:
            return values
        t = tables.get(group)
        if t is None:
            t = tables[group] = AdaptiveTables(model, group)
        table_set, index = t.tables(ctx)
        if values is None:
            values = decode_indexed(io, index, table_set)
        else:
            encode_indexed(io, values, index, table_set)
        t.update(values, ctx)
        return values

    ll_ctx = np.zeros(ll_shape[0] * ll_shape[1], dtype=np.int64)
    res = run(_ll_residual(q[0]).reshape(-1) if encoding else None, LL_GROUP, ll_ctx)
    ll = q[0] if encoding else _ll_from_residual(res.reshape(ll_shape))
    known: list[list[np.ndarray]] = []
    for lev, level_shapes in enumerate(shapes):
        known.append([])
        for o, shape in enumerate(level_shapes):
            first, second = _side(o, lev, known, luma, shape)
            checker = (np.add.outer(np.arange(shape[0]), np.arange(shape[1])) & 1).astype(bool)
            band = q[1][lev][o] if encoding else np.zeros(shape, dtype=np.int64)
            b2 = half_octave_bin(second, 2)
            for pass_ in (0, 1):
                mask = checker if pass_ else ~checker
                a1 = first
                sign: np.ndarray | int = 1
                confidence: np.ndarray | int = 0
                if pass_:
                    known0 = np.where(checker, 0, band)
                    a1 = first + _nb4(np.abs(known0))
                    if o < 2:
                        d = _sign_votes(known0, o)[mask]
                        confidence = np.minimum(np.abs(d), SIGN_LEVELS - 1)
                        sign = np.where(d < 0, -1, 1)
                ctx = half_octave_bin(a1[mask]) * 16 + b2[mask] + CONTEXTS * confidence
                group = group_of(plane, levels - 1 - lev, pass_)
                vals = band[mask] * sign if encoding else None
                if rdo is not None:
                    off = model.offsets_q[group_of(plane, levels - 1 - lev, 0)]
                    vals = _rd_lower(vals, rdo[0][lev][o][mask], model.symbol_bits(group), ctx, off, rdo[1])
                vals = run(vals, group, ctx)
                band[mask] = vals * sign
            known[-1].append(band)
    return ll, known


def _rd_lower(q: np.ndarray, size: np.ndarray, bits: np.ndarray, ctx: np.ndarray, offsets: np.ndarray,
              lam: float) -> np.ndarray:
    """``q`` with each value moved one step towards zero where ``D + lam R`` drops: ``D`` the squared error in steps
    (``size`` is ``|x| / step``; reconstruction as :func:`dequantise`), ``R`` the bits of the value in its context
    ``ctx`` under the learned tables (``bits``, contexts x symbols)."""
    a = np.abs(q)
    cand = np.flatnonzero(a > 0)
    if cand.size == 0:
        return q
    ac = a[cand]
    lower = ac - 1
    rows = ctx[cand]

    def cost(m: np.ndarray) -> np.ndarray:
        off = np.where(m == 1, offsets[0], offsets[1]) / OFFSET_UNIT
        rec = np.where(m > 0, m + off, 0.0)
        sym = np.clip(np.sign(q[cand]) * m + HALF, 0, 2 * HALF + 1)
        sym = np.where(m > HALF, 2 * HALF + 1, sym)
        return (size[cand] - rec) ** 2 + lam * bits[rows, sym]

    move = cost(lower) < cost(ac)
    out = q.copy()
    out[cand[move]] -= np.sign(q[cand[move]])
    return out


def quantise(x: np.ndarray, step: np.ndarray | float) -> np.ndarray:
    """Dead-zone quantiser: ``sign(x) floor(|x| / step + ROUNDING)`` as int64."""
    return quantise_sizes(x, np.abs(x) / step)


def quantise_sizes(x: np.ndarray, size: np.ndarray) -> np.ndarray:
    """:func:`quantise` of ``x`` whose ``|x| / step`` is already ``size``."""
    return (np.sign(x) * np.floor(size + ROUNDING)).astype(np.int64)


def dequantise(q: np.ndarray, step: np.ndarray | float, offsets: np.ndarray) -> np.ndarray:
    """``sign(q) (|q| + offset) step`` with ``offsets = (offset for |q| = 1, for |q| >= 2)`` in model units."""
    a = np.abs(q)
    off = np.where(a == 1, offsets[0], offsets[1]) / OFFSET_UNIT
    return np.where(a > 0, np.sign(q) * (a + off), 0.0) * step


def check_decoded(q: BandQ, limit: int) -> None:
    """Rejects decoded values too large for any image (a damaged stream), before they are dequantised."""
    for arr in [q[0], *(b for level in q[1] for b in level)]:
        if arr.size and np.abs(arr).max() > limit:
            raise CorruptStreamError("image stream holds wavelet values out of range")
