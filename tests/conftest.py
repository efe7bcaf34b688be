"""Shared fixtures. Real-data tests read ../shared/data beside the repository and skip with a reason without it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("OMNICODEC_SHARED_DATA", REPO.parent / "shared" / "data"))
SAMPLES = REPO / "datasets" / "samples"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder ../shared/data (or $OMNICODEC_SHARED_DATA); skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (set OMNICODEC_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
