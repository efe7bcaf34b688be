"""tools/lightfield_anchors.py on small synthetic light fields (needs the ``bench`` extra)."""

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
from omnicodec.metrics.lightfield import lightfield_quality  # noqa: E402
from tools import anchors  # noqa: E402
from tools import lightfield_anchors as lfa  # noqa: E402


def _texture(h: int, w: int) -> np.ndarray:
    """Colour ramps, waves, a block and mild noise: compressible, but not trivially."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([255 * x / w, 255 * y / h, 128 + 80 * np.sin(x / 4) * np.cos(y / 6)], axis=-1)
    img[h // 3 : h // 2, w // 3 : w // 2] = [230, 40, 60]
    img += rng.normal(0, 3, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _field(u: int, v: int, h: int, w: int, disparity: int = 2) -> np.ndarray:
    """(U, V, H, W, 3) views cut from one texture, shifted by ``disparity`` pixels per view step."""
    margin = disparity * max(u, v)
    tex = _texture(h + 2 * margin, w + 2 * margin)
    out = np.empty((u, v, h, w, 3), np.uint8)
    for r in range(u):
        for c in range(v):
            dy, dx = margin + disparity * (r - u // 2), margin + disparity * (c - v // 2)
            out[r, c] = tex[dy : dy + h, dx : dx + w]
    return out


@pytest.fixture(scope="module")
def field() -> np.ndarray:
    return _field(3, 3, 48, 64)


@pytest.fixture(scope="module")
def odd_field() -> np.ndarray:
    return _field(3, 2, 47, 65)


def test_serpentine_order():
    assert lfa.serpentine_order(3, 4) == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 3), (1, 2), (1, 1), (1, 0),
                                          (2, 0), (2, 1), (2, 2), (2, 3)]
    assert lfa.serpentine_order(1, 3) == [(0, 0), (0, 1), (0, 2)]
    assert lfa.serpentine_order(2, 1) == [(0, 0), (1, 0)]
    with pytest.raises(ValueError):
        lfa.serpentine_order(0, 3)


def test_crop_even(field, odd_field):
    assert lfa.crop_even(field).shape == field.shape
    cropped = lfa.crop_even(odd_field)
    assert cropped.shape == (3, 2, 46, 64, 3)
    assert np.array_equal(cropped, odd_field[:, :, :46, :64])
    with pytest.raises(ValueError):
        lfa.crop_even(field.astype(np.float32))
    with pytest.raises(ValueError):
        lfa.crop_even(field[0])


def _closest_view(decoded: np.ndarray, ref: np.ndarray) -> list[tuple[int, int]]:
    """For each decoded view, the (row, col) of the reference view it is closest to."""
    u, v = ref.shape[:2]
    flat = ref.reshape(u * v, -1).astype(np.float64)
    out = []
    for view in decoded.reshape(u * v, -1).astype(np.float64):
        out.append(divmod(int(np.argmin(((flat - view) ** 2).mean(axis=1))), v))
    return out


def test_pseudo_video_round_trip_and_grid_order(field, odd_field):
    for views in (field, odd_field):
        ref = lfa.crop_even(views)
        stream, decoded = lfa.hevc_pseudo_video(views, 27)
        assert isinstance(stream, bytes) and stream.startswith((b"\x00\x00\x00\x01", b"\x00\x00\x01"))
        assert decoded.shape == ref.shape and decoded.dtype == np.uint8
        u, v = ref.shape[:2]
        assert _closest_view(decoded, ref) == [(r, c) for r in range(u) for c in range(v)]
        assert lightfield_quality(ref, decoded, ssim=False)["mean_psnr_y"] > 37
    assert b"x265 (build" in stream  # the informational SEI is kept by default, once per stream
    bare, decoded_bare = lfa.hevc_pseudo_video(odd_field, 27, info_sei=False)
    assert bare == anchors.strip_x265_info(stream) and np.array_equal(decoded_bare, decoded)


def test_pseudo_video_beats_all_intra_on_a_redundant_field(field):
    qp = 32
    pseudo, dec_pseudo = lfa.hevc_pseudo_video(field, qp, info_sei=False)
    intra, dec_intra = lfa.hevc_all_intra(field, qp, info_sei=False)
    assert dec_intra.shape == field.shape and dec_intra.dtype == np.uint8
    assert len(pseudo) < 0.3 * len(intra)  # about 0.18 with x265 4.2
    q_pseudo = lightfield_quality(field, dec_pseudo, ssim=False)["mean_psnr_y"]
    q_intra = lightfield_quality(field, dec_intra, ssim=False)["mean_psnr_y"]
    assert q_intra > 36 and q_pseudo > q_intra - 1.5
    with_sei, _ = lfa.hevc_all_intra(field, qp)
    assert with_sei.count(b"x265 (build") == 9  # one informational SEI per view
    assert anchors.strip_x265_info(with_sei) == intra


def test_jpeg_views(odd_field):
    ref = lfa.crop_even(odd_field)
    stream, decoded = lfa.jpeg_views(odd_field, 75)
    assert stream.count(b"\xff\xd8\xff") == 6  # one JPEG file per view
    assert decoded.shape == ref.shape and decoded.dtype == np.uint8
    assert lightfield_quality(ref, decoded, ssim=False)["mean_psnr_y"] > 36
    assert lfa.bpp(stream, ref) < 4


def test_registry():
    assert set(lfa.LF_ANCHORS) == {"hevc_pseudo", "hevc_intra", "jpeg"}
    assert lfa.LF_ANCHORS["hevc_pseudo"] == (lfa.hevc_pseudo_video, [22, 27, 32, 37])
    assert lfa.LF_ANCHORS["hevc_intra"] == (lfa.hevc_all_intra, [22, 27, 32, 37])
    assert lfa.LF_ANCHORS["jpeg"] == (lfa.jpeg_views, [30, 50, 75, 90])
    for name, qualities in lfa.LF_BENCH_QUALITIES.items():
        assert set(lfa.LF_ANCHORS[name][1]) <= set(qualities)
