"""Benchmark of the learned lossless codec (geometry) next to the baseline octree codec and MPEG G-PCC v23.

Usage: python tools/bench_lossless.py [--data ../shared/data] [--codecs learned octree] [--json PATH]
                                      [--inputs NAME ...] [--threads 2]

Inputs and their preparation (bpp = bits / points after it):

* dense_loot: 10-bit integer voxels as stored (evaluation only);
* kitti00/000000 and /000005 (evaluation only), kitti_det/000008: metres * 1000 rounded (1 mm grid), duplicates
  merged, the points left in the file's (the sensor's) order, as G-PCC's predictive mode gets them sorted by
  azimuth;
* office1: PCL office1 voxelised to a 10-bit grid over its bounding box (positions minus the box minimum, times
  1023 / longest side, rounded, duplicates merged);
* five_people: PCL five_people, the same 10-bit voxelisation.

Each input runs in its own process, so the peak memory (ru_maxrss of that process) is the input's own. Seconds are
the codec's compress and decompress time inside that process after a warm-up call, without reading files or
starting the interpreter; the *command* seconds time ``python -m omnicodec compress`` and ``decompress`` as whole
commands on the prepared geometry written as a binary PLY (process start, imports, model loading, reading and
writing files included). Every round trip is checked to be exact on the grid. Next to G-PCC v23's octree mode, the
table gives its best lossless mode: predictive geometry for the KITTI frames (``geomTreeType=1``, input sorted by
azimuth, ``predGeomSort=2``, GUIDE.md), octree elsewhere. Prints a table, then the JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

# MPEG G-PCC (TMC13 v23) lossless geometry on the same preparations (GUIDE.md section 5; the issue for office1).
GPCC_V23 = {"dense_loot": 0.680, "kitti00/000000": 20.77, "kitti00/000005": 20.52, "office1": 2.714}
# Its best lossless mode per input (bpp, mode): predictive geometry for the KITTI frames (GUIDE.md), octree elsewhere.
GPCC_BEST = {"dense_loot": (0.680, "octree"), "kitti00/000000": (18.69, "predictive"),
             "kitti00/000005": (18.49, "predictive"), "office1": (2.714, "octree")}
INPUTS = {
    "dense_loot": ("pointcloud/dense_loot/loot_vox10_patchvvc_union.ply", "grid"),
    "kitti00/000000": ("pointcloud/lidar/kitti00/000000.bin", "mm"),
    "kitti00/000005": ("pointcloud/lidar/kitti00/000005.bin", "mm"),
    "kitti_det/000008": ("pointcloud/lidar/kitti_det/000008.bin", "mm"),
    "office1": ("pointcloud/scans/pcl_test/office1.pcd", "vox10"),
    "five_people": ("pointcloud/scans/pcl_test/five_people.pcd", "vox10"),
}


def prepare(positions: np.ndarray, how: str) -> np.ndarray:
    """(N, 3) unique int64 voxel indices of an input prepared as the module notes say (LiDAR frames in their file
    order, the first of repeated voxels kept; other inputs sorted)."""
    p = positions.astype(np.float64)
    if how == "grid":
        q = np.rint(p)
    elif how == "mm":
        q = np.rint(p * 1000.0)
        _, first = np.unique(q.astype(np.int64), axis=0, return_index=True)
        return q[np.sort(first)].astype(np.int64)
    else:  # vox10
        lo = p.min(axis=0)
        q = np.rint((p - lo) * (1023.0 / (p.max(axis=0) - lo).max()))
    return np.unique(q.astype(np.int64), axis=0)


def run_one(name: str, data: Path, codec: str) -> dict:
    import omnicodec
    from omnicodec.bitstream import unpack
    from omnicodec.types import PointCloud

    rel, how = INPUTS[name]
    cloud = omnicodec.read(data / rel)
    q = prepare(cloud.positions, how)
    geometry = PointCloud(q.astype(np.int32))
    omnicodec.decompress(omnicodec.compress(PointCloud(q[:8000].astype(np.int32)), codec=codec))  # warm-up
    t0 = time.perf_counter()
    stream = omnicodec.compress(geometry, codec=codec)
    t1 = time.perf_counter()
    decoded = omnicodec.decompress(stream)
    t2 = time.perf_counter()
    exact = np.array_equal(np.unique(decoded.positions.astype(np.int64), axis=0), np.unique(q, axis=0))
    bpp = 8 * len(stream) / len(q)
    ref = GPCC_V23.get(name)
    best, mode = GPCC_BEST.get(name, (None, None))
    command = _command_seconds(geometry, codec)
    return {
        "input": name,
        "codec": codec,
        "model": unpack(stream).header.model or None,
        "stream_codec": unpack(stream).header.codec,
        "points": len(q),
        "bytes": len(stream),
        "bpp": bpp,
        "gpcc_v23_bpp": ref,
        "ratio_to_gpcc": bpp / ref if ref else None,
        "gpcc_best_bpp": best,
        "gpcc_best_mode": mode,
        "ratio_to_gpcc_best": bpp / best if best else None,
        "encode_s": t1 - t0,
        "decode_s": t2 - t1,
        "command_encode_s": command[0],
        "command_decode_s": command[1],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "round_trip": "exact" if exact else "MISMATCH",
    }


def _command_seconds(geometry, codec: str) -> tuple[float, float]:
    """Wall seconds of ``python -m omnicodec compress`` and ``decompress`` on ``geometry`` (written as a PLY)."""
    import tempfile

    import omnicodec

    with tempfile.TemporaryDirectory() as tmp:
        src, omc, out = Path(tmp) / "in.ply", Path(tmp) / "s.omc", Path(tmp) / "out.ply"
        omnicodec.write(src, geometry)
        seconds = []
        for args in (["compress", str(src), "-o", str(omc), "--codec", codec, "-q"], ["decompress", str(omc), "-o",
                                                                                     str(out), "-q"]):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "omnicodec", *args], check=True, cwd=REPO)
            seconds.append(time.perf_counter() - t0)
    return seconds[0], seconds[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--codecs", nargs="+", default=["learned", "octree"],
                        help="codecs to run (learned hands LiDAR sweeps in scan order to spin)")
    parser.add_argument("--inputs", nargs="+", default=list(INPUTS), choices=list(INPUTS))
    parser.add_argument("--threads", type=int, default=2, help="torch threads in each run")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--one", nargs=2, metavar=("INPUT", "CODEC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"bench: data folder {args.data} not found (use --data)", file=sys.stderr)
        return 2
    if args.one:
        import torch

        torch.set_num_threads(args.threads)
        print(json.dumps(run_one(args.one[0], args.data, args.one[1])))
        return 0
    rows = []
    print(f"{'input':17s} {'codec':8s} {'model':6s} {'points':>8s} {'bpp':>8s} {'G-PCC v23':>9s} {'ratio':>6s} "
          f"{'best':>17s} {'ratio':>6s} {'enc s':>6s} {'dec s':>6s} {'cmd enc':>7s} {'cmd dec':>7s} {'peak MB':>7s}"
          "  round trip")
    for name in args.inputs:
        for codec in args.codecs:
            cmd = [sys.executable, __file__, "--data", str(args.data), "--threads", str(args.threads),
                   "--one", name, codec]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{name}: {codec} failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                return 1
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(r)
            ref = f"{r['gpcc_v23_bpp']:.3f}" if r["gpcc_v23_bpp"] else "-"
            ratio = f"{r['ratio_to_gpcc']:.3f}" if r["ratio_to_gpcc"] else "-"
            best = f"{r['gpcc_best_bpp']:.3f} {r['gpcc_best_mode']}" if r["gpcc_best_bpp"] else "-"
            best_ratio = f"{r['ratio_to_gpcc_best']:.3f}" if r["ratio_to_gpcc_best"] else "-"
            print(f"{name:17s} {codec:8s} {r['model'] or '-':6s} {r['points']:8d} {r['bpp']:8.3f} {ref:>9s} "
                  f"{ratio:>6s} {best:>17s} {best_ratio:>6s} {r['encode_s']:6.2f} {r['decode_s']:6.2f} "
                  f"{r['command_encode_s']:7.2f} {r['command_decode_s']:7.2f} {r['peak_rss_mb']:7.0f}  "
                  f"{r['round_trip']}", flush=True)
    result = {"threads": args.threads, "rows": rows}
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if all(r["round_trip"] == "exact" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
