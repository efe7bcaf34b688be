"""The learned entropy model of the wavelet image core: context groups, learned prior tables, reconstruction offsets.

A quantised wavelet coefficient belongs to a **group** (:func:`group_of`): its plane (luma, or one of the two
chroma planes), its level (the finest, the next, or any coarser one) and its checkerboard pass (0 or 1). Within a
group, its **context** is two binned activities (:mod:`.subband_coder` computes them from decoded values only):
16 x 16 = 256 contexts per group, times 3 in second-pass groups for the confidence of the sign prediction (the
value is coded with its sign flipped where the prediction says negative, :mod:`.subband_coder`). The coarse
approximation (``LL``) has a group of its own, one context.

**Learned prior.** One table per (group, context) over the values ``-HALF .. HALF`` plus an escape: the counts that
the training images gave at every rate point (``tools/train_image_contexts.py``), stored as integer weights in the
model zoo (kind ``image_contexts``). While an image is coded, the tables adapt to it (the point-cloud attribute
codec's :class:`~omnicodec.pointcloud.attr_model.AdaptiveTables`): integers only, identical on every machine.

**Reconstruction offsets.** A value ``q != 0`` is rebuilt at ``sign(q) (|q| + offset) step`` with an offset
learned per group, for ``|q| = 1`` and for ``|q| >= 2`` (the mean position of the training coefficients inside their
quantiser cell), in units of ``1/1024`` step. The encoder's rounding offset :data:`ROUNDING` belongs to the model.
"""

from __future__ import annotations

import numpy as np

from .. import zoo
from ..errors import ModelError
from ..pointcloud import attr_model
from ..pointcloud.attr_model import HALF, SYMBOLS, AttributeModel

__all__ = ["PLANE_CLASSES", "LEVEL_CLASSES", "CONTEXTS", "SIGN_LEVELS", "CONTEXTS_PER_GROUP", "GROUPS", "LL_GROUP",
           "SubbandModel", "group_of", "KIND", "DEFAULT_MODEL", "load_model", "model_to_bytes", "HALF", "SYMBOLS",
           "ROUNDING", "OFFSET_UNIT", "prior_weights"]

PLANE_CLASSES = 3
"""Luma, first chroma, second chroma."""
LEVEL_CLASSES = 3
"""The finest level, the next one, and every coarser one."""
PASSES = 2
CONTEXTS = 256
"""Activity contexts per detail group (16 bins of the first activity x 16 of the second)."""
SIGN_LEVELS = 3
"""Second-pass groups multiply their activity contexts by the confidence of the sign prediction: none, 1, 2 or more."""
DETAIL_GROUPS = PLANE_CLASSES * LEVEL_CLASSES * PASSES
LL_GROUP = DETAIL_GROUPS
"""The group of the coarse approximation's values (one context)."""
GROUPS = DETAIL_GROUPS + 1
CONTEXTS_PER_GROUP = tuple([CONTEXTS * (SIGN_LEVELS if g % PASSES else 1) for g in range(DETAIL_GROUPS)] + [1])
"""Contexts of each group: ``CONTEXTS`` in first-pass groups, ``CONTEXTS * SIGN_LEVELS`` in second-pass ones, 1 for
``LL``."""
ROUNDING = 0.35
"""The encoder quantises ``|x| / step`` to ``floor(|x| / step + ROUNDING)`` (a dead zone around zero)."""
OFFSET_UNIT = 1024
"""Reconstruction offsets are integers in units of ``1 / OFFSET_UNIT`` step."""
KIND = "image_contexts"
DEFAULT_MODEL = "image_wavelet"

_OFFSETS = np.concatenate([[0], np.cumsum(CONTEXTS_PER_GROUP)]).astype(np.int64)


def group_of(plane: int, level_from_finest: int, pass_: int) -> int:
    """The detail group of a plane (0 luma, 1 and 2 chroma), a level (0 = finest) and a pass (0 or 1)."""
    return (plane * LEVEL_CLASSES + min(level_from_finest, LEVEL_CLASSES - 1)) * PASSES + pass_


def prior_weights() -> np.ndarray:
    """Untrained tables: a discrete Laplacian whose scale grows with the context's first activity bin."""
    rows = []
    v = np.abs(np.arange(-HALF, HALF + 1, dtype=np.float64))
    for g in range(DETAIL_GROUPS):
        for ctx in range(CONTEXTS_PER_GROUP[g]):
            scale = 0.3 * 2.0 ** ((ctx % CONTEXTS // 16) / 2)
            p = np.exp(-v / scale)
            p = np.append(p / p.sum(), 1e-6)
            rows.append(np.floor(p * 1e9).astype(np.int64) + 1)
    p = np.exp(-v / 30.0)
    rows.append(np.floor(np.append(p / p.sum(), 1e-3) * 1e9).astype(np.int64) + 1)
    return np.stack(rows)


def default_offsets() -> np.ndarray:
    """Untrained reconstruction offsets ``(DETAIL_GROUPS, 2)``: the middle of each quantiser cell."""
    return np.full((DETAIL_GROUPS, 2), round((0.5 - ROUNDING) * OFFSET_UNIT), dtype=np.int64)


class SubbandModel(AttributeModel):
    """Learned prior tables of every group (rows as :class:`~omnicodec.pointcloud.attr_model.AttributeModel`) and the
    reconstruction offsets.

    Attributes:
        weights: ``(GROUPS * ..., SYMBOLS)`` int64 integer table weights.
        offsets_q: ``(DETAIL_GROUPS, 2)`` int64 reconstruction offsets for ``|q| = 1`` and ``|q| >= 2`` in units of
            ``1 / OFFSET_UNIT`` step, each in ``[-OFFSET_UNIT, OFFSET_UNIT]``.
    """

    offsets = _OFFSETS
    label = "image context"
    arrays = ("weights", "recon")

    def __init__(self, weights: np.ndarray, recon: np.ndarray | None = None, sha256: str = "") -> None:
        super().__init__(weights, sha256)
        r = default_offsets() if recon is None else np.asarray(recon)
        if r.shape != (DETAIL_GROUPS, 2) or not np.issubdtype(r.dtype, np.integer) or np.abs(r).max() > OFFSET_UNIT:
            raise ModelError(f"{self.label} model offsets have shape {r.shape} or values out of range")
        self.offsets_q = r.astype(np.int64)


def model_to_bytes(weights: np.ndarray, recon: np.ndarray) -> bytes:
    """The ``.npz`` bytes of a model file (checked by building the model)."""
    return attr_model.model_to_bytes(weights, SubbandModel, recon=recon)


zoo.register_loader(KIND, attr_model.model_loader(SubbandModel))


def load_model(name: str = DEFAULT_MODEL) -> SubbandModel:
    """The shipped model ``name`` (sha256-checked by the zoo).

    Raises:
        ModelError: the model is not installed, fails its checksum or cannot be read.
    """
    return zoo.load(name, kind=KIND)
