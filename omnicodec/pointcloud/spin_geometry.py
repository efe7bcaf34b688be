"""Predictive geometry of spinning-LiDAR sweeps: each point predicted from the one before it, turned by the sensor's
azimuth step, its range coded first.

A spinning sensor (Velodyne, Ouster, Hesai, ...) returns the points of one laser at a nearly constant azimuth step
``theta``, so in scan order a point is close to the previous point turned by ``theta`` about the vertical axis, at
a range that changes little along a surface. Coding, lossless on the integer grid, in grid coordinates with the
sensor at the origin (the frame's own coordinates):

1. The points, in the order given, are cut into ``S`` sequences of :data:`SEQUENCE` points (the last one shorter).
   All sequences are coded side by side: step ``t`` of every sequence before step ``t + 1``, so the decoder runs one
   vectorised step per position in a sequence, never one per point.
2. The first point of every sequence is written with the signed Exp-Golomb code of :mod:`omnicodec.entropy.overflow`.
3. Point ``q`` after point ``p``:

   * ``P = p`` turned by ``theta`` about z, in fixed point: ``Px = (c px - s py + 2**29) >> 30``,
     ``Py = (s px + c py + 2**29) >> 30``, ``Pz = pz``, with ``(c, s)`` the rounded ``2**30 (cos, sin) theta``
     that the stream header carries;
   * ranges are integer square roots rounded to nearest, ``|v| = round(sqrt(vx**2 + vy**2 + vz**2))``;
   * ``dr = |q| - |P|`` is coded first;
   * ``P`` is scaled to the range of ``q``: ``P' = floor((2 P |q| + |P|) / (2 |P|))`` (``P`` itself when
     ``|P| = 0``), and the residual ``e = q - P'`` is coded per axis.

4. Every value ``v`` (``dr``, ``ex``, ``ey``, ``ez``) is a size class, 0 for 0 and ``2b - 1`` / ``2b`` for a positive /
   negative value of bit length ``b``, coded under an adaptive table, followed by the ``b - 1`` bits of ``|v|``
   below its leading one as equiprobable bits. The tables' contexts: for ``dr``, the size of the previous ``dr`` in
   the sequence and the range class of ``P`` (bit length of ``|P|``); for ``e``, the axis, the size of the previous
   residual on that axis and the range class of ``q``. Tables start from the learned counts of the model
   (:mod:`.spin_model`) and add each coded value's count, so they follow the frame.

Everything the decoder computes is integer arithmetic (square roots through IEEE double square roots, exact for the
bounded values here, then corrected), so a stream decodes the same on every machine.
"""

from __future__ import annotations

import numpy as np

from ..entropy import PROB_BITS, Decoder, Encoder, decode_overflow, encode_overflow
from ..entropy.overflow import unzigzag, zigzag
from ..errors import CorruptStreamError, InputError

__all__ = ["SEQUENCE", "COORD_BITS", "FIXED_BITS", "SIZES", "SYMBOLS", "DR_CONTEXTS", "E_CONTEXTS", "RING_BIN",
           "azimuth_step", "rotation", "scan_fraction", "ring_order", "encode_sweep", "decode_sweep", "dr_contexts",
           "e_contexts", "size_class", "symbol_counts", "to_local", "from_local"]

SEQUENCE = 1024
"""Points per sequence; sequences are coded side by side."""
COORD_BITS = 24
"""Grid coordinates must satisfy ``|v| < 2**COORD_BITS`` (16.7 km on a 1 mm grid)."""
FIXED_BITS = 30
"""Fixed-point bits of the rotation's cosine and sine."""
SIZES = 28
"""Size classes of a value's bit length (0 .. 27): values up to ``2**27 - 1`` in magnitude."""
SYMBOLS = 2 * SIZES - 1
"""Alphabet of a size-class symbol (0, then +b and -b for b = 1 .. SIZES - 1)."""
_PREV = 12
"""Classes of the previous value's bit length (clipped)."""
_RANGE = 10
"""Range classes: bit length of a range, minus 8, clipped to ``0 .. _RANGE - 1``."""
DR_CONTEXTS = _PREV * _RANGE
E_CONTEXTS = 3 * _PREV * _RANGE
RING_BIN = 0.05
"""Elevation histogram bin (degrees) of :func:`ring_order`."""
_BIT_FREQS = np.array([1 << (PROB_BITS - 1), 1 << (PROB_BITS - 1)], dtype=np.int32)


def azimuth_step(positions: np.ndarray) -> float:
    """The sensor's azimuth step in radians, signed (positive: counter-clockwise seen from above), estimated as the
    median of the small non-zero azimuth changes between consecutive points; 0 when there are none."""
    p = np.asarray(positions, dtype=np.float64)
    if len(p) < 3:
        return 0.0
    az = np.arctan2(p[:, 1], p[:, 0])
    d = np.angle(np.exp(1j * np.diff(az)))
    small = d[(np.abs(d) > 1e-6) & (np.abs(d) < 0.05)]
    if len(small) < len(d) // 4:
        return 0.0
    return float(np.median(small))


def scan_fraction(positions: np.ndarray, theta: float) -> float:
    """Fraction of consecutive points whose azimuth advances by ``theta`` (within a quarter of a step): above 0.8
    for a spinning sensor's sweep in scan order (KITTI, simulated 16- to 128-beam sensors), below 0.3 for a raster
    scan of a surface, near 0 for other clouds or orders."""
    p = np.asarray(positions, dtype=np.float64)
    if len(p) < 3 or theta == 0.0:
        return 0.0
    az = np.arctan2(p[:, 1], p[:, 0])
    d = np.angle(np.exp(1j * np.diff(az)))
    return float(np.mean(np.abs(d - theta) < abs(theta) / 4))


def ring_order(positions: np.ndarray) -> np.ndarray:
    """A scan order for a sweep given in another order (firing by firing, sorted, shuffled): the points ring by ring,
    each ring by azimuth. Rings are the runs of well-filled bins of a histogram of the points' elevation angles
    (bins of :data:`RING_BIN` degrees; a bin with at most ``max(2, N / 5000)`` points separates two rings), which
    separates the beams of a sensor whose beams lie further apart than their elevations spread (16- and 32-beam
    sensors; not KITTI's HDL-64E, whose frames come in scan order anyway). Returns a permutation ``(N,)``."""
    p = np.asarray(positions, dtype=np.float64)
    if len(p) == 0:
        return np.zeros(0, np.int64)
    el = np.degrees(np.arctan2(p[:, 2], np.hypot(p[:, 0], p[:, 1])))
    bins = np.floor((el - el.min()) / RING_BIN).astype(np.int64)
    sparse = np.bincount(bins) <= max(2, len(p) // 5000)
    starts = ~sparse & np.r_[True, sparse[:-1]]
    ring = np.cumsum(starts)[bins]
    return np.lexsort((np.arctan2(p[:, 1], p[:, 0]), ring))


def rotation(theta: float) -> tuple[int, int]:
    """``(c, s)``: the fixed-point cosine and sine of ``theta`` (``2**FIXED_BITS`` units), as the header stores them."""
    one = 1 << FIXED_BITS
    return int(round(np.cos(theta) * one)), int(round(np.sin(theta) * one))


def size_class(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(symbol, bit length)`` of signed integers: symbol 0 for 0, ``2b - 1`` for positive, ``2b`` for negative."""
    m = np.abs(v)
    b = np.frexp(m.astype(np.float64))[1].astype(np.int64)  # exact bit length below 2**53
    return np.where(v == 0, 0, 2 * b - (v > 0)), b


def _isqrt_round(n: np.ndarray) -> np.ndarray:
    """``round(sqrt(n))`` of non-negative int64 below ``2**52``, exactly (IEEE square root, then corrected)."""
    r = np.floor(np.sqrt(n.astype(np.float64))).astype(np.int64)
    r -= (r * r > n)
    r += ((r + 1) * (r + 1) <= n)
    return r + (n - r * r > r)


def _norm(v: np.ndarray) -> np.ndarray:
    return _isqrt_round((v * v).sum(axis=-1))


def _turn(p: np.ndarray, c: int, s: int) -> np.ndarray:
    half = 1 << (FIXED_BITS - 1)
    x, y = p[..., 0], p[..., 1]
    return np.stack([(c * x - s * y + half) >> FIXED_BITS, (s * x + c * y + half) >> FIXED_BITS, p[..., 2]], axis=-1)


def _scale(pred: np.ndarray, r_pred: np.ndarray, r_q: np.ndarray) -> np.ndarray:
    zero = r_pred == 0
    den = np.where(zero, 1, r_pred)[..., None]
    scaled = (2 * pred * r_q[..., None] + den) // (2 * den)
    return np.where(zero[..., None], pred, scaled)


def _round_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``round(num / den)`` (half up) of int64 arrays, ``den > 0``."""
    return (2 * num + den) // (2 * den)


def _lift_in(a: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray, rho: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Integer rotation of ``(a, b)`` by ``-atan2(y, x)`` (``rho = |(x, y)|``, rounded) by three lifting steps,
    exactly invertible by :func:`_lift_out`: a vector along ``(x, y)`` comes out along the first axis. A half turn
    first (negating both) where ``x < 0`` keeps the steps' ``tan(angle / 2) = y / (rho + x)`` bounded; identity where
    ``rho = 0``."""
    flip = x < 0
    a, b, x, y = np.where(flip, -a, a), np.where(flip, -b, b), np.where(flip, -x, x), np.where(flip, -y, y)
    none = rho == 0
    d, r = np.where(none, 1, rho + x), np.where(none, 1, rho)
    a1 = a + _round_div(b * y, d)
    b1 = b - _round_div(a1 * y, r)
    a2 = a1 + _round_div(b1 * y, d)
    return np.where(none, a, a2), np.where(none, b, b1)


def _lift_out(u: np.ndarray, v: np.ndarray, x: np.ndarray, y: np.ndarray, rho: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`_lift_in`."""
    flip = x < 0
    x, y = np.where(flip, -x, x), np.where(flip, -y, y)
    none = rho == 0
    d, r = np.where(none, 1, rho + x), np.where(none, 1, rho)
    a1 = u - _round_div(v * y, d)
    b = v + _round_div(a1 * y, r)
    a = a1 - _round_div(b * y, d)
    a, b = np.where(none, u, a), np.where(none, v, b)
    return np.where(flip, -a, a), np.where(flip, -b, b)


def to_local(e: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Residuals ``e`` ``(..., 3)`` in the frame of the predicted point ``p``: along its ray, along the azimuth
    (tangential) and along the elevation, by two exact integer rotations (about z by the azimuth of ``p``, then in
    the vertical plane by its elevation)."""
    rho = _isqrt_round(p[..., 0] * p[..., 0] + p[..., 1] * p[..., 1])
    u, v = _lift_in(e[..., 0], e[..., 1], p[..., 0], p[..., 1], rho)
    r = _isqrt_round(rho * rho + p[..., 2] * p[..., 2])
    w, h = _lift_in(u, e[..., 2], rho, p[..., 2], r)
    return np.stack([w, v, h], axis=-1)


def from_local(local: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_local`."""
    rho = _isqrt_round(p[..., 0] * p[..., 0] + p[..., 1] * p[..., 1])
    r = _isqrt_round(rho * rho + p[..., 2] * p[..., 2])
    u, ez = _lift_out(local[..., 0], local[..., 2], rho, p[..., 2], r)
    ex, ey = _lift_out(u, local[..., 1], p[..., 0], p[..., 1], rho)
    return np.stack([ex, ey, ez], axis=-1)


def _range_class(r: np.ndarray) -> np.ndarray:
    bits = np.frexp(r.astype(np.float64))[1].astype(np.int64)
    return np.clip(bits - 8, 0, _RANGE - 1)


def dr_contexts(prev_dr_bits: np.ndarray, r_pred: np.ndarray) -> np.ndarray:
    """Context indices of ``dr`` from the bit length of the previous ``dr`` in each sequence and the predicted
    range (any shape alike)."""
    return np.minimum(prev_dr_bits, _PREV - 1) * _RANGE + _range_class(r_pred)


def e_contexts(prev_e_bits: np.ndarray, r_q: np.ndarray) -> np.ndarray:
    """Context indices ``(..., 3)`` of the residual from the bit lengths of the previous residual ``(..., 3)`` and
    the decoded range ``(...)``."""
    return (np.arange(3) * _PREV + np.minimum(prev_e_bits, _PREV - 1)) * _RANGE + _range_class(r_q)[..., None]


_ROW_LIMIT = 1 << 24
"""A context whose counts add up to more than this has them halved (rounded up) after the step."""
_BUDGET = (1 << PROB_BITS) - SYMBOLS


class _Tables:
    """Adaptive tables: counts per context, starting from the model's (learned) counts, ``increment`` added per
    coded value, halved when a context's total passes :data:`_ROW_LIMIT`."""

    def __init__(self, prior_dr: np.ndarray, prior_e: np.ndarray, increment: int) -> None:
        self.dr = prior_dr.astype(np.int64).copy()
        self.e = prior_e.astype(np.int64).copy()
        self.inc = increment

    @staticmethod
    def rows(counts: np.ndarray, ctx: np.ndarray) -> np.ndarray:
        """The tables of contexts ``ctx``: :func:`~omnicodec.entropy.tables.normalize_weights` of their counts (every
        count >= 1 and every total below 2**25, so no shift is needed: the same integers, computed directly)."""
        cum = np.cumsum(counts[ctx], axis=1)
        total = cum[:, -1:]
        bound = (2 * _BUDGET * cum + total) // (2 * total)
        return (np.diff(bound, axis=1, prepend=0) + 1).astype(np.int32)

    def update(self, counts: np.ndarray, ctx: np.ndarray, sym: np.ndarray) -> None:
        np.add.at(counts, (ctx, sym), self.inc)
        full = counts[ctx].sum(axis=1) > _ROW_LIMIT
        if full.any():
            rows = np.unique(ctx[full])
            counts[rows] = (counts[rows] + 1) >> 1


def _bit_layout(nb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For values of ``nb`` raw bits each, laid out value after value, most significant first: the value each bit
    belongs to and its shift."""
    owner = np.repeat(np.arange(len(nb)), nb)
    first = np.cumsum(nb) - nb
    return owner, nb[owner] - 1 - (np.arange(len(owner)) - first[owner])


def _raw_bits(values: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """The ``bits - 1`` bits of ``|values|`` below their leading one, most significant first, value after value."""
    owner, shift = _bit_layout(np.maximum(bits - 1, 0))
    return (np.abs(values)[owner] >> shift) & 1


def _from_raw(sym: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Signed values from their size-class symbols and their raw bits (as :func:`_raw_bits` lays them out)."""
    b = (sym + 1) // 2
    mag = np.where(b > 0, np.int64(1) << np.maximum(b - 1, 0), 0)
    owner, shift = _bit_layout(np.maximum(b - 1, 0))
    np.add.at(mag, owner, raw << shift)
    return np.where(sym % 2 == 0, -mag, mag)


def _check_coords(q: np.ndarray) -> None:
    if len(q) and int(np.abs(q).max()) >= 1 << COORD_BITS:
        raise InputError(f"a point lies {int(np.abs(q).max())} grid steps from the sensor, beyond the spinning-sensor "
                         f"coder's 2**{COORD_BITS}; use a larger grid step or another codec")


def _residuals(q: np.ndarray, c: int, s: int) -> dict[str, np.ndarray] | None:
    """Every prediction, residual, symbol and context of a sweep at once (the encoder knows every point), on the
    ``(S, SEQUENCE)`` grid of sequences; None for an empty sweep."""
    q = np.asarray(q, dtype=np.int64)
    _check_coords(q)
    n = len(q)
    if n == 0:
        return None
    seqs = -(-n // SEQUENCE)
    pad = seqs * SEQUENCE - n
    grid = np.concatenate([q, np.zeros((pad, 3), np.int64)]).reshape(seqs, SEQUENCE, 3)
    lengths = np.full(seqs, SEQUENCE, np.int64)
    lengths[-1] -= pad
    pred = _turn(grid[:, :-1], c, s)
    r_pred = _norm(pred)
    r_q = _norm(grid[:, 1:])
    dr = r_q - r_pred
    scaled = _scale(pred, r_pred, r_q)
    e = to_local(grid[:, 1:] - scaled, scaled)
    dr_sym, dr_bits = size_class(dr)
    e_sym, e_bits = size_class(e)
    if int(dr_bits.max(initial=0)) >= SIZES or int(e_bits.max(initial=0)) >= SIZES:
        raise InputError("a prediction residual is beyond the spinning-sensor coder's range")
    prev_dr = np.concatenate([np.zeros((seqs, 1), np.int64), dr_bits[:, :-1]], axis=1)
    prev_e = np.concatenate([np.zeros((seqs, 1, 3), np.int64), e_bits[:, :-1]], axis=1)
    ctx_dr, ctx_e = dr_contexts(prev_dr, r_pred), e_contexts(prev_e, r_q)
    return dict(grid=grid, lengths=lengths, dr=dr, dr_sym=dr_sym, dr_bits=dr_bits, e=e, e_sym=e_sym, e_bits=e_bits,
                ctx_dr=ctx_dr, ctx_e=ctx_e)


def symbol_counts(q: np.ndarray, c: int, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Histograms ``(DR_CONTEXTS, SYMBOLS)`` and ``(E_CONTEXTS, SYMBOLS)`` of a sweep's coded symbols per context
    (what training adds up)."""
    dr = np.zeros((DR_CONTEXTS, SYMBOLS), np.int64)
    e = np.zeros((E_CONTEXTS, SYMBOLS), np.int64)
    r = _residuals(q, c, s)
    if r is None:
        return dr, e
    valid = np.arange(1, SEQUENCE)[None, :] < r["lengths"][:, None]
    np.add.at(dr, (r["ctx_dr"][valid], r["dr_sym"][valid]), 1)
    np.add.at(e, (r["ctx_e"][valid].reshape(-1), r["e_sym"][valid].reshape(-1)), 1)
    return dr, e


def encode_sweep(q: np.ndarray, c: int, s: int, enc: Encoder, prior: tuple[np.ndarray, np.ndarray, int],
                 progress=None) -> None:
    """Codes the integer points ``q`` ``(N, 3)`` (sensor at the origin, scan order) into ``enc``.

    Args:
        q: grid coordinates, ``|v| < 2**COORD_BITS``.
        c, s: the rotation of one azimuth step (:func:`rotation`).
        enc: the encoder.
        prior: the model's initial counts ``(DR_CONTEXTS, SYMBOLS)``, ``(E_CONTEXTS, SYMBOLS)`` and increment.
        progress: called with the number of points coded after every step.

    Raises:
        InputError: a point too far from the sensor.
    """
    r = _residuals(q, c, s)
    if r is None:
        return
    grid, lengths = r["grid"], r["lengths"]
    dr, dr_sym, dr_bits, e, e_sym, e_bits = (r[k] for k in ("dr", "dr_sym", "dr_bits", "e", "e_sym", "e_bits"))
    ctx_dr_all, ctx_e_all = r["ctx_dr"], r["ctx_e"]
    encode_overflow(enc, zigzag(grid[:, 0].reshape(-1)))
    if progress is not None:
        progress(len(grid))
    tables = _Tables(*prior)
    for t in range(1, SEQUENCE):
        m = int(np.count_nonzero(lengths > t))
        if m == 0:
            break
        j = t - 1
        ctx_dr, ctx_e = ctx_dr_all[:m, j], ctx_e_all[:m, j]
        enc.encode(dr_sym[:m, j], tables.rows(tables.dr, ctx_dr))
        raw = _raw_bits(dr[:m, j], dr_bits[:m, j])
        if len(raw):
            enc.encode(raw, _BIT_FREQS)
        es, ec = e_sym[:m, j].reshape(-1), ctx_e.reshape(-1)
        enc.encode(es, tables.rows(tables.e, ec))
        raw = _raw_bits(e[:m, j].reshape(-1), e_bits[:m, j].reshape(-1))
        if len(raw):
            enc.encode(raw, _BIT_FREQS)
        tables.update(tables.dr, ctx_dr, dr_sym[:m, j])
        tables.update(tables.e, ec, es)
        if progress is not None:
            progress(m)


def decode_sweep(dec: Decoder, n: int, c: int, s: int, prior: tuple[np.ndarray, np.ndarray, int],
                 progress=None) -> np.ndarray:
    """Decodes ``n`` points written by :func:`encode_sweep`; returns them ``(n, 3)`` int64, in coding order.

    Raises:
        CorruptStreamError: decoded values outside the coder's bounds (a damaged stream).
    """
    if n == 0:
        return np.zeros((0, 3), np.int64)
    seqs = -(-n // SEQUENCE)
    lengths = np.full(seqs, SEQUENCE, np.int64)
    lengths[-1] -= seqs * SEQUENCE - n
    limit = 1 << COORD_BITS
    out = np.zeros((seqs, SEQUENCE, 3), np.int64)
    first = unzigzag(decode_overflow(dec, 3 * seqs)).reshape(seqs, 3)
    if int(np.abs(first).max()) >= limit:
        raise CorruptStreamError("spinning-sensor stream: a point beyond the coordinate bound")
    out[:, 0] = first
    if progress is not None:
        progress(seqs)
    prev_dr = np.zeros(seqs, np.int64)
    prev_e = np.zeros((seqs, 3), np.int64)
    tables = _Tables(*prior)
    for t in range(1, SEQUENCE):
        m = int(np.count_nonzero(lengths > t))
        if m == 0:
            break
        pred = _turn(out[:m, t - 1], c, s)
        r_pred = _norm(pred)
        ctx_dr = dr_contexts(prev_dr[:m], r_pred)
        dr_sym = dec.decode(tables.rows(tables.dr, ctx_dr), m)
        nb = np.maximum((dr_sym + 1) // 2 - 1, 0)
        raw = dec.decode(_BIT_FREQS, int(nb.sum())) if nb.any() else np.zeros(0, np.int64)
        dr = _from_raw(dr_sym, raw)
        r_q = r_pred + dr
        if int(r_q.min()) < 0 or int(r_q.max()) >= 2 * limit:
            raise CorruptStreamError("spinning-sensor stream: a decoded range outside its bounds")
        ec = e_contexts(prev_e[:m], r_q).reshape(-1)
        e_sym = dec.decode(tables.rows(tables.e, ec), 3 * m)
        nb = np.maximum((e_sym + 1) // 2 - 1, 0)
        raw = dec.decode(_BIT_FREQS, int(nb.sum())) if nb.any() else np.zeros(0, np.int64)
        e = _from_raw(e_sym, raw).reshape(m, 3)
        scaled = _scale(pred, r_pred, r_q)
        q = scaled + from_local(e, scaled)
        if int(np.abs(q).max()) >= limit:
            raise CorruptStreamError("spinning-sensor stream: a point beyond the coordinate bound")
        out[:m, t] = q
        tables.update(tables.dr, ctx_dr, dr_sym)
        tables.update(tables.e, ec, e_sym)
        prev_dr[:m] = (dr_sym + 1) // 2
        prev_e[:m] = ((e_sym + 1) // 2).reshape(m, 3)
        if progress is not None:
            progress(m)
    return out.reshape(-1, 3)[:n]
