"""Standard-codec anchors, measured for real in the same run: HEVC-intra (x265), VVC-intra (vvenc), JPEG, WebP, AVIF.

Every anchor takes an (H, W, 3) uint8 RGB image and a quality parameter and returns ``(stream, decoded)``: the coded
bytes (what the rate is counted from) and the (H, W, 3) uint8 RGB image decoded back from them.

* ``hevc_intra(img, qp)``: x265 through PyAV, one intra frame, preset medium, tune psnr, constant QP, 4:2:0, one
  thread. The stream is the raw HEVC Annex-B bitstream exactly as x265 writes it (VPS/SPS/PPS, x265's SEI naming
  its version and options, the slice), no container. That SEI costs about 2.3 kB per image (0.035 bpp at 1024x512);
  the reference figures in GUIDE.md section 5 include it, so it is kept by default (``info_sei=False`` drops it).
  ``hevc_encode_frames`` / ``hevc_decode_frames`` code a sequence of same-sized images as one video with the same
  settings (extra x265 options, e.g. the group of pictures, appended); ``hevc_encode`` is the one-image case.
* ``vvc_intra(img, qp)``: vvenc through imageio-ffmpeg's ffmpeg (10-bit 4:2:0, the only input vvenc takes), preset
  medium, perceptual QP adaptation off, one thread; the raw ``.266`` bitstream; decoded by ffmpeg's native VVC
  decoder. Seconds include starting ffmpeg and the temporary files.
* ``jpeg(img, q)``: Pillow (libjpeg-turbo), 4:2:0, ``optimize=True`` (Huffman tables per image).
* ``webp(img, q)``: Pillow (libwebp), lossy, ``method=6`` (the slowest, best setting).
* ``avif(img, q)``: Pillow (libavif with aom), 4:2:0, ``speed=6`` (Pillow's default; a 2048x1024 image in about
  2 s on one thread; speed 5 is about 6 % smaller but 5x slower), one thread.

Colour for HEVC and VVC (done here, not by swscale, so the decoder inverts exactly what the encoder was given):
RGB -> Y'CbCr with the BT.709 matrix, full range, in float64; chroma averaged over each 2x2 block (chroma sited at
the block centre, signalled as chroma location 1); rounded to 8 bits (HEVC) or 10 bits (VVC). Decoding upsamples
chroma bilinearly for that siting (weights 3/4, 1/4, edges replicated) and inverts the matrix in float64, rounding
to uint8. Odd sizes are padded to even by edge replication and cropped back. JPEG, WebP and AVIF do their own
conversions (JPEG and WebP BT.601, AVIF as libavif chooses); every anchor is scored on the RGB it returns.

``ANCHORS`` maps each default anchor to ``(function, default qualities)``; ``EXTRA_ANCHORS`` holds VVC (slow, and
only where ffmpeg has libvvenc and a VVC decoder: ``vvc_available()``). ``timed(name, img, q)`` returns the two
halves' seconds as well.

Checked against GUIDE.md section 5 (x265 3.5): on horizonnet 1024x512, HEVC QP 22/27/32/37 gives the reference
WS-PSNR-Y and PSNR-Y to 0.01 dB with x265 3.5 (PyAV 12.0) and within 0.02 dB with x265 4.2 (PyAV 18.1), and bpp
within +0.1..+0.9 % (x265's SEI spells out its options, ours a few more); AVIF +18.6 % and JPEG +121.6 % against
HEVC (reference +19.5 %, +122.8 %); zind_room_01_pano_15 2048x1024 within 0.0005 bpp and 0.00 dB.
"""

from __future__ import annotations

import functools
import io
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

__all__ = ["hevc_intra", "hevc_encode_frames", "hevc_decode_frames", "strip_x265_info", "vvc_intra", "jpeg", "webp",
           "avif", "ANCHORS", "EXTRA_ANCHORS", "AnchorError", "timed", "TimedResult", "anchor_versions",
           "vvc_available", "rgb_to_ycbcr", "ycbcr_to_rgb"]

KR, KB = 0.2126, 0.0722  # BT.709
KG = 1.0 - KR - KB
AVIF_SPEED = 6
WEBP_METHOD = 6


class AnchorError(RuntimeError):
    """An anchor codec is missing (package, encoder or decoder) or failed; the message says which."""


# ---------------------------------------------------------------- colour


def _check_rgb(img: np.ndarray) -> np.ndarray:
    a = np.asarray(img)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"anchors take an (H, W, 3) uint8 RGB image, got {a.dtype} {a.shape}")
    return a


def rgb_to_ycbcr(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.709 full-range Y'CbCr of RGB, float64 on the 0..255 scale (Cb, Cr centred on 128), not rounded.

    Args:
        rgb: (H, W, 3) RGB, any real dtype on 0..255.

    Returns:
        (Y, Cb, Cr), three (H, W) float64 planes.
    """
    x = np.asarray(rgb, dtype=np.float64)
    y = KR * x[..., 0] + KG * x[..., 1] + KB * x[..., 2]
    cb = (x[..., 2] - y) / (2.0 * (1.0 - KB)) + 128.0
    cr = (x[..., 0] - y) / (2.0 * (1.0 - KR)) + 128.0
    return y, cb, cr


def ycbcr_to_rgb(y: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> np.ndarray:
    """The exact inverse of :func:`rgb_to_ycbcr`, rounded and clipped to (H, W, 3) uint8."""
    cb = np.asarray(cb, dtype=np.float64) - 128.0
    cr = np.asarray(cr, dtype=np.float64) - 128.0
    y = np.asarray(y, dtype=np.float64)
    r = y + 2.0 * (1.0 - KR) * cr
    b = y + 2.0 * (1.0 - KB) * cb
    g = (y - KR * r - KB * b) / KG
    return np.clip(np.rint(np.stack([r, g, b], axis=-1)), 0, 255).astype(np.uint8)


def _pad_even(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return np.pad(img, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _to_yuv420(img: np.ndarray, bits: int) -> list[np.ndarray]:
    """[Y (H, W), Cb (H/2, W/2), Cr (H/2, W/2)] integer planes of an even-sized RGB image, ``bits`` per sample."""
    y, cb, cr = rgb_to_ycbcr(img)
    scale = float(1 << (bits - 8))
    top = (1 << bits) - 1
    dtype = np.uint8 if bits == 8 else np.uint16
    planes = [y]
    for c in (cb, cr):
        planes.append(0.25 * (c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]))
    return [np.clip(np.rint(p * scale), 0, top).astype(dtype) for p in planes]


def _upsample_centre(c: np.ndarray) -> np.ndarray:
    """2x bilinear upsampling of a chroma plane sited at the centre of each 2x2 luma block (weights 3/4, 1/4)."""
    out = c
    for axis in (0, 1):
        p = np.concatenate([np.take(out, [0], axis), out, np.take(out, [-1], axis)], axis=axis)
        n = out.shape[axis]
        prev, mid, nxt = (np.take(p, range(k, k + n), axis) for k in (0, 1, 2))
        pair = np.stack([0.25 * prev + 0.75 * mid, 0.75 * mid + 0.25 * nxt], axis=axis + 1)
        shape = list(out.shape)
        shape[axis] *= 2
        out = pair.reshape(shape)
    return out


def _from_yuv420(planes: list[np.ndarray], bits: int, height: int, width: int) -> np.ndarray:
    scale = float(1 << (bits - 8))
    y, cb, cr = (p.astype(np.float64) / scale for p in planes)
    rgb = ycbcr_to_rgb(y, _upsample_centre(cb), _upsample_centre(cr))
    return rgb[:height, :width]


# ---------------------------------------------------------------- HEVC (x265 through PyAV)


def _av():
    try:
        import av
    except ImportError as e:
        raise AnchorError("HEVC needs PyAV: pip install 'omnicodec[bench]'") from e
    if "libx265" not in av.codecs_available:
        raise AnchorError("this PyAV build has no libx265 encoder")
    return av


def hevc_encode(img: np.ndarray, qp: int, *, info_sei: bool = True) -> bytes:
    """x265 intra coding of one RGB image at constant QP; the raw HEVC bitstream (see the module docstring)."""
    return hevc_encode_frames([img], qp, info_sei=info_sei)


def hevc_encode_frames(frames: Iterable[np.ndarray], qp: int, *, info_sei: bool = True, params: str = "") -> bytes:
    """x265 coding of a sequence of same-sized RGB images as one video at constant QP; the raw HEVC bitstream.

    Settings as :func:`hevc_encode` (which is this on one image); ``params`` adds x265 options (``key=value`` pairs
    joined by ``:``, e.g. ``keyint=82:min-keyint=82:scenecut=0``), appended after the fixed ones.
    """
    av = _av()
    imgs = [_check_rgb(f) for f in frames]
    if not imgs:
        raise ValueError("no frames to encode")
    if any(f.shape != imgs[0].shape for f in imgs):
        raise ValueError(f"frames differ in size: {sorted({f.shape for f in imgs})}")
    if not 0 <= int(qp) <= 51:
        raise ValueError(f"HEVC QP must be in 0..51, got {qp}")
    h, w = imgs[0].shape[0] + imgs[0].shape[0] % 2, imgs[0].shape[1] + imgs[0].shape[1] % 2
    cc = av.CodecContext.create("libx265", "w")
    cc.width, cc.height, cc.pix_fmt, cc.time_base = w, h, "yuv420p", Fraction(1, 25)
    x265 = (f"qp={int(qp)}:range=full:colorprim=bt709:transfer=bt709:colormatrix=bt709:chromaloc=1"
            ":pools=1:frame-threads=1:log-level=error")
    if not info_sei:
        x265 += ":info=0"
    if params:
        x265 += ":" + params.strip(":")
    cc.options = {"preset": "medium", "tune": "psnr", "x265-params": x265}
    packets = []
    for i, img in enumerate(imgs):
        flat = np.concatenate([p.reshape(-1) for p in _to_yuv420(_pad_even(img), 8)])
        frame = av.VideoFrame.from_ndarray(flat.reshape(h * 3 // 2, w), format="yuv420p")
        if len(imgs) > 1:
            frame.pts = i
        packets += cc.encode(frame)
    packets += cc.encode(None)
    return b"".join(bytes(p) for p in packets)


def _plane_array(plane, dtype) -> np.ndarray:
    itemsize = np.dtype(dtype).itemsize
    a = np.frombuffer(bytes(plane), dtype=dtype).reshape(plane.height, plane.line_size // itemsize)
    return a[:, : plane.width]


def hevc_decode(stream: bytes, height: int, width: int) -> np.ndarray:
    """Decode an :func:`hevc_encode` stream to (height, width, 3) uint8 RGB (FFmpeg's HEVC decoder)."""
    av = _av()
    dc = av.CodecContext.create("hevc", "r")
    frames = list(dc.decode(av.Packet(stream))) + list(dc.decode(None))
    if len(frames) != 1 or frames[0].format.name not in ("yuv420p", "yuvj420p"):
        raise AnchorError(f"HEVC decode gave {len(frames)} frames ({frames[0].format.name if frames else '-'})")
    planes = [_plane_array(p, np.uint8) for p in frames[0].planes]
    return _from_yuv420(planes, 8, height, width)


def hevc_decode_frames(stream: bytes, height: int, width: int) -> list[np.ndarray]:
    """Decode a :func:`hevc_encode_frames` stream to its (height, width, 3) uint8 RGB frames, in display order."""
    av = _av()
    dc = av.CodecContext.create("hevc", "r")
    frames = []
    for packet in [*dc.parse(stream), *dc.parse(None), None]:  # parse(None) flushes the parser's last frame
        frames += dc.decode(packet)
    out = []
    for f in frames:
        if f.format.name not in ("yuv420p", "yuvj420p"):
            raise AnchorError(f"HEVC decode gave a {f.format.name} frame")
        out.append(_from_yuv420([_plane_array(p, np.uint8) for p in f.planes], 8, height, width))
    return out


def _annexb_nal_units(stream: bytes) -> list[bytes]:
    """The NAL units of an Annex-B byte stream, each with its start code (3 or 4 bytes)."""
    starts = [m.start() for m in re.finditer(b"\x00\x00\x01", stream)]
    starts = [i - 1 if i > 0 and stream[i - 1] == 0 else i for i in starts]
    return [stream[a:b] for a, b in zip(starts, [*starts[1:], len(stream)], strict=True)]


def strip_x265_info(stream: bytes) -> bytes:
    """An HEVC stream less x265's informational SEI (the prefix-SEI NAL unit naming its version and options).

    The result is byte-identical to what x265 writes with ``info=0`` (the SEI plays no part in decoding).
    """
    out = []
    for nal in _annexb_nal_units(stream):
        header = nal.lstrip(b"\x00")[1:3]  # after the start code's final 0x01
        if len(header) == 2 and (header[0] >> 1) & 0x3F == 39 and b"x265 (build" in nal:
            continue
        out.append(nal)
    return b"".join(out)


def hevc_intra(img: np.ndarray, qp: int, *, info_sei: bool = True) -> tuple[bytes, np.ndarray]:
    """HEVC-intra (x265, preset medium, tune psnr, constant ``qp``, BT.709 full-range 4:2:0); (stream, decoded)."""
    img = _check_rgb(img)
    stream = hevc_encode(img, qp, info_sei=info_sei)
    return stream, hevc_decode(stream, *img.shape[:2])


# ---------------------------------------------------------------- VVC (vvenc through imageio-ffmpeg's ffmpeg)


@functools.lru_cache(maxsize=1)
def _ffmpeg() -> str:
    try:
        import imageio_ffmpeg
    except ImportError as e:
        raise AnchorError("VVC needs imageio-ffmpeg: pip install 'omnicodec[bench]'") from e
    return imageio_ffmpeg.get_ffmpeg_exe()


def _ffmpeg_lists(kind: str) -> str:
    return subprocess.run([_ffmpeg(), "-hide_banner", f"-{kind}"], capture_output=True, text=True, check=True).stdout


@functools.lru_cache(maxsize=1)
def vvc_available() -> str | None:
    """None when ffmpeg can encode (libvvenc) and decode VVC; otherwise a one-line reason."""
    try:
        enc, dec = _ffmpeg_lists("encoders"), _ffmpeg_lists("decoders")
    except (AnchorError, OSError, subprocess.CalledProcessError) as e:
        return f"no usable ffmpeg ({e})"
    if not re.search(r"^\s*V\S*\s+libvvenc\s", enc, re.M):
        return "imageio-ffmpeg's ffmpeg has no libvvenc encoder"
    if not re.search(r"^\s*V\S*\s+(vvc|libvvdec)\s", dec, re.M):
        return "imageio-ffmpeg's ffmpeg has no VVC decoder"
    return None


def _run_ffmpeg(args: list[str]) -> None:
    r = subprocess.run([_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *args], capture_output=True, text=True)
    if r.returncode:
        raise AnchorError(f"ffmpeg failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")


def vvc_encode(img: np.ndarray, qp: int, *, preset: str = "medium") -> bytes:
    """vvenc intra coding of one RGB image at constant QP (10-bit 4:2:0); the raw ``.266`` bitstream."""
    img = _check_rgb(img)
    reason = vvc_available()
    if reason:
        raise AnchorError(f"VVC skipped: {reason}")
    if not 0 <= int(qp) <= 63:
        raise ValueError(f"VVC QP must be in 0..63, got {qp}")
    padded = _pad_even(img)
    h, w = padded.shape[:2]
    with tempfile.TemporaryDirectory(prefix="omnicodec-vvc-") as tmp:
        src, out = Path(tmp) / "in.yuv", Path(tmp) / "out.266"
        np.concatenate([p.reshape(-1) for p in _to_yuv420(padded, 10)]).astype("<u2").tofile(src)
        _run_ffmpeg(["-f", "rawvideo", "-pix_fmt", "yuv420p10le", "-s", f"{w}x{h}", "-i", str(src), "-frames:v", "1",
                     "-c:v", "libvvenc", "-preset", preset, "-qp", str(int(qp)), "-qpa", "0", "-threads", "1",
                     "-f", "vvc", str(out)])
        return out.read_bytes()


def vvc_decode(stream: bytes, height: int, width: int) -> np.ndarray:
    """Decode a :func:`vvc_encode` stream to (height, width, 3) uint8 RGB (ffmpeg's VVC decoder)."""
    ph, pw = height + height % 2, width + width % 2
    with tempfile.TemporaryDirectory(prefix="omnicodec-vvc-") as tmp:
        src, out = Path(tmp) / "in.266", Path(tmp) / "out.yuv"
        src.write_bytes(stream)
        _run_ffmpeg(["-threads", "1", "-i", str(src), "-f", "rawvideo", "-pix_fmt", "yuv420p10le", str(out)])
        raw = np.fromfile(out, dtype="<u2")
    sizes = [ph * pw, ph * pw // 4, ph * pw // 4]
    if raw.size != sum(sizes):
        raise AnchorError(f"VVC decode gave {raw.size} samples, expected {sum(sizes)} ({pw}x{ph} 4:2:0)")
    y, cb, cr = np.split(raw, np.cumsum(sizes)[:2])
    planes = [y.reshape(ph, pw), cb.reshape(ph // 2, pw // 2), cr.reshape(ph // 2, pw // 2)]
    return _from_yuv420(planes, 10, height, width)


def vvc_intra(img: np.ndarray, qp: int, *, preset: str = "medium") -> tuple[bytes, np.ndarray]:
    """VVC-intra (vvenc ``preset``, constant ``qp``, QPA off, BT.709 full-range 10-bit 4:2:0); (stream, decoded).

    Raises:
        AnchorError: ffmpeg lacks libvvenc or a VVC decoder (the message says which).
    """
    img = _check_rgb(img)
    stream = vvc_encode(img, qp, preset=preset)
    return stream, vvc_decode(stream, *img.shape[:2])


# ---------------------------------------------------------------- Pillow: JPEG, WebP, AVIF


def _check_quality(q: int) -> int:
    if not 0 <= int(q) <= 100:
        raise ValueError(f"quality must be in 0..100, got {q}")
    return int(q)


def _pil_encode(img: np.ndarray, fmt: str, **options) -> bytes:
    from PIL import Image, features

    if fmt in ("WEBP", "AVIF") and not features.check(fmt.lower()):
        raise AnchorError(f"this Pillow has no {fmt} support (Pillow >= 11.3 wheels carry AVIF)")
    buf = io.BytesIO()
    Image.fromarray(_check_rgb(img), "RGB").save(buf, format=fmt, **options)
    return buf.getvalue()


def _pil_decode(stream: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(stream)) as im:
        return np.asarray(im.convert("RGB"))


def jpeg_encode(img: np.ndarray, q: int) -> bytes:
    """Baseline JPEG (libjpeg-turbo), quality ``q``, 4:2:0, optimised Huffman tables."""
    return _pil_encode(img, "JPEG", quality=_check_quality(q), subsampling="4:2:0", optimize=True)


def webp_encode(img: np.ndarray, q: int) -> bytes:
    """Lossy WebP (libwebp), quality ``q``, method 6."""
    return _pil_encode(img, "WEBP", quality=_check_quality(q), method=WEBP_METHOD)


def avif_encode(img: np.ndarray, q: int) -> bytes:
    """AVIF (libavif + aom), quality ``q``, 4:2:0, speed :data:`AVIF_SPEED`, one thread."""
    return _pil_encode(img, "AVIF", quality=_check_quality(q), subsampling="4:2:0", speed=AVIF_SPEED, max_threads=1)


def jpeg(img: np.ndarray, q: int) -> tuple[bytes, np.ndarray]:
    """JPEG through Pillow (4:2:0, optimize=True); (stream, decoded)."""
    stream = jpeg_encode(img, q)
    return stream, _pil_decode(stream)


def webp(img: np.ndarray, q: int) -> tuple[bytes, np.ndarray]:
    """Lossy WebP through Pillow (method 6); (stream, decoded)."""
    stream = webp_encode(img, q)
    return stream, _pil_decode(stream)


def avif(img: np.ndarray, q: int) -> tuple[bytes, np.ndarray]:
    """AVIF through Pillow (aom, 4:2:0, speed 6, one thread); (stream, decoded)."""
    stream = avif_encode(img, q)
    return stream, _pil_decode(stream)


# ---------------------------------------------------------------- registry and timing

AnchorFn = Callable[[np.ndarray, int], tuple[bytes, np.ndarray]]

ANCHORS: dict[str, tuple[AnchorFn, list[int]]] = {
    "hevc_intra": (hevc_intra, [22, 27, 32, 37]),
    "jpeg": (jpeg, [30, 50, 75, 90]),
    "webp": (webp, [50, 70, 85, 95]),
    "avif": (avif, [40, 55, 70, 85]),
}
"""The default anchors: name -> (function, default qualities: QP for HEVC, quality 0..100 for the others)."""

EXTRA_ANCHORS: dict[str, tuple[AnchorFn, list[int]]] = {
    "vvc_intra": (vvc_intra, [22, 27, 32, 37]),
}
"""Anchors run only when asked for (VVC: about 10x slower than x265 and needs ffmpeg with libvvenc)."""

_PARTS: dict[str, tuple[Callable[[np.ndarray, int], bytes], Callable[[bytes, int, int], np.ndarray]]] = {
    "hevc_intra": (hevc_encode, hevc_decode),
    "vvc_intra": (vvc_encode, vvc_decode),
    "jpeg": (jpeg_encode, lambda s, h, w: _pil_decode(s)),
    "webp": (webp_encode, lambda s, h, w: _pil_decode(s)),
    "avif": (avif_encode, lambda s, h, w: _pil_decode(s)),
}


@dataclass
class TimedResult:
    """One anchor run: the stream, the decoded (H, W, 3) uint8 image and the wall-clock seconds of each half."""

    stream: bytes
    decoded: np.ndarray
    encode_s: float
    decode_s: float


def timed(name: str, img: np.ndarray, quality: int) -> TimedResult:
    """Run anchor ``name`` (a key of ANCHORS or EXTRA_ANCHORS) at ``quality``, timing encode and decode apart."""
    if name not in _PARTS:
        raise ValueError(f"unknown anchor {name!r}; known: {', '.join(_PARTS)}")
    encode, decode = _PARTS[name]
    img = _check_rgb(img)
    t0 = time.perf_counter()
    stream = encode(img, quality)
    t1 = time.perf_counter()
    decoded = decode(stream, *img.shape[:2])
    t2 = time.perf_counter()
    if decoded.shape != img.shape or decoded.dtype != np.uint8:
        raise AnchorError(f"{name} decoded {decoded.dtype} {decoded.shape}, expected uint8 {img.shape}")
    return TimedResult(stream, decoded, t1 - t0, t2 - t1)


def _x265_version() -> str | None:
    try:
        stream = hevc_encode(np.zeros((16, 16, 3), np.uint8), 40)
    except Exception:  # a version string is informative only
        return None
    m = re.search(rb"x265 \(build \d+\) - ([^:\s]+)", stream)
    return m.group(1).decode() if m else None


def _vvenc_version() -> str | None:
    try:
        r = subprocess.run([_ffmpeg(), "-hide_banner", "-loglevel", "verbose", "-f", "lavfi", "-i",
                            "color=c=gray:s=16x16:d=0.04", "-pix_fmt", "yuv420p10le", "-frames:v", "1", "-c:v",
                            "libvvenc", "-threads", "1", "-f", "null", "-"], capture_output=True, text=True)
    except (AnchorError, OSError):
        return None
    m = re.search(r"libvvenc version: (\S+)", r.stderr)
    return m.group(1) if m else None


@functools.lru_cache(maxsize=1)
def anchor_versions() -> dict[str, str | None]:
    """Versions of the libraries behind the anchors (None where one is missing)."""
    v: dict[str, str | None] = {}
    try:
        import av

        v["pyav"] = av.__version__
        v["ffmpeg (pyav)"] = getattr(av, "ffmpeg_version_info", None)
        v["x265"] = _x265_version()
    except ImportError:
        v["pyav"] = None
    try:
        from PIL import __version__, features

        v["pillow"] = __version__
        v["libjpeg-turbo"] = features.version("libjpeg_turbo")
        v["libwebp"] = features.version("webp")
        v["libavif"] = features.version("avif")
        from PIL import AvifImagePlugin

        v["aom (avif)"] = AvifImagePlugin.get_codec_version("aom")
    except ImportError:
        pass
    try:
        import imageio_ffmpeg

        v["ffmpeg (imageio-ffmpeg)"] = imageio_ffmpeg.get_ffmpeg_version()
        v["vvenc"] = _vvenc_version() if vvc_available() is None else None
    except ImportError:
        v["imageio-ffmpeg"] = None
    return v
