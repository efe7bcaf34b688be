"""The baseline octree geometry codec (codec id ``octree``, not learned).

Positions are divided by ``grid_step`` and rounded to an integer grid, shifted so the smallest index on each axis
is 0, and the occupied voxels are coded as an octree, coarse to fine, with the context-modelled adaptive coder of
:mod:`omnicodec.pointcloud.occupancy_coder`. Coding is lossless when the input already lies on the grid and lossy
(a uniform quantisation of at most ``grid_step / 2`` per axis) otherwise.

Points falling in the same voxel are kept by default: the number of points per voxel is coded, so the decoded cloud
has as many points as the input and every attribute value comes back, bit for bit, attached to its point. With
``merge_duplicates=True`` each voxel becomes one point and its attributes are averaged (integers rounded half to
even). Decoded points come out in Morton order of their voxels (input order within a voxel).

Attributes are coded on the decoded voxels by :mod:`.attr_streams`: colours and intensity by the predictive
attribute codec (lossless unless ``attr_rate`` is given), everything else by the generic lossless coder.

Chunks: ``OCCU`` (occupancy), ``DUPC`` (points per voxel, when any voxel holds several), one ``ATTR`` per attribute.
"""

from __future__ import annotations

import lzma
from typing import Any

import numpy as np

from ..bitstream import Chunk, Stream, StreamHeader, limits, pack
from ..bitstream.params import stream_dtype
from ..codecs.registry import Codec, register_codec
from ..entropy import get_coder
from ..errors import CorruptStreamError, InputError
from ..progress import progress_bar
from ..types import Grid, PointCloud
from .attr_streams import check_attr_rate, decode_attributes, encode_attributes
from .occupancy_coder import decode_occupancy, encode_occupancy
from .octree import depth_for, morton_decode, morton_encode, occupancy_codes

__all__ = ["OctreeCodec", "quantize_positions", "scaled_positions"]

_LZMA = [{"id": lzma.FILTER_LZMA2, "preset": 6}]


def scaled_positions(positions: np.ndarray, grid_step: float | None, offset: float = 0.0
                     ) -> tuple[np.ndarray, float]:
    """Positions in grid units, ``(position - offset) / step`` as ``(N, 3)`` float64, and the step used.

    Raises:
        InputError: non-finite positions, a bad step, or non-integer positions without a step (None means 1 and
            requires positions that already are integers).
    """
    pos = np.asarray(positions)
    if pos.dtype.kind == "f" and not np.isfinite(pos).all():
        raise InputError("positions contain NaN or infinite values; remove those points first")
    if grid_step is None:
        if pos.dtype.kind == "f" and len(pos) and not np.array_equal(pos, np.round(pos)):
            raise InputError(
                "positions are not on an integer grid; choose a grid step (e.g. --grid-step 0.001 for metres to mm)"
            )
        grid_step = 1.0
    step = float(grid_step)
    if not np.isfinite(step) or step <= 0:
        raise InputError(f"grid step must be a positive number, got {grid_step!r}")
    scaled = pos.astype(np.float64)
    if offset or step != 1.0:
        scaled = (scaled - offset) / step
    return scaled, step


def quantize_positions(positions: np.ndarray, grid_step: float | None) -> tuple[np.ndarray, np.ndarray, float]:
    """Integer grid indices of positions.

    Args:
        positions: (N, 3) real or integer positions.
        grid_step: voxel edge in position units; None means 1 and requires positions that already are integers.

    Returns:
        (N, 3) int64 indices (smallest 0 on each axis), (3,) int64 origin in voxels, the step used.

    Raises:
        InputError: non-finite positions, a bad step, or a grid needing more than 21 bits per axis.
    """
    scaled, step = scaled_positions(positions, grid_step)
    q = np.rint(scaled)
    if len(q) and np.abs(q).max() >= 2**52:
        raise InputError(f"grid step {step} is too fine for these positions")
    q = q.astype(np.int64)
    origin = q.min(axis=0) if len(q) else np.zeros(3, np.int64)
    q -= origin
    if len(q) and int(q.max()) >= 1 << limits.MAX_OCTREE_DEPTH:
        extent = (q.max(axis=0) * step).max()
        raise InputError(
            f"an extent of {extent:g} at grid step {step:g} needs more than {limits.MAX_OCTREE_DEPTH} bits per axis; "
            "use a larger grid step"
        )
    return q, origin, step


def _encode_counts(counts: np.ndarray) -> bytes:
    planes = (counts - 1).astype("<u4").view(np.uint8).reshape(-1, 4).T
    return lzma.compress(np.ascontiguousarray(planes).tobytes(), format=lzma.FORMAT_RAW, filters=_LZMA)


def _decode_counts(data: bytes, voxels: int, points: int) -> np.ndarray:
    try:
        raw = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=_LZMA).decompress(data, max_length=4 * voxels + 1)
    except lzma.LZMAError as exc:
        raise CorruptStreamError(f"points-per-voxel payload is corrupt ({exc})") from None
    if len(raw) != 4 * voxels:
        raise CorruptStreamError(f"points-per-voxel payload holds {len(raw)} bytes, expected {4 * voxels}")
    counts = np.ascontiguousarray(np.frombuffer(raw, np.uint8).reshape(4, voxels).T).view("<u4")[:, 0]
    counts = counts.astype(np.int64) + 1
    if int(counts.sum()) != points:
        raise CorruptStreamError(f"points per voxel add up to {int(counts.sum())}, but the header says {points}")
    return counts


def _merge_attribute(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mean of each run of ``values`` (sorted so runs are contiguous); integers rounded half to even."""
    sums = np.add.reduceat(values.astype(np.float64), starts, axis=0)
    mean = sums / (counts if values.ndim == 1 else counts[:, None])
    if values.dtype.kind in "iu":
        info = np.iinfo(values.dtype)
        mean = np.clip(np.rint(mean), info.min, info.max)
    return mean.astype(values.dtype)


@register_codec("octree", modality="pointcloud")
class OctreeCodec(Codec):
    """Octree occupancy with context-modelled adaptive arithmetic coding; attributes lossless or at ``attr_rate``."""

    description = "octree occupancy, context-modelled adaptive arithmetic coding (lossless on the grid)"
    geometry_options: tuple[str, ...] = ()

    def _encode_geometry(self, codes: list[np.ndarray], encoder, progress, **options: Any) -> dict[str, Any]:
        """Code the occupancy codes of every level; returns the ``model`` and ``weights_sha256`` (hex) used, if any,
        for the stream header, and ``params``, a dict of extra header parameters the decoder needs."""
        encode_occupancy(codes, encoder, progress=progress)
        return {}

    def _decode_geometry(self, decoder, depth: int, voxels: int, progress, header: StreamHeader) -> np.ndarray:
        """Decode the sorted Morton keys of the occupied voxels."""
        return decode_occupancy(decoder, depth, voxels, progress=progress)

    def compress(
        self,
        data: PointCloud,
        *,
        grid_step: float | None = None,
        coder: str = "constriction",
        merge_duplicates: bool = False,
        attr_rate: int | None = None,
        progress: bool = False,
        **geometry: Any,
    ) -> bytes:
        """Compress a point cloud.

        Args:
            data: the cloud; colours and intensity go through the predictive attribute codec, every other numeric
                attribute through the generic lossless coder.
            grid_step: voxel edge in position units (1 for integer voxel positions, 0.001 for metres to 1 mm);
                None accepts only positions that already are integers and uses 1.
            coder: entropy coder, ``"constriction"`` or ``"torchac"``.
            merge_duplicates: one point per voxel, attributes averaged (otherwise every point is kept).
            attr_rate: None: colours and intensity lossless; 1..8: lossy at that rate point (1: fewest bits).
            progress: show a progress bar over the octree levels.
            **geometry: options of the occupancy coder (none for this codec; see subclasses).

        Returns:
            The stream bytes.
        """
        if geometry and not self.geometry_options:
            raise InputError(f"codec {self.id!r} has no option {sorted(geometry)[0]!r}")
        unknown = sorted(set(geometry) - set(self.geometry_options))
        if unknown:
            takes = ", ".join(self.geometry_options)
            raise InputError(f"codec {self.id!r} has no option {unknown[0]!r}; it takes {takes}")
        if not isinstance(data, PointCloud):
            raise InputError(f"the octree codec compresses PointCloud objects, not {type(data).__name__}")
        if len(data) > limits.MAX_POINTS:
            raise InputError(f"{len(data)} points is more than the {limits.MAX_POINTS} one stream may hold")
        entropy = get_coder(coder)
        attr_rate = check_attr_rate(attr_rate)
        q, origin, step = quantize_positions(data.positions, grid_step)
        keys = morton_encode(q) if len(q) else np.zeros(0, np.int64)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, np.int64)
        leaves = keys[starts]
        counts = np.diff(np.r_[starts, len(keys)])
        depth = depth_for(q) if len(q) else 0
        chunks: list[Chunk] = []
        geometry_params: dict[str, Any] = {}
        if depth:
            enc = entropy.encoder()
            with progress_bar(depth, "octree levels", enabled=progress, unit="level") as bar:
                geometry_params = self._encode_geometry(occupancy_codes(leaves, depth), enc, bar.update, **geometry)
            chunks.append(Chunk("OCCU", enc.finish()))
        duplicates = bool(len(counts)) and int(counts.max()) > 1 and not merge_duplicates
        if duplicates:
            chunks.append(Chunk("DUPC", _encode_counts(counts)))
        values = {}
        for name, v in data.attributes.items():
            v = v[order]
            values[name] = _merge_attribute(v, starts, counts) if merge_duplicates and len(v) else v
        coords = q[order] if not merge_duplicates else q[order][starts]
        specs, payloads, _ = encode_attributes(values, coords, attr_rate, entropy.id)
        chunks += [Chunk("ATTR", payload) for payload in payloads]
        points = len(data) if not merge_duplicates else len(leaves)
        params: dict[str, Any] = {
            "grid_step": step,
            "origin": [int(v) for v in origin],
            "depth": depth,
            "points": points,
            "voxels": len(leaves),
            "duplicates": duplicates,
            "positions_dtype": data.positions.dtype.str,
            "attributes": specs,
        }
        params.update(geometry_params.get("params", {}))
        model = str(geometry_params.get("model", ""))
        sha = bytes.fromhex(geometry_params.get("weights_sha256", ""))
        header = StreamHeader(modality="pointcloud", codec=self.id, coder_id=entropy.id, params=params, model=model,
                              weights_sha256=sha)
        return pack(header, chunks)

    def decompress(self, stream: Stream, *, progress: bool = False) -> PointCloud:
        """Decode a stream written by :meth:`compress`.

        Raises:
            CorruptStreamError: inconsistent parameters or payloads.
        """
        p = _checked_params(stream.header.params)
        entropy = get_coder(stream.header.coder_id)
        points, voxels, depth = p["points"], p["voxels"], p["depth"]
        if depth:
            dec = entropy.decoder(stream.chunk("OCCU"))
            with progress_bar(depth, "octree levels", enabled=progress, unit="level") as bar:
                leaves = self._decode_geometry(dec, depth, voxels, bar.update, stream.header)
        else:
            leaves = np.zeros(0, np.int64)
        if len(leaves) != voxels:
            raise CorruptStreamError(f"the octree decodes to {len(leaves)} voxels, the header says {voxels}")
        if p["duplicates"]:
            counts = _decode_counts(stream.chunk("DUPC"), voxels, points)
            leaves = np.repeat(leaves, counts)
        elif points != voxels:
            raise CorruptStreamError(f"header says {points} points in {voxels} voxels without duplicates")
        grid_coords = morton_decode(leaves)
        q = grid_coords + np.asarray(p["origin"], dtype=np.int64)
        dtype = stream_dtype(p["positions_dtype"], "positions dtype")
        if p["grid_step"] == 1.0:
            positions = q.astype(dtype)
        else:
            positions = (q.astype(np.float64) * p["grid_step"]).astype(dtype)
        attributes = decode_attributes(p["attributes"], stream.chunks_named("ATTR"), grid_coords, entropy.id)
        origin = tuple(int(v) for v in p["origin"])
        return PointCloud(positions, attributes, grid=Grid(p["grid_step"], origin, depth))  # type: ignore[arg-type]


def _checked_params(params: dict) -> dict:
    """Validate the header parameters against the hard limits before anything is allocated."""
    try:
        p = {
            "grid_step": float(params["grid_step"]),
            "origin": [int(v) for v in params["origin"]],
            "depth": int(params["depth"]),
            "points": int(params["points"]),
            "voxels": int(params["voxels"]),
            "duplicates": bool(params["duplicates"]),
            "positions_dtype": str(params["positions_dtype"]),
            "attributes": list(params["attributes"]),
        }
        dtype = stream_dtype(p["positions_dtype"], "positions dtype")
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CorruptStreamError(f"octree stream parameters are malformed ({exc})") from None
    if not 0 <= p["points"] <= limits.MAX_POINTS:
        raise CorruptStreamError(f"stream declares {p['points']} points, beyond the limit of {limits.MAX_POINTS}")
    if not 0 <= p["voxels"] <= p["points"]:
        raise CorruptStreamError(f"stream declares {p['voxels']} voxels for {p['points']} points")
    if not 0 <= p["depth"] <= limits.MAX_OCTREE_DEPTH or (p["depth"] == 0) != (p["voxels"] == 0):
        raise CorruptStreamError(f"stream declares an octree depth of {p['depth']}")
    if len(p["origin"]) != 3 or dtype.kind not in "fiu" or not (np.isfinite(p["grid_step"]) and p["grid_step"] > 0):
        raise CorruptStreamError("octree stream parameters are malformed (origin, dtype or grid step)")
    if max(abs(v) for v in p["origin"]) >= 1 << 52:  # the encoder's origins are within +-2**52 voxels
        raise CorruptStreamError(f"octree stream declares an origin {p['origin']} beyond +-2**52 voxels")
    if len(p["attributes"]) > 1024 or not all(isinstance(a, dict) for a in p["attributes"]):
        raise CorruptStreamError("octree stream attribute list is malformed")
    return p
