"""The lossy point-cloud codec (codec id ``lossy``): a multiscale sparse-convolution autoencoder with rate points.

``compress(cloud, rate=R)`` quantises positions to the grid (``grid_step``), coarsens the grid by ``2**shift``
(duplicates merged), and codes the voxels with the autoencoder of :mod:`.lossy_net`: the stride-8 voxels losslessly
with the learned occupancy coder (:mod:`.learned_coder`), the latent with the rate point's factorized prior, and the
voxel counts at strides 4, 2 and 1. The decoder grows the voxels back and keeps the top-k per scale. At rate points
with ``surface`` (the dense table's coarse ones) the decoded cells are rebuilt as full-resolution points on planes
fitted through them (:mod:`.surface`); otherwise every decoded voxel is one point at the centre of its coarsened
cell. Rate points ``(shift, gain)`` are listed in
:data:`.lossy_zoo.RATE_POINTS` (``R = 1`` is the lowest rate); ``model`` picks the dense or LiDAR family (``auto``
decides from the data, as the lossless codec does). A rate point whose gain is
:data:`~.lossy_zoo.GEOMETRY_ONLY` codes the coarsened voxels losslessly with the learned occupancy coder and no
latent (one ``GEOC`` per block, no ``LATN``).

Large clouds are split into blocks of at most about ``block_points`` voxels (octree cells, so blocks are cubes) that
are coded independently and reassembled; their origins and counts are in the header.

Attributes are transferred to the decoded points (:func:`~.recolour.transfer_attributes`) and coded on them.

At a geometry-only rate point, a spinning-LiDAR sweep (:func:`.spin_codec.is_sweep`) is also coded by ``spin`` on
the coarsened grid (``grid_step * 2**shift``, duplicates merged), and the smaller of the two streams is kept: a
``spin`` stream then carries ``rate``, ``input_points``, ``family`` and ``shift`` in its header as a ``lossy`` one
does, and the input's step as ``input_grid_step``.

Chunks: per block ``GEOC`` (stride-8 occupancy) and ``LATN`` (latent), or ``GEOC`` alone (all coarsened voxels)
for a geometry-only rate point; then one ``ATTR`` per attribute.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..bitstream import Chunk, Stream, StreamHeader, limits, pack, unpack
from ..bitstream.params import stream_dtype
from ..codecs.registry import Codec, register_codec
from ..entropy import get_coder
from ..errors import CorruptStreamError, InputError, ModelError
from ..progress import progress_bar
from ..sparse import SparseTensor
from ..types import Grid, PointCloud
from . import surface
from .attr_streams import check_attr_rate, decode_attributes, encode_attributes
from .learned_coder import decode_occupancy_learned, encode_occupancy_learned
from .lossy_net import SCALES, LossyNet
from .lossy_zoo import FAMILIES, load_lossy_model, model_name, rate_point
from .model_zoo import AUTO, choose_family, load_model
from .octree import depth_for, morton_decode, morton_encode, occupancy_codes
from .octree_codec import quantize_positions
from .recolour import transfer_attributes

__all__ = ["LossyCodec", "split_blocks", "scaled_counts", "choose_family", "decoded_points", "DEFAULT_BLOCK_POINTS"]

DEFAULT_BLOCK_POINTS = 1_000_000
"""Voxels per block above which a cloud is split (bounds the memory of one block's networks)."""

SURFACE_PLANES = "planes"
"""Header value of ``surface`` for points rebuilt on planes through the decoded cells (:mod:`.surface`)."""
_CELL_BITS = 3 * SCALES  # Morton bits of one stride-8 cell: blocks never split a cell
_MAX_EXTENT_BITS = 17  # a block spans less than 2**17 voxels per axis (the sparse tensors' coordinate range)
_MAX_ORIGIN = 1 << 52  # the encoder's grid origin (in voxels) is bounded so (an int64 the float64 positions hold)


def split_blocks(keys: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Row ranges of sorted Morton ``keys`` forming blocks: octree cells of at most ``budget`` voxels (a cell of
    8**3 voxels is never split) spanning less than ``2**17`` voxels per axis.

    Returns:
        ``(start, stop)`` pairs covering ``[0, len(keys))`` in order.
    """
    out: list[tuple[int, int]] = []
    stack = [(0, len(keys))]
    while stack:
        lo, hi = stack.pop()
        if hi <= lo:
            continue
        span_bits = int(keys[lo] ^ keys[hi - 1]).bit_length()
        if (hi - lo <= budget and span_bits <= 3 * _MAX_EXTENT_BITS) or span_bits <= _CELL_BITS:
            out.append((lo, hi))
            continue
        digit = ((span_bits - 1) // 3) * 3  # the octree level where the range's first and last key differ
        cells = keys[lo:hi] >> digit
        cuts = lo + np.flatnonzero(np.diff(cells)) + 1
        edges = [lo, *cuts.tolist(), hi]
        stack.extend(reversed(list(zip(edges[:-1], edges[1:], strict=True))))
    return out


def decoded_points(params: dict) -> int:
    """How many points a lossy stream with these header parameters decodes to."""
    return params["surface_points"] if params.get("surface") is not None else params["points"]


def _cell_center(shift: int, integer: bool) -> float:
    return float(((1 << shift) - 1) // 2) if integer else ((1 << shift) - 1) / 2.0


@register_codec("lossy", modality="pointcloud")
class LossyCodec(Codec):
    """Lossy geometry by a learned autoencoder at rate point ``rate``; attributes recoloured onto the decoded points
    from the original (:func:`~.recolour.transfer_attributes`), then coded lossless or at ``attr_rate``."""

    description = "multiscale sparse-convolution autoencoder (lossy geometry; --rate 1..8 dense and LiDAR)"

    def compress(
        self,
        data: PointCloud,
        *,
        rate: int | None = None,
        grid_step: float | None = None,
        model: str = AUTO,
        coder: str = "constriction",
        block_points: int = DEFAULT_BLOCK_POINTS,
        attr_rate: int | None = None,
        progress: bool = False,
        **other: Any,
    ) -> bytes:
        """Compress a point cloud lossily.

        Args:
            data: the cloud.
            rate: rate point, 1 (lowest rate) to the family's count (:data:`~.lossy_zoo.RATE_POINTS`).
            grid_step: voxel edge in position units (1 for integer voxel positions, 0.001 for metres to 1 mm);
                None accepts only integer positions and uses 1.
            model: ``"auto"``, ``"dense"`` or ``"lidar"`` (the model family).
            coder: entropy coder, ``"constriction"`` or ``"torchac"``.
            block_points: voxels per block above which the cloud is split.
            attr_rate: None: colours and intensity coded losslessly (after recolouring); 1..8: lossy at that
                attribute rate point (1: fewest bits), independent of the geometry's ``rate``.
            progress: show a progress bar over the blocks.

        Returns:
            The stream bytes.

        Raises:
            InputError: a bad option (an unknown one, such as the lossless codecs' ``merge_duplicates``, included).
        """
        if other:
            raise InputError(f"codec {self.id!r} has no option {sorted(other)[0]!r}; it takes rate, grid_step, "
                             "model, coder, block_points, attr_rate")
        if not isinstance(data, PointCloud):
            raise InputError(f"the lossy codec compresses PointCloud objects, not {type(data).__name__}")
        if len(data) > limits.MAX_POINTS:
            raise InputError(f"{len(data)} points is more than the {limits.MAX_POINTS} one stream may hold")
        if model != AUTO and model not in FAMILIES:
            raise InputError(f"unknown lossy model {model!r}; choose auto, {', '.join(FAMILIES)}")
        if isinstance(block_points, bool) or not isinstance(block_points, int) or block_points < 4096:
            raise InputError(f"block_points must be an integer >= 4096, got {block_points!r}")
        if rate is None:
            raise InputError("the lossy codec needs a rate point (rate=1 is the lowest)")
        entropy = get_coder(coder)
        attr_rate = check_attr_rate(attr_rate)
        q, origin, step = quantize_positions(data.positions, grid_step)
        specs: list[dict] = []
        has_attributes = bool(data.attributes)
        fine = np.unique(morton_encode(q)) if len(q) else np.zeros(0, np.int64)
        family = choose_family(fine) if model == AUTO else model
        shift, g, keep, surf = rate_point(family, rate)
        surf = surf and shift > 0
        net, sha = load_lossy_model(model_name(family))
        coarse_net = load_model(family)
        keys = np.unique(fine >> (3 * shift)) if shift else fine
        blocks = split_blocks(keys, block_points)
        chunks: list[Chunk] = []
        block_params: list[dict[str, Any]] = []
        decoded: list[np.ndarray] = []
        with progress_bar(len(blocks), "lossy blocks", enabled=progress, unit="block") as bar:
            for lo, hi in blocks:
                coords = morton_decode(keys[lo:hi])
                params, geoc, latn, voxels = _encode_block(net, coarse_net, coords, g, keep, entropy,
                                                           has_attributes or surf)
                block_params.append(params)
                chunks += [Chunk("GEOC", geoc)] if latn is None else [Chunk("GEOC", geoc), Chunk("LATN", latn)]
                decoded.append(voxels)
                bar.update(1)
        points = sum(int(([b["coarse"]] + b["counts"])[-1]) for b in block_params)
        surface_points = None
        if has_attributes or surf:
            voxels = np.concatenate(decoded) if points else np.zeros((0, 3), np.int64)
            voxels = voxels[np.argsort(morton_encode(voxels), kind="stable")]
            positions = (voxels << shift) + _cell_center(shift, data.positions.dtype.kind in "iu")
        stride = 1
        if surf:  # the points the decoder rebuilds on the cells' planes, thinned to about the input's density
            rebuilt = surface.surface_points(voxels, shift)
            stride = surface.choose_stride(len(rebuilt), len(fine))
            voxels = rebuilt if stride == 1 else surface.surface_points(voxels, shift, stride)
            positions, surface_points = voxels, len(voxels)
        if has_attributes:
            if points:
                source = PointCloud(q, dict(data.attributes))
                values = transfer_attributes(source, positions)
            else:
                values = {name: v[:0] for name, v in data.attributes.items()}
            specs, payloads, _ = encode_attributes(values, voxels, attr_rate, entropy.id)
            chunks += [Chunk("ATTR", payload) for payload in payloads]
        header_params: dict[str, Any] = {
            "grid_step": step,
            "origin": [int(v) for v in origin],
            "positions_dtype": data.positions.dtype.str,
            "input_points": len(data),
            "points": points,
            "rate": int(rate),
            "family": family,
            "shift": shift,
            "gain": g,
            "blocks": block_params,
            "surface": SURFACE_PLANES if surf else None,
            "surface_points": surface_points,
            "coarse_model": family,
            "coarse_sha256": coarse_net.sha256,
            "attributes": specs,
        }
        if stride > 1:
            header_params["surface_stride"] = stride
        header = StreamHeader(modality="pointcloud", codec=self.id, coder_id=entropy.id, params=header_params,
                              model=model_name(family), weights_sha256=bytes.fromhex(sha))
        stream = pack(header, chunks)
        if g is None and not surf and family == "lidar":
            other = _spin_stream(data, step, shift, coder, attr_rate, rate)
            if other is not None and len(other) < len(stream):
                return other
        return stream

    def decompress(self, stream: Stream, *, progress: bool = False) -> PointCloud:
        """Decode a stream written by :meth:`compress`: one point per decoded voxel, in Morton order.

        Raises:
            CorruptStreamError: inconsistent parameters or payloads.
            ModelError: the stream's models are not the ones installed here.
        """
        p = _checked_params(stream.header.params)
        net = _stream_model(stream.header)
        coarse_net = load_model(p["coarse_model"])
        if coarse_net.sha256 != p["coarse_sha256"]:
            raise ModelError(f"the stream's coarse geometry was coded with occupancy model {p['coarse_model']!r} "
                             f"sha256 {p['coarse_sha256'][:16]}..., this installation has "
                             f"{coarse_net.sha256[:16]}...; decode with the omnicodec version that wrote it")
        if p["gain"] is not None and p["gain"] >= net.config.gains:
            raise CorruptStreamError(f"gain index {p['gain']} is beyond the model's {net.config.gains}")
        entropy = get_coder(stream.header.coder_id)
        geoc, latn = stream.chunks_named("GEOC"), stream.chunks_named("LATN")
        latent_blocks = 0 if p["gain"] is None else len(p["blocks"])  # a geometry-only stream has no latent
        if len(geoc) != len(p["blocks"]) or len(latn) != latent_blocks:
            raise CorruptStreamError(f"{len(geoc)} geometry and {len(latn)} latent payloads for "
                                     f"{len(p['blocks'])} blocks")
        latn = latn or [b""] * len(geoc)
        parts = []
        with progress_bar(len(p["blocks"]), "lossy blocks", enabled=progress, unit="block") as bar:
            for block, gdata, ldata in zip(p["blocks"], geoc, latn, strict=True):
                parts.append(_decode_block(net, coarse_net, block, gdata, ldata, p["gain"], entropy))
                bar.update(1)
        voxels = np.concatenate(parts) if parts else np.zeros((0, 3), np.int64)
        voxels = voxels[np.argsort(morton_encode(voxels), kind="stable")] if len(voxels) else voxels
        if len(voxels) != p["points"]:
            raise CorruptStreamError(f"the blocks decode to {len(voxels)} points, the header says {p['points']}")
        dtype = stream_dtype(p["positions_dtype"], "positions dtype")
        shift = p["shift"]
        if p["surface"] is None:
            fine = (voxels << shift) + _cell_center(shift, dtype.kind in "iu")
        else:
            voxels = surface.surface_points(voxels, shift, p["surface_stride"])
            if len(voxels) != p["surface_points"]:
                raise CorruptStreamError(f"the surface rebuilds {len(voxels)} points, the header says "
                                         f"{p['surface_points']}")
            fine, shift = voxels, 0
        grid = fine + np.asarray(p["origin"], np.float64)
        positions = grid.astype(dtype) if p["grid_step"] == 1.0 else (grid * p["grid_step"]).astype(dtype)
        attributes = decode_attributes(p["attributes"], stream.chunks_named("ATTR"), voxels, entropy.id)
        try:
            depth = max(depth_for(voxels << shift), 1) if len(voxels) else 0
        except ValueError as exc:
            raise CorruptStreamError(f"the lossy blocks decode outside the octree grid ({exc})") from None
        origin = tuple(int(v) for v in p["origin"])
        return PointCloud(positions, attributes, grid=Grid(p["grid_step"], origin, depth))  # type: ignore[arg-type]


def _encode_block(net: LossyNet, coarse_net, coords: np.ndarray, g: int | None, keep: tuple[float, ...], entropy,
                  want_voxels: bool):
    """Code one block of voxels (N, 3) int64; returns its header entry, the two payloads (the latent's None for a
    geometry-only rate point) and, when asked, the voxels the decoder will reconstruct (absolute, on the coarsened
    grid). ``keep`` scales the voxel counts sent per stride."""
    base = (coords.min(axis=0) >> SCALES) << SCALES
    rel = coords - base
    if g is None:  # geometry only: every voxel, losslessly
        keys = np.sort(morton_encode(rel))
        depth = max(depth_for(rel), 1)
        enc = entropy.encoder()
        encode_occupancy_learned(occupancy_codes(keys, depth), coarse_net, enc)
        params = {"origin": [int(v) for v in base], "depth": depth, "coarse": len(keys), "counts": []}
        return params, enc.finish(), None, coords if want_voxels else None
    x = SparseTensor(torch.from_numpy(rel), torch.ones(len(rel), 1), 1)
    coords8, z, counts = net.encode_latent(x, g)
    counts = scaled_counts(len(coords8), counts, keep)
    cells = coords8 >> SCALES
    keys8 = morton_encode(cells)
    order = np.argsort(keys8)
    keys8, coords8, z = keys8[order], coords8[order], z[order]
    depth8 = max(depth_for(cells), 1)
    enc = entropy.encoder()
    encode_occupancy_learned(occupancy_codes(keys8, depth8), coarse_net, enc)
    geoc = enc.finish()
    enc = entropy.encoder()
    q = net.priors[g].encode(enc, torch.from_numpy(np.ascontiguousarray(z.T))[None])[0].T.numpy()
    latn = enc.finish()
    voxels = net.decode_voxels(coords8, q, counts, g) + base if want_voxels else None
    params = {"origin": [int(v) for v in base], "depth": depth8, "coarse": len(keys8), "counts": counts}
    return params, geoc, latn, voxels


def _spin_stream(data: PointCloud, step: float, shift: int, coder: str, attr_rate: int | None, rate: int
                 ) -> bytes | None:
    """The ``spin`` stream of a sweep on the coarsened grid ``step * 2**shift`` (duplicates merged), with the lossy
    header's ``rate``, ``input_points``, ``family`` and ``shift``, and the input's ``input_grid_step``; None when the
    cloud is not a sweep."""
    from .spin_codec import MIN_POINTS, SpinCodec

    if len(data) < MIN_POINTS:
        return None
    try:
        centre = _cell_center(shift, data.positions.dtype.kind in "iu") * step  # decoded points at cell centres
        stream = SpinCodec().compress(data, grid_step=step * (1 << shift), coder=coder, merge_duplicates=True,
                                      attr_rate=attr_rate, offset=centre)
    except InputError:  # no azimuth step: not a sweep
        return None
    parsed = unpack(stream)
    params = {**parsed.header.params, "rate": int(rate), "input_points": len(data), "input_grid_step": step,
              "family": "lidar", "shift": shift}
    header = StreamHeader(modality="pointcloud", codec="spin", coder_id=parsed.header.coder_id, params=params,
                          model=parsed.header.model, weights_sha256=parsed.header.weights_sha256)
    return pack(header, parsed.chunks)


def scaled_counts(coarse: int, counts: list[int], keep: tuple[float, ...]) -> list[int]:
    """The voxel counts to send for strides 4, 2, 1: the input's ``counts`` times ``keep``, rounded and clamped to
    what the decoder can reach (each scale keeps between one and eight children per voxel of the scale above)."""
    out, above = [], coarse
    for n, f in zip(counts, keep, strict=True):
        above = min(max(int(round(n * f)), above), 8 * above)
        out.append(above)
    return out


def _decode_block(net: LossyNet, coarse_net, block: dict, gdata: bytes, ldata: bytes, g: int | None,
                  entropy) -> np.ndarray:
    dec = entropy.decoder(gdata)
    keys8 = decode_occupancy_learned(dec, block["depth"], block["coarse"], coarse_net, direct_levels=True)
    if len(keys8) != block["coarse"]:
        raise CorruptStreamError(f"a block's coarse geometry decodes to {len(keys8)} voxels, not {block['coarse']}")
    if g is None:
        return morton_decode(keys8) + np.asarray(block["origin"], np.int64)
    coords8 = morton_decode(keys8) << SCALES
    dec = entropy.decoder(ldata)
    q = net.priors[g].decode(dec, (1, net.config.latent, len(keys8)))[0].T.numpy()
    return net.decode_voxels(coords8, q, block["counts"], g) + np.asarray(block["origin"], np.int64)


def _stream_model(header: StreamHeader) -> LossyNet:
    name, digest = header.model, header.weights_sha256.hex()
    if not name or len(digest) != 64:
        raise CorruptStreamError("lossy stream does not name its model and its weights' sha256")
    try:
        net, sha = load_lossy_model(name)
    except (InputError, ModelError) as exc:
        raise ModelError(f"the stream was coded with model {name!r}, which cannot be loaded here: {exc}") from None
    if sha != digest:
        raise ModelError(f"the stream was coded with model {name!r} sha256 {digest[:16]}..., this installation has "
                         f"{sha[:16]}...; decode with the omnicodec version that wrote it")
    return net


def _checked_params(params: dict) -> dict:
    """Validate the header against the hard limits before anything is allocated."""
    try:
        p = {
            "grid_step": float(params["grid_step"]),
            "origin": [int(v) for v in params["origin"]],
            "positions_dtype": str(params["positions_dtype"]),
            "points": int(params["points"]),
            "shift": int(params["shift"]),
            "gain": None if params["gain"] is None else int(params["gain"]),
            "coarse_model": str(params["coarse_model"]),
            "coarse_sha256": str(params["coarse_sha256"]),
            "attributes": list(params["attributes"]),
            "surface": None if params.get("surface") is None else str(params["surface"]),
            "surface_points": None if params.get("surface_points") is None else int(params["surface_points"]),
            "surface_stride": 1 if params.get("surface_stride") is None else int(params["surface_stride"]),
            "blocks": [
                {"origin": [int(v) for v in b["origin"]], "depth": int(b["depth"]), "coarse": int(b["coarse"]),
                 "counts": [int(v) for v in b["counts"]]}
                for b in params["blocks"]
            ],
        }
        dtype = stream_dtype(p["positions_dtype"], "positions dtype")
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CorruptStreamError(f"lossy stream parameters are malformed ({exc})") from None
    if len(p["origin"]) != 3 or dtype.kind not in "fiu" or not (np.isfinite(p["grid_step"]) and p["grid_step"] > 0):
        raise CorruptStreamError("lossy stream parameters are malformed (origin, dtype or grid step)")
    if max(abs(v) for v in p["origin"]) >= _MAX_ORIGIN:
        raise CorruptStreamError(f"lossy stream declares an origin {p['origin']} beyond +-2**52 voxels")
    if not 0 <= p["shift"] <= limits.MAX_OCTREE_DEPTH or (p["gain"] is not None and p["gain"] < 0):
        raise CorruptStreamError(f"lossy stream declares shift {p['shift']} and gain {p['gain']}")
    if not 0 <= p["points"] <= limits.MAX_POINTS:
        raise CorruptStreamError(f"stream declares {p['points']} points, beyond the limit of {limits.MAX_POINTS}")
    total = 0
    scales = 0 if p["gain"] is None else SCALES
    for b in p["blocks"]:
        chain = [b["coarse"], *b["counts"]]
        if len(b["origin"]) != 3 or len(b["counts"]) != scales or not 1 <= b["depth"] <= _MAX_EXTENT_BITS:
            raise CorruptStreamError("a lossy block entry is malformed")
        growth = zip(chain[:-1], chain[1:], strict=True)
        if not 0 <= min(b["origin"]) <= max(b["origin"]) < 1 << limits.MAX_OCTREE_DEPTH:
            raise CorruptStreamError(f"a lossy block declares an origin {b['origin']} outside the octree grid")
        if chain[0] < 1 or any(not a <= c <= 8 * a for a, c in growth):
            raise CorruptStreamError(f"a lossy block declares impossible voxel counts {chain}")
        total += chain[-1]
    if total != p["points"]:
        raise CorruptStreamError(f"the blocks hold {total} points, the header says {p['points']}")
    if len(p["attributes"]) > 1024 or not all(isinstance(a, dict) for a in p["attributes"]):
        raise CorruptStreamError("lossy stream attribute list is malformed")
    if p["surface"] is not None:
        n = p["surface_points"]
        if p["surface"] != SURFACE_PLANES:
            raise CorruptStreamError(f"lossy stream asks for an unknown surface reconstruction {p['surface']!r}")
        if not 1 <= p["surface_stride"] <= surface.MAX_STRIDE:
            raise CorruptStreamError(f"lossy stream declares surface stride {p['surface_stride']}")
        if not 1 <= p["shift"] <= surface.MAX_SHIFT or n is None or not (
                p["points"] <= n <= min(p["points"] << (3 * p["shift"]), limits.MAX_POINTS)):
            raise CorruptStreamError(f"lossy stream declares {n} surface points for {p['points']} cells at "
                                     f"shift {p['shift']}")
    return p
