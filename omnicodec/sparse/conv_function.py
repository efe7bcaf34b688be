"""The sparse convolution kernel over a :class:`KernelMap` neighbour table, with its backward.

Forward, per chunk of output rows: gather the K neighbour rows of every output into a (rows, K*C_in) block
(missing neighbours read a zero row) and multiply it by the (K*C_in, C_out) weight: one large matrix product, no
scatter, no atomics. A chunk is a few MiB so the gathered block stays in cache.

Backward: the weight gradient is the sum over chunks of ``block.T @ grad_out``; the input gradient is the same
gather-multiply on the transposed table (for a submanifold map: the same table with the kernel mirrored; for a map
where each input meets one output: one product and one gather). Written as a ``torch.autograd.Function`` so that
the gathered blocks are recomputed in backward rather than kept. Device-agnostic: ``index_select`` and ``mm`` only.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from .kernel_map import KernelMap

__all__ = ["apply_kernel_map", "CHUNK_BYTES"]

CHUNK_BYTES = 4 << 20
"""Target size of one gathered block on the CPU; CUDA uses blocks 32 times larger."""


def _chunk_rows(n_cols: int, element_size: int, device: torch.device) -> int:
    target = CHUNK_BYTES * (32 if device.type == "cuda" else 1)
    return max(64, target // max(1, n_cols * element_size))


def _padded(x: torch.Tensor) -> torch.Tensor:
    """x with one extra zero row (the row that missing neighbours point at)."""
    return torch.cat([x, x.new_zeros((1, x.shape[1]))])


def gather_matmul(source: torch.Tensor, table: torch.Tensor, weight2d: torch.Tensor) -> torch.Tensor:
    """``out[o] = concat_k(source[table[o, k]]) @ weight2d``, with ``table == len(source)`` reading zeros.

    Args:
        source: (N_src, C) float.
        table: (N_out, K) int32 or int64 rows of ``source`` (or ``N_src``).
        weight2d: (K*C, C_out).

    Returns:
        (N_out, C_out).
    """
    n_out, kvol = table.shape
    out = source.new_empty((n_out, weight2d.shape[1]))
    if n_out == 0:
        return out
    padded = _padded(source)
    width = kvol * source.shape[1]
    step = _chunk_rows(width, source.element_size(), source.device)
    for s in range(0, n_out, step):
        e = min(n_out, s + step)
        block = padded.index_select(0, table[s:e].reshape(-1)).view(e - s, width)
        torch.mm(block, weight2d, out=out[s:e])
    return out


def _weight_grad(source: torch.Tensor, table: torch.Tensor, grad_out: torch.Tensor) -> torch.Tensor:
    """``sum_o concat_k(source[table[o, k]]).T @ grad_out[o]``: (K*C, C_out)."""
    n_out, kvol = table.shape
    width = kvol * source.shape[1]
    grad = source.new_zeros((width, grad_out.shape[1]))
    padded = _padded(source)
    step = _chunk_rows(width, source.element_size(), source.device)
    for s in range(0, n_out, step):
        e = min(n_out, s + step)
        block = padded.index_select(0, table[s:e].reshape(-1)).view(e - s, width)
        grad.addmm_(block.t(), grad_out[s:e])
    return grad


def _input_grad(grad_out: torch.Tensor, weight: torch.Tensor, kmap: KernelMap) -> torch.Tensor:
    kvol, c_in, c_out = weight.shape
    if kmap.single_out is not None:
        # Each input i meets one output o through one offset k: grad_in[i] = grad_out[o] @ weight[k].T.
        z = grad_out.mm(weight.permute(2, 0, 1).reshape(c_out, kvol * c_in)).view(-1, c_in)
        return z.index_select(0, kmap.single_out * kvol + kmap.single_slot)
    if kmap.symmetric:
        # The transposed table of a submanifold map is its own table with the offsets mirrored.
        wt = weight.flip(0).transpose(1, 2).reshape(kvol * c_out, c_in)
        return gather_matmul(grad_out, kmap.table, wt)
    wt = weight.transpose(1, 2).reshape(kvol * c_out, c_in)
    return gather_matmul(grad_out, kmap.transposed_table(), wt)


class _KernelMapConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, features: torch.Tensor, weight: torch.Tensor, kmap: KernelMap) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(features, weight)
        ctx.kmap = kmap
        return gather_matmul(features, kmap.table, weight.reshape(-1, weight.shape[2]))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
        features, weight = ctx.saved_tensors
        kmap: KernelMap = ctx.kmap
        grad_out = grad_out.contiguous()
        grad_features = grad_weight = None
        if ctx.needs_input_grad[0]:
            grad_features = _input_grad(grad_out, weight, kmap)
        if ctx.needs_input_grad[1]:
            grad_weight = _weight_grad(features, kmap.table, grad_out).view(weight.shape)
        return grad_features, grad_weight, None


def apply_kernel_map(features: torch.Tensor, weight: torch.Tensor, kmap: KernelMap) -> torch.Tensor:
    """``out[o] = sum_k features[table[o, k]] @ weight[k]`` over the pairs of ``kmap``.

    Args:
        features: (N_in, C_in) float.
        weight: (K, C_in, C_out), same dtype and device.
        kmap: a map with K offsets from N_in input rows to N_out output rows.

    Returns:
        (N_out, C_out) features; differentiable in ``features`` and ``weight`` (first order).
    """
    if weight.ndim != 3 or weight.shape[0] != kmap.kernel_volume or weight.shape[1] != features.shape[1]:
        raise ValueError(
            f"weight {tuple(weight.shape)} does not fit {kmap.kernel_volume} offsets and {features.shape[1]} channels"
        )
    if features.shape[0] != kmap.num_in:
        raise ValueError(f"features have {features.shape[0]} rows, the kernel map {kmap.num_in}")
    features = features.contiguous()
    if torch.is_grad_enabled() and (features.requires_grad or weight.requires_grad):
        return _KernelMapConv.apply(features, weight, kmap)
    return gather_matmul(features, kmap.table, weight.reshape(-1, weight.shape[2]))
