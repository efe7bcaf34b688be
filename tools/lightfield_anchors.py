"""Standard-codec anchors for light fields: x265 pseudo-video, x265 all-intra and per-view JPEG.

A light field is a (U, V, H, W, 3) uint8 RGB array ``views`` (U view rows, V view columns). Every anchor takes
``views`` and a quality parameter and returns ``(stream, decoded)``: the coded bytes (what the rate is counted from,
bpp = 8 len(stream) / (U V H' W')) and the (U, V, H', W', 3) uint8 views decoded back from them, in the original
grid order. Every anchor first crops the views to even size (:func:`crop_even`: the last row and/or column goes when
H or W is odd, e.g. lytro 552x383 -> 552x382), so ``decoded`` is scored against ``crop_even(views)``.

* ``hevc_pseudo_video(views, qp)``: the views in serpentine order (:func:`serpentine_order`: row 0 left to right,
  row 1 right to left, ...) as one video, x265 through PyAV, preset medium, tune psnr, constant QP, one group of
  pictures for the whole field (``keyint=min-keyint=U V + 1``, ``scenecut=0``: one I frame, then x265's default
  B-frames and references of preset medium), BT.709 full-range 4:2:0 converted in numpy, one thread; colour exactly
  as ``tools/anchors.py`` (:func:`anchors.hevc_encode_frames`). The stream is the raw Annex-B bitstream, with x265's
  informational SEI (its version and options, about 2.3 kB once per stream) by default, as the reference figures
  count it (``info_sei=False`` drops it).
* ``hevc_all_intra(views, qp)``: every view coded alone by ``anchors.hevc_intra`` (one intra frame, same settings);
  the stream is the per-view streams concatenated (itself a valid Annex-B stream of all views, each with its own
  parameter sets). Each view carries x265's SEI by default, as the reference figures count it (about 2.3 kB per view,
  0.07 bpp at 512x512; ``info_sei=False`` drops it).
* ``jpeg_views(views, q)``: every view through ``anchors.jpeg`` (Pillow, libjpeg-turbo, 4:2:0, optimised Huffman
  tables); the JPEG files concatenated.

``LF_ANCHORS`` maps each anchor to ``(function, default qualities)``; ``LF_BENCH_QUALITIES`` holds wider lists for
benchmarks (pseudo-video QP 17..42: light fields reach very low rates).

``python tools/lightfield_anchors.py --check`` compares with the reference figures of GUIDE.md (x265 3.5, antinous
and lytro_2067 from ``../shared/data/lightfield``). With x265 4.2 (PyAV 18.1), QP 22/27/32/37, bpp with SEI /
mean PSNR-Y (reference in brackets):

* antinous pseudo-video: 0.03251/44.48, 0.01630/42.32, 0.00882/40.05, 0.00541/37.67 (0.03256/44.48, 0.01621/42.32,
  0.00884/40.05, 0.00534/37.70): bpp -0.3..+1.4 %, PSNR-Y within 0.03 dB.
* lytro_2067 pseudo-video (552x382): 0.12638/41.23, 0.05257/38.40, 0.01808/35.40, 0.00702/32.91 (0.12686/41.24,
  0.05260/38.40, 0.01794/35.39, 0.00702/32.90): bpp -0.4..+0.8 %, PSNR-Y within 0.01 dB.
* antinous all-intra: 0.55756/46.76, 0.31550/44.25, 0.20037/41.99, 0.14389/39.77 (0.55513/46.76, 0.31303/44.25,
  0.19790/41.99, 0.14131/39.77): PSNR-Y identical, bpp +0.4..+1.8 %, a constant 0.0025 bpp (about 80 bytes per
  view: x265 4.2's SEI spells out a few more options than 3.5's).

The reference counts the SEI: without it the pseudo-video rates fall by 0.00087 bpp on antinous (-15 % at QP 37)
and 0.0011 on lytro_2067, and the all-intra ones by 0.071 bpp (-48 % at QP 37). Seconds on one core: pseudo-video
1-3 s per QP for either field, all-intra 8-11 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools import anchors  # noqa: E402

__all__ = ["serpentine_order", "crop_even", "hevc_pseudo_video", "hevc_all_intra", "jpeg_views", "LF_ANCHORS",
           "LF_BENCH_QUALITIES", "bpp"]


def _check_views(views: np.ndarray) -> np.ndarray:
    a = np.asarray(views)
    if a.dtype != np.uint8 or a.ndim != 5 or a.shape[4] != 3 or min(a.shape[:4]) < 1:
        raise ValueError(f"light-field anchors take (U, V, H, W, 3) uint8 RGB views, got {a.dtype} {a.shape}")
    return a


def serpentine_order(u: int, v: int) -> list[tuple[int, int]]:
    """The (row, column) of every view of a U x V grid in serpentine order: row 0 left to right, row 1 right to left,
    and so on, so that consecutive views are always neighbours."""
    if u < 1 or v < 1:
        raise ValueError(f"a view grid needs at least one row and column, got {u} x {v}")
    return [(r, c if r % 2 == 0 else v - 1 - c) for r in range(u) for c in range(v)]


def crop_even(views: np.ndarray) -> np.ndarray:
    """The (U, V, H', W', 3) views cropped to even H' and W' (the last row/column dropped where H or W is odd)."""
    a = _check_views(views)
    h, w = a.shape[2:4]
    if h < 2 or w < 2:
        raise ValueError(f"views of {h}x{w} pixels are too small to crop to even size")
    return a[:, :, : h - h % 2, : w - w % 2]


def bpp(stream: bytes, views: np.ndarray) -> float:
    """Bits per pixel of ``stream`` over all views of ``views`` (the cropped or decoded field)."""
    u, v, h, w = np.asarray(views).shape[:4]
    return 8.0 * len(stream) / (u * v * h * w)


def hevc_pseudo_video(views: np.ndarray, qp: int, *, info_sei: bool = True) -> tuple[bytes, np.ndarray]:
    """x265 pseudo-video of the serpentine-ordered views, one group of pictures, constant ``qp``; (stream, decoded).

    ``decoded`` is (U, V, H', W', 3) uint8 at the even-cropped size, in grid order (see the module docstring).
    """
    field = crop_even(views)
    u, v, h, w = field.shape[:4]
    order = serpentine_order(u, v)
    n = len(order)
    gop = f"keyint={n + 1}:min-keyint={n + 1}:scenecut=0"
    stream = anchors.hevc_encode_frames([field[r, c] for r, c in order], qp, info_sei=info_sei, params=gop)
    frames = anchors.hevc_decode_frames(stream, h, w)
    if len(frames) != n:
        raise anchors.AnchorError(f"HEVC pseudo-video decoded {len(frames)} frames, expected {n}")
    decoded = np.empty_like(field)
    for (r, c), frame in zip(order, frames, strict=True):
        decoded[r, c] = frame
    return stream, decoded


def _per_view(views: np.ndarray, code: Callable[[np.ndarray], tuple[bytes, np.ndarray]]) -> tuple[bytes, np.ndarray]:
    field = crop_even(views)
    decoded = np.empty_like(field)
    streams = []
    for r in range(field.shape[0]):
        for c in range(field.shape[1]):
            stream, decoded[r, c] = code(field[r, c])
            streams.append(stream)
    return b"".join(streams), decoded


def hevc_all_intra(views: np.ndarray, qp: int, *, info_sei: bool = True) -> tuple[bytes, np.ndarray]:
    """Every (even-cropped) view as its own x265 intra frame at constant ``qp``; (all streams joined, decoded)."""
    return _per_view(views, lambda img: anchors.hevc_intra(img, qp, info_sei=info_sei))


def jpeg_views(views: np.ndarray, q: int) -> tuple[bytes, np.ndarray]:
    """Every (even-cropped) view as its own JPEG at quality ``q``; (all files joined, decoded)."""
    return _per_view(views, lambda img: anchors.jpeg(img, q))


LfAnchorFn = Callable[[np.ndarray, int], tuple[bytes, np.ndarray]]

LF_ANCHORS: dict[str, tuple[LfAnchorFn, list[int]]] = {
    "hevc_pseudo": (hevc_pseudo_video, [22, 27, 32, 37]),
    "hevc_intra": (hevc_all_intra, [22, 27, 32, 37]),
    "jpeg": (jpeg_views, [30, 50, 75, 90]),
}
"""The light-field anchors: name -> (function, default qualities: QP for HEVC, quality 0..100 for JPEG)."""

LF_BENCH_QUALITIES: dict[str, list[int]] = {
    "hevc_pseudo": [17, 22, 27, 32, 37, 42],
    "hevc_intra": [22, 27, 32, 37, 42],
    "jpeg": [10, 30, 50, 75, 90],
}
"""Wider quality lists for benchmarks (to cover the low rates a learned light-field codec reaches)."""


# ---------------------------------------------------------------- check against the reference figures

_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "lightfield"
_REFERENCE: dict[tuple[str, str], list[tuple[float, float]]] = {
    ("antinous", "hevc_pseudo"): [(0.03256, 44.48), (0.01621, 42.32), (0.00884, 40.05), (0.00534, 37.70)],
    ("lytro_2067", "hevc_pseudo"): [(0.12686, 41.24), (0.05260, 38.40), (0.01794, 35.39), (0.00702, 32.90)],
    ("antinous", "hevc_intra"): [(0.55513, 46.76), (0.31303, 44.25), (0.19790, 41.99), (0.14131, 39.77)],
}
"""GUIDE.md's light-field anchors (x265 3.5): (bpp, mean PSNR-Y) at QP 22, 27, 32, 37."""


def _check() -> int:
    from omnicodec.io.lightfield import read_lightfield_folder
    from omnicodec.metrics.lightfield import lightfield_quality

    if not _DATA.is_dir():
        print(f"no reference data at {_DATA}: nothing to check")
        return 0
    print(f"x265 {anchors.anchor_versions().get('x265')}, PyAV {anchors.anchor_versions().get('pyav')}")
    print(f"{'scene':<11} {'anchor':<12} {'QP':>3} {'bpp':>8} {'no SEI':>8} {'ref':>8} {'d bpp':>7} "
          f"{'PSNR-Y':>6} {'ref':>6} {'d dB':>6} {'s':>5}")
    fields: dict[str, np.ndarray] = {}
    for (scene, name), ref in _REFERENCE.items():
        if scene not in fields:
            fields[scene] = crop_even(np.asarray(read_lightfield_folder(_DATA / scene).views))
        field = fields[scene]
        func = LF_ANCHORS[name][0]
        for qp, (ref_bpp, ref_db) in zip(LF_ANCHORS[name][1], ref, strict=True):
            t0 = time.perf_counter()
            stream, decoded = func(field, qp)
            seconds = time.perf_counter() - t0
            rate = bpp(stream, field)
            nosei = bpp(anchors.strip_x265_info(stream), field)
            db = lightfield_quality(field, decoded, ssim=False)["mean_psnr_y"]
            print(f"{scene:<11} {name:<12} {qp:>3} {rate:8.5f} {nosei:8.5f} {ref_bpp:8.5f} "
                  f"{100 * (rate / ref_bpp - 1):+6.1f}% {db:6.2f} {ref_db:6.2f} {db - ref_db:+6.2f} {seconds:5.1f}",
                  flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="code antinous and lytro_2067 and print the figures beside GUIDE.md's")
    args = parser.parse_args(argv)
    if args.check:
        return _check()
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
