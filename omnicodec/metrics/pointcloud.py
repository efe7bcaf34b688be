"""Point-cloud geometry metrics exactly as MPEG pc_error 0.14.2 computes them, plus the Chamfer distance.

D1 (point-to-point) and D2 (point-to-plane) mean squared errors, their PSNR and the Hausdorff values, with every rule
of pc_error (the project's ``shared/data/reference/metric_refs/README.md`` spells them out, and its six cases are the
golden tests):

* coordinates are float32; each cloud is sorted lexicographically on (x, y, z) (stable) and each run of equal
  positions is cut down to its first point; all counts and means use the deduplicated clouds;
* D1 term of a point p of P: squared distance to its nearest neighbour in Q;
* D2 term: the mean over the equal-distance set S(p) (see :mod:`._neighbours`) of ((p - q) . n_q)^2, each term in
  float32, summed in float64; with a NaN in n_q the term is the signed sum of the components of p - q instead;
* A->B uses the normals that :func:`~.normals.transfer_normals` gives B; B->A uses A's normals;
* mse = sum of terms / |P|; Hausdorff = the largest term (a *squared* distance), starting from DBL_MIN;
* PSNR = 10 log10(3 peak^2 / value), +inf for a zero value;
* the symmetric value is the worse direction, for D1 and D2 independently.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from scipy.spatial import cKDTree

from ..errors import InputError
from ..types import PointCloud
from ._neighbours import NeighbourSets, build_tree, equal_distance_sets, squared_distances_f32
from .attributes import attribute_metrics
from .normals import DEFAULT_NORMALS_K, estimate_normals, transfer_normals

__all__ = ["point_metrics", "pc_psnr", "auto_peak", "chamfer_distance", "prepare_cloud"]

DBL_MIN = sys.float_info.min  # 2.2250738585072014e-308, pc_error's starting value of the Hausdorff maximum
_AUTO_PEAK_MIN_SQ = 1e-10


def _positions(cloud: PointCloud | np.ndarray, name: str) -> np.ndarray:
    pos = cloud.positions if isinstance(cloud, PointCloud) else np.asarray(cloud)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise InputError(f"{name} positions must have shape (N, 3), got {pos.shape}")
    if len(pos) == 0:
        raise InputError(f"{name} point cloud is empty")
    if not (np.issubdtype(pos.dtype, np.floating) or np.issubdtype(pos.dtype, np.integer)):
        raise InputError(f"{name} positions must be real or integer, got dtype {pos.dtype}")
    pos32 = pos.astype(np.float32)
    if not np.isfinite(pos32).all():
        raise InputError(f"{name} positions must be finite (after conversion to float32)")
    return pos32


def prepare_cloud(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort lexicographically on (x, y, z), keeping file order among equal points, and drop repeated positions.

    Args:
        positions: (N, 3) float32.

    Returns:
        (points, kept): the (M, 3) float32 sorted unique points, and (M,) int64 the row of ``positions`` each comes
        from (the first row holding that position).
    """
    order = np.lexsort((positions[:, 2], positions[:, 1], positions[:, 0]))
    srt = positions[order]
    first = np.ones(len(srt), dtype=bool)
    first[1:] = (srt[1:] != srt[:-1]).any(axis=1)
    return srt[first], order[first].astype(np.int64)


def pc_psnr(value: float, peak: float) -> float:
    """pc_error's PSNR: 10 log10(3 peak^2 / value) in float64.

    Args:
        value: a mean squared error or a Hausdorff value (squared distance), in squared position units.
        peak: the peak distance, in position units.

    Returns:
        The PSNR in dB: +inf when value is 0 or when 3 peak^2 / value overflows float64 (as pc_error prints it).
    """
    value = float(value)
    if math.isnan(value):
        return math.nan
    if value == 0.0:
        return math.inf
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        ratio = np.float64(3.0) * (np.float64(peak) * np.float64(peak)) / np.float64(value)
        return float(10.0 * np.log10(ratio))


def auto_peak(reference: PointCloud | np.ndarray, *, workers: int = -1) -> float:
    """pc_error's automatic peak: the largest nearest-neighbour distance within the reference cloud.

    The cloud is converted to float32 and deduplicated first; a point counts only when its nearest hit is itself and
    the next squared distance exceeds 1e-10.

    Args:
        reference: (N, 3) positions or a PointCloud.
        workers: threads for the kd-tree search.

    Returns:
        The peak distance in position units (float64).

    Raises:
        InputError: on a bad cloud, or when no point has a distinct neighbour.
    """
    points32, _ = prepare_cloud(_positions(reference, "reference"))
    return _auto_peak(points32, build_tree(points32), workers)


def _auto_peak(points32: np.ndarray, tree: cKDTree, workers: int) -> float:
    """auto_peak of sorted, deduplicated float32 points, with their kd-tree."""
    if len(points32) < 2:
        raise InputError("the automatic peak needs at least 2 distinct reference points; pass peak=")
    _, idx = tree.query(points32.astype(np.float64), k=2, workers=workers)
    idx = np.asarray(idx, dtype=np.int64)
    sq = squared_distances_f32(points32, points32, idx)
    ok = (idx[:, 0] == np.arange(len(points32))) & (sq[:, 1] > _AUTO_PEAK_MIN_SQ)
    if not ok.any():
        raise InputError("no reference point has a distinct neighbour; pass peak=")
    return math.sqrt(float(sq[ok, 1].max()))


def _running_sum(values: np.ndarray) -> float:
    """Left-to-right float64 sum (pc_error adds the per-point terms one by one)."""
    return float(np.cumsum(values, dtype=np.float64)[-1]) if values.size else 0.0


def _hausdorff(terms: np.ndarray) -> float:
    finite = terms[~np.isnan(terms)]
    return max(DBL_MIN, float(finite.max())) if finite.size else DBL_MIN


def _plane_terms(p32: np.ndarray, q32: np.ndarray, normals_q: np.ndarray, sets: NeighbourSets) -> np.ndarray:
    """(N,) float64 D2 term of every point of P: mean over S(p) of the float32 squared projections."""
    diff = p32[sets.rows] - q32[sets.cols]
    n = normals_q[sets.cols]
    prod = diff * n
    dot = (prod[:, 0] + prod[:, 1]) + prod[:, 2]
    term = dot * dot
    nan = np.isnan(n).any(axis=1)
    if nan.any():
        term[nan] = (diff[nan, 0] + diff[nan, 1]) + diff[nan, 2]
    n_p = len(p32)
    sums = np.bincount(sets.rows, weights=term.astype(np.float64), minlength=n_p)
    return sums / sets.counts(n_p)


def _direction(d1_terms: np.ndarray, d2_terms: np.ndarray, peak: float, hausdorff: bool, tag: str) -> dict:
    out = {}
    for name, terms in (("d1", d1_terms), ("d2", d2_terms)):
        mse = _running_sum(terms) / len(terms)
        out[f"{name}_mse_{tag}"] = mse
        out[f"{name}_psnr_{tag}"] = pc_psnr(mse, peak)
        if hausdorff:
            h = _hausdorff(terms)
            out[f"{name}_hausdorff_{tag}"] = h
            out[f"{name}_hausdorff_psnr_{tag}"] = pc_psnr(h, peak)
    return out


def _reference_normals(reference, reference_normals, pos_a32, a32, kept_a, k, workers) -> np.ndarray:
    """A's normals in its sorted, deduplicated order (float32)."""
    if reference_normals is None and isinstance(reference, PointCloud):
        reference_normals = reference.normals
    if reference_normals is None:
        return estimate_normals(a32, k, workers=workers)
    normals = np.asarray(reference_normals)
    if normals.shape != pos_a32.shape:
        raise InputError(f"reference normals must have shape {pos_a32.shape}, got {normals.shape}")
    if not (np.issubdtype(normals.dtype, np.floating) or np.issubdtype(normals.dtype, np.integer)):
        raise InputError(f"reference normals must be real, got dtype {normals.dtype}")
    return normals.astype(np.float32)[kept_a]


def point_metrics(
    reference: PointCloud | np.ndarray,
    decoded: PointCloud | np.ndarray,
    *,
    peak: float | None = None,
    reference_normals: np.ndarray | None = None,
    hausdorff: bool = True,
    normals_k: int = DEFAULT_NORMALS_K,
    workers: int = -1,
    attributes: bool = True,
) -> dict[str, float | int]:
    """D1/D2 MSE, PSNR and Hausdorff between a reference cloud A and a decoded cloud B, as pc_error 0.14.2.

    Equivalent to ``pc_error --fileA=A --fileB=B --inputNorm=<A with normals> [--resolution=peak] --dropdups=2
    --neighborsProc=1 --hausdorff=1`` with its other defaults (averageNormals=1, singlePass=0). Like pc_error,
    positions are rounded to float32 first: subtract a large offset (e.g. UTM coordinates) before calling.

    Args:
        reference: A, a :class:`~omnicodec.types.PointCloud` or an (N, 3) array; converted to float32.
        decoded: B, likewise.
        peak: the PSNR peak distance (``--resolution``), in position units, rounded to float32 as pc_error parses
            it; None: the largest nearest-neighbour distance in A (pc_error's default).
        reference_normals: (N, 3) normals of A, in A's row order (rounded to float32). None: the reference cloud's
            ``normals`` attribute if it has one, else :func:`~.normals.estimate_normals` with ``normals_k``
            neighbours on A's distinct points (oriented away from A's centroid).
        hausdorff: also return the Hausdorff values.
        normals_k: neighbours for the normal estimation.
        workers: threads for the kd-tree searches (-1: all cores).
        attributes: also compare the attributes, on the same neighbour sets: when both clouds are PointClouds
            carrying ``rgb``, the colour keys of :func:`~.attributes.colour_psnr` (pc_error's ``--color=1``); when
            both carry ``intensity`` (else both ``reflectance``), the keys of :func:`~.attributes.reflectance_psnr`
            with its default peak (the reference's range).

    Returns:
        A flat dict. For ``m`` in d1, d2 and ``s`` in ``_ab`` (A->B, loop over A), ``_ba`` (B->A) and ``""``
        (symmetric = the worse direction): ``{m}_mse{s}`` (squared position units), ``{m}_psnr{s}`` (dB) and, with
        ``hausdorff``, ``{m}_hausdorff{s}`` (the largest term: a squared distance, at least DBL_MIN) and
        ``{m}_hausdorff_psnr{s}`` (dB); then ``points_reference`` and ``points_decoded`` (int, after duplicate
        removal) and ``peak`` (float); then the attribute keys, if any (``y_psnr``, ``cb_psnr``, ``cr_psnr``,
        ``yuv_psnr``, ``reflectance_psnr`` ...). Values are Python floats (the counts Python ints); a PSNR may be
        +inf.

    Raises:
        InputError: on an empty cloud, a wrong shape, non-finite coordinates, bad normals or a bad peak.
    """
    pos_a32 = _positions(reference, "reference")
    pos_b32 = _positions(decoded, "decoded")
    if peak is not None:
        try:
            with np.errstate(over="ignore"):
                peak32 = float(np.float32(peak))
        except (TypeError, ValueError) as exc:
            raise InputError(f"peak must be a number, got {peak!r}") from exc
        if not (math.isfinite(peak32) and peak32 > 0):
            raise InputError(f"peak must be a positive finite number (in float32), got {peak!r}")
    a32, kept_a = prepare_cloud(pos_a32)
    b32, _ = prepare_cloud(pos_b32)
    normals_a = _reference_normals(reference, reference_normals, pos_a32, a32, kept_a, normals_k, workers)

    tree_a, tree_b = build_tree(a32), build_tree(b32)
    peak_value = peak32 if peak is not None else _auto_peak(a32, tree_a, workers)
    sets_ab = equal_distance_sets(tree_b, b32, a32, workers=workers)
    sets_ba = equal_distance_sets(tree_a, a32, b32, workers=workers)
    normals_b = transfer_normals(normals_a, len(b32), sets_ab, sets_ba)

    out: dict[str, float | int] = {}
    out.update(_direction(sets_ab.nearest_sq, _plane_terms(a32, b32, normals_b, sets_ab), peak_value, hausdorff, "ab"))
    out.update(_direction(sets_ba.nearest_sq, _plane_terms(b32, a32, normals_a, sets_ba), peak_value, hausdorff, "ba"))
    kinds = ["mse"] + (["hausdorff"] if hausdorff else [])
    for m in ("d1", "d2"):
        for kind in kinds:
            out[f"{m}_{kind}"] = max(out[f"{m}_{kind}_ab"], out[f"{m}_{kind}_ba"])
            psnr = "psnr" if kind == "mse" else "hausdorff_psnr"
            out[f"{m}_{psnr}"] = min(out[f"{m}_{psnr}_ab"], out[f"{m}_{psnr}_ba"])
    out["points_reference"] = len(a32)
    out["points_decoded"] = len(b32)
    out["peak"] = float(peak_value)
    if attributes:
        out.update(attribute_metrics(reference, decoded, sets_ab, sets_ba))
    return out


def chamfer_distance(a: PointCloud | np.ndarray, b: PointCloud | np.ndarray, *, workers: int = -1) -> float:
    """Chamfer distance: mean squared nearest-neighbour distance from A to B plus that from B to A.

    ``mean_a min_b |a - b|^2 + mean_b min_a |b - a|^2``, in float64 on the points as given (no float32 rounding,
    no duplicate removal). Zero if and only if the two clouds hold the same set of positions.

    Args:
        a: (N, 3) positions or a PointCloud.
        b: (M, 3) positions or a PointCloud.
        workers: threads for the kd-tree searches.

    Returns:
        The distance, in squared position units.
    """
    pa = np.asarray(a.positions if isinstance(a, PointCloud) else a, dtype=np.float64)
    pb = np.asarray(b.positions if isinstance(b, PointCloud) else b, dtype=np.float64)
    for name, p in (("first", pa), ("second", pb)):
        if p.ndim != 2 or p.shape[1] != 3 or len(p) == 0:
            raise InputError(f"{name} cloud must have shape (N, 3) with N >= 1, got {p.shape}")
        if not np.isfinite(p).all():
            raise InputError(f"{name} cloud positions must be finite")
    d_ab, _ = cKDTree(pb).query(pa, k=1, workers=workers)
    d_ba, _ = cKDTree(pa).query(pb, k=1, workers=workers)
    return float(np.mean(d_ab * d_ab) + np.mean(d_ba * d_ba))
