"""Coders: exact round trips, efficiency against the ideal, damaged data, misuse, and pinned stream bytes."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from omnicodec.entropy import (
    CODER_IDS,
    PROB_BITS,
    binary_freqs,
    freqs_from_counts,
    get_coder,
    ideal_bits,
    quantize_probs,
    torchac_coder,
)
from omnicodec.entropy import coder as coder_module
from omnicodec.errors import BitstreamError, InputError, TruncatedStreamError, UnsupportedVersionError

from .conftest import assert_roundtrip, load_coder

ONE = 1 << PROB_BITS


def random_binary(rng, n):
    p1 = rng.beta(0.5, 0.5, n)
    freqs = binary_freqs(p1)
    bits = (rng.random(n) < freqs[:, 1] / ONE).astype(np.int64)
    return bits, freqs


def random_categorical(rng, n, k, shared=False):
    """Symbols drawn from integer tables: one shared table, or per-symbol rows drawn from 1024 distinct tables."""
    if shared:
        freqs = quantize_probs(rng.dirichlet(np.ones(k) * 0.5))
        return rng.choice(k, n, p=freqs / ONE), freqs
    base = quantize_probs(rng.dirichlet(np.ones(k) * 0.5, size=min(n, 1024)))
    rows = rng.integers(0, len(base), n)
    freqs = base[rows]
    symbols = (np.cumsum(freqs, axis=1) <= rng.integers(0, ONE, n)[:, None]).sum(axis=1)
    return symbols.astype(np.int64), freqs


# --- round trips ------------------------------------------------------------------------------------------------


def test_mixed_calls_roundtrip(coder, rng):
    calls = []
    for size in (64, 1000, 65536, 1, 0, 300):
        calls.append(random_binary(rng, size))
        calls.append(random_categorical(rng, size, 11))
        calls.append(random_categorical(rng, size, 256, shared=True))
    calls.append((np.zeros(5, dtype=np.int64), np.array([ONE])))  # a one-symbol alphabet codes nothing
    calls.append((np.array([0, 1, 0]), np.array([1, ONE - 1])))  # extreme probabilities
    calls.append((np.array([1, 1, 1]), np.array([ONE - 1, 1])))
    assert_roundtrip(coder, calls)


def test_adaptive_chunks_roundtrip(coder, rng):
    """The octree pattern: counts updated between calls, tables from freqs_from_counts on both sides."""
    k, symbols = 8, rng.integers(0, 3, 20000)  # skewed: symbols 0..2 of 8
    enc = coder.encoder()
    counts = np.zeros(k, dtype=np.int64)
    for start in range(0, len(symbols), 2048):
        chunk = symbols[start : start + 2048]
        enc.encode(chunk, freqs_from_counts(counts))
        counts += np.bincount(chunk, minlength=k)
    data = enc.finish()
    assert len(data) * 8 < 1.8 * len(symbols)  # adapts to ~log2(3) bits after a uniform first chunk
    dec = coder.decoder(data)
    counts[:] = 0
    out = []
    for start in range(0, len(symbols), 2048):
        n = len(symbols[start : start + 2048])
        out.append(dec.decode(freqs_from_counts(counts), n))
        counts += np.bincount(out[-1], minlength=k)
    dec.finish()
    np.testing.assert_array_equal(np.concatenate(out), symbols)


def test_empty_stream(coder):
    data = coder.encoder().finish()
    dec = coder.decoder(data)
    assert dec.decode(np.array([ONE // 2, ONE // 2]), 0).shape == (0,)
    dec.finish()


def test_shared_table_equals_repeated_rows_constriction(rng):
    """A (K,) table and the same row repeated (n, K) give the same bytes: one model semantics."""
    coder = get_coder("constriction")
    symbols, freqs = random_categorical(rng, 5000, 40, shared=True)
    a, b = coder.encoder(), coder.encoder()
    a.encode(symbols, freqs)
    b.encode(symbols, np.tile(freqs, (len(symbols), 1)))
    assert a.finish() == b.finish()


def test_torchac_chunking(monkeypatch, rng):
    coder = load_coder("torchac")
    monkeypatch.setattr(torchac_coder, "_CHUNK_ENTRIES", 1000)  # forces many frames per call
    assert_roundtrip(coder, [random_categorical(rng, 3000, 9, shared=True), random_categorical(rng, 2000, 5)])


# --- efficiency -------------------------------------------------------------------------------------------------


def test_binary_1m_within_1_percent_of_ideal(coder, rng):
    bits, freqs = random_binary(rng, 1_000_000)
    data = assert_roundtrip(coder, [(bits, freqs)])
    ideal = ideal_bits(bits, freqs)
    assert len(data) * 8 <= ideal * 1.01


def test_categorical_1m_within_1_percent_of_ideal(coder, rng):
    per_symbol = random_categorical(rng, 1_000_000, 8)
    shared = random_categorical(rng, 1_000_000, 256, shared=True)
    for symbols, freqs in (per_symbol, shared):
        data = assert_roundtrip(coder, [(symbols, freqs)])
        assert len(data) * 8 <= ideal_bits(symbols, freqs) * 1.01


# --- damaged data -----------------------------------------------------------------------------------------------


def coded_sample(coder, rng):
    calls = [random_categorical(rng, 3000, 6), random_binary(rng, 4000), random_categorical(rng, 2000, 30, True)]
    enc = coder.encoder()
    for s, f in calls:
        enc.encode(s, f)
    return enc.finish(), calls


def decode_all(coder, data, calls):
    dec = coder.decoder(data)
    outs = [dec.decode(f, len(s)) for s, f in calls]
    dec.finish()
    return outs


def test_truncated_or_extended_raises(coder, rng):
    data, calls = coded_sample(coder, rng)
    for cut in sorted({1, 2, 3, 4, 5, 8, len(data) // 2, len(data) - 1}):
        with pytest.raises(BitstreamError):
            decode_all(coder, data[:-cut], calls)
    for extra in (b"\x00", b"\x01\x02\x03\x04", b"\xff" * 9):
        with pytest.raises(BitstreamError):
            decode_all(coder, data + extra, calls)
    with pytest.raises(TruncatedStreamError):
        decode_all(coder, b"", calls)


def test_corrupted_never_crashes(coder, rng):
    """Flipped bits: a BitstreamError, or symbols of the right count and range (never a crash or a hang)."""
    data, calls = coded_sample(coder, rng)
    for _ in range(40):
        damaged = bytearray(data)
        for pos in rng.integers(0, len(data), 3):
            damaged[pos] ^= 1 << int(rng.integers(8))
        try:
            outs = decode_all(coder, bytes(damaged), calls)
        except BitstreamError:
            continue
        for out, (s, f) in zip(outs, calls, strict=True):
            assert out.shape == s.shape and out.min() >= 0 and out.max() < f.shape[-1]
    for garbage in (b"\xff" * 64, bytes(range(256)), b"\x10" + b"\xff" * 64):
        try:
            decode_all(coder, garbage, calls)
        except BitstreamError:
            pass


def test_fewer_decode_calls_detected_by_finish(coder, rng):
    data, calls = coded_sample(coder, rng)
    dec = coder.decoder(data)
    s, f = calls[0]
    dec.decode(f, len(s))
    with pytest.raises(BitstreamError):
        dec.finish()


# --- misuse -----------------------------------------------------------------------------------------------------


def test_encode_misuse(coder):
    enc = coder.encoder()
    table = np.array([ONE // 2, ONE // 2])
    bad_calls = [
        (np.array([0, 2]), table),  # symbol >= K
        (np.array([-1, 0]), table),  # negative symbol
        (np.array([0.0, 1.0]), table),  # float symbols
        (np.array([0, 1]), np.array([ONE // 2, ONE // 2 - 1])),  # row does not sum to 2**16
        (np.array([0, 1]), np.array([ONE, 0])),  # zero entry
        (np.array([0, 1]), np.array([[ONE // 2, ONE // 2]] * 3)),  # rows != symbols
        (np.zeros((2, 2), dtype=np.int64), table),  # symbols not 1-D
    ]
    for symbols, freqs in bad_calls:
        with pytest.raises(InputError):
            enc.encode(symbols, freqs)
    enc.finish()
    with pytest.raises(InputError):
        enc.encode(np.array([0]), table)


def test_decode_misuse(coder):
    dec = coder.decoder(coder.encoder().finish())
    with pytest.raises(InputError):
        dec.decode(np.array([ONE // 2, ONE // 2]))  # n needed for a shared table
    with pytest.raises(InputError):
        dec.decode(np.array([[ONE // 2, ONE // 2]] * 3), n=2)
    with pytest.raises(InputError):
        dec.decode(np.array([ONE // 2, ONE // 2 + 1]), n=2)


def test_get_coder():
    assert get_coder("constriction") is get_coder(CODER_IDS["constriction"])
    assert get_coder("constriction").name == "constriction" and get_coder(1).id == 1
    assert CODER_IDS == {"constriction": 1, "torchac": 2}
    with pytest.raises(InputError):
        get_coder("zstd")
    with pytest.raises(UnsupportedVersionError):
        get_coder(99)
    with pytest.raises(InputError):
        get_coder(True)


def test_torchac_missing_names_the_extra(monkeypatch):
    monkeypatch.setattr(torchac_coder, "_state", {"error": "ModuleNotFoundError: No module named 'torchac'"})
    monkeypatch.delitem(coder_module._CODERS, "torchac", raising=False)
    with pytest.raises(InputError, match=r'pip install "omnicodec\[torchac\]"'):
        get_coder("torchac")
    with pytest.raises(InputError, match="torchac"):
        get_coder(2)


# --- pinned bytes -----------------------------------------------------------------------------------------------


def golden_calls():
    """A fixed input built without random numbers."""
    i = np.arange(500)
    f1 = (i * 131 % (ONE - 2)) + 1
    binary = ((i * 7919) % 11 < 4).astype(np.int64), np.stack([ONE - f1, f1], axis=1)
    counts = np.array([50, 3, 0, 12, 7, 1, 0, 9])
    categorical = (i * 5) % 8, freqs_from_counts(counts)
    return [binary, categorical, ((i * 3) % 8, np.tile(freqs_from_counts(counts[::-1]), (500, 1)))]


GOLDEN = {
    "constriction": "7f8be07c60ec148d1f63edd2e5b0123a06161857c723c3efb7f777a3bd8f2d7f",
    "torchac": "ca818eeca2a20351b205c9df41fb36e9457e73ae05d6a36a774e0f17d7e4a129",
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_bytes(name):
    """A coder version (or table rule) that changes stream bytes fails here: old streams may not decode."""
    data = assert_roundtrip(load_coder(name), golden_calls())
    assert hashlib.sha256(data).hexdigest() == GOLDEN[name]
