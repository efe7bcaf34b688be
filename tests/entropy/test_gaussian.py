"""Gaussian conditional: the exact scale rule, the shipped tables, lossless coding with tails, training outputs."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from omnicodec.entropy import GaussianConditional
from omnicodec.entropy.scale_table import (
    NUM_SCALES,
    SCALES,
    THRESHOLDS,
    build_scale_tables,
    load_scale_tables,
    scale_index,
)
from omnicodec.errors import BitstreamError, InputError

TABLES_SHA256 = "2a62cd4b52cd40df541209a8684134d8b59bc78d627c1cdb8e57a8b1ed7f924d"


@pytest.fixture(scope="module")
def model() -> GaussianConditional:
    return GaussianConditional().eval()


def latents(n: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    scales = torch.exp(torch.empty(n).uniform_(-3.0, 4.0, generator=g))
    means = torch.randn(n, generator=g) * 3
    return means + scales * torch.randn(n, generator=g), scales, means


def test_thresholds_are_the_geometric_midpoints():
    mid = 2.0 ** ((np.arange(NUM_SCALES - 1) + 0.5) / 8 - 3) * 65536
    assert (THRESHOLDS - mid > 0).all() and (THRESHOLDS - mid <= 1).all()
    assert SCALES[0] == 0.125 and SCALES[-1] == 256.0


def test_scale_index_exact_rule():
    fixed = np.concatenate([THRESHOLDS - 1, THRESHOLDS, THRESHOLDS + 1])
    s = fixed / 65536.0  # exact in float64
    np.testing.assert_array_equal(scale_index(s), np.searchsorted(THRESHOLDS, fixed, side="right"))
    np.testing.assert_array_equal(
        scale_index(np.array([0.0, -3.0, 0.125, 1.0, 256.0, 1e30, np.inf])), [0, 0, 0, 24, 88, 88, 88]
    )
    s32 = np.exp(np.random.default_rng(1).uniform(-4, 7, 100_000)).astype(np.float32)
    expect = np.searchsorted(THRESHOLDS, np.rint(s32.astype(np.float64) * 65536).astype(np.int64), side="right")
    np.testing.assert_array_equal(scale_index(s32), expect)
    with pytest.raises(InputError):
        scale_index(np.array([1.0, np.nan]))


def test_shipped_tables_match_a_rebuild_and_checksum():
    """The file is the reference; a rebuild that differs means this platform's erfc differs (streams still decode)."""
    shipped = load_scale_tables()
    assert shipped.checksum() == TABLES_SHA256
    assert build_scale_tables().checksum() == TABLES_SHA256
    assert shipped.num_tables == NUM_SCALES and (shipped.lo == -(shipped.width // 2)).all()


def test_roundtrip_with_tails(model, coder):
    y, scales, means = latents(20_000)
    y[:4] = torch.tensor([1e7, -1e7, 5000.3, -(2**30)])
    scales[4:8] = torch.tensor([1e-6, 0.0, 1e6, 300.0])
    data = model.compress(y, scales, means, coder=coder.name)
    y_hat = model.decompress(data, scales, means, coder=coder.name)
    assert torch.equal(y_hat, torch.round(y - means) + means)
    # several tensors in one stream, without means, 3-D
    y3 = (torch.randn(2, 3, 4) * 5).round()
    s3 = torch.full_like(y3, 2.0)
    enc = coder.encoder()
    model.encode(enc, y, scales, means)
    model.encode(enc, y3, s3)
    dec = coder.decoder(enc.finish())
    assert torch.equal(model.decode(dec, scales, means), y_hat)
    assert torch.equal(model.decode(dec, s3), y3)
    dec.finish()


def test_800k_rate_close_to_likelihoods(model):
    y, scales, means = latents(800_000, seed=3)
    _, lik = model(y, scales, means)
    data = model.compress(y, scales, means)
    assert abs(len(data) * 8 / float(-torch.log2(lik).sum()) - 1) < 0.01


def test_forward_training_and_eval():
    model = GaussianConditional()
    y, scales, means = latents(1000)
    scales.requires_grad_(True)
    y_noisy, lik = model(y, scales, means)
    assert (torch.abs(y_noisy - y) <= 0.5).all() and (lik > 0).all() and (lik <= 1).all()
    lik.log().sum().backward()
    assert torch.isfinite(scales.grad).all()
    model.eval()
    y_hat, lik = model(y, scales.detach(), means)
    assert torch.equal(y_hat, torch.round(y - means) + means)
    grid = torch.arange(-60.0, 61.0)
    _, lik = model(grid, torch.full_like(grid, 3.7))
    assert float(lik.sum()) == pytest.approx(1.0, abs=1e-5)


def test_state_dict_roundtrip(model):
    state = model.state_dict()
    assert {"table_freqs", "table_starts", "table_lo"} <= set(state)
    fresh = GaussianConditional()
    fresh.load_state_dict(state)
    assert fresh.tables.checksum() == TABLES_SHA256
    old = GaussianConditional()
    old.load_state_dict({})  # a checkpoint made before the tables were buffers
    assert old.tables.checksum() == TABLES_SHA256


def test_golden_stream(model):
    i = torch.arange(300)
    y = ((i * 37) % 41 - 20) * 0.75 + 0.125  # exact arithmetic only: the same floats everywhere
    scales = 0.125 + (i % 17) * 0.75
    data = model.compress(y, scales, torch.zeros_like(y) + 0.25)
    assert hashlib.sha256(data).hexdigest() == GOLDEN_STREAM


GOLDEN_STREAM = "02c38fd09034de75da7ec61bf7737d3ca3c09d99556a8685a1396a2b35658e40"


def test_rejects(model, coder):
    y, scales, means = latents(10)
    with pytest.raises(InputError):
        model.encode(coder.encoder(), y, scales[:5], means)
    with pytest.raises(InputError):
        model.encode(coder.encoder(), y * float("nan"), scales, means)
    with pytest.raises(InputError):
        model.encode(coder.encoder(), y, scales * float("nan"), means)


def test_damaged_stream_never_crashes(model, coder):
    """Model level: flipped bits give a BitstreamError or latents of the right shape, never a crash or hang."""
    y, scales, means = latents(3000, seed=5)
    data = model.compress(y, scales, means, coder=coder.name)
    rng = np.random.default_rng(0)
    for _ in range(20):
        damaged = bytearray(data)
        for pos in rng.integers(0, len(data), 2):
            damaged[pos] ^= 1 << int(rng.integers(8))
        try:
            y_hat = model.decompress(bytes(damaged), scales, means, coder=coder.name)
        except BitstreamError:
            continue
        assert y_hat.shape == y.shape
