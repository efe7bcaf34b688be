"""Train a learned occupancy model for the lossless point-cloud codec (codec id ``learned``).

Training data are the HDF5 sets built by ``python -m datasets.build --kind dense|lidar`` (``datasets/build/``).
Random crops of the training samples are walked as the codec walks them (:func:`trace_levels`); the network learns
to predict each child bit on the finest ``learned_levels`` levels, with the fixed-point rounding it will run with.
Every ``--eval-every`` steps the exported integer model is scored on crops of the validation set (ideal bits of
the learned levels, bits per point) and the best one is written to ``--out`` (default
``omnicodec/zoo/weights/KIND.npz``); the zoo's ``index.json`` records the command, the data (file and sample-list
hash), the step, the score and the file's sha256 (kind ``occupancy``, see :mod:`omnicodec.zoo`).

Checkpoints (``--checkpoint``) hold the network, the optimiser and the step; a rerun with the same arguments
resumes from it. Runs on the CPU (2 threads by default) and uses a CUDA GPU when one is present.

Example::

    python tools/train_lossless.py --kind dense --minutes 100
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from datasets.h5store import TrainingSet  # noqa: E402
from omnicodec.pointcloud.learned_coder import trace_levels  # noqa: E402
from omnicodec.pointcloud.occupancy_net import (  # noqa: E402
    IntOccupancyNet,
    NetConfig,
    OccupancyNet,
    binary_inputs,
    binary_inputs_torch,
    bucket_logit,
    save_model_bytes,
)
from omnicodec.pointcloud.octree import depth_for, morton_encode, occupancy_codes  # noqa: E402
from tools.training_common import (  # noqa: E402
    h5_data_record,
    log,
    resume,
    save_checkpoint,
    training_paths,
    write_model,
    write_zoo_entry,
)

DEFAULTS = {
    # learned levels, crop points range, fraction of rows kept, crops traced, points per validation crop
    "dense": dict(learned_levels=7, crop=(15000, 90000), rows=0.35, crops=300, val_points=150000),
    "lidar": dict(learned_levels=12, crop=(20000, 60000), rows=0.1, crops=200, val_points=40000),
}


class Record:
    """One traced crop: per learned level the parent table and position, and the kept rows."""

    def __init__(self, traces, row_fraction: float, rng: np.random.Generator, points: int) -> None:
        self.points = points
        self.levels = []
        for t in traces:
            p = len(t.position)
            n_rows = 8 * p
            keep = np.flatnonzero(rng.random(n_rows) < row_fraction) if row_fraction < 1 else np.arange(n_rows)
            i, j = keep // p, keep % p
            self.levels.append(dict(
                level=t.level,
                table=torch.from_numpy(t.table.astype(np.int32)),
                position=torch.from_numpy(t.position),
                i=torch.from_numpy(i), j=torch.from_numpy(j),
                states=torch.from_numpy(t.states[i, j]),
                count_idx=torch.from_numpy(t.count_idx[i, j]),
                y=torch.from_numpy(t.bits[j, i].astype(np.float32)),
            ))


def prepare(coords: np.ndarray) -> list[np.ndarray]:
    """Occupancy codes of a crop as the codec sees it (unique voxels, shifted to start at 0)."""
    c = np.unique(coords.astype(np.int64), axis=0)
    c -= c.min(axis=0)
    return occupancy_codes(np.sort(morton_encode(c)), max(depth_for(c), 1)), len(c)


def build_records(path: Path, n: int, crop: tuple[int, int], row_fraction: float, config: NetConfig, seed: int,
                  exclude: list[str]) -> list[Record]:
    ts = TrainingSet(path)
    usable = [k for k in range(len(ts)) if not any(e in ts.sample_attrs(k)["source"] for e in exclude)]
    rng = np.random.default_rng(seed)
    records = []
    t0 = time.time()
    for r in range(n):
        k = int(rng.choice(usable))
        c = ts.crop(k, int(rng.integers(crop[0], crop[1] + 1)), rng).coords
        if len(c) < 64:
            continue
        codes, m = prepare(c)
        records.append(Record(trace_levels(codes, config.learned_levels), row_fraction, rng, m))
        if (r + 1) % 20 == 0:
            log(f"traced {r + 1}/{n} crops ({time.time() - t0:.0f} s)")
    ts.close()
    return records


def step_loss(net: OccupancyNet, rec: Record, device: torch.device) -> tuple[torch.Tensor, int]:
    """Sum of the rows' code lengths (bits) and the number of rows."""
    total, rows = 0.0, 0
    levels = net.config.levels
    for lv in rec.levels:
        table = lv["table"].to(device).long()
        pfeat = net.parent_features(table, lv["position"].to(device))
        j = lv["j"].to(device)
        x = binary_inputs_torch(lv["states"].to(device), table[j, :26] >= 0, lv["i"].to(device),
                                torch.full_like(j, lv["level"]), levels)
        ci = lv["count_idx"].to(device)
        z = net.logits(pfeat[j], x, torch.from_numpy(bucket_logit(lv["count_idx"].numpy())).to(device), ci)
        total = total + torch.nn.functional.binary_cross_entropy_with_logits(z, lv["y"].to(device), reduction="sum")
        rows += len(j)
    return total / math.log(2), rows


def score(model: IntOccupancyNet, val: list[tuple[list, int]]) -> float:
    """Ideal bits per point of the learned levels, with the exact integer model, over the validation crops."""
    bits, points = 0.0, 0
    c = model.config
    for traces, m in val:
        for t in traces:
            pfeat = model.parent_features(t.table, t.position)
            pexist = t.table[:, :26] >= 0
            for i in range(8):
                z = model.pass_logits(pfeat, binary_inputs(t.states[i], pexist, i, t.level, c.levels))
                f = model.freqs(z, t.count_idx[i])
                y = t.bits[:, i].astype(np.int64)
                bits += float(-np.log2(f[np.arange(len(y)), y] / 65536.0).sum())
        points += m
    return bits / max(points, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--kind", choices=sorted(DEFAULTS), required=True)
    ap.add_argument("--train", type=Path, help="training set (default datasets/build/KIND_train.h5)")
    ap.add_argument("--val", type=Path, help="validation set (default datasets/build/KIND_val.h5)")
    ap.add_argument("--out", type=Path,
                    help="model file in a zoo's weights/ folder (default omnicodec/zoo/weights/KIND.npz)")
    ap.add_argument("--checkpoint", type=Path, help="checkpoint (default datasets/build/train_KIND.pt)")
    ap.add_argument("--minutes", type=float, default=100.0, help="wall-clock budget for the training steps")
    ap.add_argument("--steps", type=int, default=20000, help="learning-rate schedule length")
    ap.add_argument("--crops", type=int, help="training crops to trace")
    ap.add_argument("--val-crops", type=int, default=6)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--exclude", nargs="*", default=["office1"],
                    help="leave out training samples whose source contains any of these (default: office1, so "
                         "that it stays unseen)")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    args = ap.parse_args(argv)

    kind = args.kind
    d = DEFAULTS[kind]
    paths = training_paths(args, f"{kind}.npz", f"train_{kind}.pt")
    if paths is None:
        return 2
    train, val, out, ckpt = paths
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    config = NetConfig(learned_levels=d["learned_levels"])

    log(f"tracing {args.crops or d['crops']} training crops from {train}")
    records = build_records(train, args.crops or d["crops"], d["crop"], d["rows"], config, args.seed, args.exclude)
    vrng = np.random.default_rng(12345)
    vs = TrainingSet(val)
    val_traces = []
    for k in np.linspace(0, len(vs) - 1, args.val_crops).round().astype(int):
        codes, m = prepare(vs.crop(int(k), d["val_points"], vrng).coords)
        val_traces.append((trace_levels(codes, config.learned_levels), m))
    log(f"{len(records)} crops, {sum(len(lv['j']) for r in records for lv in r.levels):,} rows; "
        f"{len(val_traces)} validation crops")

    net = OccupancyNet(config).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    state = resume(ckpt, net, opt, args.fresh, device)

    def evaluate_and_save() -> None:
        arrays = net.export()
        data = save_model_bytes(arrays)
        model = IntOccupancyNet(arrays)
        bpp = score(model, val_traces)
        state["history"].append(dict(step=state["step"], val_bpp_learned_levels=round(bpp, 5)))
        tag = ""
        if bpp < state["best"]:
            state["best"] = bpp
            write_model(out, data)
            write_zoo_entry(out, data, kind="occupancy", modality="pointcloud", script="train_lossless.py",
                            data_record=h5_data_record(train, kind, args.exclude), family=kind, step=state["step"],
                            val_bpp_learned_levels=round(bpp, 5))
            tag = " (best, saved)"
        log(f"step {state['step']}: validation {bpp:.4f} bpp on the learned levels{tag}")

    rng = np.random.default_rng(args.seed + state["step"])
    t_end = time.time() + 60 * args.minutes
    running, seen = 0.0, 0
    while state["step"] < args.steps and time.time() < t_end:
        frac = state["step"] / args.steps
        for g in opt.param_groups:
            g["lr"] = args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        rec = records[int(rng.integers(len(records)))]
        bits, rows = step_loss(net, rec, device)
        loss = bits / max(rows, 1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        state["step"] += 1
        running += bits.item()
        seen += rec.points
        if state["step"] % 100 == 0:
            log(f"step {state['step']}: train {running / max(seen, 1):.4f} bits per point (sampled rows)")
            running, seen = 0.0, 0
        if state["step"] % args.eval_every == 0:
            evaluate_and_save()
            save_checkpoint(ckpt, net, opt, state)
    evaluate_and_save()
    save_checkpoint(ckpt, net, opt, state)
    log(f"done at step {state['step']}; best validation {state['best']:.4f} bpp; model {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
