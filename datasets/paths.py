"""Where the real data lives, which of it is for training, and the guard that refuses evaluation-only files.

The shared data folder (``../shared/data`` beside the repository, or ``$OMNICODEC_SHARED_DATA``) holds files that
are for evaluation only (see its ``MANIFEST.md``). :func:`check_training_path` refuses them, and every function in
this package that opens a real file calls it first, before the file is touched.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "EvaluationDataError",
    "REPO",
    "shared_data_root",
    "check_training_path",
    "is_evaluation_only",
    "DENSE_TRAINING_FILES",
    "LIDAR_TRAINING_FILES",
    "training_files",
]

REPO = Path(__file__).resolve().parents[1]


class EvaluationDataError(PermissionError):
    """A path names data reserved for evaluation (or derived from it); it must never be read for training."""


# Relative paths (POSIX, inside the shared data folder) that are evaluation-only or derived from evaluation data.
# A path is refused when its resolved form contains one of these as a run of consecutive components.
_FORBIDDEN_PARTS: tuple[tuple[str, ...], ...] = (
    ("pointcloud", "dense_loot"),
    ("pointcloud", "lidar", "kitti00", "000005.bin"),
    ("lightfield", "antinous"),
    ("erp", "horizonnet_demo_panocontext_1024x512.png"),
    ("erp", "zind_room_17_pano_7.jpg"),
    ("erp", "vrview_petra.jpg"),
    ("images", "kodak"),
    ("reference", "metric_refs"),
)
# File or folder names refused wherever they appear (copies or renames of the evaluation files).
_FORBIDDEN_NAMES = (
    "loot_vox10", "dense_loot", "antinous", "horizonnet_demo_panocontext", "metric_refs", ".sealed-eval",
    "kodim", "zind_room_17_pano_7", "vrview_petra"
)

DENSE_TRAINING_FILES: tuple[str, ...] = (
    "pointcloud/scans/stanford_bunny/bun_zipper.ply",
    "pointcloud/scans/pcl_test/bun0.pcd",
    "pointcloud/scans/pcl_test/five_people.pcd",
    "pointcloud/scans/pcl_test/frame_20121214T142255.814212.pcd",
    "pointcloud/scans/pcl_test/frame_20121214T142256.068683.pcd",
    "pointcloud/scans/pcl_test/frame_20121214T142256.332395.pcd",
    "pointcloud/scans/pcl_test/office1.pcd",
    "pointcloud/scans/pcl_test/table_scene_mug_stereo_textured.pcd",
    "pointcloud/scans/pcl_data/room_scan1.pcd",
    "pointcloud/scans/pcl_data/room_scan2.pcd",
    "pointcloud/scans/pcl_data/samp11-utm.pcd",
)
"""Scans voxelised to a 10-bit grid for the dense sets (paths relative to the shared data folder)."""

LIDAR_TRAINING_FILES: tuple[str, ...] = (
    "pointcloud/lidar/kitti00/000000.bin",
    "pointcloud/lidar/kitti00/000001.bin",
    "pointcloud/lidar/kitti00/000002.bin",
    "pointcloud/lidar/kitti00/000003.bin",
    "pointcloud/lidar/kitti00/000004.bin",
    "pointcloud/lidar/kitti_det/000008.bin",
)
"""LiDAR frames put on the 1 mm grid for the LiDAR sets. ``kitti00/000005.bin`` is evaluation-only."""


def shared_data_root(override: str | os.PathLike | None = None) -> Path:
    """The shared data folder: ``override``, else ``$OMNICODEC_SHARED_DATA``, else ``../shared/data`` beside the
    repository. The folder may not exist; callers check."""
    if override is not None:
        return Path(override)
    env = os.environ.get("OMNICODEC_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def _contains_run(parts: tuple[str, ...], run: tuple[str, ...]) -> bool:
    n = len(run)
    return any(parts[i : i + n] == run for i in range(len(parts) - n + 1))


def is_evaluation_only(path: str | os.PathLike) -> bool:
    """Whether ``path`` (as given, and after resolving links) names evaluation-only data. Never opens the file."""
    p = Path(path)
    candidates = {p.absolute()}
    try:
        candidates.add(p.resolve())
    except OSError:
        pass
    for c in candidates:
        parts = c.parts
        if any(_contains_run(parts, run) for run in _FORBIDDEN_PARTS):
            return True
        if any(name in part for part in parts for name in _FORBIDDEN_NAMES):
            return True
    return False


def check_training_path(path: str | os.PathLike) -> Path:
    """Return ``path`` as a :class:`Path` if it may be used for training.

    Raises:
        EvaluationDataError: the path names evaluation-only data (checked before the file is opened).
    """
    if is_evaluation_only(path):
        raise EvaluationDataError(f"{path}: evaluation-only data (see the shared MANIFEST.md); refusing to read it")
    return Path(path)


def training_files(kind: str, root: str | os.PathLike | None = None) -> list[Path]:
    """Absolute paths of the real training files of one kind (``dense`` or ``lidar``) that exist under ``root``.

    Every path passes :func:`check_training_path`.
    """
    rels = {"dense": DENSE_TRAINING_FILES, "lidar": LIDAR_TRAINING_FILES}[kind]
    base = shared_data_root(root)
    return [check_training_path(base / r) for r in rels if (base / r).is_file()]
