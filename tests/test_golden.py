"""The golden streams of ``tests/golden`` (written by ``tools/make_golden.py`` with 2 torch threads): each decodes,
in another process with 1 thread, to the output whose sha256 ``golden.json`` records; the encoder still writes them
byte for byte; every shipped model is used by one; and a version newer than this reader's is refused.

A change that makes one of these fail alters decoding: it needs a stream or payload version bump
(``docs/bitstream.md``, "Golden streams"), and only then new golden streams.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

import omnicodec
from omnicodec import zoo
from omnicodec.bitstream import Chunk, pack, unpack
from omnicodec.codecs import available_codecs
from omnicodec.errors import UnsupportedVersionError
from tests.conftest import REPO
from tools import make_golden as mg

GOLDEN = REPO / "tests" / "golden"
MANIFEST = json.loads((GOLDEN / "golden.json").read_text())
STREAMS = {s["file"]: s for s in MANIFEST["streams"]}
CASES = {c.file: c for c in mg.CASES}


def _bytes(file: str) -> bytes:
    return (GOLDEN / file).read_bytes()


def test_the_manifest_lists_every_stream_and_every_case():
    assert sorted(p.name for p in GOLDEN.glob("*.omc")) == sorted(STREAMS)
    assert list(STREAMS) == list(CASES)  # tools/make_golden.py's cases, in order
    assert MANIFEST["encode_threads"] == mg.ENCODE_THREADS == 2
    for file, s in STREAMS.items():
        data = _bytes(file)
        assert hashlib.sha256(data).hexdigest() == s["stream_sha256"], f"{file} differs from its manifest entry"
        assert len(data) == s["bytes"] <= 100_000
        case = CASES[file]
        assert (s["codec"], s["input"], s["options"]) == (case.codec, case.input, case.options)
        header = unpack(data).header
        assert header.codec == s["stream_codec"] and mg.models_of(data) == s["models"]


def test_every_shipped_model_is_used_by_a_golden_stream():
    used = {name for s in STREAMS.values() for name in mg.models_of(_bytes(s["file"]))}
    assert set(zoo.list_models()) <= used, f"no golden stream uses {sorted(set(zoo.list_models()) - used)}"
    assert set(available_codecs()) <= {s["codec"] for s in STREAMS.values()}


def test_golden_streams_decode_to_their_outputs_in_another_process_with_one_thread():
    env = {k: v for k, v in os.environ.items() if k != zoo.ENV_VAR}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    files = [str(GOLDEN / f) for f in STREAMS]
    r = subprocess.run([sys.executable, str(REPO / "tools" / "make_golden.py"), "--threads", "1", "--decode", *files],
                       capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    decoded = json.loads(r.stdout)
    wrong = {f: (decoded.get(f), s["decoded_sha256"]) for f, s in STREAMS.items()
             if decoded.get(f) != s["decoded_sha256"]}
    assert not wrong, f"decoded outputs differ from the recorded ones (got, recorded): {wrong}"


SLOW_TO_ENCODE = {"learned_lidar_sweep.omc", "lossy_lidar_r3.omc", "lossy_lidar_r6.omc", "lightfield_r6.omc"}
"""Streams not encoded again here (1 to 3 s each on two cores); a case of the same codec and model is."""


@pytest.mark.parametrize("file", [f for f in STREAMS if f not in SLOW_TO_ENCODE])
def test_the_encoder_writes_each_golden_stream_byte_for_byte(file):
    case = CASES[file]
    data = mg.INPUTS[case.input]()
    if hashlib.sha256(mg.canonical_bytes(data)).hexdigest() != MANIFEST["inputs"][case.input]["sha256"]:
        pytest.skip(f"input {case.input!r} is generated differently on this machine (floating-point rendering)")
    assert hashlib.sha256(mg.encode(case)).hexdigest() == STREAMS[file]["stream_sha256"]


@pytest.mark.parametrize("offset, value", [(4, 2), (5, 1)], ids=["major", "minor"])
def test_a_newer_container_version_is_refused(offset, value):
    for file in STREAMS:
        data = bytearray(_bytes(file))
        assert data[4:6] == bytes([1, 0])
        data[offset] = value
        with pytest.raises(UnsupportedVersionError, match="newer than this omnicodec reads.*upgrade omnicodec"):
            omnicodec.decompress(bytes(data))


def test_an_older_container_version_than_the_oldest_read_is_refused():
    data = bytearray(_bytes("octree_sphere.omc"))
    data[4:6] = bytes([0, 9])
    with pytest.raises(UnsupportedVersionError, match="0.9 is older than"):
        omnicodec.decompress(bytes(data))


def _with_attribute_format(data: bytes, index: int, value: int) -> bytes:
    """``data`` with the format byte of the ``index``-th ``ATTR`` payload set to ``value`` (checksums redone)."""
    s = unpack(data)
    chunks, seen = [], 0
    for c in s.chunks:
        payload = c.data
        if c.tag == "ATTR":
            if seen == index:
                payload = bytes([value]) + payload[1:]
            seen += 1
        chunks.append(Chunk(c.tag, payload))
    return pack(s.header, chunks)


@pytest.mark.parametrize("file, method", [("spin_sweep.omc", "pred"), ("lossy_dense_r7_attr4.omc", "raht")])
def test_a_newer_attribute_payload_version_is_refused(file, method):
    from omnicodec.pointcloud import attr_codec, attr_raht

    newest = {"pred": max(attr_codec.FORMATS), "raht": attr_raht.FORMAT}[method]
    data = _bytes(file)
    specs = unpack(data).header.params["attributes"]
    i = [spec.get("method") for spec in specs].index(method)
    assert unpack(data).chunks_named("ATTR")[i][0] == newest
    assert len(omnicodec.decompress(_with_attribute_format(data, i, newest))) > 0  # the same stream, repacked
    with pytest.raises(UnsupportedVersionError, match=f"attribute payload format {newest + 1} is newer.*upgrade"):
        omnicodec.decompress(_with_attribute_format(data, i, newest + 1))
