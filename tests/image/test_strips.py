"""Images beyond ``STRIP_PIXELS`` are coded in overlapping strips of rows: bounded memory, no seam, exact layout."""

from __future__ import annotations

import pytest

import omnicodec
from omnicodec.bitstream import pack, unpack
from omnicodec.errors import CorruptStreamError
from omnicodec.image import wavelet
from omnicodec.metrics.image import psnr
from omnicodec.types import ErpImage

from .test_codec import _smooth_image, _with_params


def test_strip_layout_covers_every_row_with_overlaps() -> None:
    assert wavelet.strips_for(1000, 1000) == 1
    assert wavelet.strips_for(4096, 8192) == 2  # 2**25 pixels: two strips of 2**24
    assert wavelet.strips_for(200, 1 << 20) == 1  # too few rows to cut
    p = wavelet.WaveletParams(1000, 64, 3, 4, strips=3)
    pieces = p.pieces()
    bounds = [0, 333, 666, 1000]
    for k, (a, e, piece) in enumerate(pieces):
        assert a == max(bounds[k] - wavelet.STRIP_OVERLAP, 0) and e == min(bounds[k + 1] + wavelet.STRIP_OVERLAP, 1000)
        assert piece.height == e - a and piece.top == a and piece.full_height == 1000 and piece.strips == 1


@pytest.mark.parametrize("codec", ["image", "erp"])
def test_strips_round_trip_without_a_seam(monkeypatch, codec) -> None:
    h, w = 320, 640
    pixels = _smooth_image(h, w, seed=9)
    # the wavelet in both (the test image's squares sit on the 8x8 grid, where the whole image would take the DCT)
    whole = omnicodec.compress(ErpImage(pixels), codec=codec, rate=3, transform="wavelet")
    monkeypatch.setattr(wavelet, "STRIP_PIXELS", h * w // 2)
    stream = omnicodec.compress(ErpImage(pixels), codec=codec, rate=3, transform="wavelet")
    s = unpack(stream)
    assert s.header.params["strips"] == 2 and "strips" not in unpack(whole).header.params
    assert [c.tag for c in s.chunks] == ["PLNE", "LOOP"] * 6
    out = omnicodec.decompress(stream).pixels
    ref = omnicodec.decompress(whole).pixels
    assert abs(psnr(pixels, out) - psnr(pixels, ref)) < 0.3
    assert len(stream) < 1.3 * len(whole)  # small strips: 32 of 320 rows coded twice, one wavelet level fewer
    err = ((out.astype(float) - pixels) ** 2).mean(axis=(1, 2))
    seam = err[h // 2 - 16:h // 2 + 16].mean()
    assert seam < 1.5 * err.mean(), (seam, err.mean())  # the shared rows are no worse than the rest


def test_bad_strip_counts_raise_corrupt_stream(monkeypatch) -> None:
    pixels = _smooth_image(300, 64, seed=1)
    monkeypatch.setattr(wavelet, "STRIP_PIXELS", 300 * 64 // 2)
    stream = omnicodec.compress(ErpImage(pixels), codec="image", rate=2)
    assert unpack(stream).header.params["strips"] == 2
    for bad in (0, 3, 10**9, True, 2.0, "2"):
        with pytest.raises(CorruptStreamError):
            omnicodec.decompress(_with_params(stream, strips=bad))
    s = unpack(stream)
    with pytest.raises(CorruptStreamError):  # one strip's chunks missing
        omnicodec.decompress(pack(s.header, s.chunks[:6]))
    with pytest.raises(CorruptStreamError):  # a one-strip stream with two strips' chunks
        omnicodec.decompress(_with_params(stream, strips=1))
