"""Attribute transfer ("recolouring") from a point cloud onto other positions, as the G-PCC encoder does it.

When lossy geometry coding moves, merges or invents points, the encoder must give the decoded positions attributes
before coding them. :func:`transfer_attributes` follows the MPEG G-PCC reference encoder (TMC13,
``pointset_processing.cpp``: ``recolour`` -> ``recolourColour`` / ``recolourReflectance``) with its default
recolouring parameters (``recolourSearchRange=1``, ``NumNeighboursFwd=8``, ``NumNeighboursBwd=1``,
``UseDistWeightedAvgFwd/Bwd=1``, ``SkipAvgIfIdenticalSourcePointPresentFwd=1``, ``...Bwd=0``,
``DistOffsetFwd/Bwd=4``, ``MaxGeometryDist2Fwd/Bwd`` and ``MaxAttributeDist2Fwd/Bwd`` = 1000, which TMC13 treats
as unlimited because they are >= 512). For each target point ``t`` (``M`` targets, ``N`` source points; distances
are Euclidean, in multiples of ``unit``):

1. **Forward** (``c1``). If the nearest source point is at squared distance < 1e-4, ``c1`` is its value. Otherwise
   ``c1`` is the mean of the ``K = min(8, N)`` nearest source values weighted by ``1 / (d^2 + 4)`` (``d^2`` the
   squared distance), rounded half away from zero and clipped (integer dtypes).
2. **Backward** (``c2``). Every source point is assigned to its nearest target point; ``t`` receives the ``H``
   source values assigned to it. With ``H = 1``, ``c2`` is that value; with ``H > 1`` it is their mean weighted by
   ``1 / (d + 4)`` (``d`` the distance, not squared: TMC13 uses ``sqrt(dist2)`` here).
3. **Combination.** ``H = 0``: the result is ``c1``. Otherwise TMC13 (with its ``fixWeight`` switch on, m42538)
   sets the blend weight of ``c1`` to 0, starts from ``c0 = clip(round(c2))`` and searches the integer values
   ``c0 + s``, ``s`` in ``{-1, 0, 1}`` per channel (27 candidates for a colour, 3 for a scalar; each clipped),
   for the one minimising ``max(|c - c1|^2 / M, sum_j |c - c2_j|^2 / N)`` (``c2_j`` the ``H`` backward values,
   ``|.|^2`` summed over channels); ties keep the first candidate in the order ``s = (-1, -1, -1), (-1, -1, 0),
   ..., (1, 1, 1)``, as TMC13's nested loops do.

So a target point that coincides with a source point, and that no other source point chooses as its nearest,
keeps that point's value exactly; a target that two source points ``a`` and ``b`` choose gets (roughly) their
mean, pulled by at most one step towards ``c1`` and towards the unweighted mean of ``a`` and ``b``.

Which attributes take which rule:

* ``rgb`` of shape (N, 3), any numeric dtype: the joint three-channel rule above (TMC13's ``recolourColour``).
* any numeric scalar attribute, (N,) or (N, 1) (``intensity``, ``reflectance``, anything else): the one-channel
  rule (TMC13's ``recolourReflectance``).
* everything else (normals, curvature, other (N, k) attributes, booleans): the value of the nearest source point
  (the forward nearest value), unchanged. TMC13 does not recolour these at all.

Results keep each attribute's dtype and shape. Integer dtypes are rounded (half away from zero, C ``round``) and
clipped to the dtype's range; TMC13 clips to the attribute's declared bit depth, which is the same thing for 8-bit
colours. Departures from TMC13:

* Floating-point attributes (e.g. KITTI intensity in [0, 1]) are not rounded and skip the +-1 search, which only
  makes sense on an integer lattice: the result is ``c2`` (``H > 0``) or ``c1`` (``H = 0``) in float64, cast
  back to the dtype.
* Both searches measure distances in the positions' units divided by ``unit``; TMC13 measures the forward
  distances in source units and the backward ones in (possibly rescaled) target units, which coincide here.
  The offsets 4 and the 1e-4 identity test assume voxel units, hence ``unit`` (by default the source's grid step,
  or 1 for a cloud without a grid, i.e. integer voxel positions).
* Ties among equidistant neighbours (duplicate positions) are broken by the kd-tree (scipy's ``cKDTree``) rather
  than nanoflann, so which of several duplicate source points gives ``c1`` on an exact hit, and which of two
  equidistant targets a source point joins, may differ from TMC13. With fewer than 8 source points the forward
  list holds all of them.

Everything is vectorised: two kd-trees, a 1-neighbour query in each direction, an 8-neighbour query only for the
targets without an identical source point, ``np.bincount`` for the backward sums and a loop over the (at most 27)
candidate offsets, not over points.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..errors import InputError
from ..types import PointCloud

__all__ = ["transfer_attributes", "NUM_NEIGHBOURS_FWD", "DIST_OFFSET_FWD", "DIST_OFFSET_BWD", "SEARCH_RANGE"]

NUM_NEIGHBOURS_FWD = 8
"""Source points in the forward list (TMC13 ``recolourNumNeighboursFwd``)."""
DIST_OFFSET_FWD = 4.0
"""Added to the squared distance of forward weights (TMC13 ``recolourDistOffsetFwd``)."""
DIST_OFFSET_BWD = 4.0
"""Added to the distance of backward weights (TMC13 ``recolourDistOffsetBwd``)."""
SEARCH_RANGE = 1
"""Integer search range around the backward centroid (TMC13 ``recolourSearchRange``)."""
_IDENTICAL_DIST2 = 1e-4  # TMC13: a forward neighbour at squared distance below this is "identical"


def _round_half_away(x: np.ndarray) -> np.ndarray:
    """C ``round``: halves away from zero."""
    r = np.abs(x)
    r += 0.5
    np.floor(r, out=r)
    return np.copysign(r, x, out=r)


def _int_bounds(dtype: np.dtype) -> tuple[float, float]:
    """The dtype's range as float64 values that convert back to the dtype without overflow."""
    info = np.iinfo(dtype)
    lo, hi = float(info.min), float(info.max)
    if int(hi) > info.max:  # 64-bit maxima round up to 2**63 or 2**64: take the float below
        hi = float(np.nextafter(hi, 0.0))
    return lo, hi


def _to_dtype(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Round (integers, half away from zero) and clip float64 values to ``dtype``."""
    if dtype.kind in "iu":
        lo, hi = _int_bounds(dtype)
        return np.clip(_round_half_away(x), lo, hi).astype(dtype)
    return x.astype(dtype)


def _check_positions(positions, what: str) -> np.ndarray:
    p = np.asarray(positions)
    if p.ndim != 2 or p.shape[1] != 3:
        raise InputError(f"{what} must have shape (M, 3), got {p.shape}")
    if p.dtype.kind not in "iuf":
        raise InputError(f"{what} must be real or integer, got dtype {p.dtype}")
    p = p.astype(np.float64)
    if not np.isfinite(p).all():
        raise InputError(f"{what} hold NaN or infinite values")
    return p


def transfer_attributes(
    source: PointCloud, positions: np.ndarray, *, workers: int = -1, unit: float | None = None
) -> dict[str, np.ndarray]:
    """The attributes of ``source`` carried onto ``positions`` by G-PCC's recolouring (see the module docstring).

    Args:
        source: the original cloud with its attributes.
        positions: (M, 3) target positions (e.g. a lossy geometry decoder's output), in the units of
            ``source.positions``.
        workers: threads for the kd-tree queries (-1: all cores).
        unit: the voxel edge, in position units, that distances are measured in (TMC13's offsets and identity
            threshold are in voxels). None: ``source.grid.step`` when the source has a grid, else 1.

    Returns:
        name -> (M,) or (M, k) array of the same dtype as the source attribute, for every source attribute.

    Raises:
        InputError: the source or the target is empty, positions are malformed or not finite, or ``unit`` is not a
            positive number.
    """
    if not isinstance(source, PointCloud):
        raise InputError(f"source must be a PointCloud, not {type(source).__name__}")
    if unit is None:
        unit = float(source.grid.step) if source.grid is not None else 1.0
    if not (np.isfinite(unit) and unit > 0):
        raise InputError(f"unit must be a positive number, got {unit!r}")
    src = _check_positions(source.positions, "source positions") / unit
    tgt = _check_positions(positions, "target positions") / unit
    n, m = len(src), len(tgt)
    if n == 0:
        raise InputError("cannot transfer attributes from an empty source cloud")
    if m == 0:
        raise InputError("cannot transfer attributes onto an empty set of positions")
    if not source.attributes:
        return {}

    tree_src = cKDTree(src, balanced_tree=False)
    d_near, i_near = tree_src.query(tgt, k=1, workers=workers)  # forward nearest source point
    exact = d_near * d_near < _IDENTICAL_DIST2
    # forward list of the other targets: K nearest source points, weights 1 / (d^2 + offset)
    far = np.flatnonzero(~exact)
    k = min(NUM_NEIGHBOURS_FWD, n)
    w_fwd = i_fwd = None
    if len(far):
        d_fwd, i_fwd = tree_src.query(tgt[far], k=k, workers=workers)
        d_fwd, i_fwd = d_fwd.reshape(len(far), k), i_fwd.reshape(len(far), k)
        w_fwd = 1.0 / (d_fwd * d_fwd + DIST_OFFSET_FWD)
        w_fwd /= w_fwd.sum(axis=1, keepdims=True)
        w_fwd, i_fwd = np.ascontiguousarray(w_fwd.T), np.ascontiguousarray(i_fwd.T)  # one row per neighbour
    # backward: each source point joins its nearest target point
    d_bwd, i_bwd = cKDTree(tgt, balanced_tree=False).query(src, k=1, workers=workers)
    count = np.bincount(i_bwd, minlength=m)
    w_bwd = 1.0 / (d_bwd + DIST_OFFSET_BWD)
    w_sum = np.bincount(i_bwd, w_bwd, minlength=m)
    has_bwd = count > 0

    out: dict[str, np.ndarray] = {}
    for name, values in source.attributes.items():
        values = np.asarray(values)
        numeric = values.dtype.kind in "iuf"
        colour = name == "rgb" and numeric and values.ndim == 2 and values.shape[1] == 3
        scalar = numeric and (values.ndim == 1 or values.shape[1] == 1)
        if not (colour or scalar):
            out[name] = values[i_near]
            continue
        v = values.reshape(n, -1).astype(np.float64)  # (N, C)
        channels = v.shape[1]
        # forward centroid c1, in the attribute's dtype (rounded and clipped for integers) then as float64
        c1 = np.empty((m, channels))
        for c, vc in enumerate(v.T.copy()):  # channel by channel: gathers of single values
            c1[:, c] = vc[i_near]
            if len(far):
                c1[far, c] = sum(w_fwd[j] * vc[i_fwd[j]] for j in range(k))
        c1 = _to_dtype(c1, values.dtype).astype(np.float64)
        # backward sums per target: weighted, plain and of squares
        sum_w = np.stack([np.bincount(i_bwd, w_bwd * v[:, c], minlength=m) for c in range(channels)], axis=1)
        sum_v = np.stack([np.bincount(i_bwd, v[:, c], minlength=m) for c in range(channels)], axis=1)
        sum_sq = np.bincount(i_bwd, (v * v).sum(axis=1), minlength=m)
        c2 = np.where((count == 1)[:, None], sum_v, sum_w / np.maximum(w_sum, 1e-300)[:, None])
        if values.dtype.kind == "f":
            result = np.where(has_bwd[:, None], c2, c1)
        else:
            result = _search(c1, c2, count, sum_v, sum_sq, has_bwd, values.dtype, n, m)
        result = result.astype(values.dtype)
        out[name] = result.reshape((m,) + values.shape[1:])
    return out


def _search(c1, c2, count, sum_v, sum_sq, has_bwd, dtype, n: int, m: int) -> np.ndarray:
    """TMC13's integer search around ``round(c2)`` for the targets with a backward list; ``c1`` elsewhere.

    Both errors are sums over channels of per-channel terms, so the terms are computed once per channel and step,
    the sums over the first channels once per combination of their steps, and each of the ``3 ** C`` candidates
    costs a few operations on 1-D arrays. All terms are integers held exactly in float64 and are scaled by ``1 / M``
    and ``1 / N`` as TMC13 scales them, so ties resolve as there.
    """
    lo, hi = _int_bounds(dtype)
    rows = np.flatnonzero(has_bwd)
    h = count[rows].astype(np.float64)
    c0 = np.clip(_round_half_away(c2[rows]), lo, hi)
    steps = range(-SEARCH_RANGE, SEARCH_RANGE + 1)
    channels = c0.shape[1]
    cand = [[np.clip(c0[:, c] + st, lo, hi) for st in steps] for c in range(channels)]
    # per channel and step: |cand - c1|^2 and H cand^2 - 2 cand sum_j c2_j (+ sum_j |c2_j|^2 = sum_j |cand - c2_j|^2)
    f1, f2 = [], []
    for c in range(channels):
        forward, twice_sum = c1[rows, c], 2.0 * sum_v[rows, c]
        f1.append([(x - forward) ** 2 for x in cand[c]])
        f2.append([(h * x - twice_sum) * x for x in cand[c]])
    q = sum_sq[rows]
    r_target, r_source = 1.0 / m, 1.0 / n
    best = np.full(len(rows), np.inf)
    best_combo = np.zeros(len(rows), np.int64)  # index of the best candidate in the order of TMC13's loops

    def visit(c: int, combo: int, e1: np.ndarray | None, e2: np.ndarray | None) -> None:
        """Candidates whose steps for the channels before ``c`` are fixed (``combo``; ``e1``, ``e2``: their error
        sums so far), the channels' steps in TMC13's loop order (the last channel's fastest)."""
        for s in range(len(steps)):
            s1 = f1[c][s] if e1 is None else e1 + f1[c][s]
            s2 = f2[c][s] + q if e2 is None else e2 + f2[c][s]
            index = combo * len(steps) + s
            if c + 1 < channels:
                visit(c + 1, index, s1, s2)
                continue
            err = np.maximum(s1 * r_target, s2 * r_source)
            better = err < best  # strictly: ties keep the first candidate
            np.copyto(best, err, where=better)
            np.copyto(best_combo, index, where=better)

    visit(0, 0, None, None)
    result = c1.copy()
    for c in range(channels):
        digit = best_combo // len(steps) ** (channels - 1 - c) % len(steps)
        result[rows, c] = np.choose(digit, cand[c])
    return _to_dtype(result, dtype)
