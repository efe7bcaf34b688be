"""Generalised divisive normalisation, simplified (Johnston et al., "Computationally efficient neural image
compression", 2019): ``y_c = x_c / (beta_c + sum_k gamma_ck |x_k|)`` and its inverse form for synthesis.

``beta`` and ``gamma`` are kept non-negative by a squared reparametrisation with a floor, so the division never
reaches zero. Both layers are 1x1 operations over channels: they run in any float precision.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GDN"]

_PEDESTAL = 2.0**-18
_BETA_MIN = 1e-6


class GDN(nn.Module):
    """Simplified GDN over ``(B, C, H, W)`` tensors; ``inverse=True`` multiplies instead of dividing (IGDN)."""

    def __init__(self, channels: int, inverse: bool = False, gamma_init: float = 0.1) -> None:
        super().__init__()
        self.inverse = bool(inverse)
        self.beta = nn.Parameter(torch.sqrt(torch.ones(channels) + _PEDESTAL))
        self.gamma = nn.Parameter(torch.sqrt(gamma_init * torch.eye(channels) + _PEDESTAL))

    def _params(self) -> tuple[torch.Tensor, torch.Tensor]:
        beta = torch.clamp(self.beta, min=(_BETA_MIN + _PEDESTAL) ** 0.5) ** 2 - _PEDESTAL
        gamma = torch.clamp(self.gamma, min=_PEDESTAL**0.5) ** 2 - _PEDESTAL
        return beta, gamma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        beta, gamma = self._params()
        c = gamma.shape[0]
        norm = F.conv2d(torch.abs(x), gamma.to(x.dtype).view(c, c, 1, 1), beta.to(x.dtype))
        if not torch.is_grad_enabled():  # inference: reuse the buffer (the same values, less memory traffic)
            return norm.mul_(x) if self.inverse else torch.div(x, norm, out=norm)
        return x * norm if self.inverse else x / norm
