"""The ``"minkowski"`` backend: the sparse operations run by MinkowskiEngine (0.5.x), same tensors, same weights.

Imported only when that backend is selected. Each :class:`~omnicodec.sparse.tensor.CoordinateSet` gets a
MinkowskiEngine coordinate map (key + coordinate manager, shared by every set derived from it), stored in its cache;
MinkowskiEngine keeps its own row order, so each handle also holds the permutation between its rows and ours.
Results come back in this package's row order (submanifold outputs on the input's rows, strided outputs in key order,
generated children parent-major), so a model gives the same outputs on both backends.

Weight conversion: MinkowskiEngine enumerates kernel offsets with x fastest (index ``ix + k*iy + k*k*iz``), this
package with x slowest (``ix*k*k + iy*k + iz``); :func:`to_minkowski_weight` permutes the first axis, differentiably.
Even kernels start at offset 0 and odd ones are centred in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import MinkowskiEngine as ME  # noqa: N817
import torch
from MinkowskiEngine.MinkowskiConvolution import (
    MinkowskiConvolutionFunction,
    MinkowskiConvolutionTransposeFunction,
)
from MinkowskiEngine.MinkowskiPruning import MinkowskiPruningFunction
from MinkowskiEngineBackend._C import ConvolutionMode

from ..errors import InputError
from . import kernel_map as km
from .keys import pack_keys
from .tensor import CoordinateSet, SparseTensor

__all__ = ["to_minkowski_weight", "from_minkowski_weight", "conv3d", "generative_transpose_conv3d", "prune"]

_CACHE_KEY = "minkowski"


@dataclass
class _Handle:
    key: object  # ME.CoordinateMapKey
    manager: ME.CoordinateManager
    to_me: torch.Tensor | None  # MinkowskiEngine row j holds our row to_me[j]; None: same order
    to_ours: torch.Tensor | None  # our row i is MinkowskiEngine row to_ours[i]


def to_minkowski_weight(weight: torch.Tensor) -> torch.Tensor:
    """(k**3, C_in, C_out) weight in this package's offset order -> MinkowskiEngine's (differentiable)."""
    k = round(weight.shape[0] ** (1 / 3))
    return weight.reshape(k, k, k, *weight.shape[1:]).permute(2, 1, 0, 3, 4).reshape(weight.shape)


def from_minkowski_weight(weight: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`to_minkowski_weight` (the permutation is its own inverse)."""
    return to_minkowski_weight(weight)


def _adopt(cs: CoordinateSet, key: object, manager: ME.CoordinateManager) -> _Handle:
    """Attach MinkowskiEngine's map ``key`` holding the voxels of ``cs`` to ``cs``."""
    me_coords = manager.get_coordinates(key).to(device=cs.device, dtype=torch.int64)
    to_me = km.lookup_rows(cs, pack_keys(me_coords[:, 1:], me_coords[:, 0]))
    if len(to_me) != len(cs) or bool((to_me < 0).any()):
        raise InputError(
            "MinkowskiEngine produced other voxels than this package "
            f"({len(to_me)} against {len(cs)}; it floors negative coordinates differently)"
        )
    handle = _Handle(key, manager, None, None)
    if not torch.equal(to_me, torch.arange(len(cs), device=cs.device)):
        to_ours = torch.empty_like(to_me)
        to_ours[to_me] = torch.arange(len(cs), device=cs.device)
        handle.to_me, handle.to_ours = to_me, to_ours
    cs.cache[_CACHE_KEY] = handle
    return handle


def _handle(cs: CoordinateSet) -> _Handle:
    if _CACHE_KEY in cs.cache:
        return cs.cache[_CACHE_KEY]
    map_type = ME.CoordinateMapType.GPU if cs.device.type == "cuda" else ME.CoordinateMapType.CPU
    manager = ME.CoordinateManager(D=3, num_threads=torch.get_num_threads(), coordinate_map_type=map_type)
    coords = cs.coordinates
    if not cs.batched:
        coords = torch.cat([torch.zeros_like(coords[:, :1]), coords], dim=1)
    key, _ = manager.insert_and_map(coords.to(torch.int32).contiguous(), [cs.stride] * 3, "")
    return _adopt(cs, key, manager)


def _to_me(features: torch.Tensor, h: _Handle) -> torch.Tensor:
    return (features if h.to_me is None else features[h.to_me]).contiguous()


def _to_ours(features: torch.Tensor, h: _Handle) -> torch.Tensor:
    return features if h.to_ours is None else features[h.to_ours]


def _finish(cs: CoordinateSet, features_me: torch.Tensor, h: _Handle, bias: torch.Tensor | None) -> SparseTensor:
    out = _to_ours(features_me, h)
    return SparseTensor.from_set(cs, out if bias is None else out + bias)


def conv3d(
    x: SparseTensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int, dilation: int
) -> SparseTensor:
    """:func:`omnicodec.sparse.functional.conv3d` on MinkowskiEngine (``MinkowskiConvolution``)."""
    k = round(weight.shape[0] ** (1 / 3))
    cs = x.coordinate_set
    if stride == 1 and k == 1:
        out = x.features.mm(weight[0])
        return x.replace_features(out if bias is None else out + bias)
    if stride == 1 and k % 2 == 0:
        raise InputError(f"a submanifold convolution needs an odd kernel size, got {k}")
    h = _handle(cs)
    generator = ME.KernelGenerator(kernel_size=k, stride=stride, dilation=dilation, dimension=3)
    if stride == 1:
        out_cs, out_key = cs, h.key
    else:
        out_cs = km.strided_map(cs, k, stride, dilation)[1]
        out_key = ME.CoordinateMapKey(4)
    out = MinkowskiConvolutionFunction.apply(
        _to_me(x.features, h),
        to_minkowski_weight(weight),
        generator,
        ConvolutionMode.DEFAULT,
        h.key,
        out_key,
        h.manager,
    )
    h_out = h if stride == 1 else _adopt(out_cs, out_key, h.manager)
    return _finish(out_cs, out, h_out, bias)


def generative_transpose_conv3d(x: SparseTensor, weight: torch.Tensor, bias: torch.Tensor | None) -> SparseTensor:
    """:func:`~omnicodec.sparse.functional.generative_transpose_conv3d` on MinkowskiEngine
    (``MinkowskiGenerativeConvolutionTranspose``, kernel 2, stride 2)."""
    cs = x.coordinate_set
    h = _handle(cs)
    out_cs = km.children_set(cs, 2)
    generator = ME.KernelGenerator(kernel_size=2, stride=2, dilation=1, expand_coordinates=True, dimension=3)
    out_key = ME.CoordinateMapKey(4)
    out = MinkowskiConvolutionTransposeFunction.apply(
        _to_me(x.features, h),
        to_minkowski_weight(weight),
        generator,
        ConvolutionMode.DEFAULT,
        h.key,
        out_key,
        h.manager,
    )
    return _finish(out_cs, out, _adopt(out_cs, out_key, h.manager), bias)


def prune(x: SparseTensor, keep: torch.Tensor) -> SparseTensor:
    """:func:`~omnicodec.sparse.functional.prune` on MinkowskiEngine (``MinkowskiPruning``)."""
    cs = x.coordinate_set
    h = _handle(cs)
    out_cs = cs.subset(keep)
    if len(out_cs) == 0:  # MinkowskiEngine refuses empty maps
        return SparseTensor.from_set(out_cs, x.features[keep])
    out_key = ME.CoordinateMapKey(4)
    mask = (keep if h.to_me is None else keep[h.to_me]).contiguous()
    out = MinkowskiPruningFunction.apply(_to_me(x.features, h), mask, h.key, out_key, h.manager)
    return _finish(out_cs, out, _adopt(out_cs, out_key, h.manager), None)
