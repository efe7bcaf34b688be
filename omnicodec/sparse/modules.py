"""Sparse layers as ``nn.Module``: the functions of :mod:`omnicodec.sparse.functional` with their parameters."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import InputError
from . import functional as F
from .tensor import SparseTensor

__all__ = [
    "SparseConv3d",
    "SparseGenerativeTransposeConv3d",
    "SparsePruning",
    "SparseReLU",
    "SparseActivation",
    "SparseResBlock",
]


def _init_uniform(weight: torch.Tensor, bias: torch.Tensor | None, fan_in: int) -> None:
    bound = 1.0 / math.sqrt(max(fan_in, 1))
    with torch.no_grad():
        weight.uniform_(-bound, bound)
        if bias is not None:
            bias.uniform_(-bound, bound)


class SparseConv3d(nn.Module):
    """Sparse 3-D convolution: submanifold with ``stride=1``, downsampling with ``stride>1`` (see
    :func:`~omnicodec.sparse.functional.conv3d`).

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: k (odd when ``stride == 1``).
        stride: 1 or a power of two.
        dilation: tap spacing in units of the input tensor stride.
        bias: whether to add a learned (C_out,) bias.

    Shape:
        weight: (k**3, C_in, C_out). Input (N, C_in) features; output (N_out, C_out).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if stride == 1 and kernel_size % 2 == 0:
            raise InputError(f"a submanifold convolution needs an odd kernel size, got {kernel_size}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        self.weight = nn.Parameter(torch.empty(kernel_size**3, in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        _init_uniform(self.weight, self.bias, in_channels * kernel_size**3)

    def forward(self, x: SparseTensor) -> SparseTensor:
        return F.conv3d(x, self.weight, self.bias, self.stride, self.dilation)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"dilation={self.dilation}, bias={self.bias is not None}"
        )


class SparseGenerativeTransposeConv3d(nn.Module):
    """Kernel-2 stride-2 generative transposed convolution: each voxel makes its 8 children (see
    :func:`~omnicodec.sparse.functional.generative_transpose_conv3d`).

    Shape:
        weight: (8, C_in, C_out), slice c for child c. Input (N, C_in); output (8N, C_out), child c of row r at
        row ``8r + c``.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.weight = nn.Parameter(torch.empty(8, in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        _init_uniform(self.weight, self.bias, in_channels)

    def forward(self, x: SparseTensor) -> SparseTensor:
        return F.generative_transpose_conv3d(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, bias={self.bias is not None}"


class SparsePruning(nn.Module):
    """Keep voxels by a (N,) bool mask, or those present in a target tensor / coordinate array."""

    def forward(self, x: SparseTensor, keep: torch.Tensor | SparseTensor) -> SparseTensor:
        if isinstance(keep, SparseTensor) or keep.dtype != torch.bool:
            return F.prune_to(x, keep)
        return F.prune(x, keep)


class SparseActivation(nn.Module):
    """Any row-wise ``nn.Module`` (ReLU, ELU, GELU, ...) applied to the features."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: SparseTensor) -> SparseTensor:
        return x.replace_features(self.module(x.features))


class SparseReLU(nn.Module):
    """ReLU on the features."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: SparseTensor) -> SparseTensor:
        return F.relu(x, self.inplace)


class SparseResBlock(nn.Module):
    """Residual block: ``x + conv(relu(conv(x)))`` with two submanifold convolutions, channels unchanged.

    Both convolutions share the input's kernel map (built once per coordinate set).
    """

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.conv1 = SparseConv3d(channels, channels, kernel_size)
        self.conv2 = SparseConv3d(channels, channels, kernel_size)

    def forward(self, x: SparseTensor) -> SparseTensor:
        y = self.conv2(F.relu(self.conv1(x), inplace=True))
        return y.replace_features(y.features + x.features)
