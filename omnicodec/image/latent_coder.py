"""Coding one tile of latents with the hyperprior: ``z`` with the factorized prior, then ``y`` with the Gaussian
conditional whose means and scale indices come from the exact integer hyper-synthesis.

Every value that reaches a probability is exact: ``z`` is integer, the hyper-synthesis is integer arithmetic
(:mod:`.int_hyper`), the scale of index ``i`` is the table's representative ``2**(i / 8 - 3)`` (which maps back to
``i``), and the means are multiples of ``2**-6``. The hyper-analysis runs at the encoder only.
"""

from __future__ import annotations

import torch

from ..entropy import Decoder, Encoder
from ..entropy.scale_table import SCALES
from .model import GainHyperprior

__all__ = ["encode_tile", "decode_tile", "HYPER_FACTOR"]

HYPER_FACTOR = 4
"""Latent rows and columns per hyper-latent row and column (a tile's latent sides are multiples of it)."""

_SCALES = torch.from_numpy(SCALES)


def _entropy_params(net: GainHyperprior, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    means, index = net.h_s.exact(z_hat)
    return _SCALES[index.cpu()], means.cpu()


@torch.no_grad()
def encode_tile(net: GainHyperprior, enc: Encoder, y: torch.Tensor) -> torch.Tensor:
    """Codes the scaled latent ``y (1, M, h, w)`` (h, w multiples of 4) into ``enc``; returns the decoded ``y_hat``."""
    z = net.h_a(y)
    z_hat = net.entropy_z.encode(enc, z.cpu())
    scales, means = _entropy_params(net, z_hat)
    return net.gaussian.encode(enc, y.cpu().float(), scales, means)


@torch.no_grad()
def decode_tile(net: GainHyperprior, dec: Decoder, shape: tuple[int, int, int, int]) -> torch.Tensor:
    """Decodes the latent of shape ``(1, M, h, w)`` written by :func:`encode_tile`."""
    b, _, h, w = shape
    z_hat = net.entropy_z.decode(dec, (b, net.config.z_channels, h // HYPER_FACTOR, w // HYPER_FACTOR))
    scales, means = _entropy_params(net, z_hat)
    return net.gaussian.decode(dec, scales, means).float()
