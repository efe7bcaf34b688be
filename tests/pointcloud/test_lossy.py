"""The lossy autoencoder codec: rate points, round trips, blocks, attributes, determinism and bad streams."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import omnicodec
from omnicodec.bitstream import Chunk, pack, unpack
from omnicodec.errors import BitstreamError, CorruptStreamError, InputError, ModelError
from omnicodec.metrics import point_metrics
from omnicodec.pointcloud.lossy_codec import scaled_counts, split_blocks
from omnicodec.pointcloud.lossy_net import LossyConfig, LossyNet, load_lossy_bytes, save_lossy_bytes, top_k
from omnicodec.pointcloud.lossy_zoo import RATE_POINTS, RatePoint, list_lossy_models, load_lossy_model, rate_point
from omnicodec.pointcloud.lossy_zoo import model_name as net_name
from omnicodec.pointcloud.octree import morton_decode, morton_encode
from omnicodec.pointcloud.recolour import transfer_attributes
from omnicodec.sparse import SparseTensor
from omnicodec.types import PointCloud
from tests.conftest import REPO
from tests.pointcloud.helpers import with_params


def _surface(rng, n=60000, size=120):
    """Voxels of a bumpy sphere (a dense surface), float64 positions on the integer grid."""
    v = rng.normal(size=(n, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    r = size / 2 * (0.8 + 0.1 * np.sin(3 * v[:, 0]) * np.cos(2 * v[:, 1]))
    return np.unique(np.rint(v * r[:, None] + size / 2), axis=0)


def _sweep(rng, beams=16, steps=900):
    """A LiDAR-like sweep in metres: rings on a ground plane and a wall."""
    az = np.linspace(0, 2 * np.pi, steps, endpoint=False)
    el = np.linspace(-0.4, -0.05, beams)
    a, e = np.meshgrid(az, el)
    rng_m = np.minimum(1.7 / np.tan(-e), 25.0 / np.maximum(np.abs(np.cos(a)), 1e-3))
    pts = np.stack([rng_m * np.cos(a), rng_m * np.sin(a), rng_m * np.tan(e)], -1).reshape(-1, 3)
    return pts + rng.normal(scale=0.01, size=pts.shape)


@pytest.fixture(scope="module")
def dense_cloud():
    rng = np.random.default_rng(3)
    pos = _surface(rng)
    colour = (pos * [2.0, 1.5, 1.0] + rng.integers(0, 4, size=pos.shape)).astype(np.uint8)  # smooth, with noise
    return PointCloud(pos, {"rgb": colour})


def test_shipped_lossy_models_load_and_are_small():
    models = list_lossy_models()
    assert set(models) == {"lossy_dense", "lossy_lidar"}
    for name, entry in models.items():
        assert entry["bytes"] < 10_000_000
        assert entry["command"].startswith("python tools/train_lossy.py")
        assert entry["kind"] == "lossy_pointcloud" and net_name(entry["family"]) == name
        net, sha = load_lossy_model(name)
        assert sha == entry["sha256"] == net.sha256
        assert net.config.gains == 4
        assert max(p.gain for p in RATE_POINTS[entry["family"]] if p.gain is not None) < net.config.gains


def test_every_rate_point_round_trips_and_rate_rises(dense_cloud):
    bpp, d1 = [], []
    for rate in range(1, len(RATE_POINTS["dense"]) + 1):
        stream = omnicodec.compress(dense_cloud, rate=rate)
        header = unpack(stream).header
        assert header.codec == "lossy" and header.model == "lossy_dense"
        assert (header.params["shift"], header.params["gain"]) == rate_point("dense", rate)[:2]
        out = omnicodec.decompress(stream)
        assert header.params["points"] == sum(([b["coarse"]] + b["counts"])[-1] for b in header.params["blocks"])
        surface = header.params["surface"] is not None
        assert len(out) == header.params["surface_points" if surface else "points"]
        assert surface == rate_point("dense", rate).surface
        assert out.positions.dtype == dense_cloud.positions.dtype
        assert out.attributes["rgb"].shape == (len(out), 3) and out.attributes["rgb"].dtype == np.uint8
        attribute_bytes = sum(len(c) for c in unpack(stream).chunks_named("ATTR"))
        bpp.append(8 * (len(stream) - attribute_bytes) / len(dense_cloud))
        d1.append(point_metrics(dense_cloud, out, peak=1023.0, hausdorff=False)["d1_psnr"])
    table = RATE_POINTS["dense"]
    for shift in {p.shift for p in table}:  # at one grid, a larger gain spends more bits (the top point the most)
        same = [b for p, b in zip(table, bpp, strict=True) if p.shift == shift]
        assert same == sorted(same), bpp
    assert bpp[-1] == max(bpp) and bpp[0] == min(bpp), bpp
    assert d1[-1] > d1[0] + 6.0, d1  # the top rate point is far better than the lowest
    assert bpp[-1] < 1.5  # lossy: well below the lossless rate of a voxelised surface


def test_points_lie_on_the_rate_points_grid(dense_cloud, monkeypatch):
    # coarse rate points without surface reconstruction (the LiDAR tables, streams of earlier versions): one point
    # at the centre of each decoded cell
    for point in (RatePoint(2, 0), RatePoint(1, 1)):
        monkeypatch.setitem(RATE_POINTS, "dense", (point,))
        stream = omnicodec.compress(dense_cloud, rate=1)
        out = omnicodec.decompress(stream)
        cell = 1 << point.shift
        origin = dense_cloud.positions.min(axis=0)
        rel = out.positions - origin - (cell - 1) / 2
        assert np.array_equal(rel, np.rint(rel)) and np.all(np.rint(rel) % cell == 0)
        # one point per coarsened cell: as many as the cloud has occupied cells at most, none repeated
        cells = np.unique(np.floor((dense_cloud.positions - origin) / cell), axis=0)
        assert len(np.unique(out.positions, axis=0)) == len(out) <= len(cells)
        s = unpack(stream)  # a stream of a version before surface reconstruction: no surface keys
        params = {k: v for k, v in s.header.params.items() if not k.startswith("surface")}
        old = pack(type(s.header)(**{**s.header.__dict__, "params": params}), [Chunk(c.tag, c.data) for c in s.chunks])
        assert np.array_equal(omnicodec.decompress(old).positions, out.positions)


def test_attributes_are_recoloured_from_the_original(dense_cloud):
    # without attr_rate, the recoloured values (G-PCC-style transfer onto the decoded points) come back exactly
    out = omnicodec.decompress(omnicodec.compress(dense_cloud, rate=6))
    expected = transfer_attributes(dense_cloud, out.positions)
    assert np.array_equal(out.attributes["rgb"], expected["rgb"])


def test_decoding_is_identical_with_one_or_two_threads(dense_cloud):
    stream = omnicodec.compress(dense_cloud, rate=5)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = omnicodec.decompress(stream)
        torch.set_num_threads(2)
        two = omnicodec.decompress(stream)
        again = omnicodec.compress(dense_cloud, rate=5)
    finally:
        torch.set_num_threads(before)
    assert np.array_equal(one.positions, two.positions)
    assert again == stream


AE_RATE = next(r for r, p in enumerate(RATE_POINTS["dense"], 1) if p.shift == 0 and p.gain is not None)


def test_blocks_are_coded_independently_and_reassembled(dense_cloud):
    # Two copies of the surface in different octree cells: two blocks, each decoding as the surface alone would.
    pos = dense_cloud.positions
    pair = PointCloud(np.concatenate([pos, pos + [256.0, 0.0, 0.0]]))
    alone = omnicodec.decompress(omnicodec.compress(PointCloud(pos), rate=AE_RATE)).positions
    stream = omnicodec.compress(pair, rate=AE_RATE, block_points=len(pos))
    blocks = unpack(stream).header.params["blocks"]
    assert len(blocks) == 2 and all(b["counts"][-1] == len(alone) for b in blocks)
    out = omnicodec.decompress(stream).positions
    expected = np.concatenate([alone, alone + [256.0, 0.0, 0.0]])
    assert np.array_equal(np.unique(out, axis=0), np.unique(expected, axis=0)) and len(out) == len(expected)
    whole = unpack(omnicodec.compress(pair, rate=AE_RATE)).header.params["blocks"]
    assert len(whole) == 1


def test_split_blocks_are_octree_cells_under_budget(rng):
    keys = np.unique(morton_encode(rng.integers(0, 4000, size=(200000, 3))))
    blocks = split_blocks(keys, 20000)
    assert blocks[0][0] == 0 and blocks[-1][1] == len(keys)
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:], strict=False))
    for lo, hi in blocks:
        assert hi - lo <= 20000
        c = morton_decode(keys[lo:hi])
        span = int(keys[lo] ^ keys[hi - 1]).bit_length()
        level = -(-span // 3)
        assert np.all((c >> level) == (c[0] >> level))  # inside one octree cell of edge 2**level
    assert split_blocks(keys[:100], 20000) == [(0, 100)]


def test_lidar_family_is_chosen_for_a_sweep(rng):
    cloud = PointCloud(_sweep(rng).astype(np.float32), {"intensity": rng.random(14400).astype(np.float32)})
    stream = omnicodec.compress(cloud, rate=4, grid_step=0.001)
    header = unpack(stream).header
    assert header.params["family"] == "lidar"
    assert header.model == "lossy_lidar" or (header.codec, header.model) == ("spin", "spin")  # the smaller stream
    out = omnicodec.decompress(stream)
    assert out.positions.dtype == np.float32 and len(out) == header.params["points"]
    m = point_metrics(cloud.positions / 0.001, out.positions / 0.001, peak=30000.0, hausdorff=False)
    assert m["d1_psnr"] > 55.0
    low = omnicodec.compress(PointCloud(cloud.positions), rate=1, grid_step=0.001)
    assert len(low) < len(omnicodec.compress(PointCloud(cloud.positions), rate=4, grid_step=0.001))


def test_geometry_only_rate_points_decode_the_coarsened_cells_exactly(rng):
    table = RATE_POINTS["lidar"]
    rate = next(r for r, p in enumerate(table, 1) if p.gain is None)
    shift = table[rate - 1].shift
    pos = np.rint(_sweep(rng) / 0.001) + [100_000, 0, 0]  # 1 mm grid, in map coordinates (no spin handoff)
    cloud = PointCloud(pos, {"intensity": rng.random(len(pos)).astype(np.float32)})
    for budget in (1_000_000, 4096):  # one block, and several
        stream = omnicodec.compress(cloud, rate=rate, model="lidar", block_points=budget)
        s = unpack(stream)
        assert s.header.params["gain"] is None and not s.chunks_named("LATN")
        assert len(s.chunks_named("GEOC")) == len(s.header.params["blocks"]) >= (1 if budget > 4096 else 2)
        out = omnicodec.decompress(stream)
        origin = pos.min(axis=0)
        cells = np.unique((pos - origin).astype(np.int64) >> shift, axis=0)
        expect = (cells << shift) + ((1 << shift) - 1) / 2 + origin
        got = out.positions[np.lexsort(out.positions.T[::-1])]
        assert np.array_equal(got, expect[np.lexsort(expect.T[::-1])])
        expected = transfer_attributes(cloud, out.positions)["intensity"]  # recoloured, then coded losslessly
        assert np.array_equal(out.attributes["intensity"], expected)
    bad = with_params(stream, blocks=[dict(b, counts=[5, 6, 7]) for b in s.header.params["blocks"]])
    with pytest.raises(CorruptStreamError, match="malformed"):
        omnicodec.decompress(bad)
    extra = pack(s.header, [Chunk(c.tag, c.data) for c in s.chunks] + [Chunk("LATN", b"\0" * 8)])
    with pytest.raises(CorruptStreamError, match="latent payloads"):
        omnicodec.decompress(extra)
    with pytest.raises(BitstreamError):
        omnicodec.decompress(stream[: len(stream) - 7])


def test_scaled_counts_stay_reachable():
    assert scaled_counts(10, [40, 160, 640], (1.0, 1.0, 1.0)) == [40, 160, 640]
    assert scaled_counts(10, [40, 160, 640], (1.1, 1.2, 1.3)) == [44, 192, 832]
    assert scaled_counts(10, [12, 15, 20], (0.5, 0.5, 0.5)) == [10, 10, 10]  # at least one child per voxel
    assert scaled_counts(10, [80, 640, 5120], (2.0, 2.0, 2.0)) == [80, 640, 5120]  # at most eight


def test_bad_options_raise_input_error(dense_cloud):
    with pytest.raises(InputError, match="rate must be an integer from 1"):
        omnicodec.compress(dense_cloud, rate=0)
    with pytest.raises(InputError, match="rate must be an integer from 1"):
        omnicodec.compress(dense_cloud, rate=99)
    with pytest.raises(InputError, match="unknown lossy model"):
        omnicodec.compress(dense_cloud, rate=1, model="nope")
    with pytest.raises(InputError, match="no option 'merge_duplicates'"):
        omnicodec.compress(dense_cloud, rate=1, merge_duplicates=True)
    with pytest.raises(InputError, match="needs a rate"):
        omnicodec.compress(dense_cloud, codec="lossy")
    with pytest.raises(InputError, match="no option 'rate'"):
        omnicodec.compress(dense_cloud, codec="learned", rate=2)


def test_corrupt_and_truncated_streams_raise(dense_cloud):
    stream = omnicodec.compress(dense_cloud, rate=2)
    with pytest.raises(BitstreamError):
        omnicodec.decompress(stream[: len(stream) // 2])
    blocks = unpack(stream).header.params["blocks"]
    bad = [dict(b, counts=[b["counts"][0], b["counts"][1], 10**9]) for b in blocks]
    with pytest.raises(CorruptStreamError, match="impossible voxel counts"):
        omnicodec.decompress(with_params(stream, blocks=bad))
    with pytest.raises(CorruptStreamError, match="points"):
        omnicodec.decompress(with_params(stream, points=5))
    with pytest.raises(CorruptStreamError, match="gain index"):
        omnicodec.decompress(with_params(stream, gain=17))
    with pytest.raises(CorruptStreamError, match="malformed"):
        omnicodec.decompress(with_params(stream, blocks="x"))
    with pytest.raises(ModelError, match="coarse geometry"):
        omnicodec.decompress(with_params(stream, coarse_sha256="0" * 64))


def test_model_bytes_round_trip_and_bad_bytes():
    torch.manual_seed(0)
    net = LossyNet(LossyConfig(channels=8, latent=4, lambdas=(1.0, 4.0)))
    back = load_lossy_bytes(save_lossy_bytes(net))
    assert back.config == net.config
    for a, b in zip(net.state_dict().values(), back.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ModelError, match="not a lossy point-cloud model"):
        load_lossy_bytes(b"not a model")


def test_training_forward_gives_losses_and_gradients(rng):
    torch.manual_seed(0)
    net = LossyNet(LossyConfig(channels=8, latent=4, lambdas=(1.0, 4.0)))
    c = _surface(rng, 8000, 48).astype(np.int64)
    out = net(SparseTensor(torch.from_numpy(c), torch.ones(len(c), 1), 1), 1)
    assert len(out["bce"]) == 3 and out["likelihoods"].shape[:2] == (1, 4)
    loss = sum(out["bce"]) - torch.log2(out["likelihoods"]).sum() / len(c)
    loss.backward()
    assert all(p.grad is not None for p in net.down.parameters())
    assert 0.0 <= out["accuracy"] <= 1.0


def test_top_k_keeps_a_child_of_every_parent_then_the_best_others():
    logits = np.full(16, -5.0, np.float32)
    logits[:8] = [3.0, 2.0, 1.0, 0.5, 0.5, -1.0, -2.0, -3.0]  # parent 0: confident about many children
    logits[8:] = [-4.0, -4.5, -3.5, -4.0, -4.9, -4.9, -4.9, -4.9]  # parent 1: unsure
    keys = np.arange(16) * 10
    assert top_k(logits, keys, 2).tolist() == [0, 10]  # parent 1 keeps its best child, though the logit is low
    assert top_k(logits, keys, 4).tolist() == [0, 1, 2, 10]
    assert top_k(logits, keys, 5).tolist() == [0, 1, 2, 3, 10]  # the tie at 0.5 goes to the smaller key
    assert top_k(logits, keys, 16).tolist() == list(range(16))


def test_cli_compress_decompress_eval_at_the_lowest_and_highest_rate(tmp_path, dense_cloud):
    """The command line at both ends of the rate range (every rate point is coded through the API above)."""
    src = tmp_path / "cloud.ply"
    omnicodec.write(src, dense_cloud)
    py = [sys.executable, "-m", "omnicodec"]
    for rate in (1, len(RATE_POINTS["dense"])):
        omc, ply = tmp_path / f"r{rate}.omc", tmp_path / f"r{rate}.ply"
        subprocess.run([*py, "compress", str(src), "-o", str(omc), "--rate", str(rate), "-q"], check=True, cwd=REPO)
        subprocess.run([*py, "decompress", str(omc), "-o", str(ply), "-q"], check=True, cwd=REPO)
        ev = subprocess.run([*py, "eval", str(src), str(ply), "--peak", "1023", "--json"], check=True, cwd=REPO,
                            capture_output=True, text=True)
        assert json.loads(ev.stdout)["d1_psnr"] > 40.0
    bad = subprocess.run([*py, "compress", str(src), "-o", str(tmp_path / "x.omc"), "--rate", "0"], cwd=REPO,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "rate" in bad.stderr
    assert not (tmp_path / "x.omc").exists()


def test_another_thread_count_in_another_process_decodes_the_same(tmp_path, dense_cloud):
    stream = omnicodec.compress(dense_cloud, rate=3)
    (tmp_path / "s.omc").write_bytes(stream)
    ref = omnicodec.decompress(stream).positions
    np.save(tmp_path / "ref.npy", ref)
    code = textwrap.dedent(f"""
        import numpy as np, torch, omnicodec
        torch.set_num_threads(1)
        out = omnicodec.decompress(open({str(tmp_path / 's.omc')!r}, 'rb').read())
        assert np.array_equal(out.positions, np.load({str(tmp_path / 'ref.npy')!r}))
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_batch_with_a_rate_writes_the_compress_streams(tmp_path, dense_cloud):
    from omnicodec.batch import run

    for i in range(2):
        omnicodec.write(tmp_path / "in" / f"f{i}.ply", PointCloud(dense_cloud.positions + 64 * i))
    result = run([tmp_path / "in"], tmp_path / "out", rate=2, workers=2, verify=True, progress=False, log=None)
    assert result.summary["encoded"] == 2 and result.summary["failed"] == 0
    assert all(r["verified"] for r in result.rows)
    for i in range(2):
        expected = omnicodec.compress(omnicodec.read(tmp_path / "in" / f"f{i}.ply"), rate=2)
        assert (tmp_path / "out" / f"f{i}.omc").read_bytes() == expected
    again = run([tmp_path / "in"], tmp_path / "out", rate=2, resume=True, progress=False, log=None)
    assert again.summary["resumed"] == 2
    other = run([tmp_path / "in"], tmp_path / "out", rate=3, resume=True, progress=False, log=None)
    assert other.summary["encoded"] == 2  # another rate point is not a finished frame


@pytest.mark.parametrize("params", [{}, {"rate": 2}])
def test_empty_cloud_with_attributes_round_trips(params):
    empty = PointCloud(np.zeros((0, 3)), {"i": np.zeros(0, np.float32), "rgb": np.zeros((0, 3), np.uint8)})
    out = omnicodec.decompress(omnicodec.compress(empty, **params))
    assert len(out) == 0 and out.attributes["i"].shape == (0,) and out.attributes["rgb"].shape == (0, 3)
