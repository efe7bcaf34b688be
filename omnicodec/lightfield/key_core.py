"""The image core that codes a light field's key view: the wavelet core (streams that name it) or the hyperprior
autoencoder ``image_core`` (earlier streams, whose parameters name no key core).

Both code one ``(h, w, 3)`` uint8 view at an image-core rate point into a list of payloads (the light-field
stream's ``KEYC`` chunks) and decode them back, exactly as the ``image`` codec would; the wavelet core with its loop
filter (``PLNE`` and ``LOOP`` payloads alternating) where the stream says ``key_loop``.
"""

from __future__ import annotations

import numpy as np

from .. import zoo
from ..bitstream import Chunk
from ..errors import CorruptStreamError, ModelError
from ..image import wavelet
from ..image.codec import ImageParams, decode_pixels, encode_pixels
from ..image.models import load_image_model
from ..image.subband_model import DEFAULT_MODEL as WAVELET_MODEL
from ..image.subband_model import KIND as WAVELET_KIND

__all__ = ["KeyCore", "installed_key_core", "stream_key_core", "HYPERPRIOR_MODEL", "WAVELET_MODEL"]

HYPERPRIOR_MODEL = "image_core"


class KeyCore:
    """One image core: ``encode(view, rate) -> payloads`` and ``decode(payloads, h, w, rate) -> view``."""

    def __init__(self, name: str, coder: str | int, loop: bool = False) -> None:
        self.name, self.coder, self.loop = name, coder, loop
        kind = zoo.entry(name)["kind"] if name in zoo.list_models() else None
        if kind not in (WAVELET_KIND, "image"):
            raise ModelError(f"the key view's image model {name!r} is not installed here; decode with the omnicodec "
                             "version that wrote the stream")
        self.wavelet = kind == WAVELET_KIND
        if loop and not self.wavelet:
            raise CorruptStreamError("a key view of the hyperprior core has no loop filter")
        self.model, self.sha256 = load_image_model(name, kind)

    def encode(self, view: np.ndarray, rate: int) -> list[Chunk]:
        h, w = view.shape[:2]
        if self.wavelet:
            return wavelet.encode(view, wavelet.WaveletParams(h, w, 3, rate, loop=self.loop), self.model, self.coder)
        return encode_pixels(self.model, view, ImageParams(h, w, 3, rate), self.coder)

    def decode(self, payloads: list[bytes], h: int, w: int, rate: int) -> np.ndarray:
        if self.wavelet:
            p = wavelet.WaveletParams(h, w, 3, rate, loop=self.loop)
            if len(payloads) != p.planes * (2 if self.loop else 1):
                raise CorruptStreamError("light-field key view has the wrong number of payloads")
            return wavelet.decode(payloads, p, self.model, self.coder)
        ip = ImageParams(h, w, 3, rate)
        if len(payloads) != len(ip.tiles()):
            raise CorruptStreamError("light-field key view has the wrong number of payloads")
        return decode_pixels(self.model, payloads, ip, self.coder)


def installed_key_core(coder: str | int) -> KeyCore:
    """The core new streams use: the wavelet core with its loop filter.

    Raises:
        ModelError: its model is not installed (a damaged installation).
    """
    zoo.require(WAVELET_MODEL, WAVELET_KIND)
    return KeyCore(WAVELET_MODEL, coder, loop=True)


def stream_key_core(name: str, sha256: str, coder: str | int, loop: bool = False) -> KeyCore:
    """The core a stream names (``""``: the hyperprior of earlier streams), checked against its sha256; ``loop``:
    the wavelet core's loop filter (streams with ``key_loop``).

    Raises:
        ModelError: not installed here, or different weights.
    """
    if not name:
        if loop:
            raise CorruptStreamError("a key view of the hyperprior core has no loop filter")
        return KeyCore(HYPERPRIOR_MODEL, coder)
    core = KeyCore(name, coder, loop)
    if core.sha256 != sha256:
        raise ModelError(f"the stream's key view was coded with image model {name!r} sha256 {sha256[:16]}..., this "
                         f"installation has {core.sha256[:16]}...; decode with the omnicodec version that wrote it")
    return core
