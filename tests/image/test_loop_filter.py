"""The wavelet core's adaptive loop filter: its payload, its exact classes, its fit, strips and wrap-around, and
streams written before it."""

from __future__ import annotations

import numpy as np
import pytest

import omnicodec
from omnicodec.bitstream import StreamHeader, pack, unpack
from omnicodec.errors import CorruptStreamError
from omnicodec.image import loop_filter, subband_model, wavelet
from omnicodec.image.loop_filter import CLASSES, DIRECTIONS, OFF, TAPS, LoopFilter
from omnicodec.types import ErpImage

from .test_codec import _smooth_image


def _filter(n: int = 3, seed: int = 0) -> LoopFilter:
    rng = np.random.default_rng(seed)
    index = np.full(CLASSES, OFF, np.int64)
    index[rng.choice(CLASSES, 2 * n, replace=False)] = np.arange(2 * n) % n
    return LoopFilter(np.array([0, 7, 7, 900]), index, rng.integers(-127, 128, (n, TAPS)))


def test_payload_round_trip_and_damage() -> None:
    f = _filter()
    data = loop_filter.to_bytes(f)
    g = loop_filter.from_bytes(data)
    assert np.array_equal(g.thresholds, f.thresholds) and np.array_equal(g.index, f.index)
    assert np.array_equal(g.coefs, f.coefs)
    assert loop_filter.to_bytes(loop_filter.NONE) == b"\x00"
    assert len(loop_filter.from_bytes(b"\x00").coefs) == 0
    for bad in (b"", b"\x1a", b"\x00\x00", data[:-1], data + b"\x00", data + b"\x80", bytes([1]) + b"\x00" * 40):
        with pytest.raises(CorruptStreamError):
            loop_filter.from_bytes(bad)


def test_classes_follow_the_pattern_exactly() -> None:
    yy, xx = np.mgrid[0:40, 0:48]
    flat = np.full((40, 48), 5.2)
    thresholds = np.array([10, 20, 40, 80])
    assert np.all(loop_filter.classify(flat, thresholds) == 0)
    rows = np.where(yy % 2 == 0, 30.0, 0.0)  # values change down the columns: vertical second differences
    cols = np.where(xx % 2 == 0, 30.0, 0.0)
    inner = (slice(4, -4), slice(4, -4))
    assert np.all(loop_filter.classify(rows, thresholds)[inner] == (CLASSES - DIRECTIONS) + 2)
    assert np.all(loop_filter.classify(cols, thresholds)[inner] == (CLASSES - DIRECTIONS) + 1)
    # rounding to integers first: values differing below 0.5 give the same classes
    noisy = rows + np.random.default_rng(0).uniform(-0.49, 0.49, rows.shape)
    assert np.array_equal(loop_filter.classify(noisy, thresholds), loop_filter.classify(rows, thresholds))


def test_fit_removes_error_and_apply_matches_it() -> None:
    rng = np.random.default_rng(1)
    orig = _smooth_image(120, 160, seed=2)[..., 1].astype(np.float64)
    rec = orig + rng.normal(0, 4.0, orig.shape)  # noise a smoothing filter removes
    f = loop_filter.fit(orig, rec, lam=1.0)
    assert len(f.coefs) >= 1
    out = rec.copy()
    loop_filter.apply(out, f)
    before, after = ((rec - orig) ** 2).mean(), ((out - orig) ** 2).mean()
    assert after < 0.8 * before, (before, after)
    assert len(loop_filter.fit(orig, orig.copy(), lam=1.0).coefs) == 0  # nothing to remove: no filter sent
    assert len(loop_filter.fit(orig, rec, lam=1e9).coefs) == 0  # bits too dear


def test_strips_and_wrap_give_the_one_pass_result(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    plane = rng.normal(0, 20, (70, 64)).cumsum(axis=1)
    f = _filter(4, seed=5)
    direction = np.arange(CLASSES) % DIRECTIONS
    f = LoopFilter(np.array([200, 400, 800, 1600]), np.where(direction == 4, OFF, direction),
                   f.coefs // 8)  # four filters, one direction left unfiltered
    monkeypatch.setattr(loop_filter, "_STRIP", 1000)
    whole = plane.copy()
    loop_filter.apply(whole, f, wrap=True)
    assert not np.array_equal(whole, plane)
    monkeypatch.setattr(loop_filter, "_STRIP", 16)
    strips = plane.copy()
    loop_filter.apply(strips, f, wrap=True)
    assert np.array_equal(whole, strips)
    rolled = np.roll(plane, 9, axis=1)
    loop_filter.apply(rolled, f, wrap=True)
    assert np.array_equal(rolled, np.roll(whole, 9, axis=1))  # periodic columns: a yaw commutes with the filter
    edge = plane.copy()
    loop_filter.apply(edge, f, wrap=False)
    assert not np.array_equal(edge, whole)


@pytest.mark.parametrize("codec", ["image", "erp"])
def test_streams_carry_one_filter_per_plane_and_it_pays(codec) -> None:
    pixels = _smooth_image(128, 256, seed=4)
    stream = omnicodec.compress(ErpImage(pixels), codec=codec, rate=5)
    s = unpack(stream)
    assert s.header.params["loop"] is True
    assert [c.tag for c in s.chunks] == ["PLNE", "LOOP"] * 3
    assert len(s.chunks[1].data) > 1  # the luma filter was worth its bits here
    filtered = omnicodec.decompress(stream).pixels
    unfiltered = omnicodec.decompress(pack(s.header, [c if c.tag == "PLNE" else type(c)("LOOP", b"\x00")
                                                      for c in s.chunks])).pixels
    err = [((x.astype(float) - pixels) ** 2).mean() for x in (filtered, unfiltered)]
    assert err[0] < err[1], err


def test_streams_without_the_filter_still_decode() -> None:
    """A stream of the wavelet core written before the loop filter (no ``loop`` key, no ``LOOP`` chunks)."""
    pixels = _smooth_image(64, 80, seed=7)
    model = subband_model.load_model()
    params = wavelet.WaveletParams.for_image(64, 80, 3, 4, loop=False)
    chunks = wavelet.encode(pixels, params, model)
    assert "loop" not in params.to_header() and [c.tag for c in chunks] == ["PLNE"] * 3
    header = unpack(omnicodec.compress(ErpImage(pixels), codec="image", rate=4)).header
    old = pack(StreamHeader(header.modality, header.codec, header.coder_id, params.to_header(), header.model,
                            header.weights_sha256), chunks)
    expected = wavelet.decode([c.data for c in chunks], params, model)
    assert np.array_equal(omnicodec.decompress(old).pixels, expected)
    with pytest.raises(CorruptStreamError):  # the filter's chunks in a stream that does not announce them
        s = unpack(omnicodec.compress(ErpImage(pixels), codec="image", rate=4))
        omnicodec.decompress(pack(StreamHeader(header.modality, header.codec, header.coder_id, params.to_header(),
                                               header.model, header.weights_sha256), s.chunks))
