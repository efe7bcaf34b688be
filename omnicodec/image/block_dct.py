"""An 8x8 block DCT in place of the wavelet's three finest levels: the transform of images that were JPEG once.

Most photos and panoramas people hold have been through JPEG, whose 8x8 block DCT left them made of few DCT basis
images per block, with steps at the block edges. A wavelet spends bits on those steps at every level; the same DCT
on the same grid sees few non-zero values and no edges (video coders, whose transforms align with the grid, profit
from this without knowing it). :func:`forward` takes the orthonormal DCT-II of every 8x8 block of a plane whose sides
are multiples of 8, and lays the 64 coefficients of each block out as the three finest levels of a wavelet
decomposition (the arrangement of embedded DCT coders), so the wavelet core's band shapes, quantisers and context
coder apply unchanged:

- the DC coefficients form the ``(H/8, W/8)`` approximation, which the CDF 9/7 wavelet splits further
  (:func:`.dwt.forward`, the remaining levels);
- level ``k`` (3 coarsest, 1 finest, ``n = 2**(3 - k)`` coefficients per block side) holds, per block, the
  ``n x n`` coefficients with vertical frequency ``< n`` and horizontal ``n .. 2n - 1`` (``LH``), vertical ``n .. 2n
  - 1`` and horizontal ``< n`` (``HL``), and both in ``n .. 2n - 1`` (``HH``), block ``(i, j)`` at rows ``n i ..``
  and columns ``n j ..`` of the band.

In JPEG's colour space and on its grid, a decoded JPEG's coefficients are still whole multiples of its quantisation
table (plus the decoder's rounding, a fraction of a level): :func:`find_lattice` finds those steps, and the wavelet
core then quantises on multiples of them and rounds its reconstruction back onto the lattice
(:func:`lattice_bands` lays the steps out as the bands are).

Every coefficient's basis image has unit energy. The inverse, which the decoder runs, is elementwise IEEE float64
sums in a fixed order (no matrix products), so every machine computes the same values.
"""

from __future__ import annotations

import numpy as np

from . import dwt

__all__ = ["BLOCK", "BLOCK_LEVELS", "LATTICE_MAX", "fits", "forward", "inverse", "band_gains", "find_lattice",
           "lattice_bands"]

BLOCK = 8
BLOCK_LEVELS = 3
"""The block DCT stands for this many wavelet levels (``BLOCK = 2 ** BLOCK_LEVELS``)."""

_N = np.arange(BLOCK)
_D = np.sqrt(np.where(_N == 0, 1.0, 2.0) / BLOCK)[:, None] * np.cos(np.pi * (2 * _N[None, :] + 1) * _N[:, None]
                                                                    / (2 * BLOCK))
"""Orthonormal DCT-II: ``_D[u, n]``, coefficient ``u`` of sample ``n``."""


def fits(height: int, width: int, levels: int) -> bool:
    """Whether a plane can take the block DCT: sides multiples of 8 and at least three wavelet levels."""
    return height % BLOCK == 0 and width % BLOCK == 0 and levels >= BLOCK_LEVELS


def _blocks(plane: np.ndarray) -> np.ndarray:
    """``(H/8, W/8, 8, 8)`` DCT coefficients ``[i, j, u, v]`` of the blocks of ``plane`` (matrix products: only the
    encoder transforms forward, and what it sends is exact whatever rounding its machine does)."""
    h, w = plane.shape
    x = np.asarray(plane, dtype=np.float64).reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK)
    return np.einsum("um,imjn,vn->ijuv", _D, x, _D, optimize=True)


def _unblocks(f: np.ndarray) -> np.ndarray:
    """The ``(H, W)`` plane of block coefficients ``f[u, v, i, j]`` (``(8, 8, H/8, W/8)``), as elementwise products
    summed in a fixed order."""
    bh, bw = f.shape[2:]
    rows = np.zeros_like(f)  # [m, v, i, j]: vertical frequencies back to rows
    tmp = np.empty_like(f[0])
    for m in range(BLOCK):
        for u in range(BLOCK):
            np.multiply(f[u], _D[u, m], out=tmp)
            rows[m] += tmp
    out = np.zeros_like(f)  # [n, m, i, j]
    for n in range(BLOCK):
        for v in range(BLOCK):
            np.multiply(rows[:, v], _D[v, n], out=tmp)
            out[n] += tmp
    return out.transpose(2, 1, 3, 0).reshape(bh * BLOCK, bw * BLOCK)


def _bands_of(c: np.ndarray) -> dwt.Bands:
    """The three finest levels, coarse to fine, from block coefficients ``(H/8, W/8, 8, 8)``."""
    bh, bw = c.shape[:2]
    out = []
    for k in range(BLOCK_LEVELS):
        n = 1 << k
        lo, hi = slice(0, n), slice(n, 2 * n)

        def lay(u: slice, v: slice, n: int = n) -> np.ndarray:
            return c[:, :, u, v].transpose(0, 2, 1, 3).reshape(bh * n, bw * n)

        out.append((lay(lo, hi), lay(hi, lo), lay(hi, hi)))
    return out


def forward(plane: np.ndarray, levels: int, wrap: bool = False) -> tuple[np.ndarray, dwt.Bands]:
    """``plane (H, W)`` -> ``(LL, bands)`` with the shapes of :func:`.dwt.forward` for ``levels`` levels: the block
    DCT for the three finest, the wavelet over the DC coefficients for the rest (``wrap``: periodic columns there)."""
    if not fits(*plane.shape, levels):
        raise ValueError(f"the block DCT needs sides divisible by {BLOCK} and {BLOCK_LEVELS} levels or more")
    c = _blocks(plane)
    ll, coarse = dwt.forward(c[:, :, 0, 0], levels - BLOCK_LEVELS, wrap)
    return ll, coarse + _bands_of(c)


def inverse(ll: np.ndarray, bands: dwt.Bands, wrap: bool = False) -> np.ndarray:
    """Inverse of :func:`forward`: ``(H, W)`` float64."""
    fine = bands[len(bands) - BLOCK_LEVELS:]
    dc = dwt.inverse(ll, bands[:len(bands) - BLOCK_LEVELS], wrap)
    bh, bw = dc.shape
    f = np.empty((BLOCK, BLOCK, bh, bw), dtype=np.float64)  # [u, v, i, j]
    f[0, 0] = dc
    for k, (lh, hl, hh) in enumerate(fine):
        n = 1 << k
        lo, hi = slice(0, n), slice(n, 2 * n)
        for band, u, v in ((lh, lo, hi), (hl, hi, lo), (hh, hi, hi)):
            f[u, v] = band.reshape(bh, n, bw, n).transpose(1, 3, 0, 2)
    return _unblocks(f)


def band_gains(levels: int) -> tuple[float, list[tuple[float, float, float]]]:
    """Synthesis energies of ``LL`` and of each level's bands, coarse to fine, as :func:`.dwt.band_gains` gives them
    for the wavelet: those of the wavelet over the DC plane, then 1 for every DCT coefficient."""
    g_ll, coarse = dwt.band_gains(levels - BLOCK_LEVELS)
    return g_ll, coarse + [(1.0, 1.0, 1.0)] * BLOCK_LEVELS


LATTICE_MAX = 255
"""Largest lattice step a stream may carry."""
_LATTICE_MIN = 4  # smaller JPEG steps are not told apart from rounding noise; the plain step serves them
_LATTICE_TOL = 1.0  # |c - Q round(c / Q)| within this (orthonormal units) counts as on the lattice
_LATTICE_FIT = 0.9  # ... for this fraction of the coefficients off zero
_LATTICE_SAMPLES = 32  # coefficients off zero needed to judge a step
_LATTICE_BLOCKS = 1 << 14  # blocks examined at most


def find_lattice(plane: np.ndarray) -> tuple[int, ...]:
    """The JPEG quantisation steps a plane's 8x8 block DCT coefficients still sit on: 64 integers, row-major by
    ``(u, v)``, 0 where none is found (always for DC, which the wavelet codes).

    A plane decoded from a JPEG (in JPEG's own colour space, on its grid) has coefficients ``k Q[u, v]`` plus the
    decoder's rounding noise (a fraction of a level). For each frequency the largest ``Q`` (4 to 255) on which 90 %
    of the coefficients off zero lie within one level is kept. Encoder only.
    """
    c = _blocks(plane).reshape(-1, BLOCK * BLOCK)
    if c.shape[0] > _LATTICE_BLOCKS:
        c = c[np.linspace(0, c.shape[0] - 1, _LATTICE_BLOCKS).astype(np.int64)]
    out = [0] * (BLOCK * BLOCK)
    for k in range(1, BLOCK * BLOCK):
        a = np.sort(np.abs(c[:, k]))
        a = a[a >= _LATTICE_MIN / 2]
        if a.size < _LATTICE_SAMPLES:
            continue
        top = int(2 * a[-_LATTICE_SAMPLES])  # larger steps would leave too few values off zero to judge
        for q in range(min(top, LATTICE_MAX), _LATTICE_MIN - 1, -1):
            off = a[np.searchsorted(a, q / 2):]
            if np.mean(np.abs(off - q * np.round(off / q)) <= _LATTICE_TOL) >= _LATTICE_FIT:
                out[k] = q
                break
    return tuple(out)


def lattice_bands(lattice: tuple[int, ...], block_rows: int, block_cols: int) -> list[tuple[np.ndarray, ...]]:
    """The lattice step of every value of the three finest levels' bands (coarse to fine, ``(LH, HL, HH)`` each,
    in the layout of :func:`forward`), 0 where there is none."""
    q = np.asarray(lattice, dtype=np.float64).reshape(BLOCK, BLOCK)
    out = []
    for k in range(BLOCK_LEVELS):
        n = 1 << k
        lo, hi = slice(0, n), slice(n, 2 * n)
        out.append(tuple(np.tile(q[u, v], (block_rows, block_cols)) for u, v in ((lo, hi), (hi, lo), (hi, hi))))
    return out
