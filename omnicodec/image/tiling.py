"""Windowed transforms: the analysis and synthesis of a whole image in windows of bounded size, with margins wide
enough that the result does not depend on the window grid (no tile seams).

Both transforms see the image (or latent) extended beyond its borders: by edge replication, or horizontally by
wrap-around for panoramas (column ``-1`` is the last column: the 0/360 degree seam is an interior edge for the
networks). A window is cut from the extended array with a margin on every side, transformed, and only its centre
kept, so every kept value is computed from the same neighbourhood whatever the window grid: the analysis margin
(64 pixels) covers ``g_a``'s receptive field (61 pixels), the synthesis margin (4 latent rows and columns) covers
``g_s``'s. Besides the uint8 image and the latent (1/256 of the pixels, 96 channels), peak memory is that of one
window, whatever the image size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["PIXEL_MARGIN", "LATENT_MARGIN", "extend", "windows", "source_index", "analysis_windowed",
           "synthesis_windowed"]

PIXEL_MARGIN = 64
LATENT_MARGIN = 4
_FACTOR = 16


def extend(x: torch.Tensor, margin: int, wrap: bool) -> torch.Tensor:
    """``(B, C, H, W)`` extended by ``margin`` on every side: replicated rows; wrapped or replicated columns."""
    if wrap:
        reps = -(-margin // x.shape[-1])  # a margin wider than the image wraps more than once
        ring = torch.cat([x] * (2 * reps + 1), dim=-1) if reps > 1 else torch.cat([x, x, x], dim=-1)
        start = reps * x.shape[-1] - margin if reps > 1 else x.shape[-1] - margin
        x = ring[..., start : start + x.shape[-1] + 2 * margin]
        return F.pad(x, (0, 0, margin, margin), mode="replicate")
    return F.pad(x, (margin, margin, margin, margin), mode="replicate")


def windows(rows: int, cols: int, size: int) -> Iterator[tuple[int, int, int, int]]:
    """``(r0, r1, c0, c1)`` of the windows of at most ``size`` x ``size`` covering ``rows`` x ``cols``, raster order."""
    for r0 in range(0, rows, size):
        for c0 in range(0, cols, size):
            yield r0, min(r0 + size, rows), c0, min(c0 + size, cols)


def source_index(index: np.ndarray, size: int, padded: int, wrap: bool) -> np.ndarray:
    """Source rows or columns of positions ``index`` of an axis padded from ``size`` to ``padded`` and extended
    beyond it: replicated edges, or (``wrap``) periodic with period ``padded``, the padding repeating the first
    positions."""
    i = np.mod(index, padded) if wrap else np.clip(index, 0, padded - 1)
    return np.where(i < size, i, i - size) if wrap else np.minimum(i, size - 1)


def analysis_windowed(g_a: Callable[[torch.Tensor], torch.Tensor], pixels: np.ndarray, padded: tuple[int, int],
                      window: int, wrap: bool) -> torch.Tensor:
    """``g_a`` over the image ``pixels (H, W, 3) uint8`` padded to ``padded = (H', W')`` (multiples of 16), in windows
    of ``window`` pixels (a multiple of 16). Each window is cut from the uint8 image with its margins (replicated
    rows; wrapped or replicated columns) and converted to float on its own, so the float image is never whole.

    Returns:
        ``(1, M, H'/16, W'/16)`` latent.
    """
    m = PIXEL_MARGIN
    h_src, w_src = pixels.shape[:2]
    hp, wp = padded
    h, w = hp // _FACTOR, wp // _FACTOR
    out: torch.Tensor | None = None
    step = window // _FACTOR
    lm = m // _FACTOR
    for r0, r1, c0, c1 in windows(h, w, step):
        rows = source_index(np.arange(r0 * _FACTOR - m, r1 * _FACTOR + m), h_src, hp, False)
        cols = source_index(np.arange(c0 * _FACTOR - m, c1 * _FACTOR + m), w_src, wp, wrap)
        block = torch.from_numpy(pixels[rows[:, None], cols[None, :]])  # (h, w, 3) uint8, a copy
        x = block.permute(2, 0, 1)[None].float().div_(255.0).contiguous(memory_format=torch.channels_last)
        piece = g_a(x)
        if out is None:
            out = piece.new_empty((1, piece.shape[1], h, w))
        out[..., r0:r1, c0:c1] = piece[..., lm : lm + r1 - r0, lm : lm + c1 - c0]
    assert out is not None
    return out


def synthesis_windowed(g_s: Callable[[torch.Tensor], torch.Tensor], y: torch.Tensor, window: int, wrap: bool,
                       sink: Callable[[int, int, int, int, torch.Tensor], None]) -> None:
    """``g_s`` over ``y (1, M, h, w)`` in windows of ``window`` pixels; each window's ``(1, 3, ., .)`` pixels go to
    ``sink(r0, r1, c0, c1, pixels)`` (pixel coordinates), so the caller never holds the float image whole."""
    lm = LATENT_MARGIN
    ye = extend(y, lm, wrap)
    h, w = y.shape[-2:]
    step = window // _FACTOR
    pm = lm * _FACTOR
    for r0, r1, c0, c1 in windows(h, w, step):
        piece = g_s(ye[..., r0 : r1 + 2 * lm, c0 : c1 + 2 * lm].contiguous(memory_format=torch.channels_last))
        core = piece[..., pm : pm + (r1 - r0) * _FACTOR, pm : pm + (c1 - c0) * _FACTOR]
        sink(r0 * _FACTOR, r1 * _FACTOR, c0 * _FACTOR, c1 * _FACTOR, core)
