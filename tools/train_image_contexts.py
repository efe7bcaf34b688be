"""Train the wavelet image core's learned context tables and reconstruction offsets (zoo model ``image_wavelet``).

    python -m datasets.images --out datasets/build
    python tools/train_image_contexts.py --publish

Every training image is transformed and quantised as the codec does it (:mod:`omnicodec.image.wavelet`) at every
rate point: photos and light-field views as flat images, panoramas with periodic columns and latitude steps, as the
``erp`` codec codes them. The quantised values are counted per (group, context) exactly as the coder forms them
(:func:`omnicodec.image.subband_coder.code_plane` with a ``record`` hook); a second round repeats this with the
encoder's rate-distortion choice (values lowered where that pays under the first round's tables). Each table is
the counts plus ``--alpha`` pseudo-counts of the prior (:func:`omnicodec.image.subband_model.prior_weights`), as
integers. A reconstruction offset is the mean position of the training coefficients inside their quantiser
cell, per group and for ``|q| = 1`` and ``|q| >= 2``.

Training data: ``datasets/build/images_train.h5`` (built by ``python -m datasets.images``, never evaluation files);
the log prints the real coded bits per pixel and PSNR of the validation images (``images_val.h5``) with the prior
and with the new model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_attributes import weights_from_counts  # noqa: E402
from train_image import data_record  # noqa: E402
from training_common import REPO, log, write_model, write_zoo_entry  # noqa: E402

from datasets.images import read_set  # noqa: E402
from omnicodec.image import subband_model as sm  # noqa: E402
from omnicodec.image import wavelet as wv  # noqa: E402
from omnicodec.image.subband_coder import code_plane  # noqa: E402
from omnicodec.metrics.image import psnr  # noqa: E402
from omnicodec.omni.erp_codec import ErpCodec  # noqa: E402
from omnicodec.pointcloud.attr_model import count_values  # noqa: E402

CONTEXTS_PER_GROUP = list(sm.CONTEXTS_PER_GROUP)


def params_for(pixels: np.ndarray, kind: str, rate: int, chroma: int) -> wv.WaveletParams:
    """The parameters the codecs give an image: ``erp``'s for panoramas (with its default chroma steps), ``image``'s
    with ``chroma`` otherwise."""
    if kind == "erp":
        return wv.WaveletParams.for_image(pixels.shape[0], pixels.shape[1], 3, rate,
                                          wv.check_chroma(ErpCodec.default_chroma), panorama=True)
    return wv.WaveletParams.for_image(pixels.shape[0], pixels.shape[1], 3, rate, chroma)


def statistics(images, rates, chroma: int, counts: list[np.ndarray], cells: np.ndarray,
               model: sm.SubbandModel | None = None) -> None:
    """Adds every image's value counts per (group, context) to ``counts`` and its cell positions to ``cells``
    (``(DETAIL_GROUPS, 2, 2)``: sum and count for ``|q| = 1`` and ``|q| >= 2``). With ``model``, the values are
    first lowered by the encoder's rate-distortion choice under that model's tables, as the encoder does."""

    def record(group: int, values: np.ndarray, ctx: np.ndarray) -> None:
        counts[group] += count_values(values, ctx, len(counts[group]))

    for pixels, attrs in images:
        for rate in rates:
            p = params_for(pixels, attrs["kind"], rate, chroma)
            luma = None
            for c in range(3):
                q, sizes = wv.quantised_plane(pixels, p, c)
                rdo = (sizes, wv.RD_LAMBDA) if model is not None else None
                code_plane(None, model, c, p.height, p.width, p.levels, q, luma, record, rdo)
                for lev in range(p.levels):  # cell positions of the values as coded
                    group = sm.group_of(c, p.levels - 1 - lev, 0)
                    for v, size in zip(q[1][lev], sizes[lev], strict=True):
                        a = np.abs(v)
                        for k, sel in enumerate((a == 1, a >= 2)):
                            cells[group, k] += ((size - a)[sel].sum(), sel.sum())
                if c == 0:
                    luma = q


def validate(model: sm.SubbandModel, images, rates, chroma: int) -> dict[str, tuple[float, float]]:
    """Real coded bits per pixel and PSNR-RGB of each validation image at each rate."""
    out = {}
    for i, (pixels, attrs) in enumerate(images):
        for rate in rates:
            p = params_for(pixels, attrs["kind"], rate, chroma)
            chunks = wv.encode(pixels, p, model)
            bpp = 8 * sum(len(c.data) for c in chunks) / (p.height * p.width)
            out[f"{i}:{Path(attrs['source']).stem}@{rate}"] = (bpp, psnr(pixels, wv.decode([c.data for c in chunks],
                                                                                             p, model)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=Path, default=REPO / "datasets/build/images_train.h5")
    ap.add_argument("--val", type=Path, default=REPO / "datasets/build/images_val.h5")
    ap.add_argument("--alpha", type=float, default=16.0, help="pseudo-counts of the prior per table")
    ap.add_argument("--chroma", type=float, default=1.0,
                    help="chroma step factor the photos' statistics are taken at (panoramas: erp's default)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="statistics rounds: the first quantises plainly, each later one with the encoder's "
                         "rate-distortion choice under the previous round's tables")
    ap.add_argument("--out", type=Path, default=REPO / "omnicodec" / "zoo" / "weights" / "image_wavelet.npz")
    ap.add_argument("--publish", action="store_true", help="write the model and its zoo entry")
    args = ap.parse_args(argv)
    t0 = time.time()
    chroma = wv.check_chroma(args.chroma)
    train, val = read_set(args.train), read_set(args.val)
    rates = range(1, wv.RATES + 1)
    log(f"{len(train)} training images ({sum(p.shape[0] * p.shape[1] for p, _ in train) / 1e6:.1f} Mpixel), "
        f"{len(val)} validation images")
    model = None
    for round_ in range(args.rounds):
        counts = [np.zeros((n, sm.SYMBOLS), dtype=np.int64) for n in CONTEXTS_PER_GROUP]
        cells = np.zeros((sm.DETAIL_GROUPS, 2, 2))
        statistics(train, rates, chroma, counts, cells, model)
        weights = weights_from_counts(counts, args.alpha, sm.prior_weights())
        pos = np.where(cells[..., 1] > 0, cells[..., 0] / np.maximum(cells[..., 1], 1), 0.5 - sm.ROUNDING)
        recon = np.clip(np.round(pos * sm.OFFSET_UNIT), -sm.OFFSET_UNIT, sm.OFFSET_UNIT).astype(np.int64)
        model = sm.SubbandModel(weights, recon)
        log(f"round {round_ + 1}: statistics gathered ({time.time() - t0:.0f} s)")
    before = validate(sm.SubbandModel(sm.prior_weights()), val, rates, chroma)
    after = validate(model, val, rates, chroma)
    log("validation bpp / PSNR-RGB, prior -> trained:")
    for k in after:
        log(f"  {k:34s} {before[k][0]:7.4f} {before[k][1]:6.2f} -> {after[k][0]:7.4f} {after[k][1]:6.2f}")
    log(f"offsets for |q| = 1 (luma, finest to coarse): {recon[0:6:2, 0].tolist()}; ({time.time() - t0:.0f} s)")
    if args.publish:
        data = sm.model_to_bytes(weights, recon)
        write_model(args.out, data)
        write_zoo_entry(args.out, data, kind=sm.KIND, modality="image", script="train_image_contexts.py",
                        data_record=data_record(args.train), alpha=args.alpha, chroma=args.chroma,
                        validation={k: [round(b, 4), round(q, 2)] for k, (b, q) in after.items()},
                        validation_prior={k: [round(b, 4), round(q, 2)] for k, (b, q) in before.items()})
        log(f"wrote {args.out} and its zoo entry")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
