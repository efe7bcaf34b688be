"""The ``omnicodec`` command line (also ``python -m omnicodec``).

Commands: ``compress``, ``decompress``, ``batch``, ``eval``, ``info``, ``project`` (viewports and cubemaps of a
panorama). Errors are one line on stderr with exit
status 2 for bad usage or input (1 for anything unexpected; set ``OMNICODEC_DEBUG=1`` for a traceback); outputs are
written atomically, so a failure leaves no partial file. ``batch`` (and ``decompress`` of a folder) exits with 3 when
it finished but some frames failed, and with 128 + the signal number (130, 143) when SIGINT or SIGTERM stopped it.
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

import numpy as np

from . import __version__
from .errors import OmnicodecError

EXIT_USAGE = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130
EXIT_FAILED_FRAMES = 3  # a batch (or a folder decode) finished, but some frames failed


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
    if getattr(args, "sparse", None) is not None:
        from .errors import InputError

        raise InputError(f"--sparse is for light fields; {args.input} is a point cloud")
    for flag in ("chroma", "transform"):
        if getattr(args, flag, None) is not None:
            from .errors import InputError

            raise InputError(f"--{flag} is for images; {args.input} is a point cloud")
    params: dict[str, Any] = {"coder": args.coder}
    if args.grid_step is not None:
        params["grid_step"] = args.grid_step
    if args.merge_duplicates:
        params["merge_duplicates"] = True
    if args.model is not None:
        params["model"] = args.model
    if getattr(args, "rate", None) is not None:
        params["rate"] = args.rate
    if getattr(args, "attr_rate", None) is not None:
        params["attr_rate"] = args.attr_rate
    return params


def cmd_compress(args: argparse.Namespace) -> int:
    from .codecs import compress
    from .io import read
    from .io.atomic import write_bytes_atomic
    from .types import ErpImage, LightField

    t0 = time.perf_counter()
    data = read(args.input)
    t1 = time.perf_counter()
    image = isinstance(data, ErpImage)
    field = isinstance(data, LightField)
    if image:
        codec, params = _image_codec_params(args, data)
    elif field:
        codec, params = _lightfield_codec_params(args)
    else:
        codec, params = args.codec, _codec_params(args)
    stream = compress(data, codec=codec, progress=not args.quiet, **params)
    t2 = time.perf_counter()
    write_bytes_atomic(args.output, stream)
    points = len(data) if hasattr(data, "positions") else None
    pixels = int(data.pixels.shape[0] * data.pixels.shape[1]) if image else None
    if field:
        pixels = int(np.prod(data.views.shape[:4]))
    bits = 8 * len(stream)
    result = {
        "input": str(args.input),
        "output": str(args.output),
        "codec": codec or "default",
        "points": points,
        "pixels": pixels,
        "bits": bits,
        "bytes": len(stream),
        "bpp": bits / (points or pixels) if (points or pixels) else None,
        "seconds": t2 - t1,
        "read_seconds": t1 - t0,
    }
    if args.json:
        _print_json(result)
    elif not args.quiet:
        bpp = f", {result['bpp']:.4f} bpp" if result["bpp"] is not None else ""
        if field:
            u, v, h, w = data.views.shape[:4]
            what = f"{u}x{v} views of {w}x{h}, codec {codec or 'lightfield'}"
        elif image:
            what = f"{data.pixels.shape[1]}x{data.pixels.shape[0]} image, codec {codec}"
        else:
            what = f"{points} points"
        print(f"{args.input} -> {args.output}: {what}, {len(stream)} bytes{bpp}, {t2 - t1:.2f} s")
    return 0


def _lightfield_codec_params(args: argparse.Namespace) -> tuple[str | None, dict[str, Any]]:
    """The codec and parameters for a light field (codec ``lightfield`` unless named)."""
    from .errors import InputError

    for flag, value in (("--grid-step", args.grid_step), ("--merge-duplicates", args.merge_duplicates or None),
                        ("--projection", None if args.projection == "auto" else args.projection),
                        ("--attr-rate", args.attr_rate), ("--chroma", args.chroma), ("--transform", args.transform)):
        if value is not None:
            raise InputError(f"{flag} is not an option for light fields ({args.input} is one)")
    params: dict[str, Any] = {"coder": args.coder}
    if args.rate is not None:
        params["rate"] = args.rate
    if args.model is not None:
        params["model"] = args.model
    if args.sparse is not None:
        params["sparse"] = args.sparse
    return args.codec, params


def _image_codec_params(args: argparse.Namespace, data: Any) -> tuple[str, dict[str, Any]]:
    """The codec and parameters for an image: ``erp`` for a 2:1 panorama unless ``--projection flat``."""
    from .codecs import is_panorama
    from .errors import InputError

    for flag, value in (("--grid-step", args.grid_step), ("--merge-duplicates", args.merge_duplicates or None),
                        ("--attr-rate", args.attr_rate)):
        if value is not None:
            raise InputError(f"{flag} is for point clouds; {args.input} is an image")
    if args.sparse is not None:
        raise InputError(f"--sparse is for light fields; {args.input} is an image")
    codec = args.codec
    if codec is None:
        panorama = args.projection == "erp" or (args.projection == "auto" and is_panorama(data))
        codec = "erp" if panorama else "image"
    elif args.projection != "auto":
        raise InputError("give --codec or --projection, not both")
    params: dict[str, Any] = {"coder": args.coder}
    if args.rate is not None:
        params["rate"] = args.rate
    if args.model is not None:
        params["model"] = args.model
    if args.chroma is not None:
        params["chroma"] = args.chroma
    if args.transform is not None:
        params["transform"] = args.transform
    return codec, params


def cmd_decompress(args: argparse.Namespace) -> int:
    from .bitstream import open_stream
    from .codecs import decompress
    from .io import write

    if args.input.is_dir():
        return _decompress_folder(args)
    if args.format is not None:
        raise OmnicodecError("--format is for decoding a folder of streams; name the output file instead")
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


def _decompress_folder(args: argparse.Namespace) -> int:
    """Every ``.omc`` under a folder to OUTDIR, mirrored, as ``--format``; a failed stream is reported and skipped."""
    from .bitstream import open_stream
    from .codecs import decompress
    from .io import write
    from .progress import progress_bar

    ext = "." + (args.format or "ply").lower().lstrip(".")
    if ext not in (".ply", ".pcd", ".bin", ".las", ".laz"):
        raise OmnicodecError(f"--format {args.format!r}: choose ply, pcd, bin, las or laz")
    if args.output.exists() and not args.output.is_dir():
        raise OmnicodecError(f"{args.output}: exists and is not a folder (a folder of streams decodes to a folder)")
    streams = sorted(p for p in args.input.rglob("*.omc") if not p.name.startswith("."))
    if not streams:
        raise OmnicodecError(f"{args.input}: the folder holds no .omc streams")
    failures = []
    t0 = time.perf_counter()
    with progress_bar(len(streams), "streams", enabled=not args.quiet, unit="stream") as bar:
        for path in streams:
            target = args.output / path.relative_to(args.input).with_suffix(ext)
            try:
                write(target, decompress(open_stream(path)))
            except OmnicodecError as exc:
                failures.append(path)
                print(f"omnicodec decompress: error: {path}: {exc}", file=sys.stderr)
            bar.update(1)
    seconds = time.perf_counter() - t0
    if args.json:
        _print_json({"input": str(args.input), "output": str(args.output), "streams": len(streams),
                     "failed": [str(p) for p in failures], "seconds": seconds})
    elif not args.quiet:
        print(f"{args.input} -> {args.output}: {len(streams) - len(failures)} of {len(streams)} streams decoded "
              f"({seconds:.2f} s)")
    return EXIT_FAILED_FRAMES if failures else 0


def cmd_batch(args: argparse.Namespace) -> int:
    from .batch import BatchInterrupted, run
    from .batch.manifest import format_summary

    try:
        result = run(args.inputs, args.output, codec=args.codec, grid_step=args.grid_step, rate=args.rate,
                     attr_rate=args.attr_rate, model=args.model, coder=args.coder, workers=args.workers,
                     threads=args.threads, ray=args.ray,
                     resume=args.resume, verify=args.verify, manifest=args.manifest, progress=not args.quiet,
                     log=None if args.quiet else lambda line: print(line, file=sys.stderr, flush=True))
        status = 0 if result.ok else EXIT_FAILED_FRAMES
    except BatchInterrupted as exc:
        result, status = exc.result, 128 + exc.signum
        print(f"omnicodec batch: interrupted by signal {exc.signum}; finished streams and {result.manifest} are "
              "kept; rerun with --resume to finish", file=sys.stderr)
    if args.json:
        _print_json({**result.summary, "manifest": str(result.manifest), "workers": result.workers,
                     "interrupted": result.interrupted})
    else:
        print(format_summary(result.summary))
        print(f"manifest: {result.manifest}")
    return status


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
    if args.stream is not None:
        from .errors import InputError

        if not args.stream.is_file():
            raise InputError(f"{args.stream}: no such stream file")
        bits = 8 * args.stream.stat().st_size
        count = result.get("samples") or result.get("points_reference")
        if not count:
            raise InputError("bits per sample are known for images and light fields (and point clouds, per point)")
        result["bits"] = bits
        result["bpp"] = bits / count
        result.update(_synthesised_view_quality(args.stream, result))
    if args.json:
        _print_json(result)
    else:
        grids = {k: v for k, v in result.items() if k.startswith("per_view_")}
        # point clouds: of the colour / reflectance keys, the text shows the symmetric PSNRs (all are in --json)
        attribute_keys = {k for k in result if "points_reference" in result and k.startswith(_PC_ATTRIBUTE_PREFIXES)}
        hidden = attribute_keys - set(_PC_ATTRIBUTE_SHOWN)
        width = max(len(k) for k in result if k not in attribute_keys)
        for key, value in result.items():
            if key in grids or key in hidden:
                continue
            shown = f"{value:.6f}" if isinstance(value, float) and math.isfinite(value) else value
            print(f"{key:{width}s}  {shown}")
        for key, rows in grids.items():  # light fields: one line per view row
            print(f"{key} (view rows top to bottom, columns left to right):")
            for row in rows:
                print("  " + " ".join(f"{x:7.3f}" if math.isfinite(x) else "    inf" for x in row))
    return 0


_PC_ATTRIBUTE_PREFIXES = ("y_", "cb_", "cr_", "yuv_", "reflectance_")
_PC_ATTRIBUTE_SHOWN = ("y_psnr", "cb_psnr", "cr_psnr", "yuv_psnr", "reflectance_psnr", "reflectance_peak")


def _synthesised_view_quality(stream_path: Path, result: dict) -> dict:
    """For a light-field stream in the sparse-view mode: the views it does not code (the decoder synthesised them)
    and their mean PSNR-Y / SSIM-Y, next to the coded views' (view-synthesis quality); {} for other streams."""
    from .bitstream import open_stream
    from .errors import InputError
    from .lightfield.codec import LightfieldParams

    header = open_stream(stream_path).header
    if header.codec != "lightfield" or "per_view_psnr_y" not in result:
        return {}
    params = LightfieldParams.from_header(header.params)
    psnr, ssim = np.asarray(result["per_view_psnr_y"]), np.asarray(result["per_view_ssim_y"])
    if psnr.shape != (params.rows, params.cols):
        raise InputError(f"{stream_path}: the stream codes a {params.rows}x{params.cols} grid, the light fields "
                         f"have {psnr.shape[0]}x{psnr.shape[1]} views")
    if params.sparse == 1:
        return {}
    coded = params.coded_mask
    return {"synthesised_views": int((~coded).sum()),
            "synthesised_mean_psnr_y": float(np.mean(psnr[~coded])),
            "synthesised_mean_ssim_y": float(np.mean(ssim[~coded])),
            "coded_mean_psnr_y": float(np.mean(psnr[coded])), "coded_mean_ssim_y": float(np.mean(ssim[coded]))}


def cmd_project(args: argparse.Namespace) -> int:
    """Viewports or a cubemap of an ERP panorama (geometry in :mod:`omnicodec.omni`)."""
    import re

    from . import omni
    from .errors import InputError
    from .io import IMAGE_EXTENSIONS, read, write
    from .types import ErpImage

    def views():  # -> [(yaw, pitch, roll, fov)], all checked before anything is written
        out = []
        for text in args.viewport:
            try:
                angles = tuple(float(v) for v in text.split(","))
            except ValueError:
                angles = ()
            if len(angles) != 4 or not all(math.isfinite(v) for v in angles):
                raise InputError(f"--viewport {text!r}: expected YAW,PITCH,ROLL,FOV, four numbers in degrees")
            if not 0.0 < angles[3] < 180.0:
                raise InputError(f"--viewport {text!r}: the field of view must be in (0, 180) degrees")
            out.append(angles)
        return out

    def folder(path: Path) -> Path:
        if path.exists() and not path.is_dir():
            raise InputError(f"{path}: exists and is not a folder")
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            raise InputError(f"{path}: this command writes several images into a folder; -o names the folder")
        return path

    size = None
    if args.size is not None:
        m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", args.size)
        if m is None or min(int(m[1]), int(m[2])) < 1 or args.cubemap is not None:
            raise InputError(f"--size {args.size!r}: expected HxW in pixels, e.g. 512x1024 (with --viewport only)")
        size = (int(m[1]), int(m[2]))
    if args.cubemap is not None and args.cubemap < 1:
        raise InputError(f"--cubemap {args.cubemap}: the face size must be a positive number of pixels")
    todo = views() if args.viewport else []
    many = args.cubemap is not None or len(todo) > 1 or args.output.is_dir()
    out_dir = folder(args.output) if many else None
    if not many and args.output.suffix.lower() not in IMAGE_EXTENSIONS:
        raise InputError(f"{args.output}: name a .png or .jpg image for one --viewport (or an existing folder)")
    pano = read(args.input)
    if not isinstance(pano, ErpImage):
        raise InputError(f"{args.input}: not an image (project reads an equirectangular panorama, .png or .jpg)")
    pixels = pano.pixels

    def results():  # -> (path, pixels, description), one at a time
        if args.cubemap is not None:
            faces = omni.erp_to_cubemap(pixels, args.cubemap, args.interp)
            for name, face in zip(omni.FACES, faces, strict=True):
                yield out_dir / f"{name}.png", face, f"face {name}"
            yield out_dir / "cubemap.png", omni.cubemap_layout(faces, args.layout), f"{args.layout} layout"
            return
        for i, (yaw, pitch, roll, fov) in enumerate(todo):
            name = f"viewport_{i:02d}_yaw{yaw:g}_pitch{pitch:g}_roll{roll:g}_fov{fov:g}.png"
            path = out_dir / name if out_dir is not None else args.output
            view = omni.erp_to_viewport(pixels, yaw, pitch, roll, fov, size, args.interp)
            yield path, view, f"yaw {yaw:g}, pitch {pitch:g}, roll {roll:g}, fov {fov:g}"

    for path, image, what in results():
        write(path, ErpImage(image))
        if not args.quiet:
            print(f"{args.input} -> {path} ({what}, {image.shape[1]}x{image.shape[0]})")
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="omnicodec", description="Compress point clouds, light fields and 360-degree images.")
    parser.add_argument("--version", action="version", version=f"omnicodec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("compress", help="compress a file to an .omc stream")
    p.add_argument("input", type=Path, help="point cloud (.ply .pcd .bin .las .laz), image (.png .jpg .tif ...), or "
                                            "light field (a folder of views, or .h5)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output stream (.omc)")
    p.add_argument("--codec", default=None, help="codec id (default: the modality's default; see 'info --codecs')")
    p.add_argument("--grid-step", type=float, default=None, metavar="S",
                   help="voxel size in input units: 1 for integer voxel positions, 0.001 for metres to 1 mm")
    p.add_argument("--coder", default="constriction", choices=["constriction", "torchac"], help="entropy coder")
    p.add_argument("--merge-duplicates", action="store_true", help="one point per voxel, attributes averaged")
    p.add_argument("--rate", type=int, default=None, metavar="R",
                   help="lossy coding at rate point R (1 = lowest rate; point clouds: codec 'lossy', without it "
                        "coding is lossless; images and light fields: 1-8, default 4)")
    p.add_argument("--attr-rate", type=int, default=None, metavar="R",
                   help="point clouds: code colours and intensity lossily at rate point R (1-8, 1 = fewest bits), "
                        "independently of the geometry's --rate; without it they are lossless")
    p.add_argument("--projection", default="auto", choices=["auto", "erp", "flat"],
                   help="images: 'erp' codes a 360-degree panorama with the sphere-aware codec, 'flat' as a photo; "
                        "auto (default) takes images twice as wide as high for panoramas")
    p.add_argument("--model", default=None, metavar="NAME",
                   help="point clouds: auto (default: dense or lidar, chosen from the data), dense or lidar; "
                        "images: image_wavelet (default: the wavelet core), or the hyperprior image_core "
                        "(image_erp for panoramas)")
    p.add_argument("--chroma", type=float, default=None, metavar="F",
                   help="images: chroma quantiser step relative to luma, 0.25-16 (default 1 for photos, 2.44 for "
                        "panoramas, which favour luma)")
    p.add_argument("--transform", default=None, choices=["auto", "wavelet", "dct"],
                   help="images: 'dct' codes the three finest wavelet levels with an 8x8 block DCT (images that were "
                        "JPEG; sides divisible by 8), 'wavelet' never; auto (default) chooses by estimated cost")
    p.add_argument("--sparse", type=int, default=None, metavar="S",
                   help="light fields: code only every S-th view row and column (and the last ones); the decoder "
                        "synthesises the other views")
    p.add_argument("--json", action="store_true", help="print bits, bpp, points and seconds as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=cmd_compress)

    p = sub.add_parser("decompress", help="decode an .omc stream (or a folder of them); the output format follows "
                                          "the extension")
    p.add_argument("input", type=Path, help="a stream, or a folder searched recursively for .omc streams")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="e.g. out.ply, out.pcd, out.bin, out.las; a folder when the input is one")
    p.add_argument("--format", default=None, metavar="EXT",
                   help="output format for a folder of streams: ply (default), pcd, bin, las, laz")
    p.add_argument("--json", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_decompress)

    p = sub.add_parser("batch", help="compress many point clouds (a LiDAR sequence) in parallel, resumably")
    p.add_argument("inputs", nargs="+", help="files, folders (searched recursively) or glob patterns")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="output folder; the streams mirror the input names, plus manifest.jsonl")
    p.add_argument("--codec", default=None, help="codec id (default: learned)")
    p.add_argument("--grid-step", type=float, default=None, metavar="S",
                   help="voxel size in input units: 1 for integer voxel positions, 0.001 for metres to 1 mm")
    p.add_argument("--rate", type=int, default=None, metavar="R",
                   help="rate point of a lossy codec (1 = lowest); without it, coding is lossless")
    p.add_argument("--attr-rate", type=int, default=None, metavar="R",
                   help="rate point of colours and intensity (1-8, 1 = fewest bits); without it they are lossless")
    p.add_argument("--model", default=None, metavar="NAME", help="occupancy model: auto (default), dense or lidar")
    p.add_argument("--coder", default=None, choices=["constriction", "torchac"], help="entropy coder")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="worker processes (default: CPU cores)")
    p.add_argument("--threads", type=int, default=None, metavar="T",
                   help="torch threads per worker (default: cores / workers)")
    p.add_argument("--ray", default=None, metavar="auto|ADDRESS",
                   help="run on Ray: auto starts a local instance, ADDRESS joins a cluster (e.g. 10.0.0.1:6379)")
    p.add_argument("--resume", action="store_true", help="skip frames whose stream exists and is intact")
    p.add_argument("--verify", action="store_true", help="decode each new stream and check it against its input")
    p.add_argument("--manifest", type=Path, default=None, help="manifest path (default OUTDIR/manifest.jsonl)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or log lines")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("eval", help="quality of DECODED against REFERENCE (D1/D2 PSNR, PSNR-Y, SSIM, WS-PSNR)")
    p.add_argument("reference", type=Path)
    p.add_argument("decoded", type=Path)
    p.add_argument("--peak", type=float, default=None,
                   help="PSNR peak: 1023 for 10-bit clouds, 30000 for LiDAR on a 1 mm grid (default: MPEG's automatic "
                        "peak for clouds, 255 for 8-bit images)")
    p.add_argument("--normals", type=Path, default=None,
                   help="PLY holding the reference's positions (same order) with nx,ny,nz, for D2")
    p.add_argument("--stream", type=Path, default=None, metavar="OMC",
                   help="the stream DECODED came from: also print its bits per pixel (per point for clouds; over "
                        "all views for light fields)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("info", help="print a stream's header and chunks")
    p.add_argument("input", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("project", help="render viewports or a cubemap of a 360-degree ERP panorama")
    p.add_argument("input", type=Path, help="equirectangular panorama (.png .jpg), longitude -180 at its left edge")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--viewport", action="append", metavar="YAW,PITCH,ROLL,FOV",
                      help="a perspective view, degrees: yaw 0 is the image centre (180 the seam, 90 east), pitch "
                           "+90 looks up, positive roll turns the scene counter-clockwise, FOV is horizontal; repeat "
                           "for several views; write --viewport=-30,10,0,90 for a negative yaw")
    what.add_argument("--cubemap", type=int, metavar="FACE_SIZE",
                      help="the six cube faces (px nx py ny pz nz .png) and a layout image cubemap.png")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="an image for one --viewport; a folder for several, or for --cubemap")
    p.add_argument("--size", default=None, metavar="HxW",
                   help="viewport size in pixels (default square, about the panorama's resolution: W * FOV / 360)")
    p.add_argument("--interp", default="bilinear", choices=["bilinear", "bicubic", "nearest"], help="interpolation")
    p.add_argument("--layout", default="cross", choices=["cross", "3x2"],
                   help="cubemap.png layout: a horizontal cross (ny px py nx, pz above and nz below px) or 3x2 "
                        "(px nx py / ny pz nz)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    p.set_defaults(func=cmd_project)
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
