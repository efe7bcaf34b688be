"""The sphere-aware panorama codec (codec id ``erp``): the learned image codec with three ERP adaptations.

1. **Wrap-around**: the analysis and synthesis see the panorama as horizontally periodic (the column left of
   column 0 is the last column), so the 0/360 degree seam is an interior edge and leaves no visible seam.
2. **Rate by sphere area**: each latent row is scaled by ``row_gain = max(cos(latitude), 1/16) ** 0.5`` before
   rounding (:mod:`.latitude`), so rows near the poles, which cover little of the sphere, get coarser steps.
3. **Trained for WS-MSE**: its model (``image_erp``) is the core model trained on by panorama crops with the row
   gains, row weights ``cos(latitude)`` in the distortion, and ERP rotations (yaw rolls, mirrors).

Any size is accepted (a 2:1 aspect is assumed for the latitudes: row ``j`` of ``H`` is at latitude
``90 - (j + 0.5) * 180 / H`` degrees); panoramas are coded in 1024 x 1024 pixel entropy tiles and transform windows
with margins, so memory is bounded and there are no tile seams. Stream layout as for ``image`` (``wrap`` and
``sphere`` true in the header).
"""

from __future__ import annotations

from ..codecs.registry import register_codec
from ..image.codec import ImageCodec

__all__ = ["ErpCodec"]


@register_codec("erp", "image")
class ErpCodec(ImageCodec):
    """Sphere-aware learned codec for equirectangular panoramas, rate points 1..8 (``rate``)."""

    description = "sphere-aware learned panorama codec (wrap-around, latitude gains, WS-MSE), rate points 1-8"
    default_model = "image_erp"
    wrap = True
    sphere = True
