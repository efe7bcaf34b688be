"""Bjøntegaard delta rate and PSNR with piecewise cubic Hermite (PCHIP) interpolation.

Following Bjøntegaard (VCEG-M33, 2001) with the piecewise cubic interpolation later adopted in place of the single
cubic polynomial:

* **BD-rate**: log10(rate) is interpolated as a function of PSNR for each curve with a monotone piecewise cubic
  Hermite interpolant (Fritsch-Carlson, ``scipy.interpolate.PchipInterpolator``); both interpolants are integrated
  exactly over the PSNR interval where the two curves overlap, [max of the minima, min of the maxima]; the mean
  difference Δ = (∫ test - ∫ anchor) / interval length gives BD-rate = (10^Δ - 1) x 100 %. Negative: the test curve
  needs fewer bits for the same quality.
* **BD-PSNR**: the same with the roles swapped: PSNR interpolated as a function of log10(rate), integrated over the
  overlapping log-rate interval; the mean difference in dB (positive: the test curve has better quality).

This is what the ``bjontegaard`` package computes with ``method="pchip"``. Points may be given in any order; they
are sorted by the interpolation variable, which must then be strictly increasing.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError

__all__ = ["bd_rate", "bd_psnr"]


def _curve(rate, quality, name: str) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(rate, dtype=np.float64).reshape(-1)
    q = np.asarray(quality, dtype=np.float64).reshape(-1)
    if r.shape != q.shape:
        raise InputError(f"{name}: {r.size} rates but {q.size} quality values")
    if r.size < 2:
        raise InputError(f"{name}: at least 2 rate-quality points are needed, got {r.size}")
    if not (np.isfinite(r).all() and np.isfinite(q).all()):
        raise InputError(f"{name}: rates and quality values must be finite")
    if (r <= 0).any():
        raise InputError(f"{name}: rates must be positive")
    return np.log10(r), q


def _mean_difference(x_anchor, y_anchor, x_test, y_test, what: str) -> float:
    """Mean of (test - anchor) over the overlap of the x ranges, each curve a PCHIP interpolant of y(x)."""
    lo = max(x_anchor.min(), x_test.min())
    hi = min(x_anchor.max(), x_test.max())
    if not hi > lo:
        raise InputError(f"the anchor and test curves do not overlap in {what}")
    from scipy.interpolate import PchipInterpolator  # imported here: scipy.interpolate is slow to import

    integrals = []
    for x, y, name in ((x_anchor, y_anchor, "anchor"), (x_test, y_test, "test")):
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        if (np.diff(x) <= 0).any():
            raise InputError(f"{name}: two points share the same {what}; the curve cannot be interpolated")
        integrals.append(float(PchipInterpolator(x, y).integrate(lo, hi)))
    return (integrals[1] - integrals[0]) / (hi - lo)


def bd_rate(rate_anchor, psnr_anchor, rate_test, psnr_test) -> float:
    """Bjøntegaard delta rate of a test curve against an anchor curve (PCHIP).

    Args:
        rate_anchor: (n,) positive rates of the anchor (any unit: bits, bpp, kbps, the same for both curves).
        psnr_anchor: (n,) quality of the anchor (dB, or any quality measure that increases with rate).
        rate_test: (m,) positive rates of the test.
        psnr_test: (m,) quality of the test.

    Returns:
        The average rate difference in percent at equal quality (negative: the test saves bits).

    Raises:
        InputError: fewer than 2 points, mismatched lengths, non-positive rates, repeated quality values, or curves
            whose quality ranges do not overlap.
    """
    la, qa = _curve(rate_anchor, psnr_anchor, "anchor")
    lt, qt = _curve(rate_test, psnr_test, "test")
    delta = _mean_difference(qa, la, qt, lt, "quality")
    return (math.pow(10.0, delta) - 1.0) * 100.0


def bd_psnr(rate_anchor, psnr_anchor, rate_test, psnr_test) -> float:
    """Bjøntegaard delta PSNR of a test curve against an anchor curve (PCHIP).

    Args:
        rate_anchor: (n,) positive rates of the anchor.
        psnr_anchor: (n,) PSNR of the anchor, dB.
        rate_test: (m,) positive rates of the test, same unit.
        psnr_test: (m,) PSNR of the test, dB.

    Returns:
        The average PSNR difference in dB at equal rate (positive: the test is better).

    Raises:
        InputError: as :func:`bd_rate`, with repeated rates and non-overlapping rate ranges.
    """
    la, qa = _curve(rate_anchor, psnr_anchor, "anchor")
    lt, qt = _curve(rate_test, psnr_test, "test")
    return _mean_difference(la, qa, lt, qt, "rate")
