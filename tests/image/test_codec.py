"""The image codec (``image``) and the sphere-aware panorama codec (``erp``), with both cores (the wavelet core, the
default, and the hyperprior autoencoder ``image_core``): round trips, rates, exactness across threads and processes,
tiling, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import omnicodec
from omnicodec.bitstream import Chunk, pack, unpack
from omnicodec.errors import BitstreamError, CorruptStreamError, InputError
from omnicodec.image.codec import RATES
from omnicodec.metrics.image import psnr
from omnicodec.types import ErpImage

REPO = Path(__file__).resolve().parents[2]


def _smooth_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A photo-like test image: smooth colour fields, edges and a little texture, uint8 (h, w, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([
        120 + 80 * np.sin(xx / 23.0 + 1.0) * np.cos(yy / 31.0),
        110 + 70 * np.cos(xx / 17.0 - yy / 29.0),
        100 + 60 * np.sin((xx + yy) / 41.0),
    ], axis=-1)
    img[(xx // 32 + yy // 32) % 2 == 0] += 30.0
    img += rng.normal(0, 3.0, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("shape", [(1, 1, 3), (17, 33, 3), (70, 130, 3), (40, 50, 1), (31, 45)])
def test_round_trip_any_size(shape: tuple[int, ...]) -> None:
    pixels = _smooth_image(shape[0], shape[1])
    pixels = pixels[..., :1] if len(shape) == 3 and shape[2] == 1 else pixels
    pixels = pixels[..., 0] if len(shape) == 2 else pixels
    stream = omnicodec.compress(ErpImage(pixels), codec="image", rate=5)
    out = omnicodec.decompress(stream).pixels
    expected = ErpImage(pixels).pixels
    assert out.shape == expected.shape and out.dtype == np.uint8
    if min(shape[:2]) >= 17:
        assert psnr(expected, out) > 22.0


def test_rates_trade_bits_for_quality() -> None:
    pixels = _smooth_image(128, 192)
    sizes, quality = [], []
    for rate in range(1, RATES + 1):
        stream = omnicodec.compress(ErpImage(pixels), codec="image", rate=rate)
        sizes.append(len(stream))
        quality.append(psnr(pixels, omnicodec.decompress(stream).pixels))
    assert all(a < b for a, b in zip(sizes, sizes[1:], strict=False)), sizes
    assert quality[-1] > quality[0] + 2.5, quality
    assert sum(b >= a - 0.3 for a, b in zip(quality, quality[1:], strict=False)) == RATES - 1, quality


@pytest.mark.parametrize("model", [None, "image_core"])
def test_stream_is_deterministic_and_records_its_model(model: str | None) -> None:
    pixels = _smooth_image(64, 64)
    a = omnicodec.compress(ErpImage(pixels), codec="image", rate=3, model=model)
    assert a == omnicodec.compress(ErpImage(pixels), codec="image", rate=3, model=model)
    header = unpack(a).header
    assert header.codec == "image" and header.model == (model or "image_wavelet") and len(header.weights_sha256) == 32
    assert header.params["rate"] == 3 and header.params["height"] == 64
    assert ("transform" in header.params) == (model is None)


_DECODE_CHILD = """
import sys, hashlib, torch
torch.set_num_threads(int(sys.argv[2]))
import omnicodec
out = omnicodec.decompress(open(sys.argv[1], 'rb').read()).pixels
print(hashlib.sha256(out.tobytes()).hexdigest())
"""


@pytest.mark.parametrize("options", [{}, {"model": "image_core", "tile": 8}])  # tile 8: several entropy tiles
def test_decoding_is_identical_across_threads_and_processes(tmp_path: Path, options: dict) -> None:
    pixels = _smooth_image(200, 330, seed=4)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        stream = omnicodec.compress(ErpImage(pixels), codec="image", rate=6, **options)
        here = omnicodec.decompress(stream).pixels
    finally:
        torch.set_num_threads(old)
    path = tmp_path / "s.omc"
    path.write_bytes(stream)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.run([sys.executable, "-c", _DECODE_CHILD, str(path), "1"], capture_output=True, text=True,
                           env=env, check=True)
    import hashlib

    assert child.stdout.strip() == hashlib.sha256(here.tobytes()).hexdigest()


def test_entropy_tiles_leave_no_seams() -> None:
    pixels = _smooth_image(256, 256, seed=5)
    core = {"codec": "image", "rate": 5, "model": "image_core"}
    whole = omnicodec.decompress(omnicodec.compress(ErpImage(pixels), **core)).pixels
    tiled_stream = omnicodec.compress(ErpImage(pixels), **core, tile=4)  # 64-pixel tiles
    assert len(unpack(tiled_stream).chunks) == 16
    tiled = omnicodec.decompress(tiled_stream).pixels
    assert abs(psnr(pixels, tiled) - psnr(pixels, whole)) < 0.3
    # the tiled decode differs from the whole one (each tile has its own hyper-latent), but not more at tile borders
    diff = np.abs(tiled.astype(np.float64) - whole)
    for axis in (0, 1):
        per_line = diff.mean(axis=(1 - axis, 2))
        assert per_line[[63, 64, 127, 128, 191, 192]].mean() < 2.0 * per_line.mean() + 0.5


def test_erp_codec_wraps_around_the_seam() -> None:
    h = 128
    lon = (np.arange(2 * h) + 0.5) / (2 * h) * 2 * np.pi
    row = np.stack([128 + 90 * np.sin(lon), 128 + 90 * np.cos(2 * lon), 128 + 60 * np.sin(3 * lon)], -1)
    pixels = np.clip(np.round(np.broadcast_to(row, (h, 2 * h, 3)) + _smooth_image(h, 2 * h) * 0.2 - 25), 0, 255)
    pixels = pixels.astype(np.uint8)
    stream = omnicodec.compress(ErpImage(pixels))  # 2:1 -> erp by default
    assert unpack(stream).header.codec == "erp"
    out = omnicodec.decompress(stream).pixels.astype(np.float64)
    seam_jump = np.abs(out[:, 0] - out[:, -1]).mean()
    ref_jump = np.abs(pixels[:, 0].astype(np.float64) - pixels[:, -1]).mean()
    assert seam_jump < ref_jump + 3.0


def test_bad_options_raise_input_error() -> None:
    pixels = _smooth_image(16, 16)
    for kwargs in ({"rate": 0}, {"rate": RATES + 1}, {"rate": 2.5}, {"tile": 3}, {"frobnicate": 1}):
        with pytest.raises(InputError):
            omnicodec.compress(ErpImage(pixels), codec="image", **kwargs)
    with pytest.raises(InputError, match="alpha"):
        omnicodec.compress(ErpImage(np.zeros((8, 8, 4), np.uint8)), codec="image")
    with pytest.raises(InputError, match="8-bit"):
        omnicodec.compress(ErpImage(np.zeros((8, 8, 3), np.float32)), codec="image")


def _with_params(stream: bytes, **changes) -> bytes:
    s = unpack(stream)
    s.header.params = {**s.header.params, **changes}
    return pack(s.header, s.chunks)


def test_corrupt_streams_raise_bitstream_errors() -> None:
    stream = omnicodec.compress(ErpImage(_smooth_image(40, 40)), codec="image", rate=2)
    for bad in (stream[: len(stream) // 2], stream[:-1]):
        with pytest.raises(BitstreamError):
            omnicodec.decompress(bad)
    flipped = bytearray(stream)
    flipped[-5] ^= 0x40
    with pytest.raises(BitstreamError):
        omnicodec.decompress(bytes(flipped))
    for changes in ({"height": 0}, {"width": 10**9}, {"rate": 99}, {"tile": 5}, {"wrap": 1}, {"extra": 1}):
        with pytest.raises(CorruptStreamError):
            omnicodec.decompress(_with_params(stream, **changes))
    s = unpack(stream)
    with pytest.raises(CorruptStreamError):
        omnicodec.decompress(pack(s.header, s.chunks + [Chunk("TILE", s.chunks[0].data)]))


def test_cli_round_trip_and_errors(tmp_path: Path) -> None:
    from PIL import Image

    src = tmp_path / "photo.png"
    Image.fromarray(_smooth_image(48, 80)).save(src)
    omc, out = tmp_path / "p.omc", tmp_path / "p.png"
    run = [sys.executable, "-m", "omnicodec"]
    r = subprocess.run(run + ["compress", str(src), "-o", str(omc), "--rate", "4", "--json"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["codec"] == "image" and result["pixels"] == 48 * 80
    assert abs(result["bpp"] - 8 * omc.stat().st_size / (48 * 80)) < 1e-9
    r = subprocess.run(run + ["decompress", str(omc), "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert np.asarray(Image.open(out)).shape == (48, 80, 3)
    r = subprocess.run(run + ["eval", str(src), str(out), "--json"], capture_output=True, text=True)
    quality = json.loads(r.stdout)
    assert {"psnr", "psnr_y", "ssim_y"} <= set(quality) and "ws_psnr_y" not in quality  # a photo, not a panorama
    assert quality["psnr"] == pytest.approx(psnr(np.asarray(Image.open(src)), np.asarray(Image.open(out))))
    bad = tmp_path / "bad.omc"
    bad.write_bytes(omc.read_bytes()[:40])
    r = subprocess.run(run + ["decompress", str(bad), "-o", str(tmp_path / "bad.png")], capture_output=True,
                       text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "bad.png").exists()
    r = subprocess.run(run + ["compress", str(src), "-o", str(tmp_path / "x.omc"), "--rate", "99"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "rate" in r.stderr and not (tmp_path / "x.omc").exists()
    r = subprocess.run(run + ["compress", str(src), "-o", str(tmp_path / "c.omc"), "--chroma", "2"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert unpack((tmp_path / "c.omc").read_bytes()).header.params["chroma"] == 32
    r = subprocess.run(run + ["compress", str(src), "-o", str(tmp_path / "z.omc"), "--chroma", "99"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "chroma" in r.stderr and not (tmp_path / "z.omc").exists()
    notimg = tmp_path / "notimg.png"
    notimg.write_bytes(b"this is not a png")
    r = subprocess.run(run + ["compress", str(notimg), "-o", str(tmp_path / "y.omc")], capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
