"""Exceptions raised by omnicodec.

Every error the package raises on purpose derives from :class:`OmnicodecError`, so a caller can catch one type.
The command line turns these into one line on stderr and exit status 2.
"""

from __future__ import annotations

__all__ = [
    "OmnicodecError",
    "InputError",
    "OutputError",
    "BitstreamError",
    "TruncatedStreamError",
    "CorruptStreamError",
    "ForeignStreamError",
    "UnsupportedVersionError",
    "ModelError",
]


class OmnicodecError(Exception):
    """Base class of every error raised on purpose by omnicodec."""


class InputError(OmnicodecError, ValueError):
    """Bad input data or options: a malformed or unsupported file, a wrong shape, an invalid parameter.

    Errors about a file name the file and the problem, for example
    ``scan.ply: vertex count 1000 but the file holds 998 rows``.
    """


class OutputError(OmnicodecError):
    """An output that cannot be written: a read-only folder, a full disk, a folder another batch is writing to."""


class BitstreamError(OmnicodecError):
    """A stream that cannot be decoded. Subclasses say why."""


class TruncatedStreamError(BitstreamError):
    """The stream ends before the data it declares."""


class CorruptStreamError(BitstreamError):
    """A checksum mismatch, an impossible field value or a size beyond the hard limits."""


class ForeignStreamError(BitstreamError):
    """The bytes are not an omnicodec stream (wrong magic)."""


class UnsupportedVersionError(BitstreamError):
    """The stream was written by a newer, incompatible version of the format, or names an unknown codec."""


class ModelError(OmnicodecError):
    """A learned model is missing, has the wrong checksum, or does not fit the stream."""
