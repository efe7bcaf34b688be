"""Coding of values outside a table's range (after its escape symbol): an Exp-Golomb-like code through the coder.

A non-negative integer ``z`` is written as ``m = z + 1`` with ``L`` = bit length of ``m``: first all the ``L - 1``
values (one symbol each, under a fixed geometric table, so ``L - 1 = j`` costs about ``j + 1`` bits, as
Exp-Golomb's unary prefix does), then the ``L - 1`` bits of ``m`` below its leading one, most significant first,
as equiprobable binary symbols. Two coder calls per block of values whatever its size, no loop per value; the
decoder learns the bit count from the lengths before it reads the bits.

Signed overflows are folded with :func:`zigzag` (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...).
"""

from __future__ import annotations

import numpy as np

from ..errors import CorruptStreamError, InputError
from .coder import Decoder, Encoder
from .tables import PROB_BITS, normalize_weights

__all__ = ["encode_overflow", "decode_overflow", "zigzag", "unzigzag", "MAX_OVERFLOW_BITS", "LENGTH_FREQS"]

MAX_OVERFLOW_BITS = 48
"""Values up to ``2**MAX_OVERFLOW_BITS - 2`` can be written."""

LENGTH_FREQS = normalize_weights(np.int64(1) << np.arange(MAX_OVERFLOW_BITS, 0, -1, dtype=np.int64))
"""``(MAX_OVERFLOW_BITS,)`` int32 table of ``L - 1`` (weights ``2**-(j+1)``, integer-normalised)."""
_BIT_FREQS = np.array([1 << (PROB_BITS - 1), 1 << (PROB_BITS - 1)], dtype=np.int32)


def zigzag(v: np.ndarray) -> np.ndarray:
    """Signed int64 -> non-negative int64: ``2v`` for ``v >= 0``, ``-2v - 1`` for ``v < 0``."""
    v = np.asarray(v, dtype=np.int64)
    return np.where(v >= 0, 2 * v, -2 * v - 1)


def unzigzag(z: np.ndarray) -> np.ndarray:
    """Inverse of :func:`zigzag`."""
    z = np.asarray(z, dtype=np.int64)
    return np.where(z & 1 == 0, z >> 1, -(z >> 1) - 1)


def _bit_length(m: np.ndarray) -> np.ndarray:
    # frexp is exact for integers below 2**53: m = f * 2**e with f in [0.5, 1), so e is the bit length.
    return np.frexp(m.astype(np.float64))[1].astype(np.int64)


def encode_overflow(enc: Encoder, z: np.ndarray) -> None:
    """Writes non-negative integers.

    Args:
        enc: an encoder.
        z: ``(m,)`` integers in ``[0, 2**MAX_OVERFLOW_BITS - 1)``.

    Raises:
        InputError: a value out of range.
    """
    z = np.asarray(z, dtype=np.int64).reshape(-1)
    if z.size == 0:
        return
    if z.min() < 0 or z.max() >= (1 << MAX_OVERFLOW_BITS) - 1:
        raise InputError(f"overflow values must be in [0, 2**{MAX_OVERFLOW_BITS} - 1)")
    m = z + 1
    nbits = _bit_length(m) - 1
    enc.encode(nbits, LENGTH_FREQS)
    total = int(nbits.sum())
    if total:
        owner = np.repeat(np.arange(m.size), nbits)
        first = np.cumsum(nbits) - nbits
        shift = nbits[owner] - 1 - (np.arange(total) - first[owner])
        enc.encode((m[owner] >> shift) & 1, _BIT_FREQS)


def decode_overflow(dec: Decoder, count: int) -> np.ndarray:
    """Reads ``count`` integers written by :func:`encode_overflow`.

    Returns:
        ``(count,)`` int64, non-negative.

    Raises:
        BitstreamError: the data cannot be decoded.
    """
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    nbits = dec.decode(LENGTH_FREQS, count)
    total = int(nbits.sum())
    m = np.int64(1) << nbits
    if total:
        if total > 64 * count:  # cannot happen for in-range lengths; guards memory on damaged data
            raise CorruptStreamError("overflow bit count beyond its limit")
        bits = dec.decode(_BIT_FREQS, total)
        owner = np.repeat(np.arange(count), nbits)
        first = np.cumsum(nbits) - nbits
        shift = nbits[owner] - 1 - (np.arange(total) - first[owner])
        np.add.at(m, owner, bits << shift)
    return m - 1
