"""Train the learned image models: ``python tools/train_image.py --kind core|erp``.

* ``core``: the 2D image codec core (:class:`omnicodec.image.model.GainHyperprior`) on random crops of every training
  image (photos, panoramas, light-field views; ``python -m datasets.images`` builds them), plain MSE.
* ``erp``: the sphere-aware model, started from the core's weights (``--init``) and trained on panorama crops only,
  with the three ERP adaptations: the per-latent-row gain of :func:`omnicodec.omni.latitude.row_gains`, the
  WS-MSE loss (rows weighted by the cosine of their latitude), and ERP augmentations (yaw rolls, mirror, north/south
  flip). Wrap-around padding is a coding-time operation and needs no training.

Every step draws one gain level per crop; the loss is ``bpp + lambda[level] * 255**2 * MSE``. The script logs the
validation bits per pixel and PSNR of every level (estimated from the likelihoods, rounded latents) each
``--eval-every`` steps, checkpoints (``--checkpoint``) and resumes from it unless ``--fresh``; the model file
(``--out``) is written atomically whenever the validation loss improves. CPU by default; ``--device cuda`` uses a GPU.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from training_common import REPO, log, write_model, write_zoo_entry  # noqa: E402

from datasets.images import read_set  # noqa: E402
from datasets.paths import check_training_path  # noqa: E402
from omnicodec.image.model import LAMBDAS, GainHyperprior, ImageModelConfig  # noqa: E402
from omnicodec.omni.latitude import row_gains, ws_weights  # noqa: E402


class CropSampler:
    """Random training crops ``(B, 3, S, S)`` in [0, 1], with their rows' latitudes for panoramas."""

    def __init__(self, images: list[tuple[np.ndarray, dict]], crop: int, kind: str, seed: int) -> None:
        if kind == "erp":
            images = [(p, a) for p, a in images if a["kind"] == "erp"]
        self.images = [(p, a) for p, a in images if min(p.shape[:2]) >= crop]
        if not self.images:
            raise SystemExit("error: no training image is large enough for the crop size")
        w = np.array([math.sqrt(p.shape[0] * p.shape[1]) for p, _ in self.images])
        self.weights = w / w.sum()
        self.crop, self.kind = crop, kind
        self.rng = np.random.default_rng(seed)

    def sample(self, batch: int) -> tuple[torch.Tensor, np.ndarray | None]:
        s, rng = self.crop, self.rng
        crops, lats = [], []
        for i in rng.choice(len(self.images), size=batch, p=self.weights):
            pixels, attrs = self.images[i]
            h, w = pixels.shape[:2]
            y0 = int(rng.integers(0, h - s + 1))
            if attrs["kind"] == "erp":  # yaw: any column, wrapping around the seam
                x0 = int(rng.integers(0, w))
                cols = (np.arange(x0, x0 + s) % w)
                c = pixels[y0 : y0 + s][:, cols]
                rows = np.arange(y0, y0 + s)
                lat = 90.0 - (rows + 0.5) * 180.0 / h
                if rng.random() < 0.5:  # north/south mirror: the row latitudes flip sign, weights stay
                    c, lat = c[::-1], -lat[::-1]
            else:
                x0 = int(rng.integers(0, w - s + 1))
                c = pixels[y0 : y0 + s, x0 : x0 + s]
                lat = np.zeros(s)
                if rng.random() < 0.5:
                    c = c[::-1]
            if rng.random() < 0.5:
                c = c[:, ::-1]
            crops.append(np.ascontiguousarray(c))
            lats.append(lat)
        x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 255.0
        return x, (np.stack(lats) if self.kind == "erp" else None)


def batch_weights(lats: np.ndarray | None, crop: int, device) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Per-row WS weights ``(B, 1, S, 1)`` (mean 1 over the sphere) and latent row gains ``(B, 1, S/16, 1)``."""
    if lats is None:
        return None, None
    w = torch.from_numpy(ws_weights(lats)).float()[:, None, :, None]
    band = lats.reshape(lats.shape[0], crop // 16, 16).mean(axis=2)
    g = torch.from_numpy(row_gains(band)).float()[:, None, :, None]
    return w.to(device), g.to(device)


def loss_terms(net: GainHyperprior, x: torch.Tensor, level: torch.Tensor, w, g) -> tuple[torch.Tensor, ...]:
    out = net(x, level, g)
    pixels = x.shape[0] * x.shape[2] * x.shape[3]
    bits = -(torch.log2(out["y_likelihoods"]).sum((1, 2, 3)) + torch.log2(out["z_likelihoods"]).sum((1, 2, 3)))
    bpp = bits / (pixels / x.shape[0])
    err = (out["x_hat"] - x) ** 2
    if w is not None:
        err = err * w
    mse = err.mean((1, 2, 3))
    lam = torch.tensor(LAMBDAS, device=x.device)[level]
    return (bpp + lam * 255.0**2 * mse).mean(), bpp.mean(), mse.mean()


@torch.no_grad()
def evaluate(net: GainHyperprior, val: list[tuple[np.ndarray, dict]], kind: str, device, size: int = 256) -> dict:
    """Per level: mean estimated bpp and PSNR (weighted for ``erp``) over centre crops of the validation images."""
    net.eval()
    rows = []
    for level in range(len(LAMBDAS)):
        bpps, mses = [], []
        for pixels, attrs in val:
            if kind == "erp" and attrs["kind"] != "erp":
                continue
            h, w = pixels.shape[:2]
            s = min(size, h // 64 * 64, w // 64 * 64)
            y0, x0 = (h - s) // 2 // 16 * 16, (w - s) // 2
            x = torch.from_numpy(np.ascontiguousarray(pixels[y0 : y0 + s, x0 : x0 + s])).permute(2, 0, 1)[None]
            x = x.float().to(device) / 255.0
            lat = (90.0 - (np.arange(y0, y0 + s) + 0.5) * 180.0 / h)[None] if kind == "erp" else None
            wts, g = batch_weights(lat, s, device)
            _, bpp, mse = loss_terms(net, x, torch.tensor([level], device=device), wts, g)
            bpps.append(float(bpp))
            mses.append(float(mse))
        rows.append((float(np.mean(bpps)), 10 * math.log10(1.0 / max(float(np.mean(mses)), 1e-12))))
    net.train()
    loss = float(np.mean([b + lam * 255.0**2 * 10 ** (-p / 10) for (b, p), lam in zip(rows, LAMBDAS, strict=True)]))
    return {"levels": rows, "loss": loss}


def data_record(train: Path) -> dict:
    """The zoo's record of a training set: its path, builder and a sha256 over its sources and image sizes."""
    images = read_set(train)
    listing = "\n".join(f"{a['source']} {a['scale']} {p.shape}" for p, a in images)
    return {"train_set": str(train.relative_to(REPO) if train.is_relative_to(REPO) else train),
            "built_by": "python -m datasets.images" + (" --no-rotated" if "_norot" in train.name else ""),
            "images": len(images),
            "sample_list_sha256": hashlib.sha256(listing.encode()).hexdigest()}


def publish(model_file: Path, kind: str, train: Path, ckpt: Path, command: str) -> None:
    """Write ``model_file`` into the zoo as ``image_KIND`` with its index entry."""
    data = model_file.read_bytes()
    out = REPO / f"omnicodec/zoo/weights/image_{kind}.pt"
    write_model(out, data)
    extra = {}
    if ckpt.exists():
        state = torch.load(ckpt, map_location="cpu", weights_only=False)["state"]
        best = min(state["history"], key=lambda h: h["loss"])
        extra = {"step": best["step"], "steps_trained": state["step"],
                 "val_bpp_psnr_per_rate": [[round(b, 4), round(p, 2)] for b, p in best["levels"]]}
    sys.argv = ["train_image.py", *command.split()]  # the entry records the training command
    write_zoo_entry(out, data, kind="image", modality="image", script="train_image.py", data_record=data_record(train),
                    lambdas=list(LAMBDAS), **extra)
    log(f"published {out} ({len(data)} bytes)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=("core", "erp"), default="core")
    ap.add_argument("--train", type=Path, default=REPO / "datasets/build/images_train.h5")
    ap.add_argument("--val", type=Path, default=REPO / "datasets/build/images_val.h5")
    ap.add_argument("--out", type=Path, default=None, help="model file (default omnicodec/zoo/weights/image_KIND.pt)")
    ap.add_argument("--checkpoint", type=Path, default=None)
    ap.add_argument("--init", type=Path, default=None, help="start from these model weights (erp: the core's)")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--publish", type=Path, default=None, help="put this model file into the zoo and stop")
    ap.add_argument("--command", default=None, help="with --publish: the arguments of the run that trained it")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    for p in (args.train, args.val):
        check_training_path(p)
        if not p.exists():
            print(f"error: {p} not found; build it with: python -m datasets.images", file=sys.stderr)
            return 2
    out = args.out or REPO / f"omnicodec/zoo/weights/image_{args.kind}.pt"
    ckpt = args.checkpoint or REPO / f"datasets/build/image_{args.kind}_checkpoint.pt"
    if args.publish is not None:
        publish(args.publish, args.kind, args.train, ckpt, args.command or " ".join(sys.argv[1:]))
        return 0
    device = torch.device(args.device)
    net = GainHyperprior(ImageModelConfig()).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    state = dict(step=0, best=float("inf"), history=[])
    if ckpt.exists() and not args.fresh:
        saved = torch.load(ckpt, map_location=device, weights_only=False)
        net.load_state_dict(saved["net"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
        log(f"resumed from {ckpt} at step {state['step']}")
    elif args.init is not None:
        net.load_state_dict(torch.load(args.init, map_location=device, weights_only=True))
        log(f"initialised from {args.init}")
    sampler = CropSampler(read_set(args.train), args.crop, args.kind, args.seed + state["step"])
    val = read_set(args.val)
    levels = len(LAMBDAS)
    t_start, step0 = time.time(), state["step"]
    deadline = t_start + 60.0 * args.minutes
    run_bpp, run_mse, n_run = 0.0, 0.0, 0
    while state["step"] < args.steps and time.time() < deadline:
        progress = max(state["step"] / args.steps, (time.time() - t_start) / (60.0 * args.minutes))
        for group in opt.param_groups:  # the last fifth at a quarter of the rate
            group["lr"] = args.lr * (0.25 if progress > 0.8 else 1.0)
        x, lats = sampler.sample(args.batch)
        x = x.to(device)
        level = torch.from_numpy(sampler.rng.integers(0, levels, size=args.batch)).to(device)
        w, g = batch_weights(lats, args.crop, device)
        loss, bpp, mse = loss_terms(net, x, level, w, g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        run_bpp, run_mse, n_run = run_bpp + float(bpp.detach()), run_mse + float(mse.detach()), n_run + 1
        if state["step"] % args.eval_every == 0 or state["step"] >= args.steps or time.time() >= deadline:
            ev = evaluate(net, val, args.kind, device)
            levels_txt = " ".join(f"{b:.3f}/{p:.2f}" for b, p in ev["levels"])
            log(f"step {state['step']}: train bpp {run_bpp / n_run:.3f} mse {run_mse / n_run:.5f} | "
                f"val loss {ev['loss']:.4f} | bpp/PSNR per level {levels_txt}")
            run_bpp, run_mse, n_run = 0.0, 0.0, 0
            state["history"].append({"step": state["step"], "run_seconds": round(time.time() - t_start, 1), **ev})
            if ev["loss"] < state["best"]:
                state["best"] = ev["loss"]
                buf = io.BytesIO()
                net.eval()
                torch.save({k: v.cpu() for k, v in net.state_dict().items()}, buf)
                net.train()
                write_model(out, buf.getvalue())
                if out.parent.name == "weights":  # a zoo folder: record the entry too
                    write_zoo_entry(out, buf.getvalue(), kind="image", modality="image", script="train_image.py",
                                    data_record=data_record(args.train), lambdas=list(LAMBDAS), step=state["step"],
                                    val_bpp_psnr_per_rate=[[round(b, 4), round(p, 2)] for b, p in ev["levels"]])
                log(f"  best so far: wrote {out}")
            tmp = ckpt.with_suffix(".tmp")
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "state": state}, tmp)
            tmp.replace(ckpt)
    log(f"stopped at step {state['step']} ({state['step'] - step0} steps this run); best val loss {state['best']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
