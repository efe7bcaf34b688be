"""The light-field codec (codec id ``lightfield``): views ``(U, V, H, W, 3)`` uint8, rate points 1..8, one stream.

Per spatial tile (``tile`` x ``tile`` pixels of every view, 1024 by default, coded independently so that memory is
bounded by the tile):

1. **Disparity**: the encoder estimates a block map for the key view (:mod:`.disparity`) and sends it; every
   prediction below uses it.
2. **Key view** (the view nearest the grid centre): the image core (:mod:`omnicodec.image`; the wavelet core, named
   in the header's ``key_core``, or the hyperprior autoencoder in streams without it, :mod:`.key_core`) at the core
   rate point the encoder finds best for this rate, plus an enhancement layer, the residual over the core's
   reconstruction (:mod:`.residual`, kind 0), when it pays.
3. **Every other view**, in the hierarchical order of :mod:`.order`: predicted from up to four decoded views by
   disparity-compensated warping and blending (:mod:`.warp`), then its residual over the prediction (kind 1), or
   nothing when the prediction is good enough (a rate-distortion decision per view).

The quantiser step follows the rate point (:func:`view_step`) and the view's place in the hierarchy: views that
later views are predicted from get finer steps. All decisions are the encoder's; the decoder only mirrors them,
and everything it computes after the key view's core is integer arithmetic, so a stream decodes to the same views
on every machine and thread count (the core's synthesis, float32, is identical across thread counts on one machine).

Stream layout: header parameters (:class:`LightfieldParams`), then per tile a ``KEYC`` chunk per image-core tile of
the key view (none when the core is off) and one ``LFTL`` chunk with everything else, entropy coded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..bitstream import Chunk, Stream, StreamHeader, limits, pack
from ..codecs.registry import Codec, register_codec
from ..entropy import Decoder, Encoder, get_coder
from ..entropy.scale_table import NUM_SCALES
from ..errors import CorruptStreamError, InputError
from ..image.codec import RATES as CORE_RATES
from ..progress import progress_bar
from ..types import LightField
from . import residual as res
from .disparity import decode_disparity, encode_disparity, estimate_block_disparity, full_disparity
from .key_core import KeyCore, installed_key_core, stream_key_core
from .models import BLEND_KIND, BLEND_MODEL, DEFAULT_MODEL, load_tables, stream_tables
from .order import coding_plan
from .transform import step_code
from .warp import predict_view

__all__ = ["LightfieldParams", "LightfieldCodec", "RATES", "DEFAULT_RATE", "MAX_GRID", "view_step"]

RATES = 8
"""Rate points 1 .. RATES."""
DEFAULT_RATE = 4
MAX_GRID = 64
"""Largest number of view rows or columns."""
MAX_SPARSE = 8
"""Largest view spacing of the sparse-view mode."""
DEFAULT_TILE = 1024
DISPARITY_BLOCK = 16
CHROMA = 2.0
"""Chroma steps are this many times the luma step."""
_LAMBDA = 0.15
"""Rate-distortion trade-off: sum of squared errors (per colour channel, averaged) per bit, times step**2."""
ROUNDING = 0.5 - 1 / 6
"""Dead-zone rounding offset of the encoder's quantiser."""
KEY_LAMBDA = 0.25
"""The key view's trade-off relative to the others' (every other view is predicted from it)."""
LEVEL_LAMBDA = (1.0, 1.0)
"""Trade-off factors of the coarse (squared distance >= 16) and middle (>= 4) levels of the hierarchy."""
_NAME = re.compile(r"^[A-Za-z0-9_.\- ]{0,64}$")


def view_step(rate: int, level: int) -> float:
    """Luma quantiser step (orthonormal DCT units) of a view at ``level`` (0: key view) for rate point ``rate``.

    Rate point R follows HEVC's quantiser scale at QP ``47 - 5 (R - 1)``; views that others lean on (the key view,
    the coarse levels of the hierarchy) get finer steps, the finest level (views no other view is predicted from)
    coarser ones: factors 0.6 (key view), 0.8 (squared distance to the nearest reference >= 16), 1.0 (>= 4), 1.4.
    """
    qp = 47 - 5 * (rate - 1)
    base = 2.0 ** ((qp - 4) / 6)
    factor = 0.6 if level == 0 else 0.8 if level >= 16 else 1.0 if level >= 4 else 1.4
    return base * factor


def kept_positions(n: int, sparse: int) -> list[int]:
    """The coded positions of ``n`` view rows (or columns) in sparse-view mode: ``0, s, 2s, ...`` and ``n - 1``."""
    kept = list(range(0, n, sparse))
    return kept if kept[-1] == n - 1 else [*kept, n - 1]


def coded_mask(rows: int, cols: int, sparse: int) -> np.ndarray:
    """``(rows, cols)`` bool, True at the views a stream codes (all of them for ``sparse = 1``; in sparse-view mode
    the crossings of :func:`kept_positions`); the decoder synthesises the others."""
    mask = np.zeros((rows, cols), dtype=bool)
    mask[np.ix_(kept_positions(rows, sparse), kept_positions(cols, sparse))] = True
    return mask


def level_lambda(level: int) -> float:
    """The rate-distortion trade-off of a view at ``level`` relative to the finest level's: views that later views
    are predicted from weigh their own distortion more (it propagates)."""
    return LEVEL_LAMBDA[0] if level >= 16 else LEVEL_LAMBDA[1] if level >= 4 else 1.0


@dataclass(frozen=True)
class LightfieldParams:
    """The parameters of a light-field stream, validated once (from the caller or from a header)."""

    rows: int
    cols: int
    height: int
    width: int
    channels: int
    rate: int
    tile: int = DEFAULT_TILE
    naming: str = ""
    prefix: str = ""
    first_index: int = 0
    blend: str = ""
    blend_sha: str = ""
    sparse: int = 1
    key_core: str = ""
    key_sha: str = ""
    key_loop: bool = False
    filters: bool = True

    def __post_init__(self) -> None:
        if not (1 <= self.rows <= MAX_GRID and 1 <= self.cols <= MAX_GRID):
            raise InputError(f"light-field grid {self.rows}x{self.cols} is outside 1..{MAX_GRID} per side")
        if not (1 <= self.height <= 1 << 16 and 1 <= self.width <= 1 << 16):
            raise InputError(f"view size {self.height}x{self.width} is outside 1..65536 per side")
        if self.rows * self.cols * self.height * self.width > limits.MAX_PIXELS:
            raise InputError("light field exceeds the pixel limit of a stream")
        if self.channels not in (1, 3):
            raise InputError(f"light-field views must have 1 or 3 channels, got {self.channels}")
        if not (isinstance(self.rate, int) and 1 <= self.rate <= RATES):
            raise InputError(f"rate must be an integer from 1 to {RATES}, got {self.rate!r}")
        if not (isinstance(self.tile, int) and 64 <= self.tile <= 4096 and self.tile % 64 == 0):
            raise InputError(f"tile must be a multiple of 64 from 64 to 4096, got {self.tile!r}")
        if self.naming not in ("", "hci", "rowcol") or not _NAME.match(self.prefix):
            raise InputError("light-field naming must be hci or rowcol with a short plain prefix")
        if self.first_index not in (0, 1):
            raise InputError("view numbering starts at 0 or 1")
        if not _NAME.match(self.blend) or not re.fullmatch(r"(|[0-9a-f]{64})", self.blend_sha) or (
                bool(self.blend) != bool(self.blend_sha)):
            raise InputError("blending network name and sha256 must be given together")
        if not _NAME.match(self.key_core) or not re.fullmatch(r"(|[0-9a-f]{64})", self.key_sha) or (
                bool(self.key_core) != bool(self.key_sha)):
            raise InputError("key-view core name and sha256 must be given together")
        if not isinstance(self.key_loop, bool) or (self.key_loop and not self.key_core):
            raise InputError("the key view's loop filter needs the wavelet key core")
        if not isinstance(self.filters, bool):
            raise InputError("filters must be true or false")
        if not (isinstance(self.sparse, int) and 1 <= self.sparse <= MAX_SPARSE):
            raise InputError(f"sparse must be an integer from 1 (every view coded) to {MAX_SPARSE}, "
                             f"got {self.sparse!r}")

    @property
    def coded_rows(self) -> list[int]:
        """The view rows that are coded (every ``sparse``-th from the first, and the last); the others are
        synthesised by the decoder."""
        return kept_positions(self.rows, self.sparse)

    @property
    def coded_cols(self) -> list[int]:
        """The view columns that are coded (see :attr:`coded_rows`)."""
        return kept_positions(self.cols, self.sparse)

    @property
    def coded_mask(self) -> np.ndarray:
        """``(rows, cols)`` bool: the coded views (:func:`coded_mask`)."""
        return coded_mask(self.rows, self.cols, self.sparse)

    def tiles(self) -> list[tuple[int, int, int, int]]:
        """Spatial tiles ``(r0, r1, c0, c1)`` in pixels, raster order."""
        return [(r, min(r + self.tile, self.height), c, min(c + self.tile, self.width))
                for r in range(0, self.height, self.tile) for c in range(0, self.width, self.tile)]

    def to_header(self) -> dict[str, Any]:
        keys = _KEYS + _KEY_CORE if self.key_core else _KEYS
        header = {k: getattr(self, k) for k in keys}
        header = {**header, "key_loop": True} if self.key_loop else header
        return {**header, "filters": True} if self.filters else header

    @classmethod
    def from_header(cls, p: dict[str, Any]) -> LightfieldParams:
        if not isinstance(p, dict) or set(p) - {"filters"} not in (set(_KEYS), set(_KEYS + _KEY_CORE),
                                                                   set(_KEYS + _KEY_CORE + ("key_loop",))):
            raise CorruptStreamError("light-field stream parameters are missing or unknown")
        ints = [k for k in _KEYS if k not in _TEXT]
        if not all(isinstance(p[k], int) and not isinstance(p[k], bool) for k in ints) or not all(
                isinstance(p[k], str) for k in _TEXT + _KEY_CORE if k in p) or (
                "key_loop" in p and p["key_loop"] is not True) or ("filters" in p and p["filters"] is not True):
            raise CorruptStreamError("light-field stream parameters have the wrong types")
        try:
            return cls(**{"filters": False, **p})
        except InputError as exc:
            raise CorruptStreamError(f"light-field stream parameters: {exc}") from None


_KEYS = ("rows", "cols", "height", "width", "channels", "rate", "tile", "naming", "prefix", "first_index", "blend",
         "blend_sha", "sparse")
_TEXT = ("naming", "prefix", "blend", "blend_sha")
_KEY_CORE = ("key_core", "key_sha")
"""Parameters of streams whose key view goes through the wavelet core (absent: the hyperprior ``image_core``); with
``key_loop`` (true; absent in streams written before it) the core's loop filter follows each key-view plane. With
``filters`` (true; absent in streams written before it) every predicted view carries a flag choosing its warping
filter (bilinear or the sharper 4-tap filters, :func:`.warp.warp_view`); without it every view is warped bilinearly."""


def last_uses(plans: list) -> dict[tuple[int, int], int]:
    """The index in ``plans`` of the last view each view is a reference of."""
    return {r: i for i, plan in enumerate(plans) for r in plan.refs}


def drop_unused(planes: dict, last: dict[tuple[int, int], int], done: int) -> None:
    """Forget the phase planes of views no view after ``plans[done]`` is predicted from."""
    for pos in [p for p in planes if last[p] <= done]:
        del planes[pos]


def _uniform(n: int) -> np.ndarray:
    from ..entropy.tables import normalize_weights

    return normalize_weights(np.ones(n, dtype=np.int64))


def _steps(rate: int, level: int) -> tuple[int, int]:
    s = view_step(rate, level)
    return step_code(s), step_code(s * CHROMA)


def _sse(a: np.ndarray, b: np.ndarray) -> float:
    d = a.astype(np.int64) - b.astype(np.int64)
    return float((d * d).sum()) / 3.0


def _residual_bits(levels: np.ndarray, grad: np.ndarray, kind: int, tables: res.ResidualTables) -> float:
    classes = res.block_classes(levels)
    ctx = res.class_table(kind, res._class_contexts(grad, classes[0]))
    bits = tables.classes.log2_prob(classes.reshape(-1), ctx.reshape(-1)).sum()
    coded, idx = res._level_index(kind, classes)
    if idx.size:
        bits += tables.levels.log2_prob(levels[coded].reshape(-1), idx).sum()
    return float(bits)


class _TileEncoder:
    """Encodes one spatial tile of every view (see the module docstring)."""

    def __init__(self, params: LightfieldParams, tables: res.ResidualTables, core: KeyCore, coder: str | int,
                 counts: list[np.ndarray] | None = None, blend=None) -> None:
        self.params, self.tables, self.core, self.coder, self.blend = params, tables, core, coder, blend
        self.counts = counts  # [class counts, level counts] accumulated over what is coded (for learning tables)
        self.planes: dict = {}  # phase planes of the decoded views still used as references (sharp warps)

    def _levels(self, x: np.ndarray, pred: np.ndarray, steps: tuple[int, int], kind: int,
                lam: float) -> tuple[np.ndarray, np.ndarray]:
        """Levels of the residual after the per-block rate-distortion decisions, and the gradient contexts."""
        coeffs = res.transform(x, pred)
        grad = res.gradient_context(pred, steps[0])
        levels = res.quantize_coeffs(coeffs, steps, ROUNDING)
        return res.drop_costly_blocks(coeffs, levels, steps, grad, kind, self.tables, lam), grad

    def _residual(self, enc: Encoder, x: np.ndarray, pred: np.ndarray, steps: tuple[int, int], kind: int,
                  lam: float) -> np.ndarray:
        """Codes a view's residual (a flag, then the levels when any block is kept); returns the decoded view."""
        levels, grad = self._levels(x, pred, steps, kind, lam)
        code = bool(levels.any())
        if code:
            rec = res.reconstruct(levels, pred, steps)
            code = _sse(x, rec) + lam * _residual_bits(levels, grad, kind, self.tables) < _sse(x, pred)
        enc.encode(np.array([int(code)]), _uniform(2))
        if not code:
            return pred
        res.encode_levels(enc, levels, grad, kind, self.tables)
        if self.counts is not None:
            for acc, c in zip(self.counts, res.count_symbols(levels, grad, kind), strict=True):
                acc += c
        return rec

    def _key(self, key: np.ndarray, lam: float) -> tuple[int, list[Chunk], np.ndarray]:
        """The key view's core rate point (0: no core, a flat grey base), its ``KEYC`` chunks and the decoded
        base, chosen by rate-distortion cost (core bits plus the enhancement layer's, when that pays)."""
        h, w = key.shape[:2]
        steps = _steps(self.params.rate, 0)

        def cost(base: np.ndarray, core_bits: float) -> float:
            levels, grad = self._levels(key, base, steps, 0, lam)
            if not levels.any():
                return lam * core_bits + _sse(key, base)
            rec = res.reconstruct(levels, base, steps)
            return lam * (core_bits + _residual_bits(levels, grad, 0, self.tables)) + _sse(key, rec)

        flat = np.full_like(key, 128)
        best = (cost(flat, 0.0), 0, [], flat)
        for r in range(1, CORE_RATES + 1):
            chunks = self.core.encode(key, r)
            base = self.core.decode([c.data for c in chunks], h, w, r)
            j = cost(base, 8.0 * sum(len(c.data) for c in chunks))
            if j < best[0]:
                best = (j, r, chunks, base)
        return best[1], [Chunk("KEYC", c.data) for c in best[2]], best[3]

    def _prediction(self, enc: Encoder, x: np.ndarray, refs: list[np.ndarray], plan, disparity: np.ndarray
                    ) -> np.ndarray:
        """The view's prediction with the warping filter whose error is smaller (its flag coded when the stream
        has :attr:`LightfieldParams.filters`)."""
        pred = predict_view(refs, plan.refs, plan.view, disparity, self.blend)
        if not self.params.filters:
            return pred
        sharp = predict_view(refs, plan.refs, plan.view, disparity, self.blend, True, self.planes)
        use = _sse(x, sharp) < _sse(x, pred)
        enc.encode(np.array([int(use)]), _uniform(2))
        return sharp if use else pred

    def encode(self, views: np.ndarray, bar) -> list[Chunk]:
        u, v, h, w, _ = views.shape
        plans = coding_plan(u, v)
        key = plans[0].view
        enc = get_coder(self.coder).encoder()
        blocks = estimate_block_disparity(views, key, DISPARITY_BLOCK)
        scale = encode_disparity(enc, blocks) if u * v > 1 else 0
        disparity = full_disparity(blocks, DISPARITY_BLOCK, h, w)
        lam = _LAMBDA * view_step(self.params.rate, 8) ** 2
        core_rate, key_chunks, base = self._key(views[key], lam * KEY_LAMBDA)
        enc.encode(np.array([core_rate]), _uniform(CORE_RATES + 1))
        decoded: dict[tuple[int, int], np.ndarray] = {}
        decoded[key] = self._residual(enc, views[key], base, _steps(self.params.rate, 0), 0, lam * KEY_LAMBDA)
        bar.update(1)
        self.planes.clear()
        last = last_uses(plans)
        for i, plan in enumerate(plans[1:], start=1):
            pred = self._prediction(enc, views[plan.view], [decoded[r] for r in plan.refs], plan, disparity)
            drop_unused(self.planes, last, i)
            decoded[plan.view] = self._residual(enc, views[plan.view], pred, _steps(self.params.rate, plan.level),
                                                1, lam * level_lambda(plan.level))
            bar.update(1)
        self.reconstruction = np.stack([np.stack([decoded[(r, c)] for c in range(v)]) for r in range(u)])
        return key_chunks + [Chunk("LFTL", bytes([scale]) + enc.finish())]


def _decode_tile(params: LightfieldParams, tables: res.ResidualTables, core: KeyCore, coder: str | int,
                 chunks: list[Chunk], h: int, w: int, bar, blend=None) -> np.ndarray:
    # the coded grid: every view, or the sparse-view mode's sub-grid
    """Decodes one tile from its chunks (``KEYC`` ..., ``LFTL``): ``(U, V, h, w, 3)`` uint8."""
    if not chunks or chunks[-1].tag != "LFTL" or len(chunks[-1].data) < 1:
        raise CorruptStreamError("light-field tile without its payload")
    scale, payload = chunks[-1].data[0], chunks[-1].data[1:]
    if scale >= NUM_SCALES:
        raise CorruptStreamError("light-field disparity table out of range")
    u, v = len(params.coded_rows), len(params.coded_cols)
    plans = coding_plan(u, v)
    dec: Decoder = get_coder(coder).decoder(payload)
    bh, bw = -(-h // DISPARITY_BLOCK), -(-w // DISPARITY_BLOCK)
    blocks = decode_disparity(dec, (bh, bw), scale) if u * v > 1 else np.zeros((bh, bw), dtype=np.int64)
    disparity = full_disparity(blocks, DISPARITY_BLOCK, h, w)
    core_rate = int(dec.decode(_uniform(CORE_RATES + 1), 1)[0])
    key_chunks = chunks[:-1]
    if core_rate == 0:
        if key_chunks:
            raise CorruptStreamError("light-field tile holds a key view the stream does not use")
        base = np.full((h, w, 3), 128, dtype=np.uint8)
    else:
        base = core.decode([c.data for c in key_chunks], h, w, core_rate)
    out = np.empty((u, v, h, w, 3), dtype=np.uint8)

    def residual(pred: np.ndarray, level: int, kind: int) -> np.ndarray:
        if not int(dec.decode(_uniform(2), 1)[0]):
            return pred
        steps = _steps(params.rate, level)
        grad = res.gradient_context(pred, steps[0])
        levels = res.decode_levels(dec, grad.shape, grad, kind, tables)
        return res.reconstruct(levels, pred, steps)

    out[plans[0].view] = residual(base, 0, 0)
    bar.update(1)
    planes: dict = {}
    last = last_uses(plans)
    for i, plan in enumerate(plans[1:], start=1):
        sharp = bool(params.filters and dec.decode(_uniform(2), 1)[0])
        pred = predict_view([out[r] for r in plan.refs], plan.refs, plan.view, disparity, blend, sharp, planes)
        drop_unused(planes, last, i)
        out[plan.view] = residual(pred, plan.level, 1)
        bar.update(1)
    dec.finish()
    return out


def _synthesise_missing(coded: np.ndarray, params: LightfieldParams, progress: bool) -> np.ndarray:
    """The full grid from the decoded sub-grid of the sparse-view mode: the other views synthesised."""
    from .synthesis import synthesize

    full = np.zeros((params.rows, params.cols, params.height, params.width, 3), dtype=np.uint8)
    present = params.coded_mask
    full[present] = coded.reshape(-1, *coded.shape[2:])
    missing = [(int(r), int(c)) for r, c in zip(*np.nonzero(~present), strict=True)]
    with progress_bar(len(missing), "synthesised views", enabled=progress, unit="view") as bar:
        for r, c in missing:
            full[r, c] = synthesize(full, present, [(float(r), float(c))])[0]
            bar.update(1)
    return full


def _installed_blend():
    """The blending network of this installation, its name and sha256.

    Raises:
        ModelError: the model index does not list it, or its file is missing or damaged (a damaged installation).
    """
    from .. import zoo

    return zoo.require(BLEND_MODEL, BLEND_KIND), BLEND_MODEL, zoo.entry(BLEND_MODEL, BLEND_KIND)["sha256"]


def _stream_blend(params: LightfieldParams):
    """The blending network a stream names (None for none), checked against its sha256.

    Raises:
        ModelError: not installed here, or different weights.
    """
    from .. import zoo
    from ..errors import ModelError

    if not params.blend:
        return None
    if params.blend not in zoo.list_models(BLEND_KIND):
        raise ModelError(f"the stream was coded with blending network {params.blend!r}, which this omnicodec does not "
                         "have; decode with the omnicodec version that wrote it")
    sha = zoo.entry(params.blend, BLEND_KIND)["sha256"]
    if sha != params.blend_sha:
        raise ModelError(f"the stream was coded with blending network {params.blend!r} sha256 {params.blend_sha[:16]}"
                         f"..., this installation has {sha[:16]}...")
    return zoo.load(params.blend, BLEND_KIND)


def _as_views(data: Any) -> tuple[np.ndarray, int, dict[str, Any]]:
    lf = data if isinstance(data, LightField) else LightField(np.asarray(data))
    views = lf.views
    if views.dtype != np.uint8:
        raise InputError(f"light-field views must be 8-bit (uint8), got {views.dtype}")
    if views.shape[-1] not in (1, 3):
        raise InputError(f"light-field views must have 1 or 3 channels, got {views.shape[-1]}"
                         + ("; drop the alpha channel first" if views.shape[-1] == 4 else ""))
    if 0 in views.shape:
        raise InputError(f"light field has no pixels (shape {views.shape})")
    channels = views.shape[-1]
    if channels == 1:
        views = np.repeat(views, 3, axis=-1)
    return views, channels, lf.metadata


@register_codec("lightfield", "lightfield")
class LightfieldCodec(Codec):
    """Learned light-field codec: disparity-compensated prediction, the image core for the key view."""

    description = "light fields: key view by the learned image core, disparity-compensated prediction, rate 1-8"

    def compress(self, data: LightField, *, rate: int = DEFAULT_RATE, coder: str | int = "constriction",
                 model: str | None = None, tile: int = DEFAULT_TILE, sparse: int = 1, progress: bool = False,
                 **unknown: Any) -> bytes:
        """Encode a light field at rate point ``rate`` (1 = lowest .. 8; default 4).

        Args:
            data: a :class:`~omnicodec.types.LightField` or a ``(U, V, H, W, C)`` uint8 array, C = 3 (RGB) or 1.
            rate: rate point.
            coder: entropy coder.
            model: light-field tables in the zoo (default ``lightfield``).
            tile: pixels per spatial tile side (a multiple of 64; tiles are coded independently).
            sparse: 1 codes every view; ``s > 1`` codes only the views of every ``s``-th row and column (and the
                last ones) and the decoder synthesises the others (:func:`~.synthesis.synthesize`).
            progress: show a progress bar over the views.

        Raises:
            InputError: not 8-bit views with 1 or 3 channels, a grid beyond 64 x 64, a bad rate, tile or option.
        """
        if unknown:
            raise InputError(f"lightfield codec: unknown option(s) {', '.join(sorted(unknown))}")
        views, channels, meta = _as_views(data)
        u, v, h, w, _ = views.shape
        naming = meta.get("naming") if meta.get("naming") in ("hci", "rowcol") else ""
        prefix = meta.get("prefix") if isinstance(meta.get("prefix"), str) and _NAME.match(meta["prefix"]) else ""
        first = meta.get("first_index", 0 if naming == "hci" else 1 if naming == "rowcol" else 0)
        if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)):
            raise InputError(f"rate must be an integer from 1 to {RATES}, got {rate!r}")
        for what, value in (("tile", tile), ("sparse", sparse)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise InputError(f"{what} must be an integer, got {value!r}")
        blend, blend_name, blend_sha = _installed_blend()
        core = installed_key_core(coder)
        params = LightfieldParams(u, v, h, w, channels, int(rate), int(tile), naming or "", prefix or "",
                                  int(first) if first in (0, 1) else 0, blend_name, blend_sha, int(sparse),
                                  core.name, core.sha256, core.loop)
        name = model or DEFAULT_MODEL
        tables, sha = load_tables(name)
        chunks: list[Chunk] = []
        tiles = params.tiles()
        coded = views[np.ix_(params.coded_rows, params.coded_cols)]
        with progress_bar(len(tiles) * coded.shape[0] * coded.shape[1], "light-field views", enabled=progress,
                          unit="view") as bar:
            for r0, r1, c0, c1 in tiles:
                chunks += _TileEncoder(params, tables, core, coder, blend=blend).encode(
                    np.ascontiguousarray(coded[:, :, r0:r1, c0:c1]), bar)
        header = StreamHeader("lightfield", self.id, get_coder(coder).id, params.to_header(), name,
                              bytes.fromhex(sha))
        return pack(header, chunks)

    def decompress(self, stream: Stream, *, progress: bool = False) -> LightField:
        """Decode a stream written by :meth:`compress` into a LightField ``(U, V, H, W, C)`` uint8 (the input's
        view naming in ``metadata``: ``naming``, ``prefix``, ``first_index``).

        Raises:
            CorruptStreamError: inconsistent parameters or payloads.
            ModelError: the stream's model is not installed here.
        """
        params = LightfieldParams.from_header(stream.header.params)
        tables = stream_tables(stream.header)
        core = stream_key_core(params.key_core, params.key_sha, stream.header.coder_id, params.key_loop)
        blend = _stream_blend(params)
        rows, cols = params.coded_rows, params.coded_cols
        chunks = list(stream.chunks)
        pos = 0
        tiles = params.tiles()
        ends = sum(c.tag != "KEYC" for c in chunks)  # each tile's chunks end with one that is not a key-view plane
        if ends != len(tiles):  # checked before the views are allocated: the declared size must fit the chunks
            raise CorruptStreamError(f"light-field stream declares {params.height}x{params.width} views in "
                                     f"{len(tiles)} tile(s) but holds {ends}")
        out = np.empty((len(rows), len(cols), params.height, params.width, 3), dtype=np.uint8)
        with progress_bar(len(tiles) * len(rows) * len(cols), "light-field views", enabled=progress,
                          unit="view") as bar:
            for r0, r1, c0, c1 in tiles:
                end = pos
                while end < len(chunks) and chunks[end].tag == "KEYC":
                    end += 1
                if end >= len(chunks):
                    raise CorruptStreamError("light-field stream ends before its last tile")
                out[:, :, r0:r1, c0:c1] = _decode_tile(params, tables, core, stream.header.coder_id,
                                                       chunks[pos : end + 1], r1 - r0, c1 - c0, bar, blend)
                pos = end + 1
        if pos != len(chunks):
            raise CorruptStreamError("light-field stream holds chunks beyond its tiles")
        if params.sparse > 1:
            out = _synthesise_missing(out, params, progress)
        if params.channels == 1:
            out = np.round(out.mean(axis=-1, keepdims=True)).astype(np.uint8)
        meta = {"codec": self.id, "rate": params.rate}
        if params.naming:
            meta.update(naming=params.naming, prefix=params.prefix, first_index=params.first_index)
        return LightField(out, metadata=meta)
