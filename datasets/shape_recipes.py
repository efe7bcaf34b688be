"""Random shapes resembling scanned people and objects, as lists of meshes in scene units (about 1 across, z up).

Each recipe takes a random generator and ``res`` (voxels per scene unit after voxelisation, for tessellation) and
returns a list of :class:`~datasets.meshes.Mesh`. Closed meshes may overlap (the voxeliser removes inner walls).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import meshes as M
from .meshes import Mesh

__all__ = ["RECIPES", "figure", "blob", "vessel", "extrusion", "furniture", "cloth", "primitives", "wires", "group"]


def _align(direction: np.ndarray) -> np.ndarray:
    """(3, 3) rotation taking the z axis to the unit vector along ``direction``."""
    d = np.asarray(direction, np.float64)
    d = d / np.linalg.norm(d)
    v, c = np.cross([0.0, 0.0, 1.0], d), d[2]
    if np.linalg.norm(v) < 1e-9:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def _wrinkle(m: Mesh, rng: np.random.Generator, strength: float) -> Mesh:
    """Cloth-like folds and skin-like bumps at a couple of scales."""
    if strength <= 0:
        return m
    m = M.displace_along_normals(m, rng, strength * rng.uniform(0.002, 0.006), rng.uniform(8, 25))
    return M.displace_along_normals(m, rng, strength * rng.uniform(0.0005, 0.002), rng.uniform(30, 80))


def _limb(rng, root, lengths, radii, down, spread, res) -> tuple[Mesh, np.ndarray, np.ndarray]:
    """A two-segment limb from ``root``: a bent tube; returns it, the end point and the last segment direction."""
    d1 = down + rng.normal(0, spread, 3)
    d1 /= np.linalg.norm(d1)
    d2 = d1 + rng.normal(0, 0.6, 3)
    d2 /= np.linalg.norm(d2)
    p1 = root + lengths[0] * d1
    p2 = p1 + lengths[1] * d2
    mid = (root + p1) / 2
    pts = np.array([root, mid, p1, (p1 + p2) / 2, p2])
    r = np.interp([0, 0.5, 1, 1.5, 2], [0, 1, 2], radii)
    return M.tube(pts, r, res), p2, d2


def figure(rng: np.random.Generator, res: float) -> list[Mesh]:
    """A standing person (height 1): torso, pelvis, head, neck, two-segment arms and legs, hands, feet, optional
    skirt; random proportions, pose and clothing folds."""
    s = rng.uniform(0.85, 1.15, 8)
    wr = rng.uniform(0, 1.5)
    out = []
    torso = M.superquadric(np.array([0.16 * s[0], 0.095 * s[1], 0.16]), rng.uniform(0.5, 1.0), rng.uniform(0.6, 1.0),
                           res)
    torso = M.taper(torso, rng.uniform(-0.8, 0.8))
    out.append(_wrinkle(M.warp(torso, rng, 0.01, 3), rng, wr).moved(None, [0, 0, 0.64]))
    out.append(M.superquadric(np.array([0.14 * s[2], 0.095 * s[1], 0.09]), 0.7, 0.8, res).moved(None, [0, 0, 0.5]))
    head = M.displaced_sphere(0.075 * s[3], rng, res, lmax=8, amp=0.06)
    out.append(head.moved(np.diag([0.85, 0.95, 1.15]), [0, rng.uniform(-0.01, 0.01), 0.905]))
    out.append(M.tube(np.array([[0, 0, 0.76], [0, 0.005, 0.86]]), np.array([0.038, 0.033]), res))
    for side in (-1, 1):
        sh = np.array([side * 0.175 * s[0], 0, 0.775])
        arm, wrist, d = _limb(rng, sh, (0.28 * s[4], 0.25 * s[4]), (0.045, 0.035, 0.028),
                              np.array([side * 0.3, 0, -1.0]), 0.5, res)
        out.append(_wrinkle(arm, rng, wr))
        out.append(M.tube(np.array([wrist, wrist + 0.05 * d, wrist + 0.09 * d]), np.array([0.027, 0.03, 0.02]), res))
        hip = np.array([side * 0.085 * s[2], 0, 0.5])
        leg, ankle, _ = _limb(rng, hip, (0.24 * s[5], 0.24 * s[5]), (0.07, 0.05, 0.036),
                              np.array([side * 0.05, 0, -1.0]), 0.12, res)
        out.append(_wrinkle(leg, rng, wr))
        foot = M.rounded_box(np.array([0.04, 0.11, 0.03]) * s[6], 0.025, res)
        out.append(foot.moved(M.rot_z(rng.normal(0, 0.3)), ankle + [0, -0.05, -0.01]))
    if rng.random() < 0.3:  # a skirt or coat tail: an open surface of revolution
        top, hem = rng.uniform(0.5, 0.6), rng.uniform(0.15, 0.4)
        prof = np.array([[0.15, top], [0.18 + 0.1 * rng.random(), (top + hem) / 2], [0.2 + 0.15 * rng.random(), hem]])
        skirt = M.revolved(prof[::-1], res, closed=False)
        out.append(_wrinkle(M.warp(skirt, rng, 0.02, 4), rng, 1.0))
    return out


def blob(rng: np.random.Generator, res: float) -> list[Mesh]:
    """One to three bumpy star-shaped solids (rocks, sculptures): spherical harmonics with random spectra."""
    out = []
    for _ in range(rng.integers(1, 4)):
        m = M.displaced_sphere(0.3, rng, res, lmax=int(rng.integers(4, 20)), amp=rng.uniform(0.1, 0.5),
                               decay=rng.uniform(0.8, 2.0))
        m = m.moved(np.diag(rng.uniform(0.5, 1.4, 3)), rng.uniform(-0.25, 0.25, 3))
        out.append(M.warp(m, rng, rng.uniform(0, 0.04), rng.uniform(1, 5)))
    return out


def _profile(rng: np.random.Generator, n: int = 6) -> np.ndarray:
    """Smooth random radius profile r(z), z in [0, 1], as (n, 2) points (radius, z)."""
    z = np.linspace(0, 1, n)
    r = np.clip(0.25 + np.cumsum(rng.normal(0, 0.08, n)), 0.05, 0.5)
    return np.stack([r, z], -1)


def vessel(rng: np.random.Generator, res: float) -> list[Mesh]:
    """Bottles (closed), cups, vases, bowls and lamp shades (open, thin walls): surfaces of revolution."""
    prof = _profile(rng)
    h = rng.uniform(0.4, 1.0)
    prof[:, 1] *= h
    if rng.random() < 0.4:  # closed solid: axis -> profile -> axis
        pts = np.concatenate([[[0, 0]], prof, [[0, h]]])
    else:  # open top with a wall of thickness t: outside up, inside down
        t = rng.uniform(0.006, 0.04)
        inner = prof[::-1] - [t, 0]
        inner[:, 0] = np.maximum(inner[:, 0], 0.01)
        inner[-1, 1] = t
        pts = np.concatenate([[[0, 0]], prof, inner, [[0, t]]])
    m = M.revolved(pts, res)
    if rng.random() < 0.5:
        m = M.displace_along_normals(m, rng, rng.uniform(0.001, 0.01), rng.uniform(3, 20))
    return [M.warp(m, rng, rng.uniform(0, 0.02), 2)]


def extrusion(rng: np.random.Generator, res: float) -> list[Mesh]:
    """Prisms over smooth star-shaped outlines, bevelled, optionally twisted, bent or tapered."""
    out = []
    for _ in range(rng.integers(1, 3)):
        k = np.arange(2, 9)
        theta = np.linspace(0, 2 * np.pi, 256, endpoint=False)
        r = 1 + (rng.normal(0, 0.25, len(k)) / k) @ np.cos(np.outer(k, theta) + rng.uniform(0, 6.3, (len(k), 1)))
        outline = 0.3 * np.maximum(r, 0.3)[:, None] * np.stack([np.cos(theta), np.sin(theta)], -1)
        outline *= rng.uniform(0.4, 1.2, 2)
        m = M.extruded(outline, rng.uniform(0.1, 1.0), rng.uniform(0.0, 0.2), res)
        m = m.moved(None, [0, 0, -0.3])
        choice = rng.integers(4)
        m = [m, M.twist(m, rng.uniform(-4, 4)), M.bend(m, rng.uniform(-1.5, 1.5)), M.taper(m, rng.uniform(-1, 1))][
            choice
        ]
        out.append(m.moved(M.rot_z(rng.uniform(0, 6.3)), rng.uniform(-0.2, 0.2, 3)))
    return out


def furniture(rng: np.random.Generator, res: float) -> list[Mesh]:
    """Tables, chairs, shelves and sofas from bevelled boxes and round or square legs (axis-aligned)."""
    kind = rng.integers(4)
    bev = rng.uniform(0.002, 0.03)
    box = lambda half, centre, b=bev: M.rounded_box(np.array(half), b, res).moved(None, centre)  # noqa: E731
    out = []
    w, d, h = rng.uniform(0.3, 0.6), rng.uniform(0.2, 0.4), rng.uniform(0.3, 0.5)
    leg = rng.uniform(0.01, 0.03)
    if kind in (0, 1):  # table or chair: top/seat on four legs, a chair has a back
        t = rng.uniform(0.01, 0.04)
        out.append(box([w, d, t], [0, 0, h]))
        for sx in (-1, 1):
            for sy in (-1, 1):
                p = [sx * (w - 2 * leg), sy * (d - 2 * leg)]
                if rng.random() < 0.5:
                    out.append(M.tube(np.array([[*p, 0], [*p, h]]), np.array([leg, leg * 0.8]), res, caps=True))
                else:
                    out.append(box([leg, leg, h / 2], [*p, h / 2], min(bev, leg * 0.5)))
        if kind == 1:
            out.append(box([w, t, rng.uniform(0.2, 0.4)], [0, d - t, h + 0.25]))
    elif kind == 2:  # shelf: two sides, a back and n boards
        t = rng.uniform(0.008, 0.02)
        hh = rng.uniform(0.6, 1.0)
        out += [box([t, d, hh / 2], [sx * w, 0, hh / 2]) for sx in (-1, 1)]
        out.append(box([w, t / 2, hh / 2], [0, d - t / 2, hh / 2]))
        out += [box([w - t, d - t, t], [0, 0, z]) for z in np.linspace(t, hh - t, rng.integers(3, 7))]
    else:  # sofa: base, back, arms and cushions with big bevels
        b = rng.uniform(0.03, 0.08)
        out.append(box([w, d, 0.12], [0, 0, 0.14], b))
        out.append(box([w, 0.07, 0.2], [0, d - 0.07, 0.38], b))
        out += [box([0.07, d, 0.18], [sx * (w - 0.07), 0, 0.2], b) for sx in (-1, 1)]
        for x in np.linspace(-w / 2, w / 2, rng.integers(1, 4)):
            out.append(M.superquadric(np.array([0.12, d * 0.8, 0.05]), 0.3, 0.3, res).moved(None, [x, -0.02, 0.3]))
    return out


def cloth(rng: np.random.Generator, res: float) -> list[Mesh]:
    """Open sheets with folds: curtains, flags, draped cloth (one voxel thin after voxelisation)."""
    out = []
    for _ in range(rng.integers(1, 3)):
        n = 6
        ang, f = rng.uniform(0, np.pi, n), rng.uniform(1, 8, n)
        a, ph = rng.uniform(0.005, 0.04, n) / np.sqrt(f), rng.uniform(0, 6.3, n)

        def height(x, y, ang=ang, f=f, a=a, ph=ph):
            u = np.cos(ang)[:, None, None] * x + np.sin(ang)[:, None, None] * y
            return (a[:, None, None] * np.sin(2 * np.pi * f[:, None, None] * u + ph[:, None, None])).sum(0)

        m = M.sheet((rng.uniform(0.4, 1.0), rng.uniform(0.4, 1.0)), height, res)
        m = m.moved(_align(rng.normal(size=3)))
        m = M.bend(m.moved(np.eye(3)[[0, 2, 1]]), rng.uniform(-2, 2))
        out.append(M.warp(m, rng, rng.uniform(0.0, 0.05), rng.uniform(1, 3)))
    return out


def primitives(rng: np.random.Generator, res: float) -> list[Mesh]:
    """Two to five open3d primitives (torus, cone, cylinder, box, sphere, platonic solids, Moebius strip, arrow),
    scaled, deformed (twist, bend, taper, warp) and placed so that they overlap."""
    import open3d as o3d

    G = o3d.geometry.TriangleMesh
    makers: list[tuple[Callable[[], object], bool]] = [
        (lambda: G.create_torus(0.25, rng.uniform(0.03, 0.12), 48, 24), True),
        (lambda: G.create_cone(0.2, 0.5, 48, 8), True),
        (lambda: G.create_cylinder(rng.uniform(0.05, 0.2), 0.5, 48, 8), True),
        (lambda: G.create_box(*rng.uniform(0.1, 0.5, 3)).translate([-0.15, -0.15, -0.15]), True),
        (lambda: G.create_sphere(0.25, 40), True),
        (lambda: G.create_icosahedron(0.3), True),
        (lambda: G.create_octahedron(0.3), True),
        (lambda: G.create_tetrahedron(0.35), True),
        (lambda: G.create_mobius(70, 8, 1, 0.3, rng.uniform(0.1, 0.3), 1, 1), False),
        (lambda: G.create_arrow(0.05, 0.1, 0.4, 0.15, 40, 8, 2), True),
    ]
    out = []
    for _ in range(rng.integers(2, 6)):
        make, closed = makers[rng.integers(len(makers))]
        m = M.from_open3d(make(), res, closed)
        m = m.moved(None, -m.vertices.mean(axis=0))
        deform = rng.integers(5)
        if deform == 1:
            m = M.twist(m, rng.uniform(-5, 5))
        elif deform == 2:
            m = M.bend(m, rng.uniform(-2, 2))
        elif deform == 3:
            m = M.taper(m, rng.uniform(-1.5, 1.5))
        elif deform == 4:
            m = M.warp(m, rng, rng.uniform(0.01, 0.05), rng.uniform(1, 4))
        out.append(m.moved(_align(rng.normal(size=3)) * rng.uniform(0.6, 1.6), rng.uniform(-0.3, 0.3, 3)))
    return out


def wires(rng: np.random.Generator, res: float) -> list[Mesh]:
    """Thin parts on a base: a lamp or plant stand with thin stems, helices and cables (radius 1-8 voxels)."""
    out = vessel(rng, res)
    out = [m.moved(np.eye(3) * 0.5) for m in out]
    top = max(m.vertices[:, 2].max() for m in out)
    for _ in range(rng.integers(2, 7)):
        n = 8
        if rng.random() < 0.4:  # helix
            t = np.linspace(0, rng.uniform(2, 6) * np.pi, n * 3)
            rr = rng.uniform(0.02, 0.15)
            pts = np.stack([rr * np.cos(t), rr * np.sin(t), top + np.linspace(0, rng.uniform(0.2, 0.6), len(t))], -1)
        else:
            pts = np.cumsum(np.r_[[[0, 0, top]], rng.normal(0, 0.08, (n, 3)) + [0, 0, 0.06]], axis=0)
        rad = rng.uniform(1.0, 8.0) / res
        out.append(M.tube(pts, np.full(len(pts), rad), res))
    return out


def group(rng: np.random.Generator, res: float) -> list[Mesh]:
    """Two or three shapes from the other recipes side by side (a person by furniture, objects on a table)."""
    out = []
    x = 0.0
    for _ in range(rng.integers(2, 4)):
        name = ("figure", "furniture", "vessel", "blob", "primitives", "extrusion")[rng.integers(6)]
        parts = RECIPES[name][0](rng, res)
        lo = np.min([p.vertices.min(0) for p in parts], 0)
        hi = np.max([p.vertices.max(0) for p in parts], 0)
        shift = np.array([x - lo[0], -(lo[1] + hi[1]) / 2, -lo[2]])
        out += [p.moved(None, shift) for p in parts]
        x += hi[0] - lo[0] + rng.uniform(-0.05, 0.1)
    return out


RECIPES: dict[str, tuple[Callable[[np.random.Generator, float], list[Mesh]], float]] = {
    "figure": (figure, 0.30),
    "blob": (blob, 0.08),
    "vessel": (vessel, 0.08),
    "extrusion": (extrusion, 0.07),
    "furniture": (furniture, 0.10),
    "cloth": (cloth, 0.07),
    "primitives": (primitives, 0.12),
    "wires": (wires, 0.05),
    "group": (group, 0.13),
}
"""name -> (recipe, probability of being drawn)."""
