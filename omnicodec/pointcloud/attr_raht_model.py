"""The entropy model of the RAHT attribute coder (:mod:`.attr_raht`): context bins, learned prior tables and their
adaptation.

A quantised transform coefficient belongs to a **group** (luma or chroma of a colour, or a scalar) and gets a
**context** from two decoder-side estimates of its size, in 1/16 quantiser steps (:func:`contexts`):

* the *texture*: the coefficient's scale times the mean absolute deviation of its predictors from the prediction;
* the *detail*: the coefficient's scale times the size of the coded residuals of the predicting parent-level nodes;

each binned on a half-octave scale (:func:`.attr_model.bin_log`), 16 x 8 = 128 contexts; chroma also bins the
size of the same coefficient's luma value (x 4 = 512).

The prior of each context is learned from training clouds (``tools/train_attributes_raht.py``) and shipped in the
model zoo (kind ``attributes_raht``); while a cloud is coded, each context adds the values coded in it
(:class:`~.attr_model.AdaptiveTables`). Integers only.
"""

from __future__ import annotations

import numpy as np

from .. import zoo
from .attr_model import HALF, SYMBOLS, AdaptiveTables, AttributeModel, bin_log, count_values, model_loader
from .attr_model import model_to_bytes as _model_to_bytes

__all__ = ["GROUPS", "GROUP_CONTEXTS", "RahtModel", "AdaptiveTables", "contexts", "chroma_contexts", "prior_weights",
           "count_values", "KIND", "DEFAULT_MODEL", "load_model", "model_to_bytes", "HALF", "SYMBOLS"]

GROUPS = ("luma", "chroma", "scalar")
ACT_BINS = 16
SIDE_BINS = 4
EARLIER_BINS = 4
LUMA_BINS = 4
GROUP_CONTEXTS = tuple(ACT_BINS * EARLIER_BINS * (LUMA_BINS if g == "chroma" else SIDE_BINS) for g in GROUPS)
_OFFSETS = np.concatenate([[0], np.cumsum(GROUP_CONTEXTS)]).astype(np.int64)
KIND = "attributes_raht"
DEFAULT_MODEL = "attributes_raht"


def contexts(texture16: np.ndarray, detail16: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """Luma and scalar contexts from the texture and detail estimates (1/16 quantiser steps) and the block's
    earlier-stage class ``earlier`` (0: first stage; 1 + min(sum of earlier |values|, 2))."""
    return (bin_log(texture16, ACT_BINS - 1) * SIDE_BINS + bin_log(detail16, SIDE_BINS - 1)) * EARLIER_BINS + earlier


def chroma_contexts(texture16: np.ndarray, luma16: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """Chroma contexts: texture, the coefficient's luma value size and the earlier-stage class."""
    return (bin_log(texture16, ACT_BINS - 1) * LUMA_BINS + bin_log(luma16, LUMA_BINS - 1)) * EARLIER_BINS + earlier


def prior_weights() -> np.ndarray:
    """``(sum(GROUP_CONTEXTS), SYMBOLS)`` integer weights before training: discrete Laplacians whose scale follows
    the context's texture bin (escape last, small)."""
    v = np.abs(np.arange(-HALF, HALF + 1, dtype=np.float64))
    rows = []
    for g, n in zip(GROUPS, GROUP_CONTEXTS, strict=True):
        for c in range(n):
            act = c // EARLIER_BINS // (LUMA_BINS if g == "chroma" else SIDE_BINS)
            scale = 0.15 * 2.0 ** (act / 2)
            p = np.exp(-v / scale)
            p = np.append(p / p.sum(), 1e-6)
            rows.append(np.floor(p * 1e9).astype(np.int64) + 1)
    return np.stack(rows)


class RahtModel(AttributeModel):
    """The prior tables of every RAHT group (the layout of :data:`GROUP_CONTEXTS`).

    Attributes:
        weights: ``(sum(GROUP_CONTEXTS), SYMBOLS)`` int64 integer weights.
        sha256: of the weights file when loaded from the zoo ("" otherwise).
    """

    offsets = _OFFSETS
    label = "RAHT attribute"


def model_to_bytes(weights: np.ndarray) -> bytes:
    """The ``.npz`` bytes of a model file (checked by building the model)."""
    return _model_to_bytes(weights, RahtModel)


zoo.register_loader(KIND, model_loader(RahtModel))


def load_model(name: str = DEFAULT_MODEL) -> RahtModel:
    """The shipped model ``name`` (sha256-checked by the zoo).

    Raises:
        ModelError: the model is not installed, fails its checksum or cannot be read.
    """
    return zoo.load(name, kind=KIND)
