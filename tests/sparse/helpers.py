"""Dense references and random clouds for the sparse tests."""

from __future__ import annotations

import torch

from omnicodec.sparse import SparseTensor


def random_cloud(
    n: int, extent: int, seed: int, stride: int = 1, low: int = 0, channels: int = 3, dtype: torch.dtype = torch.float32
) -> SparseTensor:
    """Up to ``n`` unique random voxels in ``[low, low + extent)`` (grid units of ``stride``), rows shuffled."""
    g = torch.Generator().manual_seed(seed)
    c = torch.unique(torch.randint(0, extent, (n, 3), generator=g), dim=0)
    c = c[torch.randperm(len(c), generator=g)]
    feats = torch.randn(len(c), channels, generator=g, dtype=dtype)
    return SparseTensor((c + low) * stride, feats, stride)


def to_dense(x: SparseTensor, low: int, size: int) -> torch.Tensor:
    """(1, C, size, size, size) grid in units of the tensor stride, starting at coordinate ``low``."""
    idx = x.coordinates // x.tensor_stride - low
    dense = x.features.new_zeros((x.num_channels, size, size, size))
    dense[:, idx[:, 0], idx[:, 1], idx[:, 2]] = x.features.t()
    return dense[None]


def sample_dense(dense: torch.Tensor, coords: torch.Tensor, step: int, low: int) -> torch.Tensor:
    """(N, C) values of a (1, C, D, H, W) grid at integer coordinates (grid unit ``step``, origin ``low``)."""
    idx = coords // step - low
    return dense[0][:, idx[:, 0], idx[:, 1], idx[:, 2]].t()


def dense_weight(weight: torch.Tensor) -> torch.Tensor:
    """(k**3, C_in, C_out) sparse weight -> (C_out, C_in, k, k, k) for ``conv3d`` (offsets x slowest)."""
    k = round(weight.shape[0] ** (1 / 3))
    return weight.reshape(k, k, k, weight.shape[1], weight.shape[2]).permute(4, 3, 0, 1, 2)


def sort_rows(coords: torch.Tensor, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows in lexicographic coordinate order."""
    key = torch.zeros(len(coords), dtype=torch.int64)
    for j in range(coords.shape[1]):
        key = key * 4096 + (coords[:, j] + 2048)
    order = torch.argsort(key)
    return coords[order], feats[order]
