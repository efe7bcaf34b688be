"""View synthesis (:mod:`omnicodec.lightfield.synthesis`) and its quality metric (``view_synthesis_quality``).

Single-plane fields are a texture rolled by ``d (u - 2)`` rows and ``d (v - 2)`` columns for view (u, v) of a 5 x 5
grid (the package's disparity convention with the centre view at (2, 2)); with an integer ``d`` every warp the
synthesis needs is an integer shift, so the held-out view comes back exactly. Rolling wraps around while the warp
replicates edges, so comparisons keep a margin from the borders. The two-layer fields are rendered by
``datasets.lightfields`` (a background at disparity -1 and a textured shape at +1.5, noise sigma 1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.ndimage import binary_erosion

from datasets.lightfields import layer_margin, procedural_textures, random_layers, render_layers
from omnicodec.errors import InputError
from omnicodec.io.lightfield import read_lightfield_folder
from omnicodec.lightfield.synthesis import estimate_disparity_at, synthesize
from omnicodec.lightfield.warp import predict_view
from omnicodec.metrics import view_synthesis_quality

M = 10  # margin (pixels) kept from the borders in exact comparisons


def plane_field(tex: np.ndarray, d: int, u: int = 5, v: int = 5) -> np.ndarray:
    return np.stack([np.stack([np.roll(tex, (d * (a - 2), d * (b - 2)), axis=(0, 1)) for b in range(v)])
                     for a in range(u)])


@pytest.fixture
def tex(rng) -> np.ndarray:
    return rng.integers(0, 256, size=(56, 64, 3), dtype=np.uint8)


def held_out(*positions, grid=(5, 5)) -> np.ndarray:
    present = np.ones(grid, dtype=bool)
    for p in positions:
        present[p] = False
    return present


@pytest.mark.parametrize("d", [1, -2])
def test_single_plane_held_out_view_is_exact(tex, d):
    views = plane_field(tex, d)
    present = held_out((2, 2))
    garbage = views.copy()
    garbage[2, 2] = 255 - garbage[2, 2]  # the absent view is never read
    out = synthesize(garbage, present, [(2, 2)])
    assert out.shape == (1,) + views.shape[2:] and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, M:-M, M:-M], views[2, 2, M:-M, M:-M])
    disparity = estimate_disparity_at(garbage, present, (2, 2))
    assert disparity.shape == views.shape[2:4] and disparity.dtype == np.float32
    assert np.all(disparity[M:-M, M:-M] == d)


def test_fractional_position_and_sparse_views(tex):
    views = plane_field(tex, 2)
    # (1.5, 2.5) lies half a view step from its four neighbours: at d = 2 every warp is a 1-pixel shift
    truth = np.roll(tex, (-1, 1), axis=(0, 1))
    out = synthesize(views, None, [(1.5, 2.5), (3, 1)])
    np.testing.assert_array_equal(out[0, M:-M, M:-M], truth[M:-M, M:-M])
    np.testing.assert_array_equal(out[1], views[3, 1])  # a present view comes back unchanged
    assert np.all(estimate_disparity_at(views, None, (1.5, 2.5))[M:-M, M:-M] == 2)
    # only the corners and the centre present: (1, 1) from views 1 and 3 steps away
    sparse = np.zeros((5, 5), dtype=bool)
    sparse[[0, 0, 4, 4, 2], [0, 4, 0, 4, 2]] = True
    views1 = plane_field(tex, 1)
    junk = np.where(sparse[:, :, None, None, None], views1, 0).astype(np.uint8)
    out = synthesize(junk, sparse, [(1, 1)])
    np.testing.assert_array_equal(out[0, 2 * M : -2 * M, 2 * M : -2 * M], views1[1, 1, 2 * M : -2 * M, 2 * M : -2 * M])


def two_layers(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(views (5, 5, 96, 96, 3) uint8, the foreground's coverage in the centre view (96, 96) float)."""
    textures = procedural_textures(4, seed=1, size=128)
    layers = random_layers(textures, grid=(5, 5), size=(96, 96), layers=1, disparity_range=(-2, 2),
                           rng=np.random.default_rng(seed))
    layers[0].disparity, layers[1].disparity = -1.0, 1.5
    views = render_layers(layers, (5, 5), (96, 96), noise=1.0, rng=np.random.default_rng(seed))
    m = (layers[1].alpha.shape[0] - 96) // 2
    assert m >= layer_margin((5, 5), 1.5) - 1
    return views, layers[1].alpha[m : m + 96, m : m + 96]


@pytest.mark.parametrize(("seed", "floor"), [(2, 40.4), (6, 34.6)])  # 41.40 and 35.65 dB measured
def test_two_layer_synthesis_beats_blending_without_disparity(seed, floor):
    views, alpha = two_layers(seed)
    target = (2, 2)
    present = held_out(target)
    out = synthesize(views, present, [target])
    near = ((1, 2), (3, 2), (2, 1), (2, 3))
    plain = predict_view([views[p] for p in near], near, target, np.zeros((96, 96), dtype=np.int64))
    q = view_synthesis_quality(views, out, [target])
    q_plain = view_synthesis_quality(views, plain[None], [target])
    assert q["mean_psnr_y"] > floor
    assert q["mean_psnr_y"] > q_plain["mean_psnr_y"] + 2.0  # 33.48 and 22.88 dB measured
    assert q["mean_ssim_y"] > q_plain["mean_ssim_y"]
    disparity = estimate_disparity_at(views, present, target)[4:-4, 4:-4]
    front = binary_erosion(alpha >= 0.999, iterations=4)[4:-4, 4:-4]  # inside the shape, away from its edge
    back = binary_erosion(alpha <= 0.001, iterations=4)[4:-4, 4:-4]
    assert front.sum() > 500 and back.sum() > 5000
    assert np.mean(np.abs(disparity[front] - 1.5) <= 0.125) > 0.95
    assert np.mean(np.abs(disparity[back] + 1.0) <= 0.125) > 0.85 and np.median(disparity[back]) == -1.0


def test_view_synthesis_quality():
    rng = np.random.default_rng(5)
    lf = rng.integers(1, 255, size=(3, 4, 16, 16, 3), dtype=np.uint8)
    positions = [(0, 1), (2, 3)]
    syn = np.stack([lf[0, 1], lf[2, 3] + 1])
    q = view_synthesis_quality(lf, syn, positions)
    assert q["positions"] == positions and len(q["psnr_y"]) == len(q["ssim_y"]) == 2
    assert q["psnr_y"][0] == math.inf and q["ssim_y"][0] == pytest.approx(1.0)
    assert q["psnr_y"][1] == pytest.approx(10 * math.log10(255**2))  # luma off by exactly 1
    assert q["mean_psnr_y"] == math.inf and q["mean_ssim_y"] == pytest.approx(np.mean(q["ssim_y"]))
    q4 = view_synthesis_quality(np.stack([lf[0, 1], lf[2, 3]]), syn, positions)
    assert q4["psnr_y"] == q["psnr_y"] and q4["ssim_y"] == q["ssim_y"]
    with pytest.raises(InputError, match="not a view"):
        view_synthesis_quality(lf, syn, [(0, 1), (2, 4)])
    with pytest.raises(InputError, match="not a view"):
        view_synthesis_quality(lf, syn, [(0, 1), (1.5, 2)])
    with pytest.raises(InputError, match="N = 1"):
        view_synthesis_quality(lf, syn, [(0, 1)])
    with pytest.raises(InputError, match="positions is empty"):
        view_synthesis_quality(lf, syn[:0], [])


def test_errors(tex):
    views = plane_field(tex[:16, :16], 1)
    present = held_out((2, 2))
    cases = [
        (dict(views=views[0]), "shape"),
        (dict(views=views.astype(np.float32)), "uint8"),
        (dict(views=views[..., :1]), "shape"),
        (dict(present=present[:4]), "present must have shape"),
        (dict(present=present.astype(np.float32)), "bool"),
        (dict(present=np.zeros((5, 5), dtype=bool)), "no view is present"),
        (dict(positions=[(2, 4.5)]), "outside the 5 x 5 view grid"),
        (dict(positions=[(-0.1, 0)]), "outside"),
        (dict(positions=[(math.nan, 0)]), "outside"),
        (dict(positions=[(2,)]), "pair"),
        (dict(positions=[]), "no positions"),
        (dict(block=0), "block"),
        (dict(max_disparity=-1), "max_disparity"),
    ]
    for change, message in cases:
        kw = dict(views=views, present=present, positions=[(2, 2)]) | change
        options = {k: kw.pop(k) for k in ("block", "max_disparity") if k in kw}
        with pytest.raises(InputError, match=message):
            synthesize(kw["views"], kw["present"], kw["positions"], **options)
    with pytest.raises(InputError, match="outside"):
        estimate_disparity_at(views, present, (5, 0))


@pytest.mark.realdata
def test_lytro_held_out_views(shared_data):
    lf = read_lightfield_folder(shared_data / "lightfield" / "lytro_2067")
    assert lf.views.shape[:2] == (9, 9)
    targets = [(4, 4), (2, 6)]
    out = synthesize(lf.views, held_out(*targets, grid=(9, 9)), targets)
    q = view_synthesis_quality(lf, out, targets)
    assert min(q["psnr_y"]) > 40.3, q  # 41.32 and 41.36 dB measured
    assert min(q["ssim_y"]) > 0.98, q  # 0.9873 and 0.9867 measured
