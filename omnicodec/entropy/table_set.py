"""Sets of integer tables over value ranges with an escape symbol, and the coding of integer values through them.

Table ``t`` codes the values ``lo[t] .. lo[t] + width[t] - 1`` directly (symbol ``v - lo[t]``); its last symbol,
``width[t]``, is the escape: any other value is coded as the escape, and after all the table symbols of a call the
escaped values follow (how far outside: ``lo - 1 - v`` below the range, ``v - hi - 1`` above it, zigzag-folded)
with :mod:`omnicodec.entropy.overflow`. So every integer value is lossless, whatever the table.

Each value names its table by an index (the channel for a factorized prior, the scale index for a Gaussian). Values
are grouped by table (a stable sort, known to the decoder because it knows the indices), so each table is one
shared-table coder call: a call per table in use, no table per symbol.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .coder import Decoder, Encoder
from .overflow import decode_overflow, encode_overflow, unzigzag, zigzag

__all__ = ["TableSet", "encode_indexed", "decode_indexed", "MAX_ABS_VALUE"]

MAX_ABS_VALUE = (1 << 31) - 1
"""Values coded through a table set must satisfy ``|v| <= MAX_ABS_VALUE``."""


@dataclass(frozen=True)
class TableSet:
    """Ragged integer tables, each ending with an escape symbol.

    Attributes:
        freqs: ``(sum(width + 1),)`` int32, table ``t`` at ``freqs[starts[t]:starts[t + 1]]``; each table's entries
            are ``>= 1`` and sum to ``2**PROB_BITS``.
        starts: ``(T + 1,)`` int64 offsets into ``freqs``, ``starts[0] = 0``.
        lo: ``(T,)`` int64 smallest value each table codes directly.
    """

    freqs: np.ndarray
    starts: np.ndarray
    lo: np.ndarray

    def __post_init__(self) -> None:
        t = self.lo.shape[0]
        if self.starts.shape != (t + 1,) or self.starts[0] != 0 or self.starts[-1] != self.freqs.shape[0]:
            raise InputError("inconsistent table set: starts do not match freqs and lo")
        if t and np.diff(self.starts).min() < 2:
            raise InputError("every table needs at least one value and the escape symbol")

    @classmethod
    def from_padded(cls, freqs: np.ndarray, sizes: np.ndarray, lo: np.ndarray) -> TableSet:
        """Builds from a padded ``(T, Kmax)`` table whose row ``t`` holds ``sizes[t]`` entries (escape included)."""
        freqs = np.asarray(freqs)
        sizes = np.asarray(sizes, dtype=np.int64)
        mask = np.arange(freqs.shape[1]) < sizes[:, None]
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return cls(freqs[mask].astype(np.int32), starts, np.asarray(lo, dtype=np.int64))

    @property
    def num_tables(self) -> int:
        return int(self.lo.shape[0])

    @property
    def width(self) -> np.ndarray:
        """``(T,)`` number of values each table codes directly (its escape excluded)."""
        return np.diff(self.starts) - 1

    def table(self, t: int) -> np.ndarray:
        """``(width[t] + 1,)`` int32 frequencies of table ``t``, escape last."""
        return self.freqs[self.starts[t] : self.starts[t + 1]]

    def checksum(self) -> str:
        """sha256 (hex) of the tables: equal checksums mean equal coding."""
        h = hashlib.sha256()
        for a in (self.freqs.astype("<i4"), self.starts.astype("<i8"), self.lo.astype("<i8")):
            h.update(a.tobytes())
        return h.hexdigest()

    def log2_prob(self, values: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Model bits of each value: ``-log2`` of its table probability (escaped values: the escape's only).

        Args:
            values: ``(n,)`` integers. index: ``(n,)`` table indices.

        Returns:
            ``(n,)`` float64 bits.
        """
        values = np.asarray(values, dtype=np.int64)
        index = np.asarray(index, dtype=np.int64)
        sym = values - self.lo[index]
        width = self.width[index]
        sym = np.where((sym < 0) | (sym >= width), width, sym)
        return 16.0 - np.log2(self.freqs[self.starts[index] + sym].astype(np.float64))


def _check_index(index: np.ndarray, n: int, tables: TableSet) -> np.ndarray:
    idx = np.asarray(index).reshape(-1)
    if idx.shape[0] != n or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise InputError(f"index must hold {n} integers, got {idx.dtype} {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= tables.num_tables):
        raise InputError(f"table index outside [0, {tables.num_tables})")
    # int16 indices let numpy's stable sort use radix sort (linear time).
    return idx.astype(np.int16 if tables.num_tables <= 1 << 15 else np.int64)


def _groups(index: np.ndarray, num_tables: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(index, kind="stable")
    counts = np.bincount(index, minlength=num_tables)
    return order, counts


def encode_indexed(enc: Encoder, values: np.ndarray, index: np.ndarray, tables: TableSet) -> None:
    """Codes integer values, each with the table its index names; any value is lossless (escape for the tails).

    Args:
        enc: an encoder.
        values: ``(n,)`` integers with ``|v| <= MAX_ABS_VALUE``.
        index: ``(n,)`` table indices in ``[0, T)``.
        tables: the table set.

    Raises:
        InputError: values out of range, a bad index, or mismatched lengths.
    """
    v = np.asarray(values).reshape(-1)
    if v.size and not np.issubdtype(v.dtype, np.integer):
        raise InputError(f"values must be integers, got {v.dtype}")
    v = v.astype(np.int64)
    if v.size and np.abs(v).max() > MAX_ABS_VALUE:
        raise InputError(f"values must satisfy |v| <= {MAX_ABS_VALUE}")
    idx = _check_index(index, v.shape[0], tables)
    order, counts = _groups(idx, tables.num_tables)
    v = v[order]
    t_sorted = idx[order].astype(np.int64)
    raw = v - tables.lo[t_sorted]
    width = tables.width[t_sorted]
    above = raw >= width
    escaped = (raw < 0) | above
    sym = np.where(escaped, width, raw)
    pos = 0
    for t in np.flatnonzero(counts):
        c = int(counts[t])
        enc.encode(sym[pos : pos + c], tables.table(int(t)))
        pos += c
    if escaped.any():
        # signed distance outside the range: -1, -2, ... below it; 0, 1, ... above it
        signed = raw - np.where(above, width, 0)
        encode_overflow(enc, zigzag(signed[escaped]))


def decode_indexed(dec: Decoder, index: np.ndarray, tables: TableSet) -> np.ndarray:
    """Decodes the values written by :func:`encode_indexed` with the same indices.

    Args:
        dec: a decoder.
        index: ``(n,)`` table indices, as given to the encoder.
        tables: the table set the encoder used.

    Returns:
        ``(n,)`` int64 values in the original order.

    Raises:
        BitstreamError: the data cannot be decoded.
    """
    idx = np.asarray(index).reshape(-1)
    idx = _check_index(idx, idx.shape[0], tables)
    order, counts = _groups(idx, tables.num_tables)
    sym = np.empty(idx.shape[0], dtype=np.int64)
    pos = 0
    for t in np.flatnonzero(counts):
        c = int(counts[t])
        sym[pos : pos + c] = dec.decode(tables.table(int(t)), c)
        pos += c
    t_sorted = idx[order].astype(np.int64)
    width = tables.width[t_sorted]
    v = tables.lo[t_sorted] + sym
    escaped = sym == width
    if escaped.any():
        signed = unzigzag(decode_overflow(dec, int(escaped.sum())))
        v[escaped] = tables.lo[t_sorted[escaped]] + signed + np.where(signed >= 0, width[escaped], 0)
    out = np.empty_like(v)
    out[order] = v
    return out
