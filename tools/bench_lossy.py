"""Rate-distortion benchmark of the lossy codec (codec id ``lossy``) against MPEG G-PCC v23 (GUIDE.md section 5).

Usage: python tools/bench_lossy.py [--data ../shared/data] [--inputs NAME ...] [--rates R ...] [--threads 2]
                                   [--json PATH] [--plot PATH]
       python tools/bench_lossy.py --calibrate dense|lidar     (every (shift, gain) pair on the validation sets)
       python tools/bench_lossy.py --calibrate-keep dense|lidar  (count factors of the rate points, same sets)
       python tools/bench_lossy.py --tiled 2000000 [--rates 7]   (peak memory on dense_loot tiled to 2M points)

Inputs (bpp = bits / points after the preparation; D1/D2 PSNR as MPEG pc_error, the reference's normals
estimated from the reference, peak 1023 for 10-bit clouds and 30000 for LiDAR on the 1 mm grid):

* dense_loot: 10-bit integer voxels as stored (evaluation only);
* kitti00/000005 (evaluation only) and kitti_det/000008 (unseen): metres * 1000 rounded (1 mm grid), duplicates
  merged, in the file's (the sensor's) order: at the geometry-only rate points the codec also tries ``spin`` on the
  coarsened grid and keeps the smaller stream (the ``codec`` column);
* five_people, office1 (unseen): the PCL clouds voxelised to a 10-bit grid over their bounding box.

Each input runs in its own process (peak memory = that process's ru_maxrss over all its rate points). Seconds are
the codec's compress and decompress time after a warm-up call, without reading files; the *command* seconds time
``python -m omnicodec compress --rate R`` and ``decompress`` as whole commands on the prepared cloud written as a
binary PLY (process start, imports, model loading and file I/O included). Every rate point is also
checked to round-trip: the decoded cloud has the point count the header declares. BD-rates (PCHIP, over the
overlapping PSNR range) against the G-PCC v23 octree and trisoup curves; the plot is a PNG.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from tools.bench_lossless import prepare  # noqa: E402

INPUTS = {
    "dense_loot": ("pointcloud/dense_loot/loot_vox10_patchvvc_union.ply", "grid", 1023.0),
    "kitti00/000005": ("pointcloud/lidar/kitti00/000005.bin", "mm", 30000.0),
    "kitti_det/000008": ("pointcloud/lidar/kitti_det/000008.bin", "mm", 30000.0),
    "five_people": ("pointcloud/scans/pcl_test/five_people.pcd", "vox10", 1023.0),
    "office1": ("pointcloud/scans/pcl_test/office1.pcd", "vox10", 1023.0),
}
# G-PCC v23 anchors (GUIDE.md section 5): bpp, D1 PSNR, D2 PSNR. kitti anchors are for frame 0 (frames 0-5 within 2 %).
ANCHORS = {
    "dense_loot": {
        "G-PCC v23 octree": ([0.021, 0.062, 0.195, 0.437, 0.562], [52.8, 58.4, 63.2, 68.0, 69.7],
                             [55.7, 62.2, 68.4, 73.3, 74.8]),
        "G-PCC v23 trisoup": ([0.007, 0.023, 0.076, 0.238], [56.4, 63.8, 69.6, 71.5], [58.0, 66.5, 71.6, 74.4]),
    },
    "kitti00/000005": {
        "G-PCC v23 octree": ([0.30, 0.75, 3.45, 5.89, 11.80, 14.78], [46.1, 52.1, 64.2, 70.2, 82.1, 87.8], None),
    },
}


def run_one(name: str, data: Path, rates: list[int] | None) -> dict:
    import omnicodec
    from omnicodec.bitstream import unpack
    from omnicodec.metrics import point_metrics
    from omnicodec.pointcloud.lossy_codec import choose_family, decoded_points
    from omnicodec.pointcloud.lossy_zoo import RATE_POINTS
    from omnicodec.pointcloud.octree import morton_encode
    from omnicodec.types import PointCloud

    rel, how, peak = INPUTS[name]
    q = prepare(omnicodec.read(data / rel).positions, how)
    cloud = PointCloud(q.astype(np.float64))
    probe = PointCloud(q[:3000].astype(np.float64))
    family = choose_family(np.unique(morton_encode(q)))  # what the codec's auto choice picks for the whole cloud
    omnicodec.decompress(omnicodec.compress(probe, rate=1, model=family))  # warm-up (model loading)
    tmp = tempfile.TemporaryDirectory()
    src, omc, out = Path(tmp.name) / "in.ply", Path(tmp.name) / "s.omc", Path(tmp.name) / "out.ply"
    omnicodec.write(src, cloud)
    rows = []
    for rate in rates or range(1, len(RATE_POINTS[family]) + 1):
        t0 = time.perf_counter()
        stream = omnicodec.compress(cloud, rate=rate)
        t1 = time.perf_counter()
        decoded = omnicodec.decompress(stream)
        t2 = time.perf_counter()
        header = unpack(stream).header.params
        assert header["family"] == family
        m = point_metrics(cloud, decoded, peak=peak, hausdorff=False)
        command = []
        for args in (["compress", str(src), "-o", str(omc), "--rate", str(rate), "-q"],
                     ["decompress", str(omc), "-o", str(out), "-q"]):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "omnicodec", *args], check=True, cwd=REPO)
            command.append(time.perf_counter() - t)
        rows.append({
            "rate": rate, "codec": unpack(stream).header.codec, "shift": header["shift"], "gain": header.get("gain"),
            "blocks": len(header.get("blocks", [])),
            "bpp": 8 * len(stream) / len(q), "d1_psnr": m["d1_psnr"], "d2_psnr": m["d2_psnr"],
            "points_decoded": len(decoded), "encode_s": t1 - t0, "decode_s": t2 - t1,
            "command_encode_s": command[0], "command_decode_s": command[1],
            "round_trip": "ok" if len(decoded) == decoded_points(header) else "MISMATCH",
        })
    tmp.cleanup()
    return {"input": name, "family": family, "points": len(q), "peak": peak, "rows": rows,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_tiled(data: Path, rate: int, points: int, block_points: int | None) -> dict:
    """Peak memory of compress + decompress of a large cloud: dense_loot tiled 3 times side by side (x + 1024,
    y + 1024), its first ``points`` voxels in x order."""
    import omnicodec
    from omnicodec.bitstream import unpack
    from omnicodec.types import PointCloud

    q = prepare(omnicodec.read(data / INPUTS["dense_loot"][0]).positions, "grid")
    tiles = np.concatenate([q, q + [1024, 0, 0], q + [0, 1024, 0]])
    tiles = tiles[np.argsort(tiles[:, 0], kind="stable")][:points]
    cloud = PointCloud(tiles.astype(np.float64))
    options = {} if block_points is None else {"block_points": block_points}
    t0 = time.perf_counter()
    stream = omnicodec.compress(cloud, rate=rate, **options)
    t1 = time.perf_counter()
    decoded = omnicodec.decompress(stream)
    t2 = time.perf_counter()
    header = unpack(stream).header.params
    return {"input": f"dense_loot tiled, {len(tiles):,} points", "rate": rate, "blocks": len(header["blocks"]),
            "bpp": 8 * len(stream) / len(tiles), "points_decoded": len(decoded), "encode_s": t1 - t0,
            "decode_s": t2 - t1, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def bd_rates(result: dict) -> dict:
    from omnicodec.metrics import bd_rate

    out = {}
    rates = [r["bpp"] for r in result["rows"]]
    for anchor, (bpp, d1, d2) in ANCHORS.get(result["input"], {}).items():
        for metric, ref in (("d1", d1), ("d2", d2)):
            if ref is None:
                continue
            test = [r[f"{metric}_psnr"] for r in result["rows"]]
            try:
                out[f"{anchor} {metric.upper()}"] = bd_rate(bpp, ref, rates, test)
            except Exception as exc:  # noqa: BLE001 - no overlap, non-monotonic curve: reported, not fatal
                out[f"{anchor} {metric.upper()}"] = f"n/a ({exc})"
    return out


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 4.2), squeeze=False)
    for ax, res in zip(axes[0], results, strict=True):
        bpp = [r["bpp"] for r in res["rows"]]
        ax.plot(bpp, [r["d1_psnr"] for r in res["rows"]], "o-", color="C0", label="omnicodec lossy D1")
        ax.plot(bpp, [r["d2_psnr"] for r in res["rows"]], "o--", color="C0", alpha=0.6, label="omnicodec lossy D2")
        for i, (anchor, (abpp, d1, d2)) in enumerate(ANCHORS.get(res["input"], {}).items()):
            ax.plot(abpp, d1, "s-", color=f"C{i + 1}", label=f"{anchor} D1")
            if d2 is not None:
                ax.plot(abpp, d2, "s--", color=f"C{i + 1}", alpha=0.6, label=f"{anchor} D2")
        ax.set_xscale("log")
        ax.set_xlabel("bits per input point")
        ax.set_ylabel(f"PSNR (dB, peak {res['peak']:g})")
        ax.set_title(f"{res['input']} ({res['points']:,} points)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def _validation_clouds(family: str, samples: int) -> list:
    """``samples`` crops of 150,000 points from the family's validation set (never evaluation data)."""
    from datasets.h5store import TrainingSet
    from datasets.paths import check_training_path
    from omnicodec.types import PointCloud

    path = REPO / f"datasets/build/{family}_val.h5"
    check_training_path(path)
    ts = TrainingSet(path)
    picks = np.linspace(0, len(ts) - 1, samples).round().astype(int)
    rng = np.random.default_rng(7)
    return [PointCloud(ts.crop(int(k), 150000, rng).coords.astype(np.float64)) for k in picks]


def _mean_quality(family: str, point, clouds: list) -> tuple[float, float, float]:
    """bpp, mean D1 and mean D2 PSNR of one rate point over ``clouds``."""
    from omnicodec.codecs import decompress
    from omnicodec.metrics import point_metrics
    from omnicodec.pointcloud import lossy_codec, lossy_zoo

    peak = 1023.0 if family == "dense" else 30000.0
    saved = lossy_zoo.RATE_POINTS[family]
    lossy_zoo.RATE_POINTS[family] = (point,)
    try:
        bits = points = 0
        d1, d2 = [], []
        for c in clouds:
            stream = lossy_codec.LossyCodec().compress(c, rate=1, model=family)
            m = point_metrics(c, decompress(stream), peak=peak, hausdorff=False)
            bits += 8 * len(stream)
            points += len(c)
            d1.append(m["d1_psnr"])
            d2.append(m["d2_psnr"])
    finally:
        lossy_zoo.RATE_POINTS[family] = saved
    return bits / points, float(np.mean(d1)), float(np.mean(d2))


def calibrate(family: str, samples: int) -> int:
    """bpp and D1 PSNR of every (shift, gain) pair and of the geometry-only points, for dense clouds also with the
    surface reconstruction (points rebuilt on planes through the decoded cells), on validation samples of
    ``family`` (never evaluation data)."""
    from omnicodec.pointcloud.lossy_zoo import GEOMETRY_ONLY, RatePoint, load_lossy_model, model_name

    net, _ = load_lossy_model(model_name(family))
    shifts = range(4) if family == "dense" else range(7)
    points = [RatePoint(s, g) for s in shifts for g in range(net.config.gains)]
    points += [RatePoint(s, GEOMETRY_ONLY) for s in range(1, 5 if family == "dense" else 11)]
    if family == "dense":
        points += [RatePoint(s, g, surface=True) for s in (1, 2, 3) for g in range(net.config.gains)]
        points += [RatePoint(s, GEOMETRY_ONLY, surface=True) for s in (1, 2, 3, 4)]
    clouds = _validation_clouds(family, samples)
    print(f"{'shift':>5s} {'gain':>4s} {'surface':>7s} {'bpp':>8s} {'D1 dB':>7s} {'D2 dB':>7s}")
    found = []
    for p in points:
        bpp, d1, d2 = _mean_quality(family, p, clouds)
        found.append((p, bpp, d1))
        print(f"{p.shift:5d} {p.gain!s:>4s} {p.surface!s:>7s} {bpp:8.4f} {d1:7.2f} {d2:7.2f}", flush=True)
    front = [f for f in found if not any(o[1] <= f[1] and o[2] > f[2] for o in found if o is not f)]
    print("Pareto front (shift, gain, surface, bpp, D1):")
    for p, bpp, d1 in sorted(front, key=lambda f: f[1]):
        print(f"  ({p.shift}, {p.gain}, {p.surface})  {bpp:.4f} bpp  {d1:.2f} dB")
    return 0


KEEP_CANDIDATES = ((1.0, 1.0, 1.0), (1.0, 1.0, 1.1), (1.0, 1.0, 1.2), (1.0, 1.0, 1.35), (1.05, 1.05, 1.1),
                   (1.1, 1.1, 1.1), (1.1, 1.1, 1.2), (1.2, 1.2, 1.2), (1.35, 1.35, 1.35), (1.5, 1.5, 1.5),
                   (1.75, 1.75, 1.75))


def calibrate_keep(family: str, samples: int) -> int:
    """For every autoencoder rate point of ``family``: D1 and D2 PSNR on validation samples for each candidate of
    count factors (:data:`KEEP_CANDIDATES`); the best is the largest D1 + D2 (the rate does not change)."""
    from omnicodec.pointcloud.lossy_zoo import RATE_POINTS

    clouds = _validation_clouds(family, samples)
    print(f"{'R':>2s} {'shift':>5s} {'gain':>4s} {'keep':>18s} {'bpp':>8s} {'D1 dB':>7s} {'D2 dB':>7s}")
    for rate, point in enumerate(RATE_POINTS[family], 1):
        if point.gain is None:
            continue
        tried = []
        for keep in KEEP_CANDIDATES:
            bpp, d1, d2 = _mean_quality(family, point._replace(keep=keep), clouds)
            tried.append((d1 + d2, keep))
            print(f"{rate:2d} {point.shift:5d} {point.gain:4d} {str(keep):>18s} {bpp:8.4f} {d1:7.2f} {d2:7.2f}",
                  flush=True)
        print(f"{rate:2d} best keep {max(tried)[1]}", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--inputs", nargs="+", default=list(INPUTS), choices=list(INPUTS))
    parser.add_argument("--rates", nargs="+", type=int, default=None, help="rate points (default: all)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads in each run")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=REPO / "docs" / "rd_lossy.png")
    parser.add_argument("--calibrate", choices=["dense", "lidar"], default=None)
    parser.add_argument("--calibrate-keep", choices=["dense", "lidar"], default=None,
                        help="count factors of the autoencoder rate points on the validation set")
    parser.add_argument("--samples", type=int, default=4, help="validation samples for --calibrate")
    parser.add_argument("--tiled", type=int, default=None, metavar="POINTS",
                        help="only measure peak memory on dense_loot tiled to POINTS points (e.g. 2000000)")
    parser.add_argument("--block-points", type=int, default=None, help="block budget for --tiled")
    parser.add_argument("--one", metavar="INPUT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.calibrate:
        return calibrate(args.calibrate, args.samples)
    if args.calibrate_keep:
        return calibrate_keep(args.calibrate_keep, args.samples)
    if not args.data.is_dir():
        print(f"bench: data folder {args.data} not found (use --data)", file=sys.stderr)
        return 2
    if args.one:
        print(json.dumps(run_one(args.one, args.data, args.rates)))
        return 0
    if args.tiled:
        rows = [run_tiled(args.data, rate, args.tiled, args.block_points) for rate in (args.rates or [7])]
        for r in rows:
            print(f"{r['input']}: rate {r['rate']}, {r['blocks']} blocks, {r['bpp']:.4f} bpp, "
                  f"encode {r['encode_s']:.2f} s, decode {r['decode_s']:.2f} s, peak memory {r['peak_rss_mb']:.0f} MB")
        print(json.dumps(rows))
        return 0
    results = []
    print(f"{'input':17s} {'R':>2s} {'codec':>6s} {'shift':>5s} {'gain':>4s} {'bpp':>8s} {'D1 dB':>7s} {'D2 dB':>7s} "
          f"{'enc s':>6s} {'dec s':>6s} {'cmd enc':>7s} {'cmd dec':>7s} {'points':>9s}  round trip")
    for name in args.inputs:
        cmd = [sys.executable, __file__, "--data", str(args.data), "--threads", str(args.threads), "--one", name]
        if args.rates:
            cmd += ["--rates", *map(str, args.rates)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{name}: failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return 1
        res = json.loads(out.stdout.strip().splitlines()[-1])
        res["bd_rate_percent"] = bd_rates(res)
        results.append(res)
        for r in res["rows"]:
            print(f"{name:17s} {r['rate']:2d} {r['codec']:>6s} {r['shift']:5d} {r['gain']!s:>4s} {r['bpp']:8.4f} "
                  f"{r['d1_psnr']:7.2f} {r['d2_psnr']:7.2f} {r['encode_s']:6.2f} {r['decode_s']:6.2f} "
                  f"{r['command_encode_s']:7.2f} {r['command_decode_s']:7.2f} {r['points_decoded']:9d}  "
                  f"{r['round_trip']}", flush=True)
        print(f"{name:17s} peak memory {res['peak_rss_mb']:.0f} MB; family {res['family']}")
        for k, v in res["bd_rate_percent"].items():
            print(f"{name:17s} BD-rate vs {k}: " + (f"{v:+.1f} %" if isinstance(v, float) else v))
    plot(results, args.plot)
    print(f"RD plot: {args.plot}")
    result = {"threads": args.threads, "results": results}
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if all(r["round_trip"] == "ok" for res in results for r in res["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
