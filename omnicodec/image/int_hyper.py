"""The hyper-synthesis transform as an integer network: the part of the image codec whose outputs become
probabilities, computed exactly so that a stream decodes on any machine.

Fixed point. Inputs are the decoded hyper-latents ``z`` (integers, clamped to ``+-Z_MAX``). Weights are integers
with scale ``2**-W_EXP`` (``|w| < 2**15``), hidden activations integers ``0 .. ACT_MAX`` with scale ``2**-ACT_EXP``,
biases integers at the accumulator's scale. Between layers the accumulator is shifted back to the activation scale
with round-half-up and clamped (a ReLU with a ceiling). Every accumulator is an integer below ``2**53`` in
magnitude (checked from the layer sizes), so evaluating the network in float64 is exact whatever the summation
order: 1 or 2 threads, any BLAS, CPU or CUDA give the same integers.

Outputs, per latent element: a mean in units of ``2**-MEAN_EXP`` (so ``mean = m / 64`` exactly) and a scale index
``0 .. 88`` into :data:`omnicodec.entropy.scale_table.SCALES` (the representative scale ``2**(i / 8 - 3)``).

Training runs the same arithmetic in float32 with rounding in the forward pass and straight-through gradients
(:meth:`IntHyperSynthesis.forward`); :meth:`IntHyperSynthesis.exact` is the decoder's path.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..entropy.scale_table import NUM_SCALES
from ..entropy.ste import round_ste

__all__ = ["IntHyperSynthesis", "W_EXP", "ACT_EXP", "MEAN_EXP", "Z_MAX"]

W_EXP = 8
ACT_EXP = 4
ACT_MAX = (1 << 12) - 1
W_MAX = (1 << 15) - 1
MEAN_EXP = 6
MEAN_MAX = 1 << 20
Z_MAX = 1 << 10
_EXACT_LIMIT = 2.0**53


class IntHyperSynthesis(nn.Module):
    """``z (B, Cz, h, w)`` -> ``(means, scale indices)``, each ``(B, M, 4h, 4w)``.

    Layers: transposed conv 5x5 stride 2 (Cz -> hidden), transposed conv 5x5 stride 2 (hidden -> wide), conv 3x3
    (wide -> 2M); ReLU with a ceiling between them.

    Args:
        z_channels: channels of the hyper-latent.
        latent_channels: channels ``M`` of the latent it predicts.
        hidden: width of the first layer (the second is 1.5x wider).
    """

    def __init__(self, z_channels: int, latent_channels: int, hidden: int = 64) -> None:
        super().__init__()
        wide = hidden * 3 // 2
        self.latent_channels = int(latent_channels)
        self.l1 = nn.ConvTranspose2d(z_channels, hidden, 5, stride=2, padding=2, output_padding=1)
        self.l2 = nn.ConvTranspose2d(hidden, wide, 5, stride=2, padding=2, output_padding=1)
        self.l3 = nn.Conv2d(wide, 2 * latent_channels, 3, padding=1)
        with torch.no_grad():  # start the scale indices near 1.0 (index 24)
            self.l3.bias[latent_channels:].fill_(24.0)
            self.l3.weight.mul_(0.1)
        # every accumulator must stay exact in float64
        worst = max(
            z_channels * 25 * Z_MAX,
            hidden * 25 * ACT_MAX,
            wide * 9 * ACT_MAX,
        ) * W_MAX + (1 << 40)
        if worst >= _EXACT_LIMIT:
            raise ValueError("hyper-synthesis too wide for exact float64 evaluation")

    # --- training (fake quantisation) ----------------------------------------------------------------------------

    @staticmethod
    def _qw(w: torch.Tensor) -> torch.Tensor:
        return torch.clamp(round_ste(w * (1 << W_EXP)), -W_MAX, W_MAX) / (1 << W_EXP)

    @staticmethod
    def _qact(x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(round_ste(x * (1 << ACT_EXP)), 0, ACT_MAX) / (1 << ACT_EXP)

    def _layer(self, layer: nn.Module, x: torch.Tensor, exp_in: int) -> torch.Tensor:
        w = self._qw(layer.weight)
        b = round_ste(layer.bias * (1 << (W_EXP + exp_in))) / (1 << (W_EXP + exp_in))
        if isinstance(layer, nn.ConvTranspose2d):
            return F.conv_transpose2d(x, w, b, stride=2, padding=2, output_padding=1)
        return F.conv2d(x, w, b, padding=1)

    def forward(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training path. ``z_hat``: rounded hyper-latents. Returns ``(means, scale_index)`` as floats: the means
        on their ``2**-MEAN_EXP`` grid, the indices continuous in ``[0, 88]`` (rounded when coding)."""
        x = torch.clamp(z_hat, -Z_MAX, Z_MAX)
        x = self._qact(self._layer(self.l1, x, 0))
        x = self._qact(self._layer(self.l2, x, ACT_EXP))
        out = self._layer(self.l3, x, ACT_EXP)
        m = self.latent_channels
        means = torch.clamp(round_ste(out[:, :m] * (1 << MEAN_EXP)), -MEAN_MAX, MEAN_MAX) / (1 << MEAN_EXP)
        index = torch.clamp(out[:, m:], 0.0, NUM_SCALES - 1.0)
        return means, index

    # --- exact path ------------------------------------------------------------------------------------------------

    def _int_params(self, layer: nn.Module, exp_in: int) -> tuple[torch.Tensor, torch.Tensor]:
        w = torch.clamp(torch.round(layer.weight.detach().double() * (1 << W_EXP)), -W_MAX, W_MAX)
        b = torch.round(layer.bias.detach().double() * (1 << (W_EXP + exp_in)))
        return w, b

    def _int_layer(self, layer: nn.Module, x: torch.Tensor, exp_in: int) -> torch.Tensor:
        w, b = self._int_params(layer, exp_in)
        w, b = w.to(x.device), b.to(x.device)
        if isinstance(layer, nn.ConvTranspose2d):
            return F.conv_transpose2d(x, w, b, stride=2, padding=2, output_padding=1)
        return F.conv2d(x, w, b, padding=1)

    @staticmethod
    def _shift(acc: torch.Tensor, bits: int) -> torch.Tensor:
        """``floor(acc * 2**-bits + 0.5)``: exact on float64 integers (a power-of-two scaling, then floor)."""
        return torch.floor(acc * (2.0**-bits) + 0.5)

    @torch.no_grad()
    def exact(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decoder path: the same network on integers in float64, bit-exact everywhere.

        Args:
            z_hat: ``(B, Cz, h, w)`` integer-valued tensor (any dtype, any device).

        Returns:
            ``(means, index)``: means ``(B, M, 4h, 4w)`` float32 (exact multiples of ``2**-MEAN_EXP``), scale indices
            int64 in ``[0, 88]``.
        """
        x = torch.clamp(z_hat.detach().double(), -Z_MAX, Z_MAX)
        x = torch.clamp(self._shift(self._int_layer(self.l1, x, 0), W_EXP - ACT_EXP), 0, ACT_MAX)
        x = torch.clamp(self._shift(self._int_layer(self.l2, x, ACT_EXP), W_EXP), 0, ACT_MAX)
        out = self._int_layer(self.l3, x, ACT_EXP)  # scale 2**-(W_EXP + ACT_EXP)
        m = self.latent_channels
        means = torch.clamp(self._shift(out[:, :m], W_EXP + ACT_EXP - MEAN_EXP), -MEAN_MAX, MEAN_MAX)
        index = torch.clamp(self._shift(out[:, m:], W_EXP + ACT_EXP), 0, NUM_SCALES - 1)
        return (means * (2.0**-MEAN_EXP)).float(), index.long()

