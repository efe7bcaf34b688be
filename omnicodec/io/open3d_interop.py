"""Conversion between :class:`~omnicodec.types.PointCloud` and open3d point clouds (legacy and tensor).

open3d stores colours as floats in [0, 1]: uint8 ``rgb`` maps to ``rgb / 255`` and back by rounding ``colors * 255``,
which restores every uint8 value exactly (uint16 colour maps to ``rgb / 65535`` and comes back as uint8).
open3d is imported only when one of these functions is called.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..types import PointCloud

__all__ = ["to_open3d", "from_open3d"]

_INSTALL = 'pip install "omnicodec[open3d]"'
_RESERVED = {"positions", "colors", "normals"}


def _open3d():
    try:
        import open3d
    except ImportError:
        raise InputError(f"open3d interop needs the optional package open3d: {_INSTALL}") from None
    return open3d


def _colors_to_float(rgb: np.ndarray, dtype: type) -> np.ndarray:
    if rgb.dtype == np.uint8:
        return rgb.astype(dtype) / dtype(255)
    if rgb.dtype == np.uint16:
        return rgb.astype(dtype) / dtype(65535)
    return rgb.astype(dtype)


def _colors_to_uint8(colors: np.ndarray) -> np.ndarray:
    if colors.dtype.kind in "iu":
        return np.clip(colors, 0, 255).astype(np.uint8)
    return np.rint(np.clip(colors.astype(np.float64), 0.0, 1.0) * 255.0).astype(np.uint8)


def to_open3d(cloud: PointCloud, tensor: bool = False) -> Any:
    """An open3d point cloud holding the cloud's positions, colours and normals (and, for tensor, all attributes).

    Args:
        cloud: the cloud; positions (N, 3), ``rgb`` (N, 3), ``normals`` (N, 3), other attributes (N,) or (N, k).
        tensor: return an ``open3d.t.geometry.PointCloud`` (float positions keep their dtype, integer positions become
            float64; every attribute is kept under its name, ``rgb`` as float32 ``colors``) instead of a legacy
            ``open3d.geometry.PointCloud`` (float64 points, colours and normals only).

    Raises:
        InputError: open3d is missing, or an attribute is named ``positions`` or ``colors``.
    """
    o3d = _open3d()
    rgb = cloud.attributes.get("rgb")
    normals = cloud.attributes.get("normals")
    if not tensor:
        out = o3d.geometry.PointCloud()
        out.points = o3d.utility.Vector3dVector(cloud.positions.astype(np.float64))
        if rgb is not None:
            out.colors = o3d.utility.Vector3dVector(_colors_to_float(rgb, np.float64))
        if normals is not None:
            out.normals = o3d.utility.Vector3dVector(normals.astype(np.float64))
        return out
    clash = sorted((_RESERVED - {"normals"}) & set(cloud.attributes))
    if clash:
        raise InputError(f"attribute names {clash} are reserved by open3d")
    positions = cloud.positions if cloud.positions.dtype.kind == "f" else cloud.positions.astype(np.float64)
    out = o3d.t.geometry.PointCloud(o3d.core.Tensor(np.ascontiguousarray(positions)))
    for name, arr in cloud.attributes.items():
        if name == "rgb":
            out.point["colors"] = o3d.core.Tensor(np.ascontiguousarray(_colors_to_float(arr, np.float32)))
        else:
            out.point[name] = o3d.core.Tensor(np.ascontiguousarray(arr))
    return out


def from_open3d(obj: Any) -> PointCloud:
    """A PointCloud from an open3d point cloud (legacy or tensor, on any device).

    Returns:
        positions (N, 3) (float64 for legacy clouds, the tensor's dtype otherwise); ``rgb`` (N, 3) uint8 from
        ``colors``; ``normals`` (N, 3); for tensor clouds every other point attribute under its name and dtype.
        ``metadata["format"]`` is ``"open3d"``.

    Raises:
        InputError: open3d is missing, or ``obj`` is not an open3d point cloud.
    """
    o3d = _open3d()
    metadata = {"format": "open3d"}
    if isinstance(obj, o3d.geometry.PointCloud):
        attributes = {}
        if obj.has_colors():
            attributes["rgb"] = _colors_to_uint8(np.asarray(obj.colors))
        if obj.has_normals():
            attributes["normals"] = np.array(obj.normals, dtype=np.float64)
        return PointCloud(np.array(obj.points, dtype=np.float64).reshape(-1, 3), attributes, metadata=metadata)
    if isinstance(obj, o3d.t.geometry.PointCloud):
        point = obj.point
        if "positions" not in point:
            return PointCloud(np.zeros((0, 3), dtype=np.float32), metadata=metadata)
        positions = point["positions"].cpu().numpy().copy()
        attributes = {}
        for name, value in point.items():
            if name == "positions":
                continue
            arr = value.cpu().numpy().copy()
            attributes["rgb" if name == "colors" else name] = _colors_to_uint8(arr) if name == "colors" else arr
        return PointCloud(positions, attributes, metadata=metadata)
    raise InputError(f"expected an open3d PointCloud (legacy or tensor), got {type(obj).__name__}")
