"""Octree structure and the baseline octree codec: exact round trips, lossy bounds, bad streams."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import omnicodec
from omnicodec.bitstream import unpack
from omnicodec.entropy import get_coder
from omnicodec.errors import BitstreamError, CorruptStreamError, InputError
from omnicodec.pointcloud.compare import same_on_grid
from omnicodec.pointcloud.octree import (
    depth_for,
    expand_children,
    morton_decode,
    morton_encode,
    occupancy_codes,
)
from omnicodec.types import PointCloud


def _compress(*args, **kwargs):
    """The baseline codec (the default point-cloud codec is the learned one)."""
    return omnicodec.compress(*args, codec="octree", **kwargs)


def _coders():
    out = ["constriction"]
    try:
        get_coder("torchac")
        out.append("torchac")
    except InputError:
        pass
    return out


def _cloud(rng, n=3000, size=200, dup=True):
    q = rng.integers(0, size, size=(n, 3))
    if dup:
        q[: n // 10] = q[n // 10 : 2 * (n // 10)]  # 10 % duplicates
    return PointCloud(
        q.astype(np.float32),
        {
            "rgb": rng.integers(0, 256, size=(n, 3), dtype=np.uint8),
            "intensity": rng.random(n).astype(np.float32),
            "weird": np.where(rng.random((n, 2)) < 0.1, np.nan, rng.normal(size=(n, 2))),
            "ring": rng.integers(-300, 300, size=n).astype(np.int16),
        },
    )


def test_morton_round_trip_and_order(rng):
    c = rng.integers(0, 1 << 21, size=(10000, 3))
    assert np.array_equal(morton_decode(morton_encode(c)), c)
    # child key = parent key * 8 + (4 ox + 2 oy + oz)
    p = rng.integers(0, 1 << 20, size=(100, 3))
    o = np.array([1, 0, 1])
    assert np.array_equal(morton_encode(2 * p + o), morton_encode(p) * 8 + 5)


def test_occupancy_codes_rebuild_the_leaves(rng):
    q = np.unique(rng.integers(0, 64, size=(500, 3)), axis=0)
    keys = np.sort(morton_encode(q))
    depth = depth_for(q)
    codes = occupancy_codes(keys, depth)
    assert len(codes[0]) == 1
    level = np.zeros(1, np.int64)
    for d in range(depth):
        level = expand_children(level, codes[d])
    assert np.array_equal(level, keys)


@pytest.mark.parametrize("coder", _coders())
def test_lossless_round_trip_keeps_points_duplicates_and_attributes(rng, coder):
    cloud = _cloud(rng)
    stream = _compress(cloud, coder=coder)
    out = omnicodec.decompress(stream)
    assert len(out) == len(cloud)
    assert out.positions.dtype == np.float32
    assert same_on_grid(cloud, out, 1.0)
    assert unpack(stream).header.coder_id == get_coder(coder).id


def test_point_order_is_morton_and_stable(rng):
    cloud = _cloud(rng, n=500)
    out = omnicodec.decompress(_compress(cloud))
    keys = morton_encode(out.positions.astype(np.int64) - out.positions.astype(np.int64).min(axis=0))
    assert np.all(np.diff(keys) >= 0)


def test_lossy_grid_step_error_is_at_most_half_a_step(rng):
    pos = rng.random((5000, 3)) * 10.0  # metres
    cloud = PointCloud(pos, {"intensity": rng.random(5000).astype(np.float32)})
    out = omnicodec.decompress(_compress(cloud, grid_step=0.01))
    assert len(out) == 5000
    # compare each input point with its decoded voxel centre
    q = np.rint(pos / 0.01)
    order = np.lexsort(q.T[::-1])
    dq = np.rint(out.positions / 0.01)
    dorder = np.lexsort(dq.T[::-1])
    assert np.array_equal(q[order], dq[dorder])
    assert np.abs(np.sort(out.positions, axis=0) - np.sort(pos, axis=0)).max() <= 0.005 + 1e-9


def test_merge_duplicates_averages_attributes():
    pos = np.array([[0, 0, 0], [0, 0, 0], [5, 5, 5]], dtype=np.float64)
    rgb = np.array([[10, 20, 30], [11, 20, 40], [1, 2, 3]], dtype=np.uint8)
    out = omnicodec.decompress(_compress(PointCloud(pos, {"rgb": rgb}), merge_duplicates=True))
    assert len(out) == 2
    assert out.rgb.tolist() == [[10, 20, 35], [1, 2, 3]]  # 10.5 rounds half to even


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_clouds(n):
    cloud = PointCloud(np.arange(3 * n, dtype=np.int32).reshape(n, 3))
    out = omnicodec.decompress(_compress(cloud))
    assert len(out) == n and out.positions.dtype == np.int32
    assert np.array_equal(out.positions, cloud.positions)


def test_golden_stream_bytes():
    # A change of these bytes means streams written earlier no longer decode the same way.
    rng = np.random.default_rng(7)
    q = rng.integers(0, 100, size=(400, 3)).astype(np.float32)
    stream = _compress(PointCloud(q), coder="constriction")  # geometry only: no LZMA in the stream
    assert same_on_grid(PointCloud(q), omnicodec.decompress(stream))
    assert hashlib.sha256(stream).hexdigest() == GOLDEN_SHA256


GOLDEN_SHA256 = "f033543f2ecd5b1bba5f7f47011328a0ce03fdcda3af76baa7191ff44ae75219"


def test_bad_inputs_raise_input_error(rng):
    with pytest.raises(InputError, match="not on an integer grid"):
        _compress(PointCloud(rng.random((10, 3))))
    with pytest.raises(InputError, match="NaN"):
        _compress(PointCloud(np.array([[0.0, np.nan, 1.0]])), grid_step=1)
    with pytest.raises(InputError, match="bits per axis"):
        _compress(PointCloud(np.array([[0.0, 0, 0], [1e4, 0, 0]])), grid_step=1e-4)
    with pytest.raises(InputError, match="positive"):
        _compress(PointCloud(np.zeros((2, 3))), grid_step=-1)
    with pytest.raises(InputError, match="unknown codec"):
        omnicodec.compress(PointCloud(np.zeros((2, 3))), codec="nope")
    with pytest.raises(InputError):
        _compress(PointCloud(np.zeros((2, 3))), coder="zip")
    with pytest.raises(InputError, match="only numeric"):
        _compress(PointCloud(np.zeros((2, 3)), {"name": np.array(["a", "b"])}))


def _with_params(stream: bytes, **changes) -> bytes:
    """Rewrite header parameters (re-packing keeps every checksum valid)."""
    from omnicodec.bitstream import pack

    s = unpack(stream)
    s.header.params.update(changes)
    return pack(s.header, s.chunks)


def test_stream_claiming_huge_counts_fails_at_once(rng):
    stream = _compress(_cloud(rng, n=100))
    for change in ({"points": 10**12}, {"voxels": 10**9}, {"depth": 40}, {"origin": [0, 0]}):
        with pytest.raises(CorruptStreamError):
            omnicodec.decompress(_with_params(stream, **change))


def test_corrupt_payload_with_valid_checksums_is_detected(rng):
    stream = _compress(_cloud(rng, n=2000, dup=False))
    s = unpack(stream)
    from omnicodec.bitstream import Chunk, pack

    failures = 0
    for seed in range(5):
        occ = bytearray(s.chunk("OCCU"))
        r = np.random.default_rng(seed)
        for i in r.integers(0, len(occ), size=3):
            occ[i] ^= 0xFF
        chunks = [Chunk(c.tag, bytes(occ) if c.tag == "OCCU" else c.data) for c in s.chunks]
        try:
            out = omnicodec.decompress(pack(s.header, chunks))
        except BitstreamError:
            failures += 1
        else:
            assert len(out) == 2000  # the declared size is enforced even if the geometry differs
    assert failures >= 4


def test_truncated_streams_raise(rng):
    stream = _compress(_cloud(rng, n=300))
    for cut in (0, 5, 20, len(stream) // 2, len(stream) - 1):
        with pytest.raises(BitstreamError):
            omnicodec.decompress(stream[:cut])


def test_attribute_payload_of_wrong_size(rng):
    stream = _compress(_cloud(rng, n=300))
    s = unpack(stream)
    from omnicodec.bitstream import Chunk, pack

    chunks = [Chunk(c.tag, c.data) for c in s.chunks]
    for i, c in enumerate(chunks):
        if c.tag == "ATTR":
            chunks[i] = Chunk("ATTR", b"\x00" * 10)
            break
    with pytest.raises(CorruptStreamError, match="attribute"):
        omnicodec.decompress(pack(s.header, chunks))
