"""Coding a view's residual against a prediction: integer DCT levels under learned, context-indexed tables.

A residual ``x - p`` (``x``, ``p``: ``(H, W, 3)`` uint8, the prediction known to the decoder) is coded as:

1. colour: YCoCg-R lifting (:mod:`.transform`), exact on integers;
2. transform: 8 x 8 DCT per plane; uniform quantisation with a dead zone (encoder only) at step ``step`` for Y and
   ``step * chroma`` for Co and Cg, both stored as integers in 1/16 units;
3. a **block class** per plane and block: the bit length of the block's largest ``|level|`` (0: the block is all
   zero and nothing more is coded for it). Classes are coded under a table chosen by the block's context: for Y, the
   prediction's local gradient relative to the step (where predictions fail: edges); for Co and Cg, the class of
   the Y block at the same place;
4. the **levels** of every non-zero block, each under the table of its (kind, plane type, block class, frequency
   band ``i + j``); values beyond a table's range go through its escape symbol, so every level is lossless.

The tables are learned: counted over the residuals of training light fields (``tools/train_lightfield.py``) and
shipped in the model zoo as integer weights, so encoder and decoder build bit-identical tables from integers only.
``kind`` separates the two residuals the light-field codec codes: a key view's enhancement over the learned image
core (0) and a view's residual over its inter-view prediction (1).

Decoding is integer arithmetic throughout (:func:`reconstruct`), so a decoded view is identical on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..entropy import Decoder, Encoder, TableSet, decode_indexed, encode_indexed
from ..entropy.tables import normalize_weights
from ..errors import CorruptStreamError
from .transform import BLOCK, forward_dct, from_blocks, inverse_dct, rgb_to_ycocg, to_blocks, ycocg_to_rgb

__all__ = ["ResidualTables", "transform", "quantize_coeffs", "quantize", "drop_costly_blocks", "reconstruct",
           "block_classes", "gradient_context", "encode_levels", "decode_levels", "count_symbols", "default_weights",
           "NUM_CLASSES", "NUM_BANDS", "NUM_GRAD", "KINDS"]

NUM_CLASSES = 14
"""Block classes 0..13 (the bit length of the largest ``|level|``; levels up to 8191)."""
NUM_BANDS = 15
"""Frequency bands ``i + j`` of an 8 x 8 block."""
NUM_GRAD = 8
"""Gradient contexts of luma block classes."""
NUM_CHROMA_CTX = 8
"""Chroma block-class contexts (the luma class, capped)."""
KINDS = 2
"""Residual kinds: 0 key-view enhancement, 1 inter-view residual."""
MAX_TABLE_HALF = 127
"""Levels beyond +-127 go through a table's escape."""
MAX_LEVEL = (1 << (NUM_CLASSES - 1)) - 1

_BAND = (np.arange(BLOCK)[:, None] + np.arange(BLOCK)[None, :]).reshape(-1)  # (64,) band of each coefficient
_CLASS_CTX = NUM_GRAD + NUM_CHROMA_CTX


def _half(c: int) -> int:
    return min((1 << c) - 1, MAX_TABLE_HALF)


def class_table(kind: int, ctx: np.ndarray) -> np.ndarray:
    """Index of the block-class table for ``kind`` and context ``ctx`` (luma ``0..NUM_GRAD-1``, chroma after)."""
    return kind * _CLASS_CTX + ctx


def coef_table(kind: int, chroma: int, cls: np.ndarray, band: np.ndarray) -> np.ndarray:
    """Index of the level table for (kind, plane type, class ``1..13``, band)."""
    return ((kind * 2 + chroma) * (NUM_CLASSES - 1) + (cls - 1)) * NUM_BANDS + band


def default_weights() -> tuple[np.ndarray, np.ndarray]:
    """Prior integer weights before any training: ``(class (2*16, 14), levels (2*2*13*15, 256))``, int64.

    Classes: geometric in the class. Levels: a discrete Laplacian whose scale shrinks with the band.
    """
    cls = np.zeros((KINDS * _CLASS_CTX, NUM_CLASSES), dtype=np.int64)
    c = np.arange(NUM_CLASSES)
    for ctx in range(_CLASS_CTX):
        centre = min(ctx, 6) if ctx < NUM_GRAD else ctx - NUM_GRAD
        cls[ctx::_CLASS_CTX] = np.round(1e6 * 0.35 ** np.abs(c - centre)).astype(np.int64) + 1
    lev = np.zeros((KINDS * 2 * (NUM_CLASSES - 1) * NUM_BANDS, 2 * MAX_TABLE_HALF + 2), dtype=np.int64)
    for kind in range(KINDS):
        for chroma in range(2):
            for k in range(1, NUM_CLASSES):
                half = _half(k)
                v = np.arange(-half, half + 1)
                for band in range(NUM_BANDS):
                    scale = max(0.3, (1 << (k - 1)) * 0.7 ** band)
                    w = np.round(1e6 * np.exp(-np.abs(v) / scale)).astype(np.int64) + 1
                    row = lev[coef_table(kind, chroma, np.int64(k), np.int64(band))]
                    row[: w.size] = w
                    row[w.size] = 1  # escape
    return cls, lev


@dataclass(frozen=True)
class ResidualTables:
    """The integer tables of the residual coder (built from learned integer weights)."""

    classes: TableSet
    levels: TableSet

    @classmethod
    def from_weights(cls, class_weights: np.ndarray, level_weights: np.ndarray) -> ResidualTables:
        """Tables from integer weights: ``class_weights (2*16, 14)`` and ``level_weights (780, 256)`` (zero-padded
        rows, escape weight right after each table's values)."""
        cw = np.asarray(class_weights, dtype=np.int64)
        lw = np.asarray(level_weights, dtype=np.int64)
        if cw.shape != (KINDS * _CLASS_CTX, NUM_CLASSES) or lw.shape != (KINDS * 2 * (NUM_CLASSES - 1) * NUM_BANDS,
                                                                         2 * MAX_TABLE_HALF + 2):
            raise ValueError(f"residual table weights have shapes {cw.shape} and {lw.shape}")
        cfreq = normalize_weights(np.concatenate([np.maximum(cw, 1), np.ones((cw.shape[0], 1), np.int64)], axis=1))
        classes = TableSet.from_padded(cfreq, np.full(cw.shape[0], NUM_CLASSES + 1), np.zeros(cw.shape[0]))
        halves = np.array([_half(k) for k in range(1, NUM_CLASSES)], dtype=np.int64)
        half = np.tile(np.repeat(halves, NUM_BANDS), KINDS * 2)
        sizes = 2 * half + 2
        mask = np.arange(lw.shape[1])[None, :] < sizes[:, None]
        lfreq = normalize_weights(np.where(mask, np.maximum(lw, 1), 0), sizes=sizes)
        return cls(classes, TableSet.from_padded(lfreq, sizes, -half))


def transform(x: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Orthonormal DCT coefficients of the residual ``x - pred`` in YCoCg-R: ``(3, Bh, Bw, 8, 8)`` float64 (encoder).

    Args:
        x, pred: ``(H, W, 3)`` uint8 (or any integers).
    """
    d = np.asarray(x, dtype=np.int64) - np.asarray(pred, dtype=np.int64)
    return np.stack([forward_dct(to_blocks(p)) for p in rgb_to_ycocg(d[..., 0], d[..., 1], d[..., 2])])


#: Squared-error weight of each plane's errors (Y, Co, Cg) in the encoder's decisions: YCoCg-R errors mapped to
#: BT.709 luma, with a floor that keeps colour from being neglected.
PLANE_WEIGHTS = np.array([1.0, 0.25, 0.25])


def quantize_coeffs(coeffs: np.ndarray, steps: tuple[int, int], rounding: float = 0.5 - 1 / 6) -> np.ndarray:
    """Levels of :func:`transform` coefficients: ``sign(c) floor(|c| / step + rounding)``, int64, ``|level| <= 8191``.

    Args:
        coeffs: ``(3, Bh, Bw, 8, 8)``.
        steps: ``(luma, chroma)`` step codes (1/16 units of orthonormal DCT coefficients).
        rounding: dead-zone rounding offset (0.5 is plain rounding).
    """
    step = np.array([steps[0], steps[1], steps[1]], dtype=np.float64)[:, None, None, None, None] / 16.0
    q = np.minimum(np.floor(np.abs(coeffs) / step + rounding), MAX_LEVEL)
    return (np.sign(coeffs) * q).astype(np.int64)


def quantize(x: np.ndarray, pred: np.ndarray, steps: tuple[int, int], rounding: float = 0.5 - 1 / 6) -> np.ndarray:
    """Levels of the residual ``x - pred``: ``(3, Bh, Bw, 8, 8)`` int64 (planes Y, Co, Cg); see
    :func:`transform` and :func:`quantize_coeffs`."""
    return quantize_coeffs(transform(x, pred), steps, rounding)


def drop_costly_blocks(coeffs: np.ndarray, levels: np.ndarray, steps: tuple[int, int], grad_ctx: np.ndarray,
                       kind: int, tables: ResidualTables, lam: float) -> np.ndarray:
    """Zeroes the blocks whose levels cost more than they save (encoder rate-distortion decision).

    A block is kept when ``D_zero - D_coded > lam * (bits_coded - bits_zero)``, with distortions from the
    coefficients (orthonormal, so squared errors add up; weighted by :data:`PLANE_WEIGHTS`) and bits from the
    tables. Luma first; chroma then with the contexts the kept luma gives.

    Returns:
        The levels with the dropped blocks zeroed (a new array).
    """
    out = levels.copy()
    step = np.array([steps[0], steps[1], steps[1]], dtype=np.float64)[:, None, None, None, None] / 16.0
    gain = ((coeffs * coeffs) - (coeffs - levels * step) ** 2).sum(axis=(-2, -1)) * PLANE_WEIGHTS[:, None, None]
    for planes in ((0,), (1, 2)):
        classes = block_classes(out)
        ctx = class_table(kind, _class_contexts(grad_ctx, classes[0]))
        for p in planes:
            cls = classes[p]
            nz = cls > 0
            if not nz.any():
                continue
            zero_bits = tables.classes.log2_prob(np.zeros(int(nz.sum()), np.int64), ctx[p][nz])
            cls_bits = tables.classes.log2_prob(cls[nz], ctx[p][nz])
            idx = coef_table(kind, int(p > 0), cls[nz][:, None], _BAND[None, :])
            lev_bits = tables.levels.log2_prob(out[p][nz].reshape(-1), idx.reshape(-1)).reshape(-1, 64).sum(axis=1)
            drop = gain[p][nz] < lam * (cls_bits + lev_bits - zero_bits)
            sel = np.flatnonzero(nz.reshape(-1))[drop]
            out[p].reshape(-1, BLOCK, BLOCK)[sel] = 0
    return out


def reconstruct(levels: np.ndarray, pred: np.ndarray, steps: tuple[int, int]) -> np.ndarray:
    """The decoded view: ``clip(pred + residual, 0, 255)`` as ``(H, W, 3)`` uint8, exact integer arithmetic.

    Args:
        levels: ``(3, Bh, Bw, 8, 8)`` levels from :func:`quantize` or :func:`decode_levels`.
        pred: ``(H, W, 3)`` uint8 prediction.
        steps: ``(luma, chroma)`` step codes.
    """
    h, w = pred.shape[:2]
    planes = []
    for i in range(3):
        samples = np.zeros(levels[i].shape, dtype=np.int64)
        coded = levels[i].any(axis=(-2, -1))  # blocks of zeros stay zero: transform only the others
        samples[coded] = inverse_dct(levels[i][coded], steps[min(i, 1)])
        planes.append(from_blocks(samples, h, w))
    r, g, b = ycocg_to_rgb(*planes)
    out = np.asarray(pred, dtype=np.int64) + np.stack([r, g, b], axis=-1)
    return np.clip(out, 0, 255).astype(np.uint8)


def block_classes(levels: np.ndarray) -> np.ndarray:
    """``(3, Bh, Bw)`` block classes: bit length of each block's largest ``|level|``."""
    m = np.abs(levels).max(axis=(-2, -1))
    cls = np.zeros(m.shape, dtype=np.int64)
    nz = m > 0
    cls[nz] = np.floor(np.log2(m[nz])).astype(np.int64) + 1
    # exact bit length (floats may be off by one at powers of two)
    cls[nz] += (m[nz] >= (np.int64(1) << cls[nz])).astype(np.int64)
    cls[nz] -= (m[nz] < (np.int64(1) << (cls[nz] - 1))).astype(np.int64)
    return cls


def gradient_context(pred: np.ndarray, luma_step: int) -> np.ndarray:
    """``(Bh, Bw)`` luma block-class contexts from the prediction's gradient energy against the step (integers).

    The block's summed absolute horizontal and vertical differences of ``(R + 2G + B) / 4`` (times 4), scaled by
    the step, bucketed by bit length into ``0..NUM_GRAD-1``.
    """
    p = np.asarray(pred, dtype=np.int64)
    y = p[..., 0] + 2 * p[..., 1] + p[..., 2]
    g = np.zeros_like(y)
    g[:, :-1] += np.abs(np.diff(y, axis=1))
    g[:-1, :] += np.abs(np.diff(y, axis=0))
    s = to_blocks(g).sum(axis=(-2, -1))
    a = (s * 16) // (np.int64(luma_step) * 64 * 4)
    ctx = np.zeros(a.shape, dtype=np.int64)
    nz = a > 0
    ctx[nz] = np.minimum(np.floor(np.log2(a[nz])).astype(np.int64) + 1, NUM_GRAD - 1)
    return ctx


def _class_contexts(grad_ctx: np.ndarray, luma_classes: np.ndarray) -> np.ndarray:
    chroma = NUM_GRAD + np.minimum(luma_classes, NUM_CHROMA_CTX - 1)
    return np.stack([grad_ctx, chroma, chroma])


def _level_index(kind: int, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mask of coded blocks ``(3, Bh, Bw)`` and the table index of each coded level (in block order)."""
    coded = classes > 0
    plane = np.broadcast_to(np.arange(3)[:, None, None], classes.shape)[coded]
    cls = classes[coded]
    chroma = (plane > 0).astype(np.int64)
    idx = coef_table(kind, chroma[:, None], cls[:, None], _BAND[None, :])
    return coded, idx.reshape(-1)


def encode_levels(enc: Encoder, levels: np.ndarray, grad_ctx: np.ndarray, kind: int, tables: ResidualTables) -> None:
    """Codes ``(3, Bh, Bw, 8, 8)`` levels: block classes, then the levels of non-zero blocks."""
    classes = block_classes(levels)
    ctx = _class_contexts(grad_ctx, classes[0])
    encode_indexed(enc, classes[0].reshape(-1), class_table(kind, ctx[0]).reshape(-1), tables.classes)
    encode_indexed(enc, classes[1:].reshape(-1), class_table(kind, ctx[1:]).reshape(-1), tables.classes)
    coded, idx = _level_index(kind, classes)
    encode_indexed(enc, levels[coded].reshape(-1), idx, tables.levels)


def decode_levels(dec: Decoder, shape: tuple[int, int], grad_ctx: np.ndarray, kind: int,
                  tables: ResidualTables) -> np.ndarray:
    """Inverse of :func:`encode_levels` for ``shape = (Bh, Bw)`` blocks per plane.

    Raises:
        CorruptStreamError: a class or level outside what the coder writes.
    """
    bh, bw = shape
    luma = decode_indexed(dec, class_table(kind, grad_ctx).reshape(-1), tables.classes).reshape(bh, bw)
    if luma.min() < 0 or luma.max() >= NUM_CLASSES:
        raise CorruptStreamError("residual block class out of range")
    ctx = _class_contexts(grad_ctx, luma)
    chroma = decode_indexed(dec, class_table(kind, ctx[1:]).reshape(-1), tables.classes).reshape(2, bh, bw)
    if chroma.min() < 0 or chroma.max() >= NUM_CLASSES:
        raise CorruptStreamError("residual block class out of range")
    classes = np.concatenate([luma[None], chroma])
    coded, idx = _level_index(kind, classes)
    values = decode_indexed(dec, idx, tables.levels)
    if values.size and np.abs(values).max() > MAX_LEVEL:
        raise CorruptStreamError("residual level out of range")
    levels = np.zeros((3, bh, bw, BLOCK, BLOCK), dtype=np.int64)
    levels[coded] = values.reshape(-1, BLOCK, BLOCK)
    return levels


def count_symbols(levels: np.ndarray, grad_ctx: np.ndarray, kind: int) -> tuple[np.ndarray, np.ndarray]:
    """Symbol counts of one coded residual, shaped like the weights of :meth:`ResidualTables.from_weights` (for
    learning the tables): ``(class counts, level counts)``, int64; levels beyond a table's range count as its
    escape."""
    classes = block_classes(levels)
    ctx = class_table(kind, _class_contexts(grad_ctx, classes[0]))
    cc = np.zeros((KINDS * _CLASS_CTX, NUM_CLASSES), dtype=np.int64)
    np.add.at(cc, (ctx.reshape(-1), classes.reshape(-1)), 1)
    coded, idx = _level_index(kind, classes)
    values = levels[coded].reshape(-1)
    halves = np.array([_half(k) for k in range(1, NUM_CLASSES)], dtype=np.int64)
    half = np.tile(np.repeat(halves, NUM_BANDS), KINDS * 2)[idx]
    col = np.where(np.abs(values) > half, 2 * half + 1, values + half)
    lc = np.zeros((KINDS * 2 * (NUM_CLASSES - 1) * NUM_BANDS, 2 * MAX_TABLE_HALF + 2), dtype=np.int64)
    np.add.at(lc, (idx, col), 1)
    return cc, lc
