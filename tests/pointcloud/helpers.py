"""Helpers shared by the point-cloud tests: small synthetic clouds, edited stream headers."""

from __future__ import annotations

import json

import numpy as np

from omnicodec.bitstream import Chunk, pack, unpack


def coloured_sphere(n_side: int = 48, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A voxelised sphere shell in an ``n_side`` cube with a smooth colour field plus noise: ``(coords int64,
    rgb uint8)``."""
    rng = np.random.default_rng(seed)
    g = np.arange(n_side)
    x, y, z = np.meshgrid(g, g, g, indexing="ij")
    r = np.sqrt((x - n_side / 2) ** 2 + (y - n_side / 2) ** 2 + (z - n_side / 2) ** 2)
    shell = np.abs(r - n_side / 2.5) < 0.7
    coords = np.stack([x[shell], y[shell], z[shell]], axis=1).astype(np.int64)
    t = coords / n_side
    rgb = 255 * np.stack([t[:, 0], 0.5 + 0.5 * np.sin(6 * t[:, 1]), t[:, 2] ** 2], axis=1)
    rgb += rng.normal(0, 2, rgb.shape)
    return coords, np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def with_params(stream: bytes, **changes) -> bytes:
    """``stream`` with its header's parameters updated by ``changes`` (chunks unchanged)."""
    s = unpack(stream)
    params = json.loads(json.dumps(s.header.params))
    params.update(changes)
    header = type(s.header)(**{**s.header.__dict__, "params": params})
    return pack(header, [Chunk(c.tag, c.data) for c in s.chunks])


def box_room_sweep(beams: int = 16, cols: int = 900, seed: int = 0, step_deg: float = 0.4) -> np.ndarray:
    """A spinning sensor's sweep of a room (a 14 x 9 m box, floor 1.6 m below the sensor), beam after beam in
    azimuth order, with range noise and dropouts; metres, float32 ``(N, 3)``."""
    rng = np.random.default_rng(seed)
    el = np.deg2rad(np.linspace(-25.0, 10.0, beams))[:, None]
    az = np.deg2rad(np.arange(cols) * step_deg + rng.uniform(0, step_deg))[None, :] + np.zeros((beams, 1))
    d = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el) * np.ones_like(az)], -1)
    bounds = np.array([7.0, 4.5, 1.6])
    with np.errstate(divide="ignore"):
        t = np.min(np.where(np.abs(d) > 1e-9, bounds / np.abs(d), np.inf), axis=-1)
    r = t + rng.normal(0, 0.01, t.shape)
    keep = rng.random(t.shape) > 0.05
    return (d * r[..., None])[keep].astype(np.float32)
