"""Top-level ``compress`` / ``decompress`` for every modality, dispatching through the codec registry."""

from __future__ import annotations

from typing import Any

from ..bitstream import Stream, unpack
from ..errors import InputError
from ..types import ErpImage, LightField, PointCloud
from .registry import Codec, available_codecs, codec_for_stream, get_codec, register_codec

__all__ = ["compress", "decompress", "Codec", "register_codec", "get_codec", "available_codecs", "DEFAULT_CODECS"]

DEFAULT_CODECS = {"pointcloud": "learned"}
"""The codec used for each modality when none is named."""


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
        codec: codec id (see :func:`available_codecs`); the modality's default when None.
        **params: the codec's parameters, e.g. ``grid_step=0.001, coder="constriction"`` for ``octree``.

    Returns:
        The stream bytes (write them to an ``.omc`` file).
    """
    modality = modality_of(data)
    if codec is None:
        if modality not in DEFAULT_CODECS:
            supported = ", ".join(sorted(DEFAULT_CODECS))
            raise InputError(f"this version has no codec for {modality} data; it compresses: {supported}")
        codec = DEFAULT_CODECS[modality]
    return get_codec(codec, modality).compress(data, **params)


def decompress(data: bytes | Stream, **options: Any) -> PointCloud | LightField | ErpImage:
    """Decode a stream (bytes or a parsed :class:`~omnicodec.bitstream.Stream`).

    Raises:
        BitstreamError: the stream is truncated, corrupt, foreign or of a newer version.
    """
    stream = data if isinstance(data, Stream) else unpack(bytes(data))
    return codec_for_stream(stream).decompress(stream, **options)
