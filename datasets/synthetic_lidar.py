"""Synthetic spinning multi-beam LiDAR scans of random outdoor scenes, by ray casting (open3d ``RaycastingScene``).

A sensor model (:class:`LidarModel`: beam elevations, per-beam azimuth offsets, azimuth step, range limits, range
noise and quantum, dropout) is drawn from presets resembling common sensors (64-beam with KITTI's field of view,
32- and 16-beam, uniform 64/128-beam, horizon-dense 64/128-beam) with random perturbations, or made up. It is
mounted on a car roof (with the car body blocking the lowest beams) or a low robot, in a scene of
:mod:`~datasets.lidar_scenes`, and one revolution is cast while the platform moves (so a scan is slightly skewed,
as unrectified scans are). Points are reported in the sensor frame: ``range * direction`` of each firing, in metres,
with an intensity from reflectivity, incidence and range. :func:`lidar_grid` puts them on the 1 mm grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .grid import quantize_metric
from .lidar_scenes import random_scene
from .meshes import box, rot_z

__all__ = ["LidarModel", "LidarScan", "PRESETS", "random_model", "simulate", "generate_lidar", "lidar_grid",
           "GENERATOR_NAME"]

GENERATOR_NAME = "synthetic_lidar"


@dataclass(frozen=True)
class LidarModel:
    """A spinning multi-beam sensor.

    Attributes:
        name: preset name (``custom`` when made up).
        elevations: (B,) beam elevation angles, degrees (negative = down).
        azimuth_offsets: (B,) per-beam azimuth offsets, degrees.
        azimuth_step: degrees between firings of one beam.
        max_range, min_range: metres.
        range_noise: standard deviation of the range error, metres.
        range_quantum: resolution of reported ranges, metres (0: continuous).
        dropout: probability that a firing returns nothing regardless of the target.
        sensitivity: signal level at which half the returns are detected (smaller: sees darker, farther targets).
    """

    name: str
    elevations: np.ndarray
    azimuth_offsets: np.ndarray
    azimuth_step: float
    max_range: float
    min_range: float
    range_noise: float
    range_quantum: float
    dropout: float
    sensitivity: float

    @property
    def beams(self) -> int:
        return len(self.elevations)


def _hdl64() -> np.ndarray:
    return np.r_[np.linspace(2.0, -8.33, 32), np.linspace(-8.87, -24.9, 32)]


def _horizon_dense(n: int, lo: float, hi: float, power: float = 1.8) -> np.ndarray:
    """``n`` beams from ``hi`` down to ``lo`` degrees, densest at the horizon (spacing grows as ``|u|**(power-1)``)."""
    u = np.linspace(1, -1, n)
    e = np.sign(u) * np.abs(u) ** power
    return np.where(e >= 0, e * hi, -e * lo)


PRESETS: dict[str, dict] = {
    "hdl64": dict(elev=_hdl64, az=(0.08, 0.35), rng=(100, 120), noise=(0.01, 0.02), minr=(2.0, 3.0)),
    "hdl32": dict(elev=lambda: np.linspace(10.67, -30.67, 32), az=(0.1, 0.4), rng=(80, 100), noise=(0.015, 0.03),
                  minr=(1.0, 2.5)),
    "vlp16": dict(elev=lambda: np.linspace(15, -15, 16), az=(0.1, 0.4), rng=(80, 100), noise=(0.015, 0.03),
                  minr=(0.8, 2.0)),
    "uniform64": dict(elev=lambda: np.linspace(22.5, -22.5, 64), az=(0.17, 0.36), rng=(100, 120),
                      noise=(0.01, 0.03), minr=(0.8, 2.5)),
    "uniform128": dict(elev=lambda: np.linspace(22.5, -22.5, 128), az=(0.17, 0.36), rng=(100, 120),
                       noise=(0.01, 0.03), minr=(0.8, 2.5)),
    "dense64": dict(elev=lambda: _horizon_dense(64, -25, 15), az=(0.1, 0.4), rng=(100, 120),
                    noise=(0.01, 0.02), minr=(0.8, 2.5)),
    "dense128": dict(elev=lambda: _horizon_dense(128, -25, 15, 2.2), az=(0.1, 0.2), rng=(100, 120),
                     noise=(0.01, 0.02), minr=(0.8, 2.5)),
}
"""Sensor presets: beam elevations and ranges for the azimuth step, maximum range, range noise and minimum range."""


def random_model(rng: np.random.Generator) -> LidarModel:
    """A preset (60 % KITTI-like ``hdl64``, the rest spread over the others) with per-beam calibration errors,
    or (15 %) a made-up sensor with 32, 64 or 128 beams."""
    names = list(PRESETS)
    if rng.random() < 0.15:
        name = "custom"
        b = int(rng.choice([32, 64, 128]))
        lo, hi = rng.uniform(-30, -15), rng.uniform(2, 20)
        elev = _horizon_dense(b, lo, hi, rng.uniform(1.2, 2.2)) if rng.random() < 0.5 else np.linspace(hi, lo, b)
        p = dict(az=(0.08, 0.4), rng=(80, 120), noise=(0.01, 0.03), minr=(0.8, 3.0))
    else:
        name = "hdl64" if rng.random() < 0.45 else names[int(rng.integers(len(names)))]
        p = PRESETS[name]
        elev = np.asarray(p["elev"](), np.float64)
    elev = elev + rng.normal(0, 0.03, len(elev))  # calibration errors
    az_off = rng.normal(0, 1.0, len(elev)) if rng.random() < 0.5 else np.zeros(len(elev))
    quantum = float(rng.choice([0.0, 0.002, 0.004], p=[0.5, 0.35, 0.15]))
    return LidarModel(
        name=name,
        elevations=elev,
        azimuth_offsets=az_off,
        azimuth_step=float(rng.uniform(*p["az"])),
        max_range=float(rng.uniform(*p["rng"])),
        min_range=float(rng.uniform(*p["minr"])),
        range_noise=float(rng.uniform(*p["noise"])),
        range_quantum=quantum,
        dropout=float(rng.uniform(0.0, 0.05)),
        sensitivity=float(rng.uniform(0.0005, 0.004)),
    )


@dataclass
class LidarScan:
    """One simulated revolution.

    Attributes:
        xyz: (N, 3) float32 positions in the sensor frame, metres.
        intensity: (N,) float32 in [0, 1].
        ring: (N,) int16 beam index (0 = highest beam).
        source: ``synthetic_lidar:<sensor>:<scene kind>:seed=<seed>``.
        params: the drawn parameters.
    """

    xyz: np.ndarray
    intensity: np.ndarray
    ring: np.ndarray
    source: str = ""
    params: dict = field(default_factory=dict)


def _merged(meshes, reflectivity) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    verts, tris, refl, base = [], [], [], 0
    for m, r in zip(meshes, reflectivity, strict=True):
        verts.append(m.vertices)
        tris.append(m.triangles + base)
        refl.append(np.full(len(m.triangles), r))
        base += len(m.vertices)
    return np.concatenate(verts), np.concatenate(tris), np.concatenate(refl)


def simulate(meshes, reflectivity, model: LidarModel, rng: np.random.Generator, origin: np.ndarray,
             heading: float = 0.0, velocity: np.ndarray | None = None, period: float = 0.1) -> LidarScan:
    """Cast one revolution of ``model`` from ``origin`` into a scene.

    Args:
        meshes: scene meshes (metres); reflectivity: one value in [0, 1] per mesh.
        model: the sensor.
        rng: random source (noise, dropouts, start angle).
        origin: (3,) sensor position at the start of the revolution, metres.
        heading: sensor yaw in the scene, radians.
        velocity: (3,) platform velocity in the scene, m/s (the origin moves during the revolution).
        period: seconds per revolution.

    Returns:
        The scan, in the sensor frame.
    """
    import open3d as o3d

    v, t, refl = _merged(meshes, reflectivity)
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(v.astype(np.float32), t.astype(np.uint32))
    cols = int(round(360.0 / model.azimuth_step))
    frac = np.arange(cols) / cols
    az = np.deg2rad(frac[None, :] * 360.0 + model.azimuth_offsets[:, None] + rng.uniform(0, model.azimuth_step))
    el = np.deg2rad(model.elevations)[:, None] * np.ones((1, cols))
    d_sensor = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el) * np.ones_like(az)], -1)
    d_world = d_sensor @ rot_z(heading).T
    vel = np.zeros(3) if velocity is None else np.asarray(velocity, np.float64)
    o = origin[None, None, :] + (frac * period)[None, :, None] * vel  # (1, cols, 3)
    rays = np.concatenate([np.broadcast_to(o, d_world.shape), d_world], -1).reshape(-1, 6).astype(np.float32)
    hit = scene.cast_rays(rays)
    r = hit["t_hit"].numpy().astype(np.float64)
    ok = np.isfinite(r)
    tri = hit["primitive_ids"].numpy()
    normal = hit["primitive_normals"].numpy().astype(np.float64)
    d = d_world.reshape(-1, 3)
    cos_inc = np.where(ok, np.abs(np.einsum("ij,ij->i", normal, d)), 0.0)
    reflect = np.where(ok, refl[np.where(ok, tri, 0)], 0.0)
    signal = reflect * np.sqrt(np.maximum(cos_inc, 0.01)) * (20.0 / np.maximum(np.where(ok, r, 1.0), 20.0)) ** 2
    detect = rng.random(len(r)) < 1 - np.exp(-signal / model.sensitivity * np.log(2))
    r = r + rng.normal(0, model.range_noise, len(r))
    if model.range_quantum > 0:
        r = np.round(r / model.range_quantum) * model.range_quantum
    keep = ok & detect & (rng.random(len(r)) >= model.dropout) & (r >= model.min_range) & (r <= model.max_range)
    xyz = (d_sensor.reshape(-1, 3)[keep] * r[keep, None]).astype(np.float32)
    intensity = np.clip(reflect[keep] * np.sqrt(cos_inc[keep]) + rng.normal(0, 0.02, keep.sum()), 0, 1)
    ring = np.repeat(np.arange(model.beams, dtype=np.int16), cols)[keep]
    return LidarScan(xyz, intensity.astype(np.float32), ring)


def generate_lidar(seed: int) -> LidarScan:
    """Draw a sensor, a scene and a mounting, and simulate one revolution. Equal seeds give identical scans."""
    rng = np.random.default_rng([seed, 0x11DA_12])
    model = random_model(rng)
    y = rng.uniform(-2.5, 2.5)
    scene = random_scene(rng, extent=model.max_range + 10, clear_xy=(0.0, y))
    on_car = rng.random() < 0.85
    height = rng.uniform(1.4, 2.2) if on_car else rng.uniform(0.3, 1.2)
    ground_z = _ground_height(scene.meshes[0], 0.0, y)
    origin = np.array([0.0, y, ground_z + height])
    heading = rng.normal(0, 0.08) if rng.random() < 0.8 else rng.uniform(-np.pi, np.pi)
    speed = rng.uniform(0, 15) if on_car and rng.random() < 0.7 else 0.0
    velocity = speed * np.array([np.cos(heading), np.sin(heading), 0.0])
    meshes, refl = list(scene.meshes), list(scene.reflectivity)
    if on_car:  # the ego vehicle: body and a narrower cabin under the sensor, blocking the lowest beams nearby
        rot = rot_z(heading)
        top = origin[2] - rng.uniform(0.25, 0.5)
        body = box([-2.4, -0.9, ground_z + 0.2], [2.1, 0.9, min(ground_z + 1.0, top)])
        cabin = box([-1.3, -0.65, ground_z + 0.5], [0.5, 0.65, top])
        for part in (body, cabin):
            meshes.append(part.moved(rot, [0.0, y, 0.0]))
            refl.append(0.0)
    scan = simulate(meshes, refl, model, rng, origin, heading, velocity, period=rng.uniform(0.05, 0.2))
    scan.source = f"{GENERATOR_NAME}:{model.name}:{scene.kind}:seed={seed}"
    scan.params = dict(sensor=model.name, beams=model.beams, azimuth_step=round(model.azimuth_step, 4),
                       max_range=round(model.max_range, 1), range_noise=round(model.range_noise, 4),
                       range_quantum=model.range_quantum, scene=scene.kind, height=round(float(height), 2),
                       speed=round(float(speed), 2), on_car=on_car)
    return scan


def _ground_height(ground, x: float, y: float) -> float:
    """Height of the road surface mesh at (x, y), by casting a ray down."""
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(ground.vertices.astype(np.float32), ground.triangles.astype(np.uint32))
    hit = scene.cast_rays(np.array([[x, y, 1000.0, 0, 0, -1]], np.float32))["t_hit"].numpy()[0]
    return float(1000.0 - hit) if np.isfinite(hit) else 0.0


def lidar_grid(scan: LidarScan, step: float = 0.001) -> tuple[np.ndarray, np.ndarray]:
    """The scan on the ``step`` grid (1 mm: ``round(xyz * 1000)``), duplicates removed.

    Returns:
        (M, 3) int32 unique Morton-sorted non-negative indices and the (3,) int64 origin in voxels
        (``xyz ~= (index + origin) * step``; the sensor sits at ``-origin``).
    """
    return quantize_metric(scan.xyz, step)


def main(argv: list[str] | None = None) -> int:
    """Write one simulated sweep as a KITTI-style ``.bin`` (float32 x, y, z in metres and intensity rounded to 0.01 as
    KITTI's, in scan order)."""
    import argparse

    ap = argparse.ArgumentParser(description="write one simulated spinning-LiDAR sweep as a KITTI-style .bin file")
    ap.add_argument("--out", required=True, help="output .bin path")
    ap.add_argument("--seed", type=int, default=4, help="scene, sensor and mounting seed (4: a 32-beam sensor)")
    args = ap.parse_args(argv)
    scan = generate_lidar(args.seed)
    rows = np.concatenate([scan.xyz, np.round(scan.intensity, 2)[:, None]], axis=1).astype("<f4")
    rows.tofile(args.out)
    print(f"{args.out}: {len(rows)} points, {scan.source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

