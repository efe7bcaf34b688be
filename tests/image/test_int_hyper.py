"""The integer hyper-synthesis: exact integers, independent of threads, matching its training path."""

from __future__ import annotations

import numpy as np
import torch

from omnicodec.entropy.scale_table import NUM_SCALES, SCALES, scale_index
from omnicodec.image.int_hyper import ACT_EXP, ACT_MAX, MEAN_EXP, W_EXP, W_MAX, IntHyperSynthesis


def _patches(x: np.ndarray, k: int) -> np.ndarray:
    """(C, H, W) -> (H-k+1, W-k+1, C, k, k) sliding windows."""
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))  # (C, H', W', k, k)
    return win.transpose(1, 2, 0, 3, 4)


def _conv_int(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int) -> np.ndarray:
    """int64 convolution (cross-correlation) of (C, H, W) with (O, C, k, k) weights."""
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    return np.einsum("hwckl,ockl->ohw", _patches(xp, w.shape[-1]), w, dtype=np.int64) + b[:, None, None]


def _deconv_int(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int64 transposed convolution, stride 2, padding 2, output padding 1, 5x5 (as torch defines it)."""
    c, h, wd = x.shape
    out = np.zeros((w.shape[1], 2 * h + 4, 2 * wd + 4), dtype=np.int64)  # full output before cropping
    for i in range(5):
        for j in range(5):
            out[:, i : i + 2 * h : 2, j : j + 2 * wd : 2] += np.einsum("chw,co->ohw", x, w[:, :, i, j], dtype=np.int64)
    return out[:, 2 : 2 + 2 * h, 2 : 2 + 2 * wd] + b[:, None, None]


def _reference(net: IntHyperSynthesis, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    def ints(layer, exp_in):
        w = np.clip(np.round(layer.weight.detach().double().numpy() * 2**W_EXP), -W_MAX, W_MAX).astype(np.int64)
        return w, np.round(layer.bias.detach().double().numpy() * 2 ** (W_EXP + exp_in)).astype(np.int64)

    def shift(acc, bits):  # floor(acc / 2**bits + 1/2) in integers
        return (acc + (1 << (bits - 1))) >> bits

    a = _deconv_int(z, *ints(net.l1, 0))
    a = np.clip(shift(a, W_EXP - ACT_EXP), 0, ACT_MAX)
    a = np.clip(shift(_deconv_int(a, *ints(net.l2, ACT_EXP)), W_EXP), 0, ACT_MAX)
    out = _conv_int(a, *ints(net.l3, ACT_EXP), pad=1)
    m = net.latent_channels
    means = shift(out[:m], W_EXP + ACT_EXP - MEAN_EXP)
    index = np.clip(shift(out[m:], W_EXP + ACT_EXP), 0, NUM_SCALES - 1)
    return means, index


def _net(seed: int = 0) -> IntHyperSynthesis:
    torch.manual_seed(seed)
    net = IntHyperSynthesis(z_channels=6, latent_channels=5, hidden=8)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return net


def test_exact_path_equals_integer_reference() -> None:
    net = _net()
    z = np.random.default_rng(0).integers(-12, 13, size=(6, 3, 4)).astype(np.int64)
    means, index = net.exact(torch.from_numpy(z)[None])
    ref_means, ref_index = _reference(net, z)
    assert np.array_equal(means[0].numpy() * 2**MEAN_EXP, ref_means)
    assert np.array_equal(index[0].numpy(), ref_index)
    assert index.min() >= 0 and index.max() <= NUM_SCALES - 1


def test_exact_path_is_independent_of_threads() -> None:
    net = IntHyperSynthesis(z_channels=32, latent_channels=96, hidden=64)
    z = torch.from_numpy(np.random.default_rng(1).integers(-20, 21, size=(1, 32, 9, 13)).astype(np.float32))
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = net.exact(z)
        torch.set_num_threads(2)
        two = net.exact(z)
    finally:
        torch.set_num_threads(old)
    assert torch.equal(one[0], two[0]) and torch.equal(one[1], two[1])


def test_training_path_matches_exact_path() -> None:
    net = _net(3)
    z = torch.from_numpy(np.random.default_rng(2).integers(-12, 13, size=(1, 6, 5, 5)).astype(np.float32))
    means, index = net(z)
    ex_means, ex_index = net.exact(z)
    assert torch.allclose(means, ex_means, atol=2.0**-MEAN_EXP + 1e-6)
    assert (torch.round(index).long() - ex_index).abs().max() <= 1


def test_table_scales_map_back_to_their_index() -> None:
    assert np.array_equal(scale_index(SCALES), np.arange(NUM_SCALES))
