"""The sphere-aware panorama codec (codec id ``erp``): the image codec with the ERP adaptations.

1. **Wrap-around**: the transform sees the panorama as horizontally periodic (the column left of column 0 is the
   last column), so the 0/360 degree seam is an interior position and leaves no visible seam. The wavelet core
   needs a width divisible by ``2**levels`` for this (32 or 64 for most panoramas); other widths are coded without
   it (the header's ``wrap`` says which).
2. **Rate by sphere area**: quantiser steps grow towards the poles, ``step / max(cos(latitude), 1/16) ** 0.5`` per
   row (:mod:`.latitude`; the high-rate optimum for the cos-weighted WS-MSE), so rows that cover little of the
   sphere get fewer bits.
3. **Luma first**: chroma steps are ``39/16 = 2.44`` times the luma step (``default_chroma``), the high-rate optimum
   for the 6:1:1 weighting of Y', Cb and Cr errors that 360-degree test conditions use to combine WS-PSNR over
   planes (``sqrt(6)``: the step of a plane goes as one over the square root of its weight); ``chroma=1`` gives
   the equal steps of ``image``.
4. **Trained on panoramas**: the wavelet core's context tables (``image_wavelet``) are trained on the training
   panoramas coded exactly this way, beside photos. The hyperprior autoencoder ``image_erp`` (``model="image_erp"``)
   was trained with WS-MSE, the row gains and ERP rotations.

Any size is accepted (a 2:1 aspect is assumed for the latitudes: row ``j`` of ``H`` is at latitude
``90 - (j + 0.5) * 180 / H`` degrees). Stream layout as for ``image`` (``wrap`` and ``sphere`` in the header).
"""

from __future__ import annotations

from ..codecs.registry import register_codec
from ..image.codec import ImageCodec

__all__ = ["ErpCodec"]


@register_codec("erp", "image")
class ErpCodec(ImageCodec):
    """Sphere-aware learned codec for equirectangular panoramas, rate points 1..8 (``rate``)."""

    description = "sphere-aware panorama codec (wrap-around, latitude steps, panorama-trained tables), rate points 1-8"
    default_model = "image_wavelet"
    default_chroma = 39 / 16
    wrap = True
    sphere = True
