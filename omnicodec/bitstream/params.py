"""Checks of values a stream header declares, shared by the decoders."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..errors import CorruptStreamError

__all__ = ["stream_dtype"]

_DTYPE = re.compile(r"[<>|=]?[biufc][0-9]{1,2}")


def stream_dtype(value: Any, what: str = "dtype") -> np.dtype:
    """The numpy dtype a header names as a plain numeric type string (``"<f4"``, ``"|u1"``...).

    Raises:
        CorruptStreamError: anything else (numpy would parse other strings as structured types, and fail on some
            with errors of its own).
    """
    if not isinstance(value, str) or not _DTYPE.fullmatch(value):
        raise CorruptStreamError(f"stream declares a bad {what} {str(value)[:40]!r}")
    try:
        return np.dtype(value)
    except TypeError:
        raise CorruptStreamError(f"stream declares a bad {what} {value!r}") from None
