"""Benchmark of the baseline octree codec (geometry only) next to MPEG G-PCC v23 lossless.

Usage: python tools/bench_octree.py [--data ../shared/data] [--coder constriction] [--repeat 1] [--json PATH]

Inputs: dense_loot on its 10-bit grid (step 1) and KITTI 00 frames 0-5 on a 1 mm grid (metres * 1000, rounded,
duplicates merged: the G-PCC convention). bpp = bits / points after that preparation. Seconds are the codec's own
compress and decompress time (best of --repeat), without reading files or starting the interpreter. Peak memory is
the largest resident set of the process after each input (ru_maxrss), so it only grows.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

import omnicodec  # noqa: E402
from omnicodec.pointcloud.compare import same_on_grid  # noqa: E402
from omnicodec.types import PointCloud  # noqa: E402

# MPEG G-PCC (TMC13 v23) lossless geometry, measured on the same files (GUIDE.md section 5).
GPCC_V23 = {"dense_loot": 0.680, "kitti00/000000": 20.77, "kitti00/000005": 20.52}


def inputs(data: Path):
    yield "dense_loot", data / "pointcloud/dense_loot/loot_vox10_patchvvc_union.ply", 1.0
    for i in range(6):
        yield f"kitti00/{i:06d}", data / f"pointcloud/lidar/kitti00/{i:06d}.bin", 0.001


def run(name: str, path: Path, step: float, coder: str, repeat: int) -> dict:
    cloud = omnicodec.read(path)
    geometry = PointCloud(cloud.positions)
    enc_s, dec_s = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        stream = omnicodec.compress(geometry, grid_step=step, coder=coder, merge_duplicates=True)
        t1 = time.perf_counter()
        decoded = omnicodec.decompress(stream)
        t2 = time.perf_counter()
        enc_s.append(t1 - t0)
        dec_s.append(t2 - t1)
    q = np.unique(np.rint(cloud.positions.astype(np.float64) / step).astype(np.int64), axis=0)
    exact = same_on_grid(PointCloud(q * step), decoded, step)
    bpp = 8 * len(stream) / len(q)
    ref = GPCC_V23.get(name)
    return {
        "input": name,
        "grid_step": step,
        "points_in_file": len(cloud),
        "points": len(q),
        "bytes": len(stream),
        "bpp": bpp,
        "gpcc_v23_bpp": ref,
        "ratio_to_gpcc": bpp / ref if ref else None,
        "encode_s": min(enc_s),
        "decode_s": min(dec_s),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "round_trip": "exact" if exact else "MISMATCH",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--coder", default="constriction", choices=["constriction", "torchac"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"bench: data folder {args.data} not found (use --data)", file=sys.stderr)
        return 2
    rows = []
    print(f"{'input':16s} {'points':>8s} {'bpp':>8s} {'G-PCC v23':>9s} {'ratio':>6s} {'enc s':>6s} {'dec s':>6s} "
          f"{'RSS MB':>7s}  round trip")
    for name, path, step in inputs(args.data):
        r = run(name, path, step, args.coder, args.repeat)
        rows.append(r)
        ref = f"{r['gpcc_v23_bpp']:.3f}" if r["gpcc_v23_bpp"] else "-"
        ratio = f"{r['ratio_to_gpcc']:.3f}" if r["ratio_to_gpcc"] else "-"
        print(f"{name:16s} {r['points']:8d} {r['bpp']:8.3f} {ref:>9s} {ratio:>6s} {r['encode_s']:6.2f} "
              f"{r['decode_s']:6.2f} {r['peak_rss_mb']:7.0f}  {r['round_trip']}", flush=True)
    result = {"coder": args.coder, "threads": None, "rows": rows}
    try:
        import torch

        result["threads"] = torch.get_num_threads()
    except ImportError:
        pass
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if all(r["round_trip"] == "exact" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
