"""Sparse convolution on integer voxel grids, in pure PyTorch (CPU and CUDA) or on MinkowskiEngine.

* :class:`SparseTensor`: (N, 3) or batched (N, 4) int64 coordinates + (N, C) features + a tensor stride; its
  :class:`CoordinateSet` holds the sorted int64 keys and caches the kernel maps.
* functions (:mod:`omnicodec.sparse.functional`) and modules: :class:`SparseConv3d` (submanifold or strided),
  :class:`SparseGenerativeTransposeConv3d` (each voxel makes its 8 children), :class:`SparsePruning`,
  :class:`SparseReLU`, :class:`SparseResBlock`.
* backends: ``"torch"`` (default) and ``"minkowski"`` (:func:`set_backend`, or ``OMNICODEC_SPARSE_BACKEND``).

Weights are (K, C_in, C_out), offsets listed x slowest and z fastest (:func:`kernel_offsets`).
"""

from __future__ import annotations

from . import functional
from .backend import get_backend, minkowski_available, set_backend, use_backend
from .kernel_map import KernelMap, kernel_offsets, strided_map, submanifold_map
from .keys import COORD_MAX, COORD_MIN, MAX_BATCH, pack_keys, unpack_keys
from .modules import (
    SparseActivation,
    SparseConv3d,
    SparseGenerativeTransposeConv3d,
    SparsePruning,
    SparseReLU,
    SparseResBlock,
)
from .tensor import CoordinateSet, SparseTensor

__all__ = [
    "SparseTensor",
    "CoordinateSet",
    "KernelMap",
    "kernel_offsets",
    "submanifold_map",
    "strided_map",
    "pack_keys",
    "unpack_keys",
    "COORD_MIN",
    "COORD_MAX",
    "MAX_BATCH",
    "functional",
    "SparseConv3d",
    "SparseGenerativeTransposeConv3d",
    "SparsePruning",
    "SparseReLU",
    "SparseActivation",
    "SparseResBlock",
    "get_backend",
    "set_backend",
    "use_backend",
    "minkowski_available",
]
