"""Rate-distortion benchmark on Kodak: our learned image codec against standard codecs measured in the same run.

Usage: python tools/bench_image.py [--quick | --images PATH_OR_GLOB ...] [--codecs NAME ...] [--rates R ...]
                                   [--qualities NAME=Q,Q,... ...] [--threads 1] [--json docs/bench_image.json]
                                   [--plot docs/rd_image.png] [--no-plot] [--per-image]

Codecs (``--codecs``, default: ``image`` and every default anchor):

* ``image``: ours, ``omnicodec.compress(ErpImage(pixels), codec="image", rate=R)`` for R in ``--rates`` (default
  1..8), decoded with ``omnicodec.decompress``. When the codec is not registered (or its model cannot be loaded),
  a one-line note is printed and only the anchors run.
* the anchors of ``tools/anchors.py`` (HEVC-intra x265, JPEG, WebP, AVIF; ``vvc_intra`` on request), every setting
  as in that module, at qualities reaching lower rates than its defaults (``KODAK_QUALITIES``: HEVC QP 22..47, JPEG
  q 10..90, WebP q 10..95, AVIF q 20..85; ``--qualities NAME=Q,...`` to change). With ``hevc_intra`` come rows
  ``hevc_intra_nosei``: the same streams less x265's informational SEI (its version and options, about 2.3 kB per
  image, 0.047 bpp on a Kodak image; ``anchors.strip_x265_info``), which GUIDE.md's HEVC figures include. BD-rates
  are given against both.

Inputs: the 24 Kodak PNGs of ``../shared/data/images/kodak`` (evaluation only), ``--quick`` four of them (kodim01,
kodim04 portrait, kodim13, kodim23), or ``--images`` any RGB files. Measured per image and quality point: bytes,
bpp = 8 bytes / (H W), PSNR-RGB (all three channels pooled), PSNR-Y (BT.709 luma), SSIM-Y
(``omnicodec.metrics.image``), encode and decode wall-clock seconds (in process, after one warm-up call per codec on a
64x64 crop; anchors on one thread, our codec with ``--threads`` torch threads).

Averaging: each codec's curve is the mean bpp against the mean PSNR over the images at each quality point (not the
mean of per-image BD-rates); BD-rates (PCHIP, ``omnicodec.metrics.bdrate``) of every codec against JPEG and against
HEVC-intra are computed between those mean curves, for PSNR-RGB and PSNR-Y. The JSON holds every per-image row, the
mean curves, the BD-rate table and the library versions; the plot shows the mean curves (with CompressAI's published
Kodak points for orientation when the full set is used).
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from tools import anchors  # noqa: E402

DATA = Path(os.environ.get("OMNICODEC_SHARED_DATA", REPO.parent / "shared" / "data"))
KODAK = DATA / "images" / "kodak"
QUICK = ["kodim01", "kodim04", "kodim13", "kodim23"]
LEARNED = ("image",)  # our codecs this bench runs
OURS = ("image", "erp")  # every learned codec run_codec knows (bench_erp runs both)
DEFAULT_RATES = list(range(1, 9))
ALL_ANCHORS = {**anchors.ANCHORS, **anchors.EXTRA_ANCHORS}
# Kodak is coded by learned codecs at 0.1-1 bpp: wider anchor ranges than tools/anchors.py's defaults (which are the
# GUIDE's ERP settings), so that every curve overlaps ours. --qualities overrides any of them.
KODAK_QUALITIES = {
    "hevc_intra": [22, 27, 32, 37, 42, 47],
    "vvc_intra": [22, 27, 32, 37, 42, 47],
    "jpeg": [10, 20, 30, 50, 75, 90],
    "webp": [10, 30, 50, 70, 85, 95],
    "avif": [20, 30, 40, 55, 70, 85],
}
# GUIDE.md section 5, for orientation on the full Kodak set: (bpp, PSNR-RGB) means.
REFERENCES = {
    "CompressAI bmshj2018-hyperprior q1-q4": ([0.131, 0.209, 0.320, 0.478], [27.58, 29.20, 30.97, 32.84]),
    "BPG (HEVC 4:4:4)": ([0.161, 0.352, 0.685], [28.68, 31.60, 34.86]),
}


def note(msg: str) -> None:
    print(f"note: {msg}", flush=True)


def load_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB of an image file (alpha dropped, grey expanded)."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def learned_status(codec_id: str, threads: int) -> str | None:
    """None when our codec ``codec_id`` is registered for images and runs on a small crop; else a one-line reason.

    The check also warms the codec up (model loading) and sets torch's thread count.
    """
    import omnicodec
    from omnicodec.codecs import get_codec
    from omnicodec.errors import InputError

    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass
    try:
        get_codec(codec_id, "image")
    except InputError as e:
        return f"codec {codec_id!r} not available ({e})"
    probe = np.random.default_rng(0).integers(0, 256, (64, 128, 3), dtype=np.uint8)
    try:
        omnicodec.decompress(omnicodec.compress(omnicodec.ErpImage(probe), codec=codec_id, rate=1))
    except Exception as e:  # noqa: BLE001 - a codec under construction may fail in any way; reported, not fatal
        return f"codec {codec_id!r} registered but does not run ({type(e).__name__}: {e})"
    return None


def run_learned(codec_id: str, img: np.ndarray, rate: int, **options) -> anchors.TimedResult:
    """Our codec at ``rate`` (and ``options``): stream, decoded (H, W, 3) uint8 and seconds, like
    :func:`anchors.timed`."""
    import omnicodec

    t0 = time.perf_counter()
    stream = omnicodec.compress(omnicodec.ErpImage(img), codec=codec_id, rate=rate, **options)
    t1 = time.perf_counter()
    decoded = np.asarray(omnicodec.decompress(stream).pixels)
    t2 = time.perf_counter()
    if decoded.shape != img.shape or decoded.dtype != np.uint8:
        raise RuntimeError(f"{codec_id} rate {rate}: decoded {decoded.dtype} {decoded.shape}, not uint8 {img.shape}")
    return anchors.TimedResult(stream, decoded, t1 - t0, t2 - t1)


def run_codec(codec: str, img: np.ndarray, quality: int, **options) -> anchors.TimedResult:
    """Our codec (``image``, ``erp``; with ``options``) at a rate or an anchor at a quality; stream, decoded and
    seconds."""
    if codec in OURS:
        return run_learned(codec, img, quality, **options)
    return anchors.timed(codec, img, quality)


NOSEI = "hevc_intra_nosei"


def nosei_row(row: dict, stream_bytes_nosei: int) -> dict:
    """The ``hevc_intra_nosei`` twin of an ``hevc_intra`` row: fewer bytes, the same decoded image and metrics."""
    px = row["width"] * row["height"]
    return {**row, "codec": NOSEI, "bytes": stream_bytes_nosei, "bpp": 8 * stream_bytes_nosei / px}


def default_qualities(codec: str) -> list[int]:
    """tools/anchors.py's default qualities of an anchor."""
    return ALL_ANCHORS[codec][1]


def parse_qualities(items: list[str] | None, known) -> dict[str, list[int]]:
    """``["jpeg=10,50,90", ...]`` -> ``{"jpeg": [10, 50, 90]}``; SystemExit with a one-line message when malformed."""
    out = {}
    for item in items or []:
        name, _, values = item.partition("=")
        try:
            qs = [int(v) for v in values.split(",") if v.strip()]
        except ValueError:
            qs = []
        if name not in known or not qs:
            raise SystemExit(f"--qualities: expected NAME=Q1,Q2,... with NAME one of {', '.join(sorted(known))}; "
                             f"got {item!r}")
        out[name] = qs
    return out


def anchor_status(codec: str) -> str | None:
    """None when anchor ``codec`` runs on a tiny image (this also warms it up); else a one-line reason."""
    try:
        run_codec(codec, np.full((64, 64, 3), 128, np.uint8), default_qualities(codec)[-1])
    except (anchors.AnchorError, ImportError, OSError) as e:
        return f"anchor {codec} skipped: {e}"
    return None


def finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def mean_curves(rows: list[dict], metrics: list[str]) -> dict[str, dict[str, list]]:
    """Per codec: the qualities present on every image, with mean bpp and mean of each metric over the images."""
    images = sorted({r["image"] for r in rows})
    out: dict[str, dict[str, list]] = {}
    for codec in dict.fromkeys(r["codec"] for r in rows):
        mine = [r for r in rows if r["codec"] == codec]
        curve: dict[str, list] = {"quality": [], "bpp": [], **{m: [] for m in metrics}}
        for q in sorted({r["quality"] for r in mine}):
            at = [r for r in mine if r["quality"] == q]
            if sorted(r["image"] for r in at) != images:
                continue
            curve["quality"].append(q)
            curve["bpp"].append(float(np.mean([r["bpp"] for r in at])))
            for m in metrics:
                vals = [r[m] for r in at]
                curve[m].append(None if any(v is None for v in vals) else float(np.mean(vals)))
        out[codec] = curve
    return out


def monotonic(points: list[tuple[float, float]]) -> bool:
    """True when quality strictly increases with rate: a curve BD-rate can be computed on.

    Re-encoding a JPEG source at its own quality, for one, gives a point far above its neighbours.
    """
    q = [v for _, v in sorted(points)]
    return len(q) >= 2 and all(b > a for a, b in zip(q, q[1:], strict=False))


def bd_table(curves: dict[str, dict[str, list]], references: list[str], metrics: list[str]) -> dict:
    """BD-rate (%) of every codec's curve against each reference codec's curve, per metric; None where undefined
    (fewer than 2 points, no overlap, or a curve whose quality does not increase with rate)."""
    from omnicodec.metrics.bdrate import bd_rate

    table: dict[str, dict[str, float | None]] = {}
    for codec, c in curves.items():
        row: dict[str, float | None] = {}
        for ref in references:
            if ref not in curves:
                continue
            for m in metrics:
                a, t = curves[ref], c
                try:
                    pa = [(b, v) for b, v in zip(a["bpp"], a[m], strict=True) if v is not None]
                    pt = [(b, v) for b, v in zip(t["bpp"], t[m], strict=True) if v is not None]
                    ok = monotonic(pa) and monotonic(pt)
                    row[f"vs {ref} {m}"] = bd_rate(*zip(*pa, strict=True), *zip(*pt, strict=True)) if ok else None
                except (ValueError, TypeError):
                    row[f"vs {ref} {m}"] = None  # too few points, no overlap, or non-monotonic
        table[codec] = row
    return table


def fmt(x, spec: str = ".2f") -> str:
    return "n/a" if x is None else format(x, spec)


def pct(x) -> str:
    """A BD-rate for a table: ``+12.3 %`` or ``n/a``."""
    return "n/a" if x is None else f"{x:+.1f} %"


def print_bd(table: dict, title: str) -> None:
    cols = sorted({k for row in table.values() for k in row}, key=lambda k: (k.split()[1], k))
    if not cols:
        return
    width = max(len(c) for c in cols) + 2
    print(f"\n{title}")
    print(f"{'codec':<18}" + "".join(f"{c:>{width}}" for c in cols))
    for codec, row in table.items():
        print(f"{codec:<18}" + "".join(f"{pct(row.get(c)):>{width}}" for c in cols))


def versions() -> dict:
    import omnicodec

    v = {"omnicodec": omnicodec.__version__, "python": platform.python_version(), "numpy": np.__version__}
    try:
        import torch

        v["torch"] = torch.__version__
    except ImportError:
        pass
    return {**v, **anchors.anchor_versions()}


def resolve_images(args) -> list[Path]:
    if args.images:
        paths = []
        for pattern in args.images:
            hits = sorted(glob.glob(pattern))
            if not hits:
                raise SystemExit(f"bench_image: no file matches {pattern!r}")
            paths += [Path(h) for h in hits]
        return paths
    if not KODAK.is_dir():
        raise SystemExit(f"bench_image: Kodak not found at {KODAK} (set OMNICODEC_SHARED_DATA or pass --images)")
    paths = sorted(KODAK.glob("kodim*.png"))
    if args.quick:
        paths = [p for p in paths if p.stem in QUICK]
    return paths


def plot(curves: dict, path: Path, title: str, with_references: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for ax, m, label in ((axes[0], "psnr_rgb", "PSNR-RGB (dB)"), (axes[1], "psnr_y", "PSNR-Y BT.709 (dB)")):
        for i, (codec, c) in enumerate(curves.items()):
            style = "o-" if codec in OURS else "s--"
            pts = [(b, v) for b, v in zip(c["bpp"], c[m], strict=True) if v is not None]
            if pts:
                ax.plot(*zip(*pts, strict=True), style, color=f"C{i}", label=codec, lw=2 if codec in OURS else 1.2)
        if with_references and m == "psnr_rgb":
            for j, (name, (b, p)) in enumerate(REFERENCES.items()):
                ax.plot(b, p, ":", marker="x", color=f"C{7 + j}", alpha=0.7, label=f"{name} (published)")
        ax.set_xlabel("bits per pixel (mean over images)")
        ax.set_ylabel(f"mean {label}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help=f"four Kodak images ({', '.join(QUICK)})")
    g.add_argument("--images", nargs="+", metavar="PATH", help="image files or globs instead of Kodak")
    p.add_argument("--codecs", nargs="+", metavar="NAME",
                   help=f"codecs to run (default: image {' '.join(anchors.ANCHORS)}; also: "
                        f"{' '.join(anchors.EXTRA_ANCHORS)})")
    p.add_argument("--rates", nargs="+", type=int, default=DEFAULT_RATES, help="rates of our codec (default 1..8)")
    p.add_argument("--qualities", nargs="+", metavar="NAME=Q,...", help="anchor qualities, e.g. jpeg=10,30,50,75,90 "
                   "(default: the wider Kodak lists in KODAK_QUALITIES)")
    p.add_argument("--threads", type=int, default=1, help="torch threads for our codec (default 1)")
    p.add_argument("--json", type=Path, default=REPO / "docs" / "bench_image.json", help="JSON output path")
    p.add_argument("--plot", type=Path, default=REPO / "docs" / "rd_image.png", help="RD plot (PNG) path")
    p.add_argument("--no-plot", action="store_true", help="skip the plot")
    p.add_argument("--per-image", action="store_true", help="print every per-image row, not only the means")
    args = p.parse_args(argv)
    known = set(LEARNED) | set(ALL_ANCHORS)
    args.codecs = args.codecs or [*LEARNED, *anchors.ANCHORS]
    bad = [c for c in args.codecs if c not in known]
    if bad:
        p.error(f"unknown codec(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
    if any(r < 1 for r in args.rates):
        p.error("rates must be positive integers")
    args.qualities = {**KODAK_QUALITIES, **parse_qualities(args.qualities, known - set(OURS))}
    return args


METRICS = ["psnr_rgb", "psnr_y", "ssim_y"]


def main(argv=None) -> int:
    from omnicodec.metrics.image import psnr, psnr_y, ssim
    from omnicodec.progress import progress_bar

    args = parse_args(argv)
    paths = resolve_images(args)
    notes = []
    codecs = []
    for c in args.codecs:
        reason = learned_status(c, args.threads) if c in LEARNED else anchor_status(c)
        if reason:
            note(reason)
            notes.append(reason)
        else:
            codecs.append(c)
    if not codecs:
        raise SystemExit("bench_image: no codec to run")
    started = time.perf_counter()
    rows = []
    jobs = [(p, c, q) for p in paths for c in codecs for q in (args.rates if c in OURS else args.qualities[c])]
    images = {}
    with progress_bar(len(jobs), "bench_image", unit="run") as bar:
        for path, codec, q in jobs:
            if path not in images:
                images = {path: load_rgb(path)}  # one image in memory at a time
            img = images[path]
            r = run_codec(codec, img, q)
            h, w = img.shape[:2]
            rows.append({
                "image": path.stem, "codec": codec, "quality": q, "width": w, "height": h, "bytes": len(r.stream),
                "bpp": 8 * len(r.stream) / (h * w), "psnr_rgb": finite(psnr(img, r.decoded)),
                "psnr_y": finite(psnr_y(img, r.decoded)), "ssim_y": float(ssim(img, r.decoded)),
                "encode_s": r.encode_s, "decode_s": r.decode_s,
            })
            if codec == "hevc_intra":
                rows.append(nosei_row(rows[-1], len(anchors.strip_x265_info(r.stream))))
            bar.set_postfix_str(f"{path.stem} {codec} {q}")
            bar.update()
    elapsed = time.perf_counter() - started

    curves = mean_curves(rows, METRICS + ["encode_s", "decode_s"])
    if args.per_image:
        print(f"{'image':<10}{'codec':<18}{'q':>4}{'bpp':>9}{'PSNR':>8}{'PSNR-Y':>8}{'SSIM-Y':>8}{'enc s':>8}"
              f"{'dec s':>8}")
        for r in rows:
            print(f"{r['image']:<10}{r['codec']:<18}{r['quality']:>4}{r['bpp']:>9.4f}{fmt(r['psnr_rgb']):>8}"
                  f"{fmt(r['psnr_y']):>8}{r['ssim_y']:>8.4f}{r['encode_s']:>8.3f}{r['decode_s']:>8.3f}")
        print()
    print(f"means over {len(paths)} image(s):")
    print(f"{'codec':<18}{'q':>4}{'bpp':>9}{'PSNR':>8}{'PSNR-Y':>8}{'SSIM-Y':>8}{'enc s':>8}{'dec s':>8}")
    for codec, c in curves.items():
        for i, q in enumerate(c["quality"]):
            print(f"{codec:<18}{q:>4}{c['bpp'][i]:>9.4f}{fmt(c['psnr_rgb'][i]):>8}{fmt(c['psnr_y'][i]):>8}"
                  f"{fmt(c['ssim_y'][i], '.4f'):>8}{c['encode_s'][i]:>8.3f}{c['decode_s'][i]:>8.3f}")
    bd = bd_table(curves, ["jpeg", "hevc_intra", NOSEI], ["psnr_rgb", "psnr_y"])
    print_bd(bd, "BD-rate (PCHIP) between curves of mean bpp vs mean PSNR over the images; negative = fewer bits")

    full_kodak = not args.images and not args.quick
    result = {
        "bench": "image", "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)]),
        "images": [p.name for p in paths], "codecs": codecs, "rates": args.rates, "threads": args.threads,
        "notes": notes, "seconds": elapsed, "versions": versions(),
        "averaging": "curves of mean bpp vs mean PSNR over the images at each quality point; BD-rate between them",
        "curves": curves, "bd_rate": bd, "rows": rows,
        "references": {k: {"bpp": b, "psnr_rgb": p} for k, (b, p) in REFERENCES.items()} if full_kodak else {},
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {args.json}", end="")
    if not args.no_plot:
        what = "Kodak (24)" if full_kodak else f"{len(paths)} image(s)"
        plot(curves, args.plot, f"{what}: mean RD curves", full_kodak)
        print(f", {args.plot}", end="")
    print(f" ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
