"""Benchmark of point-cloud attribute coding (colour, intensity): the predictive attribute codec against the old
generic lossless path and MPEG G-PCC v23.

Usage: python tools/bench_attributes.py [--clouds NAME ...] [--rates A ...] [--codec octree|learned]
       [--lossy-rates R ...] [--lossy-attr-rates A ...] [--threads 2] [--json docs/bench_attributes.json]
       [--plot docs/rd_attributes.png] [--no-plot] [--quick]

Clouds (evaluation only; ``../shared/data`` or ``$OMNICODEC_SHARED_DATA``; a missing file is skipped with a note).
Every cloud is put on an integer grid first (positions / grid step, rounded; of points sharing a voxel the first
is kept, none of these three has any) and coded with ``grid_step=None``, so the geometry is lossless and the
decoded points are the input's: bpp = bits / points of that grid.

* ``dense_loot``: ``pointcloud/dense_loot/loot_vox10_patchvvc_union.ply``, 10-bit voxels as stored, ``rgb``;
* ``office1``: PCL ``pointcloud/scans/pcl_test/office1.pcd`` (metres, about 4 x 3.8 x 3.5 m), 1 mm grid, ``rgb``;
* ``kitti00/000005``: ``pointcloud/lidar/kitti00/000005.bin`` (metres), 1 mm grid, ``intensity`` (float32, 99
  distinct values in [0, 0.99]).

``--quick``: two small synthetic clouds made here (``synthetic_colour``, a coloured height field on an integer grid;
``synthetic_lidar``, rings in metres on a 1 mm grid with float intensity), attribute rates 2 and 6 and one lossy
geometry point: the test's run.

Per cloud (each in its own process after a warm-up call on 2,000 of its points; ``peak_mb`` = that process's peak
resident set, VmHWM, over all its runs):

* ``baseline``: the generic byte-plane LZMA coder that streams used before
  (``omnicodec.pointcloud.attributes.encode_attribute`` on the values in Morton order of the voxels); its seconds
  are that call and ``decode_attribute``, attribute only;
* ``lossless`` (``attr_rate=None``) and ``a1`` .. ``a8`` (``attr_rate`` 1..8, 1 = fewest bits):
  ``omnicodec.compress(cloud, codec=--codec, attr_rate=A)`` and ``decompress`` (``method`` says which coder the
  stream used: ``pred``, the predictive codec, for lossless attributes and intensity; ``raht`` for lossy colours).
  Attribute bits = 8 x the bytes of the stream's ``ATTR`` chunk of the attribute (``omnicodec.bitstream.unpack``);
  ``attr_bpp`` = those bits per point, ``total_bpp`` = the whole stream. ``encode_s`` / ``decode_s`` time the
  whole calls (geometry included); ``attr_encode_s`` / ``attr_decode_s`` are those minus the same calls on the
  cloud without attributes (timed once per cloud), so they carry the timer noise of both;
* quality on the decoded cloud: colour ``omnicodec.metrics.colour_psnr`` (pc_error rules; the symmetric value, Y,
  Cb, Cr and (6Y + Cb + Cr) / 8), intensity ``omnicodec.metrics.reflectance_psnr`` (peak = the frame's range,
  max - min); lossless rows are checked to decode bit-exactly instead (PSNR None);
* ``order0_bpp``: the order-0 entropy of the attribute values (scalars: of the values; colours: the sum over the
  three channels of each channel's entropy), bits per point;
* lossy geometry (``dense_loot``, and ``synthetic_colour`` in ``--quick``): ``codec="lossy"`` at geometry rate points
  ``--lossy-rates`` with ``--lossy-attr-rates``; seconds each way for the whole calls (after the warm-up, without
  process start), attribute bits, total bpp, and colour PSNR of the decoded cloud against the input (geometry and
  colour error together, so not comparable with the lossless-geometry rows). The cloud without attributes is also
  coded once per geometry rate (``clouds_info[...]["lossy_geometry"]``): these rows' ``attr_encode_s`` /
  ``attr_decode_s`` are the whole calls minus those (so the encoder's reconstruction of the decoded points, which
  only runs when there are attributes, counts as attribute time), and ``recolour_s`` times
  ``omnicodec.pointcloud.recolour.transfer_attributes`` of the cloud onto that decoded geometry (the bench's call,
  not the codec's own, which targets the voxel centres).

G-PCC v23 anchors on loot (quoted from the issue, not measured here: the MPEG reference software is not installed;
lossless geometry, attribute bits per input point / Y-PSNR dB): RAHT 0.00597/29.101 0.01329/30.511 0.03784/32.511
0.11125/35.427 0.27626/38.956 0.60200/42.662, lossless 7.104 bpp; predicting/lifting 0.01678/30.824
0.03928/32.644 0.09678/35.110 0.21449/37.761 0.44960/40.596 0.90427/43.997, predictive lossless 6.190 bpp.
BD-rate and BD-PSNR (PCHIP, ``omnicodec.metrics.bdrate``, over the overlapping Y-PSNR range, stored beside each
value) of our lossy rows on loot against both; None with a note when a curve is not increasing or does not overlap.

Targets (printed, stored with ``met``; None when not measured): loot BD-rate vs RAHT <= -10 %; loot lossless
<= 6.0 bpp; KITTI intensity lossless <= 0.9 x its order-0 entropy; loot attribute share of encode and of decode
<= 5 s at every rate; loot lossy geometry + colour <= 6 s each way at every point run.

JSON: clouds, rates, every row, ``clouds_info`` (points, order-0 entropy, geometry-only seconds, peak), ``gpcc_v23``,
``bd_rate_y``, ``bd_psnr_y``, ``bd_overlap_y``, targets, notes, command, versions. Plot: Y-PSNR against attribute
bpp (log scale) for every colour cloud run with lossless geometry, with the G-PCC points on loot.
"""

from __future__ import annotations

import argparse
import datetime
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

from tools.bench_erp import _peak_mb  # noqa: E402
from tools.bench_image import DATA, finite, fmt, monotonic, note, pct  # noqa: E402

CLOUDS = {
    "dense_loot": {"path": "pointcloud/dense_loot/loot_vox10_patchvvc_union.ply", "grid_step": None,
                   "attribute": "rgb", "lossy": True},
    "office1": {"path": "pointcloud/scans/pcl_test/office1.pcd", "grid_step": 0.001, "attribute": "rgb"},
    "kitti00/000005": {"path": "pointcloud/lidar/kitti00/000005.bin", "grid_step": 0.001, "attribute": "intensity"},
}
SYNTHETIC = {
    "synthetic_colour": {"path": None, "grid_step": None, "attribute": "rgb", "lossy": True},
    "synthetic_lidar": {"path": None, "grid_step": 0.001, "attribute": "intensity"},
}
LOOT = "dense_loot"
KITTI = "kitti00/000005"
DEFAULT_RATES = list(range(1, 9))
QUICK_RATES = [2, 6]
DEFAULT_LOSSY_RATES = [1, 3, 5]
DEFAULT_LOSSY_ATTR_RATES = [2, 5]
QUICK_LOSSY_RATES = [5]
QUICK_LOSSY_ATTR_RATES = [4]
WARMUP_POINTS = 2000
CHILD_TIMEOUT_S = 3600
RAHT, PRED_LIFT = "G-PCC v23 RAHT", "G-PCC v23 pred-lift"
GPCC_V23 = {  # loot, lossless geometry: attribute bits per input point and Y-PSNR (dB); quoted from the issue
    "source": "the issue (quoted, not measured here: the MPEG reference software is not installable here)",
    RAHT: {"bpp": [0.00597, 0.01329, 0.03784, 0.11125, 0.27626, 0.60200],
           "psnr_y": [29.101, 30.511, 32.511, 35.427, 38.956, 42.662], "lossless_bpp": 7.104},
    PRED_LIFT: {"bpp": [0.01678, 0.03928, 0.09678, 0.21449, 0.44960, 0.90427],
                "psnr_y": [30.824, 32.644, 35.110, 37.761, 40.596, 43.997], "lossless_bpp": 6.190,
                "lossless_note": "predictive lossless"},
}
BD_TARGET = (RAHT, -10.0)
LOSSLESS_TARGET_BPP = 6.0
ENTROPY_TARGET_FACTOR = 0.9
ATTR_SECONDS_TARGET = 5.0
LOSSY_SECONDS_TARGET = 6.0


# ------------------------------------------------------------------------------------------------ data


def synthetic_cloud(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(positions, attribute values) of a small synthetic cloud (deterministic)."""
    rng = np.random.default_rng(7)
    if name == "synthetic_colour":  # a smooth coloured height field, 48 x 48 voxels
        y, x = np.mgrid[0:48, 0:48]
        z = np.rint(12 + 8 * np.sin(x / 7.0) * np.cos(y / 9.0))
        pos = np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1).astype(np.float64)
        rgb = np.stack([4 * x.ravel() + 30, 5 * y.ravel(), 150 + 60 * np.sin(x.ravel() / 5.0)], axis=1)
        rgb = np.clip(np.rint(rgb + rng.normal(0, 3, rgb.shape)), 0, 255).astype(np.uint8)
        return pos, rgb
    # LiDAR-like: 16 rings in metres, intensity on a 0.01 grid that falls with range
    ring = np.repeat(np.arange(16), 150)
    phi = np.tile(np.linspace(0, 2 * np.pi, 150, endpoint=False), 16) + rng.uniform(0, 0.01, ring.size)
    r = 4.0 + 1.5 * ring + rng.normal(0, 0.02, ring.size)
    pos = np.stack([r * np.cos(phi), r * np.sin(phi), -1.7 + 0.02 * ring], axis=1)
    inten = np.clip(np.round(0.6 - 0.02 * ring + 0.15 * np.sin(3 * phi) + rng.normal(0, 0.03, ring.size), 2), 0, 0.99)
    return pos, inten.astype(np.float32)


def load_cloud(name: str, spec: dict, data: Path):
    """The cloud on its integer grid (see the module docstring) and its attribute name."""
    import omnicodec
    from omnicodec.types import PointCloud

    attr = spec["attribute"]
    if spec["path"] is None:
        pos, values = synthetic_cloud(name)
    else:
        cloud = omnicodec.read(data / spec["path"])
        if attr not in cloud.attributes:
            raise RuntimeError(f"{name}: {spec['path']} has no {attr!r} attribute")
        pos, values = cloud.positions, cloud.attributes[attr]
    p = np.asarray(pos, np.float64)
    q = np.rint(p / spec["grid_step"] if spec["grid_step"] else p).astype(np.int64)
    _, first = np.unique(q, axis=0, return_index=True)
    first = np.sort(first)  # input order, one point per voxel
    return PointCloud(q[first].astype(np.int32), {attr: np.ascontiguousarray(values[first])}), attr


def order0_bpp(values: np.ndarray) -> float:
    """Order-0 entropy in bits per point: of the values (scalars) or the sum over channels (colours)."""
    v = values.reshape(len(values), -1)
    total = 0.0
    for c in range(v.shape[1]):
        _, counts = np.unique(v[:, c], return_counts=True)
        p = counts / counts.sum()
        total += float(-(p * np.log2(p)).sum())
    return total


def morton_order(positions: np.ndarray) -> np.ndarray:
    """The point order of the octree codec's decoder: Morton order of the voxels (origin at the minimum)."""
    from omnicodec.pointcloud.octree import morton_encode

    q = positions.astype(np.int64)
    return np.argsort(morton_encode(q - q.min(axis=0)), kind="stable")


def attribute_chunks(stream: bytes) -> tuple[dict[str, int], dict[str, dict], dict[str, int]]:
    """Bytes of each attribute's ``ATTR`` chunks, the header entry of each, and the bytes of every chunk tag."""
    from omnicodec.bitstream import unpack

    s = unpack(stream)
    specs = [a for a in s.header.params.get("attributes", []) if isinstance(a, dict)]
    payloads = s.chunks_named("ATTR")
    if len(specs) != len(payloads):
        raise RuntimeError(f"{len(payloads)} ATTR chunks for {len(specs)} attribute entries")
    sizes: dict[str, int] = {}
    for spec, payload in zip(specs, payloads, strict=True):
        sizes[spec["name"]] = sizes.get(spec["name"], 0) + len(payload)
    tags: dict[str, int] = {}
    for c in s.chunks:
        tags[c.tag] = tags.get(c.tag, 0) + len(c.data)
    return sizes, {spec["name"]: spec for spec in specs}, tags


# ------------------------------------------------------------------------------------------------ worker


def quality(reference, decoded, attr: str) -> dict:
    """PSNR of the decoded attribute against the reference cloud (symmetric, pc_error rules)."""
    from omnicodec.metrics import colour_psnr, reflectance_psnr

    if attr == "rgb":
        m = colour_psnr(reference, decoded)
        return {"psnr_y": finite(m["y_psnr"]), "psnr_cb": finite(m["cb_psnr"]), "psnr_cr": finite(m["cr_psnr"]),
                "psnr_yuv": finite(m["yuv_psnr"])}
    m = reflectance_psnr(reference, decoded, name=attr)
    return {"psnr_intensity": finite(m["reflectance_psnr"]), "intensity_peak": float(m["reflectance_peak"])}


def same_attribute(reference, decoded, attr: str) -> bool:
    """True when the decoded cloud has the reference's points, each with its exact attribute value."""
    if len(decoded) != len(reference) or attr not in decoded.attributes:
        return False
    a = np.lexsort(reference.positions.T.astype(np.int64))
    b = np.lexsort(decoded.positions.T.astype(np.int64))
    if not np.array_equal(reference.positions[a].astype(np.int64), decoded.positions[b].astype(np.int64)):
        return False
    ra, da = reference.attributes[attr][a], decoded.attributes[attr][b]
    return ra.dtype == da.dtype and np.array_equal(ra.view(np.uint8), da.view(np.uint8))


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def worker(job: dict) -> dict:
    """Child process: one cloud, every mode; returns its rows, facts and notes."""
    import torch

    import omnicodec
    from omnicodec.pointcloud.attributes import attribute_spec, decode_attribute, encode_attribute
    from omnicodec.pointcloud.recolour import transfer_attributes
    from omnicodec.types import PointCloud

    torch.set_num_threads(job["threads"])
    name, spec, codec = job["cloud"], job["spec"], job["codec"]
    cloud, attr = load_cloud(name, spec, Path(job["data"]))
    n = len(cloud)
    geometry = PointCloud(cloud.positions)
    values = cloud.attributes[attr]
    notes: list[str] = []
    base = {"cloud": name, "attribute": attr, "points": n}
    rows: list[dict] = []

    # the old path: generic byte-plane LZMA in Morton order (attribute only)
    ordered = np.ascontiguousarray(values[morton_order(cloud.positions)])
    payload, enc_s = _timed(encode_attribute, ordered)
    back, dec_s = _timed(decode_attribute, payload, attribute_spec(attr, ordered), n)
    rows.append({**base, "mode": "baseline", "codec": "generic-lzma", "attr_rate": None, "geometry_rate": None,
                 "attr_bytes": len(payload), "attr_bpp": 8 * len(payload) / n, "total_bpp": None,
                 "encode_s": enc_s, "decode_s": dec_s, "attr_encode_s": enc_s, "attr_decode_s": dec_s,
                 "exact": bool(np.array_equal(back, ordered)), "method": "generic"})

    # warm-up (libraries, models) on a piece of the cloud, then the geometry alone
    probe = cloud.select(morton_order(cloud.positions)[:WARMUP_POINTS])
    for ar in (None, 4):
        try:
            omnicodec.decompress(omnicodec.compress(probe, codec=codec, attr_rate=ar))
        except Exception as e:  # noqa: BLE001 - reported per row below
            notes.append(f"{name}: warm-up with attr_rate={ar} failed: {type(e).__name__}: {e}")
    geo_stream, geo_enc = _timed(omnicodec.compress, geometry, codec=codec)
    _, geo_dec = _timed(omnicodec.decompress, geo_stream)
    rows[0]["total_bpp"] = 8 * (len(geo_stream) + len(payload)) / n

    def ours(mode: str, attr_rate, **options) -> dict | None:
        try:
            stream, enc = _timed(omnicodec.compress, cloud, attr_rate=attr_rate, **options)
            decoded, dec = _timed(omnicodec.decompress, stream)
            sizes, specs, tags = attribute_chunks(stream)
        except Exception as e:  # noqa: BLE001 - the codec may not be ready: a note, not a crash
            notes.append(f"{name} {mode}: {type(e).__name__}: {e}")
            return None
        return {**base, "mode": mode, "codec": options["codec"], "attr_rate": attr_rate,
                "geometry_rate": options.get("rate"), "decoded_points": len(decoded),
                "attr_bytes": sizes.get(attr, 0), "attr_bpp": 8 * sizes.get(attr, 0) / n,
                "total_bpp": 8 * len(stream) / n, "chunks": tags, "encode_s": enc, "decode_s": dec,
                "method": specs.get(attr, {}).get("method", "generic"), "_decoded": decoded}

    for ar in [None, *job["rates"]]:
        r = ours("lossless" if ar is None else f"a{ar}", ar, codec=codec)
        if r is None:
            continue
        decoded = r.pop("_decoded")
        r["attr_encode_s"], r["attr_decode_s"] = r["encode_s"] - geo_enc, r["decode_s"] - geo_dec
        r["exact"] = same_attribute(cloud, decoded, attr) if ar is None else None
        if ar is not None:
            r.update(quality(cloud, decoded, attr))
        elif not r["exact"]:
            notes.append(f"{name}: lossless attributes did NOT decode exactly")
        rows.append(r)

    lossy_geometry: dict[str, dict] = {}
    if spec.get("lossy") and job["lossy_rates"] and job["lossy_attr_rates"]:
        for p, ar in ((PointCloud(probe.positions), None), (probe, 4)):  # warm-up: geometry, then attributes
            try:
                omnicodec.decompress(omnicodec.compress(p, codec="lossy", rate=1, attr_rate=ar))
            except Exception as e:  # noqa: BLE001
                notes.append(f"{name}: lossy warm-up failed: {type(e).__name__}: {e}")
        for g in job["lossy_rates"]:
            # the same geometry without attributes, and our recolouring onto its decoded points, timed apart
            try:
                stream, enc = _timed(omnicodec.compress, geometry, codec="lossy", rate=g)
                decoded, dec = _timed(omnicodec.decompress, stream)
                _, rec = _timed(transfer_attributes, cloud, decoded.positions)
                lossy_geometry[str(g)] = {"bpp": 8 * len(stream) / n, "decoded_points": len(decoded),
                                          "encode_s": enc, "decode_s": dec, "recolour_s": rec}
            except Exception as e:  # noqa: BLE001
                notes.append(f"{name} lossy g{g} geometry only: {type(e).__name__}: {e}")
            geo = lossy_geometry.get(str(g))
            for ar in job["lossy_attr_rates"]:
                r = ours(f"lossy g{g} a{ar}", ar, codec="lossy", rate=g)
                if r is None:
                    continue
                decoded = r.pop("_decoded")
                r["geometry_bpp"] = r["total_bpp"] - r["attr_bpp"]
                r["attr_bpp_decoded_points"] = 8 * r["attr_bytes"] / max(len(decoded), 1)
                if geo:
                    r["attr_encode_s"] = r["encode_s"] - geo["encode_s"]
                    r["attr_decode_s"] = r["decode_s"] - geo["decode_s"]
                r.update(quality(cloud, decoded, attr))
                rows.append(r)

    info = {"points": n, "attribute": attr, "dtype": str(values.dtype), "grid_step": spec["grid_step"],
            "order0_bpp": order0_bpp(values), "geometry_codec": codec, "geometry_bpp": 8 * len(geo_stream) / n,
            "geometry_encode_s": geo_enc, "geometry_decode_s": geo_dec, "lossy_geometry": lossy_geometry,
            "peak_mb": _peak_mb()}
    return {"rows": rows, "info": info, "notes": notes}


def run_child(job: dict) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(job["threads"]), "MKL_NUM_THREADS": str(job["threads"])}
    r = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(job)],
                       capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT_S)
    if r.returncode:
        last = (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[-1]
        raise RuntimeError(f"{job['cloud']}: {last}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------ analysis


def our_curve(rows: list[dict], cloud: str) -> list[tuple[float, float]]:
    """(attribute bpp, Y-PSNR) of our lossy-attribute rows on lossless geometry, by rising bpp."""
    return sorted((r["attr_bpp"], r["psnr_y"]) for r in rows
                  if r["cloud"] == cloud and r["mode"].startswith("a") and r.get("psnr_y") is not None)


def bd_tables(rows: list[dict]) -> tuple[dict, dict, dict, list[str]]:
    """BD-rate (%), BD-PSNR (dB) and overlap (dB) of ours on loot against the quoted G-PCC curves; notes."""
    from omnicodec.errors import InputError
    from omnicodec.metrics.bdrate import bd_psnr, bd_rate

    rate, psnr, overlap, notes = {}, {}, {}, []
    pts = our_curve(rows, LOOT)
    if not pts:
        return rate, psnr, overlap, notes
    ok = monotonic(pts)
    if not ok:
        notes.append(f"{LOOT}: our Y-PSNR does not increase with rate "
                     f"({', '.join(f'{q:.2f}' for _, q in pts)} dB by rising bpp); BD-rates are None")
    for ref in (RAHT, PRED_LIFT):
        a = GPCC_V23[ref]
        rate[ref] = psnr[ref] = overlap[ref] = None
        if not ok:
            continue
        bpp, q = zip(*pts, strict=True)
        try:
            rate[ref] = bd_rate(a["bpp"], a["psnr_y"], bpp, q)
            overlap[ref] = [max(min(a["psnr_y"]), min(q)), min(max(a["psnr_y"]), max(q))]
        except InputError as e:
            notes.append(f"{LOOT} vs {ref}: no BD-rate ({e})")
        try:
            psnr[ref] = bd_psnr(a["bpp"], a["psnr_y"], bpp, q)
        except InputError as e:
            notes.append(f"{LOOT} vs {ref}: no BD-PSNR ({e})")
    return rate, psnr, overlap, notes


def _target(text: str, value, limit: float, met_if_le: bool = True) -> dict:
    return {"target": text, "value": value, "limit": limit,
            "met": None if value is None else (value <= limit if met_if_le else value >= limit)}


def check_targets(rows: list[dict], info: dict, bd: dict) -> list[dict]:
    out = [_target(f"{LOOT}: lossy attributes BD-rate (Y-PSNR, attribute bits) vs {BD_TARGET[0]} <= "
                   f"{BD_TARGET[1]:+.0f} %", bd.get(BD_TARGET[0]), BD_TARGET[1])]
    lossless = {r["cloud"]: r for r in rows if r["mode"] == "lossless"}
    r = lossless.get(LOOT)
    out.append(_target(f"{LOOT}: lossless attributes <= {LOSSLESS_TARGET_BPP} bpp", r and r["attr_bpp"],
                       LOSSLESS_TARGET_BPP))
    r, k = lossless.get(KITTI), info.get(KITTI)
    limit = ENTROPY_TARGET_FACTOR * k["order0_bpp"] if k else None
    t = _target(f"{KITTI}: lossless intensity <= {ENTROPY_TARGET_FACTOR} x order-0 entropy"
                + (f" ({k['order0_bpp']:.3f} bpp)" if k else ""), r and r["attr_bpp"], limit or 0.0)
    t["limit"] = limit
    out.append(t)
    mine = [r for r in rows if r["cloud"] == LOOT and (r["mode"] == "lossless" or r["mode"][:1] == "a")]
    for key in ("attr_encode_s", "attr_decode_s"):
        worst = max(mine, key=lambda r, k=key: r[k]) if mine else None
        t = _target(f"{LOOT}: {key} (whole call minus geometry-only) <= {ATTR_SECONDS_TARGET:g} s at every rate",
                    worst and worst[key], ATTR_SECONDS_TARGET)
        t["mode"] = worst and worst["mode"]
        out.append(t)
    lossy = [r for r in rows if r["cloud"] == LOOT and r["mode"].startswith("lossy")]
    for key in ("encode_s", "decode_s"):
        worst = max(lossy, key=lambda r, k=key: r[k]) if lossy else None
        t = _target(f"{LOOT}: lossy geometry + colour {key} <= {LOSSY_SECONDS_TARGET:g} s at every point run",
                    worst and worst[key], LOSSY_SECONDS_TARGET)
        t["mode"] = worst and worst["mode"]
        out.append(t)
    return out


# ------------------------------------------------------------------------------------------------ output


def print_rows(rows: list[dict], info: dict) -> None:
    print(f"{'cloud':<18}{'mode':<14}{'points':>8}{'attr bpp':>10}{'total bpp':>10}{'Y':>7}{'Cb':>7}{'Cr':>7}"
          f"{'I':>7}{'enc s':>7}{'dec s':>7}{'attr enc':>9}{'attr dec':>9}  exact")
    for r in rows:
        psnr = [fmt(r.get(k)) if k in r else "" for k in ("psnr_y", "psnr_cb", "psnr_cr", "psnr_intensity")]
        total = fmt(r["total_bpp"], ".4f") if r.get("total_bpp") is not None else "-"
        exact = {True: "yes", False: "no", None: ""}[r.get("exact")]
        print(f"{r['cloud']:<18}{r['mode']:<14}{r['points']:>8}{r['attr_bpp']:>10.4f}{total:>10}"
              + "".join(f"{p:>7}" for p in psnr)
              + f"{r['encode_s']:>7.2f}{r['decode_s']:>7.2f}{fmt(r.get('attr_encode_s')):>9}"
              f"{fmt(r.get('attr_decode_s')):>9}  {exact}")
    print()
    for name, i in info.items():
        print(f"{name:<18}{i['attribute']} {i['dtype']}, order-0 entropy {i['order0_bpp']:.3f} bpp; geometry "
              f"({i['geometry_codec']}) {i['geometry_bpp']:.3f} bpp, {i['geometry_encode_s']:.2f} s / "
              f"{i['geometry_decode_s']:.2f} s; peak {i['peak_mb']:.0f} MB")
        for g, x in i.get("lossy_geometry", {}).items():
            print(f"{'':<18}lossy geometry only, rate {g}: {x['bpp']:.4f} bpp, {x['decoded_points']} points, "
                  f"{x['encode_s']:.2f} s / {x['decode_s']:.2f} s; recolouring onto it {x['recolour_s']:.2f} s")


def print_gpcc(rows: list[dict], bd: dict, bdp: dict, overlap: dict) -> None:
    print(f"\nG-PCC v23 on {LOOT} (quoted from the issue, not measured here): attribute bpp / Y-PSNR dB")
    for ref in (RAHT, PRED_LIFT):
        a = GPCC_V23[ref]
        pts = "  ".join(f"{b:.5f}/{q:.3f}" for b, q in zip(a["bpp"], a["psnr_y"], strict=True))
        print(f"  {ref:<20} {pts}  lossless {a['lossless_bpp']:.3f}")
    ours = our_curve(rows, LOOT)
    if ours:
        print(f"  {'ours':<20} " + "  ".join(f"{b:.5f}/{q:.3f}" for b, q in ours))
    lossless = next((r for r in rows if r["cloud"] == LOOT and r["mode"] == "lossless"), None)
    if lossless:
        print(f"  ours lossless {lossless['attr_bpp']:.3f} bpp = "
              + ", ".join(f"{lossless['attr_bpp'] / GPCC_V23[ref]['lossless_bpp']:.3f} x {ref}"
                          for ref in (RAHT, PRED_LIFT)))
    if bd:
        print("BD-rate of ours (Y-PSNR, attribute bits; PCHIP over the overlapping Y-PSNR range) / BD-PSNR")
        for ref in bd:
            span = overlap.get(ref)
            print(f"  vs {ref:<20} {pct(bd[ref])}" + (f" [{span[0]:.1f}-{span[1]:.1f} dB]" if span else "")
                  + f"   {fmt(bdp.get(ref), '+.2f')} dB")


def print_targets(targets: list[dict]) -> None:
    print("\nTargets")
    for t in targets:
        state = {True: "met", False: "NOT met", None: "n/a (not measured)"}[t["met"]]
        value = "" if t["value"] is None else f" ({t['value']:+.1f} %)" if "BD" in t["target"] else \
            f" ({t['value']:.3f}" + (f", {t['mode']}" if t.get("mode") else "") + \
            (f"; limit {t['limit']:.3f}" if t["limit"] is not None else "") + ")"
        print(f"  {t['target']}: {state}{value}")


def plot(rows: list[dict], clouds: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    colour = [c for c in clouds if our_curve(rows, c)]
    if not colour:
        return
    fig, axes = plt.subplots(1, len(colour), figsize=(5.6 * len(colour), 4.4), squeeze=False)
    for ax, cloud in zip(axes[0], colour, strict=True):
        ax.plot(*zip(*our_curve(rows, cloud), strict=True), "o-", lw=2, color="C0", label="ours (attr_rate 1..8)")
        if cloud == LOOT:
            for i, ref in enumerate((RAHT, PRED_LIFT)):
                ax.plot(GPCC_V23[ref]["bpp"], GPCC_V23[ref]["psnr_y"], "s--", color=f"C{i + 1}", lw=1.2,
                        label=f"{ref} (quoted)")
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_title(f"{cloud}: colour, lossless geometry")
        ax.set_xlabel("attribute bits per point")
        ax.set_ylabel("Y-PSNR (dB)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def versions() -> dict:
    import scipy

    import omnicodec

    v = {"omnicodec": omnicodec.__version__, "python": platform.python_version(), "numpy": np.__version__,
         "scipy": scipy.__version__}
    try:
        import torch

        v["torch"] = torch.__version__
    except ImportError:
        pass
    return v


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clouds", nargs="+", choices=[*CLOUDS, *SYNTHETIC],
                   help="clouds (default: the three real ones; --quick: the synthetic ones)")
    p.add_argument("--rates", nargs="+", type=int, help="attribute rate points (default 1..8; --quick: 2 6)")
    p.add_argument("--codec", default="octree", choices=["octree", "learned"],
                   help="geometry codec of the lossless-geometry rows (default octree)")
    p.add_argument("--lossy-rates", nargs="*", type=int,
                   help="geometry rate points of the lossy codec (default 1 3 5; --quick: 5; none: skip)")
    p.add_argument("--lossy-attr-rates", nargs="*", type=int, help="attr_rate with lossy geometry (default 2 5)")
    p.add_argument("--threads", type=int, default=2, help="torch threads in each child (default 2)")
    p.add_argument("--data", type=Path, default=DATA, help="shared data folder")
    p.add_argument("--json", type=Path, default=REPO / "docs" / "bench_attributes.json", help="JSON output path")
    p.add_argument("--plot", type=Path, default=REPO / "docs" / "rd_attributes.png", help="RD plot (PNG) path")
    p.add_argument("--no-plot", action="store_true", help="skip the plot")
    p.add_argument("--quick", action="store_true", help="small synthetic clouds, 2 rates (the test's run)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return args
    args.clouds = args.clouds or list(SYNTHETIC if args.quick else CLOUDS)
    args.rates = args.rates or (QUICK_RATES if args.quick else DEFAULT_RATES)
    if args.lossy_rates is None:
        args.lossy_rates = QUICK_LOSSY_RATES if args.quick else DEFAULT_LOSSY_RATES
    if args.lossy_attr_rates is None:
        args.lossy_attr_rates = QUICK_LOSSY_ATTR_RATES if args.quick else DEFAULT_LOSSY_ATTR_RATES
    if any(r < 1 or r > 8 for r in [*args.rates, *args.lossy_rates, *args.lossy_attr_rates]):
        p.error("rates must be integers from 1 to 8")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    started = time.perf_counter()
    command = " ".join([Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)])
    specs = {**CLOUDS, **SYNTHETIC}
    rows: list[dict] = []
    info: dict[str, dict] = {}
    notes: list[str] = []
    for name in args.clouds:
        spec = specs[name]
        if spec["path"] is not None and not (args.data / spec["path"]).is_file():
            msg = f"{name}: {args.data / spec['path']} not found; skipped"
            note(msg)
            notes.append(msg)
            continue
        print(f"bench_attributes: {name} ...", file=sys.stderr, flush=True)
        job = {"cloud": name, "spec": spec, "data": str(args.data), "codec": args.codec, "rates": args.rates,
               "lossy_rates": args.lossy_rates, "lossy_attr_rates": args.lossy_attr_rates, "threads": args.threads}
        try:
            out = run_child(job)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            msg = f"{name} failed: {e}"
            note(msg)
            notes.append(msg)
            continue
        rows += out["rows"]
        info[name] = out["info"]
        for n in out["notes"]:
            note(n)
        notes += out["notes"]
    elapsed = time.perf_counter() - started

    print_rows(rows, info)
    bd, bdp, overlap, bd_notes = bd_tables(rows)
    print_gpcc(rows, bd, bdp, overlap)
    targets = check_targets(rows, info, bd)
    print_targets(targets)
    for n in bd_notes:
        note(n)
    notes += bd_notes
    result = {
        "bench": "attributes", "date": datetime.datetime.now().isoformat(timespec="seconds"), "command": command,
        "clouds": {c: specs[c] for c in args.clouds}, "codec": args.codec, "rates": args.rates,
        "lossy_rates": args.lossy_rates, "lossy_attr_rates": args.lossy_attr_rates, "threads": args.threads,
        "notes": notes, "seconds": elapsed, "versions": versions(),
        "scoring": "attr_bpp = 8 x bytes of the attribute's ATTR chunk / points; total_bpp = the whole stream; "
                   "PSNR symmetric (pc_error rules); attr_encode_s / attr_decode_s = whole call minus the call on "
                   "the cloud without attributes",
        "memory": "peak_mb (clouds_info): peak RSS (VmHWM, MiB) of the child process that ran every mode of the "
                  "cloud",
        "clouds_info": info, "gpcc_v23": GPCC_V23, "bd_rate_y": bd, "bd_psnr_y": bdp, "bd_overlap_y": overlap,
        "targets": targets, "rows": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {args.json}", end="")
    if not args.no_plot:
        plot(rows, list(info), args.plot)
        print(f", {args.plot}", end="")
    print(f" ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
