"""Light-field quality: per-view PSNR-Y, SSIM-Y and RGB PSNR, and their means over the views.

A light field is (U, V, H, W, 3) RGB (usually uint8) or a :class:`~omnicodec.types.LightField`. Every view is scored
on its own with the conventions of :mod:`.image` (BT.709 luma, SSIM of Wang et al. 2004 on luma); the field's score
is the arithmetic mean of the per-view scores (the mean of per-view PSNRs in dB, not the PSNR of the mean MSE), the
usual convention for light-field coding results. A view decoded without error has PSNR +inf, and so has the mean.
:func:`view_synthesis_quality` scores synthesised views (rendered at positions of the view grid) the same way against
the true views there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from ..types import LightField
from .image import psnr_from_mse, rgb_to_y, ssim_per_image

__all__ = ["lightfield_quality", "mean_psnr_y", "mean_ssim_y", "mean_psnr_rgb", "view_synthesis_quality"]

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


def _grid_index(p: tuple, k: int, grid: tuple[int, int]) -> tuple[int, int]:
    """``p`` as the (row, col) of a view of a U x V grid."""
    try:
        a, b = (float(x) for x in p)
    except (TypeError, ValueError):
        raise InputError(f"position {k} must be a (u, v) pair of numbers, got {p!r}") from None
    if not (a.is_integer() and b.is_integer() and 0 <= a < grid[0] and 0 <= b < grid[1]):
        raise InputError(f"position {k} {p!r} is not a view of the {grid[0]} x {grid[1]} grid")
    return int(a), int(b)


def view_synthesis_quality(
    reference: LightField | np.ndarray,
    synthesized: np.ndarray,
    positions: Sequence[tuple[int, int]],
    *,
    peak: float = 255.0,
) -> dict[str, list | float]:
    """PSNR-Y and SSIM-Y of synthesised views against the true views at their positions.

    Args:
        reference: the true views: the whole (U, V, H, W, 3) light field (array or LightField), whose view
            ``(u, v)`` is taken for each position, or the N true views themselves, (N, H, W, 3), in the order of
            ``positions``.
        synthesized: (N, H, W, 3) synthesised views, one per position, same dtype scale as ``reference``.
        positions: N ``(u, v)`` view positions (integers when ``reference`` is a whole light field).
        peak: the largest possible sample value (also SSIM's data range).

    Returns:
        ``positions`` (list of N ``(u, v)`` tuples), ``psnr_y`` and ``ssim_y`` (lists of N Python floats, dB and
        unitless, in the order of ``positions``), ``mean_psnr_y`` and ``mean_ssim_y`` (their means).

    Raises:
        InputError: shapes that do not match, no positions, or a position that is not a view of ``reference``.
    """
    ref = reference.views if isinstance(reference, LightField) else np.asarray(reference)
    syn = np.asarray(synthesized)
    try:
        pos = [tuple(p) for p in positions]
    except TypeError:
        raise InputError(f"positions must be (u, v) pairs, got {positions!r}") from None
    if not pos:
        raise InputError("no synthesised views to score (positions is empty)")
    if syn.ndim != 4 or syn.shape[0] != len(pos):
        raise InputError(f"synthesized must have shape (N, H, W, 3) with N = {len(pos)} positions, got {syn.shape}")
    if ref.ndim == 5:
        ref = np.stack([ref[_grid_index(p, k, ref.shape[:2])] for k, p in enumerate(pos)])
    elif ref.ndim != 4 or ref.shape[0] != len(pos):
        raise InputError(
            f"reference must be a (U, V, H, W, 3) light field or (N, H, W, 3) views with N = {len(pos)}, "
            f"got {ref.shape}"
        )
    a, b = _views(ref[None], syn[None])
    per = _per_view(a, b, float(peak), True)
    psnrs, ssims = [float(x) for x in per["psnr_y"][0]], [float(x) for x in per["ssim_y"][0]]
    return {"positions": pos, "psnr_y": psnrs, "ssim_y": ssims,
            "mean_psnr_y": float(np.mean(psnrs)), "mean_ssim_y": float(np.mean(ssims))}
