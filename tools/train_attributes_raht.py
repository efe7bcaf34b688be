"""Train the learned tables of the lossy RAHT colour coder (zoo model ``attributes_raht``, kind ``attributes_raht``).

    python tools/train_attributes_raht.py --surfaces 8 --publish

Every training cloud's colours are coded by :func:`omnicodec.pointcloud.attr_raht.encode_raht` at every rate point
(``--attr-rate`` 1..8) with the untrained prior (:func:`omnicodec.pointcloud.attr_raht_model.prior_weights`), and
the quantised coefficients are counted per (group, context). Each table is the counts plus ``--alpha``
pseudo-counts of the prior, as integers. The coder adapts these tables to each cloud; the validation figures are
real payload sizes.

Training data (built by ``datasets/``, never evaluation files): synthetic shapes textured with the training photos
(:mod:`datasets.coloured_surfaces`, seeds ``0 .. surfaces-1``; validation seeds from 1000) and the real coloured
PCL scans (``PCL_COLOUR_FILES``) on a 1 mm grid. The log prints the validation bits per point with the prior and
with the new tables.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_attributes import clouds, report_validation, weights_from_counts  # noqa: E402
from training_common import REPO, log, write_model, write_zoo_entry  # noqa: E402

from omnicodec.pointcloud import attr_raht_model as rm  # noqa: E402
from omnicodec.pointcloud.attr_raht import RAHT_RATES, encode_raht, rgb_to_ycbcr  # noqa: E402


def collect(data, model: rm.RahtModel, counts: list[np.ndarray] | None) -> dict[str, float]:
    """Bits per point of each (cloud, rate) coded with ``model`` and, when ``counts`` is given, the coded values
    counted per (group, context)."""
    bits = {}
    for name, coords, values, _kind in data:
        ycc = rgb_to_ycbcr(values)
        for rate in RAHT_RATES:
            seen: list | None = [] if counts is not None else None
            payload, _ = encode_raht(coords, ycc, "colour", rate, model, collect=seen)
            for group, q, ctx in seen or []:
                counts[group] += rm.count_values(q, ctx, rm.GROUP_CONTEXTS[group])
            bits[f"{name}@{rate}"] = 8 * len(payload) / len(coords)
    return bits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--surfaces", type=int, default=8, help="synthetic coloured training clouds")
    ap.add_argument("--alpha", type=float, default=16.0, help="pseudo-counts of the prior per table")
    ap.add_argument("--out", type=Path, default=REPO / "omnicodec" / "zoo" / "weights" / "attributes_raht.npz")
    ap.add_argument("--publish", action="store_true", help="write the model and its zoo entry")
    args = ap.parse_args(argv)
    t0 = time.time()
    train = [c for c in clouds(range(args.surfaces), (), pcl=True) if c[3] == "colour"]
    val = [c for c in clouds(range(1000, 1002), (), pcl=False) if c[3] == "colour"]
    log(f"{len(train)} training clouds ({sum(len(c) for _, c, _, _ in train)} points), {len(val)} validation clouds, "
        f"{time.time() - t0:.0f} s")
    prior = rm.RahtModel(rm.prior_weights())
    counts = [np.zeros((n, rm.SYMBOLS), dtype=np.int64) for n in rm.GROUP_CONTEXTS]
    collect(train, prior, counts)
    log(f"counted {sum(int(c.sum()) for c in counts)} coefficients ({time.time() - t0:.0f} s)")
    val_prior = collect(val, prior, None)
    weights = weights_from_counts(counts, args.alpha, rm.prior_weights())
    val_new = collect(val, rm.RahtModel(weights), None)
    mean_new = report_validation(val_prior, val_new, t0)
    if args.publish:
        data = rm.model_to_bytes(weights)
        write_model(args.out, data)
        record = {"built_by": "datasets.coloured_surfaces (coloured_surface) and PCL_COLOUR_FILES on a 1 mm grid",
                  "train": [name for name, *_ in train], "validation": [name for name, *_ in val]}
        write_zoo_entry(args.out, data, kind="attributes_raht", modality="pointcloud",
                        script="train_attributes_raht.py", data_record=record, alpha=args.alpha,
                        validation={k: round(v, 5) for k, v in val_new.items()},
                        validation_mean_bpp=round(mean_new, 5))
        log(f"wrote {args.out} and its zoo entry")
    return 0


if __name__ == "__main__":
    sys.exit(main())
