"""The shipped occupancy models (``omnicodec/pointcloud/zoo/``) and the choice between them.

``zoo/zoo.json`` lists every model: its file, sha256, the command that trained it and the data it was trained on.
A model is loaded once per process and checked against its recorded sha256.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ModelError
from .occupancy_net import IntOccupancyNet, load_model_bytes

__all__ = ["ZOO_DIR", "list_models", "load_model", "choose_model", "AUTO"]

ZOO_DIR = Path(__file__).resolve().parent / "zoo"
AUTO = "auto"
_DENSE_CHILDREN = 1.8  # mean children per parent on the finest level above which a cloud counts as dense


def read_index(filename: str) -> dict[str, dict[str, Any]]:
    """Name -> entry of a zoo index file in :data:`ZOO_DIR` (entries whose file is missing left out).

    Raises:
        ModelError: the index cannot be read.
    """
    index = ZOO_DIR / filename
    try:
        entries = json.loads(index.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the model index {index}: {exc}") from None
    return {name: e for name, e in sorted(entries.items()) if (ZOO_DIR / e["file"]).exists()}


def verified_bytes(name: str, models: dict[str, dict[str, Any]], filename: str) -> tuple[bytes, str]:
    """The bytes of model ``name`` of index ``filename`` (entries ``models``) and their sha256, checked.

    Raises:
        InputError: no such model.
        ModelError: the file changed (sha256 differs from the index).
    """
    if name not in models:
        known = ", ".join(models) or "none installed"
        raise InputError(f"unknown model {name!r}; available: {known}")
    entry = models[name]
    data = (ZOO_DIR / entry["file"]).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"]:
        raise ModelError(f"model file {entry['file']} has sha256 {digest[:16]}..., {filename} records "
                         f"{entry['sha256'][:16]}...; reinstall the package")
    return data, digest


@functools.lru_cache(maxsize=1)
def list_models() -> dict[str, dict[str, Any]]:
    """Name -> zoo entry (file, sha256, kind, training command, data, ...) of every shipped model."""
    return read_index("zoo.json")


@functools.lru_cache(maxsize=8)
def load_model(name: str) -> IntOccupancyNet:
    """The occupancy model called ``name``.

    Raises:
        InputError: no such model.
        ModelError: the file is missing, changed (sha256 differs from zoo.json) or malformed.
    """
    data, _ = verified_bytes(name, list_models(), "zoo.json")
    return load_model_bytes(data)


def choose_model(codes: list[np.ndarray]) -> str:
    """``dense`` or ``lidar`` for an octree: dense surfaces fill about 4 of the 8 children of a parent on the finest
    level, a LiDAR sweep on a fine grid about 1.

    Args:
        codes: occupancy codes of every level (:func:`~.octree.occupancy_codes`).
    """
    last = codes[-1] if codes else np.zeros(0, np.uint8)
    children = np.unpackbits(last).sum() / max(len(last), 1)
    return "dense" if children >= _DENSE_CHILDREN else "lidar"
