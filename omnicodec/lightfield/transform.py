"""Exact integer residual transforms: YCoCg-R colour lifting and an 8 x 8 integer DCT.

Everything a decoder computes here is integer arithmetic on int64 numpy arrays (no BLAS, no float), so a decoded
residual is bit-identical on every machine, thread count and device. The encoder's forward DCT is float64 (any
rounding difference there only changes the encoder's choices, never what the decoder computes).

* Colour: :func:`rgb_to_ycocg` / :func:`ycocg_to_rgb`, the reversible YCoCg-R lifting (Malvar and Sullivan 2003) on
  signed residuals; lossless on integers.
* Blocks: :func:`to_blocks` / :func:`from_blocks` cut an ``(H, W)`` plane (padded to a multiple of 8 by edge
  replication) into ``(Bh, Bw, 8, 8)`` blocks and back.
* DCT: :func:`forward_dct` (orthonormal, float64) and :func:`inverse_dct` (integer levels times an integer step in
  1/16 units, through the integer matrix :data:`DCT8`, rounded), the decoder's transform.
"""

from __future__ import annotations

import numpy as np

from ..colour import rgb_to_ycocg, ycocg_to_rgb

__all__ = ["BLOCK", "DCT8", "STEP_ONE", "rgb_to_ycocg", "ycocg_to_rgb", "to_blocks", "from_blocks", "forward_dct",
           "inverse_dct", "step_code"]

BLOCK = 8
"""Transform block side in pixels."""
STEP_ONE = 16
"""Quantiser steps are integers in units of 1/16 (``step_code(1.0) == 16``)."""

#: The 8-point integer DCT (rows = basis functions), about ``64 * sqrt(8)`` times the orthonormal DCT-II.
DCT8 = np.array(
    [[64, 64, 64, 64, 64, 64, 64, 64],
     [89, 75, 50, 18, -18, -50, -75, -89],
     [83, 36, -36, -83, -83, -36, 36, 83],
     [75, -18, -89, -50, 50, 89, 18, -75],
     [64, -64, -64, 64, 64, -64, -64, 64],
     [50, -89, 18, 75, -75, -18, 89, -50],
     [36, -83, 83, -36, -36, 83, -83, 36],
     [18, -50, 75, -89, 89, -75, 50, -18]], dtype=np.int64)
_NORM = 64 * 64 * 8  # DCT8 @ DCT8.T is about _NORM * identity
_C = DCT8.astype(np.float64) / np.sqrt(np.diag(DCT8 @ DCT8.T))[:, None]  # row-normalised, for the encoder


def step_code(step: float) -> int:
    """A quantiser step (in orthonormal-coefficient units, > 0) as the integer the stream stores (1/16 units)."""
    return max(1, int(round(float(step) * STEP_ONE)))


def to_blocks(plane: np.ndarray) -> np.ndarray:
    """``(H, W)`` -> ``(ceil(H/8), ceil(W/8), 8, 8)``, padding the bottom and right by edge replication."""
    h, w = plane.shape
    ph, pw = -h % BLOCK, -w % BLOCK
    if ph or pw:
        plane = np.pad(plane, ((0, ph), (0, pw)), mode="edge")
    bh, bw = plane.shape[0] // BLOCK, plane.shape[1] // BLOCK
    return plane.reshape(bh, BLOCK, bw, BLOCK).swapaxes(1, 2)


def from_blocks(blocks: np.ndarray, height: int, width: int) -> np.ndarray:
    """Inverse of :func:`to_blocks`: ``(Bh, Bw, 8, 8)`` -> ``(height, width)`` (the padding cropped)."""
    bh, bw = blocks.shape[:2]
    return blocks.swapaxes(1, 2).reshape(bh * BLOCK, bw * BLOCK)[:height, :width]


def forward_dct(blocks: np.ndarray) -> np.ndarray:
    """Orthonormal 2D DCT of ``(..., 8, 8)`` blocks, float64 (encoder side)."""
    x = np.asarray(blocks, dtype=np.float64)
    return _C @ x @ _C.T


def inverse_dct(levels: np.ndarray, step: int | np.ndarray) -> np.ndarray:
    """The decoder's inverse transform: ``(..., 8, 8)`` integer levels and step codes -> int64 samples.

    ``x = round(DCT8.T @ (levels * step) @ DCT8 / (16 * 64 * 64 * 8))``, all in int64 (the largest intermediate is
    below ``2**50`` for ``|level| < 2**13`` and steps below ``2**14``), rounding halves up.

    Args:
        levels: ``(..., 8, 8)`` integers.
        step: the step code (1/16 units), a scalar or broadcastable to ``levels``.
    """
    c = np.asarray(levels, dtype=np.int64) * np.asarray(step, dtype=np.int64)
    x = np.matmul(np.matmul(DCT8.T, c), DCT8)  # int64 matmul: exact, no BLAS
    den = STEP_ONE * _NORM
    return (x + den // 2) // den
