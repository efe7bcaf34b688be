"""The stream container: round trip, and every kind of bad stream raises the documented error at once."""

from __future__ import annotations

import struct
import zlib

import pytest

from omnicodec.bitstream import Chunk, StreamHeader, limits, open_stream, pack, read_header, unpack
from omnicodec.errors import (
    CorruptStreamError,
    ForeignStreamError,
    InputError,
    TruncatedStreamError,
    UnsupportedVersionError,
)


def _stream() -> bytes:
    header = StreamHeader(
        modality="pointcloud",
        codec="octree",
        coder_id=1,
        params={"points": 3, "grid_step": 0.5, "names": ["a", "b"]},
        model="dense-v1",
        weights_sha256=bytes(range(32)),
    )
    return pack(header, [Chunk("OCCU", b"\x01\x02\x03"), Chunk("ATTR", b""), Chunk("ATTR", b"xyz" * 100)])


def test_round_trip_keeps_every_field():
    s = unpack(_stream())
    h = s.header
    assert (h.modality, h.codec, h.coder_id, h.model) == ("pointcloud", "octree", 1, "dense-v1")
    assert h.weights_sha256 == bytes(range(32))
    assert h.params == {"points": 3, "grid_step": 0.5, "names": ["a", "b"]}
    assert h.version == (1, 0)
    assert [c.tag for c in s.chunks] == ["OCCU", "ATTR", "ATTR"]
    assert s.chunk("OCCU") == b"\x01\x02\x03"
    assert s.chunks_named("ATTR") == [b"", b"xyz" * 100]
    assert read_header(_stream()).to_dict()["weights_sha256"] == bytes(range(32)).hex()


def test_golden_bytes_of_a_minimal_stream():
    # The exact bytes of format 1.0: a change here breaks every stream already written.
    data = pack(StreamHeader("pointcloud", "octree", 1, {}), [Chunk("OCCU", b"\x00")])
    assert data.hex() == (
        "4f4d4e4301000000150000000101066f63747265650000020000007b7d010000007c646f75"
        "4f434355010000008def02d200"
    )


def test_every_truncation_raises_a_bitstream_error():
    data = _stream()
    for n in range(len(data)):
        with pytest.raises((TruncatedStreamError, CorruptStreamError, ForeignStreamError)):
            unpack(data[:n])


def test_every_single_byte_corruption_is_detected():
    data = bytearray(_stream())
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x40
        with pytest.raises((CorruptStreamError, ForeignStreamError, TruncatedStreamError, UnsupportedVersionError)):
            unpack(bytes(bad))


def test_foreign_bytes():
    with pytest.raises(ForeignStreamError, match="not an omnicodec stream"):
        unpack(b"PK\x03\x04" + bytes(100))
    with pytest.raises(ForeignStreamError):
        unpack(b"")


def test_newer_version_is_named():
    data = bytearray(_stream())
    data[4] = 2
    with pytest.raises(UnsupportedVersionError, match=r"2\.0 is newer"):
        unpack(bytes(data))


def test_huge_declared_sizes_fail_before_allocating():
    # A 40-byte stream whose header claims 4 GiB.
    data = b"OMNC\x01\x00\x00\x00" + struct.pack("<I", 0xFFFFFFFF) + bytes(28)
    assert len(data) == 40
    with pytest.raises(CorruptStreamError, match="exceeds the limit"):
        unpack(data)
    # A valid header declaring one chunk of 4 GiB - 1 with only 10 bytes behind it.
    head = pack(StreamHeader("pointcloud", "octree", 1, {}), [])
    head = bytearray(head)
    n_chunks_at = 12 + len(head) - 12 - 4 - 4
    head[n_chunks_at : n_chunks_at + 4] = struct.pack("<I", 1)
    body = bytes(head[12:-4])
    head[-4:] = struct.pack("<I", zlib.crc32(body))
    bad = bytes(head) + b"OCCU" + struct.pack("<II", 0xFFFFFFFF, 0) + bytes(10)
    with pytest.raises(TruncatedStreamError, match="needs 4294967295 bytes but only 10 remain"):
        unpack(bad)


def test_too_many_chunks_declared():
    head = bytearray(pack(StreamHeader("pointcloud", "octree", 1, {}), []))
    body = bytearray(head[12:-4])
    body[-4:] = struct.pack("<I", limits.MAX_CHUNKS + 1)
    bad = bytes(head[:12]) + bytes(body) + struct.pack("<I", zlib.crc32(bytes(body)))
    with pytest.raises(CorruptStreamError, match="chunks"):
        unpack(bad)


def test_trailing_bytes_are_corruption():
    with pytest.raises(CorruptStreamError, match="unexpected bytes"):
        unpack(_stream() + b"\x00")


def test_pack_rejects_bad_fields():
    with pytest.raises(InputError):
        pack(StreamHeader("volume", "octree", 1, {}), [])
    with pytest.raises(InputError):
        pack(StreamHeader("pointcloud", "Bad Codec!", 1, {}), [])
    with pytest.raises(InputError):
        pack(StreamHeader("pointcloud", "octree", 1, {}), [Chunk("TOOLONG", b"")])
    with pytest.raises(InputError):
        pack(StreamHeader("pointcloud", "octree", 1, {}, weights_sha256=b"short"), [])
    with pytest.raises(InputError):
        pack(StreamHeader("pointcloud", "octree", 1, {"x": float("nan")}), [])


def test_open_stream_from_path(tmp_path):
    p = tmp_path / "a.omc"
    p.write_bytes(_stream())
    assert open_stream(p).header.codec == "octree"
    with pytest.raises(InputError, match="cannot read"):
        open_stream(tmp_path / "missing.omc")
