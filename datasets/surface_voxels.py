"""Voxelise triangle meshes the way a dense scan is voxelised: points on the surface, rounded to the grid.

Each triangle is sampled on a barycentric lattice whose spacing (in voxels) is at most ``spacing``; with a spacing
of about half a voxel every voxel the surface crosses (bar tiny corner cuts) receives a point, so the result is a
watertight shell one voxel thick. Larger spacings or random (Poisson) sampling leave holes, like sparse captures.
Where closed meshes overlap, the voxels of one that lie inside another are dropped, so unions have no inner walls.
"""

from __future__ import annotations

import numpy as np

from .grid import unique_int
from .meshes import Mesh

__all__ = ["sample_lattice", "sample_random", "voxelize_meshes"]

_MAX_K = 4096


def _lattice_weights(k: int) -> np.ndarray:
    ii, jj = np.meshgrid(np.arange(k + 1), np.arange(k + 1), indexing="ij")
    keep = ii + jj <= k
    return np.stack([ii[keep], jj[keep]], -1) / max(k, 1)


def _triangles(vertices: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, ...]:
    """Corner a, edges ab and ac (T, 3) float32, unit normals (T, 3) and areas (T,) of the triangles."""
    v = vertices.astype(np.float32)
    a = v[triangles[:, 0]]
    ab = v[triangles[:, 1]] - a
    ac = v[triangles[:, 2]] - a
    n = np.cross(ab.astype(np.float64), ac)
    area2 = np.linalg.norm(n, axis=1)
    return a, ab, ac, (n / np.maximum(area2, 1e-300)[:, None]).astype(np.float32), area2 / 2


def sample_lattice(vertices: np.ndarray, triangles: np.ndarray, spacing: float, chunk: int = 2_000_000):
    """Points on a barycentric lattice of every triangle, spacing at most ``spacing`` along each edge direction.

    Args:
        vertices: (V, 3) positions, in voxels.
        triangles: (T, 3) vertex indices.
        spacing: lattice step, in voxels.
        chunk: about how many points each yielded block holds.

    Yields:
        blocks of (t, L, 3) float32 points (L per triangle) and the (t, 3) unit normals of their t triangles.
    """
    a, ab, ac, normal, _ = _triangles(vertices, triangles)
    edge = np.maximum(np.linalg.norm(ab, axis=1), np.linalg.norm(ac, axis=1))
    edge = np.maximum(edge, np.linalg.norm(ab - ac, axis=1))
    k = np.clip(np.ceil(edge / spacing), 1, _MAX_K).astype(np.int64)
    for kk in unique_int(k):
        sel = np.flatnonzero(k == kk)
        w = _lattice_weights(int(kk)).astype(np.float32)  # (L, 2)
        step = max(1, chunk // len(w))
        for s in range(0, len(sel), step):
            t = sel[s : s + step]
            yield a[t, None] + w[None, :, :1] * ab[t, None] + w[None, :, 1:] * ac[t, None], normal[t]


def sample_random(vertices: np.ndarray, triangles: np.ndarray, per_area: float, rng: np.random.Generator):
    """Uniform random points, ``per_area`` per square voxel on average (a Poisson number per triangle).

    Yields:
        one block of (n, 1, 3) float32 points and the (n, 3) unit normals of their triangles.
    """
    a, ab, ac, normal, area = _triangles(vertices, triangles)
    t = np.repeat(np.arange(len(a)), rng.poisson(area * per_area))
    u, v = rng.random((2, len(t), 1), np.float32)
    flip = (u + v > 1)[:, 0]
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    yield (a[t] + u * ab[t] + v * ac[t])[:, None], normal[t]


def _keys(points: np.ndarray, normals: np.ndarray, size: int, thickness: float, jitter: float,
          rng: np.random.Generator) -> np.ndarray:
    """Unique linear keys ``(x * size + y) * size + z`` of the voxels the points (t, L, 3) fall in, inside the
    grid, keeping only voxels whose centre is near the local plane (see :func:`voxelize_meshes`)."""
    if jitter > 0:
        points = points + rng.normal(0, jitter, points.shape).astype(np.float32)
    q = np.rint(points)
    dist = np.abs(np.einsum("tlj,tj->tl", q - points, normals))
    absn = np.abs(normals)
    limit = 0.5 * ((1 - thickness) * absn.max(axis=1) + thickness * absn.sum(axis=1))
    q = q[dist <= limit[:, None]]
    if len(q) and (q.min() < 0 or q.max() >= size):
        q = q[np.all((q >= 0) & (q < size), axis=1)]
    kt = np.int32 if size**3 < 2**31 else np.int64
    q = q.astype(kt)
    return unique_int((q[:, 0] * kt(size) + q[:, 1]) * kt(size) + q[:, 2]).astype(np.int64)


class _InsideTest:
    """Whether points lie inside a closed mesh (open3d ray parity), with the mesh's bounding box as a pre-filter."""

    def __init__(self, mesh: Mesh) -> None:
        import open3d as o3d

        self.lo, self.hi = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
        self.scene = o3d.t.geometry.RaycastingScene()
        self.scene.add_triangles(mesh.vertices.astype(np.float32), mesh.triangles.astype(np.uint32))

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return self.scene.compute_occupancy(points.astype(np.float32)).numpy().astype(bool)


def voxelize_meshes(
    meshes: list[Mesh],
    bits: int,
    rng: np.random.Generator,
    spacing: float | None = 0.5,
    per_area: float = 0.0,
    thickness: float = 0.0,
    jitter: float = 0.0,
) -> np.ndarray:
    """Voxelise the union of surfaces given in voxel coordinates.

    A sample point p on a triangle with unit normal n marks the voxel c = round(p) when
    ``|n . (c - p)| <= ((1 - thickness) * max|n_i| + thickness * sum|n_i|) / 2``: with ``thickness`` 0 a plane
    becomes a naive digital plane (one voxel per column along its dominant axis, 8 occupied 26-neighbours, like
    voxelised body scans); with 1 every voxel the plane crosses (conservative, thicker on oblique faces).

    Args:
        meshes: surfaces, vertices in voxels (points outside ``[0, 2**bits)`` are dropped).
        bits: grid depth.
        rng: random source (random sampling and jitter).
        spacing: lattice step in voxels; None samples randomly at ``per_area`` points per square voxel instead.
        per_area: density of random sampling.
        thickness: 0 (thin, naive) to 1 (conservative).
        jitter: standard deviation (voxels) of Gaussian noise added to points before rounding (thicker, noisier
            shells, like misregistered captures).

    Returns:
        (M, 3) int64 unique voxel indices (not in Morton order).
    """
    size = 1 << bits
    per_mesh = []
    for m in meshes:
        blocks = (
            sample_lattice(m.vertices, m.triangles, spacing)
            if spacing is not None
            else sample_random(m.vertices, m.triangles, per_area, rng)
        )
        keys = [_keys(p, n, size, thickness, jitter, rng) for p, n in blocks]
        per_mesh.append(unique_int(np.concatenate(keys)) if keys else np.empty(0, np.int64))
    keys = np.concatenate(per_mesh)
    owner = np.repeat(np.arange(len(meshes)), [len(k) for k in per_mesh])
    coords = np.stack([keys // (size * size), keys // size % size, keys % size], -1)
    by_x = np.argsort(coords[:, 0], kind="stable")
    xs = coords[by_x, 0]
    drop = np.zeros(len(keys), bool)
    for j, m in enumerate(meshes):
        if not m.closed:
            continue
        inside = _InsideTest(m)
        span = by_x[np.searchsorted(xs, inside.lo[0], "left") : np.searchsorted(xs, inside.hi[0], "right")]
        c = coords[span]
        cand = span[(owner[span] != j) & ~drop[span] & np.all((c >= inside.lo) & (c <= inside.hi), axis=1)]
        if len(cand):
            drop[cand[inside(coords[cand].astype(np.float64))]] = True
    keys = unique_int(keys[~drop])
    return np.stack([keys // (size * size), keys // size % size, keys % size], -1)
