"""The predictive attribute codec: levels of detail, lossless and lossy round trips, streams, errors."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import omnicodec
from omnicodec.bitstream import Chunk, pack, unpack
from omnicodec.errors import BitstreamError, CorruptStreamError, InputError, ModelError, UnsupportedVersionError
from omnicodec.metrics import colour_psnr
from omnicodec.pointcloud import attr_codec as ac
from omnicodec.pointcloud import attr_model as am
from omnicodec.pointcloud.attr_lod import build_levels, point_levels
from omnicodec.pointcloud.attributes import encode_attribute
from omnicodec.pointcloud.octree import morton_encode
from omnicodec.types import PointCloud
from tests.pointcloud.helpers import coloured_sphere


@pytest.fixture(scope="module")
def model() -> am.AttributeModel:
    return am.load_model()


def test_point_levels_by_hand():
    keys = np.array([0, 1, 1, 3, 8, 64], dtype=np.int64)
    # the first gets the bit length of the largest key (7); then the highest bit where each key differs from the
    # one before: 1^0 -> bit 0, repeat -> -1, 3^1 -> bit 1, 8^3 -> bit 3, 64^8 -> bit 6
    assert point_levels(keys).tolist() == [7, 0, -1, 1, 3, 6]


def test_every_point_is_coded_once_after_its_predictors():
    coords, _ = coloured_sphere(24)
    keys = morton_encode(coords)
    order = np.argsort(keys, kind="stable")
    coords, keys = coords[order], keys[order]
    first, steps = build_levels(coords, keys)
    seen = np.zeros(len(coords), dtype=np.int64) - 1
    seen[first] = 0
    for i, step in enumerate(steps, start=1):
        assert (seen[step.points] == -1).all()
        used = step.weights > 0
        assert used[:, 0].all()  # every point has at least one predictor
        assert (seen[step.neighbours[used]] >= 0).all() and (seen[step.neighbours[used]] < i).all()
        seen[step.points] = i
    assert (seen >= 0).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_colour_lossless_is_exact(model, seed):
    coords, rgb = coloured_sphere(40, seed)
    perm = np.random.default_rng(seed).permutation(len(coords))  # any point order
    coords, rgb = coords[perm], rgb[perm]
    data, rec = ac.encode_predictive(coords, rgb, "colour", None, model)
    assert np.array_equal(rec, rgb)
    out = ac.decode_predictive(data, coords, "colour", None, np.dtype(np.uint8), False, model)
    assert np.array_equal(out, rgb)
    assert len(data) * 8 / len(coords) < 14  # noise of sigma 2 alone costs about 9 bits; raw colour 24


def test_cg_is_predicted_from_the_co_residual(model):
    """Colours whose Cg moves with Co (here G follows R - B): the cross-component slope is learned from the decoded
    steps and the Cg values cost far less than with the slope held at 0."""
    rng = np.random.default_rng(5)
    coords, rgb = coloured_sphere(40, 5)
    co = rng.normal(0, 12, len(coords))
    rgb = np.clip(np.stack([128 + co, 128 + 0.5 * co, 128 - co], axis=1) + rng.normal(0, 1, (len(coords), 3)),
                  0, 255).astype(np.uint8)
    data, rec = ac.encode_predictive(coords, rgb, "colour", None, model)
    assert np.array_equal(ac.decode_predictive(data, coords, "colour", None, np.dtype(np.uint8), False, model), rgb)
    layout, walker, coded, *_ = ac._analyse(coords, rgb, "colour", None, None)
    assert walker.alpha() != 0
    cg_bits = sum(np.log2(1 + np.abs(q)).sum() for c, q, *_ in coded if c == 2)
    walker_off = ac._Walker(layout, np.array([0, -255, -255]), np.array([255, 255, 255]), cross=False)
    assert not walker_off.cross
    # the same cloud with the slope forced to 0: its Cg residuals are the plain spatial ones
    ycocg = np.stack(ac.rgb_to_ycocg(*rgb.astype(np.int64).T), axis=1)[layout.order]
    plain = 0.0
    walker_off.rec[:, layout.first] = ycocg[layout.first].T
    for i, step in enumerate(layout.steps):
        walker_off.begin(step, i)
        q_luma = None
        for c in range(3):
            pred, _ = walker_off.context(c, q_luma)
            q = ycocg[step.points, c] - pred
            walker_off.store(c, pred, q, ac._ONE)
            q_luma = q if c == 0 else q_luma
            plain += np.log2(1 + np.abs(q)).sum() if c == 2 else 0.0
    assert cg_bits < 0.8 * plain


def test_format_1_payloads_still_decode():
    """A lossless colour payload of format 1 (no cross-component prediction; written by the previous version under
    the untrained prior tables) decodes to its colours."""
    coords, rgb = coloured_sphere(16, 3)
    data = (Path(__file__).parent / "data" / "attr_pred_v1_sphere16.bin").read_bytes()
    assert data[0] == 1
    prior = am.AttributeModel(am.prior_weights())
    out = ac.decode_predictive(data, coords, "colour", None, np.dtype(np.uint8), False, prior)
    assert np.array_equal(out, rgb)
    new, _ = ac.encode_predictive(coords, rgb, "colour", None, prior)
    assert new[0] == ac.FORMAT == 2 and new != data


def test_scalar_lossless_float_and_integer(model):
    coords, rgb = coloured_sphere(32)
    levels = (rgb[:, 0] // 3).astype(np.float32) / np.float32(100)  # about 85 distinct float values
    data, rec = ac.encode_predictive(coords, levels, "scalar", None, model)
    out = ac.decode_predictive(data, coords, "scalar", None, np.dtype(np.float32), True, model)
    assert out.dtype == np.float32 and np.array_equal(out, levels) and np.array_equal(rec, levels)
    wide = rgb[:, 1].astype(np.uint16) * 250
    data, _ = ac.encode_predictive(coords, wide, "scalar", None, model)
    assert np.array_equal(ac.decode_predictive(data, coords, "scalar", None, np.dtype(np.uint16), True, model), wide)


def test_lossy_rates_trade_bits_for_quality(model):
    coords, rgb = coloured_sphere(48)
    bits, psnr = [], []
    for rate in (1, 4, 8):
        data, rec = ac.encode_predictive(coords, rgb, "colour", rate, model)
        out = ac.decode_predictive(data, coords, "colour", rate, np.dtype(np.uint8), False, model)
        assert np.array_equal(out, rec)  # the decoder rebuilds exactly what the encoder predicted
        mse = ((out.astype(float) - rgb) ** 2).mean()
        bits.append(len(data))
        psnr.append(10 * np.log10(255**2 / mse))
    assert bits[0] < bits[1] < bits[2]
    assert psnr[0] < psnr[1] < psnr[2]
    assert psnr[2] > 38 and psnr[0] > 24


def _cloud(n_side: int = 40) -> PointCloud:
    coords, rgb = coloured_sphere(n_side)
    intensity = (rgb[:, 1] / 255).astype(np.float32)
    normals = np.random.default_rng(3).normal(size=(len(coords), 3)).astype(np.float32)
    return PointCloud(coords.astype(np.float32), {"rgb": rgb, "intensity": intensity, "normals": normals})


@pytest.mark.parametrize("codec", ["octree", "learned"])
def test_codec_lossless_attributes(codec):
    cloud = _cloud()
    stream = omnicodec.compress(cloud, codec=codec)
    specs = {s["name"]: s for s in unpack(stream).header.params["attributes"]}
    assert specs["rgb"]["method"] == "pred" and specs["intensity"]["kind"] == "scalar"
    assert "method" not in specs["normals"]  # other fields stay on the generic lossless path
    out = omnicodec.decompress(stream)
    order = np.lexsort(cloud.positions.T[::-1])
    back = np.lexsort(out.positions.T[::-1])
    for name in cloud.attributes:
        assert np.array_equal(out.attributes[name][back], cloud.attributes[name][order]), name


def test_codec_duplicates_keep_every_value():
    coords, rgb = coloured_sphere(24)
    coords = np.concatenate([coords, coords[:50]])
    rgb = np.concatenate([rgb, rgb[:50][:, ::-1]])  # repeated voxels with other colours
    cloud = PointCloud(coords.astype(np.float64), {"rgb": rgb})
    out = omnicodec.decompress(omnicodec.compress(cloud, codec="octree"))
    key = lambda c: sorted(map(tuple, np.concatenate([c.positions, c.attributes["rgb"]], axis=1).tolist()))  # noqa: E731
    assert key(out) == key(cloud)


def test_codec_lossy_attributes_and_metrics():
    cloud = _cloud(48)
    lossless = len(omnicodec.compress(cloud, codec="octree"))
    stream = omnicodec.compress(cloud, codec="octree", attr_rate=3)
    assert len(stream) < lossless
    out = omnicodec.decompress(stream)
    assert np.array_equal(np.sort(out.positions, axis=0), np.sort(cloud.positions, axis=0))
    m = colour_psnr(cloud, out)
    assert 28 < m["y_psnr"] < 60
    specs = {s["name"]: s for s in unpack(stream).header.params["attributes"]}
    assert specs["rgb"]["attr_rate"] == 3 and specs["normals"].get("attr_rate") is None


def test_lossy_geometry_recolours_and_codes_attributes():
    cloud = _cloud(48)
    out = omnicodec.decompress(omnicodec.compress(cloud, codec="lossy", rate=4, attr_rate=5))
    assert set(out.attributes) == set(cloud.attributes)
    assert colour_psnr(cloud, out)["y_psnr"] > 20


def test_streams_without_a_method_still_decode():
    """Streams written before the predictive codec carry byte-plane payloads and no ``method``: they decode."""
    cloud = PointCloud(coloured_sphere(24)[0].astype(np.float64), {"rgb": coloured_sphere(24)[1]})
    stream = unpack(omnicodec.compress(cloud, codec="octree"))
    params = dict(stream.header.params)
    spec = {k: v for k, v in params["attributes"][0].items() if k in ("name", "dtype", "channels", "shape_1d")}
    params["attributes"] = [spec]
    order = np.argsort(morton_encode(cloud.positions.astype(np.int64) - cloud.positions.astype(np.int64).min(0)),
                       kind="stable")
    old_payload = encode_attribute(cloud.attributes["rgb"][order])
    chunks = [c if c.tag != "ATTR" else Chunk("ATTR", old_payload) for c in stream.chunks]
    header = type(stream.header)(**{**stream.header.__dict__, "params": params})
    out = omnicodec.decompress(pack(header, chunks))
    assert np.array_equal(out.attributes["rgb"], cloud.attributes["rgb"][order])


def _with_attr(stream: bytes, payload: bytes | None = None, **spec_changes) -> bytes:
    s = unpack(stream)
    params = dict(s.header.params)
    params["attributes"] = [{**a, **spec_changes} for a in params["attributes"]]
    chunks = [c if c.tag != "ATTR" or payload is None else Chunk("ATTR", payload) for c in s.chunks]
    return pack(type(s.header)(**{**s.header.__dict__, "params": params}), chunks)


@pytest.mark.parametrize("change, error", [
    ({"payload": b""}, CorruptStreamError),
    ({"payload": b"\x00\x00"}, CorruptStreamError),
    ({"payload": b"\x07\x00"}, UnsupportedVersionError),  # a format newer than this reader's
    ({"payload": b"\x01"}, BitstreamError),
    ({"method": "lift"}, CorruptStreamError),
    ({"kind": "texture"}, CorruptStreamError),
    ({"attr_rate": 99}, CorruptStreamError),
    ({"attr_rate": True}, CorruptStreamError),
    ({"dtype": "<f4"}, CorruptStreamError),
    ({"model_sha256": "00" * 32}, ModelError),
    ({"model": 7}, CorruptStreamError),
])
def test_bad_attribute_payloads_are_refused(change, error):
    coords, rgb = coloured_sphere(20)
    stream = omnicodec.compress(PointCloud(coords.astype(np.float64), {"rgb": rgb}), codec="octree", attr_rate=4)
    payload = change.pop("payload", None)
    with pytest.raises(error):
        omnicodec.decompress(_with_attr(stream, payload, **change))


def test_truncated_and_flipped_payloads_fail_cleanly():
    coords, rgb = coloured_sphere(24)
    stream = omnicodec.compress(PointCloud(coords.astype(np.float64), {"rgb": rgb}), codec="octree")
    payload = unpack(stream).chunks_named("ATTR")[0]
    for bad in (payload[: len(payload) // 2], payload[:-3], payload + b"\x00\x01"):
        with pytest.raises(omnicodec.errors.OmnicodecError):
            omnicodec.decompress(_with_attr(stream, bad))


@pytest.mark.parametrize("rate", [0, 9, 2.5, "3", True])
def test_bad_attr_rate_is_an_input_error(rate):
    coords, rgb = coloured_sphere(16)
    with pytest.raises(InputError, match="attribute rate"):
        omnicodec.compress(PointCloud(coords.astype(np.float64), {"rgb": rgb}), codec="octree", attr_rate=rate)


def test_cli_attr_rate(tmp_path):
    coords, rgb = coloured_sphere(32)
    src = tmp_path / "c.ply"
    omnicodec.write(src, PointCloud(coords.astype(np.float32), {"rgb": rgb}))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = [sys.executable, "-m", "omnicodec"]
    bad = subprocess.run([*run, "compress", str(src), "-o", str(tmp_path / "x.omc"), "--attr-rate", "0"],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "attribute rate" in bad.stderr
    assert not (tmp_path / "x.omc").exists()
    ok = subprocess.run([*run, "compress", str(src), "-o", str(tmp_path / "c.omc"), "--attr-rate", "4", "-q"],
                        capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    sub = subprocess.run([*run, "decompress", str(tmp_path / "c.omc"), "-o", str(tmp_path / "d.ply"), "-q"],
                         capture_output=True, text=True, env=env)
    assert sub.returncode == 0, sub.stderr
    ev = subprocess.run([*run, "eval", str(src), str(tmp_path / "d.ply")], capture_output=True, text=True, env=env)
    assert ev.returncode == 0 and "y_psnr" in ev.stdout


def test_decoding_is_identical_in_another_process_with_one_thread(tmp_path):
    coords, rgb = coloured_sphere(40)
    stream = omnicodec.compress(PointCloud(coords.astype(np.float64), {"rgb": rgb}), codec="octree", attr_rate=5)
    (tmp_path / "s.omc").write_bytes(stream)
    here = hashlib.sha256(omnicodec.decompress(stream).attributes["rgb"].tobytes()).hexdigest()
    code = ("import hashlib, torch, omnicodec; torch.set_num_threads(1); "
            f"d = omnicodec.decompress(open(r'{tmp_path / 's.omc'}', 'rb').read()); "
            "print(hashlib.sha256(d.attributes['rgb'].tobytes()).hexdigest())")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert there.stdout.strip() == here


@pytest.mark.parametrize("suffix", [".las", ".bin"])
def test_lidar_intensity_files_lossless_and_lossy(tmp_path, suffix):
    rng = np.random.default_rng(5)
    angle = rng.uniform(0, 2 * np.pi, 4000)
    ring = rng.integers(0, 16, 4000)
    r = 10 + ring * 0.5
    pos = np.stack([r * np.cos(angle), r * np.sin(angle), ring * 0.1 - 1.0], axis=1).astype(np.float32)
    strength = (30 + 20 * np.sin(angle * 3) + ring).astype(np.float32)
    values = strength.astype(np.uint16) if suffix == ".las" else (strength / 100).round(2).astype(np.float32)
    omnicodec.write(tmp_path / f"f{suffix}", PointCloud(pos, {"intensity": values}))
    cloud = omnicodec.read(tmp_path / f"f{suffix}")
    lossless = omnicodec.decompress(omnicodec.compress(cloud, grid_step=0.001))
    order_in = np.lexsort(np.rint(cloud.positions * 1000).T)
    order_out = np.lexsort(np.rint(lossless.positions * 1000).T)
    assert np.array_equal(lossless.attributes["intensity"][order_out], cloud.attributes["intensity"][order_in])
    lossy = omnicodec.decompress(omnicodec.compress(cloud, grid_step=0.001, attr_rate=6))
    assert lossy.attributes["intensity"].dtype == cloud.attributes["intensity"].dtype
    err = lossy.attributes["intensity"][order_out].astype(float) - cloud.attributes["intensity"][order_in]
    span = float(np.ptp(cloud.attributes["intensity"]))
    assert 0 < np.abs(err).max() <= 0.2 * span
