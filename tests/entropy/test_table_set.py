"""Escape/overflow coding and indexed tables: every integer is lossless, whatever the table."""

from __future__ import annotations

import numpy as np
import pytest

from omnicodec.entropy import (
    TableSet,
    decode_binary,
    decode_categorical,
    decode_indexed,
    decode_overflow,
    encode_binary,
    encode_categorical,
    encode_indexed,
    encode_overflow,
    quantize_probs,
)
from omnicodec.entropy.overflow import unzigzag, zigzag
from omnicodec.entropy.table_set import MAX_ABS_VALUE
from omnicodec.errors import InputError


def small_tables() -> TableSet:
    padded = np.zeros((3, 5), dtype=np.int64)
    padded[0, :3] = quantize_probs(np.array([0.2, 0.7, 0.1]))
    padded[1, :5] = quantize_probs(np.array([0.1, 0.2, 0.4, 0.2, 0.1]))
    padded[2, :2] = quantize_probs(np.array([0.9, 0.1]))
    return TableSet.from_padded(padded, sizes=[3, 5, 2], lo=[-1, 10, -(2**20)])


def test_zigzag_inverse():
    v = np.array([0, -1, 1, -2, 2, -(2**40), 2**40])
    np.testing.assert_array_equal(zigzag(v)[:5], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(unzigzag(zigzag(v)), v)


def test_overflow_roundtrip(coder):
    z = np.array([0, 1, 2, 3, 7, 8, 1000, 2**31, 2**47 - 5, 0])
    enc = coder.encoder()
    encode_overflow(enc, z)
    encode_overflow(enc, np.zeros(0, dtype=np.int64))
    dec = coder.decoder(enc.finish())
    np.testing.assert_array_equal(decode_overflow(dec, len(z)), z)
    assert decode_overflow(dec, 0).shape == (0,)
    dec.finish()
    with pytest.raises(InputError):
        encode_overflow(coder.encoder(), np.array([-1]))


def test_indexed_roundtrip_with_tails(coder, rng):
    tables = small_tables()
    n = 5000
    index = rng.integers(0, 3, n)
    values = tables.lo[index] + rng.integers(0, 3, n)
    # tails: far below, far above, the extremes
    values[:8] = [-5, 2, 100, -100, MAX_ABS_VALUE, -MAX_ABS_VALUE, 0, 9]
    enc = coder.encoder()
    encode_indexed(enc, values, index, tables)
    dec = coder.decoder(enc.finish())
    np.testing.assert_array_equal(decode_indexed(dec, index, tables), values)
    dec.finish()


def test_indexed_rejects(coder):
    tables = small_tables()
    enc = coder.encoder()
    with pytest.raises(InputError):
        encode_indexed(enc, np.array([MAX_ABS_VALUE + 1]), np.array([0]), tables)
    with pytest.raises(InputError):
        encode_indexed(enc, np.array([0, 1]), np.array([0, 3]), tables)
    with pytest.raises(InputError):
        encode_indexed(enc, np.array([0.5]), np.array([0]), tables)
    with pytest.raises(InputError):
        TableSet(np.array([1], dtype=np.int32), np.array([0, 1]), np.array([0]))  # no room for the escape


def test_tableset_bits_and_checksum():
    tables = small_tables()
    bits = tables.log2_prob(np.array([0, 1000]), np.array([0, 0]))
    assert bits[0] == pytest.approx(-np.log2(tables.table(0)[1] / 65536))
    assert bits[1] == pytest.approx(-np.log2(tables.table(0)[-1] / 65536))  # escape
    assert tables.checksum() == small_tables().checksum()


def test_binary_and_categorical_helpers(coder, rng):
    n = 3000
    p1 = rng.random(n).astype(np.float32)
    bits = rng.random(n) < p1
    probs = rng.random((n, 6))
    symbols = rng.integers(0, 6, n)
    shared = np.array([0.5, 0.25, 0.25])
    enc = coder.encoder()
    encode_binary(enc, bits, p1)
    encode_binary(enc, bits[:10], 0.3)
    encode_categorical(enc, symbols, probs)
    encode_categorical(enc, symbols % 3, shared)
    dec = coder.decoder(enc.finish())
    np.testing.assert_array_equal(decode_binary(dec, p1), bits)
    np.testing.assert_array_equal(decode_binary(dec, 0.3, 10), bits[:10])
    np.testing.assert_array_equal(decode_categorical(dec, probs), symbols)
    np.testing.assert_array_equal(decode_categorical(dec, shared, n), symbols % 3)
    dec.finish()
    with pytest.raises(InputError):
        encode_binary(coder.encoder(), np.array([0, 2]), 0.5)
    with pytest.raises(InputError):
        encode_categorical(coder.encoder(), np.array([0]), np.ones(257))
