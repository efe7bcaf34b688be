"""Synthetic dense clouds: random smooth shapes voxelised on a 10-bit grid like voxelised scans of people and objects.

A sample is drawn from one of :data:`~datasets.shape_recipes.RECIPES` (people, blobs, vessels, extrusions,
furniture, cloth, open3d primitives, thin wires, groups), oriented (upright with a random heading, sometimes axis
aligned, or fully random), scaled so its longest side spans 500-1020 voxels, placed at a random sub-voxel offset and
voxelised by dense lattice sampling of its surface: mostly thin watertight shells (naive digital surfaces, one voxel
per column along the normal's dominant axis, like voxelised body scans), some thicker (every voxel the surface
crosses), some sparsely sampled (holes), some with voxel-level capture noise (:func:`speckle`). Everything follows
from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .grid import random_rotation, sort_unique
from .shape_recipes import RECIPES
from .stats import NEIGHBOUR_OFFSETS
from .surface_voxels import voxelize_meshes

__all__ = ["SurfaceSample", "generate_surface", "speckle", "GENERATOR_NAME"]

GENERATOR_NAME = "synthetic_surfaces"
MAX_AREA_FRACTION = 1.2
"""Largest surface area of a sample, in units of the grid's face area (4**bits): a 10-bit sample has at most about
1.26 M square voxels of surface (about 1.5-2 M points), like a large voxelised body scan; larger shapes are shrunk,
but not below half the grid."""


@dataclass
class SurfaceSample:
    """One synthetic dense cloud.

    Attributes:
        coords: (M, 3) int32 unique voxel indices in ``[0, 2**bits)``, Morton-sorted.
        bits: grid depth.
        source: ``synthetic_surfaces:<recipe>:seed=<seed>``.
        params: the drawn parameters (recipe, longest side in voxels, sampling mode and density, shell thickness,
            speckle noise, orientation, number of meshes).
    """

    coords: np.ndarray
    bits: int
    source: str
    params: dict = field(default_factory=dict)


def _orientation(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Upright (scene z to a grid axis, y most often, random or axis-aligned heading) or a random rotation."""
    if rng.random() < 0.4:
        return random_rotation(rng), "random"
    heading = rng.integers(4) * np.pi / 2 if rng.random() < 0.35 else rng.uniform(0, 2 * np.pi)
    c, s = np.cos(heading), np.sin(heading)
    yaw = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    up = int(rng.choice(3, p=[0.1, 0.6, 0.3]))
    perm = np.eye(3)[[(up + 1) % 3, (up + 2) % 3, up]]  # rows: scene x, y, z go to axes up+1, up+2, up
    return perm.T @ yaw, f"upright-{'xyz'[up]}"


def generate_surface(seed: int, bits: int = 10, recipe: str | None = None) -> SurfaceSample:
    """Draw one synthetic dense cloud.

    Args:
        seed: the only source of randomness; equal seeds give identical clouds.
        bits: grid depth (10 for the dense sets).
        recipe: force one recipe of :data:`~datasets.shape_recipes.RECIPES` instead of drawing it.

    Returns:
        The sample; its longest side spans 50-100 % of the grid.
    """
    rng = np.random.default_rng([seed, 0x5EED_D0E5])
    names = list(RECIPES)
    if recipe is None:
        p = np.array([RECIPES[n][1] for n in names])
        recipe = names[int(rng.choice(len(names), p=p / p.sum()))]
    size = (1 << bits) - 1
    side = rng.uniform(0.49, 0.997) * size
    meshes = RECIPES[recipe][0](rng, side)
    rot, orient = _orientation(rng)
    lo = np.min([m.vertices.min(0) for m in meshes], 0)
    hi = np.max([m.vertices.max(0) for m in meshes], 0)
    centre = (lo + hi) / 2
    meshes = [m.moved(rot, -rot @ centre) for m in meshes]
    lo = np.min([m.vertices.min(0) for m in meshes], 0)
    hi = np.max([m.vertices.max(0) for m in meshes], 0)
    scale = side / (hi - lo).max()
    area = sum(m.area() for m in meshes) * scale**2
    limit = MAX_AREA_FRACTION * 4.0**bits
    if area > limit:  # big thin-walled vessels, shelves: shrink towards half the grid
        shrink = max(np.sqrt(limit / area), 0.49 * size / side)
        scale, side = scale * shrink, side * shrink
    ext = (hi - lo) * scale
    offset = rng.uniform(0.5, np.maximum(size - 0.5 - ext, 0.5)) - lo * scale
    meshes = [m.moved(np.eye(3) * scale, offset) for m in meshes]
    if rng.random() < 0.12:
        mode, spacing, per_area = "random", None, float(rng.uniform(0.7, 3.0))
    else:
        mode, spacing, per_area = "lattice", float(rng.uniform(0.4, 0.8)), 0.0
    thickness = 0.0 if rng.random() < 0.7 else float(rng.uniform(0.0, 1.0))
    vox = voxelize_meshes(meshes, bits, rng, spacing=spacing, per_area=per_area, thickness=thickness)
    added = dropped = 0.0
    if rng.random() < 0.35:
        added, dropped = float(rng.uniform(0.01, 0.15)), float(rng.uniform(0.0, 0.05))
        vox = speckle(vox, rng, added, dropped, bits)
    params = dict(recipe=recipe, side=round(float(side), 1), mode=mode, spacing=spacing, per_area=per_area,
                  thickness=thickness, added=added, dropped=dropped, orientation=orient, meshes=len(meshes))
    return SurfaceSample(sort_unique(vox), bits, f"{GENERATOR_NAME}:{recipe}:seed={seed}", params)


def speckle(coords: np.ndarray, rng: np.random.Generator, added: float, dropped: float, bits: int) -> np.ndarray:
    """Capture noise at the voxel level: a random neighbour (of 26) switched on next to a fraction ``added`` of the
    voxels (local thickening, outliers) and a fraction ``dropped`` of the voxels switched off (pinholes).

    Args:
        coords: (M, 3) integer voxels.

    Returns:
        (M', 3) int64 voxels inside the grid, unsorted, possibly with duplicates.
    """
    c = np.asarray(coords, np.int64)
    extra = c[rng.random(len(c)) < added]
    extra = extra + NEIGHBOUR_OFFSETS[rng.integers(0, 26, len(extra))]
    extra = extra[np.all((extra >= 0) & (extra < (1 << bits)), axis=1)]
    return np.concatenate([c[rng.random(len(c)) >= dropped], extra])
