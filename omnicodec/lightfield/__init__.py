"""Light fields: the ``lightfield`` codec, view synthesis and rendering.

* :mod:`.codec`: codec ``lightfield`` (``omnicodec.compress(lf, rate=R)``), rate points 1..8: the key view through the
  learned image core, every other view predicted from decoded views by disparity-compensated warping and coded as a
  residual (:mod:`.residual`, :mod:`.transform`), in a hierarchical order (:mod:`.order`).
* :mod:`.disparity`, :mod:`.warp`: the key view's disparity (estimated, coded) and the exact integer warping.
* :mod:`.synthesis`: views at any (fractional) grid position from the available views (plane sweep at the target,
  occlusion-aware blend); the sparse-view quality of :func:`omnicodec.metrics.view_synthesis_quality`.
* :mod:`.render`: the view grid as a mosaic, refocusing (shift-and-add), epipolar-plane images, parallax animations.

Conventions: views ``(U, V, H, W, C)``, U view rows top to bottom, V view columns left to right; a scene point at
disparity ``d`` (pixels per view step) seen at ``(y, x)`` in view ``(u, v)`` is at ``(y + d (u' - u), x + d (v' - v))``
in view ``(u', v')``; larger disparity is nearer the camera.
"""

from __future__ import annotations

from .render import PATH_KINDS, epi, mosaic, parallax_frames, parallax_path, refocus, refocus_sweep, save_gif
from .synthesis import estimate_disparity_at, synthesize

__all__ = ["PATH_KINDS", "mosaic", "refocus", "refocus_sweep", "epi", "parallax_path", "parallax_frames", "save_gif",
           "synthesize", "estimate_disparity_at"]
