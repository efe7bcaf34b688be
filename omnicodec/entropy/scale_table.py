"""The Gaussian conditional's fixed scale table, the scale -> index rule, and its integer tables.

**Scale table.** ``NUM_SCALES = 89`` log-spaced scales, 8 per octave, from 0.125 to 256:
``s_i = 2**(i / 8 - 3)``, ``i = 0 .. 88``. Index ``i`` serves the scales between the geometric midpoints
``2**((i - 0.5) / 8 - 3)`` and ``2**((i + 0.5) / 8 - 3)``; smaller scales use index 0, larger ones index 88
(values beyond a table's range stay lossless through its escape).

**Index rule, exact.** A scale is first rounded to a 16-bit fixed-point integer ``rint(s * 2**16)`` (one exact
multiplication by a power of two, then round-half-even: the same integer on every machine for the same float) and
compared with integer thresholds, ``ceil(2**16 * midpoint)``, computed with integer square roots only (no libm, no
float). So equal float scales give equal indices everywhere, whatever the platform, thread count or device.

**Residual risk.** The rule cannot repair scales that *differ* between encoder and decoder (a hyper-decoder run
with another BLAS, thread count or device can change its output in the last bits). An index flips when a scale and
its counterpart straddle a threshold: for scales that differ by a relative ``eps``, about ``2 * eps / 0.087`` of
the symbols, e.g. ~3e-6 per symbol for 1 float32 ulp, enough to break a stream of a million latents. Codecs must
therefore make the scales themselves bit-exact (compute them from decoded integers in a deterministic way, e.g.
float64 on CPU with fixed threads, or a lookup on the hyper-latents).

**Integer tables.** For each scale, values ``-R .. R`` plus an escape; ``pmf(k)`` is the N(0, s) mass of
``[k - 0.5, k + 0.5]`` in float64 (``scipy.special.erfc``), the escape gets the mass beyond ``R + 0.5``, and
:func:`~omnicodec.entropy.tables.quantize_probs` makes the integers. ``R`` is the multiple of ``s`` (3 to 6
standard deviations in steps of 1/4) that minimises the expected code length, escapes included. The tables are
built once and shipped in ``scale_tables.npz`` (so no platform recomputes them); a test rebuilds them and checks
the file and its sha256, detecting a platform whose erfc differs.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import InputError
from .overflow import LENGTH_FREQS
from .table_set import TableSet
from .tables import PROB_BITS, quantize_probs

__all__ = ["NUM_SCALES", "SCALES", "scale_index", "build_scale_tables", "load_scale_tables", "TABLES_PATH"]

SCALE_MIN_LOG2 = -3
STEPS_PER_OCTAVE = 8
NUM_SCALES = 89
FIXED_POINT_BITS = 16
TABLES_PATH = Path(__file__).with_name("scale_tables.npz")

SCALES = np.array([2.0 ** (i / STEPS_PER_OCTAVE + SCALE_MIN_LOG2) for i in range(NUM_SCALES)])
"""``(89,)`` float64 representative scale of each index."""


def _thresholds() -> np.ndarray:
    # midpoint_i * 2**16 = 2**((16 * (16 + SCALE_MIN_LOG2) + 2 * i + 1) / 16); floor of a 16th root = 4 nested isqrt.
    out = []
    for i in range(NUM_SCALES - 1):
        power = 1 << (16 * (FIXED_POINT_BITS + SCALE_MIN_LOG2) + 2 * i + 1)
        root = math.isqrt(math.isqrt(math.isqrt(math.isqrt(power))))
        out.append(root + 1)  # the root is irrational, so ceil = floor + 1
    return np.array(out, dtype=np.int64)


THRESHOLDS = _thresholds()
"""``(88,)`` int64: ``scale_index(s) = #{i : THRESHOLDS[i] <= rint(s * 2**16)}``."""

_MAX_SCALE = float(1 << 20)
_BOUNDS = np.concatenate([[np.iinfo(np.int64).min], THRESHOLDS, [np.iinfo(np.int64).max]])  # index i: [B[i], B[i+1])


def scale_index(scales: np.ndarray) -> np.ndarray:
    """Maps scales to table indices, exactly and identically on every machine (see the module docstring).

    Args:
        scales: any shape, float (torch tensors accepted by the caller after conversion); ``<= 0`` maps to 0.

    Returns:
        int16 indices in ``[0, NUM_SCALES)``, same shape.

    Raises:
        InputError: a NaN scale.
    """
    s = np.asarray(scales, dtype=np.float64)
    if np.isnan(s).any():
        raise InputError("scales must not be NaN")
    fixed = np.rint(np.minimum(np.maximum(s, 0.0), _MAX_SCALE) * float(1 << FIXED_POINT_BITS)).astype(np.int64)
    # A float estimate, then integer comparisons decide: the result depends on the integers only.
    est = np.log2(np.maximum(fixed, 1).astype(np.float64)) - (FIXED_POINT_BITS + SCALE_MIN_LOG2)
    idx = np.clip(np.floor(est * STEPS_PER_OCTAVE + 0.5), 0, NUM_SCALES - 1).astype(np.int64)
    for _ in range(2):  # the estimate is within one step; two rounds for margin
        idx += fixed >= _BOUNDS[idx + 1]
        idx -= fixed < _BOUNDS[idx]
    return idx.astype(np.int16)


def _escape_bits(distance: np.ndarray) -> np.ndarray:
    """Bits the overflow code spends on zigzag values (for choosing R only)."""
    m = distance + 1.0
    nbits = np.floor(np.log2(m)).astype(np.int64)
    return PROB_BITS - np.log2(LENGTH_FREQS[nbits].astype(np.float64)) + nbits


def _table_for(scale: float, half_width: int) -> tuple[np.ndarray, float]:
    """Quantised table over ``-R .. R`` + escape, and its expected code length in bits."""
    from scipy.special import erfc

    root2s = math.sqrt(2.0) * scale
    k = np.arange(-half_width, half_width + 1, dtype=np.float64)
    a = np.abs(k)
    pmf = 0.5 * (erfc((a - 0.5) / root2s) - erfc((a + 0.5) / root2s))
    tail = float(erfc((half_width + 0.5) / root2s))
    freqs = quantize_probs(np.append(pmf, tail))
    bits = PROB_BITS - np.log2(freqs.astype(np.float64))
    # expected length: direct symbols, plus escape symbol and overflow code for |k| beyond R (up to 40 sigma)
    far = np.arange(half_width + 1, half_width + 2 + int(40 * scale), dtype=np.float64)
    far_mass = 0.5 * (erfc((far - 0.5) / root2s) - erfc((far + 0.5) / root2s))
    below = 2 * (far - half_width - 1) + 1  # zigzag of the distance below (above is 1 less: close enough)
    expected = float((pmf * bits[:-1]).sum() + 2 * (far_mass * (bits[-1] + _escape_bits(below))).sum())
    return freqs, expected


def build_scale_tables() -> TableSet:
    """Computes the integer table of every scale index (float64 + quantize_probs). Used to make the shipped file."""
    tables, lo = [], []
    for s in SCALES:
        best = None
        for z in np.arange(3.0, 6.0 + 1e-9, 0.25):
            r = max(1, math.ceil(z * s))
            freqs, expected = _table_for(float(s), r)
            if best is None or expected < best[1] - 1e-12:
                best = (freqs, expected, r)
        tables.append(best[0])
        lo.append(-best[2])
    starts = np.concatenate([[0], np.cumsum([t.shape[0] for t in tables])]).astype(np.int64)
    return TableSet(np.concatenate(tables).astype(np.int32), starts, np.asarray(lo, dtype=np.int64))


def load_scale_tables(path: Path = TABLES_PATH) -> TableSet:
    """The shipped tables (``scale_tables.npz``)."""
    with np.load(path, allow_pickle=False) as z:
        return TableSet(z["freqs"].astype(np.int32), z["starts"].astype(np.int64), z["lo"].astype(np.int64))


def save_scale_tables(path: Path = TABLES_PATH) -> str:
    """Rebuilds and writes the shipped tables; returns their checksum. ``python -m omnicodec.entropy.scale_table``."""
    tables = build_scale_tables()
    np.savez_compressed(path, freqs=tables.freqs, starts=tables.starts, lo=tables.lo)
    return tables.checksum()


if __name__ == "__main__":
    print(save_scale_tables())
