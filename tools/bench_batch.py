"""Benchmark of batch compression: throughput and peak memory per worker, local pool and Ray, 1 and 2 workers.

Usage: python tools/bench_batch.py [--data ../shared/data] [--frames 6] [--codec learned] [--repeat 3] [--no-ray]
                                  [--json PATH]

Input: KITTI odometry sequence 00, frames 000000-000005 (``pointcloud/lidar/kitti00``), on the 1 mm grid
(``--grid-step 0.001``), intensity carried losslessly: what ``omnicodec batch kitti00/ -o OUT --grid-step 0.001``
does.

For each configuration the batch runs into a fresh folder. Throughput is frames per second of the processing, from
the first frame handed to a worker to the last stream written; start-up (worker processes or Ray actors brought up,
models loaded, and for ``ray auto`` the local Ray instance started) is shown apart, and "wall fps" includes it.
Each configuration runs ``--repeat`` times, round robin; the table shows the median throughput (all runs are in the
JSON). Peak memory is the largest resident set of any worker in any run. The streams of every configuration are
compared with those of the first one (they must be the same bytes). Last, a ``--resume`` rerun of the finished
sequence is timed as a whole command (``python -m omnicodec batch ... --resume``), interpreter start-up included.

Prints a table, then the JSON (also written to ``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from omnicodec.batch import run  # noqa: E402

STEP = 0.001


def streams(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.omc"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--frames", type=int, default=6, help="first N frames of kitti00")
    ap.add_argument("--codec", default="learned")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray rows")
    ap.add_argument("--repeat", type=int, default=3, help="runs per configuration; the table shows medians")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    seq = args.data / "pointcloud" / "lidar" / "kitti00"
    inputs = sorted(seq.glob("*.bin"))[: args.frames]
    if not inputs:
        sys.exit(f"bench_batch: no KITTI frames under {seq}")
    configs = [("local", 1, 1), ("local", 1, 2), ("local", 2, 1)]
    if not args.no_ray:
        configs += [("ray", 1, 1), ("ray", 2, 1)]
    runs: dict[tuple, list[dict]] = {c: [] for c in configs}
    reference: dict[str, bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        for rep in range(args.repeat):  # round robin, so a slow spell of the machine hits every configuration
            for kind, workers, threads in configs:
                out = Path(tmp) / f"{kind}_{workers}w{threads}t"
                shutil.rmtree(out, ignore_errors=True)
                t0 = time.perf_counter()
                result = run([str(p) for p in inputs], out, codec=args.codec, grid_step=STEP, workers=workers,
                             threads=threads, ray="auto" if kind == "ray" else None, progress=False, log=None)
                wall = time.perf_counter() - t0
                s = result.summary
                got = streams(out)
                reference = reference or got
                runs[(kind, workers, threads)].append({
                    "frames": s["frames"],
                    "failed": s["failed"],
                    "total_bpp": s["total_bpp"],
                    "process_seconds": s["seconds"],
                    "startup_seconds": result.startup_seconds,
                    "fps": s["frames_per_second"],
                    "wall_fps": s["encoded"] / wall,
                    "peak_mb_per_worker": max(w["peak_mb"] for w in result.workers),
                    "model_loads_per_worker": max(w["model_loads"] for w in result.workers),
                    "same_bytes_as_first": got == reference,
                })
                print(f"  run {rep + 1}: {kind} {workers}w x {threads}t: {s['frames_per_second']:.3f} fps",
                      file=sys.stderr)
        rows = []
        for (kind, workers, threads), reps in runs.items():
            row = {"executor": kind, "workers": workers, "threads_per_worker": threads}
            for key in ("fps", "wall_fps", "process_seconds", "startup_seconds"):
                row[key] = statistics.median(r[key] for r in reps)
            row["fps_runs"] = [r["fps"] for r in reps]
            row.update(frames=reps[0]["frames"], failed=max(r["failed"] for r in reps),
                       total_bpp=reps[0]["total_bpp"],
                       peak_mb_per_worker=max(r["peak_mb_per_worker"] for r in reps),
                       model_loads_per_worker=max(r["model_loads_per_worker"] for r in reps),
                       same_bytes_as_first=all(r["same_bytes_as_first"] for r in reps))
            rows.append(row)
        finished = Path(tmp) / "local_2w1t"
        cmd = [sys.executable, "-m", "omnicodec", "batch", *map(str, inputs), "-o", str(finished), "--grid-step",
               str(STEP), "--codec", args.codec, "--resume", "--json", "-q"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
        resume_seconds = time.perf_counter() - t0
        resumed = json.loads(proc.stdout)["resumed"] if proc.returncode == 0 else None

    base = {r["executor"]: r["fps"] for r in rows if r["workers"] == 1 and r["threads_per_worker"] == 1}
    local2 = next(r["fps"] for r in rows if r["executor"] == "local" and r["workers"] == 2)
    for r in rows:
        r["speedup_vs_1_worker"] = r["fps"] / base[r["executor"]]
        r["vs_local_same_workers"] = r["fps"] / next(
            x["fps"] for x in rows if x["executor"] == "local" and x["workers"] == r["workers"]
            and x["threads_per_worker"] == r["threads_per_worker"])
    report = {
        "input": f"kitti00 frames 0-{len(inputs) - 1}, grid step {STEP} m, intensity carried",
        "codec": args.codec,
        "cores": os.cpu_count(),
        "rows": rows,
        "speedup_2_workers_local": local2 / base["local"],
        "resume_rerun_seconds": resume_seconds,
        "resume_rerun_frames_skipped": resumed,
        "targets": {"speedup_2_workers": 1.7, "ray_vs_local_min": 0.85, "peak_mb_per_worker_max": 2048,
                    "resume_rerun_seconds_max": 5.0},
    }

    head = (f"{'executor':8s} {'workers':>7s} {'thr':>3s} {'fps':>7s} {'x 1 wkr':>7s} {'vs local':>8s} "
            f"{'start s':>7s} {'wall fps':>8s} {'peak MB':>8s} {'loads':>5s} {'bpp':>8s} {'same':>5s}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['executor']:8s} {r['workers']:7d} {r['threads_per_worker']:3d} {r['fps']:7.3f} "
              f"{r['speedup_vs_1_worker']:7.2f} {r['vs_local_same_workers']:8.2f} {r['startup_seconds']:7.1f} "
              f"{r['wall_fps']:8.3f} {r['peak_mb_per_worker']:8.0f} {r['model_loads_per_worker']:5d} "
              f"{r['total_bpp']:8.3f} {str(r['same_bytes_as_first']):>5s}")
    print(f"--resume rerun of the finished sequence: {resume_seconds:.2f} s ({resumed} frames skipped)")
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
