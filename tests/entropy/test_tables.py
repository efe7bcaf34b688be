"""Integer tables: validity, exact determinism, and the errors on bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from omnicodec.entropy import (
    MAX_SYMBOLS,
    PROB_BITS,
    binary_freqs,
    check_freqs,
    freqs_from_counts,
    ideal_bits,
    quantize_probs,
)
from omnicodec.entropy.tables import normalize_weights
from omnicodec.errors import InputError

ONE = 1 << PROB_BITS


def assert_valid(freqs: np.ndarray) -> None:
    assert freqs.dtype == np.int32
    assert freqs.min() >= 1
    assert (freqs.sum(axis=-1) == ONE).all()


def test_quantize_probs_valid_and_close(rng):
    probs = rng.dirichlet(np.ones(7) * 0.3, size=500)
    freqs = quantize_probs(probs)
    assert freqs.shape == probs.shape
    assert_valid(freqs)
    # within one unit (plus the 24-bit weight grid's error) of the ideal share of the budget left after the floors
    ideal = 1 + probs / probs.sum(-1, keepdims=True) * (ONE - 7)
    assert np.abs(freqs - ideal).max() < 1.01


def test_quantize_probs_tiny_zero_and_unnormalised():
    freqs = quantize_probs(np.array([[0.0, 1e-300, 5.0, 5.0], [0, 0, 0, 0], [3, 1, 0, 0]]))
    assert_valid(freqs)
    assert freqs[0, 0] == 1 and freqs[0, 1] == 1 and freqs[0, 2] == freqs[0, 3] == (ONE - 2) // 2
    np.testing.assert_array_equal(freqs[1], [ONE // 4] * 4)  # an all-zero row is uniform
    assert abs(freqs[2, 0] - 3 * freqs[2, 1]) <= 3


def test_quantize_probs_float32_equals_float64_of_same_values(rng):
    p32 = rng.random((100, 5)).astype(np.float32)
    np.testing.assert_array_equal(quantize_probs(p32), quantize_probs(p32.astype(np.float64)))


def test_quantize_probs_golden():
    """Pinned output: a change in the quantisation rule changes every model's stream."""
    x = np.linspace(0.0, 1.0, 64 * 9).reshape(64, 9) ** 3
    digest = hashlib.sha256(quantize_probs(x).astype("<i4").tobytes()).hexdigest()
    assert digest == GOLDEN_QUANTIZE


GOLDEN_QUANTIZE = "a53cc398ce9d13022e1700c48a54cdc44b0e636b7ca1d0f2125018d3af32df73"


@pytest.mark.parametrize("bad", [np.array([0.5, np.nan]), np.array([0.5, -0.1]), np.array([np.inf, 1.0]), 0.5])
def test_quantize_probs_rejects(bad):
    with pytest.raises(InputError):
        quantize_probs(bad)


def test_quantize_probs_too_many_symbols():
    with pytest.raises(InputError):
        quantize_probs(np.ones(9), prob_bits=3)


def test_freqs_from_counts_integer_rule():
    counts = np.array([[0, 0], [10, 0], [1000, 3000], [2**40, 1], [0, 2**60]])
    freqs = freqs_from_counts(counts)
    assert_valid(freqs)
    assert freqs[0, 0] == freqs[0, 1] == ONE // 2
    # KT estimator: (2*10 + 1) : 1
    assert abs(freqs[1, 0] / freqs[1, 1] - 21) < 0.5
    assert abs(freqs[2, 1] / freqs[2, 0] - 6001 / 2001) < 0.01
    assert freqs[3, 1] == 1 and freqs[4, 0] == 1


def test_freqs_from_counts_rejects():
    with pytest.raises(InputError):
        freqs_from_counts(np.array([1.0, 2.0]))
    with pytest.raises(InputError):
        freqs_from_counts(np.array([-1, 2]))


def test_normalize_weights_ragged_rows():
    w = np.array([[5, 5, 0, 0], [1, 2, 3, 4]])
    freqs = normalize_weights(w, sizes=np.array([2, 4]))
    np.testing.assert_array_equal(freqs[0], [ONE // 2, ONE // 2, 0, 0])
    assert freqs[1].sum() == ONE and freqs[1].min() >= 1


def test_binary_freqs():
    freqs = binary_freqs(np.array([0.0, 0.25, 1.0, 0.5]))
    np.testing.assert_array_equal(freqs[:, 1], [1, ONE // 4, ONE - 1, ONE // 2])
    assert_valid(freqs)
    assert binary_freqs(0.25).shape == (2,)
    with pytest.raises(InputError):
        binary_freqs(np.array([1.5]))


@pytest.mark.parametrize(
    "bad",
    [
        np.array([ONE - 1, 1, 0]),  # a zero entry
        np.array([ONE, 1]),  # sums to more
        np.array([[ONE // 2, ONE // 2], [ONE // 2, ONE // 2 - 1]]),  # one row short
        np.array([0.5, 0.5]),  # floats
        np.ones((2, 2, 2), dtype=np.int32),  # rank 3
        np.ones(MAX_SYMBOLS + 1, dtype=np.int32),  # alphabet too large
    ],
)
def test_check_freqs_rejects(bad):
    with pytest.raises(InputError):
        check_freqs(bad)


def test_ideal_bits():
    freqs = np.array([ONE // 4, 3 * ONE // 4])
    assert ideal_bits(np.array([0, 0, 1]), freqs) == pytest.approx(4 - np.log2(0.75))


def test_public_api_snapshot():
    import omnicodec.entropy as entropy

    expected = {
        "PROB_BITS", "MAX_SYMBOLS", "CODER_IDS", "Coder", "Encoder", "Decoder", "get_coder", "quantize_probs",
        "freqs_from_counts", "binary_freqs", "check_freqs", "ideal_bits", "encode_binary", "decode_binary",
        "encode_categorical", "decode_categorical", "TableSet", "encode_indexed", "decode_indexed", "encode_overflow",
        "decode_overflow", "FactorizedPrior", "GaussianConditional",
    }  # fmt: skip
    assert set(entropy.__all__) == expected
    assert all(getattr(entropy, name) is not None for name in expected)
    assert entropy.PROB_BITS == 16
