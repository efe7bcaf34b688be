"""Exact decoding at every rate point: each codec's streams, encoded with 2 torch threads, decode to the same output
with 1 thread in another process.

    python tools/check_exact.py --json exact.json

For every codec and every rate point it takes the golden streams' inputs (:mod:`make_golden`: a sphere with and
without colour and intensity, a LiDAR sweep cut from the bundled sample, a small image, a 2:1 panorama, a 3x3 light
field) and encodes them in this process with 2 torch threads; then decodes each stream here and in a second process
started with ``OMP_NUM_THREADS=1`` and 1 torch thread, and compares the sha256 of the decoded outputs (the golden
streams' canonical form). Cases:

* ``octree``, ``learned`` (dense and LiDAR models, and the hand-off to ``spin``), ``spin``; lossless colour and
  intensity;
* ``lossy`` at rate points 1..8 with the dense and the LiDAR models, and lossy colour and intensity at ``attr_rate``
  1..8 on lossless geometry;
* ``image`` at rate points 1..8 with the wavelet core, its DCT variant and the hyperprior core;
* ``erp`` at rate points 1..8 with the wavelet core and the panorama hyperprior;
* ``lightfield`` at rate points 1..8.

Prints a table (cases per codec, exact, differing) and, with ``--json``, writes every case. Exit status 1 when any
case differs.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # sized when torch is first imported

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_golden as mg  # noqa: E402

RATES = range(1, 9)
ENCODE_THREADS = 2


def cases() -> list[mg.Case]:
    """Every (codec, model, option, rate point) checked."""
    out = [
        mg.Case("octree", "sphere_attrs", "octree", {"grid_step": 1.0}),
        mg.Case("learned_dense", "sphere_attrs", "learned", {"grid_step": 1.0, "model": "dense"}),
        mg.Case("learned_lidar", "sweep", "learned", {"grid_step": 0.001, "model": "lidar"}),
        mg.Case("learned_auto", "sweep", "learned", {"grid_step": 0.001}),
        mg.Case("spin", "sweep", "spin", {"grid_step": 0.001}),
    ]
    for r in RATES:
        out += [
            mg.Case(f"lossy_dense_r{r}", "sphere", "lossy", {"grid_step": 1.0, "model": "dense", "rate": r}),
            mg.Case(f"lossy_lidar_r{r}", "sweep", "lossy", {"grid_step": 0.001, "model": "lidar", "rate": r}),
            mg.Case(f"attr_a{r}", "sphere_attrs", "learned", {"grid_step": 1.0, "model": "dense", "attr_rate": r}),
            mg.Case(f"image_wavelet_r{r}", "image", "image", {"rate": r}),
            mg.Case(f"image_dct_r{r}", "image", "image", {"rate": r, "transform": "dct"}),
            mg.Case(f"image_core_r{r}", "image", "image", {"rate": r, "model": "image_core"}),
            mg.Case(f"erp_wavelet_r{r}", "panorama", "erp", {"rate": r}),
            mg.Case(f"erp_image_erp_r{r}", "panorama", "erp", {"rate": r, "model": "image_erp"}),
            mg.Case(f"lightfield_r{r}", "lightfield", "lightfield", {"rate": r}),
        ]
    return out


def family(case: mg.Case) -> str:
    """The table row of a case: its codec, and for attributes ``attributes``."""
    return "attributes" if "attr_rate" in case.options else case.codec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write every case here")
    args = ap.parse_args(argv)
    import omnicodec

    mg.set_threads(ENCODE_THREADS)
    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for case in cases():
            data = mg.encode(case)
            path = Path(tmp) / case.file
            path.write_bytes(data)
            paths.append(path)
            rows.append({"case": case.name, "codec": case.codec, "family": family(case), "options": case.options,
                         "stream_codec": omnicodec.bitstream.read_header(data).codec, "bytes": len(data),
                         "stream_sha256": hashlib.sha256(data).hexdigest(),
                         "decoded_here": mg.decoded_sha256(omnicodec.decompress(data))})
            print(f"{case.name:24s} {len(data):8d} bytes", file=sys.stderr, flush=True)
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        r = subprocess.run([sys.executable, str(Path(mg.__file__)), "--threads", "1", "--decode",
                            *[str(p) for p in paths]], capture_output=True, text=True, env=env, check=False)
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            return 2
        other = json.loads(r.stdout)
    for row, path in zip(rows, paths, strict=True):
        row["decoded_other_process"] = other[path.name]
        row["exact"] = row["decoded_here"] == row["decoded_other_process"]
    print(f"\n{'codec':12s} {'cases':>6s} {'exact':>6s} {'differ':>7s}")
    families = sorted({r["family"] for r in rows})
    for f in families:
        mine = [r for r in rows if r["family"] == f]
        ok = sum(r["exact"] for r in mine)
        print(f"{f:12s} {len(mine):6d} {ok:6d} {len(mine) - ok:7d}")
    bad = [r["case"] for r in rows if not r["exact"]]
    print(f"{len(rows)} cases, {len(rows) - len(bad)} exact ({time.perf_counter() - t0:.0f} s)"
          + (f"; differing: {', '.join(bad)}" if bad else ""))
    if args.json:
        args.json.write_text(json.dumps({"tool": "check_exact", "encode_threads": ENCODE_THREADS,
                                         "decode_threads_other_process": 1, "cases": rows}, indent=1) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
