"""The codec registry: every codec is a class registered under a stable id and one modality.

A codec implements ``compress(data, **params) -> bytes`` (a whole stream) and ``decompress(stream) -> data``,
where ``stream`` is a parsed :class:`~omnicodec.bitstream.Stream`. The parameters a decoder needs are recorded in
the stream header, so any stream decodes without being told how it was made.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from ..bitstream import Stream
from ..errors import InputError, UnsupportedVersionError

__all__ = ["Codec", "register_codec", "get_codec", "available_codecs", "codec_for_stream"]

_REGISTRY: dict[str, type[Codec]] = {}


class Codec(ABC):
    """Base class of every codec."""

    id: ClassVar[str]
    modality: ClassVar[str]
    description: ClassVar[str] = ""

    @abstractmethod
    def compress(self, data: Any, **params: Any) -> bytes:
        """Encode ``data`` into a complete stream."""

    @abstractmethod
    def decompress(self, stream: Stream) -> Any:
        """Decode a parsed stream written by :meth:`compress`."""


def register_codec(codec_id: str, modality: str):
    """Class decorator registering a :class:`Codec` under ``codec_id`` for ``modality``."""

    def wrap(cls: type[Codec]) -> type[Codec]:
        if codec_id in _REGISTRY and _REGISTRY[codec_id] is not cls:
            raise ValueError(f"codec id {codec_id!r} is already registered")
        cls.id = codec_id
        cls.modality = modality
        _REGISTRY[codec_id] = cls
        return cls

    return wrap


_BUILTIN: dict[str, str] = {
    # codec id -> the module whose import registers it (imported only when that codec is asked for, so that a
    # point-cloud command does not pay for torch or the image codecs)
    "image": "omnicodec.image.codec",
    "erp": "omnicodec.omni.erp_codec",
    "lightfield": "omnicodec.lightfield.codec",
    "octree": "omnicodec.pointcloud.octree_codec",
    "learned": "omnicodec.pointcloud.learned_codec",
    "lossy": "omnicodec.pointcloud.lossy_codec",
    "spin": "omnicodec.pointcloud.spin_codec",
}


def _load_builtin(codec_id: str | None = None) -> None:
    """Import the module of built-in codec ``codec_id`` (every built-in codec's when None or not built in)."""
    if not isinstance(codec_id, str):
        codec_id = None
    elif codec_id in _REGISTRY:
        return
    for name, module in _BUILTIN.items():
        if codec_id is None or codec_id not in _BUILTIN or name == codec_id:
            importlib.import_module(module)


def available_codecs(modality: str | None = None) -> dict[str, str]:
    """Registered codec ids (for ``modality``, or all) mapped to their one-line descriptions."""
    _load_builtin()
    return {k: c.description for k, c in sorted(_REGISTRY.items()) if modality in (None, c.modality)}


def get_codec(codec_id: str, modality: str | None = None) -> Codec:
    """An instance of the codec registered as ``codec_id``.

    Raises:
        InputError: no such codec, or it does not code ``modality``.
    """
    _load_builtin(codec_id if isinstance(codec_id, str) else None)
    cls = _REGISTRY.get(codec_id)
    if cls is None:
        known = ", ".join(available_codecs(modality)) or "none"
        raise InputError(f"unknown codec {codec_id!r}; available: {known}")
    if modality is not None and cls.modality != modality:
        raise InputError(f"codec {codec_id!r} codes {cls.modality} data, not {modality}")
    return cls()


def codec_for_stream(stream: Stream) -> Codec:
    """The codec that decodes ``stream``.

    Raises:
        UnsupportedVersionError: the stream names a codec this version does not know.
    """
    _load_builtin(stream.header.codec)
    cls = _REGISTRY.get(stream.header.codec)
    if cls is None or cls.modality != stream.header.modality:
        raise UnsupportedVersionError(
            f"stream uses codec {stream.header.codec!r} ({stream.header.modality}), which this omnicodec does not "
            "know; upgrade omnicodec"
        )
    return cls()
