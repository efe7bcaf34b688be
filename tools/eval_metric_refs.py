"""Check the D1/D2 metric against MPEG pc_error's printed values, and time it on a full dense cloud.

Default mode: for every case folder under the reference directory (``A.ply``, ``B.ply``, ``A_normals.ply``,
``expected.json``), run :func:`omnicodec.metrics.point_metrics` with the case's ``--resolution`` and again with the
automatic peak, and print one row per value pc_error printed: case, run, quantity, expected, ours, error (relative;
absolute dB for PSNRs), pass, and whether ours printed with 9 digits is the same text. Then the largest error per
quantity. Exit status 1 if any value is out of tolerance.

Paths default to ``../shared/data`` beside the repository (or ``$OMNICODEC_SHARED_DATA``).

``--bench``: time D1 + D2 between dense_loot (778,554 points) and a random 50 % subset of it (``numpy`` generator
seed 0), with A's normals given and with them estimated, ``--repeat`` times each.

Usage::

    python tools/eval_metric_refs.py [--refs DIR] [--json PATH]
    python tools/eval_metric_refs.py --bench [--cloud PLY] [--repeat N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from omnicodec.metrics import estimate_normals, point_metrics  # noqa: E402
from omnicodec.metrics.pc_error_compare import compare_with_pc_error  # noqa: E402

SHARED_DATA = Path(os.environ.get("OMNICODEC_SHARED_DATA", REPO.parent / "shared" / "data"))
DEFAULT_REFS = SHARED_DATA / "reference" / "metric_refs"
DEFAULT_CLOUD = SHARED_DATA / "pointcloud" / "dense_loot" / "loot_vox10_patchvvc_union.ply"


def read_ply(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(N, 3) float32 positions and (N, 3) float32 normals (None when absent) of a PLY file (plyfile)."""
    from plyfile import PlyData

    v = PlyData.read(str(path))["vertex"].data
    xyz = np.stack([v["x"], v["y"], v["z"]], axis=1).astype(np.float32)
    names = v.dtype.names or ()
    normals = np.stack([v["nx"], v["ny"], v["nz"]], axis=1) if "nx" in names else None
    return xyz, normals


def case_rows(folder: Path) -> list[dict]:
    """Comparison rows of one case folder, both runs (the case's resolution and the automatic peak)."""
    expected = json.loads((folder / "expected.json").read_text())
    a, _ = read_ply(folder / "A.ply")
    b, _ = read_ply(folder / "B.ply")
    a_n, normals = read_ply(folder / "A_normals.ply")
    if normals is None or a_n.shape != a.shape or not np.array_equal(a_n, a):
        raise SystemExit(f"{folder}: A_normals.ply must hold A.ply's points, in order, with nx, ny, nz")
    runs = [("resolution", expected, expected["peak"])]
    if "run_without_resolution" in expected:
        runs.append(("auto_peak", expected["run_without_resolution"], None))
    rows = []
    for run_name, run, peak in runs:
        ours = point_metrics(a, b, peak=peak, reference_normals=normals)
        for row in compare_with_pc_error(ours, run, folder.name):
            rows.append({"run": run_name, **row})
        for key, field in (("points_reference", "size_A_after_dropdups"), ("points_decoded", "size_B_after_dropdups")):
            if field in expected:
                ok = ours[key] == expected[field]
                rows.append(
                    {
                        "case": folder.name,
                        "run": run_name,
                        "quantity": key,
                        "expected": float(expected[field]),
                        "ours": float(ours[key]),
                        "error": 0.0 if ok else math.inf,
                        "pass": ok,
                        "printed_match": ok,
                    }
                )
    return rows


def _fmt(x: float) -> str:
    return f"{x:.9g}" if math.isfinite(x) else str(x)


def print_table(rows: list[dict]) -> None:
    head = f"{'case':32} {'run':10} {'quantity':24} {'expected':>16} {'ours':>24} {'error':>9}  pass  print"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['case']:32} {r['run']:10} {r['quantity']:24} {_fmt(r['expected']):>16} {r['ours']!r:>24} "
            f"{r['error']:9.2e}  {'ok' if r['pass'] else 'FAIL':4}  {'=' if r['printed_match'] else '!'}"
        )


def summarise(rows: list[dict]) -> dict[str, dict]:
    """Largest error and pass count per quantity."""
    out: dict[str, dict] = {}
    for r in rows:
        s = out.setdefault(r["quantity"], {"max_error": 0.0, "passed": 0, "total": 0, "printed_match": 0})
        s["max_error"] = max(s["max_error"], r["error"])
        s["passed"] += r["pass"]
        s["total"] += 1
        s["printed_match"] += r["printed_match"]
    return out


def run_refs(refs: Path, json_path: Path | None) -> int:
    folders = sorted(p for p in refs.iterdir() if (p / "expected.json").is_file()) if refs.is_dir() else []
    if not folders:
        print(f"no reference cases found under {refs}", file=sys.stderr)
        return 2
    rows = [row for folder in folders for row in case_rows(folder)]
    print_table(rows)
    summary = summarise(rows)
    print(f"\n{'quantity':24} {'max error':>10}  passed  printed identically")
    for q, s in summary.items():
        print(f"{q:24} {s['max_error']:10.2e}  {s['passed']:3}/{s['total']:<3} {s['printed_match']:3}/{s['total']}")
    failed = [r for r in rows if not r["pass"]]
    print(
        f"\n{len(rows) - len(failed)}/{len(rows)} values within tolerance; "
        f"{sum(r['printed_match'] for r in rows)}/{len(rows)} print identically to pc_error"
    )
    if json_path:
        json_path.write_text(json.dumps({"refs": str(refs), "rows": rows, "summary": summary}, indent=1, default=str))
    return 1 if failed else 0


def run_bench(cloud: Path, repeat: int, json_path: Path | None) -> int:
    if not cloud.is_file():
        print(f"benchmark cloud not found: {cloud}", file=sys.stderr)
        return 2
    a, _ = read_ply(cloud)
    b = a[np.sort(np.random.default_rng(0).choice(len(a), len(a) // 2, replace=False))]
    names = ("estimate_normals", "d1_d2_normals_given", "d1_d2_normals_estimated")
    timings: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    result = {}

    def timed(name, fn, *args, **kwargs):
        wall, proc = time.perf_counter(), time.process_time()
        value = fn(*args, **kwargs)
        timings[name].append(time.perf_counter() - wall)
        cpu[name].append(time.process_time() - proc)
        return value

    for _ in range(repeat):
        normals = timed("estimate_normals", estimate_normals, a)
        result = timed("d1_d2_normals_given", point_metrics, a, b, peak=1023, reference_normals=normals)
        timed("d1_d2_normals_estimated", point_metrics, a, b, peak=1023)
    print(f"A = {cloud.name}: {len(a)} points; B = random 50 % subset: {len(b)} points; peak 1023; {repeat} runs")
    print(f"{'step':28} {'min s':>8} {'median s':>9} {'cpu s (all threads, median)':>28}")
    for name in names:
        print(
            f"{name:28} {min(timings[name]):8.2f} {statistics.median(timings[name]):9.2f} "
            f"{statistics.median(cpu[name]):28.2f}"
        )
    print(f"D1 PSNR {result['d1_psnr']:.4f} dB, D2 PSNR {result['d2_psnr']:.4f} dB")
    if json_path:
        report = {
            "cloud": str(cloud),
            "points_a": len(a),
            "points_b": len(b),
            "repeat": repeat,
            "timings_s": timings,
            "cpu_s": cpu,
            "result": result,
        }
        json_path.write_text(json.dumps(report, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refs", type=Path, default=DEFAULT_REFS, help="folder of reference cases")
    parser.add_argument("--json", type=Path, help="also write the comparison (or the timings) as JSON")
    parser.add_argument("--bench", action="store_true", help="time D1+D2 on a full cloud instead")
    parser.add_argument("--cloud", type=Path, default=DEFAULT_CLOUD, help="the benchmark cloud (PLY)")
    parser.add_argument("--repeat", type=int, default=3, help="benchmark repetitions")
    args = parser.parse_args(argv)
    if args.bench:
        return run_bench(args.cloud, max(1, args.repeat), args.json)
    return run_refs(args.refs, args.json)


if __name__ == "__main__":
    sys.exit(main())
