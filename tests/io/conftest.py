"""Helpers for the I/O tests: synthetic clouds with every dtype, and a bit-exact comparison."""

from __future__ import annotations

import numpy as np
import pytest

from omnicodec.types import PointCloud

#: The eight PLY scalar dtypes.
PLY_DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.float32, np.float64]
#: The ten PCD scalar dtypes.
PCD_DTYPES = PLY_DTYPES + [np.int64, np.uint64]


def values(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Random values covering the dtype's range, with the extremes (and awkward floats) at the start."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    if dtype.kind == "f":
        info = np.finfo(dtype)
        special = np.array([0.0, -0.0, info.max, -info.max, info.tiny, info.smallest_subnormal, 1 / 3, np.inf], dtype)
        out = (rng.standard_normal(n) * 1000).astype(dtype)
    else:
        info = np.iinfo(dtype)
        special = np.array([info.min, info.max, 0], dtype)
        out = rng.integers(info.min, info.max, size=n, endpoint=True, dtype=dtype)
    out[: min(n, len(special))] = special[: min(n, len(special))]
    return out.reshape(shape)


def make_cloud(rng: np.random.Generator, n: int, pos_dtype, attr_dtypes, *, finite_positions: bool = True):
    """A cloud with positions of ``pos_dtype``, rgb/alpha/normals, one attribute per dtype and an (N, 3) one."""
    pos = values(rng, (n, 3), pos_dtype)
    if finite_positions and pos.dtype.kind == "f":
        pos[~np.isfinite(pos)] = 1.5
    attrs = {
        "rgb": values(rng, (n, 3), np.uint8),
        "alpha": values(rng, (n,), np.uint8),
        "normals": values(rng, (n, 3), np.float32),
        "intensity": values(rng, (n,), np.float32),
        "feature": values(rng, (n, 3), np.float64),
    }
    for dt in attr_dtypes:
        attrs[f"a_{np.dtype(dt).name}"] = values(rng, (n,), dt)
    return PointCloud(pos, attrs)


def assert_same_cloud(a: PointCloud, b: PointCloud) -> None:
    """Same positions and attributes: names, dtypes, shapes and bytes (so -0.0 and NaN count)."""
    assert b.positions.dtype == a.positions.dtype
    assert np.ascontiguousarray(b.positions).tobytes() == np.ascontiguousarray(a.positions).tobytes()
    assert sorted(b.attributes) == sorted(a.attributes)
    for name, arr in a.attributes.items():
        got = b.attributes[name]
        assert got.dtype == arr.dtype, name
        assert got.dtype.isnative, name
        assert got.shape == arr.shape, name
        assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(arr).tobytes(), name


@pytest.fixture
def cloud_factory(rng):
    def factory(n=257, pos_dtype=np.float32, attr_dtypes=PLY_DTYPES, **kw):
        return make_cloud(rng, n, pos_dtype, attr_dtypes, **kw)

    return factory
