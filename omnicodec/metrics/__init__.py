"""Quality metrics. They depend only on :mod:`omnicodec.types`, the pure geometry of :mod:`omnicodec.omni`, numpy
and scipy, and know nothing of codecs.

* Point clouds (:mod:`.pointcloud`, :mod:`.normals`): D1/D2 MSE, PSNR and Hausdorff exactly as MPEG pc_error
  0.14.2, PCA normals, the Chamfer distance; (:mod:`.attributes`): colour (Y, Cb, Cr) and reflectance PSNR.
* Images (:mod:`.image`): PSNR, BT.709 luma, PSNR-Y, SSIM.
* 360-degree ERP images (:mod:`.sphere`): WS-PSNR, S-PSNR; (:mod:`.viewport`): viewport PSNR, the seam score.
* Light fields (:mod:`.lightfield`): per-view PSNR-Y, SSIM-Y, RGB PSNR and their means; synthesised-view quality.
* Rate-distortion curves (:mod:`.bdrate`): BD-rate and BD-PSNR with PCHIP interpolation.
"""

from __future__ import annotations

from .attributes import colour_psnr, reflectance_psnr, rgb_to_ycbcr_bt709
from .bdrate import bd_psnr, bd_rate
from .image import mse, psnr, psnr_from_mse, psnr_y, rgb_to_y, ssim, ssim_per_image
from .lightfield import lightfield_quality, mean_psnr_rgb, mean_psnr_y, mean_ssim_y, view_synthesis_quality
from .normals import estimate_normals
from .pointcloud import auto_peak, chamfer_distance, pc_psnr, point_metrics
from .sphere import erp_row_weights, s_psnr, sphere_points, ws_psnr, ws_psnr_per_channel
from .viewport import VIEWPORTS, seam_score, viewport_psnr, viewport_psnr_per_view, viewport_quality

__all__ = [
    "point_metrics",
    "estimate_normals",
    "chamfer_distance",
    "pc_psnr",
    "auto_peak",
    "colour_psnr",
    "reflectance_psnr",
    "rgb_to_ycbcr_bt709",
    "mse",
    "psnr",
    "psnr_from_mse",
    "rgb_to_y",
    "psnr_y",
    "ssim",
    "ssim_per_image",
    "ws_psnr",
    "ws_psnr_per_channel",
    "erp_row_weights",
    "s_psnr",
    "sphere_points",
    "viewport_psnr",
    "viewport_psnr_per_view",
    "seam_score",
    "viewport_quality",
    "VIEWPORTS",
    "lightfield_quality",
    "mean_psnr_y",
    "mean_ssim_y",
    "mean_psnr_rgb",
    "view_synthesis_quality",
    "bd_rate",
    "bd_psnr",
]
