"""Train the lossy point-cloud autoencoder (codec id ``lossy``) for one model family, dense or LiDAR.

Training data are the HDF5 sets built by ``python -m datasets.build --kind dense|lidar`` (``datasets/build/``), the
same sets as the lossless models. Each step takes a random crop of a training sample, coarsens it by a random
``shift`` (coordinates >> shift, duplicates merged: the codec's coarser rate points), picks a gain index ``g`` and
minimises ``lambda_g * D + R``: D is the summed binary cross-entropy of the decoder's occupancy at the three
scales (the true children kept), R the latent's bits per input voxel under factorized prior ``g``.

Every ``--eval-every`` steps the model is scored on fixed validation crops (per gain: latent bpp, D and the share of
true voxels among the top-k at the finest scale); the best by the mean of ``lambda_g * D + R`` is written to
``omnicodec/zoo/weights/lossy_KIND.pt`` and recorded in the zoo's ``index.json`` (kind ``lossy_pointcloud``;
command, data, step, sha256).
Checkpoints hold network, optimiser and step; a rerun without ``--fresh`` resumes. Runs on the CPU.

Example::

    python tools/train_lossy.py --kind dense --minutes 60 --threads 1
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
from omnicodec.pointcloud.lossy_net import LossyConfig, LossyNet, save_lossy_bytes  # noqa: E402
from omnicodec.sparse import SparseTensor  # noqa: E402
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
    # shifts (input coarsening) with their probabilities, crop points range (after the shift), validation shifts,
    # and the rough factor by which one shift thins the points (to size the crop read before coarsening)
    "dense": dict(shifts=(0, 1, 2), p=(0.5, 0.3, 0.2), crop=(8000, 40000), val_shifts=(0, 1), val_points=40000,
                  thinning=4),
    "lidar": dict(shifts=(0, 1, 2, 3, 4, 5, 6), p=None, crop=(8000, 30000), val_shifts=(0, 3, 5), val_points=30000,
                  thinning=2),
}


def coarsen(coords: np.ndarray, shift: int) -> np.ndarray:
    """Unique ``coords >> shift``, shifted to start at 0, (M, 3) int64."""
    c = np.unique(coords.astype(np.int64) >> shift, axis=0)
    return c - c.min(axis=0)


def as_tensor(coords: np.ndarray) -> SparseTensor:
    return SparseTensor(torch.from_numpy(coords), torch.ones(len(coords), 1), 1)


def sample_crop(ts: TrainingSet, usable: list[int], d: dict, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    shift = int(rng.choice(d["shifts"], p=d["p"]))
    want = int(rng.integers(d["crop"][0], d["crop"][1] + 1))
    factor = d["thinning"] ** shift  # a coarsened surface keeps about 4**-shift of its points, a sweep more
    for _ in range(10):
        k = int(rng.choice(usable))
        c = coarsen(ts.crop(k, want * factor, rng).coords, shift)
        if len(c) >= 512:
            return c[: 4 * d["crop"][1]] if len(c) > 4 * d["crop"][1] else c, shift
    return c, shift


def losses(net: LossyNet, coords: np.ndarray, g: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    out = net(as_tensor(coords), g)
    d = sum(out["bce"])
    bits = -torch.log2(out["likelihoods"]).sum()
    return d, bits / len(coords), out["accuracy"]


def evaluate(net: LossyNet, val: list[np.ndarray]) -> dict:
    net.eval()
    rows = []
    with torch.no_grad():
        for g, lam in enumerate(net.config.lambdas):
            ds, rs, accs = [], [], []
            for c in val:
                d, r, a = losses(net, c, g)
                ds.append(float(d))
                rs.append(float(r))
                accs.append(a)
            rows.append(dict(g=g, lam=lam, D=np.mean(ds), bpp=np.mean(rs), acc=np.mean(accs),
                             loss=lam * np.mean(ds) + np.mean(rs)))
    net.train()
    return dict(rows=rows, score=float(np.mean([r["loss"] / r["lam"] for r in rows])))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--kind", choices=sorted(DEFAULTS), required=True)
    ap.add_argument("--train", type=Path, help="training set (default datasets/build/KIND_train.h5)")
    ap.add_argument("--val", type=Path, help="validation set (default datasets/build/KIND_val.h5)")
    ap.add_argument("--out", type=Path,
                    help="model file in a zoo's weights/ folder (default omnicodec/zoo/weights/lossy_KIND.pt)")
    ap.add_argument("--checkpoint", type=Path, help="checkpoint (default datasets/build/train_lossy_KIND.pt)")
    ap.add_argument("--minutes", type=float, default=60.0, help="wall-clock budget for the training steps")
    ap.add_argument("--steps", type=int, default=20000, help="learning-rate schedule length")
    ap.add_argument("--val-crops", type=int, default=4, help="validation crops per validation shift")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--channels", type=int, default=LossyConfig.channels)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--exclude", nargs="*", default=["office1"],
                    help="leave out training samples whose source contains any of these (default: office1)")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    args = ap.parse_args(argv)

    kind, d = args.kind, DEFAULTS[args.kind]
    paths = training_paths(args, f"lossy_{kind}.pt", f"train_lossy_{kind}.pt")
    if paths is None:
        return 2
    train, val, out, ckpt = paths
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    ts = TrainingSet(train)
    usable = [k for k in range(len(ts)) if not any(e in ts.sample_attrs(k)["source"] for e in args.exclude)]
    vs = TrainingSet(val)
    vrng = np.random.default_rng(12345)
    val_crops = []
    for shift in d["val_shifts"]:
        for k in np.linspace(0, len(vs) - 1, args.val_crops).round().astype(int):
            factor = d["thinning"] ** shift
            val_crops.append(coarsen(vs.crop(int(k), d["val_points"] * factor, vrng).coords, shift))
    log(f"{len(usable)} training samples; {len(val_crops)} validation crops "
        f"({sum(map(len, val_crops)):,} voxels)")

    net = LossyNet(LossyConfig(channels=args.channels))
    prior_params = {id(p) for p in net.priors.parameters()}
    opt = torch.optim.Adam([  # the densities move faster than the transforms
        dict(params=[p for p in net.parameters() if id(p) not in prior_params], lr_scale=1.0),
        dict(params=list(net.priors.parameters()), lr_scale=10.0),
    ], lr=args.lr)
    state = resume(ckpt, net, opt, args.fresh)

    def evaluate_and_save() -> None:
        ev = evaluate(net, val_crops)
        state["history"].append(dict(step=state["step"], score=round(ev["score"], 5),
                                     gains=[{k: round(float(v), 5) for k, v in r.items()} for r in ev["rows"]]))
        tag = ""
        if ev["score"] < state["best"]:
            state["best"] = ev["score"]
            data = save_lossy_bytes(net, {"kind": kind, "step": state["step"]})
            net.train()
            write_model(out, data)
            write_zoo_entry(out, data, kind="lossy_pointcloud", modality="pointcloud", script="train_lossy.py",
                            data_record=h5_data_record(train, kind, args.exclude), family=kind, step=state["step"],
                            validation=[{k: round(float(v), 5) for k, v in r.items()} for r in ev["rows"]])
            tag = " (best, saved)"
        per = "  ".join(f"g{r['g']}: {r['bpp']:.3f} bpp D {r['D']:.3f} acc {r['acc']:.3f}" for r in ev["rows"])
        log(f"step {state['step']}: validation score {ev['score']:.4f}{tag}  {per}")

    rng = np.random.default_rng(args.seed + state["step"])
    t_end = time.time() + 60 * args.minutes
    run = dict(d=0.0, r=0.0, acc=0.0, n=0)
    net.train()
    while state["step"] < args.steps and time.time() < t_end:
        frac = state["step"] / args.steps
        for pg in opt.param_groups:
            pg["lr"] = pg["lr_scale"] * args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        coords, _shift = sample_crop(ts, usable, d, rng)
        g = int(rng.integers(net.config.gains))
        dist, rate, acc = losses(net, coords, g)
        loss = net.config.lambdas[g] * dist + rate
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        state["step"] += 1
        run["d"] += dist.item()
        run["r"] += rate.item()
        run["acc"] += acc
        run["n"] += 1
        if state["step"] % 50 == 0:
            n = run["n"]
            log(f"step {state['step']}: train D {run['d'] / n:.4f} latent bpp {run['r'] / n:.4f} "
                f"top-k acc {run['acc'] / n:.4f}")
            run = dict(d=0.0, r=0.0, acc=0.0, n=0)
        if state["step"] % args.eval_every == 0:
            evaluate_and_save()
            save_checkpoint(ckpt, net, opt, state)
    evaluate_and_save()
    save_checkpoint(ckpt, net, opt, state)
    log(f"done at step {state['step']}; best validation score {state['best']:.4f}; model {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
