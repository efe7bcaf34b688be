"""The learned occupancy model and the learned codec: exact integer inference, round trips, model handling."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import omnicodec
from omnicodec.bitstream import unpack
from omnicodec.entropy import get_coder
from omnicodec.errors import CorruptStreamError, InputError, ModelError
from omnicodec.pointcloud.child_context import BLOCK_DELTAS, child_states, neighbour_keys, parent_table
from omnicodec.pointcloud.compare import same_on_grid
from omnicodec.pointcloud.learned_coder import decode_occupancy_learned, encode_occupancy_learned, trace_levels
from omnicodec.pointcloud.model_zoo import choose_family, choose_model, list_models, load_model
from omnicodec.pointcloud.occupancy_net import (
    IntOccupancyNet,
    NetConfig,
    OccupancyNet,
    binary_inputs,
    binary_inputs_torch,
    bucket_logit,
    load_model_bytes,
    save_model_bytes,
)
from omnicodec.pointcloud.octree import depth_for, morton_decode, morton_encode, occupancy_codes
from omnicodec.types import PointCloud
from tests.conftest import REPO


def _surface(rng, n=30000, size=60):
    """Voxels of a bumpy sphere: a dense surface."""
    v = rng.normal(size=(n, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    r = size / 2 * (0.8 + 0.1 * np.sin(3 * v[:, 0]) * np.cos(2 * v[:, 1]))
    return np.unique(np.rint(v * r[:, None] + size / 2).astype(np.int64), axis=0)


def _random_model(seed=0, learned_levels=4) -> IntOccupancyNet:
    torch.manual_seed(seed)
    net = OccupancyNet(NetConfig(learned_levels=learned_levels))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return load_model_bytes(save_model_bytes(net.export()))


def _codes(coords):
    c = coords - coords.min(axis=0)
    return occupancy_codes(np.sort(morton_encode(c)), depth_for(c)), c


def test_child_states_match_a_dense_grid(rng):
    """The 5x5x5 block states read through neighbour tables equal those read off a dense voxel grid."""
    coords = _surface(rng, 3000, 40)
    codes, c = _codes(coords)
    traces = trace_levels(codes, 2)
    t = traces[-1]  # the finest level: parents at depth-1, children = the leaves
    parents = morton_decode(np.unique(np.sort(morton_encode(c)) >> 3))
    occ = np.zeros(c.max(axis=0) + 8, dtype=bool)
    occ[tuple(c.T + 2)] = True
    par = np.zeros(parents.max(axis=0) + 4, dtype=bool)
    par[tuple(parents.T + 1)] = True
    for i in (0, 3, 7):
        child = parents * 2 + np.array([(i >> 2) & 1, (i >> 1) & 1, i & 1])
        for k in rng.choice(len(BLOCK_DELTAS), 20, replace=False):
            d = np.array(BLOCK_DELTAS[k])
            q = child + d
            j = (q[:, 0] % 2) * 4 + (q[:, 1] % 2) * 2 + q[:, 2] % 2
            has_parent = par[tuple((q // 2).T + 1)]
            known = j < i
            expect = np.where(known, occ[tuple(q.T + 2)].astype(int), np.where(has_parent, 2, 0))
            assert np.array_equal(t.states[i][:, k], expect), (i, k)


def test_fast_and_reference_logits_agree(rng):
    """The table lookup path the coder uses gives the same integers as the product over binary inputs."""
    model = _random_model()
    codes, _ = _codes(_surface(rng))
    for t in trace_levels(codes, 3):
        pf = model.parent_features(t.table, t.position)
        term = model.level_term(t.table, t.position)
        pexist = t.table[:, :26] >= 0
        for i in range(8):
            bits = t.bits.copy()
            bits[:, i:] = 0
            ref = model.pass_logits(pf, binary_inputs(t.states[i], pexist, i, t.level, 8))
            fast = model.pass_logits_keys(term, neighbour_keys(t.table, bits), i, t.level)
            assert np.array_equal(ref, fast)
            assert np.array_equal(child_states(i, t.table, bits), t.states[i])


def test_training_forward_matches_the_integer_model(rng):
    """Fake quantisation in training computes the integers the exported model runs (ties aside)."""
    torch.manual_seed(1)
    net = OccupancyNet(NetConfig(learned_levels=3))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    model = IntOccupancyNet(net.export())
    codes, _ = _codes(_surface(rng))
    t = trace_levels(codes, 3)[-1]
    i = 5
    table = torch.from_numpy(t.table)
    n = len(t.position)
    with torch.no_grad():
        pf_train = net.parent_features(table, torch.from_numpy(t.position))
        x = binary_inputs_torch(torch.from_numpy(t.states[i]), table[:, :26] >= 0, torch.full((n,), i),
                                torch.full((n,), t.level), 8)
        ci = torch.from_numpy(t.count_idx[i])
        z_train = net.logits(pf_train, x, torch.from_numpy(bucket_logit(t.count_idx[i])), ci)
    pf = model.parent_features(t.table, t.position)
    assert torch.equal(pf, pf_train * (1 << net.config.act_exp))
    z = model.pass_logits(pf, binary_inputs(t.states[i], t.table[:, :26] >= 0, i, t.level, 8))
    z = z + model.f["count_term"].numpy().astype(np.int64)[t.count_idx[i]] + int(model.f["b3"][0])
    assert np.mean(z == np.round(z_train.numpy() * (1 << net.config.logit_exp))) > 0.999


def test_round_trip_and_identical_bytes_with_one_or_two_threads(rng):
    model = _random_model()
    codes, c = _codes(_surface(rng, 8000, 150))
    streams = []
    threads = torch.get_num_threads()
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            enc = get_coder("constriction").encoder()
            encode_occupancy_learned(codes, model, enc)
            streams.append(enc.finish())
    finally:
        torch.set_num_threads(threads)
    assert streams[0] == streams[1]
    keys = decode_occupancy_learned(get_coder("constriction").decoder(streams[0]), len(codes), len(c), model)
    assert np.array_equal(keys, np.sort(morton_encode(c)))


def test_other_thread_count_in_another_process_decodes(rng, tmp_path):
    """A stream written with 2 threads decodes in a fresh process limited to 1 thread."""
    coords = _surface(rng, 5000, 100)
    cloud = PointCloud(coords.astype(np.int32), {"rgb": rng.integers(0, 256, (len(coords), 3), dtype=np.uint8)})
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        stream = omnicodec.compress(cloud)
    finally:
        torch.set_num_threads(threads)
    (tmp_path / "s.omc").write_bytes(stream)
    np.save(tmp_path / "c.npy", coords)
    code = textwrap.dedent(f"""
        import numpy as np, torch, omnicodec
        torch.set_num_threads(1)
        out = omnicodec.decompress(open({str(tmp_path / 's.omc')!r}, 'rb').read())
        ref = np.load({str(tmp_path / 'c.npy')!r})
        assert np.array_equal(np.unique(out.positions, axis=0), np.unique(ref, axis=0))
        print('ok')
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.stdout.strip() == "ok", r.stderr


def test_shipped_models_load_and_are_small():
    models = list_models()
    assert {"dense", "lidar"} <= set(models)
    for name, entry in models.items():
        assert entry["bytes"] < 10 * 2**20
        assert entry["command"].startswith("python tools/train_lossless.py")
        assert entry["kind"] == "occupancy" and entry["family"] == name
        assert load_model(name).sha256 == entry["sha256"]


def test_default_codec_is_learned_and_round_trips_attributes(rng):
    coords = _surface(rng)
    n = len(coords)
    cloud = PointCloud(np.repeat(coords, 2, axis=0)[: n + 50].astype(np.float32), {
        "rgb": rng.integers(0, 256, (n + 50, 3), dtype=np.uint8),
        "intensity": rng.random(n + 50).astype(np.float32),
    })
    stream = omnicodec.compress(cloud)
    s = unpack(stream)
    assert s.header.codec == "learned" and s.header.model == "dense"
    assert s.header.weights_sha256.hex() == load_model("dense").sha256
    out = omnicodec.decompress(stream)
    assert same_on_grid(cloud, out)


def test_model_choice_dense_and_lidar(rng):
    dense, _ = _codes(_surface(rng))
    assert choose_model(dense) == "dense"
    # a sparse sweep: points on rings of a 1 mm grid, far apart
    a = rng.uniform(0, 2 * np.pi, 4000)
    r = rng.uniform(5000, 40000, 4000)
    sweep = np.stack([r * np.cos(a), r * np.sin(a), rng.uniform(-1500, 500, 4000)], axis=1)
    codes, _ = _codes(np.unique(np.rint(sweep).astype(np.int64), axis=0))
    assert choose_model(codes) == "lidar"
    # a surface sampled every other voxel (a depth camera's scan on a fine grid): sparse children, dense parents
    surface = _surface(rng)
    sampled = np.unique(surface[(surface[:, 0] % 2 == 0) & (surface[:, 1] % 2 == 0)], axis=0)
    codes, _ = _codes(sampled)
    assert np.unpackbits(codes[-1]).sum() / len(codes[-1]) < 1.8  # the finest level alone says sparse
    assert choose_model(codes) == "dense"
    assert choose_family(np.unique(morton_encode(sampled))) == "dense"  # the lossy codec's choice agrees
    ring = np.rint(sweep).astype(np.int64)
    assert choose_family(np.unique(morton_encode(ring - ring.min(axis=0)))) == "lidar"


def test_named_model_and_bad_model_names(rng):
    cloud = PointCloud(_surface(rng, 2000, 60).astype(np.int32))
    stream = omnicodec.compress(cloud, model="lidar")
    assert unpack(stream).header.model == "lidar"
    assert same_on_grid(cloud, omnicodec.decompress(stream))
    with pytest.raises(InputError, match="unknown model 'nope'"):
        omnicodec.compress(cloud, model="nope")
    with pytest.raises(InputError, match="has no option 'model'"):
        omnicodec.compress(cloud, codec="octree", model="dense")


def test_stream_from_another_model_is_refused(rng):
    from omnicodec.bitstream import Chunk, StreamHeader, pack

    cloud = PointCloud(_surface(rng, 2000, 60).astype(np.int32))
    s = unpack(omnicodec.compress(cloud))
    for change, err, msg in [
        (dict(weights_sha256=bytes(32)), ModelError, "this installation has"),
        (dict(model="unknown"), ModelError, "cannot be loaded here"),
        (dict(model="", weights_sha256=b""), CorruptStreamError, "does not name its model"),
    ]:
        fields = {"model": s.header.model, "weights_sha256": s.header.weights_sha256, **change}
        header = StreamHeader(s.header.modality, s.header.codec, s.header.coder_id, s.header.params, **fields)
        bad = pack(header, [Chunk(c.tag, c.data) for c in s.chunks])
        with pytest.raises(err, match=msg):
            omnicodec.decompress(bad)


def test_malformed_model_files_raise_model_error():
    with pytest.raises(ModelError):
        load_model_bytes(b"not a model")
    arrays = OccupancyNet().export()
    arrays["w1"] = arrays["w1"][:10]
    with pytest.raises(ModelError, match="shape"):
        load_model_bytes(save_model_bytes(arrays))
    arrays = OccupancyNet().export()
    arrays["w2"] = np.full_like(arrays["w2"], 10**6)
    with pytest.raises(ModelError, match="exact"):
        load_model_bytes(save_model_bytes(arrays))


def test_truncated_learned_stream_raises(rng):
    from omnicodec.errors import BitstreamError

    stream = omnicodec.compress(PointCloud(_surface(rng, 3000, 80).astype(np.int32)))
    for cut in (len(stream) // 2, len(stream) - 3):
        with pytest.raises(BitstreamError):
            omnicodec.decompress(stream[:cut])


def test_parent_table_appends_own_index():
    nbr = np.array([[-1] * 26, [0] + [-1] * 25])
    t = parent_table(nbr)
    assert t.shape == (2, 27) and list(t[:, 26]) == [0, 1]


def _sparse_sweep(rng, n=3000):
    """Points scattered in a large grid (a fine LiDAR grid): the finest levels hold single-child nodes only."""
    return np.unique(rng.integers(0, 1 << 16, size=(n, 3)), axis=0)


def test_direct_levels_for_single_child_levels(rng, monkeypatch):
    """Levels whose nodes almost all have one child are coded in direct mode (counted here), the octree round-trips
    exactly, and the layout without the per-level flag still decodes."""
    from omnicodec.pointcloud import learned_coder

    model = _random_model(learned_levels=6)
    codes, c = _codes(_sparse_sweep(rng))
    used = []
    real = learned_coder._encode_direct
    monkeypatch.setattr(learned_coder, "_encode_direct", lambda enc, code: (used.append(len(code)), real(enc, code)))
    single = [(np.unpackbits(code[:, None], axis=1).sum(axis=1) == 1).mean() for code in codes]
    start = len(codes)
    while start and single[start - 1] >= learned_coder.DIRECT_SHARE:
        start -= 1
    expected = [len(code) for code in codes[start:]]  # from the first direct level to the leaves
    assert len(expected) >= 3 and single[start - 1] < learned_coder.DIRECT_SHARE
    for direct in (True, False):
        used.clear()
        enc = get_coder("constriction").encoder()
        encode_occupancy_learned(codes, model, enc, direct_levels=direct)
        data = enc.finish()
        assert used == (expected if direct else [])
        keys = decode_occupancy_learned(get_coder("constriction").decoder(data), len(codes), len(c), model,
                                        direct_levels=direct)
        assert np.array_equal(keys, np.sort(morton_encode(c)))


def test_direct_level_with_impossible_counts_is_corrupt():
    from omnicodec.pointcloud.learned_coder import _UNIFORM256, _decode_direct

    enc = get_coder("constriction").encoder()
    enc.encode(np.array([9, 0, 0, 0]), _UNIFORM256)  # 9 nodes with several children on a level of 5
    with pytest.raises(CorruptStreamError, match="declares 9"):
        _decode_direct(get_coder("constriction").decoder(enc.finish()), 5)


def test_learned_stream_records_direct_levels(rng):
    cloud = PointCloud(_sparse_sweep(rng).astype(np.int32))
    stream = omnicodec.compress(cloud, model="lidar")
    assert unpack(stream).header.params["direct_levels"] is True
    assert same_on_grid(cloud, omnicodec.decompress(stream))
