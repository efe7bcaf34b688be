"""The RAHT colour coder: exact decoding, the transform's inverse, rate behaviour, bad payloads."""

from __future__ import annotations

import numpy as np
import pytest

from omnicodec.errors import CorruptStreamError, UnsupportedVersionError
from omnicodec.pointcloud import attr_raht as ar
from omnicodec.pointcloud import attr_raht_model as rm
from tests.pointcloud.helpers import coloured_sphere


@pytest.fixture(scope="module")
def model() -> rm.RahtModel:
    return rm.load_model()


def _y_psnr(a: np.ndarray, b: np.ndarray) -> float:
    ya, yb = ar.rgb_to_ycbcr(a)[:, 0], ar.rgb_to_ycbcr(b)[:, 0]
    return float(10 * np.log10(255.0**2 / np.mean((ya - yb) ** 2)))


def test_ycbcr_round_trip_is_exact_on_every_colour_level():
    rng = np.random.default_rng(1)
    rgb = np.concatenate([rng.integers(0, 256, (20000, 3)), np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]])])
    rgb = rgb.astype(np.uint8)
    assert np.array_equal(ar.ycbcr_to_rgb(ar.rgb_to_ycbcr(rgb)), rgb)


def test_decoder_rebuilds_what_the_encoder_reconstructed(model):
    coords, rgb = coloured_sphere(40)
    x = ar.rgb_to_ycbcr(rgb)
    for rate in (1, 5, 8):
        data, rec = ar.encode_raht(coords, x, "colour", rate, model)
        out = ar.decode_raht(data, coords, "colour", rate, model)
        assert out.shape == x.shape and np.array_equal(out, rec)


def test_higher_rates_cost_more_and_get_closer(model):
    coords, rgb = coloured_sphere(40)
    x = ar.rgb_to_ycbcr(rgb)
    sizes, psnrs = [], []
    for rate in (1, 4, 8):
        data, rec = ar.encode_raht(coords, x, "colour", rate, model)
        sizes.append(len(data))
        psnrs.append(_y_psnr(ar.ycbcr_to_rgb(rec), rgb))
    assert sizes[0] < sizes[1] < sizes[2]
    assert psnrs[0] < psnrs[1] < psnrs[2] and psnrs[2] > 40


def test_the_transform_inverts_when_steps_are_tiny(model):
    """Orthonormal butterflies and their inverse: with steps of 1e-4 the means come back to within the root mean's
    1/32 rounding (the only other loss)."""
    coords, rgb = coloured_sphere(24)
    x = ar.rgb_to_ycbcr(rgb)
    _, rec = ar.encode_raht(coords, x, "colour", 8, model, scale=1e-4)
    assert np.abs(rec - x).max() < 1 / 32 + 1e-3


def test_a_constant_colour_costs_almost_nothing_and_is_exact(model):
    coords, _ = coloured_sphere(40)
    rgb = np.tile(np.array([[200, 30, 90]], np.uint8), (len(coords), 1))
    data, rec = ar.encode_raht(coords, ar.rgb_to_ycbcr(rgb), "colour", 8, model)
    assert len(data) < 60
    assert np.array_equal(ar.ycbcr_to_rgb(rec), rgb)


def test_points_in_one_voxel_share_its_mean(model):
    coords, rgb = coloured_sphere(16)
    coords = np.concatenate([coords, coords[:5]])
    rgb = np.concatenate([rgb, 255 - rgb[:5]])
    x = ar.rgb_to_ycbcr(rgb)
    tree = ar.RahtTree(coords)
    assert tree.voxels == len(coords) - 5
    _, rec = ar.encode_raht(coords, x, "colour", 8, model, scale=1e-4)
    assert np.allclose(rec[:5], rec[-5:]) and np.allclose(rec[:5], (x[:5] + x[-5:]) / 2, atol=0.05)


def test_every_voxel_is_a_child_once():
    coords, _ = coloured_sphere(20)
    tree = ar.RahtTree(coords)
    last = tree.levels[-1]
    children = np.sort(last.slots[last.slots >= 0])
    assert np.array_equal(children, np.arange(tree.voxels))
    assert tree.levels[0].parents == 1
    assert sum(len(g) for g in last.groups) == last.parents


def test_empty_and_single_point_clouds(model):
    data, rec = ar.encode_raht(np.zeros((0, 3), np.int64), np.zeros((0, 3)), "colour", 3, model)
    assert rec.shape == (0, 3) and ar.decode_raht(data, np.zeros((0, 3), np.int64), "colour", 3, model).shape == (0, 3)
    one = np.array([[5, 6, 7]])
    x = ar.rgb_to_ycbcr(np.array([[10, 20, 30]], np.uint8))
    data, rec = ar.encode_raht(one, x, "colour", 3, model)
    assert np.array_equal(ar.decode_raht(data, one, "colour", 3, model), rec)
    assert np.array_equal(ar.ycbcr_to_rgb(rec), [[10, 20, 30]])


def test_bad_payloads_raise_the_documented_error(model):
    coords, rgb = coloured_sphere(20)
    data, _ = ar.encode_raht(coords, ar.rgb_to_ycbcr(rgb), "colour", 4, model)
    for bad in (b"", b"\x00" + data[1:], data[:10]):
        with pytest.raises(CorruptStreamError):
            ar.decode_raht(bad, coords, "colour", 4, model)
    with pytest.raises(UnsupportedVersionError, match="format 9 is newer"):
        ar.decode_raht(b"\x09" + data[1:], coords, "colour", 4, model)
    with pytest.raises(CorruptStreamError):
        ar.decode_raht(data, coords, "colour", 0, model)


@pytest.mark.parametrize("seed", [0, 1])
def test_neighbour_tables_match_a_search_for_every_shifted_key(seed):
    """The tables built from the parents' tables (no search) are those of a search for each neighbour's Morton key,
    on a cloud with gaps, borders and clusters."""
    rng = np.random.default_rng(seed)
    coords = np.concatenate([rng.integers(0, 40, (3000, 3)), rng.integers(0, 6, (200, 3)) + [50, 0, 33]])
    tree = ar.RahtTree(coords)
    keys = [np.zeros(1, np.int64)]  # each level's parent keys, root first
    for level in tree.levels:
        child_keys = np.zeros(level.children, np.int64)
        occupied = level.slots >= 0
        child_keys[level.slots[occupied]] = (np.repeat(keys[-1], 8).reshape(-1, 8) * 8 + np.arange(8))[occupied]
        keys.append(child_keys)
    for level, parents, children in zip(tree.levels, keys, keys[1:], strict=False):
        np.testing.assert_array_equal(level.neighbours, ar._neighbours(parents, ar._OFFSETS))
        np.testing.assert_array_equal(level.child_neighbours, ar._neighbours(children, ar._CHILD_OFFSETS))


def test_the_same_stream_and_values_however_many_threads_predict(model, monkeypatch):
    """Prediction cut into parts on several threads gives the bytes and values of one thread."""
    coords, rgb = coloured_sphere(40)
    x = ar.rgb_to_ycbcr(rgb)
    monkeypatch.setattr(ar, "_THREADS", 1)
    one = ar.encode_raht(coords, x, "colour", 5, model)
    monkeypatch.setattr(ar, "_THREADS", 3)
    monkeypatch.setattr(ar, "PARALLEL_ROWS", 64)
    three = ar.encode_raht(coords, x, "colour", 5, model)
    assert one[0] == three[0] and np.array_equal(one[1], three[1])
    assert np.array_equal(ar.decode_raht(one[0], coords, "colour", 5, model), one[1])
