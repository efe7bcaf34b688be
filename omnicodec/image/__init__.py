"""The 2D image codec core, shared by the ``image`` and ``erp`` codecs (and by light-field key views).

The wavelet core (the default):

* :mod:`.dwt`: the CDF 9/7 lifting wavelet over planes of any size (periodic columns for panoramas).
* :mod:`.subband_coder`: quantisation and the coding of one plane's bands under exact integer contexts.
* :mod:`.subband_model`: the learned context tables and reconstruction offsets (zoo kind ``image_contexts``).
* :mod:`.wavelet`: colour transform, steps per band and rate point, the planes of one stream.

The hyperprior autoencoder (``model="image_core"`` / ``"image_erp"``):

* :class:`~.model.GainHyperprior`: analysis / synthesis transforms (``g_a`` / ``g_s``, GDN), a hyperprior
  (``h_a`` / ``h_s``) whose hyper-synthesis is an exact integer network (:mod:`.int_hyper`), and one gain vector
  per rate point.
* :mod:`.latent_coder`: one entropy tile's hyper-latent and latent, coded with exact integer probabilities.
* :mod:`.tiling`: the transforms over images of any size in windows with margins (bounded memory, no seams).
* :mod:`.models`: image models in the zoo (kind ``image``).

:mod:`.codec`: codec ``image`` (``compress(img, codec="image", rate=R)``), rate points 1..8, with either core.
"""

from __future__ import annotations

__all__ = ["GainHyperprior", "ImageModelConfig", "LAMBDAS", "RATES"]


def __getattr__(name: str):
    # torch loads on first use, so that importing omnicodec stays light
    if name in ("GainHyperprior", "ImageModelConfig", "LAMBDAS"):
        from . import model

        return getattr(model, name)
    if name == "RATES":
        from .codec import RATES

        return RATES
    raise AttributeError(f"module 'omnicodec.image' has no attribute {name!r}")
