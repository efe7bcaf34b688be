"""Rate-distortion benchmark on light fields: our `lightfield` codec against x265 pseudo-video, x265 all-intra, JPEG.

Usage: python tools/bench_lightfield.py [--fields antinous lytro_2067 | --sample] [--codecs NAME ...] [--rates R ...]
       [--qualities NAME=Q,Q,... ...] [--threads 1] [--json docs/bench_lightfield.json] [--plot docs/rd_lightfield.png]
       [--no-plot]

Light fields (evaluation only: the bench reads them, nothing trains on them; ``../shared/data/lightfield`` or
``$OMNICODEC_SHARED_DATA/lightfield``):

* ``antinous``: HCI, 9x9 views of 512x512;
* ``lytro_2067``: Lytro, 9x9 views of 552x383. x265 needs even sizes, so every codec, ours included, is run and
  scored on the even-cropped field ``crop_even(views)`` = 552x382 (the last pixel row dropped): all rows of a field
  share one reference, the one the reference figures below use.
``--sample``: the project's ``datasets/samples/lightfield_layers`` (5x5 views of 192x192) for a quick run.

Codecs (``--codecs``; default all): ``lightfield`` (ours, ``omnicodec.compress(LightField(views), codec="lightfield",
rate=R)`` for R in ``--rates``, default 1..7), ``lightfield_sparse2`` (ours in the sparse-view mode, ``sparse=2``:
only the views of every other row and column are coded and the decoder synthesises the rest) and the anchors of
``tools/lightfield_anchors.py`` at ``LF_BENCH_QUALITIES`` (pseudo-video also at QP 47: our codec reaches about
0.002 bpp), or ``--qualities``: ``hevc_pseudo`` (serpentine pseudo-video, one GOP), ``hevc_intra`` (every view an
x265 intra frame), ``jpeg`` (every view a JPEG). x265 streams keep their informational SEI, as the reference
figures count it.

Per (field, codec, quality), a child process loads the field, warms the codec up on 2x2 views of 64x64 (libraries,
model), then encodes and decodes it once: bytes, ``encode_s`` and ``decode_s`` (wall clock; for the anchors, which
code and decode in one call, ``decode_s`` times a second, separate decode of the stream and ``encode_s`` is the
call's time less it), ``peak_mb`` = the child's peak resident set (``VmHWM``, MiB: interpreter, numpy, the loaded
field, for ours torch and the model) and ``base_mb`` = the same before the warm-up. The parent scores the decoded
views: bpp = 8 bytes / (U V H W) over all views, mean over views of PSNR-Y, SSIM-Y and RGB PSNR
(``omnicodec.metrics.lightfield``).

Sparse-view mode: every row of ours also stores ``psnr_y_held_out`` / ``ssim_y_held_out``, the means over the views
``sparse=2`` does not code (synthesised by that mode, coded by ``lightfield``); ``sparse_mode`` sets each sparse row's
synthesised-view PSNR-Y against the same views coded by ``lightfield`` at the same bpp (its curve interpolated in
log bpp), the view-synthesis quality at equal bits.

BD-rates (mean PSNR-Y, PCHIP, ``omnicodec.metrics.bdrate``), per field, of every codec against ``hevc_pseudo``,
``hevc_intra`` and, where quoted, the x265 3.5 reference curve. ``bd_rate`` integrates over the PSNR-Y range where
both curves overlap only; that range is stored beside each value. A curve whose PSNR-Y does not increase with rate,
or pairs without overlap, give None and a note.

Reference figures (GUIDE, quoted, not measured here; mean PSNR-Y):

* x265 3.5 pseudo-video, QP 22/27/32/37: antinous 0.03256/0.01621/0.00884/0.00534 bpp at 44.48/42.32/40.05/37.70 dB;
  lytro_2067 (552x382) 0.12686/0.05260/0.01794/0.00702 bpp at 41.24/38.40/35.39/32.90 dB.
* JPEG Pleno 4D transform mode (JPLM reference software): BD-rate +165 % (antinous) and +12.5 % (lytro_2067)
  against x265 pseudo-video.

Targets (printed, stored with ``met``): ``lightfield`` BD-rate vs ``hevc_pseudo`` <= -20 % on antinous and <= 0 % on
lytro_2067; vs ``hevc_intra`` <= -85 % on both; on antinous (9x9x512x512), at every rate run, decode <= 10 s,
encode <= 60 s and peak <= 3 GiB (3072 MiB). ``met`` is None when not measured or undefined.

JSON: fields, codecs, rates, qualities, every row, ``sparse_mode``, ``bd_rate_psnr_y`` {field: {codec: {"vs REF": %}}},
``bd_overlap_psnr_y`` (same keys: [low, high] dB), ``reference``, ``targets``, notes, command, versions.
Plot: mean PSNR-Y against bpp (log scale), one panel per field, every codec and the x265 3.5 reference points.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from tools import anchors  # noqa: E402
from tools.bench_erp import _peak_mb  # noqa: E402
from tools.bench_image import DATA, finite, fmt, monotonic, note, parse_qualities, pct, versions  # noqa: E402
from tools.lightfield_anchors import LF_ANCHORS, LF_BENCH_QUALITIES, crop_even  # noqa: E402

FIELDS = {
    "antinous": {"path": "lightfield/antinous", "stored": "9x9 views of 512x512"},
    "lytro_2067": {"path": "lightfield/lytro_2067", "stored": "9x9 views of 552x383, scored at 552x382"},
}
SAMPLE = {"lightfield_layers": {"path": str(REPO / "datasets" / "samples" / "lightfield_layers"),
                                "stored": "5x5 views of 192x192"}}
OURS = "lightfield"
SPARSE = "lightfield_sparse2"
OUR_OPTIONS = {OURS: {}, SPARSE: {"sparse": 2}}  # ours, and its sparse-view mode (every other row and column coded)
DEFAULT_CODECS = [OURS, SPARSE, "hevc_pseudo", "hevc_intra", "jpeg"]
DEFAULT_RATES = list(range(1, 8))
DEFAULT_QUALITIES = {**LF_BENCH_QUALITIES, "hevc_pseudo": sorted({*LF_BENCH_QUALITIES["hevc_pseudo"], 47})}
X265_REF = "x265_3.5_ref"
REFERENCE = {
    "source": "GUIDE (quoted, not measured here)",
    X265_REF: {  # x265 3.5 pseudo-video, QP 22/27/32/37: (bpp, mean PSNR-Y dB)
        "antinous": {"qp": [22, 27, 32, 37], "bpp": [0.03256, 0.01621, 0.00884, 0.00534],
                     "psnr_y": [44.48, 42.32, 40.05, 37.70]},
        "lytro_2067": {"qp": [22, 27, 32, 37], "bpp": [0.12686, 0.05260, 0.01794, 0.00702],
                       "psnr_y": [41.24, 38.40, 35.39, 32.90]},
    },
    "jplm_4d_transform_bd_rate_vs_x265_pseudo_pct": {"antinous": 165.0, "lytro_2067": 12.5},
}
REFERENCES = ["hevc_pseudo", "hevc_intra", X265_REF]
# (field, reference, limit %) for our BD-rate; (what, limit) for the antinous rows' worst case
BD_TARGETS = [("antinous", "hevc_pseudo", -20.0), ("lytro_2067", "hevc_pseudo", 0.0),
              ("antinous", "hevc_intra", -85.0), ("lytro_2067", "hevc_intra", -85.0)]
RUN_TARGETS = [("decode_s", 10.0), ("encode_s", 60.0), ("peak_mb", 3072.0)]
WARMUP = (2, 2, 64, 64)
CHILD_TIMEOUT_S = 3600


def load_field(spec: dict) -> np.ndarray:
    """(U, V, H, W, 3) uint8 views of a light-field folder, cropped to even H and W (:func:`crop_even`)."""
    from omnicodec.io.lightfield import read_lightfield_folder

    path = Path(spec["path"]) if Path(spec["path"]).is_absolute() else DATA / spec["path"]
    if not path.is_dir():
        raise SystemExit(f"bench_lightfield: {path} not found (set OMNICODEC_SHARED_DATA)")
    return np.ascontiguousarray(crop_even(np.asarray(read_lightfield_folder(path).views)))


def _decode_anchor(codec: str, stream: bytes, shape: tuple[int, ...]) -> None:
    """Decode an anchor's stream again (only to time the decoder)."""
    u, v, h, w = shape[:4]
    if codec.startswith("hevc"):
        frames = anchors.hevc_decode_frames(stream, h, w)
    else:  # JPEG files joined: split where an end of image meets the next start of image
        parts = stream.split(b"\xff\xd9\xff\xd8")
        frames = [anchors._pil_decode(b"\xff\xd8" * (i > 0) + p + b"\xff\xd9" * (i < len(parts) - 1))
                  for i, p in enumerate(parts)]
    if len(frames) != u * v:
        raise anchors.AnchorError(f"{codec}: decoded {len(frames)} views, expected {u * v}")


def code(codec: str, views: np.ndarray, quality: int) -> tuple[bytes, np.ndarray, float, float]:
    """(stream, decoded views, encode seconds, decode seconds) of one codec at one rate or quality."""
    t0 = time.perf_counter()
    if codec in OUR_OPTIONS:
        import omnicodec

        stream = omnicodec.compress(omnicodec.LightField(views), codec=OURS, rate=quality, **OUR_OPTIONS[codec])
        t1 = time.perf_counter()
        decoded = np.asarray(omnicodec.decompress(stream).views)
        return stream, decoded, t1 - t0, time.perf_counter() - t1
    stream, decoded = LF_ANCHORS[codec][0](views, quality)
    t1 = time.perf_counter()
    _decode_anchor(codec, stream, views.shape)
    dec_s = time.perf_counter() - t1
    return stream, decoded, max(t1 - t0 - dec_s, 0.0), dec_s


def worker(job: dict) -> dict:
    """Child process: load the field, warm up on a crop, encode + decode once; save the decoded views."""
    if job["codec"] in OUR_OPTIONS:
        import torch

        torch.set_num_threads(job["threads"])
    views = load_field(job["field"])
    base = _peak_mb()
    u, v, h, w = WARMUP
    code(job["codec"], np.ascontiguousarray(views[:u, :v, :h, :w]), job["quality"])
    stream, decoded, enc_s, dec_s = code(job["codec"], views, job["quality"])
    peak = _peak_mb()
    if decoded.shape != views.shape or decoded.dtype != np.uint8:
        raise RuntimeError(f"decoded {decoded.dtype} {decoded.shape}, not uint8 {views.shape}")
    np.save(Path(job["out"]) / "decoded.npy", decoded)
    return {"bytes": len(stream), "encode_s": enc_s, "decode_s": dec_s, "peak_mb": peak, "base_mb": base}


def run_child(job: dict, tmp: Path) -> tuple[dict, np.ndarray]:
    """One (field, codec, quality) in a fresh interpreter; (its report, the decoded views)."""
    job = {**job, "out": str(tmp)}
    env = {**os.environ, "OMP_NUM_THREADS": str(job["threads"]), "MKL_NUM_THREADS": str(job["threads"])}
    r = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(job)],
                       capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT_S)
    if r.returncode:
        last = (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[-1]
        raise RuntimeError(f"{job['codec']} q{job['quality']}: {last}")
    decoded = np.load(tmp / "decoded.npy")
    (tmp / "decoded.npy").unlink()
    return json.loads(r.stdout.strip().splitlines()[-1]), decoded


def bd_tables(rows: list[dict], fields: list[str], codecs: list[str]) -> tuple[dict, dict, list[str]]:
    """PSNR-Y BD-rates {field: {codec: {"vs REF": % or None}}}, their overlap ranges (dB), and notes."""
    from omnicodec.errors import InputError
    from omnicodec.metrics.bdrate import bd_rate

    notes: list[str] = []

    def curve(field, codec):
        if codec == X265_REF:
            ref = REFERENCE[X265_REF].get(field)
            return (ref["bpp"], ref["psnr_y"]) if ref else None
        pts = sorted((r["bpp"], r["psnr_y"]) for r in rows
                     if r["field"] == field and r["codec"] == codec and r["psnr_y"] is not None)
        if len(pts) < 2:
            msg = f"{field} {codec}: {len(pts)} point(s); at least 2 are needed for a BD-rate"
            if pts and msg not in notes:
                notes.append(msg)
            return None
        if not monotonic(pts):
            msg = (f"{field} {codec}: PSNR-Y does not increase with rate ({', '.join(f'{q:.2f}' for _, q in pts)} dB "
                   "by rising bpp); its BD-rates are None")
            if msg not in notes:
                notes.append(msg)
            return None
        return tuple(zip(*pts, strict=True))

    bd: dict = {}
    overlap: dict = {}
    for field in fields:
        bd[field], overlap[field] = {}, {}
        for c in codecs:
            for ref in REFERENCES:
                if ref == c or (ref not in codecs if ref != X265_REF else field not in REFERENCE[X265_REF]):
                    continue
                a, t = curve(field, ref), curve(field, c)
                key, value, span = f"vs {ref}", None, None
                if a and t:
                    span = [max(min(a[1]), min(t[1])), min(max(a[1]), max(t[1]))]
                    try:
                        value = bd_rate(*a, *t)
                    except InputError as e:
                        notes.append(f"{field} {c} vs {ref}: no BD-rate ({e})")
                        span = None
                bd[field].setdefault(c, {})[key] = value
                overlap[field].setdefault(c, {})[key] = span
    return bd, overlap, notes


def held_out(u: int, v: int) -> np.ndarray:
    """``(U, V)`` bool: the views that the sparse-view mode (``sparse=2``) does not code."""
    from omnicodec.lightfield.codec import coded_mask

    return ~coded_mask(u, v, 2)


def sparse_comparison(rows: list[dict], fields: list[str]) -> list[dict]:
    """Per sparse-mode row: its synthesised views' mean PSNR-Y against the same views coded by ``lightfield`` at
    the same bpp (the all-views curve interpolated in log bpp; None outside its range), and both curves' all-view
    PSNR-Y at that bpp."""
    out = []
    for field in fields:
        full = sorted((r["bpp"], r["psnr_y_held_out"], r["psnr_y"]) for r in rows
                      if r["field"] == field and r["codec"] == OURS and r["psnr_y_held_out"] is not None)
        for r in (r for r in rows if r["field"] == field and r["codec"] == SPARSE):
            at = {"held_out": None, "all": None}
            if len(full) >= 2 and full[0][0] <= r["bpp"] <= full[-1][0]:
                x = np.log([f[0] for f in full])
                at = {"held_out": float(np.interp(np.log(r["bpp"]), x, [f[1] for f in full])),
                      "all": float(np.interp(np.log(r["bpp"]), x, [f[2] for f in full]))}
            out.append({"field": field, "rate": r["quality"], "bpp": r["bpp"],
                        "synthesised_psnr_y": r["psnr_y_held_out"], "synthesised_ssim_y": r["ssim_y_held_out"],
                        "all_views_psnr_y": r["psnr_y"],
                        "coded_at_equal_bpp_psnr_y": at["held_out"], "coded_at_equal_bpp_all_views_psnr_y": at["all"]})
    return out


def print_sparse(sparse: list[dict]) -> None:
    if not sparse:
        return
    print(f"\nSparse-view mode ({SPARSE}) against coding all views ({OURS}) at the same bpp (interpolated in log bpp)")
    print(f"{'field':<14}{'rate':>5}{'bpp':>9}{'synth PSNR-Y':>14}{'coded, same bpp':>17}{'all views':>11}"
          f"{'all, coded':>12}")
    for s in sparse:
        print(f"{s['field']:<14}{s['rate']:>5}{s['bpp']:>9.5f}{fmt(s['synthesised_psnr_y']):>14}"
              f"{fmt(s['coded_at_equal_bpp_psnr_y']):>17}{fmt(s['all_views_psnr_y']):>11}"
              f"{fmt(s['coded_at_equal_bpp_all_views_psnr_y']):>12}")


def check_targets(rows: list[dict], bd: dict) -> list[dict]:
    out = []
    for field, ref, limit in BD_TARGETS:
        value = bd.get(field, {}).get(OURS, {}).get(f"vs {ref}")
        out.append({"target": f"{field}: {OURS} BD-rate PSNR-Y vs {ref} <= {limit:+.0f} %", "value": value,
                    "limit": limit, "met": None if value is None else value <= limit})
    mine = [r for r in rows if r["field"] == "antinous" and r["codec"] == OURS]
    for key, limit in RUN_TARGETS:
        worst = max(mine, key=lambda r, k=key: r[k]) if mine else None
        value = worst[key] if worst else None
        out.append({"target": f"antinous 9x9x512x512: {OURS} {key} <= {limit:g} at every rate", "value": value,
                    "rate": worst["quality"] if worst else None, "limit": limit,
                    "met": None if value is None else value <= limit})
    return out


def print_rows(rows: list[dict]) -> None:
    print(f"{'field':<18}{'codec':<12}{'q':>4}{'bpp':>9}{'PSNR-Y':>8}{'SSIM-Y':>8}{'PSNR-RGB':>9}{'enc s':>8}"
          f"{'dec s':>7}{'peak MB':>9}{'base MB':>9}")
    for r in rows:
        print(f"{r['field']:<18}{r['codec']:<12}{r['quality']:>4}{r['bpp']:>9.5f}{fmt(r['psnr_y']):>8}"
              f"{fmt(r['ssim_y'], '.4f'):>8}{fmt(r['psnr_rgb']):>9}{r['encode_s']:>8.2f}{r['decode_s']:>7.2f}"
              f"{r['peak_mb']:>9.0f}{r['base_mb']:>9.0f}")


def print_bd(bd: dict, overlap: dict) -> None:
    print("\nBD-rate, mean PSNR-Y (PCHIP, over the overlapping PSNR-Y range [dB]); negative = fewer bits")
    for field, table in bd.items():
        cols = list(dict.fromkeys(k for row in table.values() for k in row))
        if not cols:
            continue
        print(f"{field:<18}" + "".join(f"{c:>30}" for c in cols))
        for codec, row in table.items():
            cells = []
            for c in cols:
                span = overlap[field][codec].get(c)
                cells.append("" if c not in row else pct(row[c]) + (f" [{span[0]:.1f}-{span[1]:.1f}]" if span else ""))
            print(f"  {codec:<16}" + "".join(f"{s:>30}" for s in cells))


def print_targets(targets: list[dict]) -> None:
    print("\nTargets")
    for t in targets:
        state = {True: "met", False: "NOT met", None: "n/a (not measured or undefined)"}[t["met"]]
        value = "" if t["value"] is None else f" ({t['value']:+.1f} %)" if "BD" in t["target"] else \
            f" ({t['value']:.1f} at rate {t['rate']})"
        print(f"  {t['target']}: {state}{value}")


def plot(rows: list[dict], fields: list[str], codecs: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    fig, axes = plt.subplots(1, len(fields), figsize=(5.6 * len(fields), 4.4), squeeze=False)
    for ax, field in zip(axes[0], fields, strict=True):
        for i, codec in enumerate(codecs):
            pts = sorted((r["bpp"], r["psnr_y"]) for r in rows
                         if r["field"] == field and r["codec"] == codec and r["psnr_y"] is not None)
            if pts:
                ax.plot(*zip(*pts, strict=True), "o-" if codec in OUR_OPTIONS else "s--", color=f"C{i}",
                        label=codec, lw=2 if codec in OUR_OPTIONS else 1.2)
        ref = REFERENCE[X265_REF].get(field)
        if ref:
            ax.plot(ref["bpp"], ref["psnr_y"], "kx", label="x265 3.5 pseudo-video (reference)")
        size = next((f"{r['views'][0]}x{r['views'][1]}x{r['width']}x{r['height']}" for r in rows
                     if r["field"] == field), "")
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_title(f"{field} {size}")
        ax.set_xlabel("bits per pixel (all views)")
        ax.set_ylabel("mean PSNR-Y (dB)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def available(codecs: list[str]) -> tuple[list[str], list[str]]:
    """The codecs that can run here, and a note for each one that cannot."""
    ok, notes = [], []
    for c in codecs:
        try:
            if c in OUR_OPTIONS:
                from omnicodec.codecs import get_codec

                get_codec(OURS, "lightfield")
            else:
                probe = np.full((1, 2, 64, 64, 3), 128, np.uint8)
                LF_ANCHORS[c][0](probe, DEFAULT_QUALITIES[c][-1])
        except Exception as e:  # noqa: BLE001 - a missing library or codec is reported, not fatal
            msg = f"{c} skipped: {type(e).__name__}: {e}"
            note(msg)
            notes.append(msg)
        else:
            ok.append(c)
    return ok, notes


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--fields", nargs="+", choices=list(FIELDS), help="light fields (default: all)")
    which.add_argument("--sample", action="store_true", help="the 5x5 sample light field only (quick)")
    p.add_argument("--codecs", nargs="+", choices=DEFAULT_CODECS, help="codecs to run (default: all)")
    p.add_argument("--rates", nargs="+", type=int, default=DEFAULT_RATES, help="rates of our codec (default 1..7)")
    p.add_argument("--qualities", nargs="+", metavar="NAME=Q,...",
                   help="anchor qualities, e.g. hevc_pseudo=22,27,32,37 (default: LF_BENCH_QUALITIES, pseudo-video "
                        "also QP 47)")
    p.add_argument("--threads", type=int, default=1, help="threads of our codec (torch; default 1)")
    p.add_argument("--json", type=Path, default=REPO / "docs" / "bench_lightfield.json", help="JSON output path")
    p.add_argument("--plot", type=Path, default=REPO / "docs" / "rd_lightfield.png", help="RD plot (PNG) path")
    p.add_argument("--no-plot", action="store_true", help="skip the plot")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if any(r < 1 or r > 8 for r in args.rates):
        p.error("rates must be integers from 1 to 8")
    args.qualities = {**DEFAULT_QUALITIES, **parse_qualities(args.qualities, set(LF_ANCHORS))}
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    from omnicodec.metrics.lightfield import lightfield_quality
    from omnicodec.progress import progress_bar

    started = time.perf_counter()
    command = " ".join([Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)])
    specs = SAMPLE if args.sample else {f: FIELDS[f] for f in args.fields or FIELDS}
    fields = list(specs)
    codecs, notes = available(args.codecs or DEFAULT_CODECS)
    if not codecs:
        raise SystemExit("bench_lightfield: no codec to run")
    jobs = [(f, c, q) for f in fields for c in codecs
            for q in (args.rates if c in OUR_OPTIONS else args.qualities[c])]
    rows, skip, shapes = [], set(), {}
    with progress_bar(len(jobs), "bench_lightfield", unit="run") as bar, \
            tempfile.TemporaryDirectory(prefix="bench-lf-") as tmp:
        ref, ref_name = None, None
        for field, codec, q in jobs:
            bar.update()
            if (field, codec) in skip:
                continue
            if ref_name != field:
                ref, ref_name = load_field(specs[field]), field
                shapes[field] = list(ref.shape[:4])
            try:
                rep, dec = run_child({"field": specs[field], "codec": codec, "quality": q, "threads": args.threads},
                                     Path(tmp))
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                msg = f"{field} {codec}: {e}; its remaining points skipped"
                note(msg)
                notes.append(msg)
                skip.add((field, codec))
                continue
            u, v, h, w = ref.shape[:4]
            quality = lightfield_quality(ref, dec)
            held = held_out(u, v)
            rows.append({
                "field": field, "codec": codec, "quality": q, "views": [u, v], "width": w, "height": h,
                "bytes": rep["bytes"], "bpp": 8 * rep["bytes"] / (u * v * h * w),
                "psnr_y": finite(quality["mean_psnr_y"]), "ssim_y": float(quality["mean_ssim_y"]),
                "psnr_rgb": finite(quality["mean_psnr_rgb"]), "encode_s": rep["encode_s"],
                "decode_s": rep["decode_s"], "peak_mb": rep["peak_mb"], "base_mb": rep["base_mb"],
                # the views the sparse-view mode does not code (synthesised there, coded by the others)
                "psnr_y_held_out": finite(float(np.mean(quality["psnr_y"][held]))) if held.any() else None,
                "ssim_y_held_out": float(np.mean(quality["ssim_y"][held])) if held.any() else None,
            })
            bar.set_postfix_str(f"{field} {codec} {q}")
    elapsed = time.perf_counter() - started

    print_rows(rows)
    bd, overlap, bd_notes = bd_tables(rows, fields, codecs)
    print_bd(bd, overlap)
    sparse = sparse_comparison(rows, fields)
    print_sparse(sparse)
    targets = check_targets(rows, bd)
    print_targets(targets)
    for n in bd_notes:
        note(n)
    notes += bd_notes
    result = {
        "bench": "lightfield", "date": datetime.datetime.now().isoformat(timespec="seconds"), "command": command,
        "fields": {f: {**specs[f], "scored_views_uvhw": shapes.get(f)} for f in fields}, "codecs": codecs,
        "rates": args.rates, "qualities": {c: args.qualities[c] for c in codecs if c not in OUR_OPTIONS},
        "threads": args.threads, "notes": notes, "seconds": elapsed, "versions": versions(),
        "scoring": "bpp = 8 bytes / (U V H W) over all views; psnr_y, ssim_y, psnr_rgb: means over the views; "
                   "lytro_2067 cropped to 552x382 for every codec",
        "memory": "peak_mb: peak RSS (VmHWM, MiB) of the child process that ran one encode + decode (after a warm-up "
                  "on 2x2 views of 64x64); base_mb: its peak before the warm-up",
        "bd_rate_psnr_y": bd, "bd_overlap_psnr_y": overlap, "sparse_mode": sparse, "reference": REFERENCE,
        "targets": targets,
        "rows": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {args.json}", end="")
    if not args.no_plot:
        plot(rows, fields, codecs, args.plot)
        print(f", {args.plot}", end="")
    print(f" ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
