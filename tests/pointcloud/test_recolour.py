"""Attribute transfer onto new positions (G-PCC / TMC13 recolouring): hand-made clouds with exact expectations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from omnicodec.errors import InputError
from omnicodec.pointcloud.recolour import transfer_attributes
from omnicodec.types import Grid, PointCloud


def _line(xs) -> np.ndarray:
    return np.array([[x, 0.0, 0.0] for x in xs])


def test_points_on_source_points_keep_their_values():
    src = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], np.int32)
    rgb = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [12, 34, 56]], np.uint8)
    refl = np.array([7, 300, 65535, 0], np.uint16)
    out = transfer_attributes(PointCloud(src, {"rgb": rgb, "reflectance": refl}), src[::-1].astype(np.float64))
    assert out["rgb"].dtype == np.uint8 and out["rgb"].shape == (4, 3)
    np.testing.assert_array_equal(out["rgb"], rgb[::-1])
    assert out["reflectance"].dtype == np.uint16
    np.testing.assert_array_equal(out["reflectance"], refl[::-1])


def test_two_backward_points_scalar():
    # sources s0 (x=0, 100) and s1 (x=3, 200); targets t0 (x=1) and t1 (x=10). Both sources are nearest to t0.
    cloud = PointCloud(_line([0, 3]), {"intensity": np.array([100, 200], np.uint8)})
    out = transfer_attributes(cloud, _line([1, 10]))["intensity"]
    # t0: forward c1 = (100/5 + 200/8) / (1/5 + 1/8) = 138.46 -> 138 (weights 1 / (d^2 + 4));
    #     backward c2 = (100/5 + 200/6) / (1/5 + 1/6) = 145.45 -> c0 = 145 (weights 1 / (d + 4));
    #     search c in {144, 145, 146} for min max((c - 138)^2 / 2, ((c - 100)^2 + (c - 200)^2) / 2):
    #     144: max(18, 2536), 145: max(24.5, 2525), 146: max(32, 2516) -> 146.
    # t1: no backward point; c1 = (200/53 + 100/104) / (1/53 + 1/104) = 166.24 -> 166.
    assert out.dtype == np.uint8
    assert out.tolist() == [146, 166]


def test_two_backward_points_colour():
    # one target midway between two sources: c1 = c2 = the mean; the search keeps it (e2 is smallest at the mean)
    cloud = PointCloud(_line([0, 2]), {"rgb": np.array([[100, 50, 0], [110, 71, 255]], np.uint8)})
    out = transfer_attributes(cloud, _line([1]))["rgb"]
    # mean (105, 60.5, 127.5) rounds half away from zero to (105, 61, 128); e2 ties between 60 and 61 (and 127,
    # 128), and the first candidate in TMC13's loop order (-1 before 0) wins: (105, 60, 127)
    assert out.tolist() == [[105, 60, 127]]


def test_float_intensity_is_not_rounded():
    cloud = PointCloud(_line([0, 3]), {"intensity": np.array([0.1, 0.2], np.float32)})
    out = transfer_attributes(cloud, _line([1, 10]))["intensity"]
    assert out.dtype == np.float32
    c2 = (0.1 / 5 + 0.2 / 6) / (1 / 5 + 1 / 6)  # t0: the backward centroid, no search on floats
    c1 = (0.2 / 53 + 0.1 / 104) / (1 / 53 + 1 / 104)  # t1: the forward centroid
    np.testing.assert_allclose(out, [c2, c1], rtol=1e-6)
    same = transfer_attributes(cloud, _line([0, 3]))["intensity"]
    np.testing.assert_array_equal(same, cloud.attributes["intensity"])  # exact, not w * v / w


def test_dtypes_shapes_and_other_attributes():
    src = _line([0, 1, 5])
    attrs = {
        "rgb": np.array([[1000, 2000, 65535], [0, 10, 65535], [7, 7, 7]], np.uint16),
        "temperature": np.array([[-300], [-100], [50]], np.int16),  # (N, 1) scalar
        "normals": np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32),  # forward nearest value
        "valid": np.array([True, False, True]),
    }
    out = transfer_attributes(PointCloud(src, attrs), _line([0.4, 4.9]))
    for name, v in attrs.items():
        assert out[name].dtype == v.dtype and out[name].shape == (2,) + v.shape[1:], name
    np.testing.assert_array_equal(out["normals"], attrs["normals"][[0, 2]])
    np.testing.assert_array_equal(out["valid"], [True, True])
    # only the source at x=5 joins the target at 4.9 (c2 = (7, 7, 7)), but its forward centroid c1 over all three
    # sources is far off (about (111, 294, 17064)), so e1 = |c - c1|^2 / 2 outweighs e2 = |c - c2|^2 / 3 and the
    # search takes the step towards c1 in every channel
    assert out["rgb"][1].tolist() == [8, 8, 8]
    assert int(out["temperature"][1, 0]) == 49  # likewise: c2 = 50, c1 = -49.6 -> -50
    assert out["rgb"][0, 2] == 65534  # c2 = 65535 (both backward sources), one step towards c1 (x=5 pulls it down)
    assert -300 <= int(out["temperature"][0, 0]) <= -100


def test_unit_scales_distances():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 20, (200, 3))
    tgt = rng.uniform(0, 20, (80, 3))
    rgb = rng.integers(0, 256, (200, 3)).astype(np.uint8)
    ref = transfer_attributes(PointCloud(src, {"rgb": rgb}), tgt)["rgb"]
    metres = transfer_attributes(PointCloud(src * 0.001, {"rgb": rgb}), tgt * 0.001, unit=0.001)["rgb"]
    np.testing.assert_array_equal(metres, ref)
    gridded = PointCloud(src * 0.001, {"rgb": rgb}, grid=Grid(step=0.001))
    np.testing.assert_array_equal(transfer_attributes(gridded, tgt * 0.001)["rgb"], ref)  # unit from the grid


def _reference(src, tgt, values, integer: bool):
    """A direct per-point transcription of the documented rule (TMC13 defaults), for random clouds without ties."""
    n, m = len(src), len(tgt)
    v = values.reshape(n, -1).astype(np.float64)
    lo, hi = (0.0, float(np.iinfo(values.dtype).max)) if integer else (-np.inf, np.inf)
    rnd = (lambda x: np.floor(x + 0.5)) if integer else (lambda x: x)  # values are non-negative here
    c1 = np.zeros((m, v.shape[1]))
    for t in range(m):
        d2 = ((src - tgt[t]) ** 2).sum(axis=1)
        order = np.argsort(d2)[: min(8, n)]
        if d2[order[0]] < 1e-4:
            c1[t] = v[order[0]]
        else:
            w = 1.0 / (d2[order] + 4.0)
            c1[t] = np.clip(rnd((w[:, None] * v[order]).sum(axis=0) / w.sum()), lo, hi)
    lists = [[] for _ in range(m)]
    for s in range(n):
        d2 = ((tgt - src[s]) ** 2).sum(axis=1)
        t = int(np.argmin(d2))
        lists[t].append((np.sqrt(d2[t]), v[s]))
    out = c1.copy()
    for t in range(m):
        if not lists[t]:
            continue
        if len(lists[t]) == 1:
            c2 = lists[t][0][1]
        else:
            w = np.array([1.0 / (d + 4.0) for d, _ in lists[t]])
            c2 = (w[:, None] * np.array([c for _, c in lists[t]])).sum(axis=0) / w.sum()
        if not integer:
            out[t] = c2
            continue
        c0 = np.clip(rnd(c2), lo, hi)
        best, best_c = np.inf, c0
        for step in itertools.product((-1, 0, 1), repeat=v.shape[1]):
            c = np.clip(c0 + np.array(step), lo, hi)
            e1 = ((c - c1[t]) ** 2).sum() * (1.0 / m)
            e2 = sum(((c - cj) ** 2).sum() for _, cj in lists[t]) * (1.0 / n)
            if max(e1, e2) < best:
                best, best_c = max(e1, e2), c
        out[t] = best_c
    return out.reshape((m,) + values.shape[1:]).astype(values.dtype)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_a_per_point_reference(seed):
    rng = np.random.default_rng(seed)
    src = rng.uniform(0, 12, (300, 3))
    tgt = np.concatenate([rng.uniform(0, 12, (120, 3)), src[:30]])  # some targets on source points
    attrs = {"rgb": rng.integers(0, 256, (300, 3)).astype(np.uint8),
             "reflectance": rng.integers(0, 1000, 300).astype(np.uint16),
             "intensity": rng.uniform(0, 1, 300).astype(np.float32)}
    out = transfer_attributes(PointCloud(src, attrs), tgt, workers=1)
    np.testing.assert_array_equal(out["rgb"], _reference(src, tgt, attrs["rgb"], True))
    np.testing.assert_array_equal(out["reflectance"], _reference(src, tgt, attrs["reflectance"], True))
    np.testing.assert_allclose(out["intensity"], _reference(src, tgt, attrs["intensity"], False), rtol=1e-6)


def test_fewer_source_points_than_neighbours_and_no_attributes():
    cloud = PointCloud(_line([0]), {"rgb": np.array([[9, 8, 7]], np.uint8)})
    assert transfer_attributes(cloud, _line([1, 2, 3]))["rgb"].tolist() == [[9, 8, 7]] * 3
    assert transfer_attributes(PointCloud(_line([0, 1])), _line([5])) == {}


def test_errors():
    cloud = PointCloud(_line([0, 1]), {"rgb": np.zeros((2, 3), np.uint8)})
    with pytest.raises(InputError, match="empty source"):
        transfer_attributes(PointCloud(np.zeros((0, 3)), {"rgb": np.zeros((0, 3), np.uint8)}), _line([0]))
    with pytest.raises(InputError, match="empty set of positions"):
        transfer_attributes(cloud, np.zeros((0, 3)))
    with pytest.raises(InputError, match=r"shape \(M, 3\)"):
        transfer_attributes(cloud, np.zeros((4, 2)))
    with pytest.raises(InputError, match="NaN"):
        transfer_attributes(cloud, np.array([[0.0, np.nan, 0.0]]))
    with pytest.raises(InputError, match="PointCloud"):
        transfer_attributes(np.zeros((2, 3)), _line([0]))
    with pytest.raises(InputError, match="unit"):
        transfer_attributes(cloud, _line([0]), unit=0.0)
