"""Sparse operations as functions: convolutions, generative upsampling, pruning, activations.

Weights are (K, C_in, C_out) with the offsets of :func:`~omnicodec.sparse.kernel_map.kernel_offsets` (x slowest,
z fastest; for kernel 2 the octree child index). Every function runs on the backend of
:func:`~omnicodec.sparse.backend.get_backend` and on the device of its input.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..errors import InputError
from . import kernel_map as km
from .backend import get_backend
from .conv_function import apply_kernel_map
from .tensor import SparseTensor

__all__ = [
    "conv3d",
    "generative_transpose_conv3d",
    "prune",
    "prune_to",
    "contains",
    "relu",
    "map_features",
    "cat",
]


def _kernel_size_of(weight: torch.Tensor) -> int:
    if weight.ndim != 3:
        raise InputError(f"weight must be (K, C_in, C_out), got {tuple(weight.shape)}")
    k = round(weight.shape[0] ** (1 / 3))
    if k**3 != weight.shape[0]:
        raise InputError(f"weight has {weight.shape[0]} offsets, not a cube")
    return k


def _add_bias(out: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return out if bias is None else out + bias


def conv3d(
    x: SparseTensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    dilation: int = 1,
) -> SparseTensor:
    """Sparse 3-D convolution.

    With ``stride == 1`` it is a submanifold convolution: the output has the input's voxels (odd kernel sizes).
    With ``stride > 1`` it downsamples: outputs sit at the parents ``floor(c / (stride*s)) * stride*s`` of the input
    voxels (s: input tensor stride) and output p sums ``x[p + d] @ weight[d]`` over the kernel offsets d at step
    ``s * dilation`` (kernel 2, stride 2: over the 8 children of p).

    Args:
        x: input, (N, C_in) features.
        weight: (k**3, C_in, C_out); the kernel size k is read from its first dimension.
        bias: (C_out,) or None.
        stride: 1 or a power of two.
        dilation: tap spacing in units of the input tensor stride.

    Returns:
        (N_out, C_out) features on the output voxels (tensor stride ``s * stride``).
    """
    k = _kernel_size_of(weight)
    if get_backend() == "minkowski":
        from . import minkowski

        return minkowski.conv3d(x, weight, bias, stride, dilation)
    cs = x.coordinate_set
    if stride == 1:
        if k == 1:
            return x.replace_features(_add_bias(x.features.mm(weight[0]), bias))
        kmap = km.submanifold_map(cs, k, dilation)
        out_cs = cs
    else:
        kmap, out_cs = km.strided_map(cs, k, stride, dilation)
    return SparseTensor.from_set(out_cs, _add_bias(apply_kernel_map(x.features, weight, kmap), bias))


def generative_transpose_conv3d(
    x: SparseTensor, weight: torch.Tensor, bias: torch.Tensor | None = None
) -> SparseTensor:
    """Generative transposed convolution, kernel 2 stride 2: every voxel makes its 8 children.

    Output row ``8*r + c`` is child c of input row r, at ``p + s/2 * (ox, oy, oz)`` with ``c = 4*ox + 2*oy + oz``
    (p: parent coordinate, s: input tensor stride), and its features are ``x[r] @ weight[c]``.

    Args:
        x: input at tensor stride >= 2, (N, C_in) features.
        weight: (8, C_in, C_out).
        bias: (C_out,) or None.

    Returns:
        (8N, C_out) features at tensor stride ``s / 2``.
    """
    if weight.ndim != 3 or weight.shape[0] != 8:
        raise InputError(f"the transposed convolution needs an (8, C_in, C_out) weight, not {tuple(weight.shape)}")
    if get_backend() == "minkowski":
        from . import minkowski

        return minkowski.generative_transpose_conv3d(x, weight, bias)
    out_cs = km.children_set(x.coordinate_set, 2)
    c_in, c_out = weight.shape[1], weight.shape[2]
    # One matmul: (N, C_in) @ (C_in, 8*C_out), then row r's 8 blocks become rows 8r .. 8r+7.
    out = x.features.mm(weight.permute(1, 0, 2).reshape(c_in, 8 * c_out)).reshape(-1, c_out)
    return SparseTensor.from_set(out_cs, _add_bias(out, bias))


def prune(x: SparseTensor, keep: torch.Tensor) -> SparseTensor:
    """Keep the rows where ``keep`` is True, in their order.

    Args:
        x: input.
        keep: (N,) bool.

    Returns:
        (M, C) features on the kept voxels; gradients flow to the kept rows of ``x``.
    """
    if keep.dtype != torch.bool or keep.shape != (len(x),):
        raise InputError(f"keep must be a ({len(x)},) bool tensor, got {tuple(keep.shape)} {keep.dtype}")
    if get_backend() == "minkowski":
        from . import minkowski

        return minkowski.prune(x, keep)
    return SparseTensor.from_set(x.coordinate_set.subset(keep), x.features[keep])


def contains(x: SparseTensor, target: SparseTensor | torch.Tensor) -> torch.Tensor:
    """Which voxels of ``x`` are also voxels of ``target`` (e.g. which generated children truly exist).

    Args:
        x: the voxels tested.
        target: a sparse tensor, or (M, 3) / (M, 4) integer coordinates (batched like ``x``).

    Returns:
        (N,) bool.
    """
    if isinstance(target, SparseTensor):
        target_cs = target.coordinate_set
    else:
        from .tensor import CoordinateSet

        target_cs = CoordinateSet.from_coordinates(torch.as_tensor(target).to(x.device), x.tensor_stride)
    if target_cs.batched != x.batched:
        raise InputError("x and target must both be batched or both unbatched")
    return km.lookup_rows(target_cs, x.keys) >= 0


def prune_to(x: SparseTensor, target: SparseTensor | torch.Tensor) -> SparseTensor:
    """Keep the voxels of ``x`` that are in ``target`` (see :func:`contains`), in their order."""
    return prune(x, contains(x, target))


def map_features(x: SparseTensor, fn: Callable[[torch.Tensor], torch.Tensor]) -> SparseTensor:
    """Apply a row-wise function to the features; same voxels. ``fn``: (N, C) -> (N, C')."""
    return x.replace_features(fn(x.features))


def relu(x: SparseTensor, inplace: bool = False) -> SparseTensor:
    """ReLU of the features."""
    return x.replace_features(torch.relu_(x.features) if inplace else torch.relu(x.features))


def cat(*tensors: SparseTensor) -> SparseTensor:
    """Concatenate the features of tensors on the same voxels (same coordinate set, or equal keys in order)."""
    first = tensors[0]
    for t in tensors[1:]:
        if t.coordinate_set is not first.coordinate_set and not torch.equal(t.keys, first.keys):
            raise InputError("cat needs tensors on the same voxels in the same order")
    return first.replace_features(torch.cat([t.features for t in tensors], dim=1))
