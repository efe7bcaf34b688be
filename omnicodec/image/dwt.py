"""The CDF 9/7 wavelet (the lifting form of JPEG 2000's irreversible transform) over images of any size, in float64.

:func:`forward` splits a plane ``(H, W)`` into a coarse approximation and, per level, three detail bands;
:func:`inverse` puts it back (to about 1e-12 without quantisation). Rows are extended symmetrically at their
ends; columns too, or periodically when ``wrap`` is set (panoramas: the 360-degree seam is then an ordinary
interior position, so coding error never piles up there). Odd sizes are fine: a level splits ``n`` samples into
``ceil(n / 2)`` low and ``floor(n / 2)`` high ones. Periodic extension needs an even length at every level, so
``wrap`` requires the width to be a multiple of ``2**levels`` (:func:`can_wrap`).

Bands are listed coarse to fine; each level is ``(LH, HL, HH)``: ``LH`` is low vertically and high horizontally,
``HL`` high vertically and low horizontally, ``HH`` high in both. Every operation is an elementwise IEEE float64 sum
or product in a fixed order, so every machine computes the same values.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["forward", "inverse", "can_wrap", "band_gains", "Bands"]

_ALPHA, _BETA, _GAMMA, _DELTA = -1.586134342059924, -0.052980118572961, 0.882911075530934, 0.443506852043971
_K = 1.230174104914001

Bands = list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def can_wrap(width: int, levels: int) -> bool:
    """Whether a plane ``width`` wide can be transformed periodically over ``levels`` levels."""
    return width % (1 << levels) == 0


def _next(s: np.ndarray, nd: int, n: int, wrap: bool) -> np.ndarray:
    """``s[i + 1]`` for ``i < nd`` (the right even neighbour of odd sample ``2i + 1``)."""
    if n % 2:
        return s[1:nd + 1]
    if wrap:
        return np.concatenate([s[1:], s[:1]], axis=0)
    return np.concatenate([s[1:], s[-1:]], axis=0)


def _prev(d: np.ndarray, ns: int, n: int, wrap: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(d[i - 1], d[i])`` for ``i < ns`` (the odd neighbours of even sample ``2i``), extended at the ends."""
    cur = d if n % 2 == 0 else np.concatenate([d, d[-1:]], axis=0)
    first = d[-1:] if wrap else d[:1]
    return np.concatenate([first, cur[:-1]], axis=0), cur


def _split(x: np.ndarray, wrap: bool) -> tuple[np.ndarray, np.ndarray]:
    """One level along axis 0: ``(low, high)``."""
    n = x.shape[0]
    s = x[0::2].copy()
    d = x[1::2].copy()
    if n < 2:
        return s, d
    nd, ns = d.shape[0], s.shape[0]
    d += _ALPHA * (s[:nd] + _next(s, nd, n, wrap))
    p, c = _prev(d, ns, n, wrap)
    s += _BETA * (p + c)
    d += _GAMMA * (s[:nd] + _next(s, nd, n, wrap))
    p, c = _prev(d, ns, n, wrap)
    s += _DELTA * (p + c)
    s *= 1.0 / _K
    d *= _K
    return s, d


def _merge(s: np.ndarray, d: np.ndarray, wrap: bool) -> np.ndarray:
    """Inverse of :func:`_split`."""
    ns, nd = s.shape[0], d.shape[0]
    n = ns + nd
    out = np.empty((n,) + s.shape[1:], dtype=np.float64)
    if n < 2:
        out[:] = s
        return out
    s = s * _K
    d = d * (1.0 / _K)
    p, c = _prev(d, ns, n, wrap)
    s -= _DELTA * (p + c)
    d -= _GAMMA * (s[:nd] + _next(s, nd, n, wrap))
    p, c = _prev(d, ns, n, wrap)
    s -= _BETA * (p + c)
    d -= _ALPHA * (s[:nd] + _next(s, nd, n, wrap))
    out[0::2] = s
    out[1::2] = d
    return out


def forward(plane: np.ndarray, levels: int, wrap: bool = False) -> tuple[np.ndarray, Bands]:
    """``plane (H, W)`` -> ``(LL, bands)``, bands coarse to fine, ``levels`` of them.

    Raises:
        ValueError: ``wrap`` with a width that is not a multiple of ``2**levels``.
    """
    if wrap and not can_wrap(plane.shape[1], levels):
        raise ValueError(f"periodic columns need a width divisible by {1 << levels}, got {plane.shape[1]}")
    ll = np.asarray(plane, dtype=np.float64)
    bands: Bands = []
    for _ in range(levels):
        lo, hi = _split(ll, False)
        lo_l, lo_h = _split(lo.T, wrap)
        hi_l, hi_h = _split(hi.T, wrap)
        bands.append((lo_h.T, hi_l.T, hi_h.T))
        ll = lo_l.T
    return ll, bands[::-1]


def inverse(ll: np.ndarray, bands: Bands, wrap: bool = False) -> np.ndarray:
    """Inverse of :func:`forward`: ``(H, W)`` float64."""
    for lh, hl, hh in bands:
        lo = _merge(ll.T, lh.T, wrap).T
        hi = _merge(hl.T, hh.T, wrap).T
        ll = _merge(lo, hi, False)
    return ll


@cache
def _gains_1d(levels: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Synthesis energies of one coefficient in 1D: ``(low[l], high[l])`` for a signal split ``l + 1`` times."""
    n = 1 << (levels + 6)
    low, high = [], []
    for lev in range(1, levels + 1):
        for is_high in (False, True):
            sizes = [n]
            for _ in range(lev):
                sizes.append(-(-sizes[-1] // 2))
            parts_hi = [np.zeros(sizes[i] - sizes[i + 1]) for i in range(lev)]
            lo = np.zeros(sizes[lev])
            target = parts_hi[lev - 1] if is_high else lo
            target[len(target) // 2] = 1.0
            x = lo
            for i in range(lev - 1, -1, -1):
                x = _merge(x[:, None], parts_hi[i][:, None], False)[:, 0]
            (high if is_high else low).append(float((x * x).sum()))
    return tuple(low), tuple(high)


def band_gains(levels: int) -> tuple[float, list[tuple[float, float, float]]]:
    """Synthesis energies (squared L2 norm of one coefficient's basis image) of ``LL`` and of each level's
    ``(LH, HL, HH)``, coarse to fine, for a ``levels``-level transform. A uniform quantiser of step
    ``s / sqrt(gain)`` in every band gives every band the same share of pixel-domain error."""
    if levels == 0:
        return 1.0, []
    low, high = _gains_1d(levels)
    out = []
    for lev in range(levels, 0, -1):  # coarse to fine
        lo, hi = low[lev - 1], high[lev - 1]
        out.append((lo * hi, hi * lo, hi * hi))
    return low[levels - 1] ** 2, out
