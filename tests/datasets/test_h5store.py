"""HDF5 training sets: round trip, attributes, hashes, and crops of bounded size that are exact cubes."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from datasets.grid import sort_unique
from datasets.h5store import FORMAT, TrainingSet, TrainingSetWriter, coords_sha256


def _shell(rng, n=60000, radius=300.0, centre=512.0):
    d = rng.normal(size=(n, 3))
    return sort_unique(np.rint(centre + radius * d / np.linalg.norm(d, axis=1, keepdims=True)).astype(np.int64))


def _lidar_like(rng, n=40000):
    az, r = rng.uniform(0, 2 * np.pi, n), rng.uniform(2, 60, n)
    xyz = np.stack([r * np.cos(az), r * np.sin(az), rng.normal(-1.7, 0.05, n)], -1)
    q = np.rint(xyz * 1000).astype(np.int64)
    return sort_unique(q - q.min(axis=0))


@pytest.fixture
def trainset(tmp_path, rng):
    samples = [(_shell(rng), "dense", 1.0, 10), (_lidar_like(rng), "lidar", 0.001, None), (_shell(rng, 500), "dense",
                                                                                           1.0, 10)]
    path = tmp_path / "set.h5"
    with TrainingSetWriter(path, builder_version="test", command="pytest", seed=1, kind="mixed") as w:
        for c, kind, step, bits in samples:
            w.add(c, kind=kind, grid_step=step, source=f"test:{kind}", bits=bits, origin=np.array([1, 2, 3]))
    return path, samples


def test_round_trip(trainset):
    path, samples = trainset
    with TrainingSet(path) as ts:
        assert len(ts) == 3 and ts.attrs["format"] == FORMAT and ts.attrs["command"] == "pytest"
        assert ts.attrs["samples"] == 3 and ts.attrs["total_points"] == sum(len(s[0]) for s in samples)
        assert len(ts.attrs["sample_list_sha256"]) == 64
        for (c, kind, step, bits), s in zip(samples, ts, strict=True):
            assert s.coords.dtype == np.int32 and np.array_equal(s.coords, c)
            assert s.kind == kind and s.attrs["grid_step"] == step and s.attrs["sha256"] == coords_sha256(c)
            assert s.bits == (bits or int(c.max()).bit_length()) and list(s.attrs["origin"]) == [1, 2, 3]
        assert np.array_equal(ts[1].coords, samples[1][0])
    with TrainingSet(path, kinds=("lidar",)) as ts:
        assert len(ts) == 1 and ts[0].kind == "lidar"


def test_writer_rejects_bad_samples_and_leaves_no_file(tmp_path):
    path = tmp_path / "bad.h5"
    with pytest.raises(ValueError), TrainingSetWriter(path) as w:
        w.add(np.array([[5, 5, 5], [0, 0, 0]]), kind="dense", grid_step=1.0, source="x")  # not Morton-sorted
    with pytest.raises(ValueError), TrainingSetWriter(path) as w:
        w.add(np.array([[0, 0, 0], [0, 0, 0]]), kind="dense", grid_step=1.0, source="x")  # duplicates
    with pytest.raises(ValueError), TrainingSetWriter(path) as w:
        w.add(np.array([[0, 0, 0], [0, 0, 1024]]), kind="dense", grid_step=1.0, source="x", bits=10)
    with pytest.raises(ValueError), TrainingSetWriter(path) as w:
        w.add(np.empty((0, 3)), kind="dense", grid_step=1.0, source="x")
    assert not list(tmp_path.iterdir())


def test_same_samples_give_the_same_list_hash(tmp_path, rng):
    c = _shell(rng)
    digests = []
    for name in ("a.h5", "b.h5"):
        with TrainingSetWriter(tmp_path / name, seed=0) as w:
            w.add(c, kind="dense", grid_step=1.0, source="s")
        with h5py.File(tmp_path / name) as f:
            digests.append(f.attrs["sample_list_sha256"])
    assert digests[0] == digests[1]


@pytest.mark.parametrize(
    "index, max_points, read_limit",
    [(0, 5000, None), (0, 50, None), (0, 5000, 8000), (1, 3000, None), (1, 3000, 5000), (1, 10**5, None),
     (2, 100, None)],
)
def test_crops_are_bounded_exact_cubes(trainset, index, max_points, read_limit):
    path, samples = trainset
    full = samples[index][0].astype(np.int64)
    rng = np.random.default_rng(index * 1000 + max_points)
    with TrainingSet(path) as ts:
        for _ in range(5):
            crop = ts.crop(index, max_points, rng, read_limit=read_limit)
            assert 1 <= len(crop.coords) <= max_points
            inside = np.all((full >= crop.lo) & (full < crop.lo + crop.size), axis=1)
            assert np.array_equal(crop.coords, full[inside]), "a crop is every point of its cube, in Morton order"
            if max_points >= len(full):
                assert len(crop.coords) == len(full)
            if read_limit:  # a partial read still gives a useful crop
                assert len(crop.coords) >= min(max_points, read_limit) // 20


def test_crop_with_a_fixed_size(trainset, rng):
    path, samples = trainset
    with TrainingSet(path) as ts:
        crop = ts.crop(0, 10**6, rng, size=65)
        assert crop.size <= 65 and len(crop.coords) > 0
        assert np.all((crop.coords >= crop.lo) & (crop.coords < crop.lo + crop.size))
        small = ts.crop(0, 20, rng, size=65)
        assert len(small.coords) <= 20


def test_reader_is_picklable_for_worker_processes(trainset):
    import pickle

    path, samples = trainset
    ts = TrainingSet(path)
    ts2 = pickle.loads(pickle.dumps(ts))
    assert np.array_equal(ts2[0].coords, samples[0][0])
    ts.close()
    ts2.close()
