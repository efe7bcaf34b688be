"""``omnicodec eval``: read a reference and a decoded file and compute the quality metrics that fit them."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .errors import InputError
from .types import ErpImage, LightField, PointCloud

__all__ = ["evaluate", "evaluate_files"]


def evaluate(reference: Any, decoded: Any, *, peak: float | None = None, reference_normals=None,
             sphere: bool | None = None) -> dict[str, Any]:
    """Quality of ``decoded`` against ``reference`` (both PointCloud, LightField or ErpImage of the same kind).

    ``sphere``: compute the 360° metrics for images (default: when the width is twice the height).

    Returns:
        Point clouds: ``d1_mse d1_psnr d2_mse d2_psnr`` (symmetric, as MPEG pc_error), per-direction values,
        Hausdorff values, ``points_reference points_decoded peak``. Images: ``psnr psnr_y ssim_y``, and for
        panoramas ``ws_psnr_y s_psnr_y viewport_psnr_y seam_score_y`` (the last two from
        :mod:`omnicodec.metrics.viewport`; a negative seam score means the left/right seam is worse than the image
        centre). Light fields: ``mean_psnr_y mean_ssim_y mean_psnr_rgb`` (means over views), per-view lists
        (``per_view_psnr_y`` ... as rows of the view grid) and ``views`` (the grid). Images and light fields also
        give ``samples``, the pixel count (over all views) that bits per pixel divide by.
    """
    from . import metrics

    if isinstance(reference, PointCloud) and isinstance(decoded, PointCloud):
        return metrics.point_metrics(reference, decoded, peak=peak, reference_normals=reference_normals)
    peak = 255.0 if peak is None else float(peak)
    if isinstance(reference, ErpImage) and isinstance(decoded, ErpImage):
        a, b = reference.pixels, decoded.pixels
        if a.shape != b.shape:
            raise InputError(f"image sizes differ: {a.shape} against {b.shape}")
        out: dict[str, Any] = {"psnr": metrics.psnr(a, b, peak=peak)}
        if a.shape[-1] == 3:
            out.update(psnr_y=metrics.psnr_y(a, b, peak=peak), ssim_y=metrics.ssim(a, b, data_range=peak))
            if sphere is None:
                sphere = a.shape[1] == 2 * a.shape[0]
            if sphere:
                out.update(ws_psnr_y=metrics.ws_psnr(a, b, peak=peak), s_psnr_y=metrics.s_psnr(a, b, peak=peak))
                views = metrics.viewport_quality(a, b, peak=peak)
                out.update(viewport_psnr_y=views["viewport_psnr"], seam_score_y=views["seam_score"])
        out.update(height=int(a.shape[0]), width=int(a.shape[1]), samples=int(a.shape[0] * a.shape[1]))
        return out
    if isinstance(reference, LightField) and isinstance(decoded, LightField):
        if reference.views.shape != decoded.views.shape:
            raise InputError(f"light field shapes differ: {reference.views.shape} against {decoded.views.shape}")
        q = metrics.lightfield_quality(reference.views, decoded.views, peak=peak)
        out = {k: v for k, v in q.items() if k.startswith("mean_")}
        out.update({f"per_view_{k}": v.tolist() for k, v in q.items() if not k.startswith("mean_")})
        out["views"] = list(reference.views.shape[:2])
        out["samples"] = int(np.prod(reference.views.shape[:4]))
        return out
    raise InputError(
        f"cannot compare a {type(reference).__name__} with a {type(decoded).__name__}; both must be of one kind"
    )


def evaluate_files(
    reference: str | os.PathLike, decoded: str | os.PathLike, *, peak: float | None = None,
    normals: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """:func:`evaluate` on two files; ``normals`` names a file holding the reference's positions with normals."""
    from .io import read

    ref, dec = read(reference), read(decoded)
    ref_normals = None
    if normals is not None:
        n = read(normals)
        if not isinstance(n, PointCloud) or n.normals is None:
            raise InputError(f"{normals}: holds no nx, ny, nz normals")
        if not isinstance(ref, PointCloud) or len(n) != len(ref):
            raise InputError(f"{normals}: has {len(n)} points but the reference has {len(ref)}")
        ref_normals = n.normals
    return evaluate(ref, dec, peak=peak, reference_normals=ref_normals)
