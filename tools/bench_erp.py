"""Rate-distortion benchmark on 360-degree ERP panoramas: our `erp` codec, its sphere-blind core and standard codecs.

Usage: python tools/bench_erp.py [--quick] [--codecs NAME ...] [--rates R ...] [--qualities NAME=Q,Q,... ...]
                                 [--threads 1] [--json docs/bench_erp.json] [--plot docs/rd_erp.png] [--no-plot]
       python tools/bench_erp.py --large [--large-rate 3] [--codecs erp] [--threads 1]

Panoramas (evaluation only, ``../shared/data/erp``):

* ``horizonnet``: horizonnet_demo_panocontext_1024x512.png, 1024x512 as stored (lossless PNG);
* ``zind_room_17``: zind_room_17_pano_7.jpg, 2048x1024 as stored (JPEG about q95);
* ``vrview_petra``: vrview_petra.jpg, 2048x1024 as stored. It is a JPEG of about q75 (the MANIFEST suggests a 2x
  downscale before high-rate measurements). It is kept at 2048x1024: downscaling it to 1024x512 would make a second
  small indoor-sized panorama and drop the only outdoor 2k one, and a 2x downscale is only done here for 4096-wide
  sources. Read its high-rate points (HEVC QP 22, JPEG q90) with care: there the codecs spend bits reproducing the
  source's JPEG blocks; the BD-rates, taken over the overlapping quality range, are still a like-for-like comparison,
  except for JPEG itself: re-encoding at the source's own quality (q75, the same tables and 4:2:0 grid) nearly
  reproduces the source (55 dB at q75 against 48 dB at q90), so its curve is not monotonic and its BD-rates there
  are None (any such curve is left out of the BD tables, with a note).
``--quick``: horizonnet only.

Codecs (``--codecs``; default all but ``vvc_intra``): ``erp`` (ours, sphere-aware) and ``image`` (ours, the
sphere-blind core, with ``erp``'s chroma steps so that only the sphere adaptations differ),
``omnicodec.compress(ErpImage(pixels), codec=..., rate=R)`` for R in ``--rates`` (default 1..8),
each skipped with a one-line note when not registered or not runnable; the anchors of ``tools/anchors.py`` at their
default qualities (HEVC-intra QP 22/27/32/37 as GUIDE.md section 5, AVIF q 40/55/70/85, JPEG q 30/50/75/90, WebP
q 50/70/85/95) and, on request, ``vvc_intra`` (vvenc; about 10 s per 1024x512 image). With ``hevc_intra`` come rows
``hevc_intra_nosei``: the same streams less x265's informational SEI (about 2.3 kB: 0.035 bpp at 1024x512, 19 % of
the QP 37 stream; ``anchors.strip_x265_info``), which the GUIDE's figures include; BD-rates are given against both.

Measured per panorama and quality point: bytes, bpp = 8 bytes / (H W), WS-PSNR-Y (and of Cb, Cr, and their 6:1:1
combination ``(6 Y + Cb + Cr) / 8``, WS-PSNR-YUV), PSNR-Y, viewport PSNR and seam
score (``omnicodec.metrics.viewport``, imported lazily: None when it is missing or fails), SSIM-Y; and, from a child
process per (panorama, codec, quality) that loads the panorama, warms the codec up on a 64x128 crop, then encodes
and decodes it once: encode and decode wall-clock seconds, ``peak_mb`` = the child's peak resident set
(``VmHWM`` of /proc/self/status, or ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of its ffmpeg children for VVC when
larger, i.e. the peak of the largest process doing the work; it includes the Python interpreter, numpy and, for our
codecs, torch and the model)
and ``base_mb`` = the same peak just before the warm-up (interpreter, imports and the loaded panorama).
Metrics are computed in the parent from the decoded image the child saves.

BD-rates (WS-PSNR-Y, and WS-PSNR-YUV; PCHIP) of every codec against HEVC-intra (also against ``hevc_intra_nosei``
when run) and AVIF, per panorama, and their arithmetic mean over the panoramas (None when any is undefined); and
``erp`` against ``image`` (the gain of sphere awareness). JSON: every row, the BD tables, versions; plot: WS-PSNR-Y
against bpp per panorama.

``--large``: time and peak memory of our ``erp`` codec (or the ``--codecs`` given) at ``--large-rate`` on a
6656x3328 panorama made by upscaling the training panorama aframe_lake.jpg (4096x2048) with Pillow's bicubic filter,
one child process per codec as above; JSON to ``docs/bench_erp_large.json`` unless ``--json`` is given.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from tools import anchors  # noqa: E402
from tools.bench_image import (  # noqa: E402
    ALL_ANCHORS,
    DATA,
    NOSEI,
    OURS,
    default_qualities,
    finite,
    fmt,
    learned_status,
    monotonic,
    nosei_row,
    note,
    parse_qualities,
    pct,
    run_codec,
    versions,
)

PANORAMAS = {
    "horizonnet": {"path": "erp/horizonnet_demo_panocontext_1024x512.png", "size": [1024, 512]},
    "zind_room_17": {"path": "erp/zind_room_17_pano_7.jpg", "size": [2048, 1024]},
    "vrview_petra": {"path": "erp/vrview_petra.jpg", "size": [2048, 1024]},
}
LARGE = {"path": "erp/aframe_lake.jpg", "size": [6656, 3328], "resample": "bicubic"}
DEFAULT_CODECS = ["erp", "image", "hevc_intra", "avif", "jpeg", "webp"]
REFERENCES = ["hevc_intra", NOSEI, "avif"]
DEFAULT_RATES = list(range(1, 9))
CHILD_TIMEOUT_S = 3600


def load_panorama(spec: dict) -> np.ndarray:
    """(H, W, 3) uint8 RGB of ``spec["path"]`` (under the shared data folder) at ``spec["size"]`` = [W, H].

    A stored image of another size is resized: by an integer box reduction when it is an integer multiple of the
    size (the 2x downscale of 4096-wide JPEG sources), else with Pillow's ``spec["resample"]`` filter (bicubic).
    """
    from PIL import Image

    path = Path(spec["path"]) if Path(spec["path"]).is_absolute() else DATA / spec["path"]
    if not path.is_file():
        raise SystemExit(f"bench_erp: {path} not found (set OMNICODEC_SHARED_DATA)")
    w, h = spec["size"]
    with Image.open(path) as im:
        im = im.convert("RGB")
        if im.size != (w, h):
            fx, fy = im.size[0] / w, im.size[1] / h
            if fx == fy and fx == int(fx) and fx > 1:
                im = im.reduce(int(fx))
            else:
                im = im.resize((w, h), Image.Resampling.BICUBIC if spec.get("resample", "bicubic") == "bicubic"
                               else Image.Resampling.LANCZOS)
        return np.asarray(im)


def _peak_mb() -> float:
    """Peak resident set of this process or of its largest finished child (ffmpeg for VVC), MB.

    This process's own peak is read from ``VmHWM`` in /proc/self/status: ``getrusage(RUSAGE_SELF).ru_maxrss`` would
    start at the parent's peak, which Linux carries over into a child across fork and exec.
    """
    own = None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    if own is None:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def codec_options(codec: str) -> dict:
    """Options of our codecs: the sphere-blind ``image`` runs with ``erp``'s chroma steps, so that the two differ
    only in the sphere adaptations (wrap-around, latitude steps)."""
    if codec != "image":
        return {}
    from omnicodec.omni.erp_codec import ErpCodec

    return {"chroma": ErpCodec.default_chroma}


def ws_psnr_planes(ref: np.ndarray, dec: np.ndarray) -> list[float | None]:
    """WS-PSNR of BT.709 Y', Cb, Cr (8-bit full range) and their 6:1:1 combination ``(6 Y + Cb + Cr) / 8``."""
    from omnicodec.metrics.sphere import ws_psnr_per_channel

    a = np.stack(anchors.rgb_to_ycbcr(ref), axis=2).astype(np.float64)
    b = np.stack(anchors.rgb_to_ycbcr(dec), axis=2).astype(np.float64)
    y, cb, cr = (finite(v) for v in ws_psnr_per_channel(a, b))
    return [y, cb, cr, None if None in (y, cb, cr) else (6 * y + cb + cr) / 8]


def worker(job: dict) -> dict:
    """Child process: load the panorama, warm up, encode + decode once; save the decoded image; times and memory."""
    if job["codec"] in OURS:
        import torch

        torch.set_num_threads(job["threads"])
    img = load_panorama(job["source"])
    base = _peak_mb()
    options = job.get("options", {})
    run_codec(job["codec"], np.ascontiguousarray(img[:64, :128]), job["quality"], **options)  # warm-up
    r = run_codec(job["codec"], img, job["quality"], **options)
    peak = _peak_mb()
    np.save(Path(job["out"]) / "decoded.npy", r.decoded)
    extra = {"bytes_nosei": len(anchors.strip_x265_info(r.stream))} if job["codec"] == "hevc_intra" else {}
    return {**extra, "bytes": len(r.stream), "encode_s": r.encode_s, "decode_s": r.decode_s, "peak_mb": peak,
            "base_mb": base}


def run_child(job: dict, tmp: Path) -> tuple[dict, np.ndarray]:
    """Run one (panorama, codec, quality) in a fresh interpreter; (its report, the decoded image)."""
    job = {**job, "out": str(tmp)}
    env = {**os.environ, "OMP_NUM_THREADS": str(job["threads"]), "MKL_NUM_THREADS": str(job["threads"])}
    r = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(job)],
                       capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT_S)
    if r.returncode:
        last = (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[-1]
        raise RuntimeError(f"{job['codec']} q{job['quality']}: {last}")
    report = json.loads(r.stdout.strip().splitlines()[-1])
    decoded = np.load(tmp / "decoded.npy")
    (tmp / "decoded.npy").unlink()
    return report, decoded


class ViewportMetrics:
    """Viewport PSNR and seam score, imported lazily; None (with one note) when missing or failing."""

    def __init__(self) -> None:
        try:
            from omnicodec.metrics.viewport import seam_score, viewport_psnr
        except ImportError as e:
            note(f"viewport metrics unavailable ({e}); their columns are None")
            self.fns = None
        else:
            self.fns = (viewport_psnr, seam_score)
        self.failed = False

    def __call__(self, ref: np.ndarray, dec: np.ndarray) -> tuple[float | None, float | None]:
        if self.fns is None or self.failed:
            return None, None
        try:
            return tuple(finite(f(ref, dec)) for f in self.fns)
        except Exception as e:  # noqa: BLE001 - a metric under construction: reported once, columns None
            note(f"viewport metrics failed ({type(e).__name__}: {e}); their columns are None")
            self.failed = True
            return None, None


def bd_per_panorama(rows: list[dict], panoramas: list[str], codecs: list[str], key: str = "ws_psnr_y") -> dict:
    """BD-rates of the quality ``key`` (WS-PSNR-Y unless given), {panorama or "mean": {codec: {"vs REF": %}}}, plus
    ours vs the sphere-blind core; and notes on the curves left out (quality not increasing with rate)."""
    from omnicodec.metrics.bdrate import bd_rate

    notes = []

    def curve(pano, codec):
        pts = sorted((r["bpp"], r[key]) for r in rows
                     if r["panorama"] == pano and r["codec"] == codec and r.get(key) is not None)
        if len(pts) >= 2 and not monotonic(pts):
            msg = (f"{pano} {codec}: {key} does not increase with rate ({', '.join(f'{v:.2f}' for _, v in pts)}"
                   " dB by rising bpp); its BD-rates are None")
            if msg not in notes:
                notes.append(msg)
            return None
        return list(zip(*pts, strict=True)) if len(pts) >= 2 else None

    codecs = [*codecs, NOSEI] if "hevc_intra" in codecs else codecs
    pairs = [(c, ref) for c in codecs for ref in REFERENCES if ref in codecs]
    if "erp" in codecs and "image" in codecs:
        pairs.append(("erp", "image"))
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for pano in panoramas:
        out[pano] = {}
        for c, ref in pairs:
            a, t = curve(pano, ref), curve(pano, c)
            try:
                value = bd_rate(*a, *t) if a and t else None
            except ValueError:  # no overlap, repeated quality
                value = None
            out[pano].setdefault(c, {})[f"vs {ref}"] = value
    out["mean"] = {}
    for c, ref in pairs:
        vals = [out[p][c][f"vs {ref}"] for p in panoramas]
        out["mean"].setdefault(c, {})[f"vs {ref}"] = None if None in vals else float(np.mean(vals))
    return out, notes


def print_rows(rows: list[dict]) -> None:
    head = (f"{'panorama':<14}{'codec':<18}{'q':>4}{'bpp':>8}{'WS-Y':>7}{'PSNR-Y':>8}{'VP':>7}{'seam':>7}{'SSIM-Y':>8}"
            f"{'enc s':>8}{'dec s':>7}{'peak MB':>9}{'base MB':>9}")
    print(head)
    for r in rows:
        print(f"{r['panorama']:<14}{r['codec']:<18}{r['quality']:>4}{r['bpp']:>8.4f}{fmt(r['ws_psnr_y']):>7}"
              f"{fmt(r['psnr_y']):>8}{fmt(r['viewport_psnr']):>7}{fmt(r['seam_score'], '+.2f'):>7}"
              f"{fmt(r['ssim_y'], '.4f'):>8}{r['encode_s']:>8.2f}{r['decode_s']:>7.2f}{r['peak_mb']:>9.0f}"
              f"{r['base_mb']:>9.0f}")


def print_bd(bd: dict, metric: str = "WS-PSNR-Y") -> None:
    print(f"\nBD-rate, {metric} (PCHIP, per panorama; mean = arithmetic mean of the panoramas' BD-rates); "
          "negative = fewer bits")
    for pano, table in bd.items():
        cols = sorted({k for row in table.values() for k in row})
        if not cols:
            continue
        print(f"{pano:<20}" + "".join(f"{c:>22}" for c in cols))
        for codec, row in table.items():
            print(f"  {codec:<18}" + "".join(f"{pct(row.get(c)) if c in row else '':>22}"
                                             for c in cols))


def plot(rows: list[dict], panoramas: list[str], codecs: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panoramas), figsize=(5.6 * len(panoramas), 4.4), squeeze=False)
    for ax, pano in zip(axes[0], panoramas, strict=True):
        for i, codec in enumerate(codecs):
            pts = sorted((r["bpp"], r["ws_psnr_y"]) for r in rows
                         if r["panorama"] == pano and r["codec"] == codec and r["ws_psnr_y"] is not None)
            if pts:
                ax.plot(*zip(*pts, strict=True), "o-" if codec in OURS else "s--", color=f"C{i}", label=codec,
                        lw=2 if codec in OURS else 1.2)
        size = next((f"{r['width']}x{r['height']}" for r in rows if r["panorama"] == pano), "")
        ax.set_title(f"{pano} {size}")
        ax.set_xlabel("bits per pixel")
        ax.set_ylabel("WS-PSNR-Y (dB)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def available(codecs: list[str], threads: int) -> tuple[list[str], list[str]]:
    """The codecs that can run here, and a note for each one that cannot."""
    from tools.bench_image import anchor_status

    ok, notes = [], []
    for c in codecs:
        reason = learned_status(c, threads) if c in OURS else anchor_status(c)
        if reason:
            note(reason)
            notes.append(reason)
        else:
            ok.append(c)
    return ok, notes


def run_large(args) -> dict:
    """Time and peak memory of our codec(s) on the 6656x3328 upscaled panorama, one rate, one child each."""
    from omnicodec.metrics.image import psnr_y
    from omnicodec.metrics.sphere import ws_psnr

    codecs, notes = available(args.codecs or ["erp"], args.threads)
    out = {"source": LARGE, "rate": args.large_rate, "threads": args.threads, "notes": notes, "rows": []}
    if not codecs:
        return out
    ref = load_panorama(LARGE)
    h, w = ref.shape[:2]
    for codec in codecs:
        q = args.large_rate if codec in OURS else args.qualities[codec][0]
        with tempfile.TemporaryDirectory(prefix="bench-erp-") as tmp:
            try:
                rep, dec = run_child({"source": LARGE, "codec": codec, "quality": q, "threads": args.threads},
                                     Path(tmp))
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                note(f"large: {e}")
                out["notes"].append(f"large: {e}")
                continue
        row = {"codec": codec, "quality": q, "width": w, "height": h, "bpp": 8 * rep["bytes"] / (h * w), **rep,
               "ws_psnr_y": finite(ws_psnr(ref, dec)), "psnr_y": finite(psnr_y(ref, dec))}
        out["rows"].append(row)
        print(f"large {w}x{h} {codec} q{q}: {row['bpp']:.4f} bpp, WS-PSNR-Y {fmt(row['ws_psnr_y'])} dB, "
              f"encode {rep['encode_s']:.1f} s, decode {rep['decode_s']:.1f} s, peak {rep['peak_mb']:.0f} MB "
              f"(base {rep['base_mb']:.0f} MB)")
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="horizonnet only")
    p.add_argument("--codecs", nargs="+", metavar="NAME",
                   help=f"codecs to run (default: {' '.join(DEFAULT_CODECS)}; also: vvc_intra)")
    p.add_argument("--rates", nargs="+", type=int, default=DEFAULT_RATES, help="rates of our codecs (default 1..8)")
    p.add_argument("--qualities", nargs="+", metavar="NAME=Q,...",
                   help="anchor qualities, e.g. avif=30,45,60,75,90 (default: tools/anchors.py's lists)")
    p.add_argument("--threads", type=int, default=1, help="threads of our codecs (torch; default 1)")
    p.add_argument("--json", type=Path, default=REPO / "docs" / "bench_erp.json", help="JSON output path")
    p.add_argument("--plot", type=Path, default=REPO / "docs" / "rd_erp.png", help="RD plot (PNG) path")
    p.add_argument("--no-plot", action="store_true", help="skip the plot")
    p.add_argument("--large", action="store_true", help="only the 6656x3328 time and memory run")
    p.add_argument("--large-rate", type=int, default=3, help="rate of the --large run (default 3)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    known = set(OURS) | set(ALL_ANCHORS)
    bad = [c for c in args.codecs or [] if c not in known]
    if bad:
        p.error(f"unknown codec(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
    if any(r < 1 for r in args.rates) or args.large_rate < 1:
        p.error("rates must be positive integers")
    anchors_known = known - set(OURS)
    args.qualities = {**{c: default_qualities(c) for c in anchors_known},
                      **parse_qualities(args.qualities, anchors_known)}
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    from omnicodec.metrics.image import psnr_y, ssim
    from omnicodec.metrics.sphere import ws_psnr
    from omnicodec.progress import progress_bar

    started = time.perf_counter()
    command = " ".join([Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)])
    if args.large:
        result = {"bench": "erp --large", "date": datetime.datetime.now().isoformat(timespec="seconds"),
                  "command": command, "versions": versions(), **run_large(args)}
        result["seconds"] = time.perf_counter() - started
        if args.json == REPO / "docs" / "bench_erp.json":
            args.json = REPO / "docs" / "bench_erp_large.json"
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.json} ({result['seconds']:.0f} s)")
        return 0

    panoramas = ["horizonnet"] if args.quick else list(PANORAMAS)
    codecs, notes = available(args.codecs or DEFAULT_CODECS, args.threads)
    if not codecs:
        raise SystemExit("bench_erp: no codec to run")
    vp = ViewportMetrics()
    rows = []
    jobs = [(p, c, q) for p in panoramas for c in codecs for q in (args.rates if c in OURS else args.qualities[c])]
    skip = set()
    with progress_bar(len(jobs), "bench_erp", unit="run") as bar, \
            tempfile.TemporaryDirectory(prefix="bench-erp-") as tmp:
        ref, ref_name = None, None
        for pano, codec, q in jobs:
            bar.update()
            if (pano, codec) in skip:
                continue
            if ref_name != pano:
                ref, ref_name = load_panorama(PANORAMAS[pano]), pano
            job = {"source": PANORAMAS[pano], "codec": codec, "quality": q, "threads": args.threads,
                   "options": codec_options(codec)}
            try:
                rep, dec = run_child(job, Path(tmp))
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                msg = f"{pano} {codec}: {e}; its remaining points skipped"
                note(msg)
                notes.append(msg)
                skip.add((pano, codec))
                continue
            h, w = ref.shape[:2]
            vp_psnr, seam = vp(ref, dec)
            planes = ws_psnr_planes(ref, dec)
            rows.append({
                "panorama": pano, "codec": codec, "quality": q, "width": w, "height": h, "bytes": rep["bytes"],
                "bpp": 8 * rep["bytes"] / (h * w), "ws_psnr_y": finite(ws_psnr(ref, dec)),
                "ws_psnr_cb": planes[1], "ws_psnr_cr": planes[2], "ws_psnr_yuv": planes[3],
                "psnr_y": finite(psnr_y(ref, dec)), "viewport_psnr": vp_psnr, "seam_score": seam,
                "ssim_y": float(ssim(ref, dec)), "encode_s": rep["encode_s"], "decode_s": rep["decode_s"],
                "peak_mb": rep["peak_mb"], "base_mb": rep["base_mb"],
            })
            if "bytes_nosei" in rep:
                rows.append(nosei_row(rows[-1], rep["bytes_nosei"]))
            bar.set_postfix_str(f"{pano} {codec} {q}")
    elapsed = time.perf_counter() - started

    print_rows(rows)
    bd, bd_notes = bd_per_panorama(rows, panoramas, codecs)
    print_bd(bd)
    bd_yuv, yuv_notes = bd_per_panorama(rows, panoramas, codecs, "ws_psnr_yuv")
    print_bd(bd_yuv, "WS-PSNR-YUV (6 Y + Cb + Cr) / 8")
    for n in bd_notes + yuv_notes:
        note(n)
    notes += bd_notes + yuv_notes
    result = {
        "bench": "erp", "date": datetime.datetime.now().isoformat(timespec="seconds"), "command": command,
        "panoramas": {p: PANORAMAS[p] for p in panoramas}, "codecs": codecs, "rates": args.rates,
        "qualities": {c: args.qualities[c] for c in codecs if c not in OURS}, "threads": args.threads,
        "notes": notes, "seconds": elapsed, "versions": versions(),
        "memory": "peak_mb: peak RSS (VmHWM) of the child process that ran one encode + decode (after a warm-up on a "
                  "crop), or of its ffmpeg child when larger; base_mb: its peak before the warm-up",
        "bd_rate_ws_psnr_y": bd, "bd_rate_ws_psnr_yuv": bd_yuv, "rows": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {args.json}", end="")
    if not args.no_plot:
        plot(rows, panoramas, [*codecs, NOSEI] if "hevc_intra" in codecs else codecs, args.plot)
        print(f", {args.plot}", end="")
    print(f" ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
