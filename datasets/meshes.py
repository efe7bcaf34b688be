"""Triangle meshes of smooth shapes for the synthetic dense sets: builders and deformations.

All builders work in a local frame in scene units and take ``res``, the approximate number of voxels per scene
unit after voxelisation, to choose a tessellation whose triangle edges are a few voxels long (fine enough that
deformations look smooth, coarse enough to stay cheap). Closed surfaces are closed geometrically (rows that meet at
a pole or seams that coincide), which is all that inside tests by ray parity need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator
from scipy.ndimage import map_coordinates

__all__ = [
    "Mesh",
    "rot_z",
    "box",
    "grid_mesh",
    "superquadric",
    "rounded_box",
    "displaced_sphere",
    "random_sh_field",
    "tube",
    "revolved",
    "extruded",
    "sheet",
    "from_open3d",
    "smooth_field",
    "warp",
    "displace_along_normals",
    "twist",
    "bend",
    "taper",
]

EDGE_VOXELS = 4.0
"""Target triangle edge after voxelisation, in voxels."""


@dataclass
class Mesh:
    """A triangle mesh.

    Attributes:
        vertices: (V, 3) float64 positions.
        triangles: (T, 3) int64 vertex indices.
        closed: whether the surface bounds a solid (inside tests apply to it).
    """

    vertices: np.ndarray
    triangles: np.ndarray
    closed: bool = True

    def moved(self, matrix: np.ndarray | None = None, offset: np.ndarray | float = 0.0) -> Mesh:
        """A copy with vertices ``v @ matrix.T + offset`` (matrix (3, 3), offset (3,))."""
        v = self.vertices if matrix is None else self.vertices @ np.asarray(matrix).T
        return Mesh(v + offset, self.triangles, self.closed)

    def with_vertices(self, vertices: np.ndarray) -> Mesh:
        """A copy with new (V, 3) vertices and the same triangles."""
        return Mesh(np.asarray(vertices, np.float64), self.triangles, self.closed)

    def area(self) -> float:
        """Total triangle area, in squared vertex units."""
        v, t = self.vertices, self.triangles
        return float(0.5 * np.linalg.norm(np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]]), axis=1).sum())


def rot_z(angle: float) -> np.ndarray:
    """(3, 3) rotation by ``angle`` radians about the z axis."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def box(lo, hi) -> Mesh:
    """Axis-aligned box from corner ``lo`` (3,) to corner ``hi`` (3,), 12 triangles."""
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    v = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    t = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1], [2, 3, 7], [2, 7, 6],
                  [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    return Mesh(v, t)


def _count(length: float, res: float, lo: int = 6, hi: int = 640) -> int:
    """Number of grid steps for a curve of ``length`` scene units."""
    return int(np.clip(np.ceil(length * res / EDGE_VOXELS), lo, hi))


def grid_mesh(points: np.ndarray, wrap_u: bool = True, closed: bool = True) -> Mesh:
    """Triangulate an (nv, nu, 3) grid of points (rows v, columns u; u periodic when ``wrap_u``)."""
    nv, nu = points.shape[:2]
    idx = np.arange(nv * nu).reshape(nv, nu)
    right = np.roll(idx, -1, axis=1) if wrap_u else idx[:, 1:]
    left = idx if wrap_u else idx[:, :-1]
    a, b, c, d = left[:-1], right[:-1], left[1:], right[1:]
    tris = np.concatenate([np.stack([a, b, d], -1).reshape(-1, 3), np.stack([a, d, c], -1).reshape(-1, 3)])
    return Mesh(points.reshape(-1, 3).astype(np.float64), tris.astype(np.int64), closed)


def _signed_pow(x: np.ndarray, e: float) -> np.ndarray:
    return np.sign(x) * np.abs(x) ** e


def superquadric(radii: np.ndarray, e1: float, e2: float, res: float) -> Mesh:
    """Superquadric ellipsoid (e1 = e2 = 1: ellipsoid; small exponents: box-like; 2: octahedron-like)."""
    a, b, c = radii
    nu = _count(2 * np.pi * max(a, b), res, 16)
    nv = _count(np.pi * max(a, b, c), res, 8)
    v = np.linspace(-np.pi / 2, np.pi / 2, nv + 1)[:, None]
    u = np.linspace(0, 2 * np.pi, nu, endpoint=False)[None, :]
    cv, sv = _signed_pow(np.cos(v), e1), _signed_pow(np.sin(v), e1)
    p = np.stack(
        np.broadcast_arrays(a * cv * _signed_pow(np.cos(u), e2), b * cv * _signed_pow(np.sin(u), e2), c * sv), -1
    )
    return grid_mesh(p)


def rounded_box(half: np.ndarray, bevel: float, res: float) -> Mesh:
    """Box of half sizes ``half`` (3,) with edges and corners rounded by radius ``bevel`` (< min(half))."""
    half = np.asarray(half, np.float64)
    bevel = float(np.clip(bevel, 1e-6, half.min() * 0.999))
    inner = half - bevel
    verts, tris, base = [], [], 0
    for k in range(3):
        i, j = [a for a in range(3) if a != k]
        ni, nj = _count(2 * half[i], res, 2), _count(2 * half[j], res, 2)
        gi, gj = np.meshgrid(np.linspace(-half[i], half[i], ni + 1), np.linspace(-half[j], half[j], nj + 1))
        for s in (-1.0, 1.0):
            p = np.zeros(gi.shape + (3,))
            p[..., i], p[..., j], p[..., k] = gi, gj, s * half[k]
            q = np.clip(p, -inner, inner)
            d = p - q
            p = q + bevel * d / np.linalg.norm(d, axis=-1, keepdims=True)
            m = grid_mesh(p, wrap_u=False)
            verts.append(m.vertices)
            tris.append(m.triangles + base)
            base += len(m.vertices)
    return Mesh(np.concatenate(verts), np.concatenate(tris), True)


def _sphere_grid(nv: int, nu: int) -> tuple[np.ndarray, np.ndarray]:
    theta = np.linspace(0, np.pi, nv + 1)[:, None] * np.ones((1, nu))
    phi = np.linspace(0, 2 * np.pi, nu, endpoint=False)[None, :] * np.ones((nv + 1, 1))
    return theta, phi


def displaced_sphere(radius: float, rng: np.random.Generator, res: float, lmax: int = 12, amp: float = 0.15,
                     decay: float = 2.0) -> Mesh:
    """Sphere whose radius is modulated by random real spherical harmonics up to degree ``lmax``.

    Coefficients of degree l have standard deviation ``amp * l**-decay`` (relative to ``radius``); the radius is
    kept above 0.25 ``radius`` so the surface stays star-shaped.
    """
    nu = _count(2 * np.pi * radius * (1 + amp), res, 16)
    theta, phi = _sphere_grid(_count(np.pi * radius * (1 + amp), res, 8), nu)
    # Evaluate the harmonics on a coarse grid (exact enough for degree <= lmax) and interpolate to the fine one.
    ct, cp = 4 * lmax + 5, 8 * lmax + 8
    t_c, p_c = _sphere_grid(ct - 1, cp)
    r_c = 1.0 + random_sh_field(t_c, p_c, lmax, lambda l, n: rng.normal(0, amp * l ** (-decay), n))
    pad = 3
    r_c = np.concatenate([r_c[:, -pad:], r_c, r_c[:, :pad]], axis=1)
    rows = theta / np.pi * (ct - 1)
    cols = phi / (2 * np.pi) * cp + pad
    r = map_coordinates(r_c, [rows.ravel(), cols.ravel()], order=3, mode="nearest").reshape(theta.shape)
    r = radius * np.maximum(r, 0.25)
    p = np.stack([r * np.sin(theta) * np.cos(phi), r * np.sin(theta) * np.sin(phi), r * np.cos(theta)], -1)
    return grid_mesh(p)


def random_sh_field(theta: np.ndarray, phi: np.ndarray, lmax: int, draw) -> np.ndarray:
    """Sum of real spherical harmonics of degrees 1..lmax with random coefficients.

    Uses the fully normalised associated Legendre recurrences (orthonormal harmonics).

    Args:
        theta, phi: polar and azimuthal angles (same shape), radians.
        lmax: highest degree.
        draw: ``draw(l, n)`` returns n coefficients for degree l (called once per degree and order sign).

    Returns:
        The field, shaped like ``theta``.
    """
    x, s = np.cos(theta), np.sin(theta)
    coeff = {l: (draw(l, l + 1), draw(l, l)) for l in range(1, lmax + 1)}  # orders m >= 0 and m < 0
    out = np.zeros_like(theta, dtype=np.float64)
    pmm = np.full_like(x, 1 / np.sqrt(4 * np.pi))
    for m in range(lmax + 1):
        if m > 0:
            pmm = -np.sqrt((2 * m + 1) / (2 * m)) * s * pmm
        cos_m, sin_m = (np.sqrt(2) * np.cos(m * phi), np.sqrt(2) * np.sin(m * phi)) if m else (1.0, 0.0)
        p_prev, p = np.zeros_like(x), pmm
        for l in range(m, lmax + 1):
            if l > m:
                a = np.sqrt((4 * l * l - 1) / (l * l - m * m))
                b = np.sqrt(((l - 1) ** 2 - m * m) / (4 * (l - 1) ** 2 - 1))
                p_prev, p = p, a * (x * p - b * p_prev)
            if l >= 1:
                c_pos, c_neg = coeff[l]
                out += p * (c_pos[m] * cos_m + (c_neg[m - 1] * sin_m if m else 0.0))
    return out


def _frames(tangents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation-minimising normals and binormals along unit tangents (n, 3), by parallel transport."""
    t0 = tangents[0]
    seed = np.eye(3)[np.argmin(np.abs(t0))]
    n = np.cross(t0, seed)
    n /= np.linalg.norm(n)
    normals = np.empty_like(tangents)
    for i, t in enumerate(tangents):
        n = n - t * (n @ t)
        n /= max(np.linalg.norm(n), 1e-12)
        normals[i] = n
    return normals, np.cross(tangents, normals)


def tube(centre: np.ndarray, radii: np.ndarray, res: float, caps: bool = True) -> Mesh:
    """Generalised cylinder along a smooth curve through ``centre`` (K, 3) with radii (K,) at those points,
    closed by hemispherical caps (open ends without ``caps``)."""
    centre = np.asarray(centre, np.float64)
    chord = np.r_[0, np.cumsum(np.linalg.norm(np.diff(centre, axis=0), axis=1))]
    length = chord[-1]
    spline = CubicSpline(chord, centre, bc_type="natural") if len(centre) > 2 else None
    rad = PchipInterpolator(chord, radii) if len(centre) > 2 else (lambda s: np.interp(s, chord, radii))
    s = np.linspace(0, length, _count(length, res, 4) + 1)
    if spline is None:
        pts = centre[0] + (centre[1] - centre[0]) * (s / length)[:, None]
        tan = np.repeat(((centre[1] - centre[0]) / length)[None], len(s), 0)
    else:
        pts, tan = spline(s), spline(s, 1)
        tan /= np.linalg.norm(tan, axis=1, keepdims=True)
    r = np.maximum(rad(s), 1e-3)
    if caps:
        nc = _count(np.pi / 2 * max(r[0], r[-1]), res, 3, 64)
        a = np.linspace(0, np.pi / 2, nc + 1)[1:]  # cap angles, pole last
        head_off, head_r = -r[0] * np.sin(a[::-1]), r[0] * np.cos(a[::-1])
        tail_off, tail_r = r[-1] * np.sin(a), r[-1] * np.cos(a)
        pts = np.concatenate([pts[0] + head_off[:, None] * tan[0], pts, pts[-1] + tail_off[:, None] * tan[-1]])
        tan = np.concatenate([np.repeat(tan[:1], nc, 0), tan, np.repeat(tan[-1:], nc, 0)])
        r = np.concatenate([head_r, r, tail_r])
    normals, binormals = _frames(tan)
    nu = _count(2 * np.pi * r.max(), res, 8)
    u = np.linspace(0, 2 * np.pi, nu, endpoint=False)
    ring = np.cos(u)[None, :, None] * normals[:, None] + np.sin(u)[None, :, None] * binormals[:, None]
    return grid_mesh(pts[:, None] + r[:, None, None] * ring, closed=caps)


def _resample_polyline(p: np.ndarray, step: float) -> np.ndarray:
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.r_[0, np.cumsum(seg)]
    t = np.linspace(0, s[-1], max(int(np.ceil(s[-1] / step)), len(p)) + 1)
    t = np.unique(np.r_[t, s])  # keep the corners
    return np.stack([np.interp(t, s, p[:, k]) for k in range(p.shape[1])], -1)


def revolved(profile: np.ndarray, res: float, closed: bool = True) -> Mesh:
    """Surface of revolution about z of a polyline ``profile`` (K, 2) of (radius, z); closed when it starts and
    ends on the axis (radius 0)."""
    prof = _resample_polyline(np.asarray(profile, np.float64), EDGE_VOXELS / res)
    nu = _count(2 * np.pi * prof[:, 0].max(), res, 12)
    u = np.linspace(0, 2 * np.pi, nu, endpoint=False)
    p = np.stack(np.broadcast_arrays(prof[:, :1] * np.cos(u), prof[:, :1] * np.sin(u), prof[:, 1:2]), -1)
    return grid_mesh(p, closed=closed)


def extruded(outline: np.ndarray, height: float, bevel: float, res: float) -> Mesh:
    """Prism over a star-shaped outline with flat caps and bevelled rims.

    Args:
        outline: (nu, 2) closed outline around the origin (star-shaped about it), scene units.
        height: extent along z (the prism spans z in [0, height]).
        bevel: rim chamfer, as a fraction of the outline (0 to 0.3).
        res: voxels per scene unit.
    """
    scale_z = [(0.0, 0.0), (1 - bevel, 0.0), (1.0, bevel * height), (1.0, height * (1 - bevel)),
               (1 - bevel, height), (0.0, height)]
    rows = _resample_polyline(np.array(scale_z), EDGE_VOXELS / res / max(np.abs(outline).max(), 1e-9))
    p = np.concatenate([rows[:, None, :1] * outline[None], np.broadcast_to(rows[:, None, 1:], rows.shape[:1] +
                                                                            (len(outline), 1))], -1)
    return grid_mesh(p)


def sheet(size: tuple[float, float], height: Callable[[np.ndarray, np.ndarray], np.ndarray] | None,
          res: float) -> Mesh:
    """Open rectangular sheet in the xy plane, displaced along z by ``height`` (a callable of (x, y) arrays)."""
    nx, ny = _count(size[0], res, 2), _count(size[1], res, 2)
    x, y = np.meshgrid(np.linspace(-size[0] / 2, size[0] / 2, nx + 1), np.linspace(-size[1] / 2, size[1] / 2, ny + 1))
    z = height(x, y) if height is not None else np.zeros_like(x)
    return grid_mesh(np.stack([x, y, z], -1), wrap_u=False, closed=False)


def from_open3d(mesh, res: float, closed: bool = True) -> Mesh:
    """Convert an ``open3d.geometry.TriangleMesh``, subdividing until edges are about ``EDGE_VOXELS`` long."""
    for _ in range(6):
        v, t = np.asarray(mesh.vertices), np.asarray(mesh.triangles)
        edge = np.linalg.norm(v[t[:, 0]] - v[t[:, 1]], axis=1).mean()
        if edge * res <= 2 * EDGE_VOXELS or len(t) > 200_000:
            break
        mesh = mesh.subdivide_midpoint(1)
    return Mesh(np.asarray(mesh.vertices, np.float64).copy(), np.asarray(mesh.triangles, np.int64).copy(), closed)


def smooth_field(p: np.ndarray, rng: np.random.Generator, freq: float, modes: int = 8, dims: int = 3) -> np.ndarray:
    """A smooth random field at points ``p`` (N, 3): a sum of ``modes`` random plane waves of spatial frequency
    about ``freq`` (cycles per unit), unit standard deviation per component. Returns (N, dims)."""
    w = rng.normal(size=(modes, 3))
    w *= (2 * np.pi * freq * rng.uniform(0.5, 1.5, modes) / np.linalg.norm(w, axis=1))[:, None]
    phase = rng.uniform(0, 2 * np.pi, modes)
    amp = rng.normal(size=(modes, dims)) * np.sqrt(2.0 / modes)
    return np.sin(p @ w.T + phase) @ amp


def warp(mesh: Mesh, rng: np.random.Generator, amplitude: float, freq: float) -> Mesh:
    """Displace every vertex by a smooth random vector field of the given amplitude (scene units)."""
    return mesh.with_vertices(mesh.vertices + amplitude * smooth_field(mesh.vertices, rng, freq))


def vertex_normals(mesh: Mesh) -> np.ndarray:
    """(V, 3) area-weighted unit vertex normals."""
    v, t = mesh.vertices, mesh.triangles
    fn = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])
    n = np.zeros_like(v)
    for k in range(3):
        n += np.stack([np.bincount(t[:, k], fn[:, d], len(v)) for d in range(3)], -1)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def displace_along_normals(mesh: Mesh, rng: np.random.Generator, amplitude: float, freq: float) -> Mesh:
    """Bumps or wrinkles: move vertices along their normals by a smooth random scalar field."""
    h = smooth_field(mesh.vertices, rng, freq, dims=1)
    return mesh.with_vertices(mesh.vertices + amplitude * h * vertex_normals(mesh))


def twist(mesh: Mesh, radians_per_unit: float) -> Mesh:
    """Rotate about z by an angle proportional to z."""
    v = mesh.vertices
    a = radians_per_unit * v[:, 2]
    c, s = np.cos(a), np.sin(a)
    return mesh.with_vertices(np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1], v[:, 2]], -1))


def bend(mesh: Mesh, curvature: float) -> Mesh:
    """Bend the z axis into an arc of the given curvature (1 / radius) in the xz plane."""
    if abs(curvature) < 1e-9:
        return mesh
    v = mesh.vertices
    r = 1.0 / curvature
    a = v[:, 2] * curvature
    x = r - (r - v[:, 0]) * np.cos(a)
    z = (r - v[:, 0]) * np.sin(a)
    return mesh.with_vertices(np.stack([x, v[:, 1], z], -1))


def taper(mesh: Mesh, rate: float) -> Mesh:
    """Scale x and y by ``1 + rate * z`` (kept above 0.2)."""
    v = mesh.vertices
    f = np.maximum(1 + rate * v[:, 2], 0.2)[:, None]
    return mesh.with_vertices(np.concatenate([v[:, :2] * f, v[:, 2:]], 1))
