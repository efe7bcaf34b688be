"""The shipped occupancy models (kind ``occupancy`` in :mod:`omnicodec.zoo`) and the dense/LiDAR choice.

Index, files and sha256 checks are :mod:`omnicodec.zoo`'s; this module registers the loader of occupancy models
(:func:`~.occupancy_net.load_model_bytes`) and holds the one rule that tells a dense cloud from a LiDAR sweep, used
by the lossless and the lossy codecs alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import zoo

if TYPE_CHECKING:
    from .occupancy_net import IntOccupancyNet

__all__ = ["KIND", "AUTO", "DENSE_CHILDREN", "list_models", "load_model", "family_for", "choose_model",
           "choose_family"]

KIND = "occupancy"
"""The zoo kind of the occupancy models."""

AUTO = "auto"
"""The ``model`` option that picks ``dense`` or ``lidar`` from the data."""

DENSE_CHILDREN = 1.8
"""Mean occupied children per occupied parent on the finest level at or above which a cloud counts as dense."""
DENSE_CHILDREN_COARSE = 1.6
"""The same one level up, at or above which a cloud counts as dense too: a scan sampled more sparsely than its grid
(a depth camera's or a terrestrial scanner's points a few voxels apart) fills the coarser cells of its surfaces, a
LiDAR sweep on a 1 mm or 1 cm grid does not (about 1.0 and 1.2 on KITTI)."""

def _load_bytes(data: bytes) -> IntOccupancyNet:
    from .occupancy_net import load_model_bytes  # torch is imported only when a model is loaded

    return load_model_bytes(data)


zoo.register_loader(KIND, _load_bytes)


def list_models() -> dict[str, dict[str, Any]]:
    """Name -> zoo entry (file, sha256, family, training command, data, ...) of every shipped occupancy model."""
    return zoo.list_models(KIND)


def load_model(name: str) -> IntOccupancyNet:
    """The occupancy model called ``name`` (loaded once per process; its ``sha256`` is the file's).

    Raises:
        InputError: no such occupancy model.
        ModelError: the file is missing, changed (sha256 differs from the index) or malformed.
    """
    return zoo.load(name, KIND)


def family_for(children: int, parents: int, grandparents: int | None = None) -> str:
    """``dense`` or ``lidar`` from the occupied voxels (``children``), their occupied parents and grandparents:
    dense surfaces fill about 4 of the 8 children of a parent, a LiDAR sweep on a fine grid about 1, on the finest
    level (:data:`DENSE_CHILDREN`) and on the one above (:data:`DENSE_CHILDREN_COARSE`)."""
    if children / max(parents, 1) >= DENSE_CHILDREN:
        return "dense"
    if grandparents is not None and parents / max(grandparents, 1) >= DENSE_CHILDREN_COARSE:
        return "dense"
    return "lidar"


def choose_model(codes: list[np.ndarray]) -> str:
    """``dense`` or ``lidar`` (:func:`family_for`) for an octree.

    Args:
        codes: occupancy codes (uint8) of every level (:func:`~.octree.occupancy_codes`).
    """
    last = codes[-1] if codes else np.zeros(0, np.uint8)
    above = len(codes[-2]) if len(codes) >= 2 else None
    return family_for(int(np.unpackbits(last).sum()), len(last), above)


def choose_family(keys: np.ndarray) -> str:
    """``dense`` or ``lidar`` (:func:`family_for`) from the sorted, distinct int64 Morton keys of the voxels."""
    parents = int(np.count_nonzero(np.diff(keys >> 3))) + 1 if len(keys) else 0
    grandparents = int(np.count_nonzero(np.diff(keys >> 6))) + 1 if len(keys) else 0
    return family_for(len(keys), parents, grandparents)
