"""The spinning-LiDAR geometry codec (codec id ``spin``): predictive coding of a sweep in scan order.

A frame of a spinning sensor (KITTI / nuScenes ``.bin``, a PCD, PLY or LAS sweep) is coded point after point by
:mod:`.spin_geometry`: each point from the previous one turned by the sensor's azimuth step, its range first, then a
small residual in the frame of the ray, under adaptive tables that start from the learned model ``spin``
(:mod:`.spin_model`). The sensor's azimuth step is estimated from the frame itself and
travels in the header; nothing else about the sensor is needed. Coding is lossless on the grid.

``learned`` (the default codec) hands a cloud to ``spin`` when :func:`is_sweep` says it is such a sweep: a stream
then names ``spin`` as its codec (``omnicodec info``). Other clouds (dense, merged, aggregated, not centred on the
sensor, or a sweep whose rings cannot be told apart in another order) stay with the octree coders.

The points are coded in the input's order when that is a scan order (the sensor's own, as KITTI and most drivers write
it: laser after laser, each by azimuth), else ring by ring (:func:`.spin_geometry.ring_order`: rings found as
clusters of elevation angles, which works for sensors whose beams lie further apart than their spread, such as 16-
and 32-beam Velodynes); the decoded points come out in the coded order (the octree codecs sort them too).
Attributes are coded on them by :mod:`.attr_streams`, exactly as for the octree codecs.

Chunks: ``SPIN`` (the points), one ``ATTR`` per attribute.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..bitstream import Chunk, Stream, StreamHeader, limits, pack
from ..bitstream.params import stream_dtype
from ..codecs.registry import Codec, register_codec
from ..entropy import get_coder
from ..errors import CorruptStreamError, InputError
from ..progress import progress_bar
from ..types import Grid, PointCloud
from . import spin_geometry as sg
from . import spin_model
from .attr_streams import check_attr_rate, decode_attributes, encode_attributes
from .model_zoo import choose_family
from .octree import depth_for, morton_encode
from .octree_codec import _merge_attribute, scaled_positions

__all__ = ["SpinCodec", "is_sweep", "sweep_order", "MIN_POINTS", "MIN_SCAN_FRACTION"]

MIN_POINTS = 4096
"""Smallest cloud :func:`is_sweep` hands to this codec."""
_POINTS_PER_BYTE = 2048
"""Most points a byte of ``SPIN`` payload can decode to (a bound above the coder's least cost per point)."""
MIN_SCAN_FRACTION = 0.6
"""Smallest fraction of consecutive points one azimuth step apart for :func:`is_sweep` (KITTI: 0.83)."""


def _grid(positions: np.ndarray, grid_step: float | None, offset: float = 0.0) -> tuple[np.ndarray, float]:
    """Grid coordinates ``(N, 3)`` int64 of positions (the sensor at 0), ``round((position - offset) / step)``, and
    the step; errors as the octree codec's (:func:`.octree_codec.scaled_positions`)."""
    scaled, step = scaled_positions(positions, grid_step, offset)
    if len(scaled) and np.abs(scaled).max() >= 1 << sg.COORD_BITS:
        raise InputError(f"a point lies beyond 2**{sg.COORD_BITS} grid steps from the sensor, the spinning-sensor "
                         "coder's bound; use a larger grid step or another codec")
    return np.rint(scaled).astype(np.int64), step


def sweep_order(q: np.ndarray) -> tuple[np.ndarray | None, float]:
    """``(order, theta)`` for points ``q`` ``(N, 3)`` (positions or grid coordinates, the sensor at 0).

    ``order`` None keeps the given order (already a scan order, as KITTI's and the sensors' own files are), else it
    is a permutation: the ring-by-ring order of :func:`.spin_geometry.ring_order`, or the given order with the points
    at the sensor itself (the zeros some drivers write for a firing without a return) moved to the end, where they
    cost almost nothing. ``theta`` is the azimuth step, 0.0 when the points are a sweep in neither order."""
    zero = ~q.any(axis=1)
    live = np.flatnonzero(~zero) if zero.any() else None
    p = q if live is None else q[live]
    theta = sg.azimuth_step(p)
    if theta != 0.0 and sg.scan_fraction(p, theta) >= MIN_SCAN_FRACTION:
        return (None if live is None else np.concatenate([live, np.flatnonzero(zero)])), theta
    order = sg.ring_order(p)
    theta = sg.azimuth_step(p[order])
    if theta != 0.0 and sg.scan_fraction(p[order], theta) >= MIN_SCAN_FRACTION:
        return (order if live is None else np.concatenate([live[order], np.flatnonzero(zero)])), theta
    return None, 0.0


def is_sweep(data: PointCloud, grid_step: float | None) -> bool:
    """Whether ``data`` looks like one sweep of a spinning sensor, on a grid this codec can take: at least
    :data:`MIN_POINTS` points; in the given order or ring by ring (:func:`sweep_order`), at least
    :data:`MIN_SCAN_FRACTION` of consecutive points one azimuth step apart about the origin
    (:func:`.spin_geometry.scan_fraction`); and sparse on its grid as a sweep is (the octree's own dense / LiDAR
    rule, :func:`.model_zoo.choose_family`)."""
    if not isinstance(data, PointCloud) or len(data) < MIN_POINTS:
        return False
    try:
        q, _ = _grid(data.positions, grid_step)
    except InputError:
        return False
    if sweep_order(np.asarray(data.positions, dtype=np.float64))[1] == 0.0:
        return False
    shifted = q - q.min(axis=0)
    if int(shifted.max()) >= 1 << 21:  # beyond the octree's grid: the octree coders refuse it anyway
        return True
    return choose_family(np.unique(morton_encode(shifted))) == "lidar"


@register_codec("spin", modality="pointcloud")
class SpinCodec(Codec):
    """Spinning-LiDAR predictive geometry, lossless on the grid; attributes lossless or at ``attr_rate``."""

    description = "spinning-LiDAR predictive geometry (azimuth-step prediction, range first; lossless on the grid)"

    def compress(self, data: PointCloud, *, grid_step: float | None = None, coder: str = "constriction",
                 merge_duplicates: bool = False, attr_rate: int | None = None, progress: bool = False,
                 model: str = spin_model.DEFAULT_MODEL, offset: float = 0.0, **other: Any) -> bytes:
        """Compress one sweep, in the order of its points.

        Args:
            data: the sweep; the sensor at the origin of its coordinates.
            grid_step: voxel edge in position units (0.001 for metres to 1 mm); None accepts only integer positions.
            coder: entropy coder, ``"constriction"`` or ``"torchac"``.
            merge_duplicates: one point per voxel (the first in the input's order), attributes averaged.
            attr_rate: None: colours and intensity lossless; 1..8: lossy at that rate point.
            progress: a progress bar over the points.
            model: the tables' starting counts (a zoo model of kind ``spin``).
            offset: grid origin in position units, ``|offset| < grid_step``: points are coded as
                ``round((position - offset) / grid_step)`` and decoded as ``q * grid_step + offset`` (the ``lossy``
                codec puts it at its cell centres).

        Raises:
            InputError: not a cloud, an unusable grid, no azimuth step in the data, or a bad or unknown option.
        """
        if other:
            raise InputError(f"codec {self.id!r} has no option {sorted(other)[0]!r}; it takes grid_step, coder, "
                             "merge_duplicates, attr_rate, model, offset (it is lossless: no rate)")
        if not isinstance(data, PointCloud):
            raise InputError(f"the spin codec compresses PointCloud objects, not {type(data).__name__}")
        if len(data) > limits.MAX_POINTS:
            raise InputError(f"{len(data)} points is more than the {limits.MAX_POINTS} one stream may hold")
        entropy = get_coder(coder)
        attr_rate = check_attr_rate(attr_rate)
        net = spin_model.load_model(model)
        offset = float(offset)
        if not np.isfinite(offset) or (offset and abs(offset) >= float(grid_step or 1.0)):
            raise InputError(f"offset must be a number smaller than the grid step, got {offset!r}")
        q, step = _grid(data.positions, grid_step, offset)
        pos = np.asarray(data.positions, dtype=np.float64)  # angles from the positions themselves, not the grid
        values = dict(data.attributes)
        if merge_duplicates and len(q):
            _, first, inverse = np.unique(q, axis=0, return_index=True, return_inverse=True)
            rank = np.empty(len(first), np.int64)
            rank[np.argsort(first)] = np.arange(len(first))  # voxels in the order of their first point
            group = rank[inverse.reshape(-1)]
            order = np.argsort(group, kind="stable")
            starts = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0])
            counts = np.diff(np.r_[starts, len(group)])
            values = {k: _merge_attribute(v[order], starts, counts) for k, v in values.items()}
            q, pos = q[np.sort(first)], pos[np.sort(first)]
        order, theta = sweep_order(pos)
        if theta == 0.0:
            raise InputError("the cloud shows no constant azimuth step between consecutive points, in its own order "
                             "or ring by ring: it is not a spinning sensor's sweep; use the learned or octree codec")
        if order is not None:
            q = q[order]
            values = {k: v[order] for k, v in values.items()}
        c, s = sg.rotation(theta)
        enc = entropy.encoder()
        with progress_bar(len(q), "points", enabled=progress, unit="pt") as bar:
            sg.encode_sweep(q, c, s, enc, net.prior, progress=bar.update)
        chunks = [Chunk("SPIN", enc.finish())]
        low = q.min(axis=0) if len(q) else np.zeros(3, np.int64)
        specs, payloads, _ = encode_attributes(values, q - low, attr_rate, entropy.id)
        chunks += [Chunk("ATTR", payload) for payload in payloads]
        params: dict[str, Any] = {
            "grid_step": step,
            "points": len(q),
            "turn": [c, s],
            "positions_dtype": data.positions.dtype.str,
            "attributes": specs,
        }
        if offset:
            params["offset"] = offset
        header = StreamHeader(modality="pointcloud", codec=self.id, coder_id=entropy.id, params=params,
                              model=model, weights_sha256=bytes.fromhex(net.sha256))
        return pack(header, chunks)

    def decompress(self, stream: Stream, *, progress: bool = False) -> PointCloud:
        """Decode a stream written by :meth:`compress`.

        Raises:
            CorruptStreamError: inconsistent parameters or payloads. ModelError: the stream's model is not here.
        """
        p = _checked_params(stream.header.params)
        net = spin_model.model_for_stream(stream.header)
        entropy = get_coder(stream.header.coder_id)
        payload = stream.chunk("SPIN")
        # every point codes four symbols of probability at most (2**16 - 54) / 2**16, so at least 0.0047 bits: a
        # payload holds at most about 1700 points per byte (a bound checked before anything is allocated)
        if p["points"] > _POINTS_PER_BYTE * len(payload) + sg.SEQUENCE:
            raise CorruptStreamError(f"spin stream declares {p['points']} points, more than its {len(payload)}-byte "
                                     "payload can hold")
        dec = entropy.decoder(payload)
        c, s = p["turn"]
        with progress_bar(p["points"], "points", enabled=progress, unit="pt") as bar:
            q = sg.decode_sweep(dec, p["points"], c, s, net.prior, progress=bar.update)
        dec.finish()
        low = q.min(axis=0) if len(q) else np.zeros(3, np.int64)
        attributes = decode_attributes(p["attributes"], stream.chunks_named("ATTR"), q - low, entropy.id)
        dtype = stream_dtype(p["positions_dtype"], "positions dtype")
        if p["grid_step"] == 1.0 and not p["offset"]:
            positions = q.astype(dtype)
        else:
            positions = (q.astype(np.float64) * p["grid_step"] + p["offset"]).astype(dtype)
        depth = depth_for(q - low) if len(q) else 0
        grid = Grid(p["grid_step"], tuple(int(v) for v in low), depth)
        return PointCloud(positions, attributes, grid=grid)  # type: ignore[arg-type]


def _checked_params(params: dict) -> dict:
    """Validate the header parameters against the hard limits before anything is allocated."""
    try:
        p = {
            "grid_step": float(params["grid_step"]),
            "points": int(params["points"]),
            "turn": [int(v) for v in params["turn"]],
            "positions_dtype": str(params["positions_dtype"]),
            "attributes": list(params["attributes"]),
            "offset": float(params.get("offset", 0.0)),
        }
        dtype = stream_dtype(p["positions_dtype"], "positions dtype")
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CorruptStreamError(f"spin stream parameters are malformed ({exc})") from None
    if not (np.isfinite(p["offset"]) and abs(p["offset"]) < p["grid_step"]):
        raise CorruptStreamError(f"spin stream's offset {p['offset']} is not within one grid step")
    if not 0 <= p["points"] <= limits.MAX_POINTS:
        raise CorruptStreamError(f"stream declares {p['points']} points, beyond the limit of {limits.MAX_POINTS}")
    one = 1 << sg.FIXED_BITS
    if len(p["turn"]) != 2 or not all(-one <= v <= one for v in p["turn"]):
        raise CorruptStreamError(f"spin stream's azimuth turn {p['turn']} is not a fixed-point cosine and sine")
    if dtype.kind not in "fiu" or not (np.isfinite(p["grid_step"]) and p["grid_step"] > 0):
        raise CorruptStreamError("spin stream parameters are malformed (dtype or grid step)")
    if len(p["attributes"]) > 1024 or not all(isinstance(a, dict) for a in p["attributes"]):
        raise CorruptStreamError("spin stream attribute list is malformed")
    return p
