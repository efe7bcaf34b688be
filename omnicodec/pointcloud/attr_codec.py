"""Colour and intensity coding on the decoded geometry: level-of-detail prediction, quantisation, learned contexts.

For an attribute of ``N`` points whose integer voxel coordinates the decoder knows:

1. **Values.** Colours (``rgb``, ``(N, 3)`` uint8) go to YCoCg-R (exact on integers); a scalar (``intensity``,
   ``reflectance``) is coded as its integer value, or, for floats, as its index in the sorted table of its
   distinct values (the table travels in the payload: KITTI intensities hold about 100 of them).
2. **Prediction.** Points are visited coarse to fine by level of detail (:mod:`.attr_lod`); each value is
   predicted by the integer-weighted mean of its predictors' decoded values. For chroma, predictors whose decoded
   luma differs from the point's (already decoded) luma weigh less: colour edges follow luma edges. The Cg
   prediction also adds ``alpha`` times the point's decoded Co residual (cross-component prediction): ``alpha`` is
   the least-squares slope of Cg residuals on Co residuals over the steps decoded so far, in 1/64 units.
3. **Quantisation.** The residual is quantised with step ``s`` (``s = 1`` and plain rounding: lossless). Lossy
   rate point ``R`` (1 = lowest) sets the luma step :func:`luma_step`; chroma steps are twice as large; points of
   coarse levels, which predict many others, get finer steps (``s * clip((M / N) ** 0.15, 1/4, 1)`` with ``M`` the
   points of that level and above). The decoder rebuilds ``prediction + dequantised value``, clipped to the range.
   In lossy mode the encoder leaves a step's channel uncoded (one flag) when its squared error saving, weighted by
   how many finer points it predicts, does not pay for its bits.
4. **Entropy coding.** Each quantised value is coded under the table of its context (:mod:`.attr_model`): the
   learned prior, adapted to the values coded so far in that context.

Everything the decoder computes is integer arithmetic on decoded integers, so it decodes identically on any
machine. Payload: ``u8`` format version (2; version 1, without the cross-component prediction, still decodes),
for scalars ``i64 lo, i64 hi`` and, for floats, the LZMA-compressed table of distinct values (``u32`` length
first), then the entropy-coded values.
"""

from __future__ import annotations

import lzma
import struct

import numpy as np

from ..colour import rgb_to_ycocg, ycocg_to_rgb
from ..entropy import Decoder, decode_binary, decode_indexed, encode_binary, encode_indexed, get_coder
from ..entropy.overflow import decode_overflow, encode_overflow, unzigzag, zigzag
from ..errors import CorruptStreamError, InputError, UnsupportedVersionError
from . import attr_model as am
from .attr_lod import LevelStep, build_levels
from .octree import morton_encode

__all__ = ["ATTR_RATES", "luma_step", "predictive_kind", "encode_predictive", "decode_predictive", "MAX_PALETTE",
           "attribute_statistics"]

ATTR_RATES = tuple(range(1, 9))
"""Lossy attribute rate points (1 = fewest bits)."""
FORMAT = 2
FORMATS = (1, 2)
"""Payload versions this decoder reads: 1 has no cross-component prediction."""
ALPHA_ONE = 64
"""Units of the cross-component slope."""
ALPHA_MAX = 2 * ALPHA_ONE
MAX_PALETTE = 1 << 16
"""Float scalars with more distinct values than this are coded by the generic lossless path."""
_LZMA = [{"id": lzma.FILTER_LZMA2, "preset": 6}]
_ONE = 16  # steps are in 1/16 units
_SCALAR_NAMES = ("intensity", "reflectance")
LEVEL_POWER = 0.15
"""Lossy steps of coarse levels: ``step * clip(f ** LEVEL_POWER, 1/4, 1)`` (``f``: share of points coded so far)."""
RDOQ = True
"""Lossy encoder: rate-distortion optimised quantisation."""
GUIDE = 4
"""Chroma predictor weights are scaled by ``GUIDE / (GUIDE + |luma difference|)`` (luma in quantiser steps)."""
LAMBDA = 0.12
"""Lossy skip decisions: squared error (in value units) one bit must save, per squared step."""
INFLUENCE_POWER = 0.25
"""A step's squared error counts ``(M / N) ** -INFLUENCE_POWER`` times (``M`` points coded so far of ``N``)."""


def luma_step(attr_rate: int | None) -> int:
    """Luma (and scalar) quantiser step in 1/16 units for ``attr_rate`` (None: lossless, step 16 = 1)."""
    if attr_rate is None:
        return _ONE
    return int(round(_ONE * 64.0 / 2.0 ** ((attr_rate - 1) * 0.7)))


def predictive_kind(name: str, values: np.ndarray) -> str | None:
    """``"colour"``, ``"scalar"`` or None (the attribute stays on the generic lossless path)."""
    if len(values) == 0:
        return None
    if name == "rgb" and values.dtype == np.uint8 and values.ndim == 2 and values.shape[1] == 3:
        return "colour"
    if name in _SCALAR_NAMES and (values.ndim == 1 or values.shape[1] == 1) and values.dtype.kind in "iuf":
        if values.dtype.kind == "f":
            if not np.isfinite(values).all() or len(np.unique(values)) > MAX_PALETTE:
                return None
        elif len(values) and (int(values.max()) - int(values.min())) >= 1 << 24:
            return None
        return "scalar"
    return None


class _Layout:
    """The decoder-side structure shared by both directions: Morton order, levels, step sizes."""

    def __init__(self, coords: np.ndarray, channels: int, group_of: list[int], steps16: list[int]) -> None:
        coords = np.asarray(coords, dtype=np.int64)
        if coords.ndim != 2 or coords.shape[1] != 3:
            raise InputError(f"coordinates must have shape (N, 3), got {coords.shape}")
        self.n = len(coords)
        coords = coords - coords.min(axis=0) if self.n else coords
        keys = morton_encode(coords) if self.n else np.zeros(0, np.int64)
        self.order = np.argsort(keys, kind="stable")
        self.first, self.steps = build_levels(coords[self.order], keys[self.order])
        self.channels = channels
        self.group_of = group_of
        self.base_steps = steps16
        counts = np.cumsum([len(s.points) for s in self.steps]) + 1  # points coded up to each step
        self.fraction = counts / max(self.n, 1)

    def step16(self, i: int, c: int) -> int:
        s = self.base_steps[c]
        if s == _ONE:
            return _ONE
        g = min(1.0, max(0.25, float(self.fraction[i]) ** LEVEL_POWER))
        return max(_ONE, int(round(s * g)))


def _quantise(r: np.ndarray, s: int) -> np.ndarray:
    if s == _ONE:
        return r
    mag = (np.abs(r) * _ONE + (s * 2) // 5) // s  # rounding with a small dead zone (encoder's choice)
    return np.sign(r) * mag


def _dequantise(q: np.ndarray, s: int) -> np.ndarray:
    if s == _ONE:
        return q
    return np.sign(q) * ((np.abs(q) * s + _ONE // 2) // _ONE)


def _wsum(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``(n,)`` sums of ``weights * values`` over the predictors (``(n, k)`` int64 both), exactly."""
    return np.einsum("ij,ij->i", weights, values)


class _Walker:
    """Visits the steps and computes predictions and contexts from decoded values (both directions).

    Call :meth:`begin` for each step, then :meth:`context` and :meth:`store` channel by channel. Values are held one
    row per channel, in 32 bits where they fit (always for colours), so each channel's predictor values are one
    small gather; the arithmetic is in 64 bits.
    """

    def __init__(self, layout: _Layout, lo: np.ndarray, hi: np.ndarray, cross: bool = True) -> None:
        self.layout = layout
        self.cross = cross and layout.channels == 3  # cross-component prediction of Cg from Co
        self.sxy = self.sxx = 0  # sums of Co residual * Cg residual and Co residual ** 2 over the steps done
        self.co_residual: np.ndarray | None = None
        self.co_level: np.ndarray | None = None
        self.lo, self.hi = lo, hi
        n, c = layout.n, layout.channels
        small = -(1 << 31) <= int(lo.min()) and int(hi.max()) < 1 << 31  # so are |coded values| of valid payloads
        dtype = np.int32 if small else np.int64
        self.rec = np.zeros((c, n), dtype=dtype)  # decoded values, Morton order
        self.qabs = np.zeros((c, n), dtype=dtype)  # |coded value| of each point

    def _gather(self, values: np.ndarray) -> np.ndarray:
        """``(n, k)`` int64 values of the step's predictors."""
        return values[self.step.neighbours].astype(np.int64, copy=False)

    def begin(self, step: LevelStep, i: int) -> None:
        """Start step ``step`` (step number ``i``)."""
        self.step, self.i = step, i
        self.weights, self.total, self.chroma_weights = step.weights, np.einsum("ij->i", step.weights), None
        self.luma_nb = self._gather(self.rec[0])  # predictors are coded in earlier steps: fixed for the step

    def context(self, c: int, q_luma: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Prediction and context of channel ``c`` for the points of the step; ``q_luma``: the points' coded luma
        values, for the chroma channels of a colour (None otherwise)."""
        step, i = self.step, self.i
        w, wsum = self.weights, self.total
        if q_luma is not None:  # chroma: predictors whose decoded luma is close to the point's count more
            if self.chroma_weights is None:
                dy = np.abs(self.luma_nb - self.rec[0][step.points][:, None])
                t = GUIDE * max(self.layout.step16(i, 0), _ONE) // _ONE
                w = np.where(w > 0, np.maximum(w * t // (t + dy), 1), 0)
                self.chroma_weights = w, np.einsum("ij->i", w)
            w, wsum = self.chroma_weights
        nb = self.luma_nb if c == 0 else self._gather(self.rec[c])
        pred = (_wsum(w, nb) + wsum // 2) // wsum
        s = self.layout.step16(i, c)
        act16 = (_wsum(w, np.abs(nb - pred[:, None])) * (_ONE * _ONE)) // (wsum * s)
        side16 = (_wsum(w, self._gather(self.qabs[c])) * _ONE + wsum // 2) // wsum
        self.base_pred = pred
        if c == 2 and self.cross and self.co_residual is not None:
            pred = pred + (self.alpha() * self.co_residual + ALPHA_ONE // 2) // ALPHA_ONE
        if q_luma is not None:
            size = np.abs(q_luma)
            if c == 2 and self.cross:
                size = size + self.co_level // 2
            return pred, am.chroma_contexts(act16, size * _ONE, side16)
        return pred, am.contexts(act16, side16)

    def alpha(self) -> int:
        """The cross-component slope in 1/:data:`ALPHA_ONE` units: the rounded least-squares slope of the Cg
        residuals on the Co residuals of the steps done, clipped to +-:data:`ALPHA_MAX` (0 before any)."""
        if self.sxx <= 0:
            return 0
        return max(-ALPHA_MAX, min(ALPHA_MAX, (2 * ALPHA_ONE * self.sxy + self.sxx) // (2 * self.sxx)))

    def store(self, c: int, pred: np.ndarray, q: np.ndarray, s: int) -> None:
        points = self.step.points
        self.rec[c][points] = np.clip(pred + _dequantise(q, s), self.lo[c], self.hi[c])
        if self.cross and c == 1:
            self.co_residual = self.rec[1][points].astype(np.int64) - self.base_pred
            self.co_level = np.abs(q)
        elif self.cross and c == 2:
            cg = self.rec[2][points].astype(np.int64) - self.base_pred
            self.sxy += int(np.dot(self.co_residual, cg))
            self.sxx += int(np.dot(self.co_residual, self.co_residual))
        qabs = np.abs(q)
        if len(qabs) and int(qabs.max()) > np.iinfo(self.qabs.dtype).max:  # only from a corrupt payload
            self.qabs = self.qabs.astype(np.int64)
        self.qabs[c][points] = qabs


def _groups(kind: str, lossless: bool) -> list[int]:
    names = ["luma", "chroma", "chroma"] if kind == "colour" else ["scalar"]
    return [am.GROUPS.index(g if lossless else g + "_lossy") for g in names]


def _to_integers(kind: str, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Values as (N, C) int64, their lower and upper bounds per channel, and the float palette (or None)."""
    if kind == "colour":
        rgb = values.astype(np.int64)
        y, co, cg = rgb_to_ycocg(rgb[:, 0], rgb[:, 1], rgb[:, 2])
        return np.stack([y, co, cg], axis=1), np.array([0, -255, -255]), np.array([255, 255, 255]), None
    v = values.reshape(-1)
    if v.dtype.kind == "f":
        palette, idx = np.unique(v, return_inverse=True)
        return idx.reshape(-1, 1).astype(np.int64), np.array([0]), np.array([max(len(palette) - 1, 0)]), palette
    iv = v.astype(np.int64)
    lo, hi = (int(iv.min()), int(iv.max())) if len(iv) else (0, 0)
    return iv.reshape(-1, 1), np.array([lo]), np.array([hi]), None


def _from_integers(kind: str, ints: np.ndarray, dtype: np.dtype, palette: np.ndarray | None,
                   shape_1d: bool) -> np.ndarray:
    if kind == "colour":
        r, g, b = ycocg_to_rgb(ints[:, 0], ints[:, 1], ints[:, 2])
        return np.clip(np.stack([r, g, b], axis=1), 0, 255).astype(np.uint8)
    v = palette[ints[:, 0]] if palette is not None else ints[:, 0].astype(dtype)
    v = v.astype(dtype, copy=False)
    return v if shape_1d else v.reshape(-1, 1)


def _skip(model: am.AttributeModel, group: int, x: np.ndarray, pred: np.ndarray, q: np.ndarray, ctx: np.ndarray,
          s: int, lo: int, hi: int, influence: float) -> bool:
    """Whether a lossy step-channel is better left uncoded (all values 0, the decoder keeps the prediction): its
    squared error saved, times the points it will help predict (``influence``), against its bits at ``lambda =
    LAMBDA * step**2``."""
    if not q.any():
        return True
    rec = np.clip(pred + _dequantise(q, s), lo, hi)
    gain = float(((x - pred) ** 2).sum() - ((x - rec) ** 2).sum()) * influence
    sym = np.where(np.abs(q) <= am.HALF, q + am.HALF, 2 * am.HALF + 1)
    bits = float(model.symbol_bits(group)[ctx, sym].sum())
    return gain < LAMBDA * (s / _ONE) ** 2 * bits


def _rdoq(model: am.AttributeModel, group: int, x: np.ndarray, pred: np.ndarray, q: np.ndarray, ctx: np.ndarray,
          s: int, lo: int, hi: int, influence: float) -> np.ndarray:
    """Rate-distortion optimised quantisation (encoder only): each non-zero value moves one step towards zero when
    the bits it saves are worth more than the error it adds (same ``lambda`` as :func:`_skip`)."""
    nz = q != 0
    if not nz.any():
        return q
    bits = model.symbol_bits(group)
    lam = LAMBDA * (s / _ONE) ** 2
    smaller = q - np.sign(q)

    def cost(v: np.ndarray) -> np.ndarray:
        rec = np.clip(pred + _dequantise(v, s), lo, hi)
        sym = np.where(np.abs(v) <= am.HALF, v + am.HALF, 2 * am.HALF + 1)
        return ((x - rec) ** 2) * influence + lam * bits[ctx, sym]

    better = nz & (cost(smaller) < cost(q))
    return np.where(better, smaller, q)


def _analyse(coords: np.ndarray, values: np.ndarray, kind: str, attr_rate: int | None,
             model: am.AttributeModel | None = None):
    """Predictions, quantised values and contexts of every step: ``(layout, walker, coded, x, lo, hi, palette)``
    with ``coded`` a list of ``(channel, values, contexts, sent)`` in coding order. Lossy steps may be left uncoded
    (``sent`` False) when ``model`` says they do not pay for their bits."""
    if attr_rate is not None and attr_rate not in ATTR_RATES:
        raise InputError(f"attribute rate must be one of {ATTR_RATES[0]}..{ATTR_RATES[-1]}, got {attr_rate!r}")
    ints, lo, hi, palette = _to_integers(kind, values)
    channels = ints.shape[1]
    lossless = attr_rate is None
    base = luma_step(attr_rate)
    steps16 = [base] + [2 * base if not lossless else _ONE] * (channels - 1)
    layout = _Layout(coords, channels, _groups(kind, lossless), steps16)
    x = np.ascontiguousarray(ints[layout.order].T)  # one row per channel, like the walker's values
    walker = _Walker(layout, lo, hi)
    coded: list[tuple[int, np.ndarray, np.ndarray]] = []
    if layout.n:
        walker.rec[:, layout.first] = x[:, layout.first]
    for i, step in enumerate(layout.steps):
        q_luma = None
        influence = float(layout.fraction[i]) ** -INFLUENCE_POWER
        walker.begin(step, i)
        for c in range(channels):
            pred, ctx = walker.context(c, q_luma if c else None)
            s = layout.step16(i, c)
            xc = x[c][step.points]
            q = _quantise(xc - pred, s)
            if not lossless and model is not None and RDOQ:
                q = _rdoq(model, layout.group_of[c], xc, pred, q, ctx, s, int(lo[c]), int(hi[c]), influence)
            sent = lossless or model is None or not _skip(model, layout.group_of[c], xc, pred, q, ctx, s,
                                                         int(lo[c]), int(hi[c]), influence)
            if not sent:
                q = np.zeros_like(q)
            walker.store(c, pred, q, s)
            coded.append((c, q, ctx, sent))
            if kind == "colour" and c == 0:
                q_luma = q
    return layout, walker, coded, x, lo, hi, palette


def attribute_statistics(coords: np.ndarray, values: np.ndarray, kind: str, attr_rate: int | None,
                         model: am.AttributeModel | None = None) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """What the entropy model sees when coding an attribute: ``[(group, values, contexts), ...]`` of the coded
    steps (for training; ``model`` drives the encoder's skip decisions of lossy steps)."""
    layout, _, coded, *_ = _analyse(coords, values, kind, attr_rate, model)
    return [(layout.group_of[c], q, ctx) for c, q, ctx, sent in coded if sent]


def encode_predictive(coords: np.ndarray, values: np.ndarray, kind: str, attr_rate: int | None,
                      model: am.AttributeModel, coder: str | int = "constriction") -> tuple[bytes, np.ndarray]:
    """Code one attribute.

    Args:
        coords: ``(N, 3)`` integer voxel coordinates of the points as the decoder will have them, in the order the
            values are given (any order; the codec sorts internally).
        values: ``(N, 3)`` uint8 colours (``kind="colour"``) or ``(N,)`` / ``(N, 1)`` numbers (``"scalar"``).
        kind: from :func:`predictive_kind`.
        attr_rate: None for lossless, else a rate point of :data:`ATTR_RATES`.
        model: the learned tables.
        coder: entropy coder.

    Returns:
        The payload bytes and the values the decoder will rebuild (same shape and dtype as ``values``).
    """
    layout, walker, coded, x, lo, hi, palette = _analyse(coords, values, kind, attr_rate, model)
    enc = get_coder(coder).encoder()
    if layout.n:
        encode_overflow(enc, zigzag(x[:, layout.first] - lo))
    if attr_rate is not None and coded:
        encode_binary(enc, np.array([sent for *_, sent in coded], dtype=np.int64), 0.5)
    adaptive = [am.AdaptiveTables(model, g) for g in layout.group_of]
    for c, q, ctx, sent in coded:
        if sent:
            tables, index = adaptive[c].tables(ctx)
            encode_indexed(enc, q, index, tables)
            adaptive[c].update(q, ctx)
    head = bytearray([FORMAT])
    if kind == "scalar":
        head += struct.pack("<qq", int(lo[0]), int(hi[0]))
        if palette is not None:
            packed = lzma.compress(palette.astype(palette.dtype.newbyteorder("<")).tobytes(), format=lzma.FORMAT_RAW,
                                   filters=_LZMA)
            head += struct.pack("<I", len(packed)) + packed
    rec = np.empty((layout.n, layout.channels), dtype=np.int64)
    rec[layout.order] = walker.rec.T
    out = _from_integers(kind, rec, values.dtype, palette, values.ndim == 1)
    return bytes(head) + enc.finish(), out


def decode_predictive(data: bytes, coords: np.ndarray, kind: str, attr_rate: int | None, dtype: np.dtype,
                      shape_1d: bool, model: am.AttributeModel, coder: str | int = "constriction") -> np.ndarray:
    """Inverse of :func:`encode_predictive` for points at ``coords`` (the same coordinates, in the same order).

    Raises:
        CorruptStreamError: the payload is malformed or does not match the points.
        UnsupportedVersionError: a payload format newer than those of :data:`FORMATS`.
    """
    if attr_rate is not None and attr_rate not in ATTR_RATES:
        raise CorruptStreamError(f"attribute rate {attr_rate!r} is not a rate point")
    channels = 3 if kind == "colour" else 1
    lossless = attr_rate is None
    view = memoryview(data)
    if len(view) >= 1 and view[0] > max(FORMATS):
        raise UnsupportedVersionError(f"attribute payload format {view[0]} is newer than this omnicodec reads (up to "
                                      f"{max(FORMATS)}); upgrade omnicodec")
    if len(view) < 1 or view[0] not in FORMATS:
        raise CorruptStreamError("attribute payload has an unknown format")
    cross = view[0] >= 2
    pos = 1
    palette = None
    if kind == "colour":
        lo, hi = np.array([0, -255, -255]), np.array([255, 255, 255])
    else:
        if len(view) < pos + 16:
            raise CorruptStreamError("attribute payload is truncated (range)")
        lo_v, hi_v = struct.unpack_from("<qq", view, pos)
        pos += 16
        if dtype.kind == "f":
            if len(view) < pos + 4:
                raise CorruptStreamError("attribute payload is truncated (value table)")
            (size,) = struct.unpack_from("<I", view, pos)
            pos += 4
            entries = hi_v + 1
            if lo_v != 0 or not 1 <= entries <= MAX_PALETTE or size > len(view) - pos:
                raise CorruptStreamError("attribute payload has a bad value table")
            try:
                raw = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=_LZMA).decompress(
                    bytes(view[pos : pos + size]), max_length=entries * dtype.itemsize + 1)
            except lzma.LZMAError as exc:
                raise CorruptStreamError(f"attribute value table is corrupt ({exc})") from None
            if len(raw) != entries * dtype.itemsize:
                raise CorruptStreamError("attribute value table has the wrong size")
            palette = np.frombuffer(raw, dtype.newbyteorder("<")).astype(dtype)
            pos += size
        elif lo_v > hi_v or hi_v - lo_v >= 1 << 24:
            raise CorruptStreamError("attribute payload has a bad value range")
        lo, hi = np.array([lo_v]), np.array([hi_v])
    base = luma_step(attr_rate)
    steps16 = [base] + [2 * base if not lossless else _ONE] * (channels - 1)
    layout = _Layout(coords, channels, _groups(kind, lossless), steps16)
    walker = _Walker(layout, lo, hi, cross)
    dec: Decoder = get_coder(coder).decoder(bytes(view[pos:]))
    if layout.n:
        first = unzigzag(decode_overflow(dec, channels)) + lo
        if (first < lo).any() or (first > hi).any():
            raise CorruptStreamError("attribute payload is corrupt (first value out of range)")
        walker.rec[:, layout.first] = first
    sent = np.ones(len(layout.steps) * channels, dtype=bool)
    if attr_rate is not None and len(sent):
        sent = decode_binary(dec, 0.5, len(sent)).astype(bool)
    adaptive = [am.AdaptiveTables(model, g) for g in layout.group_of]
    for i, step in enumerate(layout.steps):
        q_luma = None
        walker.begin(step, i)
        for c in range(channels):
            pred, ctx = walker.context(c, q_luma if c else None)
            if sent[i * channels + c]:
                tables, index = adaptive[c].tables(ctx)
                q = decode_indexed(dec, index, tables)
                adaptive[c].update(q, ctx)
            else:
                q = np.zeros(len(step.points), dtype=np.int64)
            walker.store(c, pred, q, layout.step16(i, c))
            if kind == "colour" and c == 0:
                q_luma = q
    dec.finish()
    rec = np.empty((layout.n, layout.channels), dtype=np.int64)
    rec[layout.order] = walker.rec.T
    return _from_integers(kind, rec, dtype, palette, shape_1d)
