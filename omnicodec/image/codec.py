"""The image codec (codec id ``image``): any RGB or grey 8-bit image, rate points 1..8, one stream, two cores.

**Wavelet core** (the default, model ``image_wavelet``; :mod:`.wavelet`): BT.709 Y'CbCr, a CDF 9/7 wavelet of up to
6 levels (or an 8x8 block DCT for the three finest, :mod:`.block_dct`, for images that were JPEG), dead-zone
quantisation with the same pixel-domain step in every band, and the values coded plane by plane
with learned context tables that adapt to the image (:mod:`.subband_coder`, :mod:`.subband_model`), then an adaptive
loop filter (:mod:`.loop_filter`). A ``PLNE`` and a ``LOOP`` chunk per plane. Memory is about 70 bytes per pixel at
the peak (one plane's transform and contexts at a time); images of more than 2**24 pixels are coded in strips of rows
(:data:`.wavelet.STRIP_PIXELS`), which bounds it. Header parameters: ``transform`` (``"cdf97"``), ``height``,
``width``, ``channels`` (1 or 3), ``rate``, ``chroma`` (chroma step factor in 1/16), ``wrap`` and ``sphere``
(panoramas), ``loop``, ``strips`` (when more than one), ``dct`` (true with the block DCT), ``lattice`` (the JPEG
quantisation steps the DCT values sit on, when found).

**Hyperprior autoencoder** (``model="image_core"``, kind ``image``): pads the image to a multiple of 64 pixels, runs
the analysis in windows (:mod:`.tiling`), scales the latent by the rate point's gain vector and codes it in entropy
tiles of ``tile`` x ``tile`` latent elements, each tile one ``TILE`` chunk holding its hyper-latent and latent
(:mod:`.latent_coder`). Header parameters: ``height``, ``width``, ``channels``, ``rate``, ``tile``, ``wrap``,
``sphere``. Rate point ``R`` is gain level ``R - 1``, trained with the trade-offs of :data:`.model.LAMBDAS`.

Decoding is exact where it matters for the stream: every probability comes from integers, so the decoded values
are identical on every machine, thread count and device. The wavelet core's inverse transform is elementwise float64
(the same on every IEEE machine); the autoencoder's synthesis is float32, identical across thread counts on one
machine (tested). The model's name and weights sha256 are in the header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import zoo
from ..bitstream import Chunk, Stream, StreamHeader, limits, pack
from ..codecs.registry import Codec, register_codec
from ..entropy import get_coder
from ..errors import CorruptStreamError, InputError
from ..omni.latitude import latent_row_gains
from ..progress import progress_bar
from ..types import ErpImage
from . import wavelet
from .latent_coder import HYPER_FACTOR, decode_tile, encode_tile
from .model import DOWNSCALE, LAMBDAS, GainHyperprior
from .models import load_image_model, stream_model
from .subband_model import KIND as wavelet_kind
from .tiling import analysis_windowed, synthesis_windowed, windows

__all__ = ["ImageParams", "ImageCodec", "encode_pixels", "decode_pixels", "RATES", "MAX_SIDE", "DEFAULT_RATE"]

RATES = len(LAMBDAS)
"""Rate points 1 .. RATES."""
MAX_SIDE = 1 << 17
"""Largest image side a stream may declare."""
DEFAULT_RATE = 4
"""Rate point used when none is given."""
DEFAULT_TILE = 64
"""Latent elements per entropy-tile side (1024 pixels)."""
TRANSFORMS = ("auto", "wavelet", "dct")
"""Values of the wavelet core's ``transform`` option."""
WINDOW = 1024
"""Pixels per transform-window side (bounds the networks' memory)."""


@dataclass(frozen=True)
class ImageParams:
    """The parameters of an image stream, validated once (from the caller or from a header)."""

    height: int
    width: int
    channels: int
    rate: int
    tile: int = DEFAULT_TILE
    wrap: bool = False
    sphere: bool = False

    def __post_init__(self) -> None:
        if not (1 <= self.height <= MAX_SIDE and 1 <= self.width <= MAX_SIDE):
            raise InputError(f"image size {self.height}x{self.width} is outside 1..{MAX_SIDE} per side")
        if self.height * self.width > limits.MAX_PIXELS:
            raise InputError(f"image of {self.height * self.width} pixels exceeds the limit of {limits.MAX_PIXELS}")
        if self.channels not in (1, 3):
            raise InputError(f"images must have 1 or 3 channels, got {self.channels}")
        if not (isinstance(self.rate, int) and 1 <= self.rate <= RATES):
            raise InputError(f"rate must be an integer from 1 to {RATES}, got {self.rate!r}")
        if not (isinstance(self.tile, int) and self.tile >= HYPER_FACTOR and self.tile % HYPER_FACTOR == 0
                and self.tile <= 1024):
            raise InputError(f"tile must be a multiple of {HYPER_FACTOR} from {HYPER_FACTOR} to 1024, got {self.tile}")

    @property
    def latent_shape(self) -> tuple[int, int]:
        """Latent rows and columns (of the image padded to a multiple of 64)."""
        return -(-self.height // DOWNSCALE) * 4, -(-self.width // DOWNSCALE) * 4

    def tiles(self) -> list[tuple[int, int, int, int]]:
        """Entropy tiles ``(r0, r1, c0, c1)`` in latent coordinates, raster order."""
        return list(windows(*self.latent_shape, self.tile))

    def to_header(self) -> dict[str, Any]:
        return {"height": self.height, "width": self.width, "channels": self.channels, "rate": self.rate,
                "tile": self.tile, "wrap": self.wrap, "sphere": self.sphere}

    @classmethod
    def from_header(cls, p: dict[str, Any]) -> ImageParams:
        keys = ("height", "width", "channels", "rate", "tile", "wrap", "sphere")
        if not isinstance(p, dict) or set(p) != set(keys):
            raise CorruptStreamError("image stream parameters are missing or unknown")
        if not all(isinstance(p[k], int) and not isinstance(p[k], bool) for k in keys[:5]) or not all(
            isinstance(p[k], bool) for k in keys[5:]
        ):
            raise CorruptStreamError("image stream parameters have the wrong types")
        try:
            return cls(**{k: p[k] for k in keys})
        except InputError as exc:
            raise CorruptStreamError(f"image stream parameters: {exc}") from None


def _as_rgb(pixels: np.ndarray) -> tuple[np.ndarray, int]:
    p = np.asarray(pixels)
    if p.ndim == 2:
        p = p[:, :, None]
    if p.ndim != 3 or p.shape[2] not in (1, 3):
        raise InputError(f"images must be (H, W) or (H, W, 1 or 3), got shape {p.shape}"
                         + ("; drop the alpha channel first" if p.ndim == 3 and p.shape[2] == 4 else ""))
    if p.dtype != np.uint8:
        raise InputError(f"images must be 8-bit (uint8), got {p.dtype}")
    if p.shape[0] == 0 or p.shape[1] == 0:
        raise InputError(f"image has no pixels (shape {p.shape})")
    channels = p.shape[2]
    return (np.repeat(p, 3, axis=2) if channels == 1 else p), channels


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{what} must be an integer, got {value!r}")
    return int(value)


def _row_gains(params: ImageParams) -> torch.Tensor | None:
    if not params.sphere:
        return None
    h = params.latent_shape[0]
    return torch.from_numpy(latent_row_gains(params.height, h)).float()[None, None, :, None]


def encode_pixels(net: GainHyperprior, pixels: np.ndarray, params: ImageParams, coder: str | int = "constriction",
                  progress: bool = False) -> list[Chunk]:
    """The ``TILE`` chunks of ``pixels (H, W, 3) uint8`` under ``params`` (see the module docstring)."""
    hp, wp = (s * 16 for s in params.latent_shape)
    level = params.rate - 1
    with torch.no_grad():
        y = analysis_windowed(lambda t: net.analysis(t, level), pixels, (hp, wp), WINDOW, params.wrap)
        gains = _row_gains(params)
        if gains is not None:
            y = y * gains
    chunks = []
    tiles = params.tiles()
    with progress_bar(len(tiles), "image tiles", enabled=progress, unit="tile") as bar:
        for r0, r1, c0, c1 in tiles:
            enc = get_coder(coder).encoder()
            encode_tile(net, enc, y[..., r0:r1, c0:c1].contiguous())
            chunks.append(Chunk("TILE", enc.finish()))
            bar.update(1)
    return chunks


def decode_pixels(net: GainHyperprior, chunks: list[bytes], params: ImageParams, coder: str | int = "constriction",
                  progress: bool = False) -> np.ndarray:
    """Inverse of :func:`encode_pixels`: ``(H, W, 3)`` uint8."""
    tiles = params.tiles()
    if len(chunks) != len(tiles):
        raise CorruptStreamError(f"{len(chunks)} tile payloads for {len(tiles)} tiles")
    h, w = params.latent_shape
    y = torch.empty((1, net.config.latent, h, w), dtype=torch.float32)
    with progress_bar(len(tiles), "image tiles", enabled=progress, unit="tile") as bar:
        for (r0, r1, c0, c1), data in zip(tiles, chunks, strict=True):
            dec = get_coder(coder).decoder(data)
            y[..., r0:r1, c0:c1] = decode_tile(net, dec, (1, net.config.latent, r1 - r0, c1 - c0))
            dec.finish()
            bar.update(1)
    gains = _row_gains(params)
    if gains is not None:
        y = y / gains
    out = np.empty((params.height, params.width, 3), dtype=np.uint8)
    level = params.rate - 1

    def sink(r0: int, r1: int, c0: int, c1: int, piece: torch.Tensor) -> None:
        r1c, c1c = min(r1, params.height), min(c1, params.width)
        if r0 >= r1c or c0 >= c1c:
            return
        v = piece[0, :, : r1c - r0, : c1c - c0].clamp_(0.0, 1.0).mul_(255.0).round_()
        out[r0:r1c, c0:c1c] = v.permute(1, 2, 0).to(torch.uint8).numpy()

    with torch.no_grad():
        synthesis_windowed(lambda t: net.synthesis(t, level), y, WINDOW, params.wrap, sink)
    return out


@register_codec("image", "image")
class ImageCodec(Codec):
    """Image codec: any RGB or grey 8-bit image at rate points 1..8 (``rate``).

    Two cores share the codec id: the wavelet core (:mod:`.wavelet`, learned context tables; the default) and the
    learned hyperprior autoencoder (``model="image_core"`` / ``"image_erp"``, kind ``image``). A stream names its core
    in its header (``transform: cdf97`` for the wavelet core), and both decode."""

    description = "image codec (CDF 9/7 wavelet and learned context tables, or the hyperprior), rate points 1-8"
    default_model = "image_wavelet"
    default_chroma = 1.0
    """Chroma step factor of the wavelet core when none is given: equal steps in Y', Cb and Cr, the high-rate optimum
    for PSNR-RGB (an RGB error weighs Cb and Cr errors about as much as luma errors)."""
    wrap = False
    sphere = False

    def _params(self, pixels: np.ndarray, channels: int, rate: Any, tile: Any) -> ImageParams:
        return ImageParams(pixels.shape[0], pixels.shape[1], channels, rate, tile, self.wrap, self.sphere)

    def compress(self, data: ErpImage, *, rate: int = DEFAULT_RATE, coder: str | int = "constriction",
                 model: str | None = None, tile: int = DEFAULT_TILE, chroma: float | None = None,
                 transform: str = "auto", progress: bool = False, **unknown: Any) -> bytes:
        """Encode ``data`` (an :class:`~omnicodec.types.ErpImage`, or an ``(H, W[, C])`` uint8 array) at rate point
        ``rate`` (1 = lowest .. 8; default 4).

        Args:
            data: the image: ``(H, W, 3)`` RGB or ``(H, W)`` / ``(H, W, 1)`` grey, uint8, any size.
            rate: rate point.
            coder: entropy coder.
            model: model name in the zoo: ``image_wavelet`` (default; the wavelet core's context tables), or an
                autoencoder of kind ``image`` (``image_core``; ``image_erp`` for panoramas).
            tile: autoencoder only: latent elements per entropy-tile side (16 pixels each); 64 = 1024-pixel tiles.
            chroma: wavelet core only: chroma quantiser step relative to luma (0.25 to 16, in steps of 1/16); default
                :attr:`default_chroma` (1 for ``image``, 2.4375 for ``erp``).
            transform: wavelet core only: ``"wavelet"`` (CDF 9/7 at every level), ``"dct"`` (an 8x8 block DCT for
                the three finest levels, :mod:`.block_dct`: images that were JPEG; sides must be multiples of 8), or
                ``"auto"`` (default): the DCT where the encoder estimates it codes the luma for less.
            progress: show a progress bar over the tiles or planes.

        Raises:
            InputError: not an 8-bit grey or RGB image, a bad rate, tile or option, or an unknown model.
        """
        if unknown:
            raise InputError(f"{self.id} codec: unknown option(s) {', '.join(sorted(unknown))}")
        pixels, channels = _as_rgb(data.pixels if isinstance(data, ErpImage) else data)
        params = self._params(pixels, channels, _integer(rate, "rate"), _integer(tile, "tile"))
        chroma16 = wavelet.check_chroma(self.default_chroma if chroma is None else chroma)
        if transform not in TRANSFORMS:
            raise InputError(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")
        name = model or self.default_model
        coder_id = get_coder(coder).id
        kind = zoo.entry(name)["kind"]
        if kind not in (wavelet_kind, "image"):
            known = ", ".join(sorted(zoo.list_models(wavelet_kind)) + sorted(zoo.list_models("image")))
            raise InputError(f"model {name!r} is of kind {kind}, not an image model; available: {known}")
        if kind == wavelet_kind:
            ctx_model, sha = load_image_model(name, wavelet_kind)
            wp = wavelet.WaveletParams.for_image(params.height, params.width, channels, params.rate, chroma16,
                                                 panorama=self.sphere)
            if transform == "dct" and not wp.can_dct:
                raise InputError(f"transform 'dct' needs sides divisible by 8 and of 64 or more pixels, got "
                                 f"{params.width}x{params.height}")
            if transform == "dct":
                wp = wavelet.dct_params(pixels, wp)
            elif transform == "auto":
                wp = wavelet.choose_transform(pixels, wp, ctx_model)
            chunks = wavelet.encode(pixels, wp, ctx_model, coder, progress)
            header = StreamHeader("image", self.id, coder_id, wp.to_header(), name, bytes.fromhex(sha))
            return pack(header, chunks)
        if transform != "auto":
            raise InputError(f"transform is an option of the wavelet core, not of model {name!r}")
        net, sha = load_image_model(name)
        chunks = encode_pixels(net, pixels, params, coder, progress)
        header = StreamHeader("image", self.id, coder_id, params.to_header(), name, bytes.fromhex(sha))
        return pack(header, chunks)

    def decompress(self, stream: Stream, *, progress: bool = False) -> ErpImage:
        """Decode a stream written by :meth:`compress`.

        Raises:
            CorruptStreamError: inconsistent parameters or payloads.
            ModelError: the stream's model is not installed here.
        """
        p = stream.header.params
        if isinstance(p, dict) and "transform" in p:
            wp = wavelet.WaveletParams.from_header(p, MAX_SIDE, limits.MAX_PIXELS)
            if wp.sphere != self.sphere or (wp.wrap and not self.wrap):
                raise CorruptStreamError(f"{self.id} stream with wrap={wp.wrap} sphere={wp.sphere}")
            ctx_model = stream_model(stream.header, wavelet_kind)
            tags = ("PLNE", "LOOP") if wp.loop else ("PLNE",)
            if any(c.tag != tags[i % len(tags)] for i, c in enumerate(stream.chunks)):
                raise CorruptStreamError("image stream holds chunks other than its planes and their filters")
            pixels = wavelet.decode([c.data for c in stream.chunks], wp, ctx_model, stream.header.coder_id, progress)
            channels, rate = wp.channels, wp.rate
        else:
            params = ImageParams.from_header(p)
            if params.wrap != self.wrap or params.sphere != self.sphere:
                raise CorruptStreamError(f"{self.id} stream with wrap={params.wrap} sphere={params.sphere}")
            net = stream_model(stream.header)
            pixels = decode_pixels(net, stream.chunks_named("TILE"), params, stream.header.coder_id, progress)
            if len(stream.chunks) != len(params.tiles()):
                raise CorruptStreamError("image stream holds chunks other than its tiles")
            channels, rate = params.channels, params.rate
        if channels == 1:
            pixels = np.round(pixels.mean(axis=2, keepdims=True)).astype(np.uint8)
        return ErpImage(pixels, metadata={"codec": self.id, "rate": rate})
