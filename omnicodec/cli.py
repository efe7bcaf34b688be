"""The ``omnicodec`` command line (also ``python -m omnicodec``).

Commands: ``compress``, ``decompress``, ``eval``, ``info``. Errors are one line on stderr with exit status 2 for bad
usage or input (1 for anything unexpected; set ``OMNICODEC_DEBUG=1`` for a traceback); outputs are written
atomically, so a failure leaves no partial file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import __version__
from .errors import OmnicodecError

EXIT_USAGE = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130


def _print_json(obj: Any) -> None:
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return "inf" if v > 0 else ("-inf" if v < 0 else "nan")
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    print(json.dumps(clean(obj), indent=2))


def _codec_params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {"coder": args.coder}
    if args.grid_step is not None:
        params["grid_step"] = args.grid_step
    if args.merge_duplicates:
        params["merge_duplicates"] = True
    if args.model is not None:
        params["model"] = args.model
    return params


def cmd_compress(args: argparse.Namespace) -> int:
    from .codecs import compress
    from .io import read
    from .io.atomic import write_bytes_atomic

    t0 = time.perf_counter()
    data = read(args.input)
    t1 = time.perf_counter()
    stream = compress(data, codec=args.codec, progress=not args.quiet, **_codec_params(args))
    t2 = time.perf_counter()
    write_bytes_atomic(args.output, stream)
    points = len(data) if hasattr(data, "positions") else None
    bits = 8 * len(stream)
    result = {
        "input": str(args.input),
        "output": str(args.output),
        "codec": args.codec or "default",
        "points": points,
        "bits": bits,
        "bytes": len(stream),
        "bpp": bits / points if points else None,
        "seconds": t2 - t1,
        "read_seconds": t1 - t0,
    }
    if args.json:
        _print_json(result)
    elif not args.quiet:
        bpp = f", {result['bpp']:.4f} bpp" if points else ""
        print(f"{args.input} -> {args.output}: {points} points, {len(stream)} bytes{bpp}, {t2 - t1:.2f} s")
    return 0


def cmd_decompress(args: argparse.Namespace) -> int:
    from .bitstream import open_stream
    from .codecs import decompress
    from .io import write

    t0 = time.perf_counter()
    stream = open_stream(args.input)
    data = decompress(stream, progress=not args.quiet)
    t1 = time.perf_counter()
    write(args.output, data)
    if args.json:
        _print_json({"input": str(args.input), "output": str(args.output), "seconds": t1 - t0,
                     "points": len(data) if hasattr(data, "positions") else None})
    elif not args.quiet:
        print(f"{args.input} -> {args.output} ({t1 - t0:.2f} s)")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .bitstream import open_stream

    stream = open_stream(args.input)
    info = stream.header.to_dict()
    info["bytes"] = stream.size
    info["chunks"] = [{"tag": c.tag, "bytes": len(c.data)} for c in stream.chunks]
    if args.json:
        _print_json(info)
        return 0
    print(f"{args.input}: omnicodec stream, format {info['format_version']}, {stream.size} bytes")
    for key in ("modality", "codec", "coder_id", "model", "weights_sha256"):
        if info[key] not in ("", None):
            print(f"  {key:15s} {info[key]}")
    for key, value in info["params"].items():
        print(f"  {key:15s} {json.dumps(value)}")
    for c in info["chunks"]:
        print(f"  chunk {c['tag']!r:8s} {c['bytes']} bytes")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_files

    result = evaluate_files(args.reference, args.decoded, peak=args.peak, normals=args.normals)
    if args.json:
        _print_json(result)
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            shown = f"{value:.6f}" if isinstance(value, float) and math.isfinite(value) else value
            print(f"{key:{width}s}  {shown}")
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="omnicodec", description="Compress point clouds, light fields and 360-degree images.")
    parser.add_argument("--version", action="version", version=f"omnicodec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("compress", help="compress a file to an .omc stream")
    p.add_argument("input", type=Path, help="point cloud (.ply .pcd .bin .las .laz)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output stream (.omc)")
    p.add_argument("--codec", default=None, help="codec id (default: the modality's default; see 'info --codecs')")
    p.add_argument("--grid-step", type=float, default=None, metavar="S",
                   help="voxel size in input units: 1 for integer voxel positions, 0.001 for metres to 1 mm")
    p.add_argument("--coder", default="constriction", choices=["constriction", "torchac"], help="entropy coder")
    p.add_argument("--merge-duplicates", action="store_true", help="one point per voxel, attributes averaged")
    p.add_argument("--model", default=None, metavar="NAME",
                   help="occupancy model of the learned codec: auto (default: dense or lidar, chosen from the data), "
                        "dense or lidar")
    p.add_argument("--json", action="store_true", help="print bits, bpp, points and seconds as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=cmd_compress)

    p = sub.add_parser("decompress", help="decode an .omc stream; the output format follows the extension")
    p.add_argument("input", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True, help="e.g. out.ply, out.pcd, out.bin, out.las")
    p.add_argument("--json", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_decompress)

    p = sub.add_parser("eval", help="quality of DECODED against REFERENCE (D1/D2 PSNR, PSNR-Y, SSIM, WS-PSNR)")
    p.add_argument("reference", type=Path)
    p.add_argument("decoded", type=Path)
    p.add_argument("--peak", type=float, default=None,
                   help="PSNR peak: 1023 for 10-bit clouds, 30000 for LiDAR on a 1 mm grid (default: MPEG's automatic "
                        "peak for clouds, 255 for 8-bit images)")
    p.add_argument("--normals", type=Path, default=None,
                   help="PLY holding the reference's positions (same order) with nx,ny,nz, for D2")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("info", help="print a stream's header and chunks")
    p.add_argument("input", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except OmnicodecError as exc:
        print(f"omnicodec {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"omnicodec {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_INTERNAL
    except Exception as exc:  # a bug: one line unless asked for the traceback
        if os.environ.get("OMNICODEC_DEBUG"):
            raise
        print(f"omnicodec {args.command}: internal error: {type(exc).__name__}: {exc} "
              "(set OMNICODEC_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
