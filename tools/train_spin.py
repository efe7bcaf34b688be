"""Train the spinning-LiDAR coder's starting tables (zoo model ``spin``, kind ``spin``).

    python tools/train_spin.py --synthetic 24 --publish

Every training sweep is run through the coder's prediction (:func:`omnicodec.pointcloud.spin_geometry.
symbol_counts`) and its symbols are counted per context; each context's table starts from those counts scaled to
``--strength`` pseudo-counts (:func:`omnicodec.pointcloud.spin_model.counts_to_prior`), and every coded value adds
``--increment``. The coder adapts from there to each frame; the validation figures are real stream sizes.

Training data (never evaluation files):

* KITTI 00 frames 0-3 on the 1 mm grid (frame 4 for validation; frame 5 is evaluation-only);
* synthetic sweeps of :mod:`datasets.synthetic_lidar` (64-, 32-, 16- and 128-beam sensors in random scenes), seeds
  ``0 .. synthetic-1`` (validation seeds from 1000), on the 1 mm grid in scan order.

The log prints the validation bits per point with flat tables and with the new ones.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from training_common import REPO, log, write_model, write_zoo_entry  # noqa: E402

from datasets.coloured_surfaces import LIDAR_INTENSITY_FILES, lidar_intensity_frames  # noqa: E402
from datasets.synthetic_lidar import generate_lidar  # noqa: E402
from omnicodec.entropy import get_coder  # noqa: E402
from omnicodec.pointcloud import spin_geometry as sg  # noqa: E402
from omnicodec.pointcloud import spin_model as sm  # noqa: E402


def _on_grid(xyz: np.ndarray) -> np.ndarray:
    """Metres -> 1 mm grid coordinates in scan order, repeated voxels dropped (first kept)."""
    q = np.rint(np.asarray(xyz, np.float64) * 1000.0).astype(np.int64)
    _, first = np.unique(q, axis=0, return_index=True)
    return q[np.sort(first)]


def sweeps(kitti: tuple[int, ...], synthetic: range) -> list[tuple[str, np.ndarray]]:
    """``[(name, grid points in scan order), ...]`` of KITTI frames (indices into the training frames) and
    synthetic sweeps."""
    out = []
    frames = lidar_intensity_frames() if kitti else []
    for i in kitti:
        out.append((LIDAR_INTENSITY_FILES[i], _on_grid(frames[i][0])))
    for seed in synthetic:
        scan = generate_lidar(seed)
        out.append((scan.source, _on_grid(scan.xyz)))
    return out


def stream_bits(data: list[tuple[str, np.ndarray]], prior: tuple[np.ndarray, np.ndarray, int]) -> dict[str, float]:
    """Bits per point of each sweep coded with starting counts ``prior`` (real coder output)."""
    coder = get_coder("constriction")
    out = {}
    for name, q in data:
        c, s = sg.rotation(sg.azimuth_step(q))
        enc = coder.encoder()
        sg.encode_sweep(q, c, s, enc, prior)
        out[name] = 8.0 * len(enc.finish()) / max(len(q), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synthetic", type=int, default=24, help="synthetic training sweeps")
    ap.add_argument("--strength", type=int, default=256, help="pseudo-counts per context of the starting tables")
    ap.add_argument("--increment", type=int, default=16, help="count each coded value adds")
    ap.add_argument("--out", type=Path, default=REPO / "omnicodec" / "zoo" / "weights" / "spin.npz")
    ap.add_argument("--publish", action="store_true", help="write the model and its zoo entry")
    args = ap.parse_args(argv)
    t0 = time.time()
    train = sweeps((0, 1, 2, 3), range(args.synthetic))
    val = sweeps((4,), range(1000, 1003))
    log(f"{len(train)} training sweeps ({sum(len(q) for _, q in train)} points), {len(val)} validation sweeps, "
        f"{time.time() - t0:.0f} s")
    dr = np.zeros((sg.DR_CONTEXTS, sg.SYMBOLS), np.int64)
    e = np.zeros((sg.E_CONTEXTS, sg.SYMBOLS), np.int64)
    for _, q in train:
        a, b = sg.symbol_counts(q, *sg.rotation(sg.azimuth_step(q)))
        dr += a
        e += b
    flat = (np.ones_like(dr), np.ones_like(e), args.increment)
    prior = (sm.counts_to_prior(dr, args.strength), sm.counts_to_prior(e, args.strength), args.increment)
    before, after = stream_bits(val, flat), stream_bits(val, prior)
    for name in before:
        log(f"validation {name}: {before[name]:.3f} bits per point with flat tables, {after[name]:.3f} trained")
    log(f"validation mean: {np.mean(list(before.values())):.3f} -> {np.mean(list(after.values())):.3f} bits per point, "
        f"{time.time() - t0:.0f} s")
    if args.publish:
        data = sm.model_to_bytes(prior[0], prior[1], args.increment)
        write_model(args.out, data)
        record = {"built_by": "datasets.coloured_surfaces.lidar_intensity_frames (KITTI 00 frames 0-3) and "
                              "datasets.synthetic_lidar.generate_lidar, on the 1 mm grid in scan order",
                  "train": [name for name, _ in train], "validation": [name for name, _ in val]}
        write_zoo_entry(args.out, data, kind=sm.KIND, modality="pointcloud", script="train_spin.py",
                        data_record=record, strength=args.strength, increment=args.increment,
                        training_points=int(sum(len(q) for _, q in train)),
                        validation={k: round(v, 4) for k, v in after.items()},
                        validation_flat={k: round(v, 4) for k, v in before.items()})
        log(f"wrote {args.out} and its zoo entry")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
