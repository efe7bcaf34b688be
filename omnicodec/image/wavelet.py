"""The wavelet image core: colour transform, CDF 9/7 wavelet, per-band quantisation, learned context coding.

``encode(pixels, params, model)`` turns an ``(H, W, 3)`` uint8 image into one chunk per plane; ``decode`` inverts
it. Steps:

1. RGB -> BT.709 Y'CbCr (full range, float64; luma centred on 0); a grey image is its luma plane alone.
2. :func:`.dwt.forward` with :func:`levels_for` levels (up to 6), columns periodic for panoramas (``wrap``).
3. Each band gets the step ``STEPS[rate - 1] * chroma / sqrt(gain)``: ``gain`` the band's synthesis energy
   (:func:`.dwt.band_gains`), so every band adds the same pixel error per unit of quantiser error; ``chroma`` is the
   stream's chroma step factor (1 for luma). With ``sphere``, rows are divided by the latitude gain of
   :func:`omnicodec.omni.latitude.row_gains` (coarser towards the poles, where a row covers little of the sphere).
4. :func:`.subband_coder.code_plane` codes the values: luma first, then each chroma plane with luma as context.
5. With ``loop`` (every new image and panorama stream), the encoder fits the adaptive loop filter of
   :mod:`.loop_filter` to each decoded plane and sends it in a ``LOOP`` chunk after the plane's ``PLNE`` chunk; the
   decoder applies it before the colour transform.

Every value that reaches a probability is an integer, so streams decode identically everywhere; the inverse wavelet
and colour transform are elementwise IEEE float64, rounded to 8 bits at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..bitstream import Chunk
from ..entropy import get_coder
from ..errors import CorruptStreamError, InputError
from ..omni.latitude import row_gains
from ..progress import progress_bar
from . import block_dct, dwt, loop_filter
from .subband_coder import BandQ, band_shapes, check_decoded, code_plane, dequantise, quantise_sizes
from .subband_model import SubbandModel, group_of

__all__ = ["WaveletParams", "encode", "decode", "quantised_plane", "reconstruct", "levels_for", "STEPS", "RATES",
           "MAX_LEVELS", "TRANSFORM"]

TRANSFORM = "cdf97"
"""Header value naming this core."""
RATES = 8
STEPS = tuple(56.0 * 2.0 ** (-r / 2.0) for r in range(RATES))
"""Luma quantiser step (8-bit pixel units, before the band gains) of rate points 1..8."""
MAX_LEVELS = 6
RD_LAMBDA = 0.115
"""The encoder's rate-distortion trade-off in squared quantiser steps per bit (``2 ln 2 / 12``, the high-rate slope
of a uniform quantiser): a value is lowered by one where that saves more than this much distortion per bit."""
CHROMA_UNIT = 16
"""The header's chroma step factor is an integer in units of 1/16."""
_VALUE_LIMIT = 1 << 26
_M = np.array([[0.2126, 0.7152, 0.0722],
               [-0.2126 / 1.8556, -0.7152 / 1.8556, (1 - 0.0722) / 1.8556],
               [(1 - 0.2126) / 1.5748, -0.7152 / 1.5748, -0.0722 / 1.5748]])
_M_INV = np.linalg.inv(_M)
_M_JFIF = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
"""JPEG's (JFIF's) Y'CbCr, the colour space of streams with a ``lattice``: a JPEG's DCT values lie on its
quantisation lattice only there."""
_M_JFIF_INV = np.linalg.inv(_M_JFIF)
_KEYS = ("transform", "height", "width", "channels", "rate", "chroma", "wrap", "sphere")
_OPTIONAL_KEYS = ("loop", "strips", "dct", "lattice")
STRIP_PIXELS = 1 << 24
"""Images of more pixels are coded in strips of whole rows of at most about this many pixels each, which bounds the
memory of coding to that of one strip."""
MAX_STRIP_PIXELS = 1 << 25
"""Most pixels a stream's strip may declare (twice :data:`STRIP_PIXELS`, overlaps aside): a stream's ``height`` and
``width`` are checked against its strips, and so against the chunks present, before anything is allocated."""
STRIP_OVERLAP = 16
"""Rows a strip reaches past each boundary with its neighbour: the ``2 * STRIP_OVERLAP`` rows two strips share are
cross-faded, so no seam shows."""
_MIN_STRIP_ROWS = 8 * STRIP_OVERLAP


def levels_for(height: int, width: int) -> int:
    """Wavelet levels of an image: ``floor(log2(min side)) - 3``, clipped to ``0 .. MAX_LEVELS``."""
    return int(min(max(min(height, width).bit_length() - 1 - 3, 0), MAX_LEVELS))


@dataclass(frozen=True)
class WaveletParams:
    """Parameters of a wavelet image stream (validated by the caller's :class:`~.codec.ImageParams` limits)."""

    height: int
    width: int
    channels: int
    rate: int
    chroma: int = CHROMA_UNIT
    wrap: bool = False
    sphere: bool = False
    loop: bool = False
    strips: int = 1
    top: int = 0
    """First row of a strip in its image (0 for a whole image; not in the header)."""
    full_height: int = 0
    """Height of the image a strip belongs to (0: ``height``; not in the header)."""
    dct: bool = False
    """The 8x8 block DCT of :mod:`.block_dct` in place of the three finest wavelet levels (header key ``dct``,
    absent: false)."""
    lattice: tuple[tuple[int, ...], ...] | None = None
    """With ``dct``: per plane, the 64 JPEG quantisation steps its DCT values sit on (0: none,
    :func:`.block_dct.find_lattice`); the planes are then JFIF Y'CbCr. None: no lattice, BT.709."""

    @classmethod
    def for_image(cls, height: int, width: int, channels: int, rate: int, chroma: int = CHROMA_UNIT,
                  panorama: bool = False, loop: bool = True) -> WaveletParams:
        """A panorama gets latitude steps, and periodic columns where its width allows them (:func:`.dwt.can_wrap`);
        ``loop``: the adaptive loop filter (streams written before it had none). An image of more than
        :data:`STRIP_PIXELS` pixels is cut into strips (:func:`strips_for`)."""
        wrap = panorama and dwt.can_wrap(width, levels_for(height, width))
        return cls(height, width, channels, rate, chroma, wrap, panorama, loop, strips_for(height, width))

    @property
    def levels(self) -> int:
        return levels_for(self.height, self.width)

    @property
    def can_dct(self) -> bool:
        """Whether the image can take the block DCT: sides multiples of 8 and three levels or more (strips, whose
        bounds then fall on multiples of 8, have at least 128 rows and so four levels or more)."""
        return block_dct.fits(self.height, self.width, self.levels)

    @property
    def jfif(self) -> bool:
        """Whether the planes are JFIF Y'CbCr (streams with a ``lattice``) rather than BT.709."""
        return self.lattice is not None

    @property
    def transform(self):
        """The module of the transform: :mod:`.block_dct` with ``dct``, else :mod:`.dwt`."""
        return block_dct if self.dct else dwt

    @property
    def planes(self) -> int:
        return 1 if self.channels == 1 else 3

    def to_header(self) -> dict[str, Any]:
        header = {"transform": TRANSFORM, "height": self.height, "width": self.width, "channels": self.channels,
                  "rate": self.rate, "chroma": self.chroma, "wrap": self.wrap, "sphere": self.sphere}
        if self.loop:
            header["loop"] = True
        if self.strips > 1:
            header["strips"] = self.strips
        if self.dct:
            header["dct"] = True
        if self.lattice is not None:
            header["lattice"] = [list(t) for t in self.lattice]
        return header

    def pieces(self) -> list[tuple[int, int, WaveletParams]]:
        """``(first row, end row, parameters)`` of each strip, overlaps included (one piece without strips)."""
        if self.strips == 1:
            return [(0, self.height, self)]
        bounds = [k * self.height // self.strips for k in range(self.strips + 1)]
        if self.dct:  # every strip on the 8x8 grid of the image
            bounds = [b // block_dct.BLOCK * block_dct.BLOCK for b in bounds]
        out = []
        for k in range(self.strips):
            a, e = max(bounds[k] - STRIP_OVERLAP, 0), min(bounds[k + 1] + STRIP_OVERLAP, self.height)
            out.append((a, e, replace(self, height=e - a, strips=1, top=a, full_height=self.height)))
        return out

    @classmethod
    def from_header(cls, p: dict[str, Any], max_side: int, max_pixels: int) -> WaveletParams:
        if not set(_KEYS) <= set(p) <= set(_KEYS + _OPTIONAL_KEYS) or p["transform"] != TRANSFORM:
            raise CorruptStreamError("image stream parameters are missing or unknown")
        p = {"loop": False, "strips": 1, "dct": False, "lattice": None, **p}
        ints = ("height", "width", "channels", "rate", "chroma", "strips")
        if not all(isinstance(p[k], int) and not isinstance(p[k], bool) for k in ints) or not all(
                isinstance(p[k], bool) for k in ("wrap", "sphere", "loop", "dct")):
            raise CorruptStreamError("image stream parameters have the wrong types")
        h, w = p["height"], p["width"]
        if not (1 <= h <= max_side and 1 <= w <= max_side) or h * w > max_pixels:
            raise CorruptStreamError(f"image stream declares an image of {h}x{w} pixels, outside the limits")
        if p["channels"] not in (1, 3) or not 1 <= p["rate"] <= RATES or not 4 <= p["chroma"] <= 16 * CHROMA_UNIT:
            raise CorruptStreamError("image stream parameters are out of range")
        if not (p["strips"] == 1 or 2 <= p["strips"] <= h // _MIN_STRIP_ROWS):
            raise CorruptStreamError(f"image stream asks for {p['strips']} strips of a {h}-row image")
        if h * w > p["strips"] * MAX_STRIP_PIXELS:  # checked before any plane is allocated
            raise CorruptStreamError(f"image stream declares {h}x{w} pixels in {p['strips']} strip(s), more than "
                                     f"{MAX_STRIP_PIXELS} pixels a strip")
        lattice = _check_lattice(p["lattice"], 1 if p["channels"] == 1 else 3, p["dct"])
        params = cls(h, w, p["channels"], p["rate"], p["chroma"], p["wrap"], p["sphere"], p["loop"], p["strips"],
                     dct=p["dct"], lattice=lattice)
        if params.wrap and not dwt.can_wrap(w, params.levels):
            raise CorruptStreamError("image stream asks for periodic columns its width does not allow")
        if params.dct and not params.can_dct:
            raise CorruptStreamError(f"image stream asks for the block DCT of a {h}x{w} image, which cannot take it")
        return params


def _check_lattice(value: Any, planes: int, dct: bool) -> tuple[tuple[int, ...], ...] | None:
    """A header's ``lattice``: None, or (only with ``dct``) one list of 64 integers 0..255 per plane, DC 0."""
    if value is None:
        return None
    size = block_dct.BLOCK * block_dct.BLOCK
    if not dct or not isinstance(value, list) or len(value) != planes or not all(
            isinstance(t, list) and len(t) == size and t[0] == 0 and all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= block_dct.LATTICE_MAX for v in t)
            for t in value):
        raise CorruptStreamError("image stream has a malformed lattice")
    return tuple(tuple(t) for t in value)


def strips_for(height: int, width: int) -> int:
    """Strips of an image: 1 up to :data:`STRIP_PIXELS` pixels, else enough for that many pixels each (strips of at
    least ``8 * STRIP_OVERLAP`` rows)."""
    if height * width <= STRIP_PIXELS:
        return 1
    n = min(-(-height * width // STRIP_PIXELS), height // _MIN_STRIP_ROWS)
    return max(n, 1)


def _row_steps(params: WaveletParams, rows: int, shift: int, block: bool = False) -> np.ndarray | float:
    """``(rows, 1)`` divisors of the step for band rows each covering ``2**shift`` image rows (1 without sphere);
    the latitudes are those of the rows in the whole image for a strip. ``block``: a band of the block DCT, whose
    rows each belong to one row of 8x8 blocks (the latitude of the block's centre)."""
    if not params.sphere:
        return 1.0
    full = params.full_height or params.height
    if block:
        per_block = block_dct.BLOCK >> shift
        centre = params.top + (np.arange(rows) // per_block) * block_dct.BLOCK + (block_dct.BLOCK - 1) / 2.0
    else:
        centre = params.top + np.minimum((np.arange(rows) + 0.5) * (1 << shift) - 0.5, params.height - 1.0)
    return row_gains(90.0 - (centre + 0.5) * 180.0 / full)[:, None]


def _steps(params: WaveletParams, plane: int) -> tuple[np.ndarray | float, list[list[np.ndarray | float]]]:
    """Quantiser steps of ``LL`` and of every band of ``plane`` (scalars, or ``(rows, 1)`` for panoramas)."""
    levels = params.levels
    g_ll, gains = params.transform.band_gains(levels)
    ll_shape, shapes = band_shapes(params.height, params.width, levels)
    base = STEPS[params.rate - 1] * (params.chroma / CHROMA_UNIT if plane else 1.0)
    ll = base / np.sqrt(g_ll) / _row_steps(params, ll_shape[0], levels)
    bands = []
    for lev, (level_gains, level_shapes) in enumerate(zip(gains, shapes, strict=True)):
        shift = levels - lev
        block = params.dct and shift <= block_dct.BLOCK_LEVELS
        bands.append([base / np.sqrt(g) / _row_steps(params, s[0], shift, block)
                      for g, s in zip(level_gains, level_shapes, strict=True)])
    lattice = _lattice_arrays(params, plane)
    if lattice is not None:  # steps on the JPEG lattice: its step, or the multiple of it nearest the plain step
        for lev, tri in zip(range(levels - block_dct.BLOCK_LEVELS, levels), lattice, strict=True):
            bands[lev] = [np.where(lq > 0, lq * np.maximum(np.round(st / np.maximum(lq, 1.0)), 1.0), st)
                          for st, lq in zip(bands[lev], tri, strict=True)]
    return ll, bands


def _lattice_arrays(params: WaveletParams, plane: int) -> list[tuple[np.ndarray, ...]] | None:
    """The lattice steps of the three finest levels' values of ``plane`` (:func:`.block_dct.lattice_bands`), or
    None where the plane has no lattice."""
    if params.lattice is None or not any(params.lattice[plane]):
        return None
    return block_dct.lattice_bands(params.lattice[plane], params.height // block_dct.BLOCK,
                                   params.width // block_dct.BLOCK)


def _plane(pixels: np.ndarray, c: int, planes: int, jfif: bool = False) -> np.ndarray:
    """Plane ``c`` (Y', Cb, Cr; luma centred on 0; BT.709, or JFIF's with ``jfif``) of ``pixels (H, W, 3)`` uint8
    as float64, one plane at a time."""
    if planes == 1:
        return pixels[:, :, 0] - 128.0
    m = (_M_JFIF if jfif else _M)[c]
    out = m[0] * pixels[:, :, 0]
    out += m[1] * pixels[:, :, 1]
    out += m[2] * pixels[:, :, 2]
    if c == 0:
        out -= 128.0
    return out


def _row_weights(params: WaveletParams) -> np.ndarray | None:
    """``(H,)`` weights of each row's squared errors for the loop filter: the square of the latitude gain (the
    WS-PSNR weight, floored as the steps are), None without ``sphere``."""
    if not params.sphere:
        return None
    return np.asarray(_row_steps(params, params.height, 0), dtype=np.float64).reshape(-1) ** 2


def reconstruct(q: BandQ, params: WaveletParams, model: SubbandModel, c: int) -> np.ndarray:
    """Plane ``c`` rebuilt from its quantised values ``q`` (before any loop filter): ``(H, W)`` float64."""
    s_ll, s_bands = _steps(params, c)
    levels = params.levels
    bands = [tuple(dequantise(v, s, model.offsets_q[group_of(c, levels - 1 - lev, 0)])
                   for v, s in zip(tri, st, strict=True))
             for lev, (tri, st) in enumerate(zip(q[1], s_bands, strict=True))]
    lattice = _lattice_arrays(params, c)
    if lattice is not None:  # values back onto the lattice, the only values the source held
        for lev, tri in zip(range(levels - block_dct.BLOCK_LEVELS, levels), lattice, strict=True):
            bands[lev] = tuple(np.where(lq > 0, lq * np.round(b / np.maximum(lq, 1.0)), b)
                               for b, lq in zip(bands[lev], tri, strict=True))
    return params.transform.inverse(q[0] * s_ll, bands, params.wrap)


def _lam(params: WaveletParams, c: int) -> float:
    """The loop filter's trade-off: :data:`RD_LAMBDA` squared steps per bit, in squared pixel errors."""
    return RD_LAMBDA * (STEPS[params.rate - 1] * (params.chroma / CHROMA_UNIT if c else 1.0)) ** 2


def quantised_plane(pixels: np.ndarray, params: WaveletParams, c: int) -> tuple[BandQ, list[list[np.ndarray]]]:
    """Plane ``c`` of ``pixels`` transformed and quantised: its values and, for the rate-distortion pass, every
    band's unquantised ``|x| / step``."""
    ll, bands = params.transform.forward(_plane(pixels, c, params.planes, params.jfif), params.levels, params.wrap)
    s_ll, s_bands = _steps(params, c)
    sizes = [[np.abs(b) / s for b, s in zip(tri, st, strict=True)] for tri, st in zip(bands, s_bands, strict=True)]
    q = [[quantise_sizes(b, a) for b, a in zip(tri, at, strict=True)] for tri, at in zip(bands, sizes, strict=True)]
    return (np.round(ll / s_ll).astype(np.int64), q), sizes


_DCT_TRIAL_PIXELS = 1 << 22
"""The encoder estimates the block DCT's cost on at most about this many pixels (the middle rows)."""
DCT_MARGIN = 0.97
"""The block DCT is chosen where its estimated cost is below this fraction of the wavelet's (the estimate, luma
only and without contexts, favours the DCT by a few per cent on images that never were JPEG)."""


def _entropy_bits(q: np.ndarray) -> float:
    """Zeroth-order entropy of the integers ``q``, in bits (values past +-4096 lumped together)."""
    counts = np.bincount(np.clip(q, -4096, 4096).reshape(-1) + 4096)
    counts = counts[counts > 0]
    return float((counts * np.log2(q.size / counts)).sum())


def estimated_cost(pixels: np.ndarray, params: WaveletParams, model: SubbandModel) -> float:
    """The encoder's estimate of ``D + lam R`` for the luma of ``pixels`` under ``params``: squared error of the
    quantised plane (WS-weighted for panoramas) plus :data:`RD_LAMBDA` squared steps per bit of the values'
    zeroth-order entropy, band by band."""
    q, _ = quantised_plane(pixels, params, 0)
    bits = _entropy_bits(q[0]) + sum(_entropy_bits(b) for level in q[1] for b in level)
    err = reconstruct(q, params, model, 0) - _plane(pixels, 0, params.planes, params.jfif)
    err *= err
    weights = _row_weights(params)
    d = float(err.sum() if weights is None else (err.sum(axis=1) * weights).sum())
    return d + RD_LAMBDA * STEPS[params.rate - 1] ** 2 * bits


def _trial(params: WaveletParams) -> tuple[int, int, WaveletParams]:
    """The rows ``a .. e`` and parameters the encoder judges the block DCT on: the whole image, or the middle rows
    (on the 8x8 grid) of its middle strip for images in strips or of more than ``_DCT_TRIAL_PIXELS`` pixels."""
    pieces = replace(params, dct=True).pieces()
    a, e, piece = pieces[len(pieces) // 2]
    rows = max(_DCT_TRIAL_PIXELS // params.width // block_dct.BLOCK * block_dct.BLOCK, 8 * block_dct.BLOCK)
    if rows < e - a:
        first = a + (e - a - rows) // 2 // block_dct.BLOCK * block_dct.BLOCK
        piece = replace(piece, height=rows, top=first, full_height=params.full_height or params.height)
        a, e = first, first + rows
    return a, e, piece


def dct_params(pixels: np.ndarray, params: WaveletParams) -> WaveletParams:
    """``params`` with the block DCT and, where the image's JFIF planes sit on a JPEG lattice
    (:func:`.block_dct.find_lattice`, judged on :func:`_trial`'s rows), that lattice.

    Raises:
        ValueError: the image cannot take the block DCT (:attr:`WaveletParams.can_dct`).
    """
    if not params.can_dct:
        raise ValueError(f"a {params.width}x{params.height} image cannot take the block DCT")
    a, e, _ = _trial(params)
    luma = block_dct.find_lattice(_plane(pixels[a:e], 0, params.planes, True))
    if not any(luma):  # no JPEG made this image (on this grid): chroma has no lattice either
        return replace(params, dct=True)
    lattice = (luma,) + tuple(block_dct.find_lattice(_plane(pixels[a:e], c, params.planes, True))
                              for c in range(1, params.planes))
    return replace(params, dct=True, lattice=lattice)


def choose_transform(pixels: np.ndarray, params: WaveletParams, model: SubbandModel) -> WaveletParams:
    """``params`` as they are (the wavelet) or with the block DCT (:func:`dct_params`: images that were JPEG at a
    grid starting at their first row and column), whichever the estimated cost of :func:`_trial`'s rows favours;
    the DCT must be below :data:`DCT_MARGIN` times the wavelet's. The wavelet where the image cannot take the DCT
    (:attr:`WaveletParams.can_dct`)."""
    if not params.can_dct:
        return params
    dct = dct_params(pixels, params)
    a, e, piece = _trial(params)
    wavelet_cost = estimated_cost(pixels[a:e], replace(piece, dct=False), model)
    dct_cost = estimated_cost(pixels[a:e], replace(piece, lattice=dct.lattice), model)
    return dct if dct_cost < DCT_MARGIN * wavelet_cost else params


def encode(pixels: np.ndarray, params: WaveletParams, model: SubbandModel, coder: str | int = "constriction",
           progress: bool = False) -> list[Chunk]:
    """One ``PLNE`` chunk per plane of ``pixels (H, W, 3)`` uint8 (luma only for grey images), each followed by its
    ``LOOP`` chunk with ``params.loop``; strip after strip for an image in strips."""
    chunks = []
    with progress_bar(params.planes * params.strips, "image planes", enabled=progress, unit="plane") as bar:
        for a, e, piece in params.pieces():
            luma: BandQ | None = None
            part = pixels[a:e]
            for c in range(params.planes):
                q, sizes = quantised_plane(part, piece, c)
                enc = get_coder(coder).encoder()
                code_plane(enc, model, c, piece.height, piece.width, piece.levels, q, luma, rdo=(sizes, RD_LAMBDA))
                del sizes
                chunks.append(Chunk("PLNE", enc.finish()))
                if params.loop:
                    f = loop_filter.fit(_plane(part, c, piece.planes, piece.jfif), reconstruct(q, piece, model, c),
                                        _lam(piece, c), piece.wrap, _row_weights(piece))
                    chunks.append(Chunk("LOOP", loop_filter.to_bytes(f)))
                if c == 0:
                    luma = q
                bar.update(1)
    return chunks


def _decode_planes(chunks: list[bytes], params: WaveletParams, model: SubbandModel, coder: str | int,
                   bar) -> np.ndarray:
    """The ``(planes, H, W)`` float64 planes of one piece (luma centred on 0), loop-filtered."""
    per_plane = 2 if params.loop else 1
    filters = [loop_filter.from_bytes(d) for d in chunks[1::2]] if params.loop else []
    out = np.empty((params.planes, params.height, params.width), dtype=np.float64)
    luma: BandQ | None = None
    for c, data in enumerate(chunks[::per_plane]):
        dec = get_coder(coder).decoder(data)
        q = code_plane(dec, model, c, params.height, params.width, params.levels, None, luma)
        dec.finish()
        check_decoded(q, _VALUE_LIMIT)
        out[c] = reconstruct(q, params, model, c)
        if filters:
            loop_filter.apply(out[c], filters[c], params.wrap)
        if c == 0:
            luma = q
        bar.update(1)
    return out


def _to_rgb(planes: np.ndarray, out: np.ndarray, jfif: bool = False) -> None:
    """Writes ``(planes, h, W)`` decoded planes (luma centred on 0) into ``out (h, W, 3)`` uint8."""
    if planes.shape[0] == 1:
        out[:] = np.clip(np.round(planes[0] + 128.0), 0, 255).astype(np.uint8)[:, :, None]
        return
    y = planes[0] + 128.0
    for k in range(3):  # one output channel at a time (bounded memory), as fixed-order elementwise sums
        m = (_M_JFIF_INV if jfif else _M_INV)[k]
        out[:, :, k] = np.clip(np.round(m[0] * y + m[1] * planes[1] + m[2] * planes[2]), 0, 255)


def decode(chunks: list[bytes], params: WaveletParams, model: SubbandModel, coder: str | int = "constriction",
           progress: bool = False) -> np.ndarray:
    """Inverse of :func:`encode` (``chunks``: the payloads, ``PLNE`` and ``LOOP`` alternating with ``params.loop``,
    strip after strip): ``(H, W, 3)`` uint8 (grey images: the luma repeated). Two strips' shared rows are
    cross-faded linearly, in float64, before the colour transform."""
    per_piece = params.planes * (2 if params.loop else 1)
    if len(chunks) != per_piece * params.strips:
        raise CorruptStreamError(f"{len(chunks)} payloads for {params.planes} planes in {params.strips} strip(s)")
    rgb = np.empty((params.height, params.width, 3), dtype=np.uint8)
    pieces = params.pieces()
    carry = None  # the previous strip's decoded rows that this strip shares
    with progress_bar(params.planes * params.strips, "image planes", enabled=progress, unit="plane") as bar:
        for k, (a, e, piece) in enumerate(pieces):
            planes = _decode_planes(chunks[k * per_piece:(k + 1) * per_piece], piece, model, coder, bar)
            if carry is not None:
                n = carry.shape[1]
                w = (np.arange(n) + 0.5) / n
                planes[:, :n] = carry * (1.0 - w)[:, None] + planes[:, :n] * w[:, None]
            end = pieces[k + 1][0] if k + 1 < len(pieces) else e
            carry = planes[:, end - a:].copy() if k + 1 < len(pieces) else None
            _to_rgb(planes[:, :end - a], rgb[a:end], params.jfif)
    return rgb


def check_chroma(value: Any) -> int:
    """A chroma step factor given by a caller: a number from 0.25 to 16, kept in units of 1/16."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.25 <= value <= 16:
        raise InputError(f"chroma step factor must be a number from 0.25 to 16, got {value!r}")
    return int(round(value * CHROMA_UNIT))
