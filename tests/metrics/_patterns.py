"""Deterministic test images made with integer arithmetic only (bit-identical on every platform)."""

from __future__ import annotations

import numpy as np


def pattern_rgb(h: int, w: int, seed: int) -> np.ndarray:
    """(h, w, 3) uint8: a ramp, a checkerboard and a hashed texture."""
    i, j = np.mgrid[0:h, 0:w].astype(np.int64)
    smooth = (i * 5 + j * 3) // 2 + ((i // 8 + j // 8) % 2) * 40
    out = np.empty((h, w, 3), dtype=np.uint8)
    for c in range(3):
        hashed = (i * 73856093 ^ j * 19349663 ^ (seed * 3 + c) * 83492791) % 61
        out[..., c] = (smooth + hashed + 50 * c) % 256
    return out


def degrade(img: np.ndarray, seed: int, amplitude: int) -> np.ndarray:
    """img plus a hashed integer error in [-amplitude, amplitude], clipped to 0..255."""
    h, w, _ = img.shape
    i, j = np.mgrid[0:h, 0:w].astype(np.int64)
    noise = np.stack(
        [((i * 2654435761 + j * 40503 + (seed + c) * 97) % (2 * amplitude + 1)) - amplitude for c in range(3)], -1
    )
    return np.clip(img.astype(np.int64) + noise, 0, 255).astype(np.uint8)
