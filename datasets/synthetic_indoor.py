"""Synthetic indoor scans: a furnished room captured from one viewpoint, voxelised on a 10-bit grid over its box.

Like the real indoor training scans (Kinect frames, room laser scans), a sample is a single-view capture: only
surfaces facing the sensor, with the sensor's sampling pattern and noise, put on the grid the same way as the real
scans (positions minus box minimum, longest side to ``2**bits - 1`` voxels, rounded, duplicates merged).

* Room: floor, ceiling and walls (with a doorway sometimes) of a 3-9 m by 3-12 m room, 2.4-3.4 m high.
* Content: furniture, people and small objects from :mod:`~datasets.shape_recipes`, at metric scale.
* Sensors: an RGB-D camera (320x240 or 640x480, 57-70 degrees wide, depth noise and disparity quantisation growing
  with the square of depth, missing pixels at grazing angles, range 0.4-8 m), or a panoramic laser scanner (range
  noise of a few mm, 0.2-0.6 degree steps).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .grid import voxelize_bbox
from .meshes import Mesh, box, rot_z
from .shape_recipes import RECIPES

__all__ = ["IndoorSample", "generate_indoor", "GENERATOR_NAME"]

GENERATOR_NAME = "synthetic_indoor"


@dataclass
class IndoorSample:
    """One synthetic indoor scan: (M, 3) int32 Morton-sorted ``coords`` on a ``bits``-bit grid, the (N, 3)
    float32 captured ``points`` in metres (sensor at the origin of the room frame), ``source`` and ``params``."""

    coords: np.ndarray
    points: np.ndarray
    bits: int
    source: str
    params: dict = field(default_factory=dict)


def _place(meshes: list[Mesh], size: float, rng: np.random.Generator, xy: np.ndarray, z: float = 0.0) -> list[Mesh]:
    """Scale a recipe's meshes so their largest extent is ``size`` metres and stand them at ``xy`` on height z."""
    lo = np.min([m.vertices.min(0) for m in meshes], 0)
    hi = np.max([m.vertices.max(0) for m in meshes], 0)
    s = size / max((hi - lo).max(), 1e-9)
    yaw = rng.integers(4) * np.pi / 2 if rng.random() < 0.6 else rng.uniform(0, 2 * np.pi)
    rot = rot_z(yaw) * s
    centre = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    return [m.moved(rot, np.array([xy[0], xy[1], z]) - rot @ centre) for m in meshes]


def _room(rng: np.random.Generator, res: float) -> tuple[list[Mesh], np.ndarray, list[np.ndarray]]:
    """Room shell and content; returns the meshes, the (3,) room size (x, y, z) in metres and the centres of the
    furniture and people (things a camera would look at)."""
    size = np.array([rng.uniform(3, 9), rng.uniform(3, 12), rng.uniform(2.4, 3.4)])
    w = 0.1
    out = [box([-w, -w, -w], [size[0] + w, size[1] + w, 0]), box([-w, -w, size[2]], [size[0] + w, size[1] + w,
                                                                                          size[2] + w])]
    out += [box([-w, -w, 0], [0, size[1] + w, size[2]]), box([size[0], -w, 0], [size[0] + w, size[1] + w, size[2]])]
    for y0, y1 in ((-w, 0), (size[1], size[1] + w)):
        if rng.random() < 0.5:  # a doorway
            d0 = rng.uniform(0.2, size[0] - 1.2)
            out += [box([-w, y0, 0], [d0, y1, size[2]]), box([d0 + 0.9, y0, 0], [size[0] + w, y1, size[2]]),
                    box([d0, y0, 2.05], [d0 + 0.9, y1, size[2]])]
        else:
            out.append(box([-w, y0, 0], [size[0] + w, y1, size[2]]))
    floor_xy = lambda: rng.uniform([0.4, 0.4], size[:2] - 0.4)  # noqa: E731
    tops, targets = [], []
    for _ in range(rng.integers(2, 7)):
        parts = _place(RECIPES["furniture"][0](rng, res), rng.uniform(0.6, 2.0), rng, floor_xy())
        out += parts
        tops.append((np.min([p.vertices.min(0) for p in parts], 0), np.max([p.vertices.max(0) for p in parts], 0)))
        targets.append((tops[-1][0] + tops[-1][1]) / 2)
    for _ in range(rng.integers(0, 4)):
        parts = _place(RECIPES["figure"][0](rng, res * 1.8), rng.uniform(1.5, 1.9), rng, floor_xy())
        out += parts
        targets.append(np.mean([p.vertices.mean(0) for p in parts], 0))
    for _ in range(rng.integers(0, 8)):
        name = ("vessel", "blob", "primitives", "extrusion")[rng.integers(4)]
        if tops and rng.random() < 0.7:
            lo, hi = tops[rng.integers(len(tops))]
            xy, z = rng.uniform(lo[:2], hi[:2]), hi[2]
        else:
            xy, z = floor_xy(), 0.0
        out += _place(RECIPES[name][0](rng, res * 0.3), rng.uniform(0.1, 0.5), rng, xy, z)
    return out, size, targets


def _cast(meshes: list[Mesh], origins: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ray distances (inf on a miss) and |cos| of the incidence angle, for rays (N, 3) origins and unit dirs."""
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    base, verts, tris = 0, [], []
    for m in meshes:
        verts.append(m.vertices)
        tris.append(m.triangles + base)
        base += len(m.vertices)
    scene.add_triangles(np.concatenate(verts).astype(np.float32), np.concatenate(tris).astype(np.uint32))
    hit = scene.cast_rays(np.concatenate([origins, dirs], 1).astype(np.float32))
    t = hit["t_hit"].numpy().astype(np.float64)
    cos = np.abs(np.einsum("ij,ij->i", hit["primitive_normals"].numpy().astype(np.float64), dirs))
    return t, cos


def _rgbd(meshes, rng, eye, yaw, pitch) -> tuple[np.ndarray, dict]:
    w, h = (640, 480) if rng.random() < 0.6 else (320, 240)
    hfov = np.deg2rad(rng.uniform(57, 70))
    f = w / 2 / np.tan(hfov / 2)
    u, v = np.meshgrid(np.arange(w) + 0.5 - w / 2, np.arange(h) + 0.5 - h / 2)
    cam = np.stack([np.ones_like(u) * f, -u, -v], -1).reshape(-1, 3)  # x forward, y left, z up
    cam /= np.linalg.norm(cam, axis=1, keepdims=True)
    cp, sp = np.cos(pitch), np.sin(pitch)
    rot = rot_z(yaw) @ np.array([[cp, 0, -sp], [0, 1, 0], [sp, 0, cp]])
    dirs = cam @ rot.T
    t, cos = _cast(meshes, np.broadcast_to(eye, dirs.shape), dirs)
    depth = t * cam[:, 0]  # distance along the optical axis
    max_depth = rng.uniform(2.0, 5.0)
    ok = np.isfinite(depth) & (depth > 0.4) & (depth < max_depth) & (rng.random(len(t)) < np.clip(cos * 6, 0, 1))
    d = depth[ok]
    d = d + rng.normal(0, 1, len(d)) * (0.0012 + 0.0019 * (d - 0.4) ** 2)
    step = 2.85e-3 * rng.uniform(0.7, 1.3) * d**2  # disparity quantisation
    d = np.round(d / step) * step
    pts = eye + dirs[ok] * (d / cam[ok, 0])[:, None]
    return pts, dict(sensor="rgbd", width=w, height=h, max_depth=round(float(max_depth), 2))


def _panoramic(meshes, rng, eye) -> tuple[np.ndarray, dict]:
    step = rng.uniform(0.2, 0.6)
    el = np.deg2rad(np.arange(-60, 85, step))
    az = np.deg2rad(np.arange(0, 360, step))
    E, A = np.meshgrid(el, az)
    dirs = np.stack([np.cos(E) * np.cos(A), np.cos(E) * np.sin(A), np.sin(E)], -1).reshape(-1, 3)
    t, cos = _cast(meshes, np.broadcast_to(eye, dirs.shape), dirs)
    ok = np.isfinite(t) & (t > 0.3) & (rng.random(len(t)) < np.clip(cos * 10, 0, 1))
    r = t[ok] + rng.normal(0, rng.uniform(0.002, 0.006), ok.sum())
    return eye + dirs[ok] * r[:, None], dict(sensor="panoramic", step=round(float(step), 3))


def generate_indoor(seed: int, bits: int = 10) -> IndoorSample:
    """Draw a furnished room and a sensor pose and capture one view. Equal seeds give identical samples."""
    rng = np.random.default_rng([seed, 0x1D0025])
    res = (1 << bits) / 8.0  # voxels per metre, about, for tessellation
    meshes, size, targets = _room(rng, res)
    pts = np.empty((0, 3))
    for _ in range(10):  # redraw poses that see almost nothing (inside a piece of furniture, facing a wall)
        eye = np.array([*rng.uniform([0.5, 0.5], size[:2] - 0.5), rng.uniform(0.6, 1.9)])
        if rng.random() < 0.65:  # a camera 1-3 m from a piece of furniture or a person, looking at it
            target = targets[rng.integers(len(targets))] + rng.normal(0, 0.2, 3)
            heading = rng.uniform(0, 2 * np.pi)
            eye[:2] = np.clip(target[:2] + rng.uniform(1.0, 3.0) * np.array([np.cos(heading), np.sin(heading)]),
                              0.3, size[:2] - 0.3)
            view = target - eye
            yaw, pitch = np.arctan2(view[1], view[0]), np.arctan2(view[2], np.linalg.norm(view[:2]))
            pts, params = _rgbd(meshes, rng, eye, yaw, pitch)
        else:
            pts, params = _panoramic(meshes, rng, eye)
        if len(pts) >= 5000:
            break
    params.update(room=[round(float(s), 2) for s in size], meshes=len(meshes), captured=len(pts))
    coords = voxelize_bbox(pts, bits)
    return IndoorSample(coords, pts.astype(np.float32), bits, f"{GENERATOR_NAME}:{params['sensor']}:seed={seed}",
                        params)
