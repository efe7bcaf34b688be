"""Integer probability tables: the only form in which probabilities reach a coder.

A *frequency table* over an alphabet of ``K`` symbols is an integer array whose last axis has ``K`` entries, every
entry at least 1 and every row summing to ``2**PROB_BITS``. Symbol ``k`` then has probability
``freqs[..., k] / 2**PROB_BITS``, which is exact in binary floating point, so encoder and decoder agree bit for bit.

Everything here turns floats into integers in a machine-independent way: the only float operations are IEEE-754
basic operations (division, multiplication by powers of two, ``floor``), which are correctly rounded on every
platform; the rest is integer arithmetic. Equal input floats therefore give equal tables everywhere.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = [
    "PROB_BITS",
    "MAX_SYMBOLS",
    "quantize_probs",
    "freqs_from_counts",
    "binary_freqs",
    "check_freqs",
    "ideal_bits",
    "normalize_weights",
]

PROB_BITS = 16
"""Precision of the coders' probability tables: rows sum to ``2**PROB_BITS``."""

MAX_SYMBOLS = 1 << 15
"""Largest alphabet a coder accepts (symbols must fit in int16 for torchac)."""

# Resolution of the integer weights quantize_probs makes from floats (relative to the row's maximum). Coarse on
# purpose: 8 bits finer than the tables, which is plenty for rounding, while inputs that differ only in their last
# bits (a model evaluated on another machine) land on the same weights far more often than with a fine grid.
_WEIGHT_BITS = 24
_MAX_TOTAL_BITS = 45  # weights are shifted down until a row's total fits in this many bits


def to_numpy(x) -> np.ndarray:
    """A numpy view of an array-like; torch tensors (any device, with or without grad) are detached and copied."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def normalize_weights(weights: np.ndarray, prob_bits: int = PROB_BITS, sizes: np.ndarray | None = None) -> np.ndarray:
    """Scales non-negative integer weights to a frequency table, with integer arithmetic only.

    With ``W_k`` the running sum of the weights up to entry ``k`` (exclusive), ``total`` their sum and
    ``budget = 2**prob_bits - size``, entry ``k`` gets ``1 + B_{k+1} - B_k`` where ``B_k = round(W_k * budget /
    total)`` (half up). Every entry is at least 1 and within one unit of its exact share; rows sum exactly (no
    sorting, no float). Entries at or beyond a row's size (padding of ragged tables) get 0.

    Args:
        weights: ``(..., K)`` non-negative integers (any integer dtype).
        prob_bits: the rows' sum is ``2**prob_bits``.
        sizes: ``(...)`` number of valid entries per row (``1 <= size <= K``); ``None`` means ``K`` everywhere.

    Returns:
        ``(..., K)`` int32 table.

    Raises:
        InputError: a negative weight, or more symbols than ``2**prob_bits``.
    """
    w = np.asarray(weights)
    if w.ndim == 0 or not np.issubdtype(w.dtype, np.integer):
        raise InputError(f"weights must be an integer array with a symbol axis, got dtype {w.dtype} shape {w.shape}")
    if not 1 <= prob_bits <= 16:
        raise InputError(f"prob_bits must be in 1..16, got {prob_bits}")
    w = w.astype(np.int64)
    k = w.shape[-1]
    if sizes is None:
        size = np.full(w.shape[:-1], k, dtype=np.int64)
        valid = None
    else:
        size = np.broadcast_to(np.asarray(sizes, dtype=np.int64), w.shape[:-1])
        if size.size and (size.min() < 1 or size.max() > k):
            raise InputError(f"sizes must be in 1..{k}")
        valid = np.arange(k) < size[..., None]
        w = np.where(valid, w, 0)
    if w.size and w.min() < 0:
        raise InputError("weights must be non-negative")
    if size.size and size.max() > (1 << prob_bits):
        raise InputError(f"{int(size.max())} symbols do not fit a table of {prob_bits} bits")
    # Shift large rows down so that every total stays below 2**_MAX_TOTAL_BITS (then 2 * cum * budget < 2**62).
    limit_bits = _MAX_TOTAL_BITS - int(k).bit_length()
    row_max = w.max(axis=-1, keepdims=True)
    if row_max.size and row_max.max() >= 1 << limit_bits:
        shift = np.zeros_like(row_max)
        for j in range(64 - limit_bits):
            shift += (row_max >> (limit_bits + j)) > 0
        w = w >> shift
    cum = np.cumsum(w, axis=-1)
    total = cum[..., -1:]
    empty = total == 0  # an all-zero row is uniform over its valid entries
    if empty.any():
        ones = np.ones_like(w) if valid is None else valid.astype(np.int64)
        w = np.where(empty, ones, w)
        cum = np.cumsum(w, axis=-1)
        total = cum[..., -1:]
    budget = (1 << prob_bits) - size[..., None]
    bound = (2 * cum * budget + total) // (2 * total)  # B_{k+1}, rounded half up
    freqs = np.diff(bound, axis=-1, prepend=0)
    freqs += 1 if valid is None else valid
    return freqs.astype(np.int32)


def quantize_probs(probs: np.ndarray, prob_bits: int = PROB_BITS) -> np.ndarray:
    """Turns float probabilities into an integer frequency table, identically on every machine.

    Rows need not be normalised. Each row is divided by its maximum (one correctly rounded division per entry),
    scaled to 24-bit integers with ``floor``, and then scaled with integer arithmetic
    (:func:`normalize_weights`): every entry gets at least 1, the rest is shared in proportion to the weights.
    A row of zeros becomes uniform.

    Args:
        probs: ``(..., K)`` non-negative finite floats (float32 or float64; torch tensors are accepted).
        prob_bits: rows sum to ``2**prob_bits``.

    Returns:
        ``(..., K)`` int32 table, entries ``>= 1``.

    Raises:
        InputError: a negative, NaN or infinite probability, no symbol axis, or ``K > 2**prob_bits``.
    """
    p = to_numpy(probs)
    if p.ndim == 0 or p.shape[-1] == 0:
        raise InputError(f"probs needs a non-empty symbol axis, got shape {p.shape}")
    if not (np.issubdtype(p.dtype, np.floating) or np.issubdtype(p.dtype, np.integer)):
        raise InputError(f"probs must be real numbers, got dtype {p.dtype}")
    p = p.astype(np.float64)
    if p.size and not np.isfinite(p).all():
        raise InputError("probs must be finite")
    if p.size and p.min() < 0:
        raise InputError("probs must be non-negative")
    peak = p.max(axis=-1, keepdims=True)
    rel = np.divide(p, peak, out=np.zeros_like(p), where=peak > 0)
    weights = np.floor(rel * float(1 << _WEIGHT_BITS)).astype(np.int64)
    return normalize_weights(weights, prob_bits)


def freqs_from_counts(counts: np.ndarray, prob_bits: int = PROB_BITS) -> np.ndarray:
    """Frequency table of an adaptive model from symbol counts, with integer arithmetic only.

    ``freq_k`` is proportional to ``2 * count_k + 1`` (the Krichevsky-Trofimov estimator), at least 1, rows summing
    to ``2**prob_bits``. No float is involved, so encoder and decoder agree bit for bit.

    Args:
        counts: ``(..., K)`` non-negative integers (below ``2**62``).
        prob_bits: rows sum to ``2**prob_bits``.

    Returns:
        ``(..., K)`` int32 table.

    Raises:
        InputError: not integers, a negative count, or ``K > 2**prob_bits``.
    """
    c = np.asarray(counts)
    if c.ndim == 0 or c.shape[-1] == 0 or not np.issubdtype(c.dtype, np.integer):
        raise InputError(f"counts must be an integer array with a symbol axis, got dtype {c.dtype} shape {c.shape}")
    c = c.astype(np.int64)
    if c.size and (c.min() < 0 or c.max() >= (1 << 62)):
        raise InputError("counts must be in 0..2**62-1")
    return normalize_weights(2 * c + 1, prob_bits)


def binary_freqs(p1: np.ndarray, prob_bits: int = PROB_BITS) -> np.ndarray:
    """Binary tables from the probability of a one: ``f1 = clip(rint(p1 * 2**prob_bits), 1, 2**prob_bits - 1)``.

    Args:
        p1: ``(n,)`` (or any shape) probabilities of symbol 1, floats in [0, 1].
        prob_bits: rows sum to ``2**prob_bits``.

    Returns:
        ``(..., 2)`` int32 table ``[2**prob_bits - f1, f1]``.

    Raises:
        InputError: NaN or a value outside [0, 1].
    """
    p = to_numpy(p1).astype(np.float64)
    if p.size and (not np.isfinite(p).all() or p.min() < 0 or p.max() > 1):
        raise InputError("p1 must be probabilities in [0, 1]")
    one = 1 << prob_bits
    f1 = np.clip(np.rint(p * float(one)), 1, one - 1).astype(np.int32)
    return np.stack([one - f1, f1], axis=-1)


def check_freqs(freqs: np.ndarray, prob_bits: int = PROB_BITS) -> np.ndarray:
    """Validates a frequency table (1-D shared or 2-D per symbol) and returns it as C-contiguous int32.

    Args:
        freqs: ``(K,)`` or ``(n, K)`` integers, each ``>= 1``, rows summing to ``2**prob_bits``, ``K <= MAX_SYMBOLS``.

    Raises:
        InputError: any rule broken.
    """
    f = to_numpy(freqs)
    if f.ndim not in (1, 2) or f.shape[-1] == 0:
        raise InputError(f"freqs must have shape (K,) or (n, K) with K >= 1, got {f.shape}")
    if not np.issubdtype(f.dtype, np.integer):
        raise InputError(f"freqs must be integers (use quantize_probs), got dtype {f.dtype}")
    k = f.shape[-1]
    if k > MAX_SYMBOLS:
        raise InputError(f"alphabet of {k} symbols exceeds the limit of {MAX_SYMBOLS}")
    f = np.ascontiguousarray(f, dtype=np.int32)
    if f.size == 0:
        return f
    if f.min() < 1:
        raise InputError("every frequency must be >= 1 (a zero-probability symbol cannot be coded)")
    if k == 2 and f.ndim == 2:
        sums = f[:, 0].astype(np.int64) + f[:, 1]
    else:
        sums = f.sum(axis=-1, dtype=np.int64)
    one = 1 << prob_bits
    if f.ndim == 1:
        if int(sums) != one:
            raise InputError(f"table sums to {int(sums)}, expected 2**{prob_bits} = {one}")
    elif (sums != one).any():
        bad = int(np.flatnonzero(sums != one)[0])
        raise InputError(f"row {bad} of freqs sums to {int(sums[bad])}, expected 2**{prob_bits} = {one}")
    return f


def ideal_bits(symbols: np.ndarray, freqs: np.ndarray, prob_bits: int = PROB_BITS) -> float:
    """Information content ``-sum(log2(p))`` of symbols under integer tables, in bits.

    Args:
        symbols: ``(n,)`` integers in ``[0, K)``.
        freqs: ``(n, K)`` or shared ``(K,)`` frequency table.
    """
    s = np.asarray(symbols, dtype=np.int64).reshape(-1)
    f = np.asarray(freqs)
    picked = f[s] if f.ndim == 1 else np.take_along_axis(f, s[:, None], axis=1)[:, 0]
    return float(prob_bits * s.size - np.log2(picked.astype(np.float64)).sum())
