"""Entropy coding: arithmetic coders behind one small interface, integer probability tables, and entropy models.

Layers, bottom up:

* :mod:`~omnicodec.entropy.tables`: deterministic float -> integer tables (:func:`quantize_probs`,
  :func:`freqs_from_counts`, :func:`binary_freqs`); rows of ``K`` entries ``>= 1`` summing to ``2**PROB_BITS``.
* :mod:`~omnicodec.entropy.coder`: :func:`get_coder` (``"constriction"`` default, ``"torchac"`` optional), whose
  encoders take ``(symbols, tables)`` and whose decoders mirror the calls.
* models on top: :mod:`~omnicodec.entropy.discrete` (binary, categorical), :class:`FactorizedPrior`,
  :class:`GaussianConditional`, all coding through an encoder/decoder so that one stream can hold several.

Torch is imported only by the learned models (``FactorizedPrior``, ``GaussianConditional``), lazily.
"""

from __future__ import annotations

from .coder import CODER_IDS, Coder, Decoder, Encoder, get_coder
from .discrete import decode_binary, decode_categorical, encode_binary, encode_categorical
from .overflow import decode_overflow, encode_overflow
from .table_set import TableSet, decode_indexed, encode_indexed
from .tables import (
    MAX_SYMBOLS,
    PROB_BITS,
    binary_freqs,
    check_freqs,
    freqs_from_counts,
    ideal_bits,
    quantize_probs,
)

__all__ = [
    "PROB_BITS",
    "MAX_SYMBOLS",
    "CODER_IDS",
    "Coder",
    "Encoder",
    "Decoder",
    "get_coder",
    "quantize_probs",
    "freqs_from_counts",
    "binary_freqs",
    "check_freqs",
    "ideal_bits",
    "encode_binary",
    "decode_binary",
    "encode_categorical",
    "decode_categorical",
    "TableSet",
    "encode_indexed",
    "decode_indexed",
    "encode_overflow",
    "decode_overflow",
    "FactorizedPrior",
    "GaussianConditional",
]


def __getattr__(name: str):
    # The torch-based models load on first use so that `import omnicodec.entropy` stays light.
    if name == "FactorizedPrior":
        from .factorized import FactorizedPrior

        return FactorizedPrior
    if name == "GaussianConditional":
        from .gaussian import GaussianConditional

        return GaussianConditional
    raise AttributeError(f"module 'omnicodec.entropy' has no attribute {name!r}")
