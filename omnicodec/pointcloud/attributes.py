"""Lossless coding of per-point attributes (colours, intensity, anything numeric).

Each attribute is reordered to the decoder's point order, then, per channel, differenced along that order with
wrapping integer arithmetic on its bit pattern (floats are coded through their raw bits, so every value, NaN
payloads included, comes back bit for bit), split into byte planes and compressed with LZMA. Points that are close
in Morton order are close in space, so neighbouring differences are small.
"""

from __future__ import annotations

import lzma

import numpy as np

from ..bitstream.limits import MAX_ATTRIBUTE_CHANNELS
from ..bitstream.params import stream_dtype
from ..errors import CorruptStreamError, InputError

__all__ = ["encode_attribute", "decode_attribute", "attribute_spec"]

_SUPPORTED_KINDS = "biuf"
_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 6}]


def attribute_spec(name: str, values: np.ndarray) -> dict:
    """The header entry describing an attribute: name, dtype (numpy string) and channels."""
    if values.dtype.kind not in _SUPPORTED_KINDS:
        raise InputError(f"attribute {name!r} has dtype {values.dtype}; only numeric attributes can be coded")
    channels = 1 if values.ndim == 1 else int(values.shape[1])
    if channels > MAX_ATTRIBUTE_CHANNELS:
        raise InputError(f"attribute {name!r} has {channels} channels, more than {MAX_ATTRIBUTE_CHANNELS}")
    return {"name": name, "dtype": values.dtype.str, "channels": channels, "shape_1d": values.ndim == 1}


def _as_unsigned(values: np.ndarray) -> np.ndarray:
    """View values as unsigned integers of the same width, shape (N, C)."""
    v = np.ascontiguousarray(values.reshape(len(values), int(np.prod(values.shape[1:]))))  # (0, C) too
    return v.view(np.dtype(f"<u{v.dtype.itemsize}") if v.dtype.itemsize > 1 else np.uint8)


def encode_attribute(values: np.ndarray) -> bytes:
    """Losslessly code (N,) or (N, C) numeric values already in decoder order.

    Returns:
        LZMA-compressed byte planes of the wrapped differences.
    """
    u = _as_unsigned(values.astype(values.dtype.newbyteorder("<"), copy=False))
    diff = u.copy()
    diff[1:] -= u[:-1]  # wraps modulo 2**bits
    planes = diff.view(np.uint8).reshape(len(u), u.shape[1], u.dtype.itemsize).transpose(1, 2, 0)
    return lzma.compress(np.ascontiguousarray(planes).tobytes(), format=lzma.FORMAT_RAW, filters=_FILTERS)


def decode_attribute(data: bytes, spec: dict, count: int) -> np.ndarray:
    """Inverse of :func:`encode_attribute` for ``count`` points described by ``spec``.

    Raises:
        CorruptStreamError: the payload is not valid or has the wrong size.
    """
    try:
        dtype = stream_dtype(spec["dtype"], "attribute dtype")
        channels = int(spec["channels"])
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CorruptStreamError(f"bad attribute description {spec!r}: {exc}") from None
    if dtype.kind not in _SUPPORTED_KINDS or not 1 <= channels <= MAX_ATTRIBUTE_CHANNELS or dtype.itemsize > 8:
        raise CorruptStreamError(f"bad attribute description {spec!r}")
    expected = count * channels * dtype.itemsize
    try:
        dec = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=_FILTERS)
        raw = dec.decompress(data, max_length=expected + 1)
    except lzma.LZMAError as exc:
        raise CorruptStreamError(f"attribute {spec.get('name')!r}: payload is corrupt ({exc})") from None
    if len(raw) != expected:
        raise CorruptStreamError(
            f"attribute {spec.get('name')!r}: payload holds {len(raw)} bytes, expected {expected}"
        )
    unsigned = np.dtype(f"<u{dtype.itemsize}") if dtype.itemsize > 1 else np.dtype(np.uint8)
    planes = np.frombuffer(raw, np.uint8).reshape(channels, dtype.itemsize, count).transpose(2, 0, 1)
    diff = np.ascontiguousarray(planes).view(unsigned).reshape(count, channels)
    u = np.cumsum(diff, axis=0, dtype=unsigned)  # wrapping prefix sum undoes the differences
    out = u.view(dtype.newbyteorder("<")).astype(dtype, copy=False)
    return out[:, 0].copy() if spec.get("shape_1d", channels == 1) else out
