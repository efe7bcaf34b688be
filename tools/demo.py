"""The README's first command: compress the bundled samples and check every round trip.

Usage: python tools/demo.py [--grid-step 0.001] [--json PATH] [--figures DIR] [--psnr-floor 20]

Point clouds: for each scan in datasets/samples/ (three PCL scans and a simulated 32-beam LiDAR sweep) it reads the
file, compresses it with the default codec on a 1 mm grid (the scans are in metres), decodes the stream, and checks
that every point comes back on the grid with its colour or intensity bit for bit. The table names the codec the
stream used (``learned``, or ``spin`` for the sweep).

Images: the sample panorama datasets/samples/room_panorama.png (1024x512, rendered by
``python -m datasets.synthetic_panorama``) with the sphere-aware ``erp`` codec at rates 2, 4 and 6, and a 512x384
photo-like perspective view of the same room (``datasets.synthetic_panorama.render_room_view``) with the ``image``
codec at rate 4; each is decoded and checked: same shape and dtype, and PSNR-Y (WS-PSNR-Y for the panorama) at
least ``--psnr-floor`` dB. Writes a figure (original against decoded panorama, the seam viewport, the photo) to
``--figures`` (default demo_out/ in the repository).

Light fields: the sample datasets/samples/lightfield_layers/ (5x5 views of 192x192, rendered by
``python -m datasets.lightfields --sample``) with the ``lightfield`` codec at rates 2, 4 and 6, each decoded and
checked (same shape and dtype, mean PSNR-Y over the views at least ``--psnr-floor``); a figure of the view grid,
an epipolar-plane image and a refocused image, original against decoded, goes to ``--figures``.

Prints a table for each part; exits non-zero if any round trip fails (or a model the image part needs is missing).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

import omnicodec  # noqa: E402
from omnicodec.bitstream import unpack  # noqa: E402
from omnicodec.errors import OmnicodecError  # noqa: E402
from omnicodec.metrics import psnr_y, ws_psnr  # noqa: E402
from omnicodec.omni import erp_to_viewport  # noqa: E402
from omnicodec.pointcloud.compare import same_on_grid  # noqa: E402
from omnicodec.types import ErpImage  # noqa: E402

PANORAMA = "room_panorama.png"
PANORAMA_RATES = (2, 4, 6)
PHOTO_RATE = 4
LIGHTFIELD = "lightfield_layers"
LIGHTFIELD_RATES = (2, 4, 6)
PHOTO_VIEW = {"yaw": -42.0, "pitch": -5.0, "fov_deg": 95.0, "size": (384, 512)}  # bookcase, clock and window


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=REPO / "datasets" / "samples")
    parser.add_argument("--grid-step", type=float, default=0.001, help="voxel size in metres (default 1 mm)")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write the rows as JSON: {'pointcloud': [...], 'image': [...], 'lightfield': [...]}")
    parser.add_argument("--figures", type=Path, default=REPO / "demo_out",
                        help="folder for the image figure (default demo_out/ in the repository)")
    parser.add_argument("--psnr-floor", type=float, default=20.0,
                        help="least PSNR-Y (WS-PSNR-Y for the panorama) in dB for an image round trip to pass")
    args = parser.parse_args()

    files = sorted(p for p in args.samples.iterdir() if p.suffix in (".pcd", ".ply", ".bin", ".las", ".laz"))
    if not files:
        print(f"demo: no sample scans in {args.samples}", file=sys.stderr)
        return 2
    rows = []
    print(f"omnicodec {omnicodec.__version__}: lossless compression on a {args.grid_step * 1000:g} mm grid\n")
    header = (
        f"{'input':40s} {'codec':>7s} {'points':>9s} {'attributes':>12s} {'bytes':>9s} {'bpp':>7s} {'enc s':>6s} "
        f"{'dec s':>6s}"
        "  round trip"
    )
    print(header)
    print("-" * len(header))
    for path in files:
        cloud = omnicodec.read(path)
        t0 = time.perf_counter()
        stream = omnicodec.compress(cloud, grid_step=args.grid_step)
        t1 = time.perf_counter()
        decoded = omnicodec.decompress(stream)
        t2 = time.perf_counter()
        ok = same_on_grid(cloud, decoded, args.grid_step)
        row = {
            "input": path.name,
            "codec": unpack(stream).header.codec,
            "points": len(cloud),
            "attributes": sorted(cloud.attributes),
            "bytes": len(stream),
            "bpp": 8 * len(stream) / len(cloud),
            "encode_s": t1 - t0,
            "decode_s": t2 - t1,
            "round_trip": "exact" if ok else "MISMATCH",
        }
        rows.append(row)
        print(
            f"{path.name:40s} {row['codec']:>7s} {row['points']:9d} {','.join(row['attributes']) or '-':>12s} "
            f"{row['bytes']:9d} {row['bpp']:7.3f} {row['encode_s']:6.2f} {row['decode_s']:6.2f}  {row['round_trip']}"
        )
    failed = [r for r in rows if r["round_trip"] != "exact"]
    print(f"\n{len(rows) - len(failed)}/{len(rows)} round trips exact (positions on the grid, attributes bit for bit)")
    image_rows, image_ok = image_demo(args)
    lf_rows, lf_ok = lightfield_demo(args)
    if args.json:
        args.json.write_text(json.dumps({"pointcloud": rows, "image": image_rows, "lightfield": lf_rows}, indent=2))
    return 1 if failed or not image_ok or not lf_ok else 0


def lightfield_demo(args: argparse.Namespace) -> tuple[list[dict], bool]:
    """Code the sample light field at rates 2, 4 and 6; print the table, write the figure."""
    from omnicodec.metrics.lightfield import lightfield_quality

    folder = args.samples / LIGHTFIELD
    if not folder.is_dir():
        print(f"\ndemo: no sample light field {folder} (python -m datasets.lightfields --sample {folder})",
              file=sys.stderr)
        return [], False
    lf = omnicodec.read(folder)
    u, v, h, w, _ = lf.views.shape
    print(f"\nlight-field coding; a round trip passes with the same shape and dtype and a mean PSNR-Y over the "
          f"views of at least {args.psnr_floor:g} dB\n")
    header = (f"{'input':28s} {'views':>7s} {'size':>9s} {'rate':>4s} {'bytes':>8s} {'bpp':>7s} {'PSNR-Y':>7s} "
              f"{'SSIM-Y':>7s} {'enc s':>6s} {'dec s':>6s}  round trip")
    print(header)
    print("-" * len(header))
    rows, decoded_at = [], {}
    for rate in LIGHTFIELD_RATES:
        t0 = time.perf_counter()
        try:
            stream = omnicodec.compress(lf, rate=rate)
            t1 = time.perf_counter()
            decoded = omnicodec.decompress(stream)
        except OmnicodecError as exc:
            print(f"{LIGHTFIELD:28s} {f'{u}x{v}':>7s} {f'{w}x{h}':>9s} {rate:4d}  FAILED: {exc}")
            rows.append({"input": LIGHTFIELD, "rate": rate, "round_trip": f"FAILED: {exc}"})
            continue
        t2 = time.perf_counter()
        same = decoded.views.shape == lf.views.shape and decoded.views.dtype == lf.views.dtype
        q = lightfield_quality(lf, decoded) if same else {"mean_psnr_y": float("nan"), "mean_ssim_y": float("nan")}
        verdict = "ok" if same and q["mean_psnr_y"] >= args.psnr_floor else ("MISMATCH" if not same else
                                                                             "BELOW FLOOR")
        row = {"input": LIGHTFIELD, "views": [u, v], "width": w, "height": h, "rate": rate, "bytes": len(stream),
               "bpp": 8 * len(stream) / (u * v * h * w), "psnr_y": q["mean_psnr_y"], "ssim_y": q["mean_ssim_y"],
               "encode_s": t1 - t0, "decode_s": t2 - t1, "round_trip": verdict}
        rows.append(row)
        decoded_at[rate] = decoded.views
        print(f"{LIGHTFIELD:28s} {f'{u}x{v}':>7s} {f'{w}x{h}':>9s} {rate:4d} {len(stream):8d} {row['bpp']:7.4f} "
              f"{row['psnr_y']:7.2f} {row['ssim_y']:7.4f} {row['encode_s']:6.2f} {row['decode_s']:6.2f}  {verdict}")
    passed = sum(r["round_trip"] == "ok" for r in rows)
    print(f"\n{passed}/{len(LIGHTFIELD_RATES)} light-field round trips passed")
    mid = LIGHTFIELD_RATES[len(LIGHTFIELD_RATES) // 2]
    if mid in decoded_at:
        print(f"figure: {_lightfield_figure(args.figures, lf.views, decoded_at[mid], mid)}")
    return rows, passed == len(LIGHTFIELD_RATES)


def _lightfield_figure(folder: Path, views: np.ndarray, decoded: np.ndarray, rate: int) -> Path:
    """Write ``lightfield_demo.png``: the view grid, a horizontal EPI and a refocused image, original and decoded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from omnicodec.lightfield import epi, mosaic, refocus

    fig, axes = plt.subplots(3, 2, figsize=(10, 12), gridspec_kw={"height_ratios": [2.2, 0.6, 1.1]})
    for col, (lf, what) in enumerate(((views, "original"), (decoded, f"lightfield rate {rate}, decoded"))):
        panels = [(mosaic(lf, gap=2, background=255), f"view grid, {what}"),
                  (epi(lf, stretch=8), "horizontal EPI (centre row of views)"),
                  (refocus(lf, 1.0), "refocused at disparity 1 px")]
        for row, (img, title) in enumerate(panels):
            axes[row, col].imshow(img)
            axes[row, col].set_title(title, fontsize=10)
            axes[row, col].axis("off")
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "lightfield_demo.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _code(pixels: np.ndarray, codec: str, rate: int) -> tuple[bytes, np.ndarray, float, float]:
    """(stream, decoded pixels, encode s, decode s) of one (H, W, 3) uint8 image."""
    t0 = time.perf_counter()
    stream = omnicodec.compress(ErpImage(pixels), codec=codec, rate=rate)
    t1 = time.perf_counter()
    decoded = omnicodec.decompress(stream).pixels
    return stream, decoded, t1 - t0, time.perf_counter() - t1


def image_demo(args: argparse.Namespace) -> tuple[list[dict], bool]:
    """Code the sample panorama (``erp``, rates 2, 4, 6) and a rendered photo (``image``); print the table, write
    the figure. Returns the rows and whether every round trip passed."""
    from datasets.synthetic_panorama import render_room_view

    pano_path = args.samples / PANORAMA
    if not pano_path.is_file():
        print(f"\ndemo: no sample panorama {pano_path} (python -m datasets.synthetic_panorama --out {pano_path})",
              file=sys.stderr)
        return [], False
    panorama = omnicodec.read(pano_path).pixels[:, :, :3]
    photo = render_room_view(**PHOTO_VIEW)
    jobs = [(PANORAMA, panorama, "erp", rate) for rate in PANORAMA_RATES]
    jobs.append(("room view (rendered photo)", photo, "image", PHOTO_RATE))

    print(f"\nimage coding (wavelet core, learned context tables); a round trip passes with the same shape and "
          f"dtype and at least {args.psnr_floor:g} dB\n(WS-PSNR-Y for the panorama, PSNR-Y for the photo)\n")
    header = (f"{'input':28s} {'size':>9s} {'codec':>6s} {'rate':>4s} {'bytes':>8s} {'bpp':>7s} {'PSNR-Y':>7s} "
              f"{'WS-PSNR-Y':>9s} {'enc s':>6s} {'dec s':>6s}  round trip")
    print(header)
    print("-" * len(header))
    rows, decoded_at = [], {}
    for name, pixels, codec, rate in jobs:
        h, w = pixels.shape[:2]
        try:
            stream, decoded, enc_s, dec_s = _code(pixels, codec, rate)
        except OmnicodecError as exc:  # a missing or damaged model: say which, and fail
            print(f"{name:28s} {f'{w}x{h}':>9s} {codec:>6s} {rate:4d}  FAILED: {exc}")
            rows.append({"input": name, "codec": codec, "rate": rate, "round_trip": f"FAILED: {exc}"})
            continue
        same = decoded.shape == pixels.shape and decoded.dtype == pixels.dtype
        q_y = psnr_y(pixels, decoded) if same else float("nan")
        q_ws = ws_psnr(pixels, decoded) if same and codec == "erp" else None
        passed = same and (q_ws if q_ws is not None else q_y) >= args.psnr_floor
        verdict = "ok" if passed else ("MISMATCH" if not same else "BELOW FLOOR")
        row = {"input": name, "width": w, "height": h, "codec": codec, "rate": rate, "bytes": len(stream),
               "bpp": 8 * len(stream) / (h * w), "psnr_y": q_y, "ws_psnr_y": q_ws, "encode_s": enc_s,
               "decode_s": dec_s, "round_trip": verdict}
        rows.append(row)
        decoded_at[(codec, rate)] = decoded
        ws_text = f"{q_ws:9.2f}" if q_ws is not None else f"{'-':>9s}"
        print(f"{name:28s} {f'{w}x{h}':>9s} {codec:>6s} {rate:4d} {len(stream):8d} {row['bpp']:7.4f} {q_y:7.2f} "
              f"{ws_text} {enc_s:6.2f} {dec_s:6.2f}  {verdict}")
    passed = sum(r["round_trip"] == "ok" for r in rows)
    print(f"\n{passed}/{len(jobs)} image round trips passed")
    mid = PANORAMA_RATES[len(PANORAMA_RATES) // 2]
    if ("erp", mid) in decoded_at and ("image", PHOTO_RATE) in decoded_at:
        path = _image_figure(args.figures, panorama, decoded_at[("erp", mid)], mid, photo,
                             decoded_at[("image", PHOTO_RATE)])
        print(f"figure: {path}")
    return rows, passed == len(jobs)


def _image_figure(folder: Path, panorama, pano_dec, rate, photo, photo_dec) -> Path:
    """Write ``image_demo.png``: panorama, seam viewport (yaw 180) and photo, original (left) and decoded (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seam = [erp_to_viewport(p, 180.0, 0.0, 0.0, 60.0, (320, 320), "bicubic") for p in (panorama, pano_dec)]
    panels = [
        (panorama, "panorama, original"), (pano_dec, f"panorama, erp rate {rate}, decoded"),
        (seam[0], "seam viewport (yaw 180, 60 deg), original"), (seam[1], "seam viewport, decoded"),
        (photo, "rendered photo, original"), (photo_dec, f"rendered photo, image rate {PHOTO_RATE}, decoded"),
    ]
    fig, axes = plt.subplots(3, 2, figsize=(12, 11), gridspec_kw={"height_ratios": [1, 1.6, 1.5]})
    for ax, (img, title) in zip(axes.flat, panels, strict=True):
        ax.imshow(img)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "image_demo.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


if __name__ == "__main__":
    sys.exit(main())
