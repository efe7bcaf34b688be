"""Learn the light-field codec's residual tables (``--part tables``, the default) or its blending network
(``--part blend``): ``python tools/train_lightfield.py [--train H5] [--passes 2] [--part tables|blend]``.

The residual coder (:mod:`omnicodec.lightfield.residual`) codes integer DCT levels under integer tables indexed by
context (residual kind, plane type, block class, frequency band; block classes by gradient or luma context). Its
"training" is counting: every training light field is coded at a few rate points with the current tables and the
symbols that the encoder actually writes are counted; the counts, smoothed by the prior of
``default_weights()`` (``--alpha`` pseudo-counts per table), become the next tables' integer weights. The encoder's
decisions (which views carry a residual, the key view's core rate) depend on the tables, so ``--passes`` repeats it.

Training data: the HDF5 set of ``python -m datasets.lightfields`` (real training light fields and light fields the
project renders; the evaluation light field is refused). Grids with missing views (the HCI star captures) are coded
as their complete centre row and centre column. Views are cropped to ``--crop`` pixels around the centre (speed).

Each pass logs the total bits and bits per pixel over the set, and the validation set's (``--val``: names held out
of the training set, default the first rendered light field and lytro_2067's centre row) before and after; the
tables file (``--out``, default the zoo's ``lightfield.npz``) and its zoo entry are written when ``--publish``.

``--part blend`` trains :class:`omnicodec.lightfield.blend_net.BlendNet` (``--width`` channels) by gradient descent on
the prediction error of views predicted from their references (warped with the encoder's disparity, Gaussian noise
of ``--noise`` grey levels standing in for coding noise), ``--steps`` steps of ``--batch`` views; every
``--eval-every`` steps it logs the validation prediction PSNR against plain distance weights, and ``--publish``
writes the best network as ``lightfield_blend.pt`` with its zoo entry. It runs on ``--device`` (a CUDA GPU when
present, else the CPU); the network's exact integer evaluation, which scores it, runs on the CPU.

Both parts are resumable: after every pass (tables) or every ``--eval-every`` steps (blend) the state goes to
``--checkpoint`` (default ``datasets/build/lightfield_{tables,blend}_checkpoint.*``), and a rerun with the same
arguments continues from it unless ``--fresh``; a run that was already complete only publishes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from training_common import REPO, log, resume, save_checkpoint, write_model, write_zoo_entry  # noqa: E402

from datasets.paths import check_training_path  # noqa: E402
from omnicodec import zoo  # noqa: E402
from omnicodec.lightfield import codec as lfc  # noqa: E402
from omnicodec.lightfield import residual as res  # noqa: E402
from omnicodec.lightfield.key_core import installed_key_core  # noqa: E402
from omnicodec.lightfield.models import tables_to_bytes  # noqa: E402
from omnicodec.progress import progress_bar  # noqa: E402


def complete_grids(name: str, views: np.ndarray, present: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The complete grids of a light field: itself when no view is missing, else its centre row and column."""
    if present.all():
        return [(name, views)]
    u, v = present.shape
    out = []
    if present[u // 2].all():
        out.append((f"{name}:row", views[u // 2 : u // 2 + 1]))
    if present[:, v // 2].all():
        out.append((f"{name}:col", views[:, v // 2 : v // 2 + 1]))
    return out


def crop(views: np.ndarray, size: int) -> np.ndarray:
    h, w = views.shape[2:4]
    r0, c0 = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return np.ascontiguousarray(views[:, :, r0 : r0 + size, c0 : c0 + size])


def code_set(items: list[tuple[str, np.ndarray]], rates: list[int], tables: res.ResidualTables, core,
             counts: list[np.ndarray] | None, label: str) -> tuple[float, int]:
    """Codes every item at every rate with ``tables`` (counting into ``counts``); total bits and pixels."""
    bits, pixels = 0.0, 0
    with progress_bar(len(items) * len(rates), label, enabled=True, unit="field") as bar:
        for _, views in items:
            u, v, h, w, _ = views.shape
            for rate in rates:
                params = lfc.LightfieldParams(u, v, h, w, 3, rate)
                enc = lfc._TileEncoder(params, tables, core, "constriction", counts)
                chunks = enc.encode(views, _NullBar())
                bits += 8 * sum(len(c.data) for c in chunks)
                pixels += u * v * h * w
                bar.update(1)
    return bits, pixels


class _NullBar:
    def update(self, n: int) -> None:
        pass


def weights_from_counts(counts: list[np.ndarray], alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer weights: counts plus ``alpha`` pseudo-counts spread by the prior, scaled to integers."""
    prior = res.default_weights()
    out = []
    for c, p in zip(counts, prior, strict=True):
        p = p.astype(np.float64)
        p = p / np.maximum(p.sum(axis=1, keepdims=True), 1)
        out.append(np.round(256 * (c + alpha * p)).astype(np.int64))
    return out[0], out[1]


def load_items(path: Path, size: int) -> list[tuple[str, np.ndarray]]:
    from datasets.lightfields import read_set

    check_training_path(path)
    items = []
    for name, views, present in read_set(path):
        items += [(n, crop(vw, size)) for n, vw in complete_grids(name, views, present)]
    return items


def blend_samples(items: list[tuple[str, np.ndarray]], noise: float, seed: int, per_field: int = 24) -> list[tuple]:
    """Training samples of the blending network: per view (with two references or more) of each light field, its
    references warped by the encoder's disparity (the references with Gaussian noise of ``noise`` grey levels, a
    stand-in for coding noise), the integer features and the target view."""
    from omnicodec.lightfield.blend_net import block_features
    from omnicodec.lightfield.disparity import estimate_block_disparity, full_disparity
    from omnicodec.lightfield.order import coding_plan
    from omnicodec.lightfield.warp import blend_weights, warp_view

    rng = np.random.default_rng(seed)
    out = []
    with progress_bar(len(items), "blend samples", enabled=True, unit="field") as bar:
        for _, views in items:
            u, v, h, w, _ = views.shape
            plans = coding_plan(u, v)
            key = plans[0].view
            disparity = full_disparity(estimate_block_disparity(views, key, lfc.DISPARITY_BLOCK),
                                       lfc.DISPARITY_BLOCK, h, w)
            noisy = np.clip(views + rng.normal(0, noise, views.shape), 0, 255).astype(np.uint8)
            chosen = [p for p in plans if len(p.refs) >= 2]
            for i in rng.permutation(len(chosen))[:per_field]:
                plan = chosen[i]
                offsets = [(r[0] - plan.view[0], r[1] - plan.view[1]) for r in plan.refs]
                warps = np.stack([warp_view(noisy[r], disparity, du, dv) for r, (du, dv) in zip(plan.refs, offsets,
                                                                                                strict=True)])
                base = blend_weights(plan.view, plan.refs)
                feats = block_features(warps, base, disparity, offsets)
                out.append((feats.astype(np.float32), (warps / 64.0).astype(np.float32),
                            views[plan.view].astype(np.float32), base))
            bar.update(1)
    return out


def _blend_loss(net, sample, device="cpu") -> tuple:
    import torch

    from omnicodec.lightfield.blend_net import BLOCK

    feats, warps, target, _ = sample
    k = feats.shape[0]
    wts = net(torch.from_numpy(feats).to(device), torch.ones(k, 1, 1, 1, device=device))
    h, w = target.shape[:2]
    per_pixel = wts.repeat_interleave(BLOCK, 1).repeat_interleave(BLOCK, 2)[:, :h, :w, None]
    pred = (per_pixel * torch.from_numpy(warps).to(device)).sum(0)
    return ((pred - torch.from_numpy(target).to(device)) ** 2).mean()


def blend_psnr(net, samples) -> tuple[float, float]:
    """Mean PSNR (RGB, dB) of the exact network prediction and of the distance-weighted blend over ``samples``."""
    from omnicodec.lightfield.blend_net import BLOCK

    ours, plain = [], []
    for feats, warps, target, base in samples:
        wts = net.exact(feats.astype(np.int64), np.ones(feats.shape[0], dtype=bool))
        h, w = target.shape[:2]
        per_pixel = np.repeat(np.repeat(wts, BLOCK, 1), BLOCK, 2)[:, :h, :w, None]
        for weights, acc in ((per_pixel, ours), (base[:, None, None, None], plain)):
            pred = np.clip(np.round((weights * warps).sum(0) / 64.0), 0, 255)
            acc.append(10 * np.log10(255.0**2 / max(np.mean((pred - target) ** 2), 1e-9)))
    return float(np.mean(ours)), float(np.mean(plain))


def train_blend(args, items, val_items) -> int:
    import copy
    import io

    import torch

    from omnicodec.lightfield.blend_net import BlendNet

    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    ckpt = args.checkpoint or REPO / "datasets/build/lightfield_blend_checkpoint.pt"
    config = {"train": str(args.train), "crop": args.crop, "width": args.width, "noise": args.noise,
              "val": sorted(n for n, _ in val_items)}
    if not _same_config(ckpt, args.fresh, config, lambda: torch.load(ckpt, weights_only=False)["state"]["config"]):
        return 2
    train = blend_samples(items, args.noise, args.seed)
    val = blend_samples(val_items, args.noise, args.seed + 1)
    net = BlendNet(args.width).to(device)
    net.check_exact_bounds()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    state = resume(ckpt, net, opt, args.fresh, device)
    history, best, best_state = state["history"], state.get("best_psnr", float("-inf")), state.get("best_state")

    def scores() -> tuple[float, float]:  # the exact integer network runs on the CPU
        return blend_psnr(copy.deepcopy(net).cpu(), val)

    if state["step"] == 0:
        ours, plain = scores()
        log(f"{len(train)} training views, {len(val)} validation views; untrained: {ours:.3f} dB, distance blend "
            f"{plain:.3f} dB ({device})")
    rng = np.random.default_rng(args.seed + state["step"])
    t0 = time.time()
    for step in range(state["step"] + 1, args.steps + 1):
        opt.zero_grad()
        loss = sum(_blend_loss(net, train[i], device) for i in rng.integers(0, len(train), args.batch)) / args.batch
        loss.backward()
        opt.step()
        if step % args.eval_every == 0 or step == args.steps:
            ours, plain = scores()
            log(f"step {step}: loss {loss.item():.2f}, validation {ours:.3f} dB (distance blend {plain:.3f} dB), "
                f"{time.time() - t0:.0f} s")
            history.append({"step": step, "val_psnr": ours, "val_psnr_distance_blend": plain})
            if ours > best:
                best, best_state = ours, {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
            save_checkpoint(ckpt, net, opt, dict(step=step, best_psnr=best, history=history, best_state=best_state,
                                                 config=config))
    if args.publish and best_state is not None:
        buf = io.BytesIO()
        torch.save(best_state, buf)
        data = buf.getvalue()
        out = args.out.parent / "lightfield_blend.pt"
        write_model(out, data)
        write_zoo_entry(out, data, kind="lightfield_blend", modality="lightfield", script="train_lightfield.py",
                        data_record=_record(args), history=history, steps=args.steps)
        log(f"wrote {out} and its zoo entry (best validation {best:.3f} dB)")
    return 0


def _same_config(ckpt: Path, fresh: bool, config: dict, saved) -> bool:
    """Whether a run may resume from ``ckpt`` (none there, ``--fresh``, or written with the same ``config``, which
    ``saved()`` reads); prints one error line when not."""
    if fresh or not ckpt.exists():
        return True
    try:
        old = saved()
    except Exception as exc:  # noqa: BLE001 - a foreign or damaged file: say so in one line
        print(f"error: {ckpt} is not a checkpoint of this training ({type(exc).__name__}); use --fresh or "
              "another --checkpoint", file=sys.stderr)
        return False
    if json.loads(json.dumps(old)) != json.loads(json.dumps(config)):
        diff = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
        print(f"error: {ckpt} was written with other options ({', '.join(diff)}); rerun with them, or --fresh",
              file=sys.stderr)
        return False
    return True


def _record(args) -> dict:
    import h5py

    with h5py.File(args.train, "r") as f:
        return {"train_set": str(args.train.relative_to(REPO)) if args.train.is_relative_to(REPO) else str(args.train),
                "sample_list_sha256": str(f.attrs.get("sample_list_sha256", "")),
                "built_by": str(f.attrs.get("command", "python -m datasets.lightfields"))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=Path, default=REPO / "datasets/build/lightfields_train.h5")
    ap.add_argument("--val", nargs="*", default=None, help="names of the set held out for validation")
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--rates", default="1,3,5,7")
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--alpha", type=float, default=4.0)
    ap.add_argument("--out", type=Path, default=zoo.weights_dir() / "lightfield.npz")
    ap.add_argument("--publish", action="store_true", help="write the model file and its zoo entry")
    ap.add_argument("--part", choices=["tables", "blend"], default="tables",
                    help="tables: the residual tables (counting); blend: the blending network (gradient descent)")
    ap.add_argument("--steps", type=int, default=1500, help="blend: optimisation steps")
    ap.add_argument("--batch", type=int, default=8, help="blend: views per step")
    ap.add_argument("--lr", type=float, default=2e-3, help="blend: learning rate")
    ap.add_argument("--width", type=int, default=8, help="blend: channels of the hidden layers")
    ap.add_argument("--noise", type=float, default=2.0, help="blend: noise added to the references (grey levels)")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None, help="blend: torch device (default: cuda when available, else cpu)")
    ap.add_argument("--checkpoint", type=Path, default=None, help="resume file (default under datasets/build/)")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    args = ap.parse_args(argv)
    if args.device is None:
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if not args.train.exists():
        print(f"error: {args.train} not found; build it with: python -m datasets.lightfields", file=sys.stderr)
        return 2
    items = load_items(args.train, args.crop)
    names = [n for n, _ in items]
    val_names = args.val if args.val is not None else [n for n in names if n.startswith("lytro")][:1] + [
        n for n in names if n.startswith("rendered")][:1]
    val = [(n, x) for n, x in items if n in val_names]
    train = [(n, x) for n, x in items if n not in val_names]
    if args.part == "blend":
        return train_blend(args, train, val)
    rates = [int(r) for r in args.rates.split(",")]
    log(f"{len(train)} training grids, {len(val)} validation grids ({', '.join(val_names)}), rates {rates}")
    core = installed_key_core("constriction")
    tables = res.ResidualTables.from_weights(*res.default_weights())
    ckpt = args.checkpoint or REPO / "datasets/build/lightfield_tables_checkpoint.npz"
    config = {"train": str(args.train), "crop": args.crop, "rates": rates, "alpha": args.alpha, "val": val_names}

    def saved_config() -> dict:
        with np.load(ckpt, allow_pickle=False) as z:
            return json.loads(str(z["config"]))

    if not _same_config(ckpt, args.fresh, config, saved_config):
        return 2
    done = 0
    if ckpt.exists() and not args.fresh:
        with np.load(ckpt, allow_pickle=False) as z:
            weights, done = (z["classes"], z["levels"]), int(z["passes"])
            history = json.loads(str(z["history"]))
        tables = res.ResidualTables.from_weights(*weights)
        log(f"resumed from {ckpt} after pass {done}")
    else:
        vb, vp = code_set(val, rates, tables, core, None, "validation")
        log(f"prior tables: validation {vb / vp:.5f} bpp")
        history = [{"pass": 0, "val_bpp": vb / vp}]
        weights = res.default_weights()
    for p in range(done + 1, args.passes + 1):
        t0 = time.time()
        counts = [np.zeros_like(weights[0]), np.zeros_like(weights[1])]
        tb, tp = code_set(train, rates, tables, core, counts, f"pass {p}")
        weights = weights_from_counts(counts, args.alpha)
        tables = res.ResidualTables.from_weights(*weights)
        vb, vp = code_set(val, rates, tables, core, None, "validation")
        log(f"pass {p}: training {tb / tp:.5f} bpp (coded with the previous tables), validation {vb / vp:.5f} bpp "
            f"with the new tables, {time.time() - t0:.0f} s")
        history.append({"pass": p, "train_bpp": tb / tp, "val_bpp": vb / vp})
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        tmp = ckpt.parent / f".{ckpt.name}.tmp.npz"
        np.savez(tmp, classes=weights[0], levels=weights[1], passes=p, history=json.dumps(history),
                 config=json.dumps(config))
        tmp.replace(ckpt)
    if args.publish:
        data = tables_to_bytes(*weights)
        write_model(args.out, data)
        record = {**_record(args), "validation": val_names}
        write_zoo_entry(args.out, data, kind="lightfield", modality="lightfield", script="train_lightfield.py",
                        data_record=record, history=history, rates=rates, crop=args.crop)
        log(f"wrote {args.out} and its zoo entry")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
