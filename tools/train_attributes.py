"""Train the attribute codec's learned tables (zoo model ``attributes``, kind ``attributes``).

    python tools/train_attributes.py --surfaces 16 --publish

The tables are the statistics of what the coder codes: every training cloud is run through the attribute codec's
prediction and quantisation (:func:`omnicodec.pointcloud.attr_codec.attribute_statistics`) lossless and at every
lossy rate point, and the values are counted per (group, context). Each table is the counts plus ``--alpha``
pseudo-counts of the prior (:func:`omnicodec.pointcloud.attr_model.prior_weights`), as integers. The coder adapts
these tables to each cloud; the validation figures are real payload sizes.

Training data (built by ``datasets/``, never evaluation files):

* coloured dense clouds: synthetic shapes textured with the training photos (:mod:`datasets.coloured_surfaces`,
  seeds ``0 .. surfaces-1``; validation seeds from 1000);
* real coloured scans: the PCL Kinect frames and the textured stereo scan (``PCL_COLOUR_FILES``), on a 1 mm grid;
* LiDAR intensity: KITTI 00 frames 0-3 on a 1 mm grid (frame 4 for validation; frame 5 is evaluation-only).

The log prints the validation bits per point with the prior and with the new tables.
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

from datasets.coloured_surfaces import (  # noqa: E402
    PCL_COLOUR_FILES,
    coloured_surface,
    lidar_intensity_frames,
    training_photos,
)
from datasets.paths import check_training_path, shared_data_root  # noqa: E402
from omnicodec.pointcloud import attr_model as am  # noqa: E402
from omnicodec.pointcloud.attr_codec import ATTR_RATES, attribute_statistics, encode_predictive  # noqa: E402

RATES: tuple[int | None, ...] = (None, *ATTR_RATES)


def _grid(positions: np.ndarray, step: float = 0.001) -> tuple[np.ndarray, np.ndarray]:
    """Integer coordinates of finite positions on a grid, one point per voxel: ``(coords, kept row indices)``."""
    ok = np.flatnonzero(np.isfinite(positions).all(axis=1))
    q = np.rint(positions[ok] / step).astype(np.int64)
    q -= q.min(axis=0)
    _, first = np.unique(q, axis=0, return_index=True)
    keep = ok[np.sort(first)]
    return q[np.sort(first)], keep


def clouds(surfaces: range, lidar: tuple[int, ...], pcl: bool) -> list[tuple[str, np.ndarray, np.ndarray, str]]:
    """``[(name, coords, values, kind), ...]``."""
    import omnicodec

    out = []
    photos = training_photos()
    for seed in surfaces:
        c, rgb = coloured_surface(seed, photos)
        out.append((f"surface{seed}", c, rgb, "colour"))
    if pcl:
        root = shared_data_root()
        for rel in PCL_COLOUR_FILES:
            pc = omnicodec.read(check_training_path(root / rel))
            c, keep = _grid(np.asarray(pc.positions, np.float64))
            out.append((Path(rel).stem, c, pc.attributes["rgb"][keep], "colour"))
    frames = lidar_intensity_frames()
    for i in lidar:
        pos, inten = frames[i]
        c, keep = _grid(pos.astype(np.float64))
        out.append((f"kitti{i}", c, inten[keep], "scalar"))
    return out


def collect(data, counts: list[np.ndarray] | None) -> dict[str, float]:
    """Bits per point of each (cloud, rate) coded with ``MODEL`` (the real coder: adaptive tables, skip flags) and,
    when ``counts`` is given, what the entropy model saw added to it."""
    bits = {}
    for name, coords, values, kind in data:
        for rate in RATES:
            if counts is not None:
                for group, q, ctx in attribute_statistics(coords, values, kind, rate, MODEL):
                    counts[group] += am.count_values(q, ctx, am.GROUP_CONTEXTS[group])
            payload, _ = encode_predictive(coords, values, kind, rate, MODEL)
            bits[f"{name}@{rate or 'lossless'}"] = 8 * len(payload) / len(coords)
    return bits


MODEL: am.AttributeModel | None = None


def weights_from_counts(counts: list[np.ndarray], alpha: float, prior_weights: np.ndarray) -> np.ndarray:
    """Integer table weights: counts plus ``alpha`` pseudo-counts of the prior (its integer weights), each row scaled
    to about 1e9."""
    prior = prior_weights.astype(np.float64)
    prior /= prior.sum(axis=1, keepdims=True)
    c = np.concatenate(counts).astype(np.float64)
    p = (c + alpha * prior) / (c.sum(axis=1, keepdims=True) + alpha)
    return np.floor(p * 1e9).astype(np.int64) + 1


def report_validation(before: dict[str, float], after: dict[str, float], t0: float) -> float:
    """Logs the validation bits per point of each cloud and rate under the prior and the trained tables; returns the
    trained mean."""
    log("validation bits per point, prior -> trained:")
    for key in after:
        log(f"  {key:24s} {before[key]:8.4f} -> {after[key]:8.4f}")
    mean_prior, mean_new = float(np.mean(list(before.values()))), float(np.mean(list(after.values())))
    log(f"mean {mean_prior:.4f} -> {mean_new:.4f} bits per point ({time.time() - t0:.0f} s)")
    return mean_new


def main(argv: list[str] | None = None) -> int:
    global MODEL
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--surfaces", type=int, default=16, help="synthetic coloured training clouds")
    ap.add_argument("--alpha", type=float, default=64.0, help="pseudo-counts of the prior per table")
    ap.add_argument("--out", type=Path, default=REPO / "omnicodec" / "zoo" / "weights" / "attributes.npz")
    ap.add_argument("--publish", action="store_true", help="write the model and its zoo entry")
    args = ap.parse_args(argv)
    t0 = time.time()
    train = clouds(range(args.surfaces), (0, 1, 2, 3), pcl=True)
    val = clouds(range(1000, 1003), (4,), pcl=False)
    log(f"{len(train)} training clouds ({sum(len(c) for _, c, _, _ in train)} points), {len(val)} validation clouds, "
        f"{time.time() - t0:.0f} s")
    MODEL = am.AttributeModel(am.prior_weights())
    counts = [np.zeros((n, am.SYMBOLS), dtype=np.int64) for n in am.GROUP_CONTEXTS]
    train_prior = collect(train, counts)
    val_prior = collect(val, None)
    weights = weights_from_counts(counts, args.alpha, am.prior_weights())
    MODEL = am.AttributeModel(weights)
    val_new = collect(val, None)
    report_validation(val_prior, val_new, t0)
    if args.publish:
        data = am.model_to_bytes(weights)
        write_model(args.out, data)
        record = {"built_by": "datasets.coloured_surfaces (coloured_surface, lidar_intensity_frames) and "
                              "PCL_COLOUR_FILES on a 1 mm grid",
                  "train": [name for name, *_ in train], "validation": [name for name, *_ in val]}
        write_zoo_entry(args.out, data, kind="attributes", modality="pointcloud", script="train_attributes.py",
                        data_record=record, alpha=args.alpha,
                        validation={k: round(v, 5) for k, v in val_new.items()},
                        validation_prior={k: round(v, 5) for k, v in val_prior.items()},
                        training_points=int(sum(len(c) for _, c, _, _ in train)),
                        train_bits_prior={k: round(v, 5) for k, v in train_prior.items()})
        log(f"wrote {args.out} and its zoo entry")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
