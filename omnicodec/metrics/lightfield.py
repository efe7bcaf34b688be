"""Light-field quality: per-view PSNR-Y, SSIM-Y and RGB PSNR, and their means over the views.

A light field is (U, V, H, W, 3) RGB (usually uint8) or a :class:`~omnicodec.types.LightField`. Every view is scored
on its own with the conventions of :mod:`.image` (BT.709 luma, SSIM of Wang et al. 2004 on luma); the field's score
is the arithmetic mean of the per-view scores (the mean of per-view PSNRs in dB, not the PSNR of the mean MSE), the
usual convention for light-field coding results. A view decoded without error has PSNR +inf, and so has the mean.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..types import LightField
from .image import psnr_from_mse, rgb_to_y, ssim_per_image

__all__ = ["lightfield_quality", "mean_psnr_y", "mean_ssim_y", "mean_psnr_rgb"]

_VIEWS_PER_CHUNK = 8


def _views(ref: LightField | np.ndarray, dec: LightField | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = ref.views if isinstance(ref, LightField) else np.asarray(ref)
    b = dec.views if isinstance(dec, LightField) else np.asarray(dec)
    if a.shape != b.shape:
        raise InputError(f"reference and decoded light fields differ in shape: {a.shape} vs {b.shape}")
    if a.ndim != 5 or a.shape[-1] != 3 or a.size == 0:
        raise InputError(f"light fields must have shape (U, V, H, W, 3) and not be empty, got {a.shape}")
    return a, b


def _per_view(a: np.ndarray, b: np.ndarray, peak: float, with_ssim: bool) -> dict[str, np.ndarray]:
    u, v = a.shape[:2]
    flat_a = a.reshape((u * v,) + a.shape[2:])
    flat_b = b.reshape((u * v,) + b.shape[2:])
    mse_y = np.empty(u * v)
    mse_rgb = np.empty(u * v)
    ssim_y = np.empty(u * v)
    for start in range(0, u * v, _VIEWS_PER_CHUNK):
        sl = slice(start, start + _VIEWS_PER_CHUNK)
        xa, xb = flat_a[sl].astype(np.float64), flat_b[sl].astype(np.float64)
        d = xa - xb
        mse_rgb[sl] = (d * d).mean(axis=(1, 2, 3))
        ya, yb = rgb_to_y(xa), rgb_to_y(xb)
        dy = ya - yb
        mse_y[sl] = (dy * dy).mean(axis=(1, 2))
        if with_ssim:
            ssim_y[sl] = ssim_per_image(ya, yb, data_range=peak, on="gray")
    out = {
        "psnr_y": np.array([psnr_from_mse(m, peak) for m in mse_y]).reshape(u, v),
        "psnr_rgb": np.array([psnr_from_mse(m, peak) for m in mse_rgb]).reshape(u, v),
    }
    if with_ssim:
        out["ssim_y"] = ssim_y.reshape(u, v)
    return out


def lightfield_quality(
    ref: LightField | np.ndarray, dec: LightField | np.ndarray, *, peak: float = 255.0, ssim: bool = True
) -> dict[str, np.ndarray | float]:
    """Per-view and mean quality of a decoded light field.

    Args:
        ref: (U, V, H, W, 3) RGB reference, array or LightField.
        dec: decoded, same shape.
        peak: the largest possible sample value (also SSIM's data range).
        ssim: also compute SSIM-Y (the slow part; views need H, W >= 11).

    Returns:
        ``psnr_y``, ``psnr_rgb`` and (with ``ssim``) ``ssim_y``: (U, V) float64 per-view values (dB; SSIM unitless),
        and ``mean_psnr_y``, ``mean_psnr_rgb``, ``mean_ssim_y``: their means over the views (Python floats).
    """
    a, b = _views(ref, dec)
    out: dict[str, np.ndarray | float] = dict(_per_view(a, b, float(peak), ssim))
    for name in list(out):
        out[f"mean_{name}"] = float(np.mean(out[name]))
    return out


def mean_psnr_y(ref: LightField | np.ndarray, dec: LightField | np.ndarray, *, peak: float = 255.0) -> float:
    """Mean over views of PSNR-Y (dB), for (U, V, H, W, 3) light fields."""
    a, b = _views(ref, dec)
    return float(np.mean(_per_view(a, b, float(peak), False)["psnr_y"]))


def mean_psnr_rgb(ref: LightField | np.ndarray, dec: LightField | np.ndarray, *, peak: float = 255.0) -> float:
    """Mean over views of the RGB PSNR (all three channels pooled per view), in dB."""
    a, b = _views(ref, dec)
    return float(np.mean(_per_view(a, b, float(peak), False)["psnr_rgb"]))


def mean_ssim_y(ref: LightField | np.ndarray, dec: LightField | np.ndarray, *, peak: float = 255.0) -> float:
    """Mean over views of SSIM-Y, for (U, V, H, W, 3) light fields."""
    a, b = _views(ref, dec)
    return float(np.mean(_per_view(a, b, float(peak), True)["ssim_y"]))
