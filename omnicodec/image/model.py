"""The learned 2D image model: a mean-scale hyperprior with per-rate gain vectors (one model, several rate points).

Transforms (Ballé et al. 2018; Minnen et al. 2018; gains after Cui et al. 2021):

* ``g_a``: four 5x5 stride-2 convolutions with GDN, RGB ``(B, 3, H, W)`` in ``[0, 1]`` -> latent ``y (B, M, H/16,
  W/16)``; the latent is multiplied by the rate point's gain vector (and, for panoramas, a per-row gain);
* ``h_a``: 3x3 then two 5x5 stride-2 convolutions with ReLU, ``y`` -> hyper-latent ``z (B, Cz, H/64, W/64)``, coded
  with a factorized prior;
* ``h_s``: the integer network of :mod:`.int_hyper`, ``z`` -> mean and scale index of every element of ``y``,
  computed exactly for coding;
* ``g_s``: four 5x5 stride-2 transposed convolutions with inverse GDN, ``y_hat`` divided by the gains -> image.

``forward(x, level)`` is the training path (uniform noise for the rates, rounded latents for the decoder);
:mod:`.latent_coder` does the coding.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..entropy.factorized import FactorizedPrior
from ..entropy.gaussian import GaussianConditional
from ..entropy.scale_table import SCALE_MIN_LOG2, STEPS_PER_OCTAVE
from ..entropy.ste import round_ste
from .gdn import GDN
from .int_hyper import IntHyperSynthesis

__all__ = ["ImageModelConfig", "GainHyperprior", "DOWNSCALE", "LAMBDAS"]

DOWNSCALE = 64
"""The image side must be a multiple of this (4 stride-2 layers in ``g_a``, 2 more in ``h_a``)."""

LAMBDAS = (0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.1800)
"""Rate-distortion trade-off of each gain level (loss = bits per pixel + lambda * 255**2 * MSE)."""


@dataclass(frozen=True)
class ImageModelConfig:
    """Sizes of :class:`GainHyperprior`."""

    channels: int = 64  # N: width of g_a / g_s
    latent: int = 96  # M: latent channels
    hyper: int = 64  # width of h_a / h_s
    z_channels: int = 32  # hyper-latent channels
    levels: int = len(LAMBDAS)  # gain vectors (rate levels)


def _conv(cin: int, cout: int, k: int = 5, stride: int = 2) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


def _deconv(cin: int, cout: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin, cout, 5, stride=2, padding=2, output_padding=1)


class GainHyperprior(nn.Module):
    """The image model. See the module docstring for shapes."""

    def __init__(self, config: ImageModelConfig | None = None) -> None:
        super().__init__()
        c = config or ImageModelConfig()
        self.config = c
        n, m = c.channels, c.latent
        self.g_a = nn.Sequential(
            _conv(3, n), GDN(n), _conv(n, n), GDN(n), _conv(n, n), GDN(n), _conv(n, m)
        )
        self.g_s = nn.Sequential(
            _deconv(m, n), GDN(n, inverse=True), _deconv(n, n), GDN(n, inverse=True),
            _deconv(n, n), GDN(n, inverse=True), _deconv(n, 3),
        )
        self.h_a = nn.Sequential(
            _conv(m, c.hyper, 3, 1), nn.ReLU(), _conv(c.hyper, c.hyper), nn.ReLU(), _conv(c.hyper, c.z_channels)
        )
        self.h_s = IntHyperSynthesis(c.z_channels, m, c.hyper)
        self.entropy_z = FactorizedPrior(c.z_channels)
        self.gaussian = GaussianConditional()
        # log2 gains per level: start one octave apart per two levels around the middle level
        base = torch.arange(c.levels, dtype=torch.float32)[:, None] * 0.5 - 0.5 * (c.levels - 1) / 2
        self.log_gain = nn.Parameter(base.repeat(1, m))
        self.log_inv_gain = nn.Parameter(-base.repeat(1, m))

    def config_dict(self) -> dict:
        return asdict(self.config)

    def gains(self, level: torch.Tensor | int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(gain, inverse gain)`` of the levels, each ``(B, M, 1, 1)`` (``(1, M, 1, 1)`` for an int level)."""
        lv = torch.as_tensor(level, device=self.log_gain.device).long().reshape(-1)
        return (torch.exp2(self.log_gain[lv])[:, :, None, None], torch.exp2(self.log_inv_gain[lv])[:, :, None, None])

    def analysis(self, x: torch.Tensor, level, row_gain: torch.Tensor | None = None) -> torch.Tensor:
        """``x (B, 3, H, W)`` in [0, 1] -> scaled latent ``(B, M, H/16, W/16)``.

        ``row_gain``: optional ``(B or 1, 1, H/16, 1)`` gain per latent row (panoramas)."""
        y = self.g_a(x) * self.gains(level)[0]
        return y * row_gain if row_gain is not None else y

    def synthesis(self, y_hat: torch.Tensor, level, row_gain: torch.Tensor | None = None) -> torch.Tensor:
        """Scaled decoded latent -> image ``(B, 3, 16h, 16w)`` (not clamped)."""
        if row_gain is not None:
            y_hat = y_hat / row_gain
        return self.g_s(y_hat * self.gains(level)[1])

    @staticmethod
    def scales_from_index(index: torch.Tensor) -> torch.Tensor:
        """Scale of a (continuous or integer) table index: ``2**(index / 8 - 3)``."""
        return torch.exp2(index / STEPS_PER_OCTAVE + SCALE_MIN_LOG2)

    def forward(
        self, x: torch.Tensor, level: torch.Tensor | int, row_gain: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """Training path.

        Args:
            x: ``(B, 3, H, W)`` in [0, 1], H and W multiples of :data:`DOWNSCALE`.
            level: ``(B,)`` gain level of each image (or one int).
            row_gain: optional per-latent-row gain (panoramas).

        Returns:
            ``x_hat (B, 3, H, W)``, ``y_likelihoods``, ``z_likelihoods``.
        """
        y = self.analysis(x, level, row_gain)
        z = self.h_a(y)
        _, z_lik = self.entropy_z(z)
        z_hat = round_ste(z)
        means, index = self.h_s(z_hat)
        scales = self.scales_from_index(round_ste(index))
        _, y_lik = self.gaussian(y, scales, means)  # noisy latents for the rate
        y_hat = round_ste(y - means) + means  # rounded latents for the decoder
        x_hat = self.synthesis(y_hat, level, row_gain)
        return {"x_hat": x_hat, "y_likelihoods": y_lik, "z_likelihoods": z_lik}


def pad_to_multiple(x: torch.Tensor, multiple: int = DOWNSCALE, mode: str = "replicate") -> torch.Tensor:
    """Pads ``(B, C, H, W)`` at the bottom and right to multiples of ``multiple``."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    return F.pad(x, (0, pw, 0, ph), mode=mode)
