"""Point-cloud attribute metrics: colour PSNR (Y, Cb, Cr) and reflectance PSNR, as MPEG pc_error computes them.

The colour metric is pc_error 0.14.2's ``--color=1`` with its defaults ``--dropdups=2 --neighborsProc=1
--mseSpace=1`` (``source/pcc_distortion.cpp``: ``findMetric``, ``convertRGBtoYUV``, ``setMetricResults``,
``computeQualityMetric``; ``source/pcc_processing.cpp``: ``PccPointCloud::load``):

* positions are float32; each cloud is sorted on (x, y, z) and every run of equal positions becomes one point whose
  attribute is the *truncated integer* mean of the run (``dropdups=2``; both clouds, A and B);
* for each point p of P, the colour of Q at p is the mean of the colours of its equal-distance set S(p) (see
  :mod:`._neighbours`), each channel ``(unsigned char) round(sum / |S(p)|)`` (half away from zero);
* both colours are converted to YCbCr with :func:`rgb_to_ycbcr_bt709` (float32 values in [0, 1]);
* per-point term: ``(c_p - c_q)^2`` in float32 per channel, summed in float64, divided by |P|;
* PSNR = 10 log10(1 / mse) (peak 1.0 on the [0, 1] scale, i.e. 255 on 8 bits), +inf for mse 0;
* symmetric = the worse direction (larger MSE, smaller PSNR), per channel independently.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..types import PointCloud
from ._neighbours import NeighbourSets, build_tree, equal_distance_sets

__all__ = ["colour_psnr", "reflectance_psnr", "rgb_to_ycbcr_bt709"]

_CHANNELS = ("y", "cb", "cr")


def rgb_to_ycbcr_bt709(rgb: np.ndarray) -> np.ndarray:
    """pc_error's ``convertRGBtoYUV`` (mseSpace=1, BT.709), bit-exact.

    ``Y = float((0.2126 R + 0.7152 G + 0.0722 B) / 255)``, ``Cb = float((-0.1146 R - 0.3854 G + 0.5 B) / 255 + 0.5)``,
    ``Cr = float((0.5 R - 0.4542 G - 0.0458 B) / 255 + 0.5)``: evaluated left to right in float64, stored as float32.

    Args:
        rgb: (..., 3) 8-bit colours (any integer or real dtype holding 0..255).

    Returns:
        (..., 3) float32 Y, Cb, Cr.
    """
    c = np.asarray(rgb, dtype=np.float64)
    r, g, b = c[..., 0], c[..., 1], c[..., 2]
    y = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255.0
    cb = (-0.1146 * r - 0.3854 * g + 0.5000 * b) / 255.0 + 0.5000
    cr = (0.5000 * r - 0.4542 * g - 0.0458 * b) / 255.0 + 0.5000
    return np.stack([y, cb, cr], axis=-1).astype(np.float32)


def _psnr(mse: float, peak: float) -> float:
    """10 log10(peak^2 / mse) in float64 (pc_error's ``getPSNR`` with factor 1); +inf for mse 0."""
    if math.isnan(mse):
        return math.nan
    if mse == 0.0:
        return math.inf
    with np.errstate(over="ignore", divide="ignore"):
        return float(10.0 * np.log10(np.float64(peak) * np.float64(peak) / np.float64(mse)))


def _running_sum(values: np.ndarray) -> float:
    """Left-to-right float64 sum (pc_error adds the per-point terms one by one)."""
    return float(np.cumsum(values, dtype=np.float64)[-1]) if values.size else 0.0


def _cloud_positions(cloud: PointCloud, role: str) -> np.ndarray:
    if not isinstance(cloud, PointCloud):
        raise InputError(f"{role} must be a PointCloud, got {type(cloud).__name__}")
    pos = cloud.positions
    if len(pos) == 0:
        raise InputError(f"{role} point cloud is empty")
    pos32 = pos.astype(np.float32)
    if not np.isfinite(pos32).all():
        raise InputError(f"{role} positions must be finite (after conversion to float32)")
    return pos32


def _group(pos32: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sorted, deduplicated points (as :func:`.pointcloud.prepare_cloud` gives them), the sort order and the
    start of each run of equal positions in sorted order."""
    order = np.lexsort((pos32[:, 2], pos32[:, 1], pos32[:, 0]))
    srt = pos32[order]
    first = np.ones(len(srt), dtype=bool)
    first[1:] = (srt[1:] != srt[:-1]).any(axis=1)
    return srt[first], order, np.flatnonzero(first)


def _merge(values: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Attribute of each run of equal positions (``dropdups=2``): integers, the mean truncated toward zero as
    pc_error's integer division; reals, the float64 mean."""
    v = values[order]
    if len(starts) == len(v):
        return v
    counts = np.diff(np.append(starts, len(v)))
    if v.ndim == 2:
        counts = counts[:, None]
    if np.issubdtype(v.dtype, np.integer):
        sums = np.add.reduceat(v.astype(np.int64), starts, axis=0)
        return (np.sign(sums) * (np.abs(sums) // counts)).astype(v.dtype)
    return np.add.reduceat(v.astype(np.float64), starts, axis=0) / counts


def _rgb(cloud: PointCloud, role: str) -> np.ndarray:
    rgb = cloud.attributes.get("rgb")
    if rgb is None:
        raise InputError(f"{role} point cloud has no 'rgb' attribute")
    rgb = np.asarray(rgb)
    if rgb.shape != (len(cloud), 3):
        raise InputError(f"{role} attribute 'rgb' must have shape ({len(cloud)}, 3), got {rgb.shape}")
    if not np.issubdtype(rgb.dtype, np.integer):
        raise InputError(f"{role} attribute 'rgb' must be 8-bit integers, got dtype {rgb.dtype}")
    if rgb.size and (rgb.min() < 0 or rgb.max() > 255):
        raise InputError(f"{role} attribute 'rgb' must lie in 0..255")
    return rgb.astype(np.int64)


def _scalar(cloud: PointCloud, role: str, name: str) -> np.ndarray:
    value = cloud.attributes.get(name)
    if value is None:
        raise InputError(f"{role} point cloud has no {name!r} attribute")
    value = np.asarray(value)
    if value.ndim == 2 and value.shape[1] == 1:
        value = value[:, 0]
    if value.shape != (len(cloud),):
        raise InputError(f"{role} attribute {name!r} must have shape ({len(cloud)},), got {value.shape}")
    if not (np.issubdtype(value.dtype, np.integer) or np.issubdtype(value.dtype, np.floating)):
        raise InputError(f"{role} attribute {name!r} must be real or integer, got dtype {value.dtype}")
    if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
        raise InputError(f"{role} attribute {name!r} must be finite")
    return value


def _colour_mse(rgb_p: np.ndarray, rgb_q: np.ndarray, sets: NeighbourSets) -> np.ndarray:
    """(3,) Y, Cb, Cr MSE of one direction P -> Q: colours of P against the rounded mean colour of each S(p)."""
    n_p = len(rgb_p)
    counts = sets.counts(n_p)
    mean_q = np.empty((n_p, 3), dtype=np.int64)
    for ch in range(3):
        sums = np.bincount(sets.rows, weights=rgb_q[sets.cols, ch].astype(np.float64), minlength=n_p)
        mean_q[:, ch] = (2 * sums.astype(np.int64) + counts) // (2 * counts)  # round(sum / count), half up
    diff = rgb_to_ycbcr_bt709(rgb_p) - rgb_to_ycbcr_bt709(mean_q)  # float32
    terms = diff * diff  # float32, as pc_error's (in - out) * (in - out)
    return np.array([_running_sum(terms[:, ch]) / n_p for ch in range(3)])


def _scalar_mse(v_p: np.ndarray, v_q: np.ndarray, sets: NeighbourSets) -> float:
    """MSE of one direction P -> Q: values of P against the mean value over each S(p), in float64."""
    n_p = len(v_p)
    mean_q = np.bincount(sets.rows, weights=v_q[sets.cols].astype(np.float64), minlength=n_p) / sets.counts(n_p)
    diff = v_p.astype(np.float64) - mean_q
    return _running_sum(diff * diff) / n_p


def _colour_keys(mse_ab: np.ndarray, mse_ba: np.ndarray) -> dict[str, float]:
    out: dict[str, float] = {}
    for tag, mse in (("_ab", mse_ab), ("_ba", mse_ba)):
        for ch, name in enumerate(_CHANNELS):
            out[f"{name}_mse{tag}"] = float(mse[ch])
            out[f"{name}_psnr{tag}"] = _psnr(float(mse[ch]), 1.0)
    for name in _CHANNELS:
        out[f"{name}_mse"] = max(out[f"{name}_mse_ab"], out[f"{name}_mse_ba"])
        out[f"{name}_psnr"] = min(out[f"{name}_psnr_ab"], out[f"{name}_psnr_ba"])
    for tag in ("_ab", "_ba", ""):
        out[f"yuv_psnr{tag}"] = (6.0 * out[f"y_psnr{tag}"] + out[f"cb_psnr{tag}"] + out[f"cr_psnr{tag}"]) / 8.0
    return out


def _reflectance_peak(values: np.ndarray, peak: float | None) -> float:
    if peak is not None:
        try:
            value = float(peak)
        except (TypeError, ValueError) as exc:
            raise InputError(f"peak must be a number, got {peak!r}") from exc
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"peak must be a positive finite number, got {peak!r}")
        return value
    span = float(values.max()) - float(values.min())
    return span if span > 0 else 1.0


def _reflectance_keys(mse_ab: float, mse_ba: float, peak: float) -> dict[str, float]:
    out = {
        "reflectance_mse_ab": mse_ab,
        "reflectance_psnr_ab": _psnr(mse_ab, peak),
        "reflectance_mse_ba": mse_ba,
        "reflectance_psnr_ba": _psnr(mse_ba, peak),
    }
    out["reflectance_mse"] = max(mse_ab, mse_ba)
    out["reflectance_psnr"] = min(out["reflectance_psnr_ab"], out["reflectance_psnr_ba"])
    out["reflectance_peak"] = peak
    return out


class _Pair:
    """Two clouds sorted and deduplicated as pc_error loads them, with their equal-distance sets."""

    def __init__(self, reference: PointCloud, decoded: PointCloud, *, sets=None, workers: int = -1):
        self.reference, self.decoded = reference, decoded
        a32, self.order_a, self.starts_a = _group(_cloud_positions(reference, "reference"))
        b32, self.order_b, self.starts_b = _group(_cloud_positions(decoded, "decoded"))
        if sets is None:
            sets = (
                equal_distance_sets(build_tree(b32), b32, a32, workers=workers),
                equal_distance_sets(build_tree(a32), a32, b32, workers=workers),
            )
        self.sets_ab, self.sets_ba = sets

    def merged(self, get) -> tuple[np.ndarray, np.ndarray]:
        """(A's, B's) attribute ``get(cloud, role)``, merged over duplicate positions, in sorted order."""
        va, vb = get(self.reference, "reference"), get(self.decoded, "decoded")
        return _merge(va, self.order_a, self.starts_a), _merge(vb, self.order_b, self.starts_b)

    def colour(self) -> dict[str, float]:
        rgb_a, rgb_b = self.merged(_rgb)
        return _colour_keys(_colour_mse(rgb_a, rgb_b, self.sets_ab), _colour_mse(rgb_b, rgb_a, self.sets_ba))

    def reflectance(self, name: str, peak: float | None) -> dict[str, float]:
        raw = _scalar(self.reference, "reference", name)  # checked first: the peak comes from it
        peak_value = _reflectance_peak(raw, peak)
        v_a, v_b = self.merged(lambda cloud, role: _scalar(cloud, role, name))
        mse_ab = _scalar_mse(v_a, v_b, self.sets_ab)
        mse_ba = _scalar_mse(v_b, v_a, self.sets_ba)
        return _reflectance_keys(mse_ab, mse_ba, peak_value)


def colour_psnr(reference: PointCloud, decoded: PointCloud, *, workers: int = -1) -> dict[str, float]:
    """Y, Cb, Cr colour MSE and PSNR between a reference cloud A and a decoded cloud B, as pc_error 0.14.2.

    Equivalent to ``pc_error --fileA=A --fileB=B --color=1`` with its defaults ``--dropdups=2 --neighborsProc=1
    --mseSpace=1`` (see the module docstring for every rule). Positions are rounded to float32; duplicate positions
    (in A and in B) are merged into one point with the truncated integer mean colour; the colour of Q seen from a
    point p is the rounded mean colour of the points of Q at p's nearest distance (equal-distance set, 1e-8 chain).

    Args:
        reference: A, a :class:`~omnicodec.types.PointCloud` with an (N, 3) 8-bit ``rgb`` attribute.
        decoded: B, likewise.
        workers: threads for the kd-tree searches (-1: all cores).

    Returns:
        A flat dict of floats. For ``c`` in y, cb, cr and ``s`` in ``_ab`` (A->B, loop over A), ``_ba`` (B->A) and
        ``""`` (symmetric = the worse direction per channel: larger MSE, smaller PSNR): ``{c}_mse{s}`` (on the
        [0, 1] scale) and ``{c}_psnr{s}`` (dB, peak 1.0; +inf for identical colours); and ``yuv_psnr{s}`` =
        (6 Y + Cb + Cr) / 8, the weighted PSNR commonly reported in MPEG (not printed by pc_error itself), formed
        from the PSNRs of the same suffix.

    Raises:
        InputError: when a cloud is not a PointCloud, is empty, has no ``rgb`` or a bad one.
    """
    return _Pair(reference, decoded, workers=workers).colour()


def reflectance_psnr(
    reference: PointCloud,
    decoded: PointCloud,
    *,
    name: str = "intensity",
    peak: float | None = None,
    workers: int = -1,
) -> dict[str, float]:
    """MSE and PSNR of a scalar attribute (``intensity`` or ``reflectance``) between clouds A and B.

    The procedure of :func:`colour_psnr` on one scalar: duplicate positions merged (integer dtypes: the mean
    truncated toward zero, as pc_error; reals: the float64 mean); for each point p of P, the float64 mean of the
    attribute over its equal-distance set S(p) in Q (not rounded); squared differences in float64, averaged over
    P; symmetric = the worse direction.

    Differences from pc_error 0.14.2 (``--lidar=1``): pc_error reads only uint8/uint16 ``reflectance``, takes the
    value of the single nearest neighbour (it ignores neighborsProc, so among tied neighbours the one its kd-tree
    lists first) and always uses peak 65535. Pass ``peak=65535`` for its peak; without ties the values then agree.

    Args:
        reference: A, a :class:`~omnicodec.types.PointCloud` with the attribute, shape (N,) (or (N, 1)).
        decoded: B, likewise.
        name: the attribute's name in ``cloud.attributes``; the output keys are ``reflectance_*`` whatever it is.
        peak: the PSNR peak. None: the range max - min of the reference attribute as given (before duplicate
            merging), and 1 when that range is 0.
        workers: threads for the kd-tree searches (-1: all cores).

    Returns:
        A flat dict of floats: ``reflectance_mse{s}`` (squared attribute units) and ``reflectance_psnr{s}`` (dB,
        10 log10(peak^2 / mse), +inf for mse 0) for ``s`` in ``_ab``, ``_ba``, ``""`` (symmetric), and
        ``reflectance_peak``.

    Raises:
        InputError: when a cloud is not a PointCloud, is empty, lacks the attribute or has a bad one, or on a bad
            peak.
    """
    return _Pair(reference, decoded, workers=workers).reflectance(name, peak)


def attribute_metrics(
    reference: PointCloud, decoded: PointCloud, sets_ab: NeighbourSets, sets_ba: NeighbourSets
) -> dict[str, float]:
    """The colour keys when both clouds carry ``rgb``, the reflectance keys when both carry ``intensity`` (else
    both ``reflectance``), from equal-distance sets already computed on the sorted, deduplicated float32 clouds
    (for :func:`~.pointcloud.point_metrics`); {} when neither applies or an input is not a PointCloud.

    An attribute that :func:`colour_psnr` / :func:`reflectance_psnr` would reject (e.g. LAS's 16-bit colour, which
    pc_error does not read either) is left out instead of raising."""
    if not (isinstance(reference, PointCloud) and isinstance(decoded, PointCloud)):
        return {}

    def usable(check) -> bool:
        try:
            check(reference, "reference")
            check(decoded, "decoded")
        except InputError:
            return False
        return True

    colour = usable(_rgb)
    scalar = next((n for n in ("intensity", "reflectance") if usable(lambda c, r, n=n: _scalar(c, r, n))), None)
    if not colour and scalar is None:
        return {}
    pair = _Pair(reference, decoded, sets=(sets_ab, sets_ba))
    out: dict[str, float] = {}
    if colour:
        out.update(pair.colour())
    if scalar is not None:
        out.update(pair.reflectance(scalar, None))
    return out
