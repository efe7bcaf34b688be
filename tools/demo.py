"""The README's first command: compress the bundled sample scans and check every round trip.

Usage: python tools/demo.py [--grid-step 0.001] [--json PATH]

For each scan in datasets/samples/ it reads the file, compresses it with the default codec on a 1 mm grid
(the scans are in metres), decodes the stream, and checks that every point comes back on the grid with its
colour bit for bit. Prints a table; exits non-zero if any round trip fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import omnicodec  # noqa: E402
from omnicodec.pointcloud.compare import same_on_grid  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=REPO / "datasets" / "samples")
    parser.add_argument("--grid-step", type=float, default=0.001, help="voxel size in metres (default 1 mm)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args()

    files = sorted(p for p in args.samples.iterdir() if p.suffix in (".pcd", ".ply", ".bin", ".las", ".laz"))
    if not files:
        print(f"demo: no sample scans in {args.samples}", file=sys.stderr)
        return 2
    rows = []
    print(f"omnicodec {omnicodec.__version__}: lossless compression on a {args.grid_step * 1000:g} mm grid\n")
    header = (
        f"{'input':40s} {'points':>9s} {'attributes':>12s} {'bytes':>9s} {'bpp':>7s} {'enc s':>6s} {'dec s':>6s}"
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
            f"{path.name:40s} {row['points']:9d} {','.join(row['attributes']) or '-':>12s} {row['bytes']:9d} "
            f"{row['bpp']:7.3f} {row['encode_s']:6.2f} {row['decode_s']:6.2f}  {row['round_trip']}"
        )
    failed = [r for r in rows if r["round_trip"] != "exact"]
    print(f"\n{len(rows) - len(failed)}/{len(rows)} round trips exact (positions on the grid, attributes bit for bit)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
