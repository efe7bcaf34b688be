"""Viewport PSNR and the seam score of 360-degree ERP images.

Viewports are rectilinear views rendered from both images with the same sampling grid
(:func:`omnicodec.omni.viewport_grid`; conventions in :mod:`omnicodec.omni.projection`: yaw 0 is the image centre,
yaw 180 the left/right seam, pitch +90 the north pole).

* **Viewport PSNR**: the mean, over the fixed set :data:`VIEWPORTS`, of the PSNR of each viewport. The set has 18
  views with a 90 degree horizontal field of view, square, roll 0: 8 on the equator (yaw 0, 45, ..., 315), 4 at
  pitch +45 and 4 at pitch -45 (yaw 45, 135, 225, 315), and the two poles (pitch +-90, yaw 0). Together they cover
  the whole sphere (every direction lies inside at least one view), with the equator, where people mostly look,
  weighted most. The side of each view is round(W / 4) pixels (at least 8; about the ERP's own resolution at the
  view centre) unless ``size`` is given.
* **Seam score**: PSNR of the view centred on the seam (yaw 180, pitch 0) minus PSNR of the same-size view rotated
  180 degrees from it (yaw 0, pitch 0, the image centre), in dB. Negative: the seam is coded worse than the
  centre (a codec that ignores the wrap-around); positive: better. When both views are identical in the two images
  (both PSNRs +inf) the score is 0; when only one is, it is +inf or -inf.

Sampling: bicubic (Keys, a = -0.5; :mod:`omnicodec.omni.sampling`) by default, bilinear on request. Bicubic hides
less of the coding error: any interpolation between pixel centres low-passes the error, and on white noise the
bilinear views read about 4.8 dB above the ERP's own PSNR-Y, the bicubic ones about 2.1 dB. With ``on="y"`` (the
default) BT.709 luma of the RGB input (:func:`~omnicodec.metrics.image.rgb_to_y`) is computed first, in float64;
the difference of the two luma planes is sampled once per view, which equals the difference of the two views
sampled on the same grid (interpolation is linear, and nothing is rounded). ``on="all"`` does the same with every
channel and pools them. Each viewport PSNR is 10 log10(peak^2 / MSE) over its samples (+inf when they agree, so
the mean is +inf when any viewport is identical).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..omni.sampling import sample_erp
from ..omni.viewport import viewport_grid
from ..types import ErpImage
from .image import psnr_from_mse, rgb_to_y

__all__ = [
    "VIEWPORTS",
    "VIEWPORT_FOV",
    "viewport_size",
    "viewport_psnr_per_view",
    "viewport_psnr",
    "seam_score",
    "viewport_quality",
]

#: (yaw, pitch) in degrees of the viewports of :func:`viewport_psnr`, roll 0.
VIEWPORTS: tuple[tuple[float, float], ...] = (
    *((float(yaw), 0.0) for yaw in range(0, 360, 45)),
    *((float(yaw), 45.0) for yaw in range(45, 360, 90)),
    *((float(yaw), -45.0) for yaw in range(45, 360, 90)),
    (0.0, 90.0),
    (0.0, -90.0),
)
#: Horizontal (and, the views being square, vertical) field of view of every viewport, degrees.
VIEWPORT_FOV = 90.0
_INTERPOLATIONS = ("bilinear", "bicubic")
_SEAM, _CENTRE = (180.0, 0.0), (0.0, 0.0)  # (yaw, pitch) of the seam score's views


def viewport_size(width: int) -> int:
    """Side in pixels of the square viewports for an ERP image W pixels wide: max(8, round(W / 4))."""
    return max(8, round(width / 4))


def _difference(ref, dec, on: str) -> np.ndarray:
    """float64 reference minus decoded: (H, W) luma, or the (H, W[, C]) images as given."""
    a = ref.pixels if isinstance(ref, ErpImage) else np.asarray(ref)
    b = dec.pixels if isinstance(dec, ErpImage) else np.asarray(dec)
    if a.shape != b.shape:
        raise InputError(f"reference and decoded shapes differ: {a.shape} vs {b.shape}")
    if a.ndim not in (2, 3) or a.size == 0:
        raise InputError(f"ERP images must have shape (H, W) or (H, W, C) and not be empty, got {a.shape}")
    if on == "y":
        if a.ndim != 3 or a.shape[2] != 3:
            raise InputError(f"on='y' needs RGB (H, W, 3) images, got {a.shape}; use on='all'")
        return rgb_to_y(a) - rgb_to_y(b)
    if on == "all":
        return a.astype(np.float64) - b.astype(np.float64)
    raise InputError(f"on must be 'y' or 'all', got {on!r}")


def _view_psnrs(err, angles, *, peak, interpolation, size) -> np.ndarray:
    if interpolation not in _INTERPOLATIONS:
        raise InputError(f"interpolation must be 'bilinear' or 'bicubic', got {interpolation!r}")
    h, w = err.shape[:2]
    side = viewport_size(w) if size is None else int(size)
    if side < 1:
        raise InputError(f"the viewport size must be positive, got {size}")
    out = []
    for yaw, pitch in angles:
        grid = viewport_grid((h, w), yaw, pitch, 0.0, VIEWPORT_FOV, (side, side))
        d = sample_erp(err, grid, interpolation)
        out.append(psnr_from_mse(float(np.mean(d * d)), peak))
    return np.array(out, dtype=np.float64)


def viewport_psnr_per_view(
    ref: ErpImage | np.ndarray,
    dec: ErpImage | np.ndarray,
    *,
    peak: float = 255.0,
    on: str = "y",
    interpolation: str = "bicubic",
    size: int | None = None,
) -> np.ndarray:
    """PSNR of each viewport of :data:`VIEWPORTS`.

    Args:
        ref: (H, W, 3) RGB ERP image (or (H, W[, C]) with ``on="all"``), array or ErpImage, 0..peak scale.
        dec: decoded, same shape.
        peak: the largest possible sample value.
        on: ``"y"`` (BT.709 luma) or ``"all"`` (every channel pooled).
        interpolation: ``"bicubic"`` or ``"bilinear"``.
        size: side of the square viewports in pixels (default :func:`viewport_size`).

    Returns:
        (18,) float64 PSNRs in dB, in the order of :data:`VIEWPORTS` (+inf for a viewport where both agree).
    """
    return _view_psnrs(_difference(ref, dec, on), VIEWPORTS, peak=peak, interpolation=interpolation, size=size)


def viewport_psnr(
    ref: ErpImage | np.ndarray,
    dec: ErpImage | np.ndarray,
    *,
    peak: float = 255.0,
    on: str = "y",
    interpolation: str = "bicubic",
    size: int | None = None,
) -> float:
    """Viewport PSNR: the mean of :func:`viewport_psnr_per_view` over the 18 viewports, in dB.

    Args: as :func:`viewport_psnr_per_view`.

    Returns:
        Mean PSNR in dB (+inf when any viewport is identical in both images).
    """
    return float(np.mean(viewport_psnr_per_view(ref, dec, peak=peak, on=on, interpolation=interpolation, size=size)))


def seam_score(
    ref: ErpImage | np.ndarray,
    dec: ErpImage | np.ndarray,
    *,
    peak: float = 255.0,
    on: str = "y",
    interpolation: str = "bicubic",
    size: int | None = None,
) -> float:
    """PSNR of the seam viewport (yaw 180) minus PSNR of the centre viewport (yaw 0), both at pitch 0, in dB.

    Both views are square with a 90 degree field of view, like those of :func:`viewport_psnr`. A negative score
    means the seam is worse than the rest of the image; about 0, no seam artefact.

    Args: as :func:`viewport_psnr_per_view`.

    Returns:
        The difference in dB; 0.0 when both views are identical in the two images, +-inf when only one is.
    """
    err = _difference(ref, dec, on)
    seam, centre = _view_psnrs(err, (_SEAM, _CENTRE), peak=peak, interpolation=interpolation, size=size)
    return _seam_score(seam, centre)


def _seam_score(seam: float, centre: float) -> float:
    return 0.0 if math.isinf(seam) and math.isinf(centre) else float(seam - centre)


def viewport_quality(
    ref: ErpImage | np.ndarray,
    dec: ErpImage | np.ndarray,
    *,
    peak: float = 255.0,
    on: str = "y",
    interpolation: str = "bicubic",
    size: int | None = None,
) -> dict[str, float | np.ndarray]:
    """Viewport PSNR, its per-view values and the seam score in one pass (the seam and centre views are views of
    :data:`VIEWPORTS`, so nothing is sampled twice).

    Args: as :func:`viewport_psnr_per_view`.

    Returns:
        ``{"viewport_psnr": float, "seam_score": float, "per_view": (18,) float64}``, equal to what
        :func:`viewport_psnr`, :func:`seam_score` and :func:`viewport_psnr_per_view` return.
    """
    per_view = viewport_psnr_per_view(ref, dec, peak=peak, on=on, interpolation=interpolation, size=size)
    seam = _seam_score(per_view[VIEWPORTS.index(_SEAM)], per_view[VIEWPORTS.index(_CENTRE)])
    return {"viewport_psnr": float(np.mean(per_view)), "seam_score": seam, "per_view": per_view}
