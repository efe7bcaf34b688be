"""The shipped lossy autoencoders (``zoo/lossy.json``, files ``zoo/lossy_*.pt``) and their rate points.

Each family (``dense`` for voxelised surfaces, ``lidar`` for sweeps on a 1 mm grid) has one model holding several
gain vectors. A rate point ``R`` (1 = lowest rate) is a pair (``shift``, ``gain``): the grid is coarsened by
``2**shift`` before coding, and the latent is scaled by gain vector ``gain`` (:mod:`.lossy_net`). The stream records
both, so the tables below may change between versions without breaking old streams.
"""

from __future__ import annotations

import functools
from typing import Any

from ..errors import InputError
from .lossy_net import LossyNet, load_lossy_bytes
from .model_zoo import read_index, verified_bytes

__all__ = ["RATE_POINTS", "FAMILIES", "list_lossy_models", "load_lossy_model", "rate_point", "model_name"]

FAMILIES = ("dense", "lidar")

RATE_POINTS: dict[str, tuple[tuple[int, int], ...]] = {
    # (shift, gain index) per rate point, lowest rate first: the Pareto front of every pair on the validation sets
    # (python tools/bench_lossy.py --calibrate dense|lidar), never on evaluation data
    "dense": ((2, 0), (2, 1), (1, 0), (1, 1), (0, 0), (0, 1), (0, 2), (0, 3)),
    "lidar": ((6, 3), (5, 2), (4, 3), (3, 3), (2, 3), (1, 3), (0, 3)),
}


def model_name(family: str) -> str:
    """Zoo name of a family's model (``lossy_dense``, ``lossy_lidar``)."""
    return f"lossy_{family}"


def rate_point(family: str, rate: int) -> tuple[int, int]:
    """(shift, gain index) of rate point ``rate`` (1-based) of ``family``.

    Raises:
        InputError: no such family or rate point.
    """
    if family not in RATE_POINTS:
        raise InputError(f"unknown lossy model family {family!r}; available: {', '.join(FAMILIES)}")
    table = RATE_POINTS[family]
    if isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= len(table):
        raise InputError(f"rate must be an integer from 1 (lowest) to {len(table)} for the {family} model, "
                         f"got {rate!r}")
    return table[rate - 1]


@functools.lru_cache(maxsize=1)
def list_lossy_models() -> dict[str, dict[str, Any]]:
    """Name -> zoo entry (file, sha256, kind, training command, data, ...) of every shipped lossy model."""
    return read_index("lossy.json")


@functools.lru_cache(maxsize=4)
def _load(name: str) -> tuple[LossyNet, str]:
    data, digest = verified_bytes(name, list_lossy_models(), "lossy.json")
    return load_lossy_bytes(data), digest


def load_lossy_model(name: str) -> tuple[LossyNet, str]:
    """The lossy model called ``name`` (loaded once per process) and its file's sha256 (hex).

    Raises:
        InputError: no such model.
        ModelError: the file is missing, changed or malformed.
    """
    return _load(name)
