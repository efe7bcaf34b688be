"""Training images for the learned image codecs: ``python -m datasets.images --out datasets/build``.

Writes ``images_train.h5`` and ``images_val.h5``: every image one uint8 ``(H, W, 3)`` dataset under ``images/``,
with attributes ``source`` (path relative to the shared data folder), ``kind`` (``photo``, ``erp`` or
``lightfield``) and ``scale`` (the downscale factor applied). Sources, all from the shared data folder and never
an evaluation-only file (:func:`datasets.paths.check_training_path` is called before each file is opened):

* photos: every file of ``images/train/`` (the two 1365x2048 photos also at half size);
* panoramas: every ``erp/`` file that is not evaluation-only, downscaled 2x (they are JPEGs: the downscale
  removes most of their coding artefacts) and at most 2048 wide; full panoramas, so that latitudes are known; plus
  one copy rotated on the sphere (pitch and roll of 10 to 30 degrees, yaw any, fixed per file) for the ERP model's
  rotation augmentation (``scale`` attribute 0 marks these);
* light-field views: the centre view and four inner views of each training light field (``lytro_2067``,
  ``hci_cotton``, ``hci_dino``).

Files listed in :data:`VAL_FILES` go to the validation set. The build is deterministic (no randomness).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import h5py
import numpy as np
from PIL import Image

from omnicodec.omni import rotate_erp

from .paths import REPO, check_training_path, shared_data_root

__all__ = ["VAL_FILES", "image_sources", "load_source", "build", "read_set", "main"]

VAL_FILES = ("images/train/mcmaster_18.tif", "images/train/set5_butterfly.png", "erp/zind_room_04_pano_32.jpg")
_LF_VIEWS = {
    "lightfield/lytro_2067": ["2067_05_05.png", "2067_03_03.png", "2067_03_07.png", "2067_07_03.png", "2067_07_07.png"],
    "lightfield/hci_cotton": ["input_Cam040.png", "input_Cam020.png", "input_Cam060.png"],
    "lightfield/hci_dino": ["input_Cam040.png", "input_Cam020.png", "input_Cam060.png"],
}
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


def image_sources(root: Path) -> list[tuple[str, str]]:
    """``(relative path, kind)`` of every training source present under ``root``, sorted, evaluation files out."""
    out: list[tuple[str, str]] = []
    for folder, kind in (("images/train", "photo"), ("erp", "erp")):
        d = root / folder
        if d.is_dir():
            for f in sorted(d.iterdir()):
                if f.suffix.lower() in _IMAGE_SUFFIXES:
                    try:
                        check_training_path(f)
                    except PermissionError:
                        continue
                    out.append((f"{folder}/{f.name}", kind))
    for folder, names in _LF_VIEWS.items():
        for name in names:
            if (root / folder / name).is_file():
                out.append((f"{folder}/{name}", "lightfield"))
    return out


def _downscale(img: Image.Image, factor: int) -> Image.Image:
    return img.resize((img.width // factor, img.height // factor), Image.Resampling.BOX) if factor > 1 else img


def load_source(root: Path, rel: str, kind: str, rotated: bool = True) -> list[tuple[np.ndarray, int]]:
    """The images one source contributes: ``[(pixels (H, W, 3) uint8, downscale factor), ...]`` (factor 0: the
    panorama's rotated copy, left out when ``rotated`` is false)."""
    path = check_training_path(root / rel)
    with Image.open(path) as im:
        img = im.convert("RGB")
    if kind == "erp":
        factor = 2
        while img.width // factor > 2048:
            factor *= 2
        pano = np.asarray(_downscale(img, factor))
        rng = np.random.default_rng(list(rel.encode()))  # fixed per file
        yaw, pitch, roll = rng.uniform(-180, 180), rng.choice([-1, 1]) * rng.uniform(10, 30), rng.uniform(-30, 30)
        if not rotated:
            return [(pano, factor)]
        return [(pano, factor), (rotate_erp(pano, yaw, pitch, roll, interpolation="bicubic"), 0)]
    out = [(np.asarray(img), 1)]
    if kind == "photo" and min(img.size) > 1000:
        out.append((np.asarray(_downscale(img, 2)), 2))
    return out


def build(out_dir: Path, root: Path, rotated: bool = True, suffix: str = "") -> dict[str, int]:
    """Writes the two sets (``images_{train,val}{suffix}.h5``); returns the number of images in each."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    sources = image_sources(root)
    if not sources:
        raise FileNotFoundError(f"no training images under {root}")
    for split in ("train", "val"):
        chosen = [(r, k) for r, k in sources if (r in VAL_FILES) == (split == "val")]
        tmp = out_dir / f"images_{split}{suffix}.h5.tmp"
        n = 0
        with h5py.File(tmp, "w") as f:
            g = f.create_group("images")
            for rel, kind in chosen:
                for pixels, factor in load_source(root, rel, kind, rotated):
                    d = g.create_dataset(f"{n:04d}", data=pixels, compression="lzf")
                    d.attrs.update(source=rel, kind=kind, scale=factor)
                    n += 1
        tmp.replace(out_dir / f"images_{split}{suffix}.h5")
        counts[split] = n
    return counts


def read_set(path: str | Path) -> list[tuple[np.ndarray, dict]]:
    """All images of a set: ``[(pixels, attributes), ...]``."""
    check_training_path(path)
    out = []
    with h5py.File(path, "r") as f:
        for name in sorted(f["images"]):
            d = f["images"][name]
            out.append((d[()], dict(d.attrs)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "datasets" / "build")
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--no-rotated", action="store_true",
                    help="leave out the rotated panorama copies (the set the image_core model was trained on); "
                         "writes images_{train,val}_norot.h5")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        counts = build(args.out, shared_data_root(args.data), rotated=not args.no_rotated,
                       suffix="_norot" if args.no_rotated else "")
    except (FileNotFoundError, PermissionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"images: {counts['train']} training, {counts['val']} validation images in {args.out} "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
