"""Read times of every file under ../shared/data (and the bundled samples), as a table and JSON.

Usage: python tools/bench_io.py [--data ../shared/data] [--repeat 3] [--json PATH]

Target: dense_loot (11.7 MB binary PLY, 778,554 points) reads in under 0.5 s. Times are the best of --repeat reads
with time.perf_counter, after one untimed warm-up read (so the file is in the page cache).
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
from omnicodec.types import LightField, PointCloud  # noqa: E402

TARGETS_S = {"pointcloud/dense_loot/loot_vox10_patchvvc_union.ply": 0.5}


def files(data: Path) -> list[tuple[str, Path]]:
    out = []
    for pattern in ("pointcloud/**/*.ply", "pointcloud/**/*.pcd", "pointcloud/**/*.bin", "erp/*"):
        out += [(p.relative_to(data).as_posix(), p) for p in sorted(data.glob(pattern))]
    out += [(p.relative_to(data).as_posix(), p) for p in sorted((data / "lightfield").iterdir()) if p.is_dir()]
    out += [(f"samples/{p.name}", p) for p in sorted((REPO / "datasets" / "samples").glob("*.pcd"))]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"bench_io: data folder {args.data} not found (use --data)", file=sys.stderr)
        return 2
    rows, ok = [], True
    print(f"{'file':64s} {'size MB':>8s} {'shape':>22s} {'read s':>8s}  target")
    for name, path in files(args.data):
        data = omnicodec.read(path)
        times = []
        for _ in range(max(1, args.repeat)):
            t = time.perf_counter()
            data = omnicodec.read(path)
            times.append(time.perf_counter() - t)
        size = sum(p.stat().st_size for p in path.iterdir()) if path.is_dir() else path.stat().st_size
        if isinstance(data, PointCloud):
            shape = f"{len(data)} points"
        elif isinstance(data, LightField):
            shape = "x".join(map(str, data.views.shape))
        else:
            shape = "x".join(map(str, data.pixels.shape))
        target = TARGETS_S.get(name)
        met = None if target is None else min(times) < target
        ok &= met is not False
        rows.append({"file": name, "bytes": size, "shape": shape, "read_s": min(times), "target_s": target,
                     "met": met})
        tgt = "" if target is None else f"< {target} s: {'met' if met else 'MISSED'}"
        print(f"{name:64s} {size / 1e6:8.2f} {shape:>22s} {min(times):8.4f}  {tgt}", flush=True)
    print(json.dumps(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
