"""The standard-codec anchors of tools/anchors.py on a small synthetic image (needs the ``bench`` extra)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

try:
    import av  # noqa: F401
except ImportError:
    pytest.skip("PyAV is not installed (the anchors need the bench extra: pip install 'omnicodec[bench]')",
                allow_module_level=True)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from omnicodec.metrics.image import psnr, psnr_y  # noqa: E402
from tools import anchors  # noqa: E402


def _image(h: int = 48, w: int = 64) -> np.ndarray:
    """Smooth colour ramps, an edge and mild noise: compressible, but not trivially."""
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([255 * x / w, 255 * y / h, 128 + 80 * np.sin(x / 5) * np.cos(y / 7)], axis=-1)
    img[h // 3 : 2 * h // 3, w // 4 : w // 2] = [230, 40, 60]
    img += rng.normal(0, 4, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _check(stream: bytes, decoded: np.ndarray, img: np.ndarray) -> float:
    assert isinstance(stream, bytes) and len(stream) > 0
    assert decoded.shape == img.shape and decoded.dtype == np.uint8
    value = psnr(img, decoded)
    assert 20 < value < 70
    return value


def test_colour_conversion_round_trip():
    rgb = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert np.array_equal(anchors.ycbcr_to_rgb(*anchors.rgb_to_ycbcr(rgb)), rgb)
    y, cb, cr = anchors.rgb_to_ycbcr(np.array([[[255, 255, 255], [0, 0, 0]]], np.uint8))
    assert y.ravel().tolist() == pytest.approx([255, 0]) and cb.ravel().tolist() == pytest.approx([128, 128])


def test_chroma_upsampling_keeps_flat_planes_and_the_mean():
    flat = np.full((4, 5), 77.0)
    assert np.array_equal(anchors._upsample_centre(flat), np.full((8, 10), 77.0))
    ramp = np.arange(12, dtype=np.float64).reshape(3, 4)
    assert anchors._upsample_centre(ramp).mean() == pytest.approx(ramp.mean())


@pytest.mark.parametrize("name", list(anchors.ANCHORS))
def test_anchor_round_trip(name):
    img = _image()
    func, qualities = anchors.ANCHORS[name]
    stream, decoded = func(img, qualities[-1])
    assert _check(stream, decoded, img) > 25  # the last default quality (HEVC: QP 37, 4:2:0 on saturated colour)
    assert 8 * len(stream) / (img.shape[0] * img.shape[1]) < 24  # compressed, not raw


def test_hevc_psnr_and_size_monotonic_in_qp():
    img = _image()
    results = [anchors.hevc_intra(img, qp) for qp in (22, 32, 42)]
    for s, d in results:
        _check(s, d, img)
    psnrs = [psnr_y(img, d) for _, d in results]
    sizes = [len(anchors.strip_x265_info(s)) for s, _ in results]  # x265's 2.3 kB SEI would dwarf the slices
    assert psnrs[0] > psnrs[1] > psnrs[2]
    assert sizes[0] > sizes[1] > sizes[2]
    assert psnrs[0] > 40  # PSNR-RGB is lower (4:2:0 on this image's saturated chroma)


def test_jpeg_psnr_and_size_monotonic_in_quality():
    img = _image()
    results = [anchors.jpeg(img, q) for q in (30, 50, 90)]
    for s, d in results:
        _check(s, d, img)
    psnrs = [psnr_y(img, d) for _, d in results]
    sizes = [len(s) for s, _ in results]
    assert psnrs[0] < psnrs[1] < psnrs[2]
    assert sizes[0] < sizes[1] < sizes[2]


def test_hevc_odd_size_and_the_x265_info_sei():
    img = _image(47, 63)
    stream, decoded = anchors.hevc_intra(img, 27)
    _check(stream, decoded, img)
    assert psnr_y(img, decoded) > 36
    stripped = anchors.strip_x265_info(stream)
    assert b"x265 (build" in stream and b"x265 (build" not in stripped
    assert 1000 < len(stream) - len(stripped) < 4000
    assert stripped == anchors.hevc_encode(img, 27, info_sei=False)
    assert np.array_equal(anchors.hevc_decode(stripped, 47, 63), decoded)


def test_timed_and_bad_input():
    r = anchors.timed("jpeg", _image(), 75)
    assert r.encode_s >= 0 and r.decode_s >= 0 and len(r.stream) > 0
    with pytest.raises(ValueError, match="uint8"):
        anchors.jpeg(np.zeros((8, 8, 3), np.float32), 75)
    with pytest.raises(ValueError, match="QP"):
        anchors.hevc_intra(_image(), 99)
    with pytest.raises(ValueError, match="unknown anchor"):
        anchors.timed("bpg", _image(), 30)


def test_vvc_intra():
    reason = anchors.vvc_available()
    if reason:
        pytest.skip(f"VVC anchor unavailable: {reason}")
    img = _image()
    hi, lo = anchors.vvc_intra(img, 22), anchors.vvc_intra(img, 37)
    _check(*hi, img)
    _check(*lo, img)
    assert psnr_y(img, hi[1]) > psnr_y(img, lo[1])
    assert len(hi[0]) > len(lo[0])
