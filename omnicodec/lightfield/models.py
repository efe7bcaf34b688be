"""Light-field models in the zoo: the learned tables of the residual coder (kind ``lightfield``) and the blending
network (kind ``lightfield_blend``, :mod:`.blend_net`, a ``torch.save`` state dict read with ``weights_only``).

A weights file is an ``.npz`` (read with ``allow_pickle=False``) holding ``class_weights`` and ``level_weights``,
the integer weights of :class:`~.residual.ResidualTables` (symbol counts over training light fields, smoothed by
the prior of :func:`~.residual.default_weights`).
"""

from __future__ import annotations

import io

import numpy as np

from .. import zoo
from ..bitstream import StreamHeader
from ..errors import ModelError
from .residual import ResidualTables

__all__ = ["KIND", "DEFAULT_MODEL", "BLEND_KIND", "BLEND_MODEL", "blend_from_bytes", "tables_from_bytes",
           "tables_to_bytes", "load_tables", "stream_tables"]

KIND = "lightfield"
DEFAULT_MODEL = "lightfield"


def tables_to_bytes(class_weights: np.ndarray, level_weights: np.ndarray) -> bytes:
    """The ``.npz`` bytes of a tables file (checked by building the tables)."""
    ResidualTables.from_weights(class_weights, level_weights)
    buf = io.BytesIO()
    np.savez_compressed(buf, class_weights=np.asarray(class_weights, np.int64),
                        level_weights=np.asarray(level_weights, np.int64))
    return buf.getvalue()


def tables_from_bytes(data: bytes) -> ResidualTables:
    """:class:`ResidualTables` from a weights file's bytes.

    Raises:
        ModelError: not a light-field tables file.
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            cw, lw = z["class_weights"], z["level_weights"]
        if not (np.issubdtype(cw.dtype, np.integer) and np.issubdtype(lw.dtype, np.integer)):
            raise ValueError("weights are not integers")
        return ResidualTables.from_weights(cw, lw)
    except Exception as exc:  # noqa: BLE001 - numpy raises many types for foreign bytes
        raise ModelError(f"not a light-field tables file ({type(exc).__name__}: {exc})") from None


zoo.register_loader(KIND, tables_from_bytes)

BLEND_KIND = "lightfield_blend"
BLEND_MODEL = "lightfield_blend"


def blend_from_bytes(data: bytes):
    """A :class:`~.blend_net.BlendNet` from its weights file (a ``torch.save`` state dict, ``weights_only``).

    Raises:
        ModelError: not a blending network's weights.
    """
    import torch

    from .blend_net import BlendNet

    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        net = BlendNet(int(state["inp.weight"].shape[0]))
        net.load_state_dict(state)
        net.check_exact_bounds()
    except Exception as exc:  # noqa: BLE001 - torch raises many types for foreign bytes
        raise ModelError(f"not a light-field blending network ({type(exc).__name__})") from None
    return net.eval()


zoo.register_loader(BLEND_KIND, blend_from_bytes)


def load_tables(name: str = DEFAULT_MODEL) -> tuple[ResidualTables, str]:
    """The installed tables ``name`` and their sha256 (hex)."""
    return zoo.load(name, KIND), zoo.entry(name, KIND)["sha256"]


def stream_tables(header: StreamHeader) -> ResidualTables:
    """The tables a stream names, checked against its header's sha256.

    Raises:
        ModelError: not installed, or different weights.
    """
    try:
        tables, sha = load_tables(header.model)
    except ModelError:
        raise
    except Exception:
        raise ModelError(f"the stream was coded with light-field model {header.model!r}, which this omnicodec does "
                         "not have; decode with the omnicodec version that wrote it") from None
    if sha != header.weights_sha256.hex():
        raise ModelError(f"the stream was coded with light-field model {header.model!r} sha256 "
                         f"{header.weights_sha256.hex()[:16]}..., this installation has {sha[:16]}...")
    return tables
