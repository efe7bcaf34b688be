"""Arithmetic coding with torchac (16-bit CDFs; a C++ extension compiled by torch at first import).

torchac's CDF convention (read from its source, version 0.9.3): a table over ``K`` symbols is an int16 tensor of
``K + 1`` entries per symbol, ``cdf[0] = 0`` and ``cdf[k] = freq_0 + ... + freq_{k-1}``, read by the C++ side as
*unsigned* 16-bit values; the coder takes ``2**16`` as the upper bound of the last symbol and never reads
``cdf[K]`` (which would be 65536 and does not fit; it is stored as 0). Tables must be strictly increasing, which
``freq >= 1`` guarantees. Symbols are int16, hence :data:`~omnicodec.entropy.tables.MAX_SYMBOLS`.

torchac codes one array per call into its own byte string and needs one table row per symbol, so a shared table is
repeated (in chunks of at most ``_CHUNK_ENTRIES`` table entries, to bound memory). Stream layout: one frame per
torchac call, ``LEB128(length) + bytes``, in call order. Frames are indexed when the decoder opens, so data cut
short or followed by extra bytes raise there. torchac's decoder reads missing bits as zeros and always returns
symbols inside the table, so damaged frame contents decode to wrong but valid symbols.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

import numpy as np

from ..errors import CorruptStreamError, InputError, TruncatedStreamError
from .coder import CODER_IDS, Coder, Decoder, Encoder, read_varint, write_varint

__all__ = ["TorchacCoder", "load_torchac"]

_CHUNK_ENTRIES = 1 << 24  # at most this many int16 table entries (32 MB) per torchac call
_INSTALL_HINT = 'install it with: pip install "omnicodec[torchac]"'
_state: dict[str, object] = {}


@contextlib.contextmanager
def _capture_stdout(captured: list[str]) -> Iterator[None]:
    """Captures file descriptor 1 (torchac's loader and ninja print there at every import) into ``captured``."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 1)
            try:
                yield
            finally:
                sys.stdout.flush()
                os.dup2(saved, 1)
                tmp.seek(0)
                captured.append(tmp.read().decode(errors="replace"))
    finally:
        os.close(saved)


def load_torchac():
    """Imports torchac (compiling its extension the first time, about a minute) and returns the module.

    Raises:
        InputError: torchac is not installed or its extension does not build; names the pip command.
    """
    if "module" in _state:
        return _state["module"]
    if "error" in _state:
        raise InputError(f"the torchac coder is unavailable ({_state['error']}); {_INSTALL_HINT}")
    out: list[str] = []
    try:
        with _capture_stdout(out):
            import torchac
    except Exception as exc:  # ImportError, or a compiler failure (RuntimeError, OSError, CalledProcessError)
        tail = " | ".join(line for line in "".join(out).splitlines()[-3:] if line.strip())
        _state["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''} {tail}".strip()
        raise InputError(f"the torchac coder is unavailable ({_state['error']}); {_INSTALL_HINT}") from exc
    _state["module"] = torchac
    return torchac


def _chunk_size(n: int, k: int) -> int:
    """Symbols per torchac call: depends only on (n, K), so encoder and decoder split alike."""
    return max(1, min(n, _CHUNK_ENTRIES // (k + 1)))


def _cdf_tensor(freqs: np.ndarray, rows: int):
    """int16 CDF tensor ``(rows, K + 1)`` in torchac's convention from ``(K,)`` or ``(rows, K)`` frequencies."""
    import torch

    k = freqs.shape[-1]
    cdf = np.zeros((rows, k + 1), dtype=np.uint16)
    if freqs.ndim == 1:
        cdf[:, 1:k] = np.cumsum(freqs[:-1], dtype=np.int64).astype(np.uint16)
    else:
        np.cumsum(freqs[:, :-1], axis=1, out=cdf[:, 1:k], dtype=np.uint16)
    return torch.from_numpy(cdf.view(np.int16))


class _TorchacEncoder(Encoder):
    def __init__(self, torchac) -> None:
        super().__init__()
        self._tac = torchac
        self._parts: list[bytes] = []

    def _encode(self, symbols: np.ndarray, freqs: np.ndarray) -> None:
        import torch

        n, k = symbols.shape[0], freqs.shape[-1]
        step = _chunk_size(n, k)
        for start in range(0, n, step):
            stop = min(n, start + step)
            rows = freqs if freqs.ndim == 1 else freqs[start:stop]
            cdf = _cdf_tensor(rows, stop - start)
            sym = torch.from_numpy(symbols[start:stop].astype(np.int16))
            payload = self._tac.encode_int16_normalized_cdf(cdf, sym)
            self._parts += [write_varint(len(payload)), payload]

    def _finish(self) -> bytes:
        return b"".join(self._parts)


class _TorchacDecoder(Decoder):
    def __init__(self, torchac, data: bytes) -> None:
        self._tac = torchac
        data = bytes(data)
        frames: list[bytes] = []
        pos = 0
        while pos < len(data):
            length, pos = read_varint(data, pos)
            if pos + length > len(data):
                raise TruncatedStreamError(f"torchac frame of {length} bytes but only {len(data) - pos} remain")
            frames.append(data[pos : pos + length])
            pos += length
        self._frames = frames
        self._next = 0

    def _decode(self, freqs: np.ndarray, n: int) -> np.ndarray:
        k = freqs.shape[-1]
        step = _chunk_size(n, k)
        out = np.empty(n, dtype=np.int64)
        for start in range(0, n, step):
            stop = min(n, start + step)
            if self._next >= len(self._frames):
                raise TruncatedStreamError("torchac stream has fewer frames than decode calls need")
            frame = self._frames[self._next]
            self._next += 1
            rows = freqs if freqs.ndim == 1 else freqs[start:stop]
            sym = self._tac.decode_int16_normalized_cdf(_cdf_tensor(rows, stop - start), frame)
            out[start:stop] = sym.numpy()
        return out

    def finish(self) -> None:
        if self._next != len(self._frames):
            raise CorruptStreamError(f"{len(self._frames) - self._next} torchac frames left after the last decode call")


class TorchacCoder(Coder):
    """torchac's arithmetic coder behind the coder interface. See the module docstring for its CDF convention.

    Raises:
        InputError: at construction, when torchac cannot be imported.
    """

    name = "torchac"
    id = CODER_IDS["torchac"]

    def __init__(self) -> None:
        self._tac = load_torchac()

    def encoder(self) -> Encoder:
        return _TorchacEncoder(self._tac)

    def decoder(self, data: bytes) -> Decoder:
        return _TorchacDecoder(self._tac, data)
