"""The 8x8 block DCT of the wavelet core (images that were JPEG): transform, layout, the encoder's choice, exact
decoding, and bad options and headers."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.fft import dctn

import omnicodec
from omnicodec.bitstream import pack, unpack
from omnicodec.cli import main
from omnicodec.errors import CorruptStreamError, InputError
from omnicodec.image import block_dct, dwt, wavelet
from omnicodec.types import ErpImage
from tests.image.test_codec import _DECODE_CHILD, _smooth_image

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "datasets" / "samples" / "room_panorama.png"


def _jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def test_round_trip_and_band_shapes_as_the_wavelet() -> None:
    x = np.random.default_rng(0).normal(0, 40, (64, 96))
    for wrap in (False, True):
        ll, bands = block_dct.forward(x, 5, wrap)
        ll_w, bands_w = dwt.forward(x, 5, wrap)
        assert ll.shape == ll_w.shape
        assert [[b.shape for b in level] for level in bands] == [[b.shape for b in level] for level in bands_w]
        np.testing.assert_allclose(block_dct.inverse(ll, bands, wrap), x, atol=1e-9)


def test_coefficients_are_the_orthonormal_dct_in_the_documented_layout() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 40, (32, 48))
    np.testing.assert_allclose(block_dct._blocks(x)[1, 2], dctn(x[8:16, 16:24], norm="ortho"), atol=1e-9)
    # one basis image, vertical frequency 1 and horizontal 6, in block (2, 3): a single value in the finest LH band
    # (vertical 1 < 4, horizontal 4 <= 6 < 8), at row 4 * 2 + 1 and column 4 * 3 + (6 - 4)
    coefs = np.zeros((8, 8))
    coefs[1, 6] = 10.0
    basis = np.zeros((32, 48))
    basis[16:24, 24:32] = dctn(coefs, norm="ortho", type=3)  # the inverse DCT
    ll, bands = block_dct.forward(basis, 3)
    lh, hl, hh = bands[-1]
    assert np.abs(ll).max() < 1e-9 and np.abs(hl).max() < 1e-9 and np.abs(hh).max() < 1e-9
    assert lh[9, 14] == pytest.approx(10.0) and np.count_nonzero(np.abs(lh) > 1e-9) == 1
    assert all(np.abs(b).max() < 1e-9 for level in bands[:-1] for b in level)


def test_sizes_the_block_dct_takes() -> None:
    assert block_dct.fits(64, 96, 3) and not block_dct.fits(64, 92, 3) and not block_dct.fits(64, 96, 2)
    with pytest.raises(ValueError, match="divisible by 8"):
        block_dct.forward(np.zeros((20, 32)), 3)


def test_auto_takes_the_dct_for_a_jpeg_and_it_pays() -> None:
    original = np.asarray(Image.open(SAMPLE).convert("RGB"))[:256, :512]
    jpeg = _jpeg(original, 70)
    rate = 6
    lam = wavelet.RD_LAMBDA * wavelet.STEPS[rate - 1] ** 2
    costs = {}
    for transform in ("auto", "wavelet"):
        stream = omnicodec.compress(ErpImage(jpeg), codec="image", rate=rate, transform=transform)
        params = unpack(stream).header.params
        assert params.get("dct", False) == (transform == "auto")
        out = omnicodec.decompress(stream).pixels
        sse = float(((out.astype(np.float64) - jpeg) ** 2).sum()) / 3.0
        costs[transform] = sse + lam * 8 * len(stream)
    assert costs["auto"] < 0.9 * costs["wavelet"]
    # the same picture that never was JPEG keeps the wavelet
    assert "dct" not in unpack(omnicodec.compress(ErpImage(original), codec="image", rate=rate)).header.params


def test_dct_streams_decode_identically_in_another_process(tmp_path: Path) -> None:
    pixels = _smooth_image(200, 328, seed=6)
    stream = omnicodec.compress(ErpImage(pixels), codec="image", rate=5, transform="dct")
    assert unpack(stream).header.params["dct"] is True
    here = omnicodec.decompress(stream).pixels
    assert 30.0 < 10 * np.log10(255**2 / np.mean((here.astype(np.float64) - pixels) ** 2))
    path = tmp_path / "s.omc"
    path.write_bytes(stream)
    child = subprocess.run([sys.executable, "-c", _DECODE_CHILD, str(path), "1"], capture_output=True, text=True,
                           env={**os.environ, "OMP_NUM_THREADS": "1"}, check=True)
    assert child.stdout.strip() == hashlib.sha256(here.tobytes()).hexdigest()


def test_bad_options_and_headers() -> None:
    odd = ErpImage(_smooth_image(64, 92))  # 92 is not a multiple of 8
    for image in (odd, ErpImage(_smooth_image(48, 80))):  # the second: too small for three levels
        with pytest.raises(InputError, match="divisible by 8 and of 64 or more"):
            omnicodec.compress(image, codec="image", transform="dct")
    with pytest.raises(InputError, match="transform must be one of"):
        omnicodec.compress(odd, codec="image", transform="jpeg")
    with pytest.raises(InputError, match="wavelet core"):
        omnicodec.compress(odd, codec="image", model="image_core", transform="wavelet")
    plain = unpack(omnicodec.compress(odd, codec="image", rate=3))
    assert "dct" not in plain.header.params  # auto on a size the DCT cannot take
    for value in (True, 1, "yes"):
        plain.header.params = {**plain.header.params, "dct": value}
        with pytest.raises(CorruptStreamError):
            omnicodec.decompress(pack(plain.header, plain.chunks))


def test_cli_transform_option(tmp_path: Path, capsys) -> None:
    src = tmp_path / "photo.png"
    Image.fromarray(_smooth_image(64, 96)).save(src)
    assert main(["compress", str(src), "-o", str(tmp_path / "d.omc"), "--transform", "dct", "-q"]) == 0
    assert unpack((tmp_path / "d.omc").read_bytes()).header.params["dct"] is True
    cloud = tmp_path / "c.ply"
    omnicodec.write(cloud, omnicodec.PointCloud(np.arange(30, dtype=np.float32).reshape(10, 3)))
    capsys.readouterr()
    for path in (cloud, REPO / "datasets" / "samples" / "lightfield_layers"):
        assert main(["compress", str(path), "-o", str(tmp_path / "x.omc"), "--transform", "dct"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "--transform" in err
    assert not (tmp_path / "x.omc").exists()


def test_dct_in_strips_keeps_every_strip_on_the_grid(monkeypatch) -> None:
    h, w = 328, 640  # 2 strips: the boundary 164 falls to 160, a multiple of 8
    pixels = _jpeg(_smooth_image(h, w, seed=3), 75)
    whole = omnicodec.compress(ErpImage(pixels), codec="image", rate=5, transform="dct")
    monkeypatch.setattr(wavelet, "STRIP_PIXELS", h * w // 2)
    stream = omnicodec.compress(ErpImage(pixels), codec="image", rate=5)  # auto: judged on the middle strip
    params = unpack(stream).header.params
    assert params["strips"] == 2 and params["dct"] is True
    pieces = wavelet.WaveletParams.from_header(params, 1 << 17, 1 << 32).pieces()
    assert [(a, e) for a, e, _ in pieces] == [(0, 176), (144, 328)]
    out = omnicodec.decompress(stream).pixels
    ref = omnicodec.decompress(whole).pixels
    err = ((out.astype(float) - pixels) ** 2).mean(axis=(1, 2))
    assert abs(err.mean() - ((ref.astype(float) - pixels) ** 2).mean()) < 0.1 * err.mean()
    assert err[144:176].mean() < 1.5 * err.mean()  # the shared rows are no worse than the rest


def _jpeg_table(quality: int) -> np.ndarray:
    """The luma quantisation table Pillow's JPEG encoder uses at ``quality``, ``(8, 8)`` by frequency."""
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, format="JPEG", quality=quality)
    return np.array(Image.open(io.BytesIO(buf.getvalue())).quantization[0]).reshape(8, 8)  # natural order


def test_the_jpeg_lattice_is_found_and_kept(monkeypatch) -> None:
    """A JPEG's luma DCT values sit on its quantisation table: the encoder finds the table's steps and codes on them,
    the decoder puts every value back on the lattice, and the JPEG comes back closer for fewer bits than with the
    plain DCT."""
    original = np.asarray(Image.open(SAMPLE).convert("RGB"))[:256, :512]
    jpeg = _jpeg(original, 75)
    table = _jpeg_table(75)
    found = np.array(block_dct.find_lattice(wavelet._plane(jpeg, 0, 3, jfif=True))).reshape(8, 8)
    assert found[0, 0] == 0 and np.count_nonzero(found) >= 12
    on = found > 0  # wherever a step is found, it divides the table's (it is the table's where values abound)
    assert np.all(table[on] % found[on] == 0) and np.mean(table[on] == found[on]) > 0.9
    assert not any(block_dct.find_lattice(wavelet._plane(original, 0, 3, jfif=True)))  # never a JPEG: none
    stream = omnicodec.compress(ErpImage(jpeg), codec="image", rate=8, transform="dct")
    params = unpack(stream).header.params
    assert params["lattice"][0][1:] == found.reshape(-1)[1:].tolist() and not any(params["lattice"][1])
    monkeypatch.setattr(block_dct, "find_lattice", lambda plane: (0,) * 64)
    plain = omnicodec.compress(ErpImage(jpeg), codec="image", rate=8, transform="dct")
    assert "lattice" not in unpack(plain).header.params
    errors = [np.mean((omnicodec.decompress(x).pixels - jpeg.astype(np.float64)) ** 2) for x in (stream, plain)]
    assert errors[0] < 0.9 * errors[1] and len(stream) < len(plain), (errors, len(stream), len(plain))


def test_malformed_lattices_are_refused() -> None:
    jpeg = _jpeg(np.asarray(Image.open(SAMPLE).convert("RGB"))[:128, :256], 60)
    s = unpack(omnicodec.compress(ErpImage(jpeg), codec="image", rate=6, transform="dct"))
    good = s.header.params["lattice"]
    assert any(good[0])
    bad_values = ([good[0]], good + [good[0]], [good[0][:63], good[1], good[2]], [[5] + good[0][1:], good[1], good[2]],
                  [[0] + [256] * 63, good[1], good[2]], [[0] + [1.5] * 63, good[1], good[2]], "x", 7)
    for bad in bad_values:
        s.header.params = {**s.header.params, "lattice": bad}
        with pytest.raises(CorruptStreamError, match="lattice"):
            omnicodec.decompress(pack(s.header, s.chunks))
    s.header.params = {**s.header.params, "lattice": good, "dct": False}
    with pytest.raises(CorruptStreamError):
        omnicodec.decompress(pack(s.header, s.chunks))
