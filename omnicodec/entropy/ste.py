"""Straight-through rounding for training models whose coding path rounds (fake quantisation)."""

from __future__ import annotations

import torch

__all__ = ["round_ste"]


class _RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):  # type: ignore[override]
        return torch.floor(x + 0.5)

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        return g


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """``floor(x + 0.5)`` (round half up, as the integer coding paths do) with the gradient of the identity."""
    return _RoundSTE.apply(x)
