"""The light-field codec (``lightfield``): round trips on any grid and size, the decoder mirroring the encoder's
reconstruction bit for bit, rates, tiles, exactness across threads and processes, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import omnicodec
from omnicodec.bitstream import unpack
from omnicodec.bitstream.container import pack
from omnicodec.errors import BitstreamError, CorruptStreamError, InputError
from omnicodec.lightfield import codec as lfc
from omnicodec.lightfield.key_core import installed_key_core
from omnicodec.lightfield.models import load_tables
from omnicodec.metrics.lightfield import lightfield_quality
from omnicodec.types import LightField

REPO = Path(__file__).resolve().parents[2]


def layered_field(u: int, v: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """A textured background at disparity -1 and a brighter square at +1 pixel per view step: (U, V, H, W, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : h + 2 * u + 8, 0 : w + 2 * v + 8].astype(np.float64)
    tex = np.stack([120 + 60 * np.sin(xx / 5.0) * np.cos(yy / 7.0), 100 + 50 * np.cos((xx + yy) / 9.0),
                    90 + 40 * np.sin(yy / 4.0)], axis=-1) + rng.normal(0, 2.0, yy.shape + (3,))
    views = np.empty((u, v, h, w, 3), dtype=np.uint8)
    for r in range(u):
        for c in range(v):
            dr, dc = r - u // 2, c - v // 2
            bg = tex[4 + u - dr : 4 + u - dr + h, 4 + v - dc : 4 + v - dc + w]  # disparity -1
            img = bg.copy()
            y0, x0 = h // 3 + dr, w // 3 + dc  # disparity +1
            img[max(y0, 0) : max(y0 + h // 3, 0), max(x0, 0) : max(x0 + w // 3, 0)] = [220, 80, 60]
            views[r, c] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return views


@pytest.fixture(scope="module")
def field() -> np.ndarray:
    return layered_field(3, 3, 48, 64)


def _encode_tile(views: np.ndarray, rate: int) -> tuple[list, np.ndarray, lfc.LightfieldParams]:
    u, v, h, w, _ = views.shape
    params = lfc.LightfieldParams(u, v, h, w, 3, rate)
    tables, _ = load_tables()
    core = installed_key_core("constriction")
    blend = lfc._installed_blend()[0]
    enc = lfc._TileEncoder(params, tables, core, "constriction", blend=blend)

    class Bar:
        def update(self, n: int) -> None:
            pass

    chunks = enc.encode(views, Bar())
    return chunks, enc.reconstruction, params


def test_decoder_mirrors_the_encoder_bit_for_bit(field: np.ndarray) -> None:
    for rate in (2, 6):
        _, reconstruction, _ = _encode_tile(field, rate)
        stream = omnicodec.compress(LightField(field), codec="lightfield", rate=rate)
        decoded = omnicodec.decompress(stream).views
        assert np.array_equal(decoded, reconstruction)


@pytest.mark.parametrize("grid,size", [((1, 1), (40, 56)), ((1, 4), (33, 47)), ((2, 3), (48, 64)),
                                       ((5, 2), (21, 17)), ((17, 17), (24, 40)), ((3, 18), (16, 16))])
def test_round_trip_any_grid_and_size(grid: tuple[int, int], size: tuple[int, int]) -> None:
    views = layered_field(*grid, *size, seed=3)
    stream = omnicodec.compress(LightField(views), rate=5)
    out = omnicodec.decompress(stream)
    assert out.views.shape == views.shape and out.views.dtype == np.uint8
    assert lightfield_quality(views, out.views, ssim=False)["mean_psnr_y"] > 24.0


def test_grey_views_come_back_grey(field: np.ndarray) -> None:
    grey = field[..., 1:2].copy()
    out = omnicodec.decompress(omnicodec.compress(LightField(grey), rate=6)).views
    assert out.shape == grey.shape
    err = np.abs(out.astype(int) - grey).mean()
    assert err < 6.0


def test_rates_trade_bits_for_quality(field: np.ndarray) -> None:
    sizes, quality = [], []
    for rate in (1, 4, 8):
        stream = omnicodec.compress(LightField(field), rate=rate)
        sizes.append(len(stream))
        quality.append(lightfield_quality(field, omnicodec.decompress(stream).views, ssim=False)["mean_psnr_y"])
    assert sizes[0] < sizes[1] < sizes[2], sizes
    assert quality[0] < quality[1] < quality[2], quality
    assert quality[2] > 38.0
    # far below coding every view on its own: 9 views of 48 x 64 at 8 bits would be 221184 bits
    assert 8 * sizes[1] < 221184 / 8


def test_inter_view_prediction_pays(field: np.ndarray) -> None:
    """Coding the 3 x 3 field costs much less than nine times its key view alone."""
    whole = len(omnicodec.compress(LightField(field), rate=4))
    key = len(omnicodec.compress(LightField(field[1:2, 1:2]), rate=4))
    assert whole < 4 * key


def test_tiles_decode_and_match_the_whole(field: np.ndarray) -> None:
    views = layered_field(2, 2, 70, 130, seed=5)
    tiled = omnicodec.compress(LightField(views), rate=5, tile=64)
    assert len([c for c in unpack(tiled).chunks if c.tag == "LFTL"]) == 2 * 3
    out = omnicodec.decompress(tiled).views
    assert lightfield_quality(views, out, ssim=False)["mean_psnr_y"] > 28.0


def test_streams_are_deterministic(field: np.ndarray) -> None:
    a = omnicodec.compress(LightField(field), rate=3)
    assert a == omnicodec.compress(LightField(field), rate=3)


def test_same_views_in_another_process_with_one_thread(field: np.ndarray, tmp_path: Path) -> None:
    import hashlib

    import torch

    stream = omnicodec.compress(LightField(field), rate=5)
    path = tmp_path / "lf.omc"
    path.write_bytes(stream)
    here = hashlib.sha256(omnicodec.decompress(stream).views.tobytes()).hexdigest()
    code = ("import hashlib, sys, torch; torch.set_num_threads(1); import omnicodec; "
            "print(hashlib.sha256(omnicodec.decompress(open(sys.argv[1], 'rb').read()).views.tobytes()).hexdigest())")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env,
                         cwd=REPO, check=True)
    assert out.stdout.strip() == here
    assert torch.get_num_threads() >= 1


def test_naming_is_kept(field: np.ndarray) -> None:
    lf = LightField(field, metadata={"naming": "rowcol", "prefix": "scene", "first_index": 0})
    out = omnicodec.decompress(omnicodec.compress(lf, rate=2))
    assert out.metadata["naming"] == "rowcol" and out.metadata["prefix"] == "scene"
    assert out.metadata["first_index"] == 0


@pytest.mark.parametrize("bad,match", [
    (np.zeros((2, 2, 8, 8, 3), dtype=np.uint16), "8-bit"),
    (np.zeros((2, 2, 8, 8, 4), dtype=np.uint8), "alpha"),
    (np.zeros((2, 0, 8, 8, 3), dtype=np.uint8), "no pixels"),
    (np.zeros((65, 1, 8, 8, 3), dtype=np.uint8), "grid"),
])
def test_bad_input_is_refused(bad: np.ndarray, match: str) -> None:
    with pytest.raises(InputError, match=match):
        omnicodec.compress(LightField(bad), codec="lightfield", rate=3)


@pytest.mark.parametrize("options,match", [({"rate": 0}, "rate"), ({"rate": 9}, "rate"), ({"rate": 2.5}, "rate"),
                                           ({"tile": 100}, "tile"), ({"colour": 1}, "unknown option")])
def test_bad_options_are_refused(field: np.ndarray, options: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        omnicodec.compress(LightField(field), codec="lightfield", **options)


def test_damaged_streams_raise_bitstream_errors(field: np.ndarray) -> None:
    stream = omnicodec.compress(LightField(field), rate=4)
    for cut in (10, len(stream) // 2, len(stream) - 1):
        with pytest.raises(BitstreamError):
            omnicodec.decompress(stream[:cut])
    flipped = bytearray(stream)
    flipped[-5] ^= 0x10
    with pytest.raises(BitstreamError):
        omnicodec.decompress(bytes(flipped))


@pytest.mark.parametrize("change", [{"rows": 0}, {"rows": 100}, {"height": 0}, {"rate": 99}, {"tile": 65},
                                    {"sparse": 0},
                                    {"naming": "other"}, {"first_index": 2}, {"blend": "x", "blend_sha": ""},
                                    {"extra": 1}, {"width": "wide"}, {"key_core": "x", "key_sha": ""},
                                    {"key_sha": 5}, {"key_core": "image_wavelet!"}, {"key_loop": False},
                                    {"key_loop": 1}, {"key_loop": True, "key_core": "", "key_sha": ""},
                                    {"filters": False}, {"filters": 1}])
def test_bad_header_parameters_are_corrupt_streams(field: np.ndarray, change: dict) -> None:
    stream = unpack(omnicodec.compress(LightField(field[:2, :2]), rate=2))
    params = {**stream.header.params, **change}
    header = type(stream.header)(**{**stream.header.__dict__, "params": params})
    with pytest.raises(CorruptStreamError):
        omnicodec.decompress(pack(header, stream.chunks))


def test_key_view_core_is_named_and_earlier_streams_decode(field: np.ndarray, monkeypatch) -> None:
    from omnicodec.errors import ModelError
    from omnicodec.lightfield import key_core

    views = field[:2, :3]
    stream = unpack(omnicodec.compress(LightField(views), rate=3))
    assert stream.header.params["key_core"] == "image_wavelet" and len(stream.header.params["key_sha"]) == 64
    bad_sha = {**stream.header.params, "key_sha": "0" * 64}
    with pytest.raises(ModelError, match="image_wavelet"):
        omnicodec.decompress(pack(type(stream.header)(**{**stream.header.__dict__, "params": bad_sha}),
                                  stream.chunks))
    # a stream of the earlier format: the hyperprior key core, no key_core / key_sha parameters
    monkeypatch.setattr(lfc, "installed_key_core", lambda coder: key_core.KeyCore("image_core", coder))
    old = unpack(omnicodec.compress(LightField(views), rate=3))
    params = {k: v for k, v in old.header.params.items() if k not in ("key_core", "key_sha")}
    monkeypatch.undo()
    expected = omnicodec.decompress(pack(old.header, old.chunks)).views
    decoded = omnicodec.decompress(pack(type(old.header)(**{**old.header.__dict__, "params": params}), old.chunks))
    assert np.array_equal(decoded.views, expected)


def test_key_view_loop_filter_is_announced_and_streams_without_it_decode(field: np.ndarray, monkeypatch) -> None:
    from omnicodec.lightfield import key_core

    views = field[:2, :3]
    stream = unpack(omnicodec.compress(LightField(views), rate=4))
    assert stream.header.params["key_loop"] is True
    keyc = [c for c in stream.chunks if c.tag == "KEYC"]
    assert len(keyc) == 6  # PLNE and LOOP payloads of three planes
    without = {k: v for k, v in stream.header.params.items() if k != "key_loop"}
    with pytest.raises(CorruptStreamError):  # the same payloads read without the filter: the count no longer matches
        omnicodec.decompress(pack(type(stream.header)(**{**stream.header.__dict__, "params": without}),
                                  stream.chunks))
    # a stream written before the key view's loop filter: no key_loop, three payloads
    monkeypatch.setattr(lfc, "installed_key_core", lambda coder: key_core.KeyCore("image_wavelet", coder))
    old = unpack(omnicodec.compress(LightField(views), rate=4))
    monkeypatch.undo()
    assert "key_loop" not in old.header.params
    assert len([c for c in old.chunks if c.tag == "KEYC"]) == 3
    decoded = omnicodec.decompress(pack(old.header, old.chunks)).views
    assert decoded.shape == views.shape
    assert lightfield_quality(views, decoded, ssim=False)["mean_psnr_y"] > 28.0


def half_sample_field(u: int, v: int, h: int, w: int) -> np.ndarray:
    """A smooth texture seen at half a pixel of disparity per view step (fractional sample positions):
    (U, V, H, W, 3)."""
    views = np.empty((u, v, h, w, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    for r in range(u):
        for c in range(v):
            y, x = yy + 0.5 * (r - u // 2), xx + 0.5 * (c - v // 2)
            rgb = [128 + 70 * np.sin(x / 2.1) * np.cos(y / 3.3), 120 + 60 * np.cos((x + y) / 2.7),
                   110 + 50 * np.sin(y / 1.9)]
            views[r, c] = np.clip(np.stack(rgb, axis=-1), 0, 255).round().astype(np.uint8)
    return views


def test_warping_filters_are_chosen_per_view_and_streams_without_them_decode(monkeypatch) -> None:
    """New streams announce ``filters`` and the decoder warps some views with the sharper filters (a fine texture
    at half-sample disparities); a stream written before (no ``filters``: every view warped bilinearly, no flags)
    still decodes, and reading it as if it had the flags does not give the same views."""
    import dataclasses

    field = half_sample_field(3, 3, 48, 64)
    stream = omnicodec.compress(LightField(field), rate=6)
    assert unpack(stream).header.params["filters"] is True
    sharp_used = []
    real = lfc.predict_view

    def spy(*args, **kwargs):
        sharp_used.append(bool(args[5]))
        return real(*args, **kwargs)

    monkeypatch.setattr(lfc, "predict_view", spy)
    decoded = omnicodec.decompress(stream).views
    monkeypatch.undo()
    assert len(sharp_used) == 8 and any(sharp_used)

    @dataclasses.dataclass(frozen=True)
    class Before(lfc.LightfieldParams):
        filters: bool = False

    monkeypatch.setattr(lfc, "LightfieldParams", Before)
    old = unpack(omnicodec.compress(LightField(field), rate=6))
    monkeypatch.undo()
    assert "filters" not in old.header.params and lfc.LightfieldParams.from_header(old.header.params).filters is False
    decoded_old = omnicodec.decompress(pack(old.header, old.chunks)).views
    q_old = lightfield_quality(field, decoded_old, ssim=False)["mean_psnr_y"]
    assert q_old > 30.0 and lightfield_quality(field, decoded, ssim=False)["mean_psnr_y"] > 30.0
    flagged = {**old.header.params, "filters": True}
    try:
        misread = omnicodec.decompress(pack(type(old.header)(**{**old.header.__dict__, "params": flagged}),
                                            old.chunks)).views
    except BitstreamError:
        misread = None
    assert misread is None or not np.array_equal(misread, decoded_old)


def test_payload_mismatch_is_a_corrupt_stream(field: np.ndarray) -> None:
    stream = unpack(omnicodec.compress(LightField(field[:2, :2]), rate=2))
    header = type(stream.header)(**{**stream.header.__dict__,
                                    "params": {**stream.header.params, "width": stream.header.params["width"] + 64}})
    with pytest.raises(BitstreamError):
        omnicodec.decompress(pack(header, stream.chunks))
    with pytest.raises(CorruptStreamError):
        omnicodec.decompress(pack(stream.header, stream.chunks + stream.chunks[-1:]))


def test_info_lists_the_parameters(field: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "lf.omc"
    path.write_bytes(omnicodec.compress(LightField(field), rate=3))
    out = subprocess.run([sys.executable, "-m", "omnicodec", "info", str(path), "--json"], capture_output=True,
                         text=True, cwd=REPO, check=True)
    info = json.loads(out.stdout)
    assert info["codec"] == "lightfield" and info["params"]["rows"] == 3 and info["params"]["rate"] == 3


def test_sparse_view_mode_codes_a_sub_grid_and_synthesises_the_rest() -> None:
    views = layered_field(5, 5, 48, 64, seed=2)
    lf = LightField(views)
    sparse = omnicodec.compress(lf, rate=6, sparse=2)
    full = omnicodec.compress(lf, rate=6)
    stream = unpack(sparse)
    assert stream.header.params["sparse"] == 2 and len(sparse) < len(full)
    out = omnicodec.decompress(sparse).views
    assert out.shape == views.shape
    q = lightfield_quality(views, out, ssim=False)["psnr_y"]
    coded = np.zeros((5, 5), dtype=bool)
    coded[np.ix_([0, 2, 4], [0, 2, 4])] = True
    assert q[coded].min() > 30.0 and q[~coded].min() > 24.0
    with pytest.raises(InputError, match="sparse"):
        omnicodec.compress(lf, rate=6, sparse=0)


def test_kept_positions_cover_both_ends() -> None:
    assert lfc.kept_positions(9, 2) == [0, 2, 4, 6, 8]
    assert lfc.kept_positions(8, 3) == [0, 3, 6, 7]
    assert lfc.kept_positions(1, 4) == [0]
