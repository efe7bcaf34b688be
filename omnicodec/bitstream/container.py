"""The omnicodec stream container: the only code that reads or writes the bytes of a stream.

Layout (all integers little endian; the full specification is ``docs/bitstream.md``)::

    preamble  magic b"OMNC" | major u8 | minor u8 | flags u16 (0) | header_length u32      12 bytes
    header    modality u8 | coder_id u8 | codec_id str8 | model_id str8 | weights_sha256 bytes8
              | params json32 | num_chunks u32                                              header_length bytes
    header_crc u32 (CRC32 of the header bytes)
    chunk *   tag 4 ASCII bytes | length u32 | crc32 u32 (of the payload) | payload
    (end of stream: no trailing bytes)

``str8``/``bytes8`` are a u8 length then that many bytes; ``json32`` a u32 length then a UTF-8 JSON object.
Every declared size is checked against :mod:`omnicodec.bitstream.limits` and against the bytes actually present
before anything is allocated.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from ..errors import (
    CorruptStreamError,
    ForeignStreamError,
    InputError,
    TruncatedStreamError,
    UnsupportedVersionError,
)
from . import limits

__all__ = ["MAGIC", "FORMAT_VERSION", "MIN_FORMAT_VERSION", "MODALITIES", "Chunk", "StreamHeader", "Stream", "pack",
           "unpack"]

MAGIC = b"OMNC"
FORMAT_VERSION = (1, 0)
MIN_FORMAT_VERSION = (1, 0)
"""The oldest format version this reader decodes. A version bump that drops the decoding of older streams raises it
too, so that they are refused (``UnsupportedVersionError``) rather than decoded wrongly."""
MODALITIES = {"pointcloud": 1, "lightfield": 2, "image": 3}
_MODALITY_NAMES = {v: k for k, v in MODALITIES.items()}
_PREAMBLE = struct.Struct("<4sBBHI")
_CHUNK_HEAD = struct.Struct("<4sII")
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")
_TAG_PATTERN = re.compile(rb"^[A-Za-z0-9_ ]{4}$")


@dataclass(frozen=True)
class Chunk:
    """One payload of a stream.

    Attributes:
        tag: four ASCII characters naming the payload (e.g. ``"OCCU"``), letters, digits, ``_`` or space.
        data: the payload bytes.
    """

    tag: str
    data: bytes


@dataclass
class StreamHeader:
    """What a stream says about itself: enough to decode it without being told how it was made.

    Attributes:
        modality: ``"pointcloud"``, ``"lightfield"`` or ``"image"``.
        codec: stable codec id, e.g. ``"octree"``.
        coder_id: entropy coder id (see ``omnicodec.entropy.CODER_IDS``).
        params: the codec's parameters (JSON-serialisable dict).
        model: id of the learned model used, ``""`` for codecs without one.
        weights_sha256: 32-byte SHA-256 of the model weights, ``b""`` without a model.
        version: (major, minor) format version of the stream.
    """

    modality: str
    codec: str
    coder_id: int
    params: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    weights_sha256: bytes = b""
    version: tuple[int, int] = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the checksum as hex)."""
        return {
            "format_version": f"{self.version[0]}.{self.version[1]}",
            "modality": self.modality,
            "codec": self.codec,
            "coder_id": self.coder_id,
            "model": self.model,
            "weights_sha256": self.weights_sha256.hex(),
            "params": self.params,
        }


@dataclass
class Stream:
    """A parsed stream: its header and its chunks, in order."""

    header: StreamHeader
    chunks: list[Chunk]
    size: int = 0

    def chunk(self, tag: str) -> bytes:
        """The payload of the first chunk named ``tag``; ``CorruptStreamError`` if there is none."""
        for c in self.chunks:
            if c.tag == tag:
                return c.data
        raise CorruptStreamError(f"stream has no {tag!r} chunk")

    def chunks_named(self, tag: str) -> list[bytes]:
        """The payloads of every chunk named ``tag``, in stream order."""
        return [c.data for c in self.chunks if c.tag == tag]


def _str8(value: str, what: str) -> bytes:
    raw = value.encode("ascii")
    if len(raw) > 255:
        raise InputError(f"{what} is longer than 255 bytes")
    return bytes([len(raw)]) + raw


def pack(header: StreamHeader, chunks: list[Chunk]) -> bytes:
    """Serialise a header and its chunks to stream bytes.

    Raises:
        InputError: an id, tag or size outside what the format allows.
    """
    if header.modality not in MODALITIES:
        raise InputError(f"unknown modality {header.modality!r}; expected one of {sorted(MODALITIES)}")
    for what, value in (("codec id", header.codec), ("model id", header.model)):
        if value and not _ID_PATTERN.match(value):
            raise InputError(f"{what} {value!r} must be lowercase letters, digits, '_', '.', '-' (<= 64)")
    if not 0 <= header.coder_id <= 255:
        raise InputError(f"coder id {header.coder_id} out of range")
    if len(header.weights_sha256) not in (0, 32):
        raise InputError("weights checksum must be 32 bytes (SHA-256) or empty")
    try:
        params = json.dumps(header.params, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InputError(f"codec parameters cannot be stored: {exc}") from None
    if len(params) > limits.MAX_PARAMS_BYTES:
        raise InputError(f"codec parameters take {len(params)} bytes, more than {limits.MAX_PARAMS_BYTES}")
    if len(chunks) > limits.MAX_CHUNKS:
        raise InputError(f"{len(chunks)} chunks, more than {limits.MAX_CHUNKS}")
    head = b"".join(
        [
            struct.pack("<BB", MODALITIES[header.modality], header.coder_id),
            _str8(header.codec, "codec id"),
            _str8(header.model, "model id"),
            bytes([len(header.weights_sha256)]) + header.weights_sha256,
            struct.pack("<I", len(params)),
            params,
            struct.pack("<I", len(chunks)),
        ]
    )
    parts = [_PREAMBLE.pack(MAGIC, *FORMAT_VERSION, 0, len(head)), head, struct.pack("<I", zlib.crc32(head))]
    for c in chunks:
        tag = c.tag.encode("ascii") if isinstance(c.tag, str) else c.tag
        if not _TAG_PATTERN.match(tag):
            raise InputError(f"chunk tag {c.tag!r} must be 4 ASCII letters, digits, '_' or space")
        if len(c.data) > limits.MAX_CHUNK_BYTES:
            raise InputError(f"chunk {c.tag!r} holds {len(c.data)} bytes, more than {limits.MAX_CHUNK_BYTES}")
        parts.append(_CHUNK_HEAD.pack(tag, len(c.data), zlib.crc32(c.data)))
        parts.append(bytes(c.data))
    return b"".join(parts)


class _Reader:
    """Bounds-checked cursor over the stream bytes."""

    def __init__(self, data: memoryview, start: int, end: int, where: str):
        self.data, self.pos, self.end, self.where = data, start, end, where

    def take(self, n: int, what: str) -> bytes:
        if n > self.end - self.pos:
            raise TruncatedStreamError(
                f"{self.where}: {what} needs {n} bytes but only {self.end - self.pos} remain (stream truncated)"
            )
        out = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return out

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u32(self, what: str) -> int:
        return struct.unpack("<I", self.take(4, what))[0]


def read_version(data: bytes) -> tuple[int, int]:
    """Check the magic and return the format version; raise the matching ``BitstreamError`` otherwise."""
    if len(data) < 4 or bytes(data[:4]) != MAGIC:
        if len(data) < 4 and MAGIC.startswith(bytes(data[:4])) and len(data) > 0:
            raise TruncatedStreamError(f"stream truncated inside the magic ({len(data)} bytes)")
        raise ForeignStreamError("not an omnicodec stream (the magic bytes 'OMNC' are missing)")
    if len(data) < _PREAMBLE.size:
        raise TruncatedStreamError(f"stream truncated inside the preamble ({len(data)} of {_PREAMBLE.size} bytes)")
    _, major, minor, _, _ = _PREAMBLE.unpack_from(data, 0)
    if (major, minor) > FORMAT_VERSION:
        raise UnsupportedVersionError(
            f"stream format version {major}.{minor} is newer than this omnicodec reads "
            f"({FORMAT_VERSION[0]}.{FORMAT_VERSION[1]}); upgrade omnicodec"
        )
    if (major, minor) < MIN_FORMAT_VERSION:
        raise UnsupportedVersionError(
            f"stream format version {major}.{minor} is older than this omnicodec reads "
            f"({MIN_FORMAT_VERSION[0]}.{MIN_FORMAT_VERSION[1]} and later); decode it with the omnicodec version that "
            "wrote it"
        )
    return major, minor


def _parse_header(data: bytes) -> tuple[StreamHeader, int, int]:
    """Parse preamble and header; return (header, number of chunks, offset of the first chunk)."""
    version = read_version(data)
    _, _, _, flags, header_len = _PREAMBLE.unpack_from(data, 0)
    if flags != 0:
        raise CorruptStreamError(f"preamble flags are {flags:#06x}; this version defines none")
    if header_len > limits.MAX_HEADER_BYTES:
        raise CorruptStreamError(f"header length {header_len} exceeds the limit {limits.MAX_HEADER_BYTES}")
    view = memoryview(data)
    r = _Reader(view, _PREAMBLE.size, len(data), "header")
    head = r.take(header_len, "the header")
    crc = r.u32("the header checksum")
    if zlib.crc32(head) != crc:
        raise CorruptStreamError("header checksum mismatch (stream corrupted)")
    h = _Reader(memoryview(head), 0, len(head), "header")
    modality_id = h.u8("modality")
    if modality_id not in _MODALITY_NAMES:
        raise CorruptStreamError(f"unknown modality id {modality_id}")
    coder_id = h.u8("coder id")
    try:
        codec = h.take(h.u8("codec id length"), "codec id").decode("ascii")
        model = h.take(h.u8("model id length"), "model id").decode("ascii")
        sha = h.take(h.u8("checksum length"), "weights checksum")
        params_len = h.u32("parameter length")
        if params_len > limits.MAX_PARAMS_BYTES:
            raise CorruptStreamError(f"parameter block of {params_len} bytes exceeds {limits.MAX_PARAMS_BYTES}")
        params = json.loads(h.take(params_len, "codec parameters").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptStreamError(f"header field is not valid text: {exc}") from None
    except TruncatedStreamError as exc:
        raise CorruptStreamError(f"header is inconsistent: {exc}") from None
    if not isinstance(params, dict):
        raise CorruptStreamError("codec parameters are not a JSON object")
    if len(sha) not in (0, 32):
        raise CorruptStreamError(f"weights checksum has {len(sha)} bytes; expected 0 or 32")
    try:
        num_chunks = h.u32("chunk count")
    except TruncatedStreamError as exc:
        raise CorruptStreamError(f"header is inconsistent: {exc}") from None
    if h.pos != len(head):
        raise CorruptStreamError(f"header has {len(head) - h.pos} unexpected trailing bytes")
    if num_chunks > limits.MAX_CHUNKS:
        raise CorruptStreamError(f"stream declares {num_chunks} chunks, more than the limit {limits.MAX_CHUNKS}")
    header = StreamHeader(
        modality=_MODALITY_NAMES[modality_id],
        codec=codec,
        coder_id=coder_id,
        params=params,
        model=model,
        weights_sha256=sha,
        version=version,
    )
    return header, num_chunks, r.pos


def read_header(data: bytes) -> StreamHeader:
    """Parse only the preamble and header of ``data`` (stream bytes, complete or a prefix)."""
    return _parse_header(data)[0]


def unpack(data: bytes) -> Stream:
    """Parse and verify a whole stream.

    Raises:
        ForeignStreamError: not an omnicodec stream.
        UnsupportedVersionError: a newer format version, or one older than :data:`MIN_FORMAT_VERSION`.
        TruncatedStreamError: the bytes end before a declared size.
        CorruptStreamError: a checksum mismatch, a size beyond the limits, trailing bytes.
    """
    header, num_chunks, pos = _parse_header(data)
    view = memoryview(data)
    r = _Reader(view, pos, len(data), "chunk")
    chunks = []
    for i in range(num_chunks):
        tag, length, crc = _CHUNK_HEAD.unpack(r.take(_CHUNK_HEAD.size, f"chunk {i} header"))
        if not _TAG_PATTERN.match(tag):
            raise CorruptStreamError(f"chunk {i} has an invalid tag {tag!r}")
        if length > limits.MAX_CHUNK_BYTES:
            raise CorruptStreamError(f"chunk {i} declares {length} bytes, more than the limit")
        payload = r.take(length, f"chunk {i} ({tag.decode()!r}, {length} bytes)")
        if zlib.crc32(payload) != crc:
            raise CorruptStreamError(f"chunk {i} ({tag.decode()!r}) checksum mismatch (stream corrupted)")
        chunks.append(Chunk(tag.decode("ascii"), payload))
    if r.pos != len(data):
        raise CorruptStreamError(f"{len(data) - r.pos} unexpected bytes after the last chunk")
    return Stream(header=header, chunks=chunks, size=len(data))
