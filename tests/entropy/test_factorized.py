"""Factorized prior: training outputs, lossless coding with tails, and tables that follow the parameters."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from omnicodec.entropy import FactorizedPrior
from omnicodec.errors import InputError


@pytest.fixture
def prior() -> FactorizedPrior:
    torch.manual_seed(0)
    model = FactorizedPrior(6, init_scale=4.0)
    with torch.no_grad():  # channels of different spread and offset
        for i, matrix in enumerate(model.matrices):
            matrix.add_(torch.linspace(-1.0, 1.5, 6).view(6, 1, 1) * (i == 0))
        model.biases[-1].add_(torch.arange(6.0).view(6, 1, 1))
    return model.eval()


def test_forward_shapes_noise_and_rounding(prior):
    y = torch.randn(2, 6, 5, 7) * 3
    prior.train()
    y_noisy, lik = prior(y)
    assert y_noisy.shape == lik.shape == y.shape
    assert (torch.abs(y_noisy - y) <= 0.5).all() and not torch.equal(y_noisy, torch.round(y))
    assert (lik > 0).all() and (lik <= 1).all()
    lik.log().sum().backward()
    assert all(p.grad is not None for p in prior.parameters())
    prior.eval()
    y_hat, _ = prior(y)
    assert torch.equal(y_hat, torch.round(y))
    with pytest.raises(InputError):
        prior(torch.zeros(2, 5, 3))


def test_likelihoods_sum_to_one(prior):
    grid = torch.arange(-400.0, 401.0).view(1, 1, -1).expand(1, 6, -1)
    _, lik = prior(grid)
    np.testing.assert_allclose(lik.sum(-1).detach().numpy(), 1.0, atol=1e-5)


def test_tables_match_the_density(prior):
    tables = prior.tables
    assert tables.num_tables == 6
    y = torch.arange(-30.0, 31.0).view(1, 1, -1).expand(1, 6, -1)
    _, lik = prior(y)
    for c in range(6):
        values = np.arange(-30, 31)
        inside = (values >= tables.lo[c]) & (values < tables.lo[c] + tables.width[c])
        model_bits = tables.log2_prob(values[inside], np.full(inside.sum(), c))
        true_bits = -np.log2(lik[0, c].detach().numpy()[inside])
        big = true_bits < 8  # where 16-bit tables resolve the probability to ~1 %
        np.testing.assert_allclose(model_bits[big], true_bits[big], atol=0.02)


def test_roundtrip_with_tails(prior, coder):
    y = torch.randn(3, 6, 4, 4) * 4 + torch.arange(6.0).view(1, 6, 1, 1)
    y[0, 0, 0, 0] = 1e6
    y[1, 2, 3, 1] = -123456.7
    y[2, 5] = 40.0
    data = prior.compress(y, coder=coder.name)
    y_hat = prior.decompress(data, y.shape, coder=coder.name)
    assert torch.equal(y_hat, torch.round(y))
    enc = coder.encoder()  # two models in one stream
    prior.encode(enc, y)
    prior.encode(enc, y[:1, :, :2])
    dec = coder.decoder(enc.finish())
    assert torch.equal(prior.decode(dec, y.shape), torch.round(y))
    assert torch.equal(prior.decode(dec, (1, 6, 2, 4)), torch.round(y[:1, :, :2]))
    dec.finish()


def test_rate_close_to_likelihoods(prior):
    y = torch.randn(4, 6, 32, 32) * 3 + torch.arange(6.0).view(1, 6, 1, 1)
    _, lik = prior(y)
    data = prior.compress(y)
    estimate = float(-torch.log2(lik.detach()).sum())
    assert abs(len(data) * 8 / estimate - 1) < 0.01


def test_tables_rebuilt_when_parameters_change(prior):
    before = prior.tables.checksum()
    with torch.no_grad():
        prior.biases[-1][0] += 3.0
    after = prior.tables.checksum()
    assert after != before
    assert prior.table_lo[0] == prior.tables.lo[0]  # buffers follow
    assert not prior.update_tables()  # nothing changed since


def test_state_dict_roundtrip_keeps_tables(prior):
    with torch.no_grad():
        prior.biases[-1][1] -= 2.0  # stale tables: state_dict() must refresh them
    state = prior.state_dict()
    assert {"table_freqs", "table_starts", "table_lo", "table_fingerprint"} <= set(state)
    fresh = FactorizedPrior(6, init_scale=4.0)
    fresh.load_state_dict(state)
    assert fresh.tables.checksum() == prior.tables.checksum()
    assert not fresh.update_tables()  # loaded tables belong to the loaded parameters: kept, not recomputed
    # the decoder uses the loaded tables as they are (proof: doctored tables with a matching fingerprint survive)
    doctored = dict(state)
    doctored["table_freqs"] = state["table_freqs"].clone()
    doctored["table_freqs"][[0, 1]] = doctored["table_freqs"][[1, 0]]
    fresh.load_state_dict(doctored)
    assert torch.equal(fresh.table_freqs, doctored["table_freqs"])


def test_checkpoint_without_tables_rebuilds(prior):
    state = {k: v for k, v in prior.state_dict().items() if not k.startswith("table_")}
    fresh = FactorizedPrior(6, init_scale=4.0)
    fresh.load_state_dict(state)
    assert fresh.tables.checksum() == prior.tables.checksum()


def test_tables_independent_of_thread_count(prior):
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = prior.build_tables().checksum()
        torch.set_num_threads(2)
        two = prior.build_tables().checksum()
    finally:
        torch.set_num_threads(threads)
    assert one == two == prior.tables.checksum()


def test_encode_rejects_bad_latents(prior, coder):
    with pytest.raises(InputError):
        prior.encode(coder.encoder(), torch.full((1, 6, 2), float("nan")))
    with pytest.raises(InputError):
        prior.encode(coder.encoder(), torch.zeros(1, 4, 2))
