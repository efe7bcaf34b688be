"""The light-field codec's exact parts: integer transforms, warping, coding order, residual and disparity coding,
and the blending network's exact path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from omnicodec.entropy import get_coder
from omnicodec.errors import BitstreamError, CorruptStreamError
from omnicodec.lightfield import residual as res
from omnicodec.lightfield.blend_net import BLOCK, BlendNet, block_features, weights_from_logits
from omnicodec.lightfield.disparity import decode_disparity, encode_disparity, estimate_block_disparity
from omnicodec.lightfield.order import MAX_REFS, coding_plan
from omnicodec.lightfield.transform import (
    DCT8,
    forward_dct,
    from_blocks,
    inverse_dct,
    rgb_to_ycocg,
    step_code,
    to_blocks,
    ycocg_to_rgb,
)
from omnicodec.lightfield.warp import blend_weights, predict_view, upsample_disparity, warp_view


def test_ycocg_is_lossless_on_signed_integers(rng) -> None:
    r, g, b = (rng.integers(-255, 256, (40, 50)) for _ in range(3))
    back = ycocg_to_rgb(*rgb_to_ycocg(r, g, b))
    assert all(np.array_equal(x, y) for x, y in zip((r, g, b), back, strict=True))


def test_blocks_round_trip_with_padding(rng) -> None:
    plane = rng.integers(0, 100, (19, 13))
    blocks = to_blocks(plane)
    assert blocks.shape == (3, 2, 8, 8)
    assert np.array_equal(from_blocks(blocks, 19, 13), plane)


def test_integer_inverse_dct_inverts_the_forward_transform(rng) -> None:
    x = rng.integers(-200, 200, (50, 8, 8))
    levels = np.round(forward_dct(x) * 4).astype(np.int64)  # step 1/4: near lossless
    back = inverse_dct(levels, step_code(0.25))
    assert np.abs(back - x).max() <= 1
    assert np.array_equal(DCT8 @ DCT8.T == 0, np.eye(8) == 0) or np.abs((DCT8 @ DCT8.T) - 32768 * np.eye(8)).max() < 400


def test_inverse_dct_is_integer_exact_for_extreme_levels() -> None:
    levels = np.full((1, 8, 8), res.MAX_LEVEL, dtype=np.int64)
    big = inverse_dct(levels, step_code(900.0))
    ref = (DCT8.T.astype(object) @ (levels[0].astype(object) * step_code(900.0)) @ DCT8.astype(object))
    den = 16 * 64 * 64 * 8
    assert np.array_equal(big[0], np.array((ref + den // 2) // den, dtype=np.int64))


def _reference_warp(ref: np.ndarray, d: np.ndarray, du: int, dv: int) -> np.ndarray:
    h, w = d.shape
    py = np.arange(h)[:, None] * 8 + d * du
    px = np.arange(w)[None, :] * 8 + d * dv
    out = np.zeros((h, w, ref.shape[2]), dtype=np.int64)
    for y in range(h):
        for x in range(w):
            iy, fy, ix, fx = py[y, x] // 8, py[y, x] % 8, px[y, x] // 8, px[y, x] % 8
            def at(a: int, b: int) -> np.ndarray:
                return ref[min(max(a, 0), h - 1), min(max(b, 0), w - 1)].astype(np.int64)
            out[y, x] = ((8 - fy) * ((8 - fx) * at(iy, ix) + fx * at(iy, ix + 1))
                         + fy * ((8 - fx) * at(iy + 1, ix) + fx * at(iy + 1, ix + 1)))
    return out


@pytest.mark.parametrize("du,dv", [(0, 1), (-2, 0), (3, -1), (0, 0)])
def test_warp_matches_a_per_pixel_reference(rng, du: int, dv: int) -> None:
    ref = rng.integers(0, 256, (9, 11, 3)).astype(np.uint8)
    d = rng.integers(-20, 20, (9, 11)).astype(np.int64)
    assert np.array_equal(warp_view(ref, d, du, dv), _reference_warp(ref, d, du, dv))


_HEVC_CHROMA_TAPS = {0: (0, 64, 0, 0), 1: (-2, 58, 10, -2), 2: (-4, 54, 16, -2), 3: (-6, 46, 28, -4),
                     4: (-4, 36, 36, -4), 5: (-4, 28, 46, -6), 6: (-2, 16, 54, -4), 7: (-2, 10, 58, -2)}


def _reference_sharp_warp(ref: np.ndarray, d: np.ndarray, du: int, dv: int) -> np.ndarray:
    """Per pixel: 4 x 4 samples around the position (edge replicated), HEVC's chroma taps, rounded once."""
    h, w = d.shape
    out = np.zeros((h, w, ref.shape[2]), dtype=np.int64)
    for y in range(h):
        for x in range(w):
            py, px = y * 8 + int(d[y, x]) * du, x * 8 + int(d[y, x]) * dv
            total = np.zeros(ref.shape[2], dtype=np.int64)
            for a, ta in enumerate(_HEVC_CHROMA_TAPS[py % 8]):
                for b, tb in enumerate(_HEVC_CHROMA_TAPS[px % 8]):
                    total += ta * tb * ref[min(max(py // 8 + a - 1, 0), h - 1),
                                           min(max(px // 8 + b - 1, 0), w - 1)].astype(np.int64)
            out[y, x] = np.clip((total + 32) >> 6, 0, 255 * 64)
    return out


@pytest.mark.parametrize("du,dv", [(0, 1), (-2, 0), (3, -1), (0, 0), (1, 2)])
def test_sharp_warp_matches_a_per_pixel_reference(rng, du: int, dv: int) -> None:
    ref = rng.integers(0, 256, (9, 11, 3)).astype(np.uint8)
    d = rng.integers(-20, 20, (9, 11)).astype(np.int64)
    assert np.array_equal(warp_view(ref, d, du, dv, sharp=True), _reference_sharp_warp(ref, d, du, dv))


def test_sharp_warp_keeps_more_of_a_fine_texture_at_half_sample_shifts(rng) -> None:
    """A horizontal half-sample shift of a fine texture: the 4-tap filter keeps more of it than bilinear weights,
    which average the two neighbours."""
    x = np.arange(64)
    row = (128 + 60 * np.sin(2 * np.pi * x / 5.0)).astype(np.uint8)
    ref = np.repeat(np.repeat(row[None, :, None], 8, axis=0), 3, axis=2)
    d = np.full((8, 64), 4, np.int64)  # half a sample per view step
    truth = 128 + 60 * np.sin(2 * np.pi * (x + 0.5) / 5.0)
    err = {s: np.abs((warp_view(ref, d, 0, 1, sharp=s)[4, 4:-4, 0] / 64.0) - truth[4:-4]).mean() for s in (False, True)}
    assert err[True] < 0.5 * err[False]


def test_integer_disparity_shifts_exactly(rng) -> None:
    ref = rng.integers(0, 256, (10, 12, 3)).astype(np.uint8)
    w = warp_view(ref, np.full((10, 12), 16, np.int64), 0, 1)  # 2 px per view step, one view to the right
    assert np.array_equal(w[:, :-2] >> 6, ref[:, 2:].astype(np.int64))


def test_disparity_upsampling_is_exact_on_a_constant_and_bounded() -> None:
    assert np.array_equal(upsample_disparity(np.full((3, 4), -7), 16, 40, 60), np.full((40, 60), -7))
    up = upsample_disparity(np.array([[0, 64], [32, 96]]), 16, 32, 32)
    assert up.min() >= 0 and up.max() <= 96 and up[0, 0] == 0 and up[-1, -1] == 96


def test_blend_weights_sum_to_64_and_favour_near_views() -> None:
    w = blend_weights((2, 2), ((2, 3), (0, 0), (4, 4)))
    assert w.sum() == 64 and w[0] > max(w[1], w[2]) and abs(w[1] - w[2]) <= 1


@pytest.mark.parametrize("grid", [(1, 1), (1, 5), (2, 3), (9, 9), (17, 17), (4, 7)])
def test_coding_plan_visits_every_view_once_after_its_references(grid: tuple[int, int]) -> None:
    plans = coding_plan(*grid)
    seen = [p.view for p in plans]
    assert sorted(seen) == [(r, c) for r in range(grid[0]) for c in range(grid[1])]
    done = set()
    for p in plans:
        assert set(p.refs) <= done and len(p.refs) <= MAX_REFS
        assert (len(p.refs) > 0) == bool(done)
        done.add(p.view)
    if grid == (9, 9):
        assert plans[0].view == (4, 4) and {p.view for p in plans[1:5]} == {(0, 0), (0, 8), (8, 0), (8, 8)}


def test_residual_levels_round_trip_with_escapes(rng) -> None:
    tables = res.ResidualTables.from_weights(*res.default_weights())
    levels = np.zeros((3, 4, 5, 8, 8), dtype=np.int64)
    levels[0, 1, 2] = rng.integers(-3, 4, (8, 8))
    levels[1, 3, 4, 0, 0] = 5000  # beyond every table: escape
    levels[2, 0, 0, 7, 7] = -1
    grad = rng.integers(0, res.NUM_GRAD, (4, 5))
    enc = get_coder("constriction").encoder()
    res.encode_levels(enc, levels, grad, 1, tables)
    dec = get_coder("constriction").decoder(enc.finish())
    assert np.array_equal(res.decode_levels(dec, (4, 5), grad, 1, tables), levels)


def test_reconstruct_is_the_prediction_plus_the_quantised_residual(rng) -> None:
    x = rng.integers(0, 256, (20, 28, 3)).astype(np.uint8)
    pred = np.clip(x.astype(int) + rng.integers(-9, 10, x.shape), 0, 255).astype(np.uint8)
    fine = (step_code(0.25), step_code(0.25))
    rec = res.reconstruct(res.quantize(x, pred, fine, rounding=0.5), pred, fine)
    assert np.abs(rec.astype(int) - x).max() <= 1
    zero = np.zeros((3, 3, 4, 8, 8), dtype=np.int64)
    assert np.array_equal(res.reconstruct(zero, pred, fine), pred)


def test_costly_blocks_are_dropped_and_cheap_gains_kept(rng) -> None:
    tables = res.ResidualTables.from_weights(*res.default_weights())
    x = np.full((16, 16, 3), 100, dtype=np.uint8)
    x[:8, :8] += 60  # one block with a large error, the rest exact
    x[8:, 8:, 0] += 1  # a tiny error elsewhere
    pred = np.full_like(x, 100)
    steps = (step_code(4.0), step_code(8.0))
    coeffs = res.transform(x, pred)
    levels = res.quantize_coeffs(coeffs, steps)
    kept = res.drop_costly_blocks(coeffs, levels, steps, res.gradient_context(pred, steps[0]), 1, tables, lam=20.0)
    assert kept[0, 0, 0].any() and not kept[:, 1, 1].any()


def test_disparity_map_round_trip_and_bounds(rng) -> None:
    q = rng.integers(-40, 40, (6, 7))
    enc = get_coder("constriction").encoder()
    scale = encode_disparity(enc, q)
    dec = get_coder("constriction").decoder(enc.finish())
    assert np.array_equal(decode_disparity(dec, (6, 7), scale), q)
    with pytest.raises(CorruptStreamError):
        decode_disparity(get_coder("constriction").decoder(b"\x00" * 8), (2, 2), 200)


def test_disparity_estimate_finds_a_known_shift(rng) -> None:
    base = rng.integers(0, 256, (64, 90, 3)).astype(np.uint8)
    views = np.stack([np.stack([np.roll(base, (r - 2, c - 2), axis=(0, 1)) for c in range(5)])
                      for r in range(5)])  # disparity +1: (y, x) in view (2, 2) is (y + 1, x + 1) one step down-right
    d = estimate_block_disparity(views, (2, 2), 16)
    assert np.all(d[1:-1, 1:-1] == 8)


def test_garbage_payload_gives_bounded_levels_or_the_documented_error(rng) -> None:
    """Noise decodes (it must not hang) to levels of the requested shape within the coder's range, or raises one of
    the documented errors; never anything else."""
    tables = res.ResidualTables.from_weights(*res.default_weights())
    grad = np.zeros((8, 8), dtype=np.int64)
    for _ in range(20):
        try:
            dec = get_coder("constriction").decoder(bytes([64]) + rng.bytes(256))  # 64 words of noise
            levels = res.decode_levels(dec, (8, 8), grad, 1, tables)
        except (BitstreamError, CorruptStreamError) as e:
            assert str(e)  # a message for the one-line error
            continue
        assert levels.shape == (3, 8, 8, 8, 8) and levels.dtype == np.int64
        assert np.abs(levels).max() <= res.MAX_LEVEL
        assert res.block_classes(levels).max() < res.NUM_CLASSES


def test_blend_network_exact_path_is_thread_independent_and_sums_to_64(rng) -> None:
    torch.manual_seed(0)
    net = BlendNet()
    for p in net.parameters():
        p.data.normal_(0, 0.3)
    net.check_exact_bounds()
    warps = rng.integers(0, 256 * 64, (3, 23, 30, 3)).astype(np.int64)
    d = rng.integers(-16, 16, (23, 30)).astype(np.int64)
    feats = block_features(warps, blend_weights((1, 1), ((0, 0), (1, 2), (2, 1))), d, [(-1, -1), (0, 1), (1, 0)])
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        a = net.exact(feats, np.ones(3, bool))
        torch.set_num_threads(2)
        b = net.exact(feats, np.ones(3, bool))
    finally:
        torch.set_num_threads(threads)
    assert np.array_equal(a, b) and a.shape == (3, -(-23 // BLOCK), -(-30 // BLOCK)) and np.all(a.sum(axis=0) == 64)


def test_weights_from_logits_follow_the_largest_logit() -> None:
    lg = np.array([[[0]], [[160]], [[-5000]]])
    w = weights_from_logits(lg)
    assert w.sum() == 64 and w[1, 0, 0] > 60 and w[2, 0, 0] == 0


def test_predict_view_with_the_network_stays_in_range(rng) -> None:
    net = BlendNet()
    refs = [rng.integers(0, 256, (20, 24, 3)).astype(np.uint8) for _ in range(2)]
    d = np.zeros((20, 24), dtype=np.int64)
    out = predict_view(refs, ((0, 0), (0, 2)), (0, 1), d, net)
    assert out.dtype == np.uint8 and out.shape == (20, 24, 3)
    plain = predict_view(refs, ((0, 0), (0, 2)), (0, 1), d)
    assert np.abs(out.astype(int) - plain).max() <= 1  # an untrained network blends evenly, as the distances do
