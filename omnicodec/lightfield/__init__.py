"""Light fields: the ``lightfield`` codec, view synthesis and rendering.

* :mod:`.render`: the view grid as a mosaic, refocusing (shift-and-add), epipolar-plane images, parallax animations.
"""

from __future__ import annotations
