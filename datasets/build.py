"""Build the HDF5 training sets: ``python -m datasets.build --kind dense|lidar|all --out datasets/build``.

For each kind it writes ``<kind>_train.h5`` and ``<kind>_val.h5`` (layout in :mod:`datasets.h5store`):

* dense: ``--train`` / ``--val`` synthetic samples, mostly surfaces (:mod:`datasets.synthetic_surfaces`), a fraction
  ``--indoor`` single-view indoor scans (:mod:`datasets.synthetic_indoor`), plus each real dense scan
  of the shared data voxelised on its bounding box (10-bit) and ``--augment`` randomly rotated / cropped /
  coarser copies of it;
* lidar: ``--train`` / ``--val`` synthetic scans (:mod:`datasets.synthetic_lidar`), plus each real LiDAR frame on
  the 1 mm grid and ``--augment`` turned / tilted / mirrored / cropped copies.

Real files listed by ``--val-files`` go to the validation set, the others to training. Every sample has its own
seed derived from ``--seed``, the split and its index, so a build is identical for any number of ``--workers``.
Evaluation-only files are refused (:mod:`datasets.paths`).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from .grid import bit_depth
from .h5store import TrainingSet, TrainingSetWriter
from .paths import DENSE_TRAINING_FILES, LIDAR_TRAINING_FILES, REPO, check_training_path, shared_data_root

__all__ = ["BUILDER_VERSION", "make_tasks", "make_sample", "build_set", "main"]

BUILDER_VERSION = "1.0"
DEFAULT_VAL_FILES = ("pointcloud/scans/pcl_test/five_people.pcd", "pointcloud/scans/pcl_data/room_scan2.pcd",
                     "pointcloud/lidar/kitti_det/000008.bin")
_SPLITS = {"train": 1, "val": 2}


def _seed(base: int, split: str, stream: int, index: int) -> int:
    """A 31-bit seed for one sample, from the build seed, the split, the sample stream and the index."""
    return int(np.random.SeedSequence([base, _SPLITS[split], stream, index]).generate_state(1)[0] >> 1)


def make_tasks(kind: str, split: str, synthetic: int, seed: int, augment: int, data_root: Path | None,
               val_files: tuple[str, ...], indoor: float = 0.2) -> list[tuple]:
    """The samples of one set, as picklable task tuples ``(task, argument, seed)`` in their final order.

    Args:
        kind: ``dense`` or ``lidar``.
        split: ``train`` or ``val``.
        synthetic: number of synthetic samples.
        seed: build seed.
        augment: augmented copies per real file.
        data_root: shared data folder; None for synthetic samples only.
        val_files: real files (relative to ``data_root``) that belong to the validation split.
        indoor: for dense sets, the fraction of synthetic samples that are indoor scans instead of surfaces.
    """
    tasks: list[tuple] = []
    for i in range(synthetic):
        s = _seed(seed, split, 0, i)
        what = "lidar" if kind == "lidar" else ("indoor" if s % 10_000 < indoor * 10_000 else "surface")
        tasks.append((what, None, s))
    if data_root is None:
        return tasks
    files = DENSE_TRAINING_FILES if kind == "dense" else LIDAR_TRAINING_FILES
    for j, rel in enumerate(files):
        if (rel in val_files) != (split == "val"):
            continue
        path = data_root / rel
        check_training_path(path)
        if not path.is_file():
            continue
        tasks.append((f"{kind}_file", rel, None))
        tasks += [(f"{kind}_file", rel, _seed(seed, split, 1 + j, a)) for a in range(augment)]
    return tasks


def make_sample(task: tuple, data_root: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Run one task: the sample's (M, 3) int32 Morton-sorted coordinates and its attributes."""
    what, arg, seed = task
    if what == "surface":
        from .synthetic_surfaces import generate_surface

        s = generate_surface(seed)
        return s.coords, dict(kind="dense", grid_step=1.0, source=s.source, bits=s.bits, params=json.dumps(s.params))
    if what == "indoor":
        from .synthetic_indoor import generate_indoor

        s = generate_indoor(seed)
        return s.coords, dict(kind="dense", grid_step=1.0, source=s.source, bits=s.bits, params=json.dumps(s.params))
    if what == "lidar":
        from .synthetic_lidar import generate_lidar, lidar_grid

        scan = generate_lidar(seed)
        coords, origin = lidar_grid(scan)
        return coords, dict(kind="lidar", grid_step=0.001, source=scan.source, bits=bit_depth(coords),
                            origin=origin, params=json.dumps(scan.params))
    from . import real_scans as R

    positions = R.read_training_positions(data_root / arg)
    rng = np.random.default_rng(seed) if seed is not None else None
    if what == "dense_file":
        if rng is None:
            return R.dense_from_positions(positions, 10), dict(kind="dense", grid_step=1.0, source=arg, bits=10)
        coords, bits, note = R.augment_dense(positions, rng)
        return coords, dict(kind="dense", grid_step=1.0, source=f"{arg}:{note}:seed={seed}", bits=bits)
    if rng is None:
        coords, origin = R.lidar_from_positions(positions)
        note = arg
    else:
        coords, origin, desc = R.augment_lidar(positions, rng)
        note = f"{arg}:{desc}:seed={seed}"
    return coords, dict(kind="lidar", grid_step=0.001, source=note, bits=bit_depth(coords), origin=origin)


def _work(args: tuple) -> tuple[np.ndarray, dict[str, Any]]:
    task, root = args
    return make_sample(task, root)


def build_set(path: Path, tasks: list[tuple], data_root: Path, workers: int, root_attrs: dict[str, Any],
              desc: str) -> float:
    """Generate the samples of ``tasks`` (in parallel when ``workers`` > 1) and write them in order to ``path``.
    A sample without points (which the generators avoid) is left out with a warning.

    Returns:
        Seconds taken.
    """
    from omnicodec.progress import progress_bar

    t0 = time.perf_counter()
    jobs = [(t, data_root) for t in tasks]
    with TrainingSetWriter(path, **root_attrs) as out, progress_bar(len(tasks), desc, unit="sample") as bar:
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers > 1 else None
        try:
            for coords, attrs in (pool.map(_work, jobs) if pool else map(_work, jobs)):
                if len(coords):
                    out.add(coords, **attrs)
                else:
                    print(f"warning: {attrs['source']} has no points; left out", file=sys.stderr)
                bar.update(1)
        finally:
            if pool:
                pool.shutdown(cancel_futures=True)
    return time.perf_counter() - t0


def _octree_bpp(ts: TrainingSet, count: int) -> float | None:
    """Mean bits per point of the baseline octree codec on the first ``count`` samples (None when 0)."""
    if count <= 0 or len(ts) == 0:
        return None
    import omnicodec

    bpp = []
    for i in np.linspace(0, len(ts) - 1, min(count, len(ts))).astype(int):
        c = ts[int(i)].coords
        bpp.append(8 * len(omnicodec.compress(omnicodec.PointCloud(c.astype(np.float64)), codec="octree")) / len(c))
    return float(np.mean(bpp))


def summary_row(path: Path, seconds: float, bpp_samples: int) -> dict[str, Any]:
    """Statistics of a written set for the summary table."""
    with TrainingSet(path) as ts:
        pts = np.array([ts.sample_attrs(i)["points"] for i in range(len(ts))])
        bpp = _octree_bpp(ts, bpp_samples)
    return dict(file=path.name, samples=len(pts), points=int(pts.sum()), mean=int(pts.mean()) if len(pts) else 0,
                min=int(pts.min()) if len(pts) else 0, max=int(pts.max()) if len(pts) else 0,
                mb=path.stat().st_size / 1e6, seconds=seconds, bpp=bpp)


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'file':<16}{'samples':>8}{'points':>13}{'mean':>10}{'min':>9}{'max':>10}{'MB':>9}{'s':>8}"
          f"{'octree bpp':>12}")
    for r in rows:
        bpp = f"{r['bpp']:.3f}" if r["bpp"] is not None else "-"
        print(f"{r['file']:<16}{r['samples']:>8}{r['points']:>13,}{r['mean']:>10,}{r['min']:>9,}{r['max']:>10,}"
              f"{r['mb']:>9.1f}{r['seconds']:>8.1f}{bpp:>12}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m datasets.build", description=__doc__.split("\n\n")[0])
    p.add_argument("--kind", choices=["dense", "lidar", "all"], default="all")
    p.add_argument("--out", type=Path, default=REPO / "datasets" / "build", help="output folder (outside git)")
    p.add_argument("--train", type=int, default=200, help="synthetic training samples per kind")
    p.add_argument("--val", type=int, default=20, help="synthetic validation samples per kind")
    p.add_argument("--augment", type=int, default=None,
                   help="augmented copies per real file (default: 3 dense, 4 lidar)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", type=Path, default=None, help="shared data folder (default ../shared/data)")
    p.add_argument("--val-files", default=",".join(DEFAULT_VAL_FILES),
                   help="comma-separated real files (relative to the data folder) for validation instead of training")
    p.add_argument("--indoor", type=float, default=0.2,
                   help="fraction of the synthetic dense samples that are single-view indoor scans")
    p.add_argument("--no-real", action="store_true", help="synthetic samples only")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--bpp-samples", type=int, default=3, help="samples per set coded with the baseline octree codec")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = check_training_path(shared_data_root(args.data))
    real = not args.no_real and root.is_dir()
    if not args.no_real and not real:
        print(f"note: no shared data at {root}; building synthetic samples only", file=sys.stderr)
    val_files = tuple(f for f in args.val_files.split(",") if f)
    for f in val_files:
        check_training_path(root / f)
    command = "python -m datasets.build " + shlex.join(sys.argv[1:] if argv is None else argv)
    rows = []
    for kind in ("dense", "lidar") if args.kind == "all" else (args.kind,):
        augment = args.augment if args.augment is not None else (3 if kind == "dense" else 4)
        for split, n in (("train", args.train), ("val", args.val)):
            tasks = make_tasks(kind, split, n, args.seed, augment, root if real else None, val_files, args.indoor)
            path = args.out / f"{kind}_{split}.h5"
            attrs = dict(builder_version=BUILDER_VERSION, command=command, seed=args.seed, kind=kind, split=split,
                         augment=augment, data_root=str(root) if real else "")
            seconds = build_set(path, tasks, root, max(1, args.workers), attrs, f"{kind}_{split}")
            rows.append(summary_row(path, seconds, args.bpp_samples))
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
