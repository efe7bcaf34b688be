"""The coder interface: named arithmetic coders that turn (symbols, integer tables) into bytes and back.

A codec asks for a coder by name (or by the id recorded in a stream header), opens an :class:`Encoder`, calls
:meth:`Encoder.encode` any number of times and takes the bytes from :meth:`Encoder.finish`. Decoding mirrors it:
:meth:`Coder.decoder` on the bytes, then one :meth:`Decoder.decode` per encode call, in the same order, with the same
tables. Tables follow :mod:`omnicodec.entropy.tables` (rows of ``K`` integers ``>= 1`` summing to ``2**16``).

Guarantees on damaged data, for every coder: decoding never hangs and never crashes the interpreter; it either
raises a :class:`~omnicodec.errors.BitstreamError` subclass or returns in-range symbols (possibly wrong ones: an
arithmetic code has no redundancy to detect every change; the container's CRC does that). A stream cut short or
with bytes appended is always detected: when the decoder is opened (constriction: a length prefix; torchac: frame
lengths), or at the latest by :meth:`Decoder.finish`, which checks that the decode calls consumed the whole stream
(optional and cheap; call it when the stream should end there).

Encoders and decoders are not thread-safe; use one per thread. Coders themselves are stateless singletons.
"""

from __future__ import annotations

import abc

import numpy as np

from ..errors import CorruptStreamError, InputError, TruncatedStreamError, UnsupportedVersionError
from .tables import check_freqs, to_numpy

__all__ = ["CODER_IDS", "Coder", "Encoder", "Decoder", "get_coder", "write_varint", "read_varint"]

CODER_IDS: dict[str, int] = {"constriction": 1, "torchac": 2}
"""Stable ids recorded in stream headers. Never reuse or renumber an id."""

_MAX_VARINT_BYTES = 10


def write_varint(value: int) -> bytes:
    """LEB128 encoding of a non-negative integer (7 bits per byte, low bits first)."""
    if value < 0:
        raise InputError(f"varint of a negative value {value}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Reads a LEB128 integer at ``pos``; returns ``(value, position after it)``.

    Raises:
        TruncatedStreamError: the data end inside the integer.
        CorruptStreamError: more than 10 bytes.
    """
    value = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos + i >= len(data):
            raise TruncatedStreamError("coded data end inside a length field")
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, pos + i + 1
    raise CorruptStreamError("length field longer than 10 bytes")


def prepare_symbols(symbols: np.ndarray, freqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validates an encode call's arguments; returns ``(symbols as int32 (n,), freqs as int32)``.

    Raises:
        InputError: shapes that do not match, symbols outside ``[0, K)``, or a bad table.
    """
    f = check_freqs(freqs)
    s = to_numpy(symbols)
    if s.ndim != 1:
        raise InputError(f"symbols must be 1-D, got shape {s.shape}")
    if s.size and not np.issubdtype(s.dtype, np.integer):
        raise InputError(f"symbols must be integers, got dtype {s.dtype}")
    if f.ndim == 2 and f.shape[0] != s.shape[0]:
        raise InputError(f"{s.shape[0]} symbols but {f.shape[0]} table rows")
    k = f.shape[-1]
    if s.size:
        lo, hi = int(s.min()), int(s.max())
        if lo < 0 or hi >= k:
            raise InputError(f"symbol {hi if hi >= k else lo} outside the alphabet [0, {k})")
    return np.ascontiguousarray(s, dtype=np.int32), f


def prepare_decode(freqs: np.ndarray, n: int | None) -> tuple[np.ndarray, int]:
    """Validates a decode call's arguments; returns ``(freqs as int32, n)``.

    Raises:
        InputError: ``n`` missing for a shared table, or not matching the table rows; a bad table.
    """
    f = check_freqs(freqs)
    if f.ndim == 2:
        if n is not None and int(n) != f.shape[0]:
            raise InputError(f"n={n} but freqs has {f.shape[0]} rows")
        return f, f.shape[0]
    if n is None:
        raise InputError("n is required when freqs is one shared table")
    n = int(n)
    if n < 0:
        raise InputError(f"n must be >= 0, got {n}")
    return f, n


class Encoder(abc.ABC):
    """Collects symbols; :meth:`finish` returns the coded bytes."""

    def __init__(self) -> None:
        self._finished = False

    def encode(self, symbols: np.ndarray, freqs: np.ndarray) -> None:
        """Appends symbols to the stream.

        Args:
            symbols: ``(n,)`` integers in ``[0, K)``.
            freqs: ``(n, K)`` one table per symbol, or ``(K,)`` shared by all; int32 rows of entries ``>= 1``
                summing to ``2**PROB_BITS``. ``K <= MAX_SYMBOLS``.

        Raises:
            InputError: a bad table, a symbol outside the alphabet, mismatched shapes, or a finished encoder.
        """
        if self._finished:
            raise InputError("encode() after finish()")
        s, f = prepare_symbols(symbols, freqs)
        if s.size == 0 or f.shape[-1] == 1:
            return  # nothing to code: the decoder skips the same call
        self._encode(s, f)

    def finish(self) -> bytes:
        """Ends the stream and returns its bytes; later calls return the same bytes."""
        if not self._finished:
            self._data = self._finish()
            self._finished = True
        return self._data

    @abc.abstractmethod
    def _encode(self, symbols: np.ndarray, freqs: np.ndarray) -> None:
        """Codes validated symbols: int32 ``(n,)`` with ``n > 0``; int32 ``(K,)`` or ``(n, K)`` with ``K >= 2``."""

    @abc.abstractmethod
    def _finish(self) -> bytes:
        """Flushes the coder."""


class Decoder(abc.ABC):
    """Reads symbols back, one call per encode call."""

    def decode(self, freqs: np.ndarray, n: int | None = None) -> np.ndarray:
        """Decodes the symbols of the matching encode call.

        Args:
            freqs: the encoder's table: ``(n, K)`` or shared ``(K,)``.
            n: number of symbols; required for a shared table.

        Returns:
            ``(n,)`` int64 symbols in ``[0, K)``.

        Raises:
            InputError: bad arguments.
            BitstreamError: the data cannot be decoded (a subclass says why).
        """
        f, n = prepare_decode(freqs, n)
        if n == 0 or f.shape[-1] == 1:
            return np.zeros(n, dtype=np.int64)
        out = self._decode(f, n)
        if out.size and (out.min() < 0 or out.max() >= f.shape[-1]):  # defensive: coders promise in-range symbols
            raise CorruptStreamError("decoded symbol outside the alphabet")
        return out

    @abc.abstractmethod
    def finish(self) -> None:
        """Checks that the decode calls consumed the whole stream.

        Raises:
            CorruptStreamError: data remain (the stream does not match the calls made, or is damaged).
        """

    @abc.abstractmethod
    def _decode(self, freqs: np.ndarray, n: int) -> np.ndarray:
        """Decodes ``n > 0`` symbols with validated tables (``K >= 2``); returns int64 ``(n,)``."""


class Coder(abc.ABC):
    """A named arithmetic coder. ``name`` and ``id`` are recorded in stream headers."""

    name: str
    id: int

    @abc.abstractmethod
    def encoder(self) -> Encoder:
        """A new, empty encoder."""

    @abc.abstractmethod
    def decoder(self, data: bytes) -> Decoder:
        """A decoder over ``data`` (bytes from :meth:`Encoder.finish`).

        Raises:
            BitstreamError: data cut short, with bytes appended, or malformed framing.
        """

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} id={self.id}>"


_CODERS: dict[str, Coder] = {}


def _load(name: str) -> Coder:
    if name not in _CODERS:
        if name == "constriction":
            from .constriction_coder import ConstrictionCoder

            _CODERS[name] = ConstrictionCoder()
        elif name == "torchac":
            from .torchac_coder import TorchacCoder

            _CODERS[name] = TorchacCoder()  # raises InputError when torchac cannot be imported
    return _CODERS[name]


def get_coder(key: str | int) -> Coder:
    """Returns a coder by name (``"constriction"``, ``"torchac"``) or by the id read from a stream header.

    Raises:
        InputError: an unknown name, a key of the wrong type, or a coder whose package cannot be imported.
        UnsupportedVersionError: an unknown id (a stream written by a newer omnicodec).
    """
    if isinstance(key, bool) or not isinstance(key, (str, int, np.integer)):
        raise InputError(f"coder must be a name or an id, got {key!r}")
    if isinstance(key, str):
        if key not in CODER_IDS:
            raise InputError(f"unknown entropy coder {key!r}; choose from {sorted(CODER_IDS)}")
        return _load(key)
    names = {v: k for k, v in CODER_IDS.items()}
    if int(key) not in names:
        raise UnsupportedVersionError(f"stream names entropy coder id {int(key)}, unknown to this omnicodec")
    return _load(names[int(key)])
