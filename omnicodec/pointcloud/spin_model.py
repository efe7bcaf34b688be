"""The learned starting counts of the spinning-LiDAR coder's tables (zoo kind ``spin``).

A model holds, for every context of :mod:`.spin_geometry`, the counts its adaptive table starts from: the symbol
histograms of training sweeps, scaled to ``strength`` pseudo-counts per context (at least 1 per symbol), and the
``increment`` each coded value then adds. File: ``.npz`` of int64 arrays ``dr`` ``(DR_CONTEXTS, SYMBOLS)``,
``e`` ``(E_CONTEXTS, SYMBOLS)`` and ``increment`` ``(1,)``; ``tools/train_spin.py`` writes it.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np

from .. import zoo
from ..bitstream import StreamHeader
from ..errors import CorruptStreamError, InputError, ModelError
from . import spin_geometry as sg

__all__ = ["KIND", "DEFAULT_MODEL", "SpinModel", "counts_to_prior", "model_to_bytes", "load_model",
           "model_for_stream"]

KIND = "spin"
DEFAULT_MODEL = "spin"


class SpinModel:
    """Starting counts ``dr`` ``(DR_CONTEXTS, SYMBOLS)``, ``e`` ``(E_CONTEXTS, SYMBOLS)`` and the increment."""

    def __init__(self, dr: np.ndarray, e: np.ndarray, increment: np.ndarray | int, sha256: str = "") -> None:
        dr, e = np.asarray(dr, np.int64), np.asarray(e, np.int64)
        inc = int(np.asarray(increment).reshape(-1)[0])
        if dr.shape != (sg.DR_CONTEXTS, sg.SYMBOLS) or e.shape != (sg.E_CONTEXTS, sg.SYMBOLS):
            raise ModelError(f"spin model tables have shapes {dr.shape} and {e.shape}, expected "
                             f"{(sg.DR_CONTEXTS, sg.SYMBOLS)} and {(sg.E_CONTEXTS, sg.SYMBOLS)}")
        if min(dr.min(), e.min()) < 1 or max(dr.max(), e.max()) >= 1 << 30 or not 1 <= inc < 1 << 16:
            raise ModelError("spin model counts or increment out of range")
        self.prior = (dr, e, inc)
        self.sha256 = sha256


def counts_to_prior(counts: np.ndarray, strength: int) -> np.ndarray:
    """Starting counts from training histograms ``(contexts, SYMBOLS)``: each row scaled to about ``strength``
    pseudo-counts (fewer where the row saw fewer values), at least 1 per symbol."""
    c = np.asarray(counts, np.int64)
    total = c.sum(axis=1, keepdims=True)
    scale = np.minimum(strength, total)
    return np.maximum(1, (c * scale + total // 2) // np.maximum(total, 1))


def model_to_bytes(dr: np.ndarray, e: np.ndarray, increment: int) -> bytes:
    """The ``.npz`` bytes of a model file (checked by building the model)."""
    SpinModel(dr, e, increment)
    buf = io.BytesIO()
    np.savez_compressed(buf, dr=np.asarray(dr, np.int64), e=np.asarray(e, np.int64),
                        increment=np.array([increment], np.int64))
    return buf.getvalue()


def _from_bytes(data: bytes) -> SpinModel:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("dr", "e", "increment")}
    except Exception as exc:  # noqa: BLE001 - numpy raises many types for foreign bytes
        raise ModelError(f"not a spin model file ({type(exc).__name__}: {exc})") from None
    return SpinModel(**arrays, sha256=hashlib.sha256(data).hexdigest())


zoo.register_loader(KIND, _from_bytes)


def load_model(name: str = DEFAULT_MODEL) -> SpinModel:
    """The shipped model ``name`` (sha256-checked by the zoo).

    Raises:
        InputError: no such model. ModelError: missing, changed or unreadable file.
    """
    return zoo.load(name, kind=KIND)


def model_for_stream(header: StreamHeader) -> SpinModel:
    """The model a stream names, checked against the sha256 the stream records.

    Raises:
        CorruptStreamError: the header names no model. ModelError: not installed here, or another version of it.
    """
    name, digest = header.model, header.weights_sha256.hex()
    if not name or len(digest) != 64:
        raise CorruptStreamError("spin stream does not name its model and the model's sha256")
    try:
        net = load_model(name)
    except (InputError, ModelError) as exc:
        raise ModelError(f"the stream was coded with model {name!r}, which cannot be loaded here: {exc}") from None
    if net.sha256 != digest:
        raise ModelError(f"the stream was coded with model {name!r} sha256 {digest[:16]}..., this installation has "
                         f"{net.sha256[:16]}...; decode with the omnicodec version that wrote it")
    return net
