"""Windowed transforms: the analysis and synthesis of a whole image in windows of bounded size, with margins wide
enough that the result does not depend on the window grid (no tile seams).

A window is cut with a margin on every side that is not an image edge, transformed, and only its centre kept, so
every kept value is computed from the same neighbourhood whatever the window grid: the analysis margin (64 pixels)
covers ``g_a``'s receptive field (61 pixels), the synthesis margin (4 latent rows and columns) covers ``g_s``'s. At
an image edge the window stops, and the networks see the zero padding they were trained with. For panoramas
(``wrap``) columns have no edge: the column left of the first is the last (the 0/360 degree seam is an interior edge
for the networks). Besides the uint8 image and the latent (1/256 of the pixels, 96 channels), peak memory is that of one
window, whatever the image size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

__all__ = ["PIXEL_MARGIN", "LATENT_MARGIN", "windows", "source_index", "analysis_windowed", "synthesis_windowed"]

PIXEL_MARGIN = 64
LATENT_MARGIN = 4
_FACTOR = 16


def windows(rows: int, cols: int, size: int) -> Iterator[tuple[int, int, int, int]]:
    """``(r0, r1, c0, c1)`` of the windows of at most ``size`` x ``size`` covering ``rows`` x ``cols``, raster order."""
    for r0 in range(0, rows, size):
        for c0 in range(0, cols, size):
            yield r0, min(r0 + size, rows), c0, min(c0 + size, cols)


def source_index(index: np.ndarray, size: int, padded: int, wrap: bool) -> np.ndarray:
    """Source rows or columns of positions ``index`` of an axis padded from ``size`` to ``padded``: the padding
    replicates the last position, or (``wrap``) the axis is periodic with period ``padded`` and the padding repeats
    the first positions."""
    i = np.mod(index, padded) if wrap else np.clip(index, 0, padded - 1)
    return np.where(i < size, i, i - size) if wrap else np.minimum(i, size - 1)


def _span(start: int, stop: int, margin: int, size: int, wrap: bool) -> tuple[int, int]:
    """The window ``[start - margin, stop + margin)`` of an axis of ``size``: clipped at the edges unless ``wrap``."""
    if wrap:
        return start - margin, stop + margin
    return max(start - margin, 0), min(stop + margin, size)


def analysis_windowed(g_a: Callable[[torch.Tensor], torch.Tensor], pixels: np.ndarray, padded: tuple[int, int],
                      window: int, wrap: bool) -> torch.Tensor:
    """``g_a`` over the image ``pixels (H, W, 3) uint8`` padded to ``padded = (H', W')`` (multiples of 16), in windows
    of ``window`` pixels (a multiple of 16). Each window is cut from the uint8 image with its margins and converted
    to float on its own, so the float image is never whole.

    Returns:
        ``(1, M, H'/16, W'/16)`` latent.
    """
    m = PIXEL_MARGIN
    h_src, w_src = pixels.shape[:2]
    hp, wp = padded
    h, w = hp // _FACTOR, wp // _FACTOR
    out: torch.Tensor | None = None
    for r0, r1, c0, c1 in windows(h, w, window // _FACTOR):
        y0, y1 = _span(r0 * _FACTOR, r1 * _FACTOR, m, hp, False)
        x0, x1 = _span(c0 * _FACTOR, c1 * _FACTOR, m, wp, wrap)
        rows = source_index(np.arange(y0, y1), h_src, hp, False)
        cols = source_index(np.arange(x0, x1), w_src, wp, wrap)
        block = torch.from_numpy(pixels[rows[:, None], cols[None, :]])  # (h, w, 3) uint8, a copy
        x = block.permute(2, 0, 1)[None].float().div_(255.0).contiguous(memory_format=torch.channels_last)
        piece = g_a(x)
        if out is None:
            out = piece.new_empty((1, piece.shape[1], h, w))
        dr, dc = r0 - y0 // _FACTOR, c0 - x0 // _FACTOR
        out[..., r0:r1, c0:c1] = piece[..., dr : dr + r1 - r0, dc : dc + c1 - c0]
    assert out is not None
    return out


def synthesis_windowed(g_s: Callable[[torch.Tensor], torch.Tensor], y: torch.Tensor, window: int, wrap: bool,
                       sink: Callable[[int, int, int, int, torch.Tensor], None]) -> None:
    """``g_s`` over ``y (1, M, h, w)`` in windows of ``window`` pixels; each window's ``(1, 3, ., .)`` pixels go to
    ``sink(r0, r1, c0, c1, pixels)`` (pixel coordinates), so the caller never holds the float image whole."""
    lm = LATENT_MARGIN
    h, w = y.shape[-2:]
    for r0, r1, c0, c1 in windows(h, w, window // _FACTOR):
        y0, y1 = _span(r0, r1, lm, h, False)
        x0, x1 = _span(c0, c1, lm, w, wrap)
        cols = torch.from_numpy(np.mod(np.arange(x0, x1), w))
        piece = g_s(y[..., y0:y1, :].index_select(-1, cols).contiguous(memory_format=torch.channels_last))
        dr, dc = (r0 - y0) * _FACTOR, (c0 - x0) * _FACTOR
        core = piece[..., dr : dr + (r1 - r0) * _FACTOR, dc : dc + (c1 - c0) * _FACTOR]
        sink(r0 * _FACTOR, r1 * _FACTOR, c0 * _FACTOR, c1 * _FACTOR, core)
