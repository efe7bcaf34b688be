"""Writes the golden streams of ``tests/golden/``: one small stream per codec, shipped model and notable option, and
the manifest ``tests/golden/golden.json`` recording each stream's sha256 and the sha256 of what it decodes to.

    python tools/make_golden.py            # encode every case (2 torch threads), write the streams and the manifest
    python tools/make_golden.py --decode tests/golden/*.omc    # print {file: decoded sha256} as JSON

The inputs are synthetic (built here from ``datasets`` and ``tests`` helpers) or cut from the bundled samples in
``datasets/samples``, and are deterministic. Every golden stream must decode to its recorded output forever: a change
that alters decoding bumps the stream or payload version (``docs/bitstream.md``, "Golden streams"), and only then are
the streams regenerated with this script.

Decoded outputs are hashed in a canonical form (:func:`decoded_sha256`): the sha256 of the concatenated records of
the output's arrays, each record ``name NUL dtype NUL shape NUL`` (ASCII; dtype as numpy's little-endian ``str``,
e.g. ``<f4``, ``|u1``; shape as comma-separated integers) followed by the array's C-order little-endian bytes. A point
cloud's arrays are ``positions`` then each attribute under its name, in the order the decoder returns them (the
stream's order); an image's is ``pixels`` ``(H, W, C)`` uint8; a light field's ``views`` ``(U, V, H, W, C)`` uint8.
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # the OpenMP pool is sized when torch is first imported
    os.environ.setdefault("OMP_NUM_THREADS", "2")

import argparse
import functools
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

GOLDEN = REPO / "tests" / "golden"
MANIFEST = GOLDEN / "golden.json"
ENCODE_THREADS = 2
"""Torch threads the golden streams are encoded with (the test decodes them with one)."""
CANONICAL = ("sha256 of the records of the decoded arrays, each 'name NUL dtype NUL shape NUL' (ASCII; numpy "
             "little-endian dtype str; shape as comma-separated integers) then the array's C-order little-endian "
             "bytes; a point cloud: positions, then each attribute in decoded (stream) order; an image: pixels "
             "(H, W, C) uint8; a light field: views (U, V, H, W, C) uint8")


@dataclass(frozen=True)
class Case:
    """One golden stream: ``omnicodec.compress(INPUTS[input](), codec=codec, **options)``."""

    name: str
    input: str
    codec: str
    options: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def file(self) -> str:
        return f"{self.name}.omc"


# --- inputs -----------------------------------------------------------------------------------------------------


def _sphere(n_side: int, attributes: bool):
    from omnicodec.types import PointCloud
    from tests.pointcloud.helpers import coloured_sphere

    coords, rgb = coloured_sphere(n_side, seed=7)
    attrs = {}
    if attributes:
        attrs = {"rgb": rgb, "intensity": np.round(rgb[:, 1].astype(np.float32) / np.float32(2.55)) / np.float32(100)}
    return PointCloud(coords.astype(np.float32), attrs)


@functools.cache
def sphere():
    """A voxelised sphere shell in a 40-voxel cube (grid step 1), positions only."""
    return _sphere(40, False)


@functools.cache
def sphere_attrs():
    """The same shell with a smooth colour field plus noise (``rgb`` uint8) and an ``intensity`` in 0.01 steps."""
    return _sphere(40, True)


@functools.cache
def sweep():
    """Four consecutive beams (azimuth runs 13 to 16 of 34) of ``datasets/samples/lidar_sweep32.bin``, a simulated
    sweep in KITTI layout, in scan order (beam after beam, each in azimuth order): positions in metres (float32) and
    ``intensity``."""
    import omnicodec

    cloud = omnicodec.read(REPO / "datasets" / "samples" / "lidar_sweep32.bin")
    p = cloud.positions.astype(np.float64)
    starts = np.flatnonzero(np.diff(np.arctan2(p[:, 1], p[:, 0])) < -np.pi) + 1  # the azimuth wraps: a new beam
    return cloud.select(np.arange(starts[11], starts[15]))


@functools.cache
def image():
    """A 96 x 128 perspective view of the synthetic room (``datasets.synthetic_panorama``)."""
    from datasets.synthetic_panorama import render_room_view
    from omnicodec.types import ErpImage

    return ErpImage(render_room_view(yaw=30.0, pitch=-10.0, fov_deg=80.0, size=(96, 128), seed=3))


@functools.cache
def panorama():
    """A 64 x 128 equirectangular panorama of the synthetic room."""
    from datasets.synthetic_panorama import render_room_panorama
    from omnicodec.types import ErpImage

    return ErpImage(render_room_panorama(height=64, seed=0))


@functools.cache
def lightfield():
    """The centre 3 x 3 views of ``datasets/samples/lightfield_layers``, each its centre 64 x 96 pixels."""
    from omnicodec.io.lightfield import read_lightfield_folder
    from omnicodec.types import LightField

    views = read_lightfield_folder(REPO / "datasets" / "samples" / "lightfield_layers", workers=1).views
    return LightField(np.ascontiguousarray(views[1:4, 1:4, 64:128, 48:144]))


INPUTS = {f.__name__: f for f in (sphere, sphere_attrs, sweep, image, panorama, lightfield)}

CASES: tuple[Case, ...] = (
    Case("octree_sphere", "sphere", "octree", {"grid_step": 1.0}),
    Case("learned_dense_sphere", "sphere", "learned", {"grid_step": 1.0, "model": "dense"}),
    Case("learned_dense_sphere_attrs", "sphere_attrs", "learned", {"grid_step": 1.0, "model": "dense"},
         "lossless colour and intensity (predictive attribute codec, model attributes)"),
    Case("learned_lidar_sweep", "sweep", "learned", {"grid_step": 0.001, "model": "lidar"},
         "lossless intensity"),
    Case("spin_sweep", "sweep", "spin", {"grid_step": 0.001}),
    Case("learned_auto_sweep", "sweep", "learned", {"grid_step": 0.001}, "model auto: handed to spin"),
    Case("lossy_dense_r2", "sphere", "lossy", {"grid_step": 1.0, "model": "dense", "rate": 2}),
    Case("lossy_dense_r7", "sphere", "lossy", {"grid_step": 1.0, "model": "dense", "rate": 7}),
    Case("lossy_dense_r7_attr4", "sphere_attrs", "lossy",
         {"grid_step": 1.0, "model": "dense", "rate": 7, "attr_rate": 4},
         "lossy colour (RAHT, model attributes_raht) and lossy intensity (predictive, model attributes)"),
    Case("lossy_lidar_r1", "sweep", "lossy", {"grid_step": 0.001, "model": "lidar", "rate": 1}),
    Case("lossy_lidar_r3", "sweep", "lossy", {"grid_step": 0.001, "model": "lidar", "rate": 3}),
    Case("lossy_lidar_r6", "sweep", "lossy", {"grid_step": 0.001, "model": "lidar", "rate": 6},
         "geometry-only rate point: the smaller of the lossy and spin streams"),
    Case("image_wavelet_r2", "image", "image", {"rate": 2}),
    Case("image_wavelet_r6", "image", "image", {"rate": 6}),
    Case("image_wavelet_dct_r4", "image", "image", {"rate": 4, "transform": "dct"}),
    Case("image_core_r2", "image", "image", {"rate": 2, "model": "image_core"}),
    Case("image_core_r6", "image", "image", {"rate": 6, "model": "image_core"}),
    Case("erp_wavelet_r2", "panorama", "erp", {"rate": 2}),
    Case("erp_wavelet_r6", "panorama", "erp", {"rate": 6}),
    Case("erp_image_erp_r3", "panorama", "erp", {"rate": 3, "model": "image_erp"}),
    Case("lightfield_r2", "lightfield", "lightfield", {"rate": 2}),
    Case("lightfield_r6", "lightfield", "lightfield", {"rate": 6}),
)


# --- canonical decoded bytes ------------------------------------------------------------------------------------


def canonical_arrays(data: Any) -> list[tuple[str, np.ndarray]]:
    """The named arrays whose records make a decoded output's canonical bytes (see the module docstring)."""
    from omnicodec.types import ErpImage, LightField, PointCloud

    if isinstance(data, PointCloud):
        return [("positions", data.positions), *data.attributes.items()]
    if isinstance(data, ErpImage):
        return [("pixels", data.pixels)]
    if isinstance(data, LightField):
        return [("views", data.views)]
    raise TypeError(f"no canonical form for a {type(data).__name__}")


def canonical_bytes(data: Any) -> bytes:
    """The canonical bytes of a decoded output (or an input)."""
    parts = []
    for name, array in canonical_arrays(data):
        a = np.asarray(array)
        a = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"), copy=False))
        head = f"{name}\0{a.dtype.str}\0{','.join(str(s) for s in a.shape)}\0".encode("ascii")
        parts += [head, a.tobytes()]
    return b"".join(parts)


def decoded_sha256(data: Any) -> str:
    """The sha256 (hex) of :func:`canonical_bytes`."""
    return hashlib.sha256(canonical_bytes(data)).hexdigest()


def models_of(stream: bytes) -> list[str]:
    """Every zoo model a stream names: its header's model, the coarse occupancy model of a lossy stream, the key
    view's core and the blending network of a light field, and each attribute's model."""
    from omnicodec.bitstream import read_header

    header = read_header(stream)
    p = header.params
    names = {header.model, p.get("coarse_model"), p.get("key_core"), p.get("blend")}
    names |= {a.get("model") for a in p.get("attributes", []) if isinstance(a, dict)}
    return sorted(n for n in names if isinstance(n, str) and n)


# --- encoding and decoding --------------------------------------------------------------------------------------


def set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def encode(case: Case) -> bytes:
    """The stream of ``case`` (the caller sets the thread count)."""
    import omnicodec

    return omnicodec.compress(INPUTS[case.input](), codec=case.codec, **case.options)


def decode_files(paths: list[Path]) -> dict[str, str]:
    """``{file name: decoded sha256}`` of stream files."""
    import omnicodec

    return {p.name: decoded_sha256(omnicodec.decompress(p.read_bytes())) for p in paths}


def build(cases: tuple[Case, ...] = CASES, out: Path = GOLDEN) -> dict[str, Any]:
    """Encode every case into ``out`` and return the manifest (also written to ``out/golden.json``)."""
    import omnicodec
    from omnicodec.bitstream import read_header

    set_threads(ENCODE_THREADS)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.omc"):
        old.unlink()
    inputs = {}
    streams = []
    for case in cases:
        if case.input not in inputs:
            inputs[case.input] = {"description": " ".join(INPUTS[case.input].__doc__.split()),
                                  "sha256": hashlib.sha256(canonical_bytes(INPUTS[case.input]())).hexdigest()}
        data = encode(case)
        (out / case.file).write_bytes(data)
        header = read_header(data)
        decoded = omnicodec.decompress(data)
        streams.append({"file": case.file, "codec": case.codec, "input": case.input, "options": case.options,
                        "stream_codec": header.codec, "models": models_of(data), "note": case.note,
                        "bytes": len(data), "stream_sha256": hashlib.sha256(data).hexdigest(),
                        "decoded_sha256": decoded_sha256(decoded)})
        print(f"{case.file:32s} {header.codec:10s} {len(data):7d} bytes  {', '.join(models_of(data))}")
    manifest = {"encode_threads": ENCODE_THREADS, "canonical_decoded_bytes": CANONICAL, "inputs": inputs,
                "streams": streams}
    (out / "golden.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--decode", nargs="+", type=Path, metavar="FILE",
                    help="decode these streams and print {file: decoded sha256} as JSON instead")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for --decode (default: torch's)")
    args = ap.parse_args(argv)
    if args.decode:
        if args.threads:
            set_threads(args.threads)
        print(json.dumps(decode_files(args.decode)))
        return 0
    build()
    return 0


if __name__ == "__main__":
    sys.exit(main())
