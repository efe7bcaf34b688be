"""Latitude-dependent weights of an equirectangular image: where the sphere has area, and how to spend rate there.

An ERP row at latitude ``phi`` covers ``cos(phi)`` of the sphere area per pixel that a row at the equator covers.
WS-PSNR weights its squared errors by that cosine. For a weighted distortion ``sum_i w_i d_i`` at a total rate, the
high-rate optimum gives each region a quantisation step proportional to ``w_i ** -0.5``; the codec therefore scales
the latent of each latent row by ``row_gain = max(cos(phi), COS_FLOOR) ** 0.5`` before rounding (coarser steps
towards the poles) and divides it back after decoding. The floor keeps the polar rows from collapsing to nothing.

Gains only change the reconstruction, never a probability, so they need not be bit-exact; they are still computed
from the row index alone, in float64, and rounded to multiples of ``2**-16``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COS_FLOOR", "row_latitudes", "row_gains", "ws_weights", "latent_row_gains"]

COS_FLOOR = 1.0 / 16.0
"""Smallest area weight a latent row's gain is derived from (gain >= 0.25)."""


def row_latitudes(height: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Latitude in degrees of pixel row centres of an ERP image ``height`` rows high (row 0 next to the north pole).

    Args:
        height: image height in pixels.
        rows: row indices (default: all), any shape.
    """
    r = np.arange(height) if rows is None else np.asarray(rows)
    return 90.0 - (r + 0.5) * 180.0 / height


def ws_weights(lat_deg: np.ndarray) -> np.ndarray:
    """WS-PSNR row weights ``cos(lat)`` normalised to mean 1 over the sphere (divided by ``2 / pi``)."""
    return np.cos(np.deg2rad(np.asarray(lat_deg, dtype=np.float64))) * (np.pi / 2.0)


def row_gains(lat_deg: np.ndarray) -> np.ndarray:
    """Latent gain of rows at latitudes ``lat_deg`` (degrees, any shape): ``max(cos, COS_FLOOR) ** 0.5``."""
    c = np.maximum(np.cos(np.deg2rad(np.asarray(lat_deg, dtype=np.float64))), COS_FLOOR)
    return np.round(np.sqrt(c) * 65536.0) / 65536.0


def latent_row_gains(height: int, latent_rows: int, row0: int = 0, factor: int = 16) -> np.ndarray:
    """Gains ``(latent_rows,)`` of latent rows ``row0 ..`` of an ERP image ``height`` pixels high, each latent row
    covering ``factor`` pixel rows (rows past the image bottom, padding, get the gain of the last real row)."""
    first = (np.arange(row0, row0 + latent_rows) * factor).astype(np.float64)
    centre = np.minimum(first + (factor - 1) / 2.0, height - 0.5)
    return row_gains(90.0 - (centre + 0.5) * 180.0 / height)
