"""Exact colour transforms shared by the codecs: the reversible YCoCg-R lifting (Malvar and Sullivan 2003).

Integer in, integer out, lossless on any integers (signed residuals included); used by the light-field residuals and
the point-cloud attribute codec.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rgb_to_ycocg", "ycocg_to_rgb"]


def rgb_to_ycocg(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YCoCg-R of integer planes (any shapes alike): ``(Y, Co, Cg)`` int64, lossless (see :func:`ycocg_to_rgb`)."""
    r, g, b = (np.asarray(p, dtype=np.int64) for p in (r, g, b))
    co = r - b
    t = b + (co >> 1)
    cg = g - t
    y = t + (cg >> 1)
    return y, co, cg


def ycocg_to_rgb(y: np.ndarray, co: np.ndarray, cg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`rgb_to_ycocg` (exact on any integers): returns ``(R, G, B)`` int64."""
    y, co, cg = (np.asarray(p, dtype=np.int64) for p in (y, co, cg))
    t = y - (cg >> 1)
    g = cg + t
    b = t - (co >> 1)
    r = b + co
    return r, g, b
