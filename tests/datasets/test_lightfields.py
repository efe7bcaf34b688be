"""Light-field training data: the layered renderer (determinism, exact shifts, occlusion order), the real light fields'
view masks, the evaluation-only guard, the HDF5 set and the shipped sample."""

from __future__ import annotations

import hashlib

import h5py
import numpy as np
import pytest

from datasets.lightfields import (
    SAMPLE_GRID,
    SAMPLE_SIZE,
    Layer,
    build,
    layer_margin,
    load_view_grid,
    procedural_textures,
    random_layers,
    read_set,
    real_training_lightfields,
    render_layered_lightfield,
    render_layers,
    sample_lightfield,
)
from datasets.paths import EvaluationDataError
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def textures():
    return procedural_textures(4, seed=1, size=128)


def test_render_is_deterministic_with_shape_and_dtype(textures):
    kw = dict(grid=(3, 5), size=(40, 56), layers=2, disparity_range=(-1.5, 2.5))
    a = render_layered_lightfield(textures, seed=7, **kw)
    assert a.shape == (3, 5, 40, 56, 3) and a.dtype == np.uint8
    assert np.array_equal(a, render_layered_lightfield(textures, seed=7, **kw))
    assert not np.array_equal(a, render_layered_lightfield(textures, seed=8, **kw))
    assert a.std() > 10  # textured, not flat
    assert not np.array_equal(a[0, 0], a[-1, -1])  # the views differ (parallax)


@pytest.mark.parametrize("grid", [(3, 3), (4, 2)])
def test_integer_disparity_is_an_exact_shift_between_neighbouring_views(textures, grid):
    # background plane only (no layer edges), d = 1: view (u + 1, v) is view (u, v) moved down one pixel, and
    # view (u, v + 1) moved right one; on even grids every view samples half-pixel positions, still exact
    lf = render_layered_lightfield(textures, grid=grid, size=(48, 40), layers=0, disparity_range=(1.0, 1.0),
                                   seed=3, noise=0.0)
    assert lf.std() > 5
    for u in range(grid[0]):
        for v in range(grid[1]):
            if u + 1 < grid[0]:
                assert np.array_equal(lf[u + 1, v, 1:, :], lf[u, v, :-1, :])
            if v + 1 < grid[1]:
                assert np.array_equal(lf[u, v + 1, :, 1:], lf[u, v, :, :-1])
    assert not np.array_equal(lf[0, 0], lf[0, 1])


def test_codec_disparity_estimator_reads_the_rendered_disparity(textures):
    from omnicodec.lightfield.disparity import estimate_block_disparity
    from omnicodec.lightfield.warp import DISP_ONE

    for d in (1.0, -1.5):  # same sign convention as the codec
        lf = render_layered_lightfield(textures, grid=(5, 5), size=(48, 48), layers=0, disparity_range=(d, d),
                                       seed=2, noise=0.0)
        assert np.all(estimate_block_disparity(lf, (2, 2), 16) == round(d * DISP_ONE))


def test_nearer_layer_covers_farther_in_every_view():
    grid, (h, w) = (5, 5), (64, 64)
    m = layer_margin(grid, 2.0)
    yy, xx = np.mgrid[0 : h + 2 * m, 0 : w + 2 * m] + 0.5 - m  # centre-view pixel centres
    square = ((np.abs(yy - 30) <= 12) & (np.abs(xx - 30) <= 12)).astype(np.float32)
    disc = (np.hypot(yy - 38, xx - 38) <= 9).astype(np.float32)
    full = np.ones_like(square)
    red, green, blue = (np.full((h + 2 * m, w + 2 * m, 3), c, np.float32) for c in np.eye(3) * 255)
    far, mid, near = Layer(-1.0, red, full), Layer(0.5, green, square), Layer(2.0, blue, disc)
    lf = render_layers([near, far, mid], grid, (h, w))  # the list's order does not matter
    assert np.array_equal(lf, render_layers([far, mid, near], grid, (h, w)))
    y, x = np.mgrid[0:h, 0:w] + 0.5
    for u in range(5):
        for v in range(5):
            du, dv = u - 2, v - 2
            in_disc = np.hypot(y - 38 - 2.0 * du, x - 38 - 2.0 * dv)
            in_square = np.maximum(np.abs(y - 30 - 0.5 * du), np.abs(x - 30 - 0.5 * dv))
            view = lf[u, v].astype(int)
            assert (np.abs(view[in_disc < 8] - [0, 0, 255]) <= 1).all()  # the disc covers the square
            assert (np.abs(view[(in_square < 11) & (in_disc > 10)] - [0, 255, 0]) <= 1).all()  # square over plane
            assert (np.abs(view[(in_square > 13) & (in_disc > 10)] - [255, 0, 0]) <= 1).all()
            assert ((in_disc < 8) & (in_square < 11)).sum() > 50  # the disc overlaps the square in this view


def test_random_layers_are_back_to_front_with_an_opaque_background(textures):
    layers = random_layers(textures, grid=(5, 5), size=(32, 32), layers=4, disparity_range=(-2, 2),
                           rng=np.random.default_rng(0))
    d = [lay.disparity for lay in layers]
    assert len(layers) == 5 and d == sorted(d) and -2 <= d[0] and d[-1] <= 2
    assert np.all(layers[0].alpha == 1)  # the background (the farthest layer) fills the frame
    for lay in layers[1:]:
        assert 0 < lay.alpha.mean() < 1 and lay.alpha.max() == 1
        assert ((lay.alpha > 0) & (lay.alpha < 1)).any()  # anti-aliased edges
    with pytest.raises(ValueError):  # a canvas too small for the grid
        render_layers(layers, (9, 9), (32, 32))


def test_guard_refuses_the_evaluation_light_field_before_opening(tmp_path):
    # (this test's name must not contain the refused name: tmp_path is named after it)
    for folder in (tmp_path / "lightfield" / "antinous", tmp_path / "copies" / "antinous_views"):
        with pytest.raises(EvaluationDataError):
            load_view_grid(folder)  # the folders do not exist: refused before anything is read
    with pytest.raises(EvaluationDataError):
        real_training_lightfields(tmp_path, names=("antinous",))
    assert real_training_lightfields(tmp_path) == []  # no shared data there: nothing, no error


@pytest.mark.realdata
def test_hci_views_present_form_the_star(shared_data):
    if not (shared_data / "lightfield" / "hci_dino").is_dir():
        pytest.skip("hci_dino not in the shared data")
    ((name, views, present),) = real_training_lightfields(shared_data, names=("hci_dino",))
    i = np.arange(9)
    star = np.zeros((9, 9), dtype=bool)
    star[4, :] = star[:, 4] = star[i, i] = star[i, 8 - i] = True
    assert name == "hci_dino" and views.shape == (9, 9, 512, 512, 3) and views.dtype == np.uint8
    assert np.array_equal(present, star) and present.sum() == 33
    assert not views[~present].any() and all(views[u, v].std() > 10 for u, v in np.argwhere(present))


def test_build_and_read_round_trip(tmp_path):
    out = tmp_path / "set" / "lf.h5"
    names = build(out, tmp_path / "no_data", count=2, seed=5, size_range=(32, 48))
    assert names == ["layers_000", "layers_001"]
    back = read_set(out)
    assert [n for n, _, _ in back] == names
    lines = []
    with h5py.File(out) as f:
        assert f.attrs["textures"] == "procedural_textures" and "--seed 5" in f.attrs["command"]
        for key, (name, views, present) in zip(sorted(f), back, strict=True):
            u, v, h, w, c = views.shape
            assert (u, v) in {(5, 5), (7, 7), (9, 9), (5, 9), (9, 5), (3, 7), (7, 3), (5, 7)}
            assert 32 <= h <= 48 and 32 <= w <= 48 and c == 3 and views.dtype == np.uint8
            assert present.shape == (u, v) and present.all()
            source = f[key].attrs["source"]
            assert source.startswith("render_layered_lightfield(") and f[key]["views"].compression == "gzip"
            digest = hashlib.sha256(views.tobytes()).hexdigest()
            lines.append(f"{key} {name} {source} {u}x{v}x{h}x{w}x{c} {digest}")
        assert f.attrs["sample_list_sha256"] == hashlib.sha256("\n".join(lines).encode()).hexdigest()
    assert not list(out.parent.glob("*.tmp"))


def test_shipped_sample_loads_and_is_a_fresh_render():
    from omnicodec.io.lightfield import read_lightfield_folder

    folder = SAMPLES / "lightfield_layers"
    lf = read_lightfield_folder(folder)
    assert lf.shape == (*SAMPLE_GRID, SAMPLE_SIZE, SAMPLE_SIZE, 3) and lf.views.dtype == np.uint8
    assert lf.metadata["naming"] == "rowcol" and lf.metadata["prefix"] == "sample"
    assert sum(p.stat().st_size for p in folder.iterdir()) < 1.5e6
    diff = np.abs(sample_lightfield().astype(int) - lf.views)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3  # equal up to last-bit float differences across machines
