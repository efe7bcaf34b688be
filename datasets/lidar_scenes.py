"""Random outdoor scenes for simulated LiDAR, as triangle meshes in metres (z up, ground near z = 0 at the origin).

A scene is a road corridor along x (sometimes with a crossing road) over bumpy sloped ground with raised sidewalks
and curbs, lined with buildings (facades with recessed windows and balconies), fences and walls, poles and signs,
parked and moving cars, pedestrians, trees (porous crowns made of leaf clumps) and bushes. The kind of place
(``urban``, ``suburban``, ``highway``, ``rural``, ``parking``) sets how many of each there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import meshes as M
from .meshes import Mesh
from .shape_recipes import figure

__all__ = ["Scene", "random_scene", "SCENE_KINDS"]

SCENE_KINDS = ("urban", "suburban", "highway", "rural", "parking")

_ICO_V = np.array(
    [[-1, 1.618, 0], [1, 1.618, 0], [-1, -1.618, 0], [1, -1.618, 0], [0, -1, 1.618], [0, 1, 1.618],
     [0, -1, -1.618], [0, 1, -1.618], [1.618, 0, -1], [1.618, 0, 1], [-1.618, 0, -1], [-1.618, 0, 1]]
) / 1.902
_ICO_T = np.array(
    [[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6],
     [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10],
     [8, 6, 7], [9, 8, 1]]
)


@dataclass
class Scene:
    """Meshes with a reflectivity each (0-1, drives the simulated intensity) and the kind of place."""

    kind: str
    meshes: list[Mesh] = field(default_factory=list)
    reflectivity: list[float] = field(default_factory=list)

    def add(self, mesh: Mesh, reflectivity: float) -> None:
        self.meshes.append(mesh)
        self.reflectivity.append(float(reflectivity))


def _clumps(centres: np.ndarray, radii: np.ndarray) -> Mesh:
    """Many small icosahedra (leaf clumps, gravel, rubble) in one mesh."""
    v = (centres[:, None, :] + radii[:, None, None] * _ICO_V[None]).reshape(-1, 3)
    t = (_ICO_T[None] + 12 * np.arange(len(centres))[:, None, None]).reshape(-1, 3)
    return Mesh(v, t)


class _Ground:
    """Ground height z(x, y): slope plus smooth bumps, plus a curb step on the sidewalks."""

    def __init__(self, rng: np.random.Generator, flat: bool) -> None:
        self.slope = rng.normal(0, 0.01 if flat else 0.04, 2)
        self.amp = rng.uniform(0.02, 0.1) if flat else rng.uniform(0.1, 1.5)
        self.freq = rng.uniform(0.005, 0.04)
        self.rng_state = rng.integers(1 << 31)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        p = np.stack([x.ravel(), y.ravel(), np.zeros(x.size)], -1)
        bumps = M.smooth_field(p, np.random.default_rng(self.rng_state), self.freq, modes=6, dims=1)
        return self.slope[0] * x + self.slope[1] * y + self.amp * bumps.reshape(x.shape)


def _height_strip(ground: _Ground, x0, x1, y0, y1, step: float, lift: float = 0.0) -> Mesh:
    nx, ny = max(int((x1 - x0) / step), 1), max(int((y1 - y0) / step), 1)
    x, y = np.meshgrid(np.linspace(x0, x1, nx + 1), np.linspace(y0, y1, ny + 1))
    return M.grid_mesh(np.stack([x, y, ground(x, y) + lift], -1), wrap_u=False, closed=False)


def _curb(ground: _Ground, x0, x1, y: float, h: float, step: float) -> Mesh:
    x = np.linspace(x0, x1, max(int((x1 - x0) / step), 1) + 1)
    z = ground(x, np.full_like(x, y))
    p = np.stack([np.stack([x, np.full_like(x, y), z], -1), np.stack([x, np.full_like(x, y), z + h], -1)])
    return M.grid_mesh(p, wrap_u=False, closed=False)


def _building(rng, scene: Scene, ground: _Ground, x0: float, x1: float, y_face: float, side: int) -> None:
    """A block of facade from x0 to x1, front face at y_face, extending away from the road (side = +-1)."""
    depth, height = rng.uniform(6, 20), rng.uniform(3.5, 30)
    z0 = float(ground(np.array((x0 + x1) / 2), np.array(y_face))) - 0.5
    y_back = y_face + side * depth
    scene.add(M.box([x0, min(y_face, y_back), z0], [x1, max(y_face, y_back), z0 + height]), rng.uniform(0.1, 0.6))
    storey = rng.uniform(2.8, 3.6)
    win_w, gap = rng.uniform(0.8, 2.0), rng.uniform(0.8, 3.0)
    inset = rng.uniform(0.05, 0.3)
    if rng.random() < 0.7:  # window panes and frames standing out of the facade (dark: few strong returns)
        for z in np.arange(z0 + 1.0, z0 + height - 1.5, storey):
            for x in np.arange(x0 + gap / 2, x1 - win_w, win_w + gap):
                ya, yb = sorted([y_face, y_face - side * inset])
                scene.add(M.box([x, ya, z], [x + win_w, yb, z + storey * 0.5]), rng.uniform(0.02, 0.2))
    if rng.random() < 0.3:  # balconies
        for z in np.arange(z0 + storey, z0 + height - 1, storey):
            x = rng.uniform(x0, max(x0, x1 - 3))
            y2 = y_face - side * rng.uniform(0.8, 1.5)
            scene.add(M.box([x, min(y_face, y2), z], [x + 3, max(y_face, y2), z + 1.0]), rng.uniform(0.2, 0.5))


def _tree(rng, scene: Scene, ground: _Ground, x: float, y: float) -> None:
    z = float(ground(np.array(x), np.array(y)))
    h, r = rng.uniform(0.8, 3.5), rng.uniform(0.08, 0.3)
    scene.add(M.tube(np.array([[x, y, z - 0.3], [x, y, z + h + 0.5]]), np.array([r, r * 0.7]), 8.0, caps=False), 0.3)
    crown = rng.uniform(1.0, 4.0) * np.array([1, 1, rng.uniform(0.8, 1.8)])
    n = int(rng.integers(80, 400))
    d = rng.normal(size=(n, 3))
    d *= (rng.random(n) ** (1 / 3) / np.linalg.norm(d, axis=1))[:, None]
    centres = np.array([x, y, z + h + crown[2]]) + d * crown
    scene.add(_clumps(centres, rng.uniform(0.1, 0.45, n)), rng.uniform(0.3, 0.7))


def _bush(rng, scene: Scene, ground: _Ground, x: float, y: float) -> None:
    z = float(ground(np.array(x), np.array(y)))
    size = rng.uniform(0.4, 2.0, 3) * [2.5, 1, 0.6]
    n = int(rng.integers(30, 200))
    centres = np.array([x, y, z + size[2] * 0.8]) + (rng.random((n, 3)) - 0.5) * size
    scene.add(_clumps(centres, rng.uniform(0.08, 0.3, n)), rng.uniform(0.3, 0.7))


def _car(rng, scene: Scene, ground: _Ground, x: float, y: float, heading: float) -> None:
    z = float(ground(np.array(x), np.array(y)))
    length, width = rng.uniform(3.6, 5.2), rng.uniform(1.6, 2.0)
    if rng.random() < 0.1:  # van or truck
        length, width = rng.uniform(5.5, 12), rng.uniform(2.1, 2.6)
    body_h = rng.uniform(0.6, 0.9)
    rot = M.rot_z(heading)
    body = M.rounded_box(np.array([length / 2, width / 2, body_h / 2]), rng.uniform(0.05, 0.25), 4.0)
    scene.add(body.moved(rot, [x, y, z + 0.3 + body_h / 2]), rng.uniform(0.2, 0.9))
    cab_h = rng.uniform(0.4, 0.7) if length < 5.5 else rng.uniform(1.0, 2.2)
    cab = M.rounded_box(np.array([length * rng.uniform(0.25, 0.45), width * 0.45, cab_h / 2]), 0.15, 4.0)
    off = rot @ [rng.uniform(-0.3, 0.1) * length, 0, 0]
    scene.add(cab.moved(rot, off + [x, y, z + 0.3 + body_h + cab_h / 2]), rng.uniform(0.05, 0.4))
    for sx in (-0.33, 0.33):
        for sy in (-0.5, 0.5):
            c = rot @ [sx * length, sy * width, 0] + [x, y, z + 0.33]
            ax = rot @ [0, 0.12 * np.sign(sy), 0]
            scene.add(M.tube(np.array([c - ax, c + ax]), np.array([0.33, 0.33]), 8.0), 0.05)


def _pole(rng, scene: Scene, ground: _Ground, x: float, y: float) -> None:
    z = float(ground(np.array(x), np.array(y)))
    h, r = rng.uniform(2.5, 10), rng.uniform(0.04, 0.2)
    scene.add(M.tube(np.array([[x, y, z - 0.2], [x, y, z + h]]), np.array([r, r * 0.8]), 10.0), rng.uniform(0.3, 0.8))
    if rng.random() < 0.4:  # a sign or a lamp arm
        w = rng.uniform(0.4, 1.2)
        scene.add(M.box([x - w / 2, y - 0.03, z + h - w], [x + w / 2, y + 0.03, z + h]), rng.uniform(0.6, 1.0))


def _pedestrian(rng, scene: Scene, ground: _Ground, x: float, y: float) -> None:
    z = float(ground(np.array(x), np.array(y)))
    s = rng.uniform(1.5, 1.95)
    for m in figure(rng, 40.0):
        scene.add(m.moved(M.rot_z(rng.uniform(0, 6.3)) * s, [x, y, z]), 0.3)


def random_scene(rng: np.random.Generator, kind: str | None = None, extent: float = 130.0,
                 clear_xy: tuple[float, float] = (0.0, 0.0)) -> Scene:
    """Draw a scene of the given kind (or a random kind) covering ``[-extent, extent]`` in x and y, keeping objects
    away from ``clear_xy`` (where the sensor goes)."""
    kind = kind or SCENE_KINDS[int(rng.choice(len(SCENE_KINDS), p=[0.35, 0.25, 0.12, 0.13, 0.15]))]
    scene = Scene(kind)
    ground = _Ground(rng, flat=kind in ("highway", "parking"))
    road = rng.uniform(3.0, 9.0) if kind != "highway" else rng.uniform(8, 16)
    walk = rng.uniform(1.5, 5.0) if kind in ("urban", "suburban") else 0.0
    curb = rng.uniform(0.08, 0.2) if walk else 0.0
    e = extent
    scene.add(_height_strip(ground, -e, e, -road, road, 0.5), rng.uniform(0.05, 0.25))
    for side in (-1, 1):
        y0, y1 = sorted([side * road, side * (road + walk)])
        if walk:
            scene.add(_height_strip(ground, -e, e, y0, y1, 0.5, curb), rng.uniform(0.1, 0.35))
            scene.add(_curb(ground, -e, e, side * road, curb, 0.5), 0.3)
        far0, far1 = sorted([side * (road + walk), side * e])
        scene.add(_height_strip(ground, -e, e, far0, far1, 1.0, curb), rng.uniform(0.1, 0.5))
    cross = rng.uniform(-40, 40) if rng.random() < 0.35 and kind in ("urban", "suburban") else None
    cross_w = rng.uniform(4, 10)
    def free(x: float) -> bool:
        return cross is None or abs(x - cross) > cross_w + 2

    def clear(x: float, y: float, margin: float = 1.0) -> bool:
        return abs(x - clear_xy[0]) > 2.5 + margin or abs(y - clear_xy[1]) > 1.0 + margin

    counts = {
        "urban": dict(building=1.0, tree=0.3, pole=0.6, car=0.8, ped=0.3, bush=0.2, fence=0.1),
        "suburban": dict(building=0.5, tree=0.8, pole=0.3, car=0.4, ped=0.1, bush=0.6, fence=0.5),
        "highway": dict(building=0.05, tree=0.3, pole=0.5, car=0.6, ped=0.0, bush=0.3, fence=1.0),
        "rural": dict(building=0.1, tree=1.0, pole=0.2, car=0.1, ped=0.02, bush=1.0, fence=0.3),
        "parking": dict(building=0.4, tree=0.3, pole=0.4, car=2.5, ped=0.2, bush=0.2, fence=0.2),
    }[kind]
    for side in (-1, 1):
        setback = road + walk + (rng.uniform(0, 2) if kind == "urban" else rng.uniform(3, 25))
        x = -e
        while x < e:  # facades along the road, with gaps
            w = rng.uniform(8, 40)
            if rng.random() < counts["building"] and free(x) and free(x + w):
                _building(rng, scene, ground, x, x + w, side * (setback + rng.uniform(0, 1.5)), side)
            x += w + (rng.uniform(0, 3) if kind == "urban" else rng.uniform(2, 25))
        if rng.random() < counts["fence"]:  # fences, walls, guard rails: segments with gaps
            y = side * (road + walk + rng.uniform(0.5, 3))
            hgt = rng.uniform(0.5, 0.9) if kind == "highway" else rng.uniform(0.6, 2.0)
            seg, gaps = rng.uniform(5, 30), rng.uniform(0.0, 0.6)
            for x0 in np.arange(-e, e, seg):
                if rng.random() >= gaps:
                    z = float(ground(np.array(x0 + seg / 2), np.array(y)))
                    scene.add(M.box([x0, y - 0.05, z - 0.2], [x0 + seg, y + 0.05, z + hgt]), rng.uniform(0.2, 0.8))
        line = side * (road + walk * rng.uniform(0.3, 0.8) + (0 if walk else rng.uniform(0.5, 2)))
        for x in rng.uniform(-e, e, rng.poisson(25 * counts["pole"])):
            if clear(x, line):
                _pole(rng, scene, ground, x, line)
        for x in rng.uniform(-e, e, rng.poisson(30 * counts["tree"])):
            if free(x):
                _tree(rng, scene, ground, x, side * (road + walk + rng.uniform(0.5, setback - road - walk + 8)))
        for x in rng.uniform(-e, e, rng.poisson(25 * counts["bush"])):
            _bush(rng, scene, ground, x, side * (road + walk + rng.uniform(0.5, 15)))
        for x in rng.uniform(-e * 0.6, e * 0.6, rng.poisson(20 * counts["car"])):  # parked along the road
            if clear(x, side * (road - 1.2), 3.0):
                _car(rng, scene, ground, x, side * (road - 1.2), rng.normal(0, 0.05) + (np.pi if side > 0 else 0))
        for x in rng.uniform(-40, 40, rng.poisson(8 * counts["ped"])):
            y = side * (road + walk * rng.random() + 0.3)
            if clear(x, y):
                _pedestrian(rng, scene, ground, x, y)
    for x in rng.uniform(-e * 0.6, e * 0.6, rng.poisson(6 * counts["car"])):  # moving traffic in lanes
        lane = rng.uniform(-road + 1, road - 1)
        if clear(x, lane, 3.0):
            _car(rng, scene, ground, x, lane, rng.normal(0, 0.03) + (np.pi if lane > 0 else 0))
    if kind == "parking":
        for x in np.arange(-40, 40, rng.uniform(2.4, 3.0)):
            for y in (-road - walk - 8, road + walk + 8):
                if rng.random() < 0.6:
                    _car(rng, scene, ground, x + rng.normal(0, 0.1), y, np.pi / 2 + rng.normal(0, 0.05))
    if cross is not None:
        scene.add(_height_strip(ground, cross - cross_w, cross + cross_w, -e, e, 1.0, 0.01), 0.15)
    return scene
