"""The stream container: magic, version, header (modality, codec, coder, model + checksum, parameters), chunks.

Nothing else in omnicodec reads or writes the bytes of a stream; codecs hand this module a header and chunks.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from . import limits
from .container import (
    FORMAT_VERSION,
    MAGIC,
    MIN_FORMAT_VERSION,
    MODALITIES,
    Chunk,
    Stream,
    StreamHeader,
    pack,
    read_header,
    read_version,
    unpack,
)

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "MIN_FORMAT_VERSION",
    "MODALITIES",
    "Chunk",
    "Stream",
    "StreamHeader",
    "limits",
    "open_stream",
    "pack",
    "read_header",
    "read_version",
    "unpack",
]


def open_stream(source: bytes | str | os.PathLike) -> Stream:
    """Parse and verify a stream given as bytes or as the path of an ``.omc`` file.

    Raises:
        InputError: the file cannot be read.
        BitstreamError: the bytes are not a valid stream (see :func:`unpack`).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return unpack(bytes(source))
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return unpack(data)
