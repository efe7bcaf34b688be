"""The shipped lossy autoencoders (kind ``lossy_pointcloud`` in :mod:`omnicodec.zoo`) and their rate points.

Each family (``dense`` for voxelised surfaces, ``lidar`` for sweeps on a 1 mm grid) has one model holding several
gain vectors. A rate point ``R`` (1 = lowest rate) is a :class:`RatePoint`: the grid is coarsened by ``2**shift``
before coding, and the latent is scaled by gain vector ``gain`` (:mod:`.lossy_net`). ``gain`` None
(:data:`GEOMETRY_ONLY`) means no autoencoder: the coarsened voxels are coded losslessly by the family's learned
occupancy coder, as an octree codec would. Where that is the better trade (LiDAR sweeps at the higher rates, whose
sparse lines the autoencoder's three decoded scales miss), the tables use it. ``keep`` scales the voxel counts the
encoder sends for strides 4, 2 and 1 (the decoder keeps that many voxels per scale): keeping somewhat more voxels
than the input had lowers the point-to-point error when the classifier is unsure. The stream records the shift,
the gain and the counts, so the tables below may change between versions without breaking old streams.

Index, files and sha256 checks are :mod:`omnicodec.zoo`'s; importing this module registers the loader of
``lossy_pointcloud`` models (:func:`~.lossy_net.load_lossy_bytes`, ``torch.load(..., weights_only=True)``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .. import zoo
from ..errors import InputError
from .lossy_net import LossyNet, load_lossy_bytes

__all__ = ["KIND", "RATE_POINTS", "RatePoint", "GEOMETRY_ONLY", "FAMILIES", "list_lossy_models", "load_lossy_model",
           "rate_point", "model_name"]

KIND = "lossy_pointcloud"
"""The zoo kind of the lossy autoencoders."""

FAMILIES = ("dense", "lidar")

GEOMETRY_ONLY = None
"""The ``gain`` of a rate point without autoencoder: the coarsened voxels coded losslessly."""


class RatePoint(NamedTuple):
    """One rate point: grid coarsening, gain vector (or :data:`GEOMETRY_ONLY`), count factors per stride, and whether
    the decoder rebuilds full-resolution points on planes through the decoded cells (:mod:`.surface`) instead of
    one point at each cell's centre."""

    shift: int
    gain: int | None
    keep: tuple[float, float, float] = (1.0, 1.0, 1.0)
    surface: bool = False


RATE_POINTS: dict[str, tuple[RatePoint, ...]] = {
    # lowest rate first: points of the Pareto front of every (shift, gain) pair, geometry-only point and (dense) surface
    # reconstruction on the validation sets, then the count factors (python tools/bench_lossy.py --calibrate
    # dense|lidar, then --calibrate-keep), never on evaluation data. Dense: the front's geometry-only point at shift 1
    # (0.53 bpp, 69.3 dB on the validation mean) is left out for (0, 3), whose bits rank above the rest on every
    # kind of cloud (a highly compressible body codes shift 1 losslessly in fewer bits than (0, 1)).
    "dense": (RatePoint(4, None, surface=True), RatePoint(2, 0, surface=True), RatePoint(3, None, surface=True),
              RatePoint(1, 0, surface=True), RatePoint(1, 1, surface=True), RatePoint(2, None, surface=True),
              RatePoint(0, 1), RatePoint(0, 3)),
    "lidar": (RatePoint(6, 2, (1.5, 1.5, 1.5)), RatePoint(5, 2, (2.0, 2.0, 2.0)), RatePoint(4, 2, (2.0, 2.0, 2.0)),
              RatePoint(6, None), RatePoint(5, None), RatePoint(4, None), RatePoint(3, None), RatePoint(2, None)),
}


zoo.register_loader(KIND, load_lossy_bytes)


def model_name(family: str) -> str:
    """Zoo name of a family's model (``lossy_dense``, ``lossy_lidar``)."""
    return f"lossy_{family}"


def rate_point(family: str, rate: int) -> RatePoint:
    """Rate point ``rate`` (1-based) of ``family``.

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


def list_lossy_models() -> dict[str, dict[str, Any]]:
    """Name -> zoo entry (file, sha256, family, training command, data, ...) of every shipped lossy model."""
    return zoo.list_models(KIND)


def load_lossy_model(name: str) -> tuple[LossyNet, str]:
    """The lossy model called ``name`` (loaded once per process) and its file's sha256 (hex, also ``net.sha256``).

    Raises:
        InputError: no such lossy model.
        ModelError: the file is missing, changed (sha256 differs from the index) or malformed.
    """
    net = zoo.load(name, KIND)
    return net, net.sha256
