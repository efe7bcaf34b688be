"""Range coding with constriction (``stream.queue.RangeEncoder``: first in, first out; 32-bit words, 24-bit
probabilities).

How the 16-bit tables reach constriction exactly: each table is passed as float64 ``freq / 2**16`` (exact) to
constriction's *fast* categorical model (``perfect=False``). That model maps a row to 24 bits as
``cdf24(k) = floor(C_k * (2**24 - K) / 2**16) + k`` with ``C_k`` the integer cumulative frequency; in float64 every
one of those products and sums is exact (dyadic values below 2**53), so the 24-bit model is a pure function of the
integer table: identical on every machine, no rounding anywhere, and close to the table (each probability is
``freq * 256`` within ``1 + freq * K / 2**16`` units of ``2**-24``; the rate loss is far below 0.1 %).
Shared (1-D) tables use one precomputed model (``lazy=False``, same arithmetic, same bytes); per-symbol tables use
the lazy model family.

Stream layout: LEB128 count of 32-bit words, then the words little-endian. A length that disagrees with the data
raises at :meth:`ConstrictionCoder.decoder`; damaged words decode to in-range symbols or raise
:class:`~omnicodec.errors.CorruptStreamError` when constriction reports invalid data.
"""

from __future__ import annotations

import numpy as np

from ..errors import CorruptStreamError, TruncatedStreamError
from .coder import CODER_IDS, Coder, Decoder, Encoder, read_varint, write_varint
from .tables import PROB_BITS

__all__ = ["ConstrictionCoder"]

_SCALE = 1.0 / (1 << PROB_BITS)


def _lib():
    import constriction

    return constriction.stream


def _shared_model(freqs: np.ndarray):
    return _lib().model.Categorical(freqs * _SCALE, perfect=False, lazy=False)


class _ConstrictionEncoder(Encoder):
    def __init__(self, family) -> None:
        super().__init__()
        self._family = family
        self._coder = _lib().queue.RangeEncoder()

    def _encode(self, symbols: np.ndarray, freqs: np.ndarray) -> None:
        if freqs.ndim == 1:
            self._coder.encode(symbols, _shared_model(freqs))
        else:
            self._coder.encode(symbols, self._family, freqs * _SCALE)

    def _finish(self) -> bytes:
        words = self._coder.get_compressed()
        return write_varint(int(words.size)) + words.astype("<u4", copy=False).tobytes()


class _ConstrictionDecoder(Decoder):
    def __init__(self, family, data: bytes) -> None:
        view = memoryview(bytes(data))
        nwords, pos = read_varint(view, 0)
        end = pos + 4 * nwords
        if len(view) < end:
            held = (len(view) - pos) // 4
            raise TruncatedStreamError(f"constriction stream declares {nwords} words but holds {held}")
        if len(view) > end:
            raise CorruptStreamError(f"{len(view) - end} bytes after the end of the constriction stream")
        words = np.frombuffer(view, dtype="<u4", count=nwords, offset=pos).astype(np.uint32)
        self._family = family
        self._coder = _lib().queue.RangeDecoder(words)

    def _decode(self, freqs: np.ndarray, n: int) -> np.ndarray:
        try:
            if freqs.ndim == 1:
                out = self._coder.decode(_shared_model(freqs), n)
            else:
                out = self._coder.decode(self._family, freqs * _SCALE)
        except Exception as exc:  # constriction reports invalid data as AssertionError or ValueError
            raise CorruptStreamError(f"constriction cannot decode the data: {exc}") from exc
        except BaseException as exc:  # a Rust panic surfaces as pyo3's PanicException (a BaseException)
            if type(exc).__name__ == "PanicException":
                raise CorruptStreamError(f"constriction cannot decode the data: {exc}") from exc
            raise
        return np.asarray(out, dtype=np.int64)

    def finish(self) -> None:
        if not self._coder.maybe_exhausted():
            raise CorruptStreamError("constriction data remain after the last decoded symbol")


class ConstrictionCoder(Coder):
    """constriction's range coder; the default. See the module docstring for exactness and stream layout."""

    name = "constriction"
    id = CODER_IDS["constriction"]

    def __init__(self) -> None:
        self._family = _lib().model.Categorical(perfect=False)

    def encoder(self) -> Encoder:
        return _ConstrictionEncoder(self._family)

    def decoder(self, data: bytes) -> Decoder:
        return _ConstrictionDecoder(self._family, data)
