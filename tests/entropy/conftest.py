"""Fixtures for the entropy tests: each coder test runs with every coder; torchac ones skip when it cannot load.

The first import of torchac compiles its C++ extension (about 40 s here, cached in ~/.cache/torch_extensions);
that time is outside the suite's budget.
"""

from __future__ import annotations

import numpy as np
import pytest

from omnicodec.entropy import Coder, get_coder
from omnicodec.errors import InputError

CODER_NAMES = ("constriction", "torchac")


def load_coder(name: str) -> Coder:
    """The coder, or a skip with the reason when its package cannot be imported."""
    try:
        return get_coder(name)
    except InputError as exc:
        pytest.skip(f"coder {name!r} unavailable: {exc}")


@pytest.fixture(params=CODER_NAMES)
def coder(request) -> Coder:
    return load_coder(request.param)


def assert_roundtrip(coder: Coder, calls: list[tuple[np.ndarray, np.ndarray]]) -> bytes:
    """Encodes (symbols, freqs) calls, decodes them back with the same tables, checks equality; returns the bytes."""
    enc = coder.encoder()
    for symbols, freqs in calls:
        enc.encode(symbols, freqs)
    data = enc.finish()
    dec = coder.decoder(data)
    for symbols, freqs in calls:
        out = dec.decode(freqs, len(symbols))
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out, symbols)
    dec.finish()
    return data
