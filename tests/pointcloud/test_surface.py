"""Surface reconstruction of coarse cells: planes through the decoded cells, and the lossy streams that use them."""

from __future__ import annotations

import numpy as np
import pytest

import omnicodec
from omnicodec.bitstream import unpack
from omnicodec.errors import CorruptStreamError
from omnicodec.metrics import point_metrics
from omnicodec.pointcloud import surface as sf
from omnicodec.pointcloud.lossy_zoo import RATE_POINTS, rate_point
from omnicodec.types import PointCloud
from tests.pointcloud.helpers import with_params

PLANE = np.array([0.3, -0.2, 1.0])  # z = 40 - 0.3 x + 0.2 y, as n . x = 40


def _plane_voxels(size: int = 96) -> np.ndarray:
    x, y = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    z = np.rint(40 - 0.3 * x + 0.2 * y)
    return np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1).astype(np.int64)


def _distance_to_plane(points: np.ndarray) -> np.ndarray:
    return np.abs(points @ PLANE - 40) / np.linalg.norm(PLANE)


def test_normal_candidates_are_primitive_and_unique():
    n = sf.NORMALS
    assert len(n) == 145 == len({tuple(v) for v in n} | {tuple(-v) for v in n}) // 2
    assert np.abs(n).max() == 3 and not (n == 0).all(axis=1).any()


def test_planes_through_the_cells_of_a_tilted_plane_lie_on_it():
    fine = _plane_voxels()
    for shift in (2, 3):
        cells = np.unique(fine >> shift, axis=0)
        normals, counts, sums = sf.fit_normals(cells)
        inner = (np.abs(cells[:, :2] - cells[:, :2].mean(axis=0)) < (96 >> shift) // 2 - 1).all(axis=1)
        n = normals[inner] / np.linalg.norm(normals[inner], axis=1, keepdims=True)
        assert np.median(np.abs(n @ (PLANE / np.linalg.norm(PLANE)))) > 0.99  # the normals follow the plane
        assert 4 <= counts.min() and counts.max() <= 16  # a plane crosses few of the 27 cells around each
        pts = sf.surface_points(cells, shift)
        assert np.array_equal(pts, sf.surface_points(cells[::-1], shift))  # independent of the cells' order
        assert np.array_equal(np.unique(pts >> shift, axis=0), cells)  # every cell has points, all in their cells
        assert len(np.unique(pts, axis=0)) == len(pts)
        centres = (cells << shift) + ((1 << shift) - 1) / 2
        assert np.median(_distance_to_plane(pts)) < 0.6 < np.median(_distance_to_plane(centres))
        cloud = PointCloud(fine.astype(np.float64))
        d1 = [point_metrics(cloud, PointCloud(p.astype(np.float64)), peak=1023.0, hausdorff=False)["d1_psnr"]
              for p in (centres, pts)]
        assert d1[1] > d1[0] + 5.0, d1


def test_voxelise_bounds_its_work_and_keeps_a_voxel_of_every_cell(monkeypatch):
    monkeypatch.setattr(sf, "CHUNK_CANDIDATES", 64)
    cells = np.array([[0, 0, 0], [5, 5, 5], [9, 0, 3]], np.int64)
    normals = np.array([[0, 0, 1], [1, 1, 1], [0, 1, 0]], np.int64)
    offsets = np.array([1.0, 10**6, 2.0])  # the second plane misses its cell: its closest voxel is kept
    pts = sf.voxelise(cells, 2, normals, offsets)
    assert len(pts) == 16 + 1 + 16
    assert np.array_equal(np.unique(pts >> 2, axis=0), np.unique(cells, axis=0))
    assert (pts[:16, 2] == 1).all() and pts[16].tolist() == [23, 23, 23]


def test_a_cell_without_enough_neighbours_is_one_point_at_its_centre():
    cells = np.array([[0, 0, 0], [1, 0, 0], [5, 5, 5], [9, 9, 9], [9, 9, 10], [9, 10, 9]], np.int64)
    pts = sf.surface_points(cells, 2)
    by_cell = {tuple(c): pts[((pts >> 2) == c).all(axis=1)] for c in cells}
    for c in ([0, 0, 0], [1, 0, 0], [5, 5, 5]):  # two cells side by side, and a lone one: no plane
        assert by_cell[tuple(c)].tolist() == [[4 * c[0] + 1, 4 * c[1] + 1, 4 * c[2] + 1]]
    assert all(len(by_cell[c]) >= 4 for c in ((9, 9, 9), (9, 9, 10), (9, 10, 9)))  # three cells: planes
    assert len(sf.surface_points(np.zeros((0, 3), np.int64), 3)) == 0


def test_a_stride_thins_the_planes_to_a_sparser_scan():
    cells = np.unique(_plane_voxels() >> 3, axis=0)
    full = sf.surface_points(cells, 3)
    for stride in (2, 3):
        thin = sf.surface_points(cells, 3, stride)
        assert 0.6 / stride**2 < len(thin) / len(full) < 1.6 / stride**2
        assert np.array_equal(np.unique(thin >> 3, axis=0), cells)  # every cell keeps a point
        assert len(np.unique(np.concatenate([full, thin]), axis=0)) == len(full)  # a subset of the planes
        x, y = thin[:, 0], thin[:, 1]  # the plane is mostly along z: x and y on the stride's lattice
        assert np.mean((x % stride == 0) & (y % stride == 0)) > 0.9
    assert [sf.choose_stride(r, p) for r, p in ((900, 1000), (4000, 1000), (9000, 1000), (10**6, 10))] == [1, 2, 3, 8]


def test_a_sparsely_sampled_scan_decodes_to_about_its_density():
    rng = np.random.default_rng(2)
    v = rng.normal(size=(200000, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    dense = np.unique(np.rint(v * 90 + 100).astype(np.int64), axis=0)
    sparse = dense[(dense[:, 0] % 3 == 0) & (dense[:, 1] % 3 == 0)]  # a scan's points a few voxels apart
    rate = next(r for r, p in enumerate(RATE_POINTS["dense"], 1) if p.surface and p.gain is None and p.shift == 3)
    stream = omnicodec.compress(PointCloud(sparse.astype(np.float64)), rate=rate, model="dense")
    params = unpack(stream).header.params
    assert params["surface_stride"] >= 2
    out = omnicodec.decompress(stream)
    assert len(out) == params["surface_points"] < 2.5 * len(sparse)
    dense_stream = omnicodec.compress(PointCloud(dense.astype(np.float64)), rate=rate, model="dense")
    assert "surface_stride" not in unpack(dense_stream).header.params  # 1: not written


@pytest.fixture(scope="module")
def surface_stream():
    rng = np.random.default_rng(5)
    v = rng.normal(size=(80000, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    pos = np.unique(np.rint(v * 60 + 64), axis=0)
    cloud = PointCloud(pos, {"rgb": (pos * 2).astype(np.uint8)})
    rate = next(r for r, p in enumerate(RATE_POINTS["dense"], 1) if p.surface and p.gain is None and p.shift == 3)
    return cloud, rate, omnicodec.compress(cloud, rate=rate)


def test_surface_rate_points_decode_to_full_resolution_points(surface_stream):
    cloud, rate, stream = surface_stream
    point = rate_point("dense", rate)
    header = unpack(stream).header.params
    assert header["surface"] == "planes"
    out = omnicodec.decompress(stream)
    assert len(out) == header["surface_points"] and out.attributes["rgb"].shape == (len(out), 3)
    rel = out.positions - cloud.positions.min(axis=0)
    assert np.array_equal(rel, np.rint(rel))  # on the input's grid, not at cell centres
    cells = np.unique((cloud.positions - cloud.positions.min(axis=0)).astype(np.int64) >> point.shift, axis=0)
    assert np.array_equal(np.unique(rel.astype(np.int64) >> point.shift, axis=0), cells)  # lossless cells
    centres = PointCloud((cells << point.shift) + ((1 << point.shift) - 1) / 2 + cloud.positions.min(axis=0))
    m = point_metrics(cloud, out, peak=1023.0, hausdorff=False)
    assert m["d1_psnr"] > point_metrics(cloud, centres, peak=1023.0, hausdorff=False)["d1_psnr"] + 5.0


def test_bad_surface_streams_raise(surface_stream):
    _, _, stream = surface_stream
    n = unpack(stream).header.params["surface_points"]
    cases = (({"surface_points": n + 1}, "surface rebuilds"), ({"surface": "spline"}, "unknown surface"),
             ({"surface": [1]}, "unknown surface"), ({"surface_points": None}, "surface points"),
             ({"surface_points": 10**12}, "surface points"), ({"surface_points": "x"}, "malformed"),
             ({"surface_points": 1e300}, "malformed|surface points"), ({"shift": 0}, "surface points"),
             ({"surface_stride": 0}, "surface stride"), ({"surface_stride": 99}, "surface stride"),
             ({"surface_stride": 2}, "surface rebuilds"))
    for changes, message in cases:
        with pytest.raises(CorruptStreamError, match=message):
            omnicodec.decompress(with_params(stream, **changes))
