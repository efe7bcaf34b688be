"""Top-level ``compress`` / ``decompress`` for every modality, dispatching through the codec registry."""

from __future__ import annotations

from typing import Any

from ..bitstream import Stream, unpack
from ..errors import InputError
from ..types import ErpImage, LightField, PointCloud
from .registry import Codec, available_codecs, codec_for_stream, get_codec, register_codec

__all__ = ["compress", "decompress", "Codec", "register_codec", "get_codec", "available_codecs", "DEFAULT_CODECS",
           "LOSSY_CODECS", "PANORAMA_CODEC", "HANDOFFS", "default_codec", "is_panorama"]

DEFAULT_CODECS = {"pointcloud": "learned", "image": "image", "lightfield": "lightfield"}
"""The codec used for each modality when none is named (and no rate is asked for)."""

LOSSY_CODECS = {"pointcloud": "lossy", "image": "image", "lightfield": "lightfield"}
"""The codec used for each modality when none is named and a ``rate`` is given."""

HANDOFFS = {"learned": ("spin",), "lossy": ("spin",)}
"""Codecs a codec hands some inputs to, with its default options (``learned`` codes a spinning-LiDAR sweep with
``spin``, ``lossy`` does where that is smaller): a stream asked of the first may name one of these."""

PANORAMA_CODEC = "erp"
"""The codec of images whose width is twice their height (equirectangular panoramas), when none is named."""


def is_panorama(data: Any) -> bool:
    """Whether ``data`` is an image shaped like a full equirectangular panorama (width == 2 * height)."""
    pixels = getattr(data, "pixels", None)
    return pixels is not None and pixels.ndim >= 2 and pixels.shape[0] > 0 and pixels.shape[1] == 2 * pixels.shape[0]


def default_codec(modality: str, params: dict[str, Any], data: Any = None) -> str:
    """The codec ``compress`` uses for ``modality`` when none is named: lossy with a ``rate``, else lossless; for
    images, ``erp`` when ``data`` is a 2:1 panorama and ``image`` otherwise.

    Raises:
        InputError: no codec for that modality.
    """
    if modality == "image" and is_panorama(data):
        return PANORAMA_CODEC
    table = LOSSY_CODECS if params.get("rate") is not None else DEFAULT_CODECS
    if modality not in table:
        supported = ", ".join(sorted(table))
        raise InputError(f"this version has no {'lossy ' if table is LOSSY_CODECS else ''}codec for {modality} "
                         f"data; it compresses: {supported}")
    return table[modality]


def modality_of(data: Any) -> str:
    """``"pointcloud"``, ``"lightfield"`` or ``"image"`` for an omnicodec data object."""
    if isinstance(data, PointCloud):
        return "pointcloud"
    if isinstance(data, LightField):
        return "lightfield"
    if isinstance(data, ErpImage):
        return "image"
    raise InputError(f"cannot compress a {type(data).__name__}; expected PointCloud, LightField or ErpImage")


def compress(data: PointCloud | LightField | ErpImage, codec: str | None = None, **params: Any) -> bytes:
    """Compress ``data`` into a self-describing stream.

    Args:
        data: what to compress.
        codec: codec id (see :func:`available_codecs`); when None, the modality's lossy codec if ``rate`` is given,
            else its lossless default; for images ``erp`` if the width is twice the height, else ``image``
            (:func:`default_codec`).
        **params: the codec's parameters, e.g. ``grid_step=0.001, coder="constriction"`` for ``octree``, or
            ``rate=3`` for ``lossy``, ``image`` and ``erp``.

    Returns:
        The stream bytes (write them to an ``.omc`` file).
    """
    modality = modality_of(data)
    if codec is None:
        codec = default_codec(modality, params, data)
    return get_codec(codec, modality).compress(data, **params)


def decompress(data: bytes | Stream, **options: Any) -> PointCloud | LightField | ErpImage:
    """Decode a stream (bytes or a parsed :class:`~omnicodec.bitstream.Stream`).

    Raises:
        BitstreamError: the stream is truncated, corrupt, foreign or of a newer version.
    """
    stream = data if isinstance(data, Stream) else unpack(bytes(data))
    return codec_for_stream(stream).decompress(stream, **options)
