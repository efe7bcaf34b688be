"""The learned 2D image codec core, shared by the ``image`` and ``erp`` codecs (and by light-field key views).

* :class:`~.model.GainHyperprior`: analysis / synthesis transforms (``g_a`` / ``g_s``, GDN), a hyperprior
  (``h_a`` / ``h_s``) whose hyper-synthesis is an exact integer network (:mod:`.int_hyper`), and one gain vector
  per rate point.
* :mod:`.latent_coder`: one entropy tile's hyper-latent and latent, coded with exact integer probabilities.
* :mod:`.tiling`: the transforms over images of any size in windows with margins (bounded memory, no seams).
* :mod:`.codec`: codec ``image`` (``compress(img, codec="image", rate=R)``), rate points 1..8.
* :mod:`.models`: image models in the zoo (kind ``image``).
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
