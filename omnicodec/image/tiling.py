"""Windowed transforms: the analysis and synthesis of a whole image in windows of bounded size, with margins wide
enough that the result does not depend on the window grid (no tile seams).

Both transforms see the image (or latent) extended beyond its borders: by edge replication, or horizontally by
wrap-around for panoramas (column ``-1`` is the last column: the 0/360 degree seam is an interior edge for the
networks). A window is cut from the extended array with a margin on every side, transformed, and only its centre
kept, so every kept value is computed from the same neighbourhood whatever the window grid: the analysis margin
(64 pixels) covers ``g_a``'s receptive field (61 pixels), the synthesis margin (4 latent rows and columns) covers
``g_s``'s. Peak memory is that of one window, whatever the image size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F

__all__ = ["PIXEL_MARGIN", "LATENT_MARGIN", "extend", "windows", "analysis_windowed", "synthesis_windowed"]

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


def analysis_windowed(g_a: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, window: int,
                      wrap: bool) -> torch.Tensor:
    """``g_a`` over ``x (1, 3, H, W)`` (H, W multiples of 16) in windows of ``window`` pixels (a multiple of 16).

    Returns:
        ``(1, M, H/16, W/16)`` latent.
    """
    m = PIXEL_MARGIN
    xe = extend(x, m, wrap)
    h, w = x.shape[-2] // _FACTOR, x.shape[-1] // _FACTOR
    out: torch.Tensor | None = None
    step = window // _FACTOR
    lm = m // _FACTOR
    for r0, r1, c0, c1 in windows(h, w, step):
        piece = g_a(xe[..., r0 * _FACTOR : r1 * _FACTOR + 2 * m, c0 * _FACTOR : c1 * _FACTOR + 2 * m])
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
        piece = g_s(ye[..., r0 : r1 + 2 * lm, c0 : c1 + 2 * lm])
        core = piece[..., pm : pm + (r1 - r0) * _FACTOR, pm : pm + (c1 - c0) * _FACTOR]
        sink(r0 * _FACTOR, r1 * _FACTOR, c0 * _FACTOR, c1 * _FACTOR, core)
