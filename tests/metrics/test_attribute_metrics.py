"""Colour (Y, Cb, Cr) and reflectance PSNR as pc_error --color=1: hand-computed tiny clouds, ties, duplicates."""

from __future__ import annotations

import math

import numpy as np
import pytest

import omnicodec
from omnicodec.cli import main
from omnicodec.errors import InputError
from omnicodec.metrics import colour_psnr, point_metrics, reflectance_psnr, rgb_to_ycbcr_bt709
from omnicodec.types import PointCloud

REL = 1e-4  # YCbCr values are float32 as pc_error stores them: a difference of 1/255 keeps ~5 digits


def _grey(*values) -> np.ndarray:
    return np.array([[v, v, v] for v in values], dtype=np.uint8)


def _cloud(positions, rgb=None, **attrs) -> PointCloud:
    attributes = dict(attrs)
    if rgb is not None:
        attributes["rgb"] = np.asarray(rgb, dtype=np.uint8)
    return PointCloud(np.asarray(positions, dtype=np.float32), attributes)


def test_bt709_on_pure_colours():
    rgb = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]], dtype=np.uint8)
    out = rgb_to_ycbcr_bt709(rgb)
    assert out.dtype == np.float32
    expected = [
        [0.2126, 0.5 - 0.1146, 1.0],  # red
        [0.7152, 0.5 - 0.3854, 0.5 - 0.4542],  # green
        [0.0722, 1.0, 0.5 - 0.0458],  # blue
        [1.0, 0.5, 0.5],  # white
        [0.0, 0.5, 0.5],  # black
    ]
    np.testing.assert_allclose(out, np.array(expected), rtol=0, atol=6e-8)
    # a grey (v, v, v) has Y = v / 255 and Cb = Cr = 0.5 exactly in float32
    grey = rgb_to_ycbcr_bt709(_grey(100))[0]
    assert grey[0] == pytest.approx(100 / 255, rel=REL) and grey[1] == 0.5 and grey[2] == 0.5


# A: a grey 100 at the origin, a grey 50 at x=10.
# B: greys 201 and 0 tied at x=+-1 from A's first point; two duplicates at x=11 (60 and 71 -> truncated mean 65).
A_POS = [[0, 0, 0], [10, 0, 0]]
B_POS = [[1, 0, 0], [-1, 0, 0], [11, 0, 0], [11, 0, 0]]


def test_tie_averaged_duplicate_merged_worse_direction():
    a = _cloud(A_POS, _grey(100, 50))
    b = _cloud(B_POS, _grey(201, 0, 60, 71))
    r = colour_psnr(a, b)
    # A->B: A0 sees round((201 + 0) / 2) = 101 (half away from zero): error 1; A1 sees 65: error 15.
    y_ab = (1 + 15**2) / 2 / 255**2
    # B->A over B's 3 distinct points: 0 -> 100, 201 -> 100, 65 -> 50.
    y_ba = (100**2 + 101**2 + 15**2) / 3 / 255**2
    assert r["y_mse_ab"] == pytest.approx(y_ab, rel=REL)
    assert r["y_mse_ba"] == pytest.approx(y_ba, rel=REL)
    assert r["y_mse"] == r["y_mse_ba"] and r["y_psnr"] == r["y_psnr_ba"]
    assert r["y_psnr_ab"] == pytest.approx(10 * math.log10(1 / y_ab), rel=REL)
    assert r["y_psnr"] == pytest.approx(10 * math.log10(1 / y_ba), rel=REL)
    for ch in ("cb", "cr"):  # greys: no chroma error
        for s in ("_ab", "_ba", ""):
            assert r[f"{ch}_mse{s}"] == 0.0 and r[f"{ch}_psnr{s}"] == math.inf
    assert r["yuv_psnr"] == math.inf and r["yuv_psnr_ab"] == math.inf


def test_the_worse_direction_is_chosen_per_channel():
    # A: grey 100. B: grey 120 on it, and a bluish (100, 100, 110) at x=5 that only B->A sees.
    a = _cloud([[0, 0, 0]], _grey(100))
    b = _cloud([[0, 0, 0], [5, 0, 0]], [[120, 120, 120], [100, 100, 110]])
    r = colour_psnr(a, b)
    ycc = rgb_to_ycbcr_bt709(np.array([[100, 100, 100], [120, 120, 120], [100, 100, 110]], dtype=np.uint8))
    d_grey = (ycc[1] - ycc[0]) ** 2
    d_blue = (ycc[2] - ycc[0]) ** 2
    assert r["y_mse_ab"] == pytest.approx((20 / 255) ** 2, rel=REL)
    assert r["y_mse_ba"] == pytest.approx((d_grey[0] + d_blue[0]) / 2, rel=REL)
    assert r["cb_mse_ab"] == 0.0
    assert r["cb_mse_ba"] == pytest.approx((5 / 255) ** 2 / 2, rel=REL)  # 0.5 * 10 / 255 on Cb
    assert r["y_mse"] == r["y_mse_ab"] and r["y_psnr"] == r["y_psnr_ab"]  # Y: A->B is worse
    assert r["cb_mse"] == r["cb_mse_ba"] and r["cb_psnr"] == r["cb_psnr_ba"]  # Cb: B->A is worse
    for s in ("_ab", "_ba", ""):
        assert r[f"yuv_psnr{s}"] == pytest.approx((6 * r[f"y_psnr{s}"] + r[f"cb_psnr{s}"] + r[f"cr_psnr{s}"]) / 8)


def test_duplicates_in_the_reference_are_merged_with_a_truncated_mean():
    a = _cloud([[0, 0, 0], [0, 0, 0]], _grey(0, 255))  # (0 + 255) // 2 = 127, not 128
    assert colour_psnr(a, _cloud([[0, 0, 0]], _grey(127)))["y_mse"] == 0.0
    r = colour_psnr(a, _cloud([[0, 0, 0]], _grey(128)))
    assert r["y_mse_ab"] == pytest.approx(1 / 255**2, rel=REL) and r["y_mse_ba"] == r["y_mse_ab"]


def test_identical_clouds_give_inf():
    rng = np.random.default_rng(3)
    pos = rng.integers(0, 20, size=(200, 3))
    cloud = _cloud(pos, rng.integers(0, 256, size=(200, 3)))
    r = colour_psnr(cloud, cloud)
    assert all(v == 0.0 for k, v in r.items() if "_mse" in k)
    assert all(v == math.inf for k, v in r.items() if "_psnr" in k)
    assert set(r) == {f"{c}_{m}{s}" for c in ("y", "cb", "cr") for m in ("mse", "psnr") for s in ("_ab", "_ba", "")} | {
        "yuv_psnr_ab",
        "yuv_psnr_ba",
        "yuv_psnr",
    }


def test_reflectance_tie_duplicate_and_peak():
    a = _cloud(A_POS, intensity=np.array([10, 50], dtype=np.uint16))
    b = _cloud(B_POS, intensity=np.array([20, 4, 40, 45], dtype=np.uint16))  # duplicates: (40 + 45) // 2 = 42
    r = reflectance_psnr(a, b)
    assert r["reflectance_peak"] == 40.0  # 50 - 10
    assert r["reflectance_mse_ab"] == pytest.approx((2**2 + 8**2) / 2)  # 10 vs (20 + 4) / 2; 50 vs 42
    assert r["reflectance_mse_ba"] == pytest.approx((6**2 + 10**2 + 8**2) / 3)  # 4, 20, 42 vs 10, 10, 50
    assert r["reflectance_mse"] == r["reflectance_mse_ba"]
    assert r["reflectance_psnr"] == pytest.approx(10 * math.log10(40**2 / (200 / 3)))
    assert r["reflectance_psnr"] == r["reflectance_psnr_ba"] < r["reflectance_psnr_ab"]
    given = reflectance_psnr(a, b, peak=65535)
    assert given["reflectance_peak"] == 65535.0
    assert given["reflectance_psnr_ab"] == pytest.approx(10 * math.log10(65535**2 / 34))


def test_reflectance_float_mean_and_name():
    a = _cloud([[0, 0, 0]], reflectance=np.array([0.0], dtype=np.float32))
    b = _cloud([[1, 0, 0], [-1, 0, 0]], reflectance=np.array([1.0, 2.0], dtype=np.float32))
    r = reflectance_psnr(a, b, name="reflectance", peak=1.0)
    assert r["reflectance_mse_ab"] == 1.5**2  # the tie's mean, not rounded
    assert r["reflectance_mse_ba"] == (1.0 + 4.0) / 2


def test_reflectance_peak_rule():
    b = _cloud([[0, 0, 0]], intensity=np.array([3], dtype=np.uint16))
    same = _cloud([[0, 0, 0], [1, 0, 0]], intensity=np.array([7, 7], dtype=np.uint16))
    assert reflectance_psnr(same, b)["reflectance_peak"] == 1.0  # integer range 0 -> 1
    floats = _cloud([[0, 0, 0], [1, 0, 0]], intensity=np.array([0.25, 0.75], dtype=np.float32))
    r = reflectance_psnr(floats, _cloud([[0, 0, 0]], intensity=np.array([0.25], dtype=np.float32)))
    assert r["reflectance_peak"] == 0.5
    assert r["reflectance_mse_ab"] == (0.0 + 0.5**2) / 2 and r["reflectance_mse_ba"] == 0.0
    for bad in (0, -1, math.inf, "x"):
        with pytest.raises(InputError, match="peak"):
            reflectance_psnr(same, b, peak=bad)


def test_errors():
    coloured = _cloud([[0, 0, 0]], _grey(1))
    plain = _cloud([[0, 0, 0]])
    with pytest.raises(InputError, match="decoded point cloud has no 'rgb'"):
        colour_psnr(coloured, plain)
    with pytest.raises(InputError, match="reference point cloud has no 'rgb'"):
        colour_psnr(plain, coloured)
    with pytest.raises(InputError, match="no 'intensity'"):
        reflectance_psnr(coloured, coloured)
    with pytest.raises(InputError, match="shape"):
        colour_psnr(PointCloud(np.zeros((1, 3), np.float32), {"rgb": np.zeros((1, 4), np.uint8)}), coloured)
    with pytest.raises(InputError, match="shape"):
        reflectance_psnr(
            PointCloud(np.zeros((1, 3)), {"intensity": np.zeros((1, 2))}), _cloud([[0, 0, 0]], intensity=[1.0])
        )
    with pytest.raises(InputError, match="8-bit"):
        colour_psnr(PointCloud(np.zeros((1, 3)), {"rgb": np.zeros((1, 3), np.float32)}), coloured)
    with pytest.raises(InputError, match="empty"):
        colour_psnr(PointCloud(np.zeros((0, 3)), {"rgb": np.zeros((0, 3), np.uint8)}), coloured)
    with pytest.raises(InputError, match="PointCloud"):
        colour_psnr(np.zeros((1, 3)), coloured)


def test_point_metrics_carries_the_attribute_keys():
    a = _cloud(A_POS, _grey(100, 50), intensity=np.array([10, 50], dtype=np.uint16))
    b = _cloud(B_POS, _grey(201, 0, 60, 71), intensity=np.array([20, 4, 40, 45], dtype=np.uint16))
    r = point_metrics(a, b, peak=1023, reference_normals=np.tile([[0.0, 0.0, 1.0]], (2, 1)))
    colour, refl = colour_psnr(a, b), reflectance_psnr(a, b)
    for key, value in {**colour, **refl}.items():
        assert r[key] == value, key
    assert r["d1_mse_ab"] == 1.0  # the geometry keys are still there
    bare = point_metrics(a, b, peak=1023, reference_normals=np.tile([[0.0, 0.0, 1.0]], (2, 1)), attributes=False)
    assert "y_psnr" not in bare and "reflectance_psnr" not in bare
    assert {k: r[k] for k in bare} == bare
    one_sided = point_metrics(a, _cloud(B_POS), peak=1023, reference_normals=np.tile([[0.0, 0.0, 1.0]], (2, 1)))
    assert "y_psnr" not in one_sided and "reflectance_psnr" not in one_sided
    wide = PointCloud(b.positions, {"rgb": np.full((4, 3), 1000, np.uint16)})  # 16-bit (LAS) colour: left out
    assert "y_psnr" not in point_metrics(a, wide, peak=1023, reference_normals=np.tile([[0.0, 0.0, 1.0]], (2, 1)))


def test_eval_prints_the_colour_psnr(tmp_path, capsys):
    rng = np.random.default_rng(5)
    pos = rng.integers(0, 50, size=(300, 3)).astype(np.float32)
    rgb = rng.integers(0, 256, size=(300, 3), dtype=np.uint8)
    a = PointCloud(pos, {"rgb": rgb})
    b = PointCloud(pos[::2], {"rgb": np.clip(rgb[::2].astype(int) + 4, 0, 255).astype(np.uint8)})
    pa, pb = tmp_path / "a.ply", tmp_path / "b.ply"
    omnicodec.write(pa, a)
    omnicodec.write(pb, b)
    assert main(["eval", str(pa), str(pb), "--peak", "1023"]) == 0
    lines = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    expected = colour_psnr(omnicodec.read(pa), omnicodec.read(pb))
    for key in ("y_psnr", "cb_psnr", "cr_psnr", "yuv_psnr"):
        assert float(lines[key]) == pytest.approx(expected[key], abs=1e-6)
    assert "d1_psnr" in lines and "points_reference" in lines
    assert "y_mse_ab" not in lines and "reflectance_psnr" not in lines
