"""The entropy model of the attribute codec: context bins, learned prior tables, and their adaptation to the cloud.

A coded value (a prediction residual, quantised in lossy mode) belongs to a **group** (what it is: luma or chroma
of a colour, or a scalar such as intensity; lossless or lossy) and gets a **context** from what the decoder
already knows (:func:`contexts`):

* the *activity*: how far the point's predictors lie from the prediction (their weighted mean absolute
  deviation), in quantiser steps;
* for luma and scalars, the weighted mean size of the predictors' own coded values (how noisy the neighbourhood
  was); for chroma, the size of the same point's luma value, just decoded, and the predictors' coded chroma sizes.

Each is binned on a half-octave scale, ``bin(x) = min(floor(2 log2(1 + x)), cap)``: 16 x 8 = 128 contexts for luma
and scalars, 16 x 8 x 8 = 1024 for chroma (:data:`GROUP_CONTEXTS`).

**Learned prior.** One table per (group, context): the counts of the values that training clouds gave in that
context (``tools/train_attributes.py``), smoothed by a discrete Laplacian, stored as integer weights in the model
zoo (kind ``attributes``).

**Adaptation.** The coder starts every context from its learned table, worth :data:`PRIOR_COUNT` observations, and
adds the values it codes, step by step (:class:`AdaptiveTables`): a clean scan and a noisy one end up with their
own statistics, and no table travels in the stream. Integers only, so every machine builds the same tables.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np

from .. import zoo
from ..entropy import TableSet
from ..entropy.tables import normalize_weights
from ..errors import ModelError

__all__ = ["GROUPS", "GROUP_CONTEXTS", "HALF", "AttributeModel", "AdaptiveTables", "contexts", "chroma_contexts",
           "bin_log", "prior_weights", "count_values", "KIND", "DEFAULT_MODEL", "load_model", "model_to_bytes",
           "model_loader", "PRIOR_COUNT"]

GROUPS = ("luma", "chroma", "scalar", "luma_lossy", "chroma_lossy", "scalar_lossy")
"""Value groups."""
ACT_BINS = 16
SIDE_BINS = 8
CHROMA_BINS = 4
GROUP_CONTEXTS = tuple(ACT_BINS * SIDE_BINS * (CHROMA_BINS if g.startswith("chroma") else 1) for g in GROUPS)
"""Contexts (tables) of each group."""
_OFFSETS = np.concatenate([[0], np.cumsum(GROUP_CONTEXTS)]).astype(np.int64)
HALF = 127
"""Tables code ``-HALF .. HALF`` directly; other values go through the escape (lossless for any integer)."""
SYMBOLS = 2 * HALF + 2
PRIOR_COUNT = 256
"""How many observations a context's learned table is worth before the cloud's own values."""
_UNIT = 256  # weight of one observation
KIND = "attributes"
DEFAULT_MODEL = "attributes"

# (1 + x) at or above these thresholds gives bin k: thresholds 2**(k/2), as exact integers scaled by 2**16
_THRESHOLDS = np.array([int(np.floor(2.0 ** (k / 2) * (1 << 16))) for k in range(1, 40)], dtype=np.int64)


def bin_log(x16: np.ndarray, cap: int) -> np.ndarray:
    """``min(floor(2 log2(1 + x)), cap)`` for ``x = x16 / 16`` (non-negative integers), exactly, in integers."""
    v = (np.asarray(x16, dtype=np.int64) + 16) << 12  # (1 + x) * 2**16
    return np.minimum(np.searchsorted(_THRESHOLDS, v, side="right"), cap).astype(np.int64)


def contexts(activity16: np.ndarray, side16: np.ndarray) -> np.ndarray:
    """Luma and scalar contexts from the activity and the side information, both in 1/16 quantiser steps."""
    return bin_log(activity16, ACT_BINS - 1) * SIDE_BINS + bin_log(side16, SIDE_BINS - 1)


def chroma_contexts(activity16: np.ndarray, luma16: np.ndarray, side16: np.ndarray) -> np.ndarray:
    """Chroma contexts: activity, the point's luma value size and the predictors' chroma value sizes."""
    return contexts(activity16, luma16) * CHROMA_BINS + bin_log(side16, CHROMA_BINS - 1)


def prior_weights() -> np.ndarray:
    """``(sum(GROUP_CONTEXTS), SYMBOLS)`` integer weights before training: discrete Laplacians whose scale follows
    the context's bins (escape last, small)."""
    v = np.abs(np.arange(-HALF, HALF + 1, dtype=np.float64))
    rows = []
    for g, n in zip(GROUPS, GROUP_CONTEXTS, strict=True):
        for c in range(n):
            bins = divmod(c, SIDE_BINS) if not g.startswith("chroma") else divmod(c // CHROMA_BINS, SIDE_BINS)
            scale = 0.35 * 2.0 ** (max(bins) / 2)
            p = np.exp(-v / scale)
            p = np.append(p / p.sum(), 1e-6)
            rows.append(np.floor(p * 1e9).astype(np.int64) + 1)
    return np.stack(rows)


def _tables(weights: np.ndarray) -> TableSet:
    freqs = normalize_weights(np.asarray(weights, dtype=np.int64))
    t, k = freqs.shape
    return TableSet.from_padded(freqs, np.full(t, k), np.full(t, -HALF))


class AttributeModel:
    """The learned prior tables of every group.

    Attributes:
        weights: ``(sum(GROUP_CONTEXTS), SYMBOLS)`` int64 integer weights (trained counts plus prior).
        sha256: of the weights file, when loaded from the zoo ("" otherwise).

    A model with another group layout (:class:`~.attr_raht_model.RahtModel`) subclasses it with its own
    ``offsets`` (first row of each group, then the row count) and ``label``.
    """

    offsets = _OFFSETS
    label = "attribute"
    arrays: tuple[str, ...] = ("weights",)
    """The arrays of a model file, passed to the constructor by name."""

    def __init__(self, weights: np.ndarray, sha256: str = "") -> None:
        w = np.asarray(weights)
        if w.shape != (int(self.offsets[-1]), SYMBOLS) or not np.issubdtype(w.dtype, np.integer):
            raise ModelError(f"{self.label} model weights have shape {w.shape} and dtype {w.dtype}")
        if w.min() < 1 or w.max() > 1 << 40:
            raise ModelError(f"{self.label} model weights must be positive integers below 2**40")
        self.weights = w.astype(np.int64)
        self.sha256 = sha256
        freqs = normalize_weights(self.weights).astype(np.float64)
        self._bits = 16.0 - np.log2(freqs)
        total = self.weights.sum(axis=1, keepdims=True)
        self._prior = (self.weights * (PRIOR_COUNT * _UNIT)) // total + 1  # the learned table as pseudo-counts

    def group_rows(self, group: int) -> slice:
        return slice(int(self.offsets[group]), int(self.offsets[group + 1]))

    def symbol_bits(self, group: int) -> np.ndarray:
        """``(GROUP_CONTEXTS[group], SYMBOLS)`` float64 bits of each symbol under the learned tables of ``group``."""
        return self._bits[self.group_rows(group)]

    def prior(self, group: int) -> np.ndarray:
        """``(GROUP_CONTEXTS[group], SYMBOLS)`` int64 pseudo-counts (in units of 1/256 observation) of ``group``."""
        return self._prior[self.group_rows(group)]


class AdaptiveTables:
    """The tables of one group while a cloud is coded: the learned prior plus the values coded so far."""

    def __init__(self, model: AttributeModel, group: int) -> None:
        self.prior = model.prior(group)
        self.counts = np.zeros_like(self.prior)

    def tables_weights(self, ctx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The integer weights ``(U, SYMBOLS)`` of the contexts ``ctx`` uses (increasing order) and each value's
        row in them."""
        ctx = np.asarray(ctx).reshape(-1)
        present = np.zeros(len(self.counts), dtype=bool)
        present[ctx] = True
        used = np.flatnonzero(present)
        return self.prior[used] + self.counts[used] * _UNIT, (np.cumsum(present) - 1)[ctx]

    def tables(self, ctx: np.ndarray) -> tuple[TableSet, np.ndarray]:
        """A table set for the contexts ``ctx`` (those in use only, in increasing order) and each value's table index
        in it."""
        ctx = np.asarray(ctx).reshape(-1)
        present = np.zeros(len(self.counts), dtype=bool)
        present[ctx] = True
        used = np.flatnonzero(present)
        index = (np.cumsum(present) - 1)[ctx]  # rank of each context among those in use
        return _tables(self.prior[used] + self.counts[used] * _UNIT), index

    def update(self, values: np.ndarray, ctx: np.ndarray) -> None:
        """Add coded values to their contexts' counts."""
        self.counts += count_values(values, ctx, len(self.counts))


def count_values(values: np.ndarray, ctx: np.ndarray, contexts_in_group: int) -> np.ndarray:
    """``(contexts_in_group, SYMBOLS)`` histogram of values per context (escaped values in the last column)."""
    sym = np.asarray(values, dtype=np.int64) + HALF
    sym = np.where((sym < 0) | (sym > 2 * HALF), 2 * HALF + 1, sym)
    flat = np.asarray(ctx, dtype=np.int64) * SYMBOLS + sym
    return np.bincount(flat, minlength=contexts_in_group * SYMBOLS).reshape(contexts_in_group, SYMBOLS)


def model_to_bytes(weights: np.ndarray, cls: type[AttributeModel] = AttributeModel, **arrays: np.ndarray) -> bytes:
    """The ``.npz`` bytes of a model file of class ``cls`` (checked by building the model); ``arrays`` are the
    class's other arrays (:attr:`AttributeModel.arrays`)."""
    cls(weights, **arrays)
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v, np.int64) for k, v in {"weights": weights, **arrays}.items()})
    return buf.getvalue()


def model_loader(cls: type[AttributeModel]):
    """The zoo loader of ``cls`` models: file bytes -> model (:class:`ModelError` for foreign bytes)."""

    def from_bytes(data: bytes) -> AttributeModel:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                arrays = {k: z[k] for k in cls.arrays}
        except Exception as exc:  # noqa: BLE001 - numpy raises many types for foreign bytes
            raise ModelError(f"not a file of the {cls.label} model ({type(exc).__name__}: {exc})") from None
        return cls(**arrays, sha256=hashlib.sha256(data).hexdigest())

    return from_bytes


zoo.register_loader(KIND, model_loader(AttributeModel))


def load_model(name: str = DEFAULT_MODEL) -> AttributeModel:
    """The shipped model ``name`` (sha256-checked by the zoo).

    Raises:
        ModelError: the model is not installed, fails its checksum or cannot be read.
    """
    return zoo.load(name, kind=KIND)
