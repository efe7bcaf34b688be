"""Benchmark of the entropy coders: speed and size against the ideal, for the workloads the codecs produce.

Workloads (fixed seed):

* ``binary_1m``: 1,000,000 bits, each with its own probability (per-symbol ``(n, 2)`` tables, one call);
* ``gaussian_800k``: 800,000 latents through :class:`~omnicodec.entropy.GaussianConditional` (scales log-uniform in
  [e^-3, e^4], means N(0, 3^2)), the full model path: scale indices, grouping, tables, escapes;
* ``binary_64x2000``: the same kind of bits in 2,000 calls of 64 symbols, to show the per-call overhead.

For each coder: best-of-``--repeat`` encode and decode seconds, coded bits, and the overhead against the ideal
``-sum(log2 p)`` under the integer tables (for the Gaussian also against the model's float likelihoods).

Usage::

    python tools/bench_entropy.py [--coders constriction torchac] [--repeat 3] [--json out/bench_entropy.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from omnicodec.entropy import CODER_IDS, GaussianConditional, binary_freqs, get_coder, ideal_bits
from omnicodec.errors import InputError
from omnicodec.io.atomic import atomic_open


def best_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Smallest wall time of ``repeat`` runs, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def bench_binary(coder, rng, repeat: int, n: int = 1_000_000, chunk: int | None = None) -> dict:
    p1 = rng.beta(0.5, 0.5, n)
    freqs = binary_freqs(p1)
    bits = (rng.random(n) < freqs[:, 1] / 65536).astype(np.int64)
    step = chunk or n

    def encode() -> bytes:
        enc = coder.encoder()
        for start in range(0, n, step):
            enc.encode(bits[start : start + step], freqs[start : start + step])
        return enc.finish()

    t_enc, data = best_time(encode, repeat)

    def decode() -> np.ndarray:
        dec = coder.decoder(data)
        out = [dec.decode(freqs[start : start + step]) for start in range(0, n, step)]
        dec.finish()
        return np.concatenate(out)

    t_dec, out = best_time(decode, repeat)
    assert np.array_equal(out, bits), "binary round trip failed"
    ideal = ideal_bits(bits, freqs)
    calls = -(-n // step)
    return {
        "symbols": n,
        "calls": calls,
        "encode_s": t_enc,
        "decode_s": t_dec,
        "encode_us_per_call": t_enc / calls * 1e6,
        "decode_us_per_call": t_dec / calls * 1e6,
        "bits": len(data) * 8,
        "ideal_bits": ideal,
        "overhead_vs_ideal": len(data) * 8 / ideal - 1,
    }


def bench_gaussian(coder, repeat: int, n: int = 800_000) -> dict:
    g = torch.Generator().manual_seed(7)
    scales = torch.exp(torch.empty(n).uniform_(-3.0, 4.0, generator=g))
    means = torch.randn(n, generator=g) * 3
    y = means + scales * torch.randn(n, generator=g)
    model = GaussianConditional().eval()
    t_enc, data = best_time(lambda: model.compress(y, scales, means, coder=coder.name), repeat)
    t_dec, y_hat = best_time(lambda: model.decompress(data, scales, means, coder=coder.name), repeat)
    _, lik = model(y, scales, means)
    assert torch.equal(y_hat, torch.round(y - means) + means), "gaussian round trip failed"
    q = torch.round(y - means).numpy().astype(np.int64)
    table_bits = float(model.tables.log2_prob(q, model.scale_index(scales)).sum())
    model_bits = float(-torch.log2(lik).sum())
    return {
        "symbols": n,
        "encode_s": t_enc,
        "decode_s": t_dec,
        "bits": len(data) * 8,
        "ideal_bits": table_bits,
        "overhead_vs_ideal": len(data) * 8 / table_bits - 1,
        "model_bits": model_bits,
        "overhead_vs_model": len(data) * 8 / model_bits - 1,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coders", nargs="+", default=sorted(CODER_IDS), choices=sorted(CODER_IDS))
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    rows = []
    for name in args.coders:
        try:
            start = time.perf_counter()
            coder = get_coder(name)
            load_s = time.perf_counter() - start
        except InputError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        results = {
            "binary_1m": bench_binary(coder, np.random.default_rng(1), args.repeat),
            "gaussian_800k": bench_gaussian(coder, args.repeat),
            "binary_64x2000": bench_binary(coder, np.random.default_rng(2), args.repeat, n=128_000, chunk=64),
        }
        for workload, r in results.items():
            rows.append({"coder": name, "coder_load_s": load_s, "workload": workload, **r})

    header = f"{'coder':<13}{'workload':<16}{'enc s':>9}{'dec s':>9}{'us/call e/d':>15}{'bits':>11}{'vs ideal':>10}"
    print(header)
    print("-" * len(header))
    for r in rows:
        per_call = f"{r['encode_us_per_call']:.0f}/{r['decode_us_per_call']:.0f}" if "calls" in r else "-"
        print(
            f"{r['coder']:<13}{r['workload']:<16}{r['encode_s']:>9.4f}{r['decode_s']:>9.4f}{per_call:>15}"
            f"{r['bits']:>11d}{r['overhead_vs_ideal']:>+10.3%}"
            + (f"   (vs model likelihoods {r['overhead_vs_model']:+.3%})" if "overhead_vs_model" in r else "")
        )
    if args.json:
        meta = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "torch_threads": torch.get_num_threads(),
            "repeat": args.repeat,
        }
        with atomic_open(args.json, "w") as f:
            json.dump({"meta": meta, "results": rows}, f, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
