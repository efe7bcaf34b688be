"""Binary and categorical models: float probabilities in, integer tables made deterministically, coded.

Thin helpers over the coder interface for callers that hold float probabilities (a network's sigmoid or softmax).
Encoder and decoder must pass bit-identical floats; they then get identical tables on any machine
(:func:`~omnicodec.entropy.tables.binary_freqs`, :func:`~omnicodec.entropy.tables.quantize_probs`). Callers with
integer tables (counts, context models) call the coder directly.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .coder import Decoder, Encoder
from .tables import binary_freqs, quantize_probs, to_numpy

__all__ = ["encode_binary", "decode_binary", "encode_categorical", "decode_categorical", "MAX_CATEGORIES"]

MAX_CATEGORIES = 256
"""Largest alphabet of the categorical helpers."""


def encode_binary(enc: Encoder, bits: np.ndarray, p1: np.ndarray | float) -> None:
    """Codes bits, each with its probability of being one.

    Args:
        enc: an encoder.
        bits: ``(n,)`` zeros and ones (any integer or bool dtype).
        p1: ``(n,)`` floats in [0, 1], or one float shared by all bits.

    Raises:
        InputError: a value that is not a bit, a probability outside [0, 1], mismatched lengths.
    """
    b = to_numpy(bits).reshape(-1)
    if b.size and (b.dtype != np.bool_ and not np.issubdtype(b.dtype, np.integer)):
        raise InputError(f"bits must be integers or booleans, got {b.dtype}")
    p = to_numpy(p1)
    if p.ndim and p.reshape(-1).shape[0] != b.shape[0]:
        raise InputError(f"{b.shape[0]} bits but {p.size} probabilities")
    enc.encode(b.astype(np.int32), binary_freqs(p.reshape(-1) if p.ndim else p))


def decode_binary(dec: Decoder, p1: np.ndarray | float, n: int | None = None) -> np.ndarray:
    """Decodes bits coded by :func:`encode_binary`.

    Args:
        dec: a decoder.
        p1: the encoder's probabilities: ``(n,)``, or one float (then ``n`` is required).
        n: number of bits when ``p1`` is one float.

    Returns:
        ``(n,)`` uint8 bits.
    """
    p = to_numpy(p1)
    return dec.decode(binary_freqs(p.reshape(-1) if p.ndim else p), n).astype(np.uint8)


def _categorical_table(probs: np.ndarray) -> np.ndarray:
    p = to_numpy(probs)
    if p.ndim not in (1, 2):
        raise InputError(f"probs must have shape (K,) or (n, K), got {p.shape}")
    if p.shape[-1] > MAX_CATEGORIES:
        raise InputError(f"{p.shape[-1]} categories exceed the limit of {MAX_CATEGORIES}")
    return quantize_probs(p)


def encode_categorical(enc: Encoder, symbols: np.ndarray, probs: np.ndarray) -> None:
    """Codes symbols with float distributions (need not be normalised).

    Args:
        enc: an encoder.
        symbols: ``(n,)`` integers in ``[0, K)``.
        probs: ``(n, K)`` one distribution per symbol, or ``(K,)`` shared; ``K <= 256``.

    Raises:
        InputError: bad probabilities, symbols out of range, mismatched shapes.
    """
    enc.encode(to_numpy(symbols).reshape(-1), _categorical_table(probs))


def decode_categorical(dec: Decoder, probs: np.ndarray, n: int | None = None) -> np.ndarray:
    """Decodes symbols coded by :func:`encode_categorical` with the same probabilities.

    Returns:
        ``(n,)`` int64 symbols.
    """
    return dec.decode(_categorical_table(probs), n)
