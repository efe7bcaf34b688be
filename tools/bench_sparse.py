"""Benchmark of the sparse-convolution backends on a real voxelised surface.

Usage: python tools/bench_sparse.py [--data ../shared/data] [--voxels 375000] [--channels 32] [--threads 2]
                                    [--repeat 5] [--rounds 2] [--backends torch,minkowski]
                                    [--patterns 200000,400000,778554] [--json PATH]

Input: dense_loot (10-bit grid) read with ``omnicodec.read``, cut to its first ``--voxels`` voxels in (y, x, z) order
(a contiguous piece of the surface; the whole cloud has 778,554), or a voxelised synthetic sphere shell with
``--synthetic``. Convolution: 3x3x3 submanifold, C -> C channels, float32, CPU, ``--threads`` threads.

Rows, per backend (seconds, best of ``--repeat`` calls after one warm-up call; each backend runs in its own
interpreter, ``--rounds`` times, the backends taking turns so that both meet the same load on a shared machine):

* ``forward, cached map``: the kernel map already built (torch: cached on the coordinate set; MinkowskiEngine: in
  its coordinate manager);
* ``forward + map``: from raw coordinates: packing/sorting keys (torch) or hashing them (MinkowskiEngine), building
  the kernel map, then the convolution;
* ``forward + backward``: cached map, gradients of features and weight.

``--patterns`` also times the layer patterns a codec is built from (torch backend) at several sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from omnicodec.sparse import SparseTensor, minkowski_available, use_backend  # noqa: E402
from omnicodec.sparse import functional as F  # noqa: E402
from omnicodec.sparse.conv_function import apply_kernel_map  # noqa: E402
from omnicodec.sparse.kernel_map import children_set, strided_map, submanifold_map  # noqa: E402
from omnicodec.sparse.tensor import CoordinateSet  # noqa: E402


def load_voxels(data: Path, count: int, synthetic: bool) -> np.ndarray:
    """(N, 3) int64 unique voxels."""
    if synthetic:
        radius = (count / (4 * np.pi)) ** 0.5
        r = int(np.ceil(radius)) + 1
        g = np.arange(-r, r + 1)
        x, y, z = np.meshgrid(g, g, g, indexing="ij")
        d = np.sqrt(x**2 + y**2 + z**2)
        shell = np.abs(d - radius) < 0.5
        return np.stack([x[shell], y[shell], z[shell]], axis=1).astype(np.int64) + r
    import omnicodec

    cloud = omnicodec.read(data / "pointcloud/dense_loot/loot_vox10_patchvvc_union.ply")
    v = np.unique(np.rint(cloud.positions).astype(np.int64), axis=0)
    order = np.lexsort((v[:, 2], v[:, 0], v[:, 1]))  # y, then x, then z
    return v[order[:count]]


def timed(fn, repeat: int) -> float:
    """Best of ``repeat`` runs after a warm-up (the minimum is the least disturbed by other processes)."""
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


ROWS = ("forward, cached map", "forward + map", "forward + backward")


def torch_cases(coords: torch.Tensor, channels: int) -> dict:
    """The three timed calls of the torch backend (set-up done here), and the number of kernel-map pairs."""
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(len(coords), channels, generator=g)
    weight = torch.randn(27, channels, channels, generator=g) / (27 * channels) ** 0.5
    x = SparseTensor(coords, feats)
    kmap = submanifold_map(x.coordinate_set, 3)
    grad = torch.randn(len(coords), channels, generator=g)

    def with_map():
        with use_backend("torch"):
            F.conv3d(SparseTensor(coords, feats), weight)

    def fwd_bwd():
        f = feats.clone().requires_grad_(True)
        w = weight.clone().requires_grad_(True)
        apply_kernel_map(f, w, kmap).backward(grad)

    return {
        ROWS[0]: lambda: apply_kernel_map(feats, weight, kmap),
        ROWS[1]: with_map,
        ROWS[2]: fwd_bwd,
        "pairs": kmap.num_pairs(),
    }


def minkowski_cases(coords: torch.Tensor, channels: int) -> dict:
    """The same three calls on MinkowskiEngine's own modules."""
    import MinkowskiEngine as ME  # noqa: N817

    g = torch.Generator().manual_seed(0)
    feats = torch.randn(len(coords), channels, generator=g)
    c4 = torch.cat([torch.zeros(len(coords), 1, dtype=torch.int32), coords.to(torch.int32)], dim=1)
    conv = ME.MinkowskiConvolution(channels, channels, kernel_size=3, stride=1, bias=False, dimension=3)
    grad = torch.randn(len(coords), channels, generator=g)

    def fresh():
        manager = ME.CoordinateManager(D=3, num_threads=torch.get_num_threads())
        return ME.SparseTensor(feats, c4, coordinate_manager=manager)

    x = fresh()
    conv(x)  # builds and caches the kernel map in x's manager

    def fwd_bwd():
        f = feats.clone().requires_grad_(True)
        y = conv(ME.SparseTensor(f, coordinate_map_key=x.coordinate_map_key, coordinate_manager=x.coordinate_manager))
        y.F.backward(grad)

    return {ROWS[0]: lambda: conv(x), ROWS[1]: lambda: conv(fresh()), ROWS[2]: fwd_bwd}


def time_cases(cases: dict, repeat: int) -> dict:
    """Best of ``repeat`` seconds per row, after one warm-up call."""
    out = {}
    for row in ROWS:
        cases[row]()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            cases[row]()
            times.append(time.perf_counter() - t0)
        out[row] = min(times)
    if "pairs" in cases:
        out["pairs"] = cases["pairs"]
    return out


def run_worker(name: str, args: argparse.Namespace) -> dict:
    """One backend's timings in a fresh interpreter (thread pools of two libraries in one process spin against
    each other, which would slow whichever runs second)."""
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        name,
        "--voxels",
        str(args.voxels),
        "--channels",
        str(args.channels),
        "--threads",
        str(args.threads),
        "--repeat",
        str(args.repeat),
        "--data",
        str(args.data),
    ]
    if args.synthetic:
        cmd.append("--synthetic")
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(args.threads),
        OPENBLAS_NUM_THREADS=str(args.threads),
        MKL_NUM_THREADS=str(args.threads),
    )
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def pattern_row(coords: torch.Tensor, channels: int, repeat: int) -> dict:
    """Seconds of the building blocks of a codec on one cloud (torch backend, forward unless noted)."""
    g = torch.Generator().manual_seed(1)
    w3 = torch.randn(27, channels, channels, generator=g) * 0.03
    w2 = torch.randn(8, channels, channels, generator=g) * 0.1
    feats = torch.randn(len(coords), channels, generator=g)
    x = SparseTensor(coords, feats)
    submanifold_map(x.coordinate_set, 3)
    down = F.conv3d(x, w2, stride=2)
    kmap3, _ = strided_map(x.coordinate_set, 3, 2)
    children = children_set(down.coordinate_set, 2)

    def decoder_step():
        # A fresh parent set each time (maps are cached per set): 8 children each, a 3^3 conv on all of them, then
        # pruning to the true voxels.
        parents = SparseTensor.from_set(
            CoordinateSet(down.keys, down.tensor_stride, False, is_sorted=True), down.features
        )
        up = F.generative_transpose_conv3d(parents, w2)
        y = F.conv3d(F.relu(up), w3)
        F.prune(y, F.contains(y, x))

    def res_block_train():
        f = feats.clone().requires_grad_(True)
        w = w3.clone().requires_grad_(True)
        a = F.conv3d(x.replace_features(f), w)
        b = F.conv3d(F.relu(a), w)
        (b.features + f).sum().backward()

    return {
        "voxels": len(coords),
        "keys + sort (new tensor)": timed(lambda: SparseTensor(coords, feats), repeat),
        "submanifold map 3^3 (incl. sort)": timed(
            lambda: submanifold_map(SparseTensor(coords, feats).coordinate_set, 3), repeat
        ),
        "submanifold conv 3^3, cached": timed(lambda: F.conv3d(x, w3), repeat),
        "residual block fwd+bwd, cached": timed(res_block_train, repeat),
        "down k2 s2 conv incl. map": timed(lambda: F.conv3d(SparseTensor(coords, feats), w2, stride=2), repeat),
        "down k3 s2 conv, cached": timed(lambda: apply_kernel_map(feats, w3, kmap3), repeat),
        "generative up k2 (8x children)": timed(lambda: F.generative_transpose_conv3d(down, w2), repeat),
        "sort 8x children keys": timed(
            lambda: CoordinateSet(children.keys, children.stride, False).sorted_view(), repeat
        ),
        "decoder: up, 3^3 on 8x, prune": timed(decoder_step, repeat),
        "parents": len(down),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--voxels", type=int, default=375_000)
    ap.add_argument("--synthetic", action="store_true", help="a voxelised sphere shell instead of dense_loot")
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--backends", default="torch,minkowski")
    ap.add_argument("--patterns", default="", help="comma-separated voxel counts for the layer-pattern table")
    ap.add_argument("--rounds", type=int, default=2, help="alternating runs of every backend; the best is kept")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    voxels = load_voxels(
        args.data, max([args.voxels, *[int(s) for s in args.patterns.split(",") if s]]), args.synthetic
    )
    coords = torch.from_numpy(voxels[: args.voxels])
    if args.worker:
        make = torch_cases if args.worker == "torch" else minkowski_cases
        print(json.dumps(time_cases(make(coords, args.channels), args.repeat)))
        return 0
    print(
        f"{len(coords)} voxels ({'synthetic shell' if args.synthetic else 'dense_loot'}), 3x3x3, "
        f"{args.channels}->{args.channels} channels, {args.threads} threads, best of {args.rounds} x {args.repeat}"
    )

    names = []
    for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if name == "minkowski" and not minkowski_available():
            print("minkowski: not installed, skipped (tools/install_minkowski.sh)")
            continue
        names.append(name)
    results: dict[str, dict] = {}
    for _ in range(args.rounds):
        for name in names:
            got = run_worker(name, args)
            best = results.setdefault(name, got)
            for row in ROWS:
                best[row] = min(best[row], got[row])

    print(f"\n| {'seconds':<22}| " + " | ".join(f"{n:>9}" for n in names) + " |")
    print("|" + "-" * 23 + "|" + "|".join("-" * 11 for _ in names) + "|")
    for r in ROWS:
        print(f"| {r:<22}| " + " | ".join(f"{results[n][r]:9.3f}" for n in names) + " |")
    if "torch" in results:
        pairs = results["torch"]["pairs"]
        print(f"kernel-map pairs: {pairs} ({pairs / len(coords):.2f} per voxel)")

    patterns = []
    if args.patterns:
        sizes = [int(s) for s in args.patterns.split(",") if s]
        patterns = [pattern_row(torch.from_numpy(voxels[:n]), args.channels, args.repeat) for n in sizes]
        keys = [k for k in patterns[0] if k not in ("voxels", "parents")]
        print(
            f"\nlayer patterns (torch, {args.channels} channels, seconds; parents: "
            + ", ".join(str(p["parents"]) for p in patterns)
            + ")"
        )
        print(f"| {'':<34}| " + " | ".join(f"{p['voxels']:>9}" for p in patterns) + " |")
        print("|" + "-" * 35 + "|" + "|".join("-" * 11 for _ in patterns) + "|")
        for k in keys:
            print(f"| {k:<34}| " + " | ".join(f"{p[k]:9.3f}" for p in patterns) + " |")

    if args.json:
        out = {
            "voxels": len(coords),
            "input": "synthetic shell" if args.synthetic else "dense_loot",
            "channels": args.channels,
            "threads": args.threads,
            "repeat": args.repeat,
            "rounds": args.rounds,
            "torch": torch.__version__,
            "machine": platform.processor() or platform.machine(),
            "results": results,
            "patterns": patterns,
        }
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
