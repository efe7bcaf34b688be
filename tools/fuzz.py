"""Mutation fuzzer for every stream decoder and every file reader of omnicodec.

    python tools/fuzz.py --targets all --cases 5000 --seed 1 --workers 2 --out fuzz.json --save fuzz_failures

Design. This is omnicodec's own mutation fuzzer, not a coverage-guided one: it needs nothing beyond the package, its
runs are reproducible from ``--seed``, and it knows the formats, so it can make the mutations that get past the
checksums and the magic numbers (a coverage-guided engine such as atheris, which installs from a wheel here, mostly
learns that a CRC32 rejects its flips, runs in one process without the per-case memory limit, and would be one more
dependency). At start-up it makes small seeds: real streams, by encoding small synthetic inputs
(and a slice of ``datasets/samples/lidar_sweep32.bin``, ``bun0.pcd``), and small files written by the package's own
writers. Each case is one seed changed by one to three mutations:

* bytes: bit flips, bytes and words set to extremes (0, 0xFF, 0x7F, 0x80, ...), truncations, insertions, deletions,
  block duplications, splices of two seeds, decimal numbers in text replaced by extreme ones;
* streams, with the container's checksums recomputed after the change: the header's JSON parameters (values set to
  infinities, NaN, integers past 64 bits, negative numbers, the wrong type, fields removed or added, raw edits of the
  JSON text), chunk payloads, the codec / coder / model ids, the chunk list (dropped, repeated, reordered, taken
  from another seed);
* files: PLY and PCD header lines (declared counts such as ``element vertex 1000000000``, sizes, types, widths,
  the format / DATA line, compressed sizes), LAS header fields (point counts, offsets, record length, format, scales),
  PNG chunks (IHDR sizes, with the chunk CRC fixed) and JPEG frame sizes, HDF5 files with declared shapes far beyond
  their bytes, light-field folders with views removed, added, renamed or replaced.

Targets. Streams (``omnicodec.decompress``): octree, learned, spin, lossy, attributes (colour and intensity, lossless
and lossy, inside point-cloud streams; mutations aim at the ``ATTR`` chunks and their parameters), image, erp,
lightfield. Readers (``omnicodec.read``): ply, pcd, bin (KITTI / nuScenes), las (LAS and LAZ), h5, png, jpeg,
folder (light-field folders).

Isolation. Cases run in long-lived worker processes (imports and model loading done once) that each run many cases;
each case is guarded by an interval timer in the worker (``--time-limit``, 10 s) and the worker runs under an
address-space limit (``RLIMIT_AS``, ``--memory-mb``, 3072 MiB by default: a worker with torch, its one thread, every
entropy coder and every model loaded peaks at about 1.0 GiB of address space (reported as ``worker_vm_peak_mb``), so
3 GiB leaves about 2 GiB for a case; an allocation past it raises MemoryError, or kills the worker from C++). An
address-space limit rather than one on resident memory because the kernel enforces it at allocation time, in every
library, before a page is touched. A worker that dies (a crash, the memory limit met inside native code, or a
hang the parent kills at the time limit plus a grace period) is replaced, and the case that killed it is recorded.

Outcomes: ``ok`` (decoded / read), ``clean`` (an ``OmnicodecError`` subclass raised), ``uncaught`` (any other
exception: type, message, last frames), ``crash`` (the worker died), ``timeout``, ``memory``. ``--cli N`` also runs N
cases, round robin over the targets, through the command line (a stream through ``python -m omnicodec decompress``
and ``info``, a file or a light-field folder through ``compress``) and checks that bad input gives exit status 2,
exactly one line on stderr and no output file. Failing cases are minimised (truncated, and mutated bytes reverted to
the seed's, while the same failure persists) and saved to ``--save``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import pickle
import random
import re
import resource
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

STREAM_TARGETS = ("octree", "learned", "spin", "lossy", "attributes", "image", "erp", "lightfield")
READER_TARGETS = ("ply", "pcd", "bin", "las", "h5", "png", "jpeg", "folder")
TARGETS = STREAM_TARGETS + READER_TARGETS
OUTCOMES = ("ok", "clean", "uncaught", "crash", "timeout", "memory")
FAILURES = ("uncaught", "crash", "timeout", "memory")
TIME_LIMIT = 10.0
MEMORY_MB = 3072
_GRACE = 10.0  # seconds past the time limit before the parent kills a worker whose timer could not interrupt it


@dataclass
class Seed:
    """One valid input: ``data`` (bytes of a file or stream) or ``files`` (a light-field folder), and its suffix."""

    name: str
    ext: str
    data: bytes = b""
    files: dict[str, bytes] | None = None


@dataclass
class Case:
    target: str
    index: int
    ext: str
    data: bytes = b""
    files: dict[str, bytes] | None = None
    seed: str = ""
    mutations: list[str] = field(default_factory=list)

    def payload(self) -> dict:
        return {"target": self.target, "ext": self.ext, "data": self.data, "files": self.files}


# --------------------------------------------------------------------------------------------------------- seeds


def _sweep(beams: int = 16, cols: int = 200, seed: int = 0, step_deg: float = 1.8):
    """A small spinning-sensor sweep of a box room (metres, float32, scan order)."""
    from tests.pointcloud.helpers import box_room_sweep

    return box_room_sweep(beams, cols, seed, step_deg)


def _stream_seeds(target: str) -> list[Seed]:
    import numpy as np

    import omnicodec
    from omnicodec.types import ErpImage, LightField, PointCloud

    rng = np.random.default_rng(7)
    pos = np.unique(rng.integers(0, 16, (160, 3)), axis=0).astype(np.float32)
    n = len(pos)
    rgb = rng.integers(0, 256, (n, 3)).astype(np.uint8)
    inten = rng.random(n).astype(np.float32)
    c = omnicodec.compress
    out: list[tuple[str, bytes]] = []
    if target == "octree":
        bunny = omnicodec.read(REPO / "datasets" / "samples" / "bun0.pcd")
        dup = np.concatenate([pos, pos[:20]]).astype(np.float64) * 0.01
        out = [("rgb", c(PointCloud(pos, {"rgb": rgb}), codec="octree")),
               ("duplicates", c(PointCloud(dup), codec="octree", grid_step=0.01)),
               ("bunny", c(bunny, codec="octree", grid_step=0.001))]
    elif target == "learned":
        small = pos[:80]
        out = [("rgb", c(PointCloud(small, {"rgb": rgb[:80]}), codec="learned")),
               ("plain", c(PointCloud(small * 0.5), codec="learned", grid_step=0.5))]
    elif target == "spin":
        kitti = omnicodec.read(REPO / "datasets" / "samples" / "lidar_sweep32.bin")
        head = PointCloud(kitti.positions[:400], {k: v[:400] for k, v in kitti.attributes.items()})
        sw = _sweep(beams=8, cols=80)
        out = [("sweep", c(PointCloud(sw, {"intensity": np.linspace(0, 1, len(sw), dtype=np.float32)}),
                           codec="spin", grid_step=0.001)),
               ("kitti", c(head, codec="spin", grid_step=0.001))]
    elif target == "lossy":
        out = [("rgb", c(PointCloud(pos * 4, {"rgb": rgb}), codec="lossy", rate=3)),
               ("sweep", c(PointCloud(_sweep(cols=120)), codec="lossy", rate=2, grid_step=0.01))]
    elif target == "attributes":
        u16 = rng.integers(0, 4096, (n, 3)).astype(np.uint16)
        normals = rng.normal(size=(n, 3)).astype(np.float32)
        out = [("rgb", c(PointCloud(pos, {"rgb": rgb}), codec="octree")),
               ("rgb_rate", c(PointCloud(pos, {"rgb": rgb}), codec="octree", attr_rate=4)),
               ("intensity", c(PointCloud(pos, {"intensity": inten}), codec="octree")),
               ("intensity_rate", c(PointCloud(pos, {"intensity": inten, "rgb": u16}), codec="octree", attr_rate=2)),
               ("normals", c(PointCloud(pos, {"normals": normals}), codec="octree"))]
    elif target == "image":
        out = [("rgb", c(ErpImage(rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)), codec="image", rate=3)),
               ("grey", c(ErpImage(rng.integers(0, 256, (12, 20, 1), dtype=np.uint8)), codec="image", rate=5)),
               ("hyperprior", c(ErpImage(rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)), codec="image", rate=3,
                                model="image_core"))]
    elif target == "erp":
        out = [("rgb", c(ErpImage(rng.integers(0, 256, (16, 32, 3), dtype=np.uint8)), codec="erp", rate=3)),
               ("hyperprior", c(ErpImage(rng.integers(0, 256, (16, 32, 3), dtype=np.uint8)), codec="erp", rate=3,
                                model="image_erp"))]
    elif target == "lightfield":
        out = [("rgb", c(LightField(rng.integers(0, 256, (3, 3, 16, 16, 3), dtype=np.uint8)), codec="lightfield",
                         rate=3))]
    return [Seed(f"{target}-{name}", ".omc", data) for name, data in out]


def _reader_seeds(target: str, tmp: Path) -> list[Seed]:
    import numpy as np

    import omnicodec
    from omnicodec.types import ErpImage, Grid, LightField, PointCloud

    rng = np.random.default_rng(11)
    n = 24
    pos = (rng.random((n, 3)) * 10).astype(np.float32)
    rgb = rng.integers(0, 256, (n, 3)).astype(np.uint8)
    cloud = PointCloud(pos, {"rgb": rgb, "intensity": rng.random(n).astype(np.float32)})
    grid_cloud = PointCloud(rng.integers(0, 50, (n, 3)).astype(np.float32), grid=Grid(0.5, (1, 2, 3), 6))
    files: list[tuple[str, str, Any, dict]] = []
    if target == "ply":
        files = [("le", ".ply", cloud, {}), ("be", ".ply", cloud, {"big_endian": True}),
                 ("ascii", ".ply", cloud, {"ascii": True}), ("grid", ".ply", grid_cloud, {"ascii": True})]
    elif target == "pcd":
        files = [("ascii", ".pcd", cloud, {"encoding": "ascii"}), ("binary", ".pcd", cloud, {"encoding": "binary"}),
                 ("compressed", ".pcd", cloud, {"encoding": "binary_compressed"})]
    elif target == "bin":
        kitti = PointCloud(pos, {"intensity": rng.random(n).astype(np.float32)})
        files = [("kitti", ".bin", kitti, {}),
                 ("nuscenes", ".bin", PointCloud(pos, {"intensity": kitti.attributes["intensity"],
                                                        "ring": rng.integers(0, 32, n).astype(np.float32)}), {})]
    elif target == "las":
        las = PointCloud(rng.random((n, 3)) * 100, {"rgb": rng.integers(0, 9, (n, 3)).astype("u2")})
        files = [("las", ".las", las, {}), ("laz", ".laz", las, {})]
    elif target == "h5":
        files = [("views", ".h5", LightField(rng.integers(0, 256, (2, 2, 4, 4, 3), dtype=np.uint8)), {})]
    elif target == "png":
        files = [("rgb", ".png", ErpImage(rng.integers(0, 256, (8, 16, 3), dtype=np.uint8)), {}),
                 ("grey", ".png", ErpImage(rng.integers(0, 256, (6, 10, 1), dtype=np.uint8)), {}),
                 ("rgba", ".png", ErpImage(rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)), {})]
    elif target == "jpeg":
        files = [("rgb", ".jpg", ErpImage(rng.integers(0, 256, (8, 16, 3), dtype=np.uint8)), {}),
                 ("grey", ".jpg", ErpImage(rng.integers(0, 256, (9, 9, 1), dtype=np.uint8)), {})]
    seeds = []
    for name, ext, data, options in files:
        path = tmp / f"{target}-{name}{ext}"
        omnicodec.write(path, data, **options)
        seeds.append(Seed(f"{target}-{name}", ext, path.read_bytes()))
    if target == "pcd":
        seeds.append(Seed("pcd-bun0", ".pcd", (REPO / "datasets" / "samples" / "bun0.pcd").read_bytes()))
    if target == "ply":  # faces (list properties), which the writer never makes
        head = (b"ply\nformat %s 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
                b"element face 2\nproperty list uchar int vertex_indices\nend_header\n")
        verts = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
        faces = struct.pack("<B3iB3i", 3, 0, 1, 2, 3, 2, 1, 0)
        seeds.append(Seed("ply-faces", ".ply", head % b"binary_little_endian" + verts + faces))
        seeds.append(Seed("ply-faces-ascii", ".ply", head % b"ascii" + b"0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n3 2 1 0\n"))
    if target == "h5":
        seeds += _h5_structure_seeds(tmp)
    if target == "folder":
        for naming in ("hci", "rowcol"):
            folder = tmp / f"folder-{naming}"
            omnicodec.write(folder, LightField(rng.integers(0, 256, (2, 2, 6, 8, 3), dtype=np.uint8)), naming=naming)
            seeds.append(Seed(f"folder-{naming}", "", files={p.name: p.read_bytes() for p in sorted(folder.iterdir())}))
    return seeds


def _h5_structure_seeds(tmp: Path) -> list[Seed]:
    """HDF5 files the writer would not make: shapes declared far beyond the bytes stored, odd types and names."""
    import h5py
    import numpy as np

    variants = [
        ("huge", (4, 4, 60000, 60000, 3), "u1", (1, 1, 16, 16, 3)),
        ("huge-views", (100000, 100000, 2, 2, 3), "u1", (1, 1, 2, 2, 3)),
        ("float", (2, 2, 4, 4, 3), "f8", None),
        ("four-d", (2, 2, 4, 4), "u1", None),
        ("wide", (1, 1, 3, 3, 70000), "u1", (1, 1, 3, 3, 256)),
        ("u16", (2, 2, 4, 4, 3), "u2", None),
    ]
    seeds = []
    for name, shape, dtype, chunks in variants:
        path = tmp / f"h5-{name}.h5"
        with h5py.File(path, "w") as f:
            if chunks is None:
                f.create_dataset("views", data=np.arange(int(np.prod(shape))).reshape(shape).astype(dtype))
            else:
                ds = f.create_dataset("views", shape=shape, dtype=dtype, chunks=chunks, compression="gzip")
                ds[0, 0, :chunks[2], :chunks[3]] = 7
            f.attrs["naming"] = "hci"
        seeds.append(Seed(f"h5-{name}", ".h5", path.read_bytes()))
    return seeds


def make_seeds(targets: list[str]) -> dict[str, list[Seed]]:
    """The seeds of each target (streams encoded now, files written now by the package's writers)."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="omnicodec-fuzz-seeds-") as tmp:
        for t in targets:
            out[t] = _stream_seeds(t) if t in STREAM_TARGETS else _reader_seeds(t, Path(tmp))
    return out


# ------------------------------------------------------------------------------------------------ byte mutations

_BYTES = (0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE, 0x20, 0x0A)
_WORDS = (0, 1, 0xFF, 0x7F, 0x80, 0xFFFF, 0x7FFF, 0x8000, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x10000,
          0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 1 << 40)
_NUMBERS = ("0", "-1", "1", "-2147483649", "2147483648", "4294967296", "1000000000", "18446744073709551617",
            "99999999999999999999999999999", "1e308", "1e999", "-1e999", "nan", "inf", "-0", "0.5", "1e-320", "x", "")


def _pos(rng: random.Random, n: int) -> int:
    """A position, biased to the first 512 bytes (where the headers are)."""
    if n <= 0:
        return 0
    return rng.randrange(min(n, 512)) if rng.random() < 0.6 else rng.randrange(n)


def mutate_bytes(data: bytes, rng: random.Random, others: list[bytes]) -> tuple[bytes, str]:
    """One generic byte-level mutation; returns the new bytes and a description."""
    b = bytearray(data)
    n = len(b)
    kind = rng.choice(("flip", "flip", "byte", "byte", "word", "truncate", "insert", "delete", "duplicate", "splice",
                       "number"))
    if n == 0:
        kind = "insert"
    if kind == "flip":
        k = rng.choice((1, 1, 2, 4, 8))
        where = []
        for _ in range(k):
            i = _pos(rng, n)
            b[i] ^= 1 << rng.randrange(8)
            where.append(i)
        return bytes(b), f"flip bits at {where}"
    if kind == "byte":
        i = _pos(rng, n)
        v = rng.choice(_BYTES) if rng.random() < 0.8 else rng.randrange(256)
        b[i] = v
        return bytes(b), f"byte {i} = {v:#x}"
    if kind == "word":
        width = rng.choice((2, 4, 8))
        i = _pos(rng, max(1, n - width))
        v = rng.choice(_WORDS) & ((1 << (8 * width)) - 1)
        b[i:i + width] = v.to_bytes(width, rng.choice(("little", "big")))
        return bytes(b), f"word{width * 8} at {i} = {v:#x}"
    if kind == "truncate":
        cut = rng.randrange(n)
        return bytes(b[:cut]), f"truncate to {cut}"
    if kind == "insert":
        i = rng.randrange(n + 1)
        k = rng.choice((1, 4, 16, 256))
        blob = bytes(rng.randrange(256) for _ in range(k)) if rng.random() < 0.5 else bytes([rng.choice(_BYTES)]) * k
        return bytes(b[:i] + blob + b[i:]), f"insert {k} bytes at {i}"
    if kind == "delete":
        i = rng.randrange(n)
        k = min(n - i, rng.choice((1, 4, 16, 256)))
        del b[i:i + k]
        return bytes(b), f"delete {k} bytes at {i}"
    if kind == "duplicate":
        i = rng.randrange(n)
        k = min(n - i, rng.choice((4, 64, 1024)))
        j = rng.randrange(n + 1)
        return bytes(b[:j] + b[i:i + k] + b[j:]), f"copy {k} bytes from {i} to {j}"
    if kind == "splice":
        other = rng.choice(others) if others else data
        i, j = rng.randrange(n + 1), rng.randrange(len(other) + 1)
        return bytes(b[:i]) + other[j:], f"splice at {i} with another seed from {j}"
    # number: a decimal number in the text is replaced by an extreme one
    numbers = [m.span() for m in re.finditer(rb"-?\d+(\.\d+)?", bytes(b[:4096]))]
    if not numbers:
        return mutate_bytes(data, rng, others)
    s, e = rng.choice(numbers)
    v = rng.choice(_NUMBERS)
    return bytes(b[:s]) + v.encode() + bytes(b[e:]), f"number at {s} -> {v!r}"


# ---------------------------------------------------------------------------------------------- stream mutations

_JSON_VALUES: tuple = (float("inf"), float("-inf"), float("nan"), 2**64 + 1, 10**30, -(2**70), -1, 0, 1, -0.5, 0.5,
                       1e308, 2**31, 2**63, "", "x", "<f8", "|O", "V8", [], {}, None, True, False, [1, 2, 3],
                       [0, 0], {"a": 1}, "lidar", "constriction", 2**28 + 1, 10**9, 22, 64, 255, 256)


@dataclass
class _Parsed:
    version: tuple[int, int]
    flags: int
    modality: int
    coder: int
    codec: bytes
    model: bytes
    sha: bytes
    params: bytes
    chunks: list[tuple[bytes, bytes]]


def _parse_stream(data: bytes) -> _Parsed:
    from omnicodec.bitstream import MODALITIES, unpack

    s = unpack(data)
    h = s.header
    params = json.dumps(h.params, sort_keys=True, separators=(",", ":")).encode()
    return _Parsed(h.version, 0, MODALITIES[h.modality], h.coder_id, h.codec.encode(), h.model.encode(),
                   h.weights_sha256, params, [(c.tag.encode(), c.data) for c in s.chunks])


def _pack_stream(p: _Parsed) -> bytes:
    """Stream bytes with correct lengths and checksums for whatever the fields hold."""
    head = b"".join([
        bytes([p.modality & 0xFF, p.coder & 0xFF]),
        bytes([len(p.codec) & 0xFF]) + p.codec[:255],
        bytes([len(p.model) & 0xFF]) + p.model[:255],
        bytes([len(p.sha) & 0xFF]) + p.sha[:255],
        struct.pack("<I", len(p.params)), p.params,
        struct.pack("<I", len(p.chunks)),
    ])
    parts = [struct.pack("<4sBBHI", b"OMNC", p.version[0], p.version[1], p.flags, len(head)), head,
             struct.pack("<I", zlib.crc32(head))]
    for tag, payload in p.chunks:
        parts += [struct.pack("<4sII", tag[:4].ljust(4, b" "), len(payload), zlib.crc32(payload)), payload]
    return b"".join(parts)


def _json_paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _json_paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value[:16]):
            out += _json_paths(v, path + (i,))
    return out


def _mutate_params(params: dict, rng: random.Random, focus: str | None) -> tuple[dict, str]:
    params = json.loads(json.dumps(params))
    paths = [p for p in _json_paths(params) if p]
    if focus:
        focused = [p for p in paths if p[0] == focus]
        if focused and rng.random() < 0.85:
            paths = focused
    if not paths:
        params["extra"] = 1
        return params, "add 'extra'"
    path = rng.choice(paths)
    parent = params
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    old = parent[key]
    kind = rng.choice(("value", "value", "value", "value", "scale", "delete", "extra", "wrap", "string"))
    if kind == "delete":
        if isinstance(parent, dict):
            del parent[key]
        else:
            parent.pop(key)
        return params, f"delete {list(path)}"
    if kind == "extra" and isinstance(parent, dict):
        parent[rng.choice(("extra", "zz", "__class__", "version"))] = rng.choice(_JSON_VALUES)
        return params, f"extra field beside {list(path)}"
    if kind == "extra" and isinstance(parent, list):
        parent.append(parent[-1] if parent and rng.random() < 0.5 else rng.choice(_JSON_VALUES))
        return params, f"extra element in {list(path[:-1])}"
    if kind == "wrap":
        new = [old] if rng.random() < 0.5 else {"v": old}
    elif kind == "string":
        new = str(old)
    elif kind == "scale" and isinstance(old, (int, float)) and not isinstance(old, bool):
        new = rng.choice((old * 2, old + 1, old - 1, -old, old * 1000, old // 2 if isinstance(old, int) else old / 2))
    else:
        new = rng.choice(_JSON_VALUES)
    parent[key] = new
    return params, f"{list(path)}: {old!r:.40} -> {new!r:.40}"


def mutate_stream(data: bytes, rng: random.Random, others: list[bytes], focus: str | None = None) -> tuple[bytes, str]:
    """One mutation of a stream; most keep the container's checksums right so that the decoders see the change."""
    try:
        p = _parse_stream(data)
    except Exception:  # noqa: BLE001 - an earlier raw mutation broke the container: only raw mutations remain
        return mutate_bytes(data, rng, others)
    r = rng.random()
    if r < 0.2:
        return mutate_bytes(data, rng, others)
    if r < 0.27:  # declared sizes inflated together (a small stream claiming a huge image, grid, cloud)
        params = json.loads(p.params)
        sizes = [k for k, v in params.items() if isinstance(v, int) and not isinstance(v, bool) and v > 1]
        if not sizes:
            return mutate_bytes(data, rng, others)
        keys = rng.sample(sizes, min(len(sizes), rng.choice((1, 2, 2, 3))))
        factor = rng.choice((2, 10, 100, 1000, 1 << 12))
        for k in keys:
            params[k] *= factor
        p.params = json.dumps(params).encode()
        return _pack_stream(p), f"params {keys} x {factor}"
    if r < 0.5:
        params = json.loads(p.params)
        params, what = _mutate_params(params, rng, "attributes" if focus == "ATTR" else None)
        p.params = json.dumps(params, allow_nan=True).encode()
        return _pack_stream(p), f"params {what}"
    if r < 0.55:
        text, what = mutate_bytes(p.params, rng, [])
        if rng.random() < 0.5:
            numbers = [m.span() for m in re.finditer(rb"-?\d+(\.\d+)?", p.params)]
            if numbers:
                s, e = rng.choice(numbers)
                v = rng.choice(("1e999", "-1e999", "NaN", "Infinity", "-Infinity", "123456789012345678901234567890",
                                "-9223372036854775809", "1.5", "true", "null", '"1"', "[]"))
                text, what = p.params[:s] + v.encode() + p.params[e:], f"number at {s} -> {v}"
        p.params = text
        return _pack_stream(p), f"params text {what}"
    if r < 0.85 and p.chunks:
        idx = [i for i, (t, _) in enumerate(p.chunks) if focus is None or t == focus.encode()] or range(len(p.chunks))
        i = rng.choice(list(idx))
        tag, payload = p.chunks[i]
        new, what = mutate_bytes(payload, rng, [c for _, c in p.chunks])
        p.chunks[i] = (tag, new)
        return _pack_stream(p), f"chunk {i} {tag.decode()}: {what}"
    kind = rng.choice(("coder", "codec", "model", "sha", "drop", "repeat", "swap", "foreign", "tag", "version"))
    if kind == "coder":
        p.coder = rng.choice((0, 1, 2, 3, 255, rng.randrange(256)))
        what = f"coder id {p.coder}"
    elif kind == "codec":
        p.codec = rng.choice(STREAM_TARGETS[:4] + ("image", "erp", "lightfield", "", "Octree", "x" * 64)).encode()
        if p.codec == b"attributes":
            p.codec = b"octree"
        what = f"codec id {p.codec.decode()!r}"
    elif kind == "model":
        p.model = rng.choice((b"", b"lidar", b"dense", b"attributes", b"nope", b"../../etc/passwd", b"x" * 200))
        what = f"model id {p.model!r}"
    elif kind == "sha":
        p.sha = rng.choice((b"", bytes(32), bytes(rng.randrange(256) for _ in range(32))))
        what = f"weights checksum {p.sha.hex()[:8]} ({len(p.sha)} bytes)"
    elif kind == "version":
        p.version = (1, rng.choice((0, 1, 255)))
        p.flags = rng.choice((0, 0, 1))
        what = f"version {p.version} flags {p.flags}"
    elif kind == "drop" and p.chunks:
        i = rng.randrange(len(p.chunks))
        what = f"drop chunk {i} {p.chunks.pop(i)[0].decode()}"
    elif kind == "repeat" and p.chunks:
        i = rng.randrange(len(p.chunks))
        p.chunks.insert(rng.randrange(len(p.chunks) + 1), p.chunks[i])
        what = f"repeat chunk {i}"
    elif kind == "swap" and len(p.chunks) > 1:
        i, j = rng.sample(range(len(p.chunks)), 2)
        p.chunks[i], p.chunks[j] = p.chunks[j], p.chunks[i]
        what = f"swap chunks {i} and {j}"
    elif kind == "tag" and p.chunks:
        i = rng.randrange(len(p.chunks))
        p.chunks[i] = (rng.choice((b"ATTR", b"OCCU", b"DUPC", b"SPIN", b"PLNE", b"KEYC", b"LFTL", b"ZZZZ")),
                       p.chunks[i][1])
        what = f"retag chunk {i} as {p.chunks[i][0].decode()}"
    else:
        other = rng.choice(others) if others else data
        try:
            q = _parse_stream(other)
        except Exception:  # noqa: BLE001
            return mutate_bytes(data, rng, others)
        if not q.chunks:
            return mutate_bytes(data, rng, others)
        j = rng.randrange(len(q.chunks))
        i = rng.randrange(len(p.chunks) + 1)
        if i < len(p.chunks) and rng.random() < 0.5:
            p.chunks[i] = q.chunks[j]
        else:
            p.chunks.insert(i, q.chunks[j])
        what = f"chunk {j} of another seed placed at {i}"
    return _pack_stream(p), what


# ------------------------------------------------------------------------------------------------ file mutations

_COUNTS = ("0", "1", "-1", "2", "1000000000", "2147483648", "4294967297", "18446744073709551617", "10" * 20, "1e3",
           "0x10", "abc", "", "3.5", "268435457", "65536")
_PLY_TYPES = ("char", "uchar", "short", "ushort", "int", "uint", "float", "double", "int8", "uint8", "int16", "uint16",
              "int32", "uint32", "float32", "float64", "int64", "bogus", "list uchar int", "list uint float",
              "list float int", "list int int")


def _split_header(data: bytes, end: bytes) -> tuple[list[bytes], bytes, bytes] | None:
    i = data.find(end)
    if i < 0:
        return None
    j = i + len(end)
    return data[:i].split(b"\n"), data[i:j], data[j:]


def _mutate_lines(lines: list[bytes], rng: random.Random, line_edit) -> tuple[list[bytes], str]:
    lines = list(lines)
    kind = rng.choice(("edit", "edit", "edit", "edit", "delete", "duplicate", "swap", "insert"))
    i = rng.randrange(len(lines))
    if kind == "delete":
        return lines[:i] + lines[i + 1:], f"delete header line {lines[i][:40]!r}"
    if kind == "duplicate":
        return lines[:i + 1] + lines[i:], f"repeat header line {lines[i][:40]!r}"
    if kind == "swap" and len(lines) > 1:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return lines, f"swap header lines {i} and {j}"
    if kind == "insert":
        new = line_edit(None, rng)
        return lines[:i] + [new] + lines[i:], f"insert header line {new[:60]!r}"
    new = line_edit(lines[i], rng)
    old, lines[i] = lines[i], new
    return lines, f"header line {old[:40]!r} -> {new[:60]!r}"


def _ply_line(line: bytes | None, rng: random.Random) -> bytes:
    if line is None:
        return rng.choice((b"element face " + rng.choice(_COUNTS).encode(), b"property list uchar int vertex_indices",
                           b"property float x", b"comment omnicodec grid nan 0 0 0 99",
                           b"comment omnicodec grid 1e-300 9999999999999999999 0 0 64", b"obj_info x",
                           b"format ascii 1.0", b"element vertex 1000000000"))
    words = line.split()
    if not words:
        return line
    if words[0] == b"element" and len(words) >= 3:
        return b" ".join(words[:2] + [rng.choice(_COUNTS).encode()])
    if words[0] == b"property" and len(words) >= 3:
        if rng.random() < 0.7:
            return b"property " + rng.choice(_PLY_TYPES).encode() + b" " + words[-1]
        return b" ".join(words[:-1] + [rng.choice((b"x", b"y", b"red", b"", b"x" * 300, b"\xff\xfe"))])
    if words[0] == b"format":
        return b"format " + rng.choice((b"ascii", b"binary_little_endian", b"binary_big_endian", b"binary")) + b" " + \
            rng.choice((b"1.0", b"2.0", b"", b"1.0 extra"))
    return rng.choice((b"", b"comment " + b"x" * 1000, line + b" extra", b"ply", b"end_header"))


def _pcd_line(line: bytes | None, rng: random.Random) -> bytes:
    keys = (b"VERSION", b"FIELDS", b"SIZE", b"TYPE", b"COUNT", b"WIDTH", b"HEIGHT", b"VIEWPOINT", b"POINTS", b"DATA")
    if line is None:
        return rng.choice(keys) + b" " + rng.choice(_COUNTS).encode()
    words = line.split()
    if not words:
        return line
    key = words[0]
    values = words[1:]
    if key == b"DATA":
        return b"DATA " + rng.choice((b"ascii", b"binary", b"binary_compressed", b"binaryx", b""))
    if key == b"TYPE" and values:
        i = rng.randrange(len(values))
        values[i] = rng.choice((b"F", b"I", b"U", b"X", b"f", b""))
    elif key == b"SIZE" and values:
        i = rng.randrange(len(values))
        values[i] = rng.choice((b"0", b"1", b"2", b"3", b"4", b"8", b"16", b"1000000", b"-4"))
    elif key == b"FIELDS" and values:
        i = rng.randrange(len(values))
        values[i] = rng.choice((b"x", b"rgb", b"rgba", b"_", b"normal_x", values[0]))
    elif values:
        i = rng.randrange(len(values))
        values[i] = rng.choice(_COUNTS).encode()
        if rng.random() < 0.3:
            values = values[:i]
    return b" ".join([key] + values)


def mutate_ply(data: bytes, rng: random.Random, others: list[bytes]) -> tuple[bytes, str]:
    parts = _split_header(data, b"end_header\n")
    if parts is None or rng.random() < 0.35:
        return mutate_bytes(data, rng, others)
    lines, end, body = parts
    lines, what = _mutate_lines(lines, rng, _ply_line)
    return b"\n".join(lines) + end + body, what


def mutate_pcd(data: bytes, rng: random.Random, others: list[bytes]) -> tuple[bytes, str]:
    m = re.search(rb"\nDATA [^\n]*\n", data)
    if m is None or rng.random() < 0.3:
        return mutate_bytes(data, rng, others)
    lines, body = data[:m.start()].split(b"\n") + [m.group()[1:-1]], data[m.end():]
    if b"binary_compressed" in m.group() and rng.random() < 0.3 and len(body) >= 8:
        which = rng.randrange(2)
        v = rng.choice(_WORDS) & 0xFFFFFFFF
        b = bytearray(body)
        b[4 * which:4 * which + 4] = struct.pack("<I", v)
        return data[:m.end()] + bytes(b), f"compressed {'uncompressed ' if which else ''}size = {v:#x}"
    lines, what = _mutate_lines(lines, rng, _pcd_line)
    return b"\n".join(lines) + b"\n" + body, what


# (offset, struct format) of LAS header fields worth breaking
_LAS_FIELDS = [(24, "B"), (25, "B"), (94, "<H"), (96, "<I"), (100, "<I"), (104, "B"), (105, "<H"), (107, "<I"),
               (111, "<I"), (131, "<d"), (139, "<d"), (147, "<d"), (155, "<d"), (179, "<d"), (187, "<d"),
               (227, "<Q"), (235, "<Q"), (243, "<I"), (247, "<Q"), (255, "<Q")]


def mutate_las(data: bytes, rng: random.Random, others: list[bytes]) -> tuple[bytes, str]:
    if rng.random() < 0.4 or len(data) < 300:
        return mutate_bytes(data, rng, others)
    off, fmt = rng.choice(_LAS_FIELDS)
    size = struct.calcsize(fmt)
    if fmt == "<d":
        v: Any = rng.choice((0.0, -0.0, float("nan"), float("inf"), -float("inf"), 1e-300, 1e300, -1.0))
    else:
        v = rng.choice(_WORDS + (2, 3, 6, 10, 11, 128, 375, 1000000000)) & ((1 << (8 * size)) - 1)
    b = bytearray(data)
    b[off:off + size] = struct.pack(fmt, v)
    return bytes(b), f"LAS header field at {off} = {v!r}"


def _png_chunks(data: bytes) -> list[tuple[int, bytes, bytes]]:
    out, pos = [], 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag = data[pos + 4:pos + 8]
        out.append((pos, tag, data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return out


def mutate_png(data: bytes, rng: random.Random, others: list[bytes]) -> tuple[bytes, str]:
    chunks = _png_chunks(data) if data.startswith(b"\x89PNG") else []
    if not chunks or rng.random() < 0.4:
        return mutate_bytes(data, rng, others)
    pos, tag, body = rng.choice(chunks)
    if tag == b"IHDR" and len(body) == 13:
        b = bytearray(body)
        which = rng.choice(("width", "height", "depth", "colour", "interlace"))
        if which in ("width", "height"):
            v = rng.choice((0, 1, 65535, 100000, 1 << 20, 0x7FFFFFFF, 0xFFFFFFFF))
            b[(0 if which == "width" else 4):(4 if which == "width" else 8)] = struct.pack(">I", v)
        else:
            i = {"depth": 8, "colour": 9, "interlace": 12}[which]
            v = rng.choice((0, 1, 2, 3, 4, 6, 8, 16, 255))
            b[i] = v
        new, what = bytes(b), f"IHDR {which} = {v}"
    else:
        new, what = mutate_bytes(body, rng, [])
        what = f"{tag!r}: {what}"
    crc = struct.pack(">I", zlib.crc32(tag + new))
    return data[:pos] + struct.pack(">I", len(new)) + tag + new + crc + data[pos + 12 + len(body):], what


def mutate_jpeg(data: bytes, rng: random.Random, others: list[bytes]) -> tuple[bytes, str]:
    sof = data.find(b"\xff\xc0")
    if sof < 0 or sof + 10 > len(data) or rng.random() < 0.5:  # no whole SOF0 segment (an earlier cut)
        return mutate_bytes(data, rng, others)
    b = bytearray(data)
    which = rng.choice(("height", "width", "components", "precision"))
    if which in ("height", "width"):
        i = sof + (5 if which == "height" else 7)
        v = rng.choice((0, 1, 65535, 30000, 8))
        b[i:i + 2] = struct.pack(">H", v)
    else:
        i = sof + (9 if which == "components" else 4)
        v = rng.choice((0, 1, 2, 3, 4, 12, 16, 255))
        b[i] = v
    return bytes(b), f"SOF0 {which} = {v}"


_FOLDER_NAMES = ("sample_99_99.png", "sample_1000000_1.png", "input_Cam999.png", "input_Cam1000000000.png",
                 "other_01_01.png", "notes.txt", "sample_00_00.png", "sample_-1_01.png", ".hidden.png")


def mutate_folder(files: dict[str, bytes], rng: random.Random, others: list[bytes]) -> tuple[dict[str, bytes], str]:
    files = dict(files)
    names = sorted(files)
    kind = rng.choice(("view", "view", "view", "remove", "add", "rename", "replace"))
    if kind == "remove" and names:
        name = rng.choice(names)
        del files[name]
        return files, f"remove {name}"
    if kind == "add":
        name = rng.choice(_FOLDER_NAMES)
        files[name] = files[rng.choice(names)] if names and rng.random() < 0.7 else b"\x89PNG\r\n\x1a\n"
        return files, f"add {name}"
    if kind == "rename" and names:
        old = rng.choice(names)
        new = rng.choice(_FOLDER_NAMES)
        files[new] = files.pop(old)
        return files, f"rename {old} -> {new}"
    if kind == "replace" and names and others:
        name = rng.choice(names)
        files[name] = rng.choice(others)
        return files, f"replace {name} with another image"
    name = rng.choice(names)
    files[name], what = mutate_png(files[name], rng, [])
    return files, f"{name}: {what}"


def _mutator(target: str):
    return {"ply": mutate_ply, "pcd": mutate_pcd, "las": mutate_las, "png": mutate_png, "jpeg": mutate_jpeg}.get(
        target, mutate_bytes)


def make_case(target: str, index: int, seeds: list[Seed], run_seed: int, pool: list[bytes]) -> Case:
    """Case ``index`` of ``target``: one of its seeds with one to three mutations (deterministic in the seeds)."""
    rng = random.Random(f"{run_seed}:{target}:{index}")
    seed = seeds[rng.randrange(len(seeds))]
    case = Case(target, index, seed.ext, seed.data, dict(seed.files) if seed.files else None, seed.name)
    others = [s.data for s in seeds if s.data] + pool
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if target == "folder":
            case.files, what = mutate_folder(case.files or {}, rng, pool)
        elif target in STREAM_TARGETS:
            case.data, what = mutate_stream(case.data, rng, others, "ATTR" if target == "attributes" else None)
        else:
            case.data, what = _mutator(target)(case.data, rng, others)
        case.mutations.append(what)
    return case


# ------------------------------------------------------------------------------------------------------- worker


class CaseTimeout(BaseException):
    """Raised by the worker's timer; a BaseException so that ``except Exception`` in the code under test misses it."""


def _on_alarm(signum, frame):
    raise CaseTimeout()


def _is_memory_error(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("not enough memory" in text or "DefaultCPUAllocator" in text
                                              or "can't allocate memory" in text)


def _frames(tb, n: int = 4) -> list[str]:
    return [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in traceback.extract_tb(tb)[-n:]]


def run_one(payload: dict, workdir: Path, time_limit: float) -> dict:
    """Run one case in this process: decode the stream or read the file; classify what happens."""
    import omnicodec
    from omnicodec.errors import OmnicodecError

    target = payload["target"]
    if target == "folder":
        path = workdir / "case"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir()
        for name, content in payload["files"].items():
            (path / name).write_bytes(content)
    elif target in READER_TARGETS:
        path = workdir / f"case{payload['ext']}"
        path.write_bytes(payload["data"])
    t0 = time.perf_counter()
    result: dict[str, Any] = {}
    signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        if target in STREAM_TARGETS:
            omnicodec.decompress(payload["data"])
        else:
            omnicodec.read(path)
        result = {"outcome": "ok"}
    except CaseTimeout:
        result = {"outcome": "timeout", "detail": f"over {time_limit} s"}
    except OmnicodecError as exc:
        result = {"outcome": "clean", "detail": f"{type(exc).__name__}: {str(exc)[:200]}"}
    except Exception as exc:  # noqa: BLE001 - the point of the fuzzer
        outcome = "memory" if _is_memory_error(exc) else "uncaught"
        frames = _frames(exc.__traceback__)
        result = {"outcome": outcome, "type": type(exc).__name__, "detail": f"{type(exc).__name__}: {str(exc)[:300]}",
                  "frames": frames, "where": frames[-1] if frames else ""}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    result["seconds"] = time.perf_counter() - t0
    return result


def _send(fd: int, obj: Any) -> None:
    _write_all(fd, pickle.dumps(obj))


def _write_all(fd: int, blob: bytes) -> None:
    view = memoryview(struct.pack("<Q", len(blob)) + blob)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(f, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def _recv(f) -> Any:
    (n,) = struct.unpack("<Q", _read_exact(f, 8))
    return pickle.loads(_read_exact(f, n))


def worker_main(memory_mb: int, time_limit: float) -> None:
    """Loop: read a case from stdin, run it, answer on the original stdout (C-level output goes to stderr)."""
    out_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if memory_mb > 0:
        limit = memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _on_alarm)
    import warnings

    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(1)
    from omnicodec.codecs.registry import _load_builtin

    _load_builtin()
    stdin = sys.stdin.buffer
    init = _recv(stdin)
    workdir = Path(tempfile.mkdtemp(prefix="omnicodec-fuzz-worker-"))
    try:
        from omnicodec.entropy import CODER_IDS, get_coder

        for name in CODER_IDS:  # load every entropy coder's extension once
            with contextlib.suppress(Exception):
                get_coder(name).encoder()
        for payload in init.get("warm", []):  # load the models once, outside any case's time limit
            with contextlib.suppress(Exception):
                run_one(payload, workdir, 600.0)
        _send(out_fd, {"ready": True, "vm_peak_kb": _vm_peak()})
        while True:
            try:
                msg = _recv(stdin)
            except EOFError:
                break
            if msg is None:
                break
            _send(out_fd, {"id": msg["id"], **run_one(msg["payload"], workdir, time_limit)})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _vm_peak() -> int:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmPeak:"):
                return int(line.split()[1])
    return 0


class Worker:
    """A worker process seen from the parent."""

    def __init__(self, warm: list[dict], memory_mb: int, time_limit: float):
        self.log = tempfile.TemporaryFile()
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONWARNINGS="ignore")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", "--memory-mb", str(memory_mb),
             "--time-limit", str(time_limit)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, cwd=REPO, env=env)
        self.busy: tuple[int, float] | None = None  # (case id, deadline)
        self.killed = False
        self.ready = False
        self.vm_peak_kb = 0
        _write_all(self.proc.stdin.fileno(), pickle.dumps({"warm": warm}))

    def send(self, case_id: int, payload: dict, deadline: float) -> None:
        self.busy = (case_id, deadline)
        _write_all(self.proc.stdin.fileno(), pickle.dumps({"id": case_id, "payload": payload}))

    def receive(self) -> Any:
        return _recv(self.proc.stdout)

    def death(self) -> dict:
        """How the worker died, as a case result."""
        self.proc.wait()
        self.log.seek(max(0, self.log.seek(0, 2) - 2000))
        tail = self.log.read().decode("utf-8", "replace").strip().splitlines()[-3:]
        rc = self.proc.returncode
        if self.killed:
            return {"outcome": "timeout", "detail": "killed by the parent after the time limit"}
        text = " ".join(tail)
        memory = rc == -signal.SIGKILL or "bad_alloc" in text or "out of memory" in text.lower()
        return {"outcome": "memory" if memory else "crash", "detail": f"worker died (status {rc}): {text[-300:]}"}

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.stdin.close()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Pool:
    """``n`` workers; :meth:`run` feeds them cases and yields (case id, result) as they finish."""

    def __init__(self, n: int, warm: list[dict], memory_mb: int, time_limit: float):
        self.n, self.warm, self.memory_mb, self.time_limit = n, warm, memory_mb, time_limit
        self.workers: list[Worker] = []
        self.vm_peak_kb = 0
        self.restarts = 0

    def _start(self) -> Worker:
        w = Worker(self.warm, self.memory_mb, self.time_limit)
        msg = w.receive()  # blocks until imports and warm-up are done
        w.ready = True
        self.vm_peak_kb = max(self.vm_peak_kb, msg.get("vm_peak_kb", 0))
        return w

    def run(self, payloads):
        """``payloads``: an iterator of (case id, payload)."""
        payloads = iter(payloads)
        sel = selectors.DefaultSelector()
        while len(self.workers) < self.n:
            self.workers.append(self._start())
        idle = list(self.workers)
        pending = True
        try:
            while True:
                while idle and pending:
                    item = next(payloads, None)
                    if item is None:
                        pending = False
                        break
                    w = idle.pop()
                    w.send(item[0], item[1], time.monotonic() + self.time_limit + _GRACE)
                    sel.register(w.proc.stdout, selectors.EVENT_READ, w)
                busy = [w for w in self.workers if w.busy]
                if not busy:
                    return
                timeout = max(0.0, min(w.busy[1] for w in busy) - time.monotonic())
                events = sel.select(timeout)
                now = time.monotonic()
                done: list[tuple[Worker, dict]] = []
                for key, _ in events:
                    w = key.data
                    try:
                        res = w.receive()
                    except (EOFError, OSError, pickle.UnpicklingError):
                        res = None
                    done.append((w, res))
                for w in busy:
                    if w.busy and w.busy[1] < now and not any(w is d for d, _ in done):
                        w.killed = True
                        w.proc.kill()
                        done.append((w, None))
                for w, res in done:
                    case_id = w.busy[0]
                    w.busy = None
                    sel.unregister(w.proc.stdout)
                    if res is None:
                        res = w.death()
                        w.close()
                        self.restarts += 1
                        i = self.workers.index(w)
                        w = self.workers[i] = self._start()
                    idle.append(w)
                    yield case_id, res
        finally:
            sel.close()

    def close(self) -> None:
        for w in self.workers:
            w.close()
        self.workers = []


# -------------------------------------------------------------------------------------------------- minimising


def signature(target: str, res: dict) -> str:
    if res["outcome"] == "uncaught":
        return f"{target}|uncaught|{res.get('type')}|{res.get('where')}"
    if res["outcome"] == "memory" and res.get("where"):
        return f"{target}|memory|{res.get('where')}"
    return f"{target}|{res['outcome']}"


def minimise(case: Case, seed: Seed | None, sig: str, pool: Pool, budget: int = 120, seconds: float = 60.0) -> Case:
    """Shrink a failing case while it keeps failing the same way: truncations, then mutated bytes reverted (at most
    ``budget`` tries and about ``seconds``; a timeout costs the time limit per try, so it gets a few tries only)."""
    if case.files is not None:
        return case
    tries = 0
    deadline = time.monotonic() + seconds
    if sig.split("|")[1] in ("timeout", "crash"):
        budget = min(budget, 6)

    def fails(data: bytes) -> bool:
        nonlocal tries
        tries += 1
        if time.monotonic() > deadline:
            tries = budget
            return False
        probe = Case(case.target, case.index, case.ext, data)
        for _, res in pool.run([(0, probe.payload())]):
            return signature(case.target, res) == sig
        return False

    data = case.data
    step = len(data) // 2
    while step >= 1 and tries < budget // 2:
        if len(data) - step > 0 and fails(data[:len(data) - step]):
            data = data[:len(data) - step]
        else:
            step //= 2
    if seed is not None and seed.data:
        ref = seed.data[:len(data)]
        diff = [i for i in range(len(ref)) if ref[i] != data[i]]
        group = max(1, len(diff) // 2)
        while diff and group >= 1 and tries < budget:
            changed = False
            for k in range(0, len(diff), group):
                part = diff[k:k + group]
                b = bytearray(data)
                for i in part:
                    b[i] = ref[i]
                if fails(bytes(b)):
                    data, diff, changed = bytes(b), [i for i in diff if i not in set(part)], True
                    break
                if tries >= budget:
                    break
            if not changed:
                if group == 1:
                    break
                group = max(1, group // 2)
    return Case(case.target, case.index, case.ext, data, None, case.seed, case.mutations + ["minimised"])


# ------------------------------------------------------------------------------------------------------- CLI


def _cli_run(command: str, args: list[str], out: Path) -> tuple[list[str], int | None]:
    """Run ``python -m omnicodec COMMAND ARGS``; the problems found (bad input must give exit status 2, exactly one
    stderr line ``omnicodec COMMAND: error: ...`` and nothing at ``out``; success, ``out`` written) and the status."""
    try:
        proc = subprocess.run([sys.executable, "-m", "omnicodec", command, *args], capture_output=True, text=True,
                              timeout=120, cwd=REPO, env=dict(os.environ, OMP_NUM_THREADS="1"))
    except subprocess.TimeoutExpired:
        return [f"{command}: timed out"], None
    problems = []
    lines = proc.stderr.strip().splitlines()
    left = sorted(p.name for p in out.parent.iterdir())
    if proc.returncode == 2:
        if len(lines) != 1 or not lines[0].startswith(f"omnicodec {command}: error: "):
            problems.append(f"{command}: exit 2 with {len(lines)} stderr lines: {proc.stderr.strip()[:300]!r}")
        if left:
            problems.append(f"{command}: exit 2 but left {left}")
    elif proc.returncode == 0:
        if command != "info" and not out.exists():
            problems.append(f"{command}: exit 0 without an output file")
    else:
        problems.append(f"{command}: exit {proc.returncode}: {proc.stderr.strip()[-300:]!r}")
    return problems, proc.returncode


def cli_check(case: Case, workdir: Path) -> tuple[list[str], dict[str, int | None]]:
    """Run a case through the command line: a stream through ``decompress`` and ``info``, a file or a light-field
    folder through ``compress``; the problems found (none for a good answer) and each command's exit status."""
    problems, statuses = [], {}
    out_dir = workdir / "out"
    if case.target in STREAM_TARGETS:
        src = workdir / "in.omc"
        src.write_bytes(case.data)
        modality = {"image": ".png", "erp": ".png", "lightfield": ".h5"}.get(case.target, ".ply")
        runs = [("decompress", [str(src)], out_dir / f"decoded{modality}"), ("info", [str(src)], out_dir / "none")]
    else:
        if case.target == "folder":
            src = workdir / "in_folder"
            shutil.rmtree(src, ignore_errors=True)
            src.mkdir()
            for name, content in (case.files or {}).items():
                (src / name).write_bytes(content)
        else:
            src = workdir / f"in{case.ext}"
            src.write_bytes(case.data)
        runs = [("compress", [str(src)], out_dir / "coded.omc")]
    for command, args, out in runs:
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir()
        found, status = _cli_run(command, args + (["-o", str(out)] if command != "info" else []), out)
        problems += found
        statuses[command] = status
    return problems, statuses


# ------------------------------------------------------------------------------------------------------ driver


def fuzz(targets: list[str], cases: int, seed: int, workers: int, save: Path | None = None, cli: int = 0,
         time_limit: float = TIME_LIMIT, memory_mb: int = MEMORY_MB, minimise_failures: bool = True,
         log=None, max_seconds: float | None = None) -> dict:
    """Run ``cases`` cases on each target (fewer when ``max_seconds`` of cases have passed first: no new case
    starts after that, the report counts the cases run and says ``stopped_early``); returns the report (see the
    module docstring)."""
    t_start = time.perf_counter()
    seeds = make_seeds(targets)
    t_seeds = time.perf_counter() - t_start
    pool_bytes = {t: [s.data for s in seeds[t] if s.data] for t in targets}
    png_pool = [s.data for s in seeds.get("png", [])] or [_tiny_png()]
    warm = [Case(t, -1, s.ext, s.data, s.files).payload() for t in targets if t in STREAM_TARGETS for s in seeds[t]]
    pool = Pool(max(1, workers), warm, memory_mb, time_limit)
    stats = {t: {o: 0 for o in OUTCOMES} | {"cases": 0, "seconds": 0.0} for t in targets}
    failures: dict[str, dict] = {}
    made: dict[int, Case] = {}
    stopped = [False]

    def generate():
        cid = 0
        first = time.perf_counter()  # when the workers ask for their first case
        for i in range(cases):
            if max_seconds is not None and time.perf_counter() - first > max_seconds:
                stopped[0] = True
                return
            for t in targets:
                extra = png_pool if t == "folder" else [d for u in STREAM_TARGETS if u in pool_bytes and u != t
                                                        for d in pool_bytes[u]][:4] if t in STREAM_TARGETS else []
                case = make_case(t, i, seeds[t], seed, extra)
                made[cid] = case
                yield cid, case.payload()
                cid += 1

    t0 = time.perf_counter()
    done = 0
    try:
        for cid, res in pool.run(generate()):
            case = made.pop(cid)
            st = stats[case.target]
            st["cases"] += 1
            st[res["outcome"]] += 1
            st["seconds"] += res.get("seconds", time_limit)
            done += 1
            if res["outcome"] in FAILURES:
                sig = signature(case.target, res)
                entry = failures.setdefault(sig, {"signature": sig, "target": case.target, "outcome": res["outcome"],
                                                  "count": 0, "detail": res.get("detail", ""),
                                                  "frames": res.get("frames", []), "case": case})
                entry["count"] += 1
                if log and entry["count"] == 1:
                    log(f"new failure {sig} (case {case.index} of {case.target}, {case.mutations}): "
                        f"{entry['detail'][:200]}")
            if log and done % 500 == 0:
                log(f"{done} cases, {time.perf_counter() - t0:.0f} s, {len(failures)} distinct failures")
        t_run = time.perf_counter() - t0
        saved = []
        for sig, entry in failures.items():
            case = entry.pop("case")
            entry["seed"], entry["mutations"] = case.seed, case.mutations
            if save is not None:
                seed_obj = next((s for s in seeds[case.target] if s.name == case.seed), None)
                small = minimise(case, seed_obj, sig, pool) if minimise_failures else case
                entry["saved"] = str(_save_case(save, small, entry))
                saved.append(entry["saved"])
    finally:
        pool.close()
    cli_results = []
    if cli:
        with tempfile.TemporaryDirectory(prefix="omnicodec-fuzz-cli-") as tmp:
            for k in range(cli):
                t = targets[k % len(targets)]
                extra = png_pool if t == "folder" else []
                case = make_case(t, 10**6 + k, seeds[t], seed, extra)
                problems, statuses = cli_check(case, Path(tmp))
                cli_results.append({"target": t, "mutations": case.mutations, "problems": problems,
                                    "status": statuses})
    for st in stats.values():
        st["cases_per_s"] = st["cases"] / st["seconds"] if st["seconds"] else 0.0
        st["seconds"] = round(st["seconds"], 3)
    return {
        "seed": seed, "cases_per_target": cases, "stopped_early": stopped[0], "workers": workers,
        "time_limit_s": time_limit,
        "memory_limit_mb": memory_mb, "worker_vm_peak_mb": round(pool.vm_peak_kb / 1024),
        "worker_restarts": pool.restarts, "seconds": {"seeds": round(t_seeds, 2), "cases": round(t_run, 2),
                                                      "total": round(time.perf_counter() - t_start, 2)},
        "targets": stats, "failures": list(failures.values()),
        "cli": {"cases": len(cli_results), "problems": [r for r in cli_results if r["problems"]],
                "status": {c: _tally(r["status"][c] for r in cli_results if c in r["status"])
                           for c in ("compress", "decompress", "info")}},
    }


def _tally(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[str(v)] = out.get(str(v), 0) + 1
    return out


def _tiny_png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 20, 30)).save(buf, format="PNG")
    return buf.getvalue()


def _save_case(folder: Path, case: Case, entry: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    content = case.data if case.files is None else json.dumps(sorted(case.files)).encode()
    digest = hashlib.sha256(content).hexdigest()[:10]
    stem = f"{case.target}-{entry['outcome']}-{digest}"
    if case.files is not None:
        path = folder / stem
        path.mkdir(exist_ok=True)
        for name, data in case.files.items():
            (path / name).write_bytes(data)
    else:
        path = folder / f"{stem}{case.ext}"
        path.write_bytes(case.data)
    meta = {k: v for k, v in entry.items() if k != "saved"}
    (folder / f"{stem}.json").write_text(json.dumps(meta, indent=1) + "\n")
    return path


def payload_for_path(path: Path) -> dict:
    """A case payload from a saved case: a stream (``.omc``), a file, or a folder of views."""
    if path.is_dir():
        return {"target": "folder", "ext": "", "data": b"",
                "files": {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}}
    ext = path.suffix.lower()
    target = "octree" if ext == ".omc" else "ply"  # any stream target decodes, any reader target reads
    return {"target": target, "ext": ext, "data": path.read_bytes(), "files": None}


def replay(paths: list[Path], memory_mb: int = MEMORY_MB, time_limit: float = TIME_LIMIT) -> list[tuple[Path, dict]]:
    """Run saved cases (streams, files, folders) in a worker; (path, result) for each."""
    pool = Pool(1, [], memory_mb, time_limit)
    try:
        results = dict(pool.run((i, payload_for_path(p)) for i, p in enumerate(paths)))
    finally:
        pool.close()
    return [(p, results[i]) for i, p in enumerate(paths)]


def format_table(report: dict) -> str:
    cols = ("cases",) + OUTCOMES + ("cases/s",)
    lines = [f"{'target':12s}" + "".join(f"{c:>10s}" for c in cols)]
    total = {c: 0 for c in cols[:-1]}
    for t, st in report["targets"].items():
        lines.append(f"{t:12s}" + "".join(f"{st[c]:10d}" for c in cols[:-1]) + f"{st['cases_per_s']:10.1f}")
        for c in cols[:-1]:
            total[c] += st[c]
    lines.append(f"{'all':12s}" + "".join(f"{total[c]:10d}" for c in cols[:-1]))
    s = report["seconds"]
    lines.append(f"cases/s: per worker, case time only; wall {s['total']:.1f} s (seeds {s['seeds']:.1f} s, cases "
                 f"{s['cases']:.1f} s) with {report['workers']} worker(s), {report['worker_restarts']} restart(s); "
                 f"worker address space peak {report['worker_vm_peak_mb']} MiB of {report['memory_limit_mb']}")
    for f in report["failures"]:
        where = f" at {' <- '.join(reversed(f['frames']))}" if f.get("frames") else ""
        lines.append(f"FAIL {f['signature']} x{f['count']}: {f['detail'][:200]}{where}"
                     + (f" -> {f['saved']}" if f.get("saved") else ""))
    if report["cli"]["cases"]:
        c = report["cli"]
        statuses = ", ".join(f"{k} {v}" for k, v in c["status"].items() if v)
        lines.append(f"CLI: {c['cases']} cases, {len(c['problems'])} with problems; exit statuses: {statuses}")
        for p in report["cli"]["problems"]:
            lines.append(f"CLI FAIL {p['target']} {p['mutations']}: {p['problems']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default="all",
                        help=f"comma-separated, or 'all', 'streams', 'readers' (targets: {', '.join(TARGETS)})")
    parser.add_argument("--cases", type=int, default=1000, help="cases per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    parser.add_argument("--save", type=Path, help="save the (minimised) failing cases in this folder")
    parser.add_argument("--cli", type=int, default=0, help="also run this many stream cases through the CLI")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT, help="seconds per case")
    parser.add_argument("--memory-mb", type=int, default=MEMORY_MB, help="address-space limit of a worker (MiB)")
    parser.add_argument("--no-minimise", action="store_true")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="start no new case after this many seconds of cases (the report counts those run)")
    parser.add_argument("--replay", type=Path, nargs="+", metavar="PATH",
                        help="only run these saved cases (.omc streams, files, folders) and print their outcomes")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args.memory_mb, args.time_limit)
        return 0
    if args.replay:
        results = replay(args.replay, args.memory_mb, args.time_limit)
        for path, res in results:
            frames = f" at {' <- '.join(reversed(res['frames']))}" if res.get("frames") else ""
            print(f"{res['outcome']:8s} {path}: {res.get('detail', '')[:200]}{frames}")
        return 1 if any(res["outcome"] in FAILURES for _, res in results) else 0
    groups = {"all": TARGETS, "streams": STREAM_TARGETS, "readers": READER_TARGETS}
    targets: list[str] = []
    for name in args.targets.split(","):
        name = name.strip()
        if name in groups:
            targets += [t for t in groups[name] if t not in targets]
        elif name in TARGETS:
            targets.append(name) if name not in targets else None
        else:
            parser.error(f"unknown target {name!r}; choose from {', '.join(TARGETS)}, all, streams, readers")
    report = fuzz(targets, args.cases, args.seed, args.workers, args.save, args.cli, args.time_limit, args.memory_mb,
                  not args.no_minimise, log=lambda m: print(m, file=sys.stderr, flush=True),
                  max_seconds=args.max_seconds)
    print(format_table(report))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    bad = any(report["targets"][t][o] for t in targets for o in FAILURES) or report["cli"]["problems"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
