"""Coloured dense clouds for training the attribute codec: synthetic shapes textured with training photos.

A shape of :func:`~datasets.synthetic_surfaces.generate_surface` (10-bit voxels) gets the colours of a photo from
``../shared/data/images/train`` wrapped around it (cylindrical projection about the shape's longest axis, the photo
tiled and scaled so one texel covers one to four voxels), then a random gain and gamma per channel, and capture
noise (Gaussian, sigma 0 to 3 levels) and sometimes a blur over the voxel neighbours, as scanned colours have.
Scalar clouds for intensity come from the LiDAR training frames themselves (:func:`lidar_intensity_frames`).

Every real file goes through :func:`~datasets.paths.check_training_path` first; evaluation data is never read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .paths import check_training_path, shared_data_root
from .synthetic_surfaces import generate_surface

__all__ = ["training_photos", "coloured_surface", "lidar_intensity_frames", "PCL_COLOUR_FILES"]

PCL_COLOUR_FILES = (
    "pointcloud/scans/pcl_test/frame_20121214T142255.814212.pcd",
    "pointcloud/scans/pcl_test/frame_20121214T142256.068683.pcd",
    "pointcloud/scans/pcl_test/table_scene_mug_stereo_textured.pcd",
)
"""Real coloured scans used for training (PCL test data, BSD-3-Clause)."""

LIDAR_INTENSITY_FILES = tuple(f"pointcloud/lidar/kitti00/00000{i}.bin" for i in range(5))
"""KITTI frames 0-4 (frame 5 is evaluation-only)."""


def training_photos(root: Path | None = None) -> list[np.ndarray]:
    """``(H, W, 3)`` uint8 photos of ``images/train`` (sorted by name)."""
    from PIL import Image

    root = Path(root) if root is not None else shared_data_root()
    out = []
    for p in sorted((root / "images" / "train").iterdir()):
        if p.suffix.lower() in (".png", ".tif", ".tiff", ".jpg"):
            with Image.open(check_training_path(p)) as im:
                out.append(np.asarray(im.convert("RGB")))
    return out


def _bilinear(img: np.ndarray, v: np.ndarray, u: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    v = np.mod(v, h - 1)
    u = np.mod(u, w - 1)
    v0, u0 = np.floor(v).astype(np.int64), np.floor(u).astype(np.int64)
    fv, fu = (v - v0)[:, None], (u - u0)[:, None]
    im = img.astype(np.float64)
    top = im[v0, u0] * (1 - fu) + im[v0, u0 + 1] * fu
    bot = im[v0 + 1, u0] * (1 - fu) + im[v0 + 1, u0 + 1] * fu
    return top * (1 - fv) + bot * fv


def coloured_surface(seed: int, photos: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One coloured dense cloud: ``(coords (M, 3) int64 Morton-sorted, rgb (M, 3) uint8)``; equal seeds give equal
    clouds."""
    rng = np.random.default_rng(seed)
    coords = generate_surface(seed).coords.astype(np.int64)
    photo = photos[int(rng.integers(len(photos)))]
    c = coords.astype(np.float64)
    c -= c.mean(axis=0)
    axis = int(np.argmax(np.ptp(coords, axis=0)))
    a, b = [k for k in range(3) if k != axis]
    angle = np.arctan2(c[:, b], c[:, a])
    radius = np.median(np.hypot(c[:, a], c[:, b])) + 1.0
    texel = rng.uniform(1.0, 4.0)  # voxels per texel
    u = (angle + np.pi) * radius / texel + rng.uniform(0, photo.shape[1])
    v = c[:, axis] / texel + rng.uniform(0, photo.shape[0])
    rgb = _bilinear(photo, v, u)
    gain = rng.uniform(0.7, 1.2, size=3)
    gamma = rng.uniform(0.8, 1.25, size=3)
    rgb = 255.0 * (np.clip(rgb / 255.0, 0, 1) ** gamma) * gain
    if rng.random() < 0.5:  # a blur over the voxel neighbours (nearest points in Morton order, a cheap proxy)
        rgb = (rgb + np.roll(rgb, 1, axis=0) + np.roll(rgb, -1, axis=0)) / 3.0
    rgb += rng.normal(0.0, rng.uniform(0.0, 3.0), size=rgb.shape)
    return coords, np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def lidar_intensity_frames(root: Path | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The KITTI training frames: ``[(positions (N, 3) float32 metres, intensity (N,) float32), ...]``."""
    root = Path(root) if root is not None else shared_data_root()
    out = []
    for rel in LIDAR_INTENSITY_FILES:
        raw = np.fromfile(check_training_path(root / rel), dtype="<f4").reshape(-1, 4)
        out.append((raw[:, :3].copy(), raw[:, 3].copy()))
    return out
