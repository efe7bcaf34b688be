"""Truncated and byte-flipped files: every reader answers with data or an InputError naming the file, quickly."""

from __future__ import annotations

import time

import numpy as np
import pytest

import omnicodec
from omnicodec.errors import InputError
from omnicodec.types import ErpImage, LightField, PointCloud

from .conftest import PLY_DTYPES, make_cloud

FORMATS = [
    ("a.ply", {}),
    ("a.ply", {"ascii": True}),
    ("a.ply", {"big_endian": True}),
    ("a.pcd", {"encoding": "ascii"}),
    ("a.pcd", {"encoding": "binary"}),
    ("a.pcd", {"encoding": "binary_compressed"}),
    ("a.bin", {}),
    ("a.las", {}),
    ("a.laz", {}),
    ("a.png", {}),
    ("a.jpg", {}),
    ("a.h5", {}),
]


def _write(path, rng):
    ext = path.suffix
    if ext in (".png", ".jpg"):
        omnicodec.write(path, ErpImage(rng.integers(0, 256, (8, 16, 3), dtype=np.uint8)))
    elif ext == ".h5":
        omnicodec.write(path, LightField(rng.integers(0, 256, (2, 2, 4, 4, 3), dtype=np.uint8)))
    elif ext in (".las", ".laz"):
        omnicodec.write(path, PointCloud(rng.random((40, 3)) * 100, {"rgb": rng.integers(0, 9, (40, 3)).astype("u2")}))
    else:
        return make_cloud(rng, 40, np.float32, PLY_DTYPES[:3])


@pytest.mark.parametrize(
    "name,options", FORMATS, ids=[f"{n}-{'-'.join(map(str, o.values())) or 'default'}" for n, o in FORMATS]
)
def test_truncated_and_flipped_files(tmp_path, rng, name, options):
    path = tmp_path / name
    cloud = _write(path, rng)
    if cloud is not None:
        omnicodec.write(path, cloud, **options)
    data = path.read_bytes()
    trials = [data[:cut] for cut in np.unique(rng.integers(0, len(data), 40))]
    for _ in range(80):
        b = bytearray(data)
        for _ in range(rng.integers(1, 4)):
            i = rng.integers(0, min(len(b), 400) if rng.random() < 0.6 else len(b))
            b[i] = rng.integers(0, 256)
        trials.append(bytes(b))
    bad = tmp_path / f"bad{path.suffix}"
    t = time.perf_counter()
    for content in trials:
        bad.write_bytes(content)
        try:
            omnicodec.read(bad)
        except InputError as exc:
            assert str(exc).startswith(f"{bad}: ")
    assert time.perf_counter() - t < 20
