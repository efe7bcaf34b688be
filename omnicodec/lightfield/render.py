"""Looking at light fields: the view grid as one image, refocusing, epipolar-plane images, parallax animations.

A light field is a :class:`~omnicodec.types.LightField` or a raw (U, V, H, W, C) array: U view rows (top to bottom),
V view columns (left to right), H pixel rows, W pixel columns, C channels (3 for RGB, 1 for grey). Integer arrays
(usually uint8) and float arrays (usually 0..255) are accepted; results keep the input dtype, integers rounded and
clipped to their range.

Disparity convention (the one of the disparity maps of the HCI 4D light field benchmark): a scene point
at disparity ``d`` (pixels per view step) seen at pixel (x, y) of the centre view (uc, vc) appears in view (u, v) at

    x' = x + d (v - vc),    y' = y + d (u - uc),

so in a view to the right of the centre (v > vc) a point of negative disparity moves left, and in a view below
it (u > uc) up. :func:`refocus` at ``slope = d`` undoes exactly this shift, so points at
disparity ``d`` come out sharp; in a horizontal epipolar-plane image (:func:`epi`) such a point draws a line that
moves ``d`` pixels to the right per view row.

* :func:`mosaic`: the U x V views tiled into one image.
* :func:`refocus`, :func:`refocus_sweep`: shift-and-add synthetic refocusing.
* :func:`epi`: horizontal and vertical epipolar-plane images.
* :func:`parallax_path`, :func:`parallax_frames`, :func:`save_gif`: an animation moving over the view grid.

Disparity estimation is not done here.
"""

from __future__ import annotations

import math
import operator
import os
from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from ..io.atomic import atomic_path
from ..types import LightField

__all__ = ["PATH_KINDS", "mosaic", "refocus", "refocus_sweep", "epi", "parallax_path", "parallax_frames", "save_gif"]

#: The kinds of :func:`parallax_path`.
PATH_KINDS = ("circle", "serpentine", "row")
_CIRCLE_STEPS = 36


def _as_views(lf: LightField | np.ndarray) -> np.ndarray:
    views = lf.views if isinstance(lf, LightField) else np.asarray(lf)
    if views.ndim != 5:
        raise InputError(f"a light field must have shape (U, V, H, W, C), got {views.shape}")
    if views.size == 0:
        raise InputError(f"the light field is empty (shape {views.shape})")
    if not (np.issubdtype(views.dtype, np.integer) or np.issubdtype(views.dtype, np.floating)):
        raise InputError(f"light field samples must be integers or floats, got dtype {views.dtype}")
    return views


def _cast(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float ``values`` as ``dtype``: integers rounded and clipped to the dtype's range."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype, copy=False)


def _index(value, name: str, size: int, default: int) -> int:
    if value is None:
        return default
    try:
        i = operator.index(value)
    except TypeError:
        raise InputError(f"{name} must be an integer, got {value!r}") from None
    if not 0 <= i < size:
        raise InputError(f"{name} {i} is out of range: it must be in 0..{size - 1}")
    return i


def _at_least(value, name: str, low: int) -> int:
    try:
        i = operator.index(value)
    except TypeError:
        raise InputError(f"{name} must be an integer, got {value!r}") from None
    if i < low:
        raise InputError(f"{name} must be at least {low}, got {i}")
    return i


def mosaic(lf: LightField | np.ndarray, *, gap: int = 0, background: float | Sequence[float] = 0) -> np.ndarray:
    """All the views in one image: view (u, v) is the block at block row u, block column v.

    Args:
        lf: (U, V, H, W, C) views, or a LightField.
        gap: pixels of ``background`` between neighbouring blocks (not around the border), >= 0.
        background: value of the gap pixels: one number, or C numbers (one per channel), in the views' range.

    Returns:
        (U H + (U - 1) gap, V W + (V - 1) gap, C) array of the views' dtype; block (u, v) starts at pixel row
        u (H + gap) and column v (W + gap).
    """
    views = _as_views(lf)
    u, v, h, w, c = views.shape
    gap = _at_least(gap, "gap", 0)
    try:
        bg = np.broadcast_to(np.asarray(background, dtype=np.float64), (c,))
    except (TypeError, ValueError):
        raise InputError(
            f"background must be one number or {c} numbers (one per channel), got {background!r}"
        ) from None
    if np.issubdtype(views.dtype, np.integer):
        info = np.iinfo(views.dtype)
        if not np.all((bg >= info.min) & (bg <= info.max) & (bg == np.round(bg))):
            raise InputError(f"background {background!r} is not a {views.dtype} value ({info.min}..{info.max})")
    elif not np.all(np.isfinite(bg)):
        raise InputError(f"background must be finite, got {background!r}")
    out = np.empty((u, h + gap, v, w + gap, c), dtype=views.dtype)
    out[...] = bg.astype(views.dtype)
    out[:, :h, :, :w] = views.transpose(0, 2, 1, 3, 4)
    out = out.reshape(u * (h + gap), v * (w + gap), c)
    return out[: out.shape[0] - gap, : out.shape[1] - gap]


def _centre(centre, u: int, v: int) -> tuple[float, float]:
    if centre is None:
        return (u - 1) / 2.0, (v - 1) / 2.0
    try:
        uc, vc = (float(x) for x in centre)
    except (TypeError, ValueError):
        raise InputError(f"centre must be a (u, v) pair of numbers, got {centre!r}") from None
    if not (math.isfinite(uc) and math.isfinite(vc)):
        raise InputError(f"centre must be finite, got {centre!r}")
    return uc, vc


def _taps(n: int, offset: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear taps sampling positions arange(n) + offset, clamped to [0, n - 1] (edges replicated)."""
    pos = np.clip(np.arange(n) + offset, 0.0, n - 1.0)
    i0 = np.floor(pos).astype(np.intp)
    return i0, np.minimum(i0 + 1, n - 1), pos - i0


def _shift(img: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """(H, W, C) float image sampled at (y + dy, x + dx): the content moves by (-dy, -dx) pixels."""
    i0, i1, f = _taps(img.shape[0], dy)
    out = img[i0] if not f.any() else img[i0] * (1.0 - f)[:, None, None] + img[i1] * f[:, None, None]
    j0, j1, g = _taps(img.shape[1], dx)
    return out[:, j0] if not g.any() else out[:, j0] * (1.0 - g)[None, :, None] + out[:, j1] * g[None, :, None]


def _slopes(slopes) -> np.ndarray:
    try:
        s = np.asarray(slopes, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"slopes must be numbers, got {slopes!r}") from None
    if s.ndim > 1:
        raise InputError(f"slopes must be one number or a 1-D sequence, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise InputError(f"slopes must be finite, got {slopes!r}")
    return s.reshape(-1)


def _shift_add(views: np.ndarray, slopes: np.ndarray, centre) -> np.ndarray:
    u, v, h, w, c = views.shape
    uc, vc = _centre(centre, u, v)
    acc = np.zeros((len(slopes), h, w, c), dtype=np.float64)
    for a in range(u):
        for b in range(v):
            img = views[a, b].astype(np.float64)
            for k, s in enumerate(slopes):
                acc[k] += _shift(img, s * (a - uc), s * (b - vc))
    acc /= u * v
    return acc


def refocus(lf: LightField | np.ndarray, slope: float, *, centre: tuple[float, float] | None = None) -> np.ndarray:
    """Synthetic refocusing by shift-and-add: the image focused on the points at disparity ``slope``.

    View (u, v) is shifted by ``-slope (v - vc)`` pixels along x (columns) and ``-slope (u - uc)`` along y (rows),
    with bilinear interpolation (sub-pixel shifts; the edge pixels are replicated beyond the border), and the
    shifted views are averaged. With the module's convention a point at disparity ``slope`` then lands on its
    centre-view position in every view and comes out sharp; points at other disparities are blurred.

    Args:
        lf: (U, V, H, W, C) views, or a LightField.
        slope: the disparity brought into focus, in pixels per view step (0: no shift, the plain mean of the views).
        centre: (uc, vc), the view position the result is aligned with (fractional allowed); default the centre
            of the grid, ((U - 1) / 2, (V - 1) / 2).

    Returns:
        (H, W, C) image of the views' dtype (integers rounded and clipped).
    """
    views = _as_views(lf)
    if np.ndim(slope) != 0:
        raise InputError(f"slope must be one number, got {slope!r} (refocus_sweep takes several)")
    return _cast(_shift_add(views, _slopes(slope), centre)[0], views.dtype)


def refocus_sweep(
    lf: LightField | np.ndarray, slopes: Sequence[float] | np.ndarray, *, centre: tuple[float, float] | None = None
) -> np.ndarray:
    """A focal stack: :func:`refocus` at each of ``slopes``, reading every view once.

    Args:
        lf: (U, V, H, W, C) views, or a LightField.
        slopes: S disparities, pixels per view step.
        centre: as for :func:`refocus`.

    Returns:
        (S, H, W, C) array of the views' dtype; entry k is ``refocus(lf, slopes[k])``.
    """
    views = _as_views(lf)
    return _cast(_shift_add(views, _slopes(slopes), centre), views.dtype)


def epi(
    lf: LightField | np.ndarray,
    *,
    row: int | None = None,
    axis: str = "horizontal",
    view_row: int | None = None,
    col: int | None = None,
    view_col: int | None = None,
    stretch: int = 1,
) -> np.ndarray:
    """An epipolar-plane image: one line of pixels followed across one row (or column) of views.

    ``axis="horizontal"``: pixel row ``row`` of the views (``view_row``, 0), ..., (``view_row``, V - 1), stacked
    top to bottom. ``axis="vertical"``: pixel column ``col`` of the views (0, ``view_col``), ..., (U - 1,
    ``view_col``), each laid out as a row (transposed), so views run along the first axis in both cases. A point at
    disparity d draws a straight line that moves d pixels to the right per EPI row.

    Args:
        lf: (U, V, H, W, C) views, or a LightField.
        row: pixel row of a horizontal EPI, 0..H-1; default H // 2.
        axis: ``"horizontal"`` or ``"vertical"``.
        view_row: view row of a horizontal EPI, 0..U-1; default U // 2.
        col: pixel column of a vertical EPI, 0..W-1; default W // 2.
        view_col: view column of a vertical EPI, 0..V-1; default V // 2.
        stretch: each EPI row is repeated this many times (>= 1), to make the slopes visible.

    Returns:
        (V stretch, W, C) for horizontal, (U stretch, H, C) for vertical, of the views' dtype (a new array).
    """
    views = _as_views(lf)
    u, v, h, w, _ = views.shape
    stretch = _at_least(stretch, "stretch", 1)
    if axis == "horizontal":
        if col is not None or view_col is not None:
            raise InputError("col and view_col select a vertical EPI; a horizontal one takes row and view_row")
        lines = views[_index(view_row, "view_row", u, u // 2), :, _index(row, "row", h, h // 2)]
    elif axis == "vertical":
        if row is not None or view_row is not None:
            raise InputError("row and view_row select a horizontal EPI; a vertical one takes col and view_col")
        lines = views[:, _index(view_col, "view_col", v, v // 2), :, _index(col, "col", w, w // 2)]
    else:
        raise InputError(f"axis must be 'horizontal' or 'vertical', got {axis!r}")
    return np.repeat(lines, stretch, axis=0)


def parallax_path(
    u: int, v: int, *, kind: str = "circle", steps: int | None = None
) -> list[tuple[int, int]] | list[tuple[float, float]]:
    """Positions on a U x V view grid for a parallax animation, as (u, v) = (view row, view column) pairs.

    * ``"circle"``: ``steps`` (default 36) float positions on the ellipse through the middles of the grid's
      edges, centred at ((U - 1) / 2, (V - 1) / 2), starting at the right and turning counter-clockwise as seen on
      the mosaic; the last position is one step before the first, so the animation loops smoothly.
    * ``"serpentine"``: every view once, as integers: view row 0 left to right, row 1 right to left, and so on.
    * ``"row"``: along view row U // 2 from left to right and back (without repeating the ends): integer positions
      0, 1, ..., V - 1, V - 2, ..., 1, or with ``steps`` that many evenly spaced float positions on the same loop.

    Args:
        u: number of view rows U, >= 1.
        v: number of view columns V, >= 1.
        kind: one of :data:`PATH_KINDS`.
        steps: number of positions, >= 1, for ``"circle"`` and ``"row"``; ``"serpentine"`` takes none.

    Returns:
        A list of (u, v) tuples: Python ints for ``"serpentine"`` and ``"row"`` without ``steps``, else floats.
    """
    nu, nv = _at_least(u, "the number of view rows", 1), _at_least(v, "the number of view columns", 1)
    if kind not in PATH_KINDS:
        raise InputError(f"unknown parallax path kind {kind!r} (expected one of {', '.join(PATH_KINDS)})")
    if steps is not None:
        steps = _at_least(steps, "steps", 1)
    if kind == "serpentine":
        if steps is not None:
            raise InputError("a serpentine path visits every view once and takes no steps")
        return [(a, b if a % 2 == 0 else nv - 1 - b) for a in range(nu) for b in range(nv)]
    if kind == "row":
        loop = list(range(nv)) + list(range(nv - 2, 0, -1))
        if steps is None:
            return [(nu // 2, b) for b in loop]
        t = np.arange(steps) * (len(loop) / steps)  # position along the loop, in view steps
        pos = np.where(t <= nv - 1, t, 2 * (nv - 1) - t)
        return [(float(nu // 2), float(p)) for p in pos]
    n = _CIRCLE_STEPS if steps is None else steps
    theta = 2.0 * np.pi * np.arange(n) / n
    uc, vc = (nu - 1) / 2.0, (nv - 1) / 2.0
    pu = np.clip(uc - uc * np.sin(theta), 0.0, nu - 1.0)
    pv = np.clip(vc + vc * np.cos(theta), 0.0, nv - 1.0)
    return [(float(a), float(b)) for a, b in zip(pu, pv, strict=True)]


def _position(p, u: int, v: int, k: int) -> tuple[float, float]:
    try:
        a, b = (float(x) for x in p)
    except (TypeError, ValueError):
        raise InputError(f"path position {k} must be a (u, v) pair of numbers, got {p!r}") from None
    if not (0.0 <= a <= u - 1 and 0.0 <= b <= v - 1):
        raise InputError(f"path position {k} {p!r} is outside the {u} x {v} view grid")
    return a, b


def parallax_frames(lf: LightField | np.ndarray, path: Sequence[tuple[float, float]]) -> list[np.ndarray]:
    """The views seen along a path over the view grid (see :func:`parallax_path`).

    A position with integer coordinates gives that view unchanged; a fractional one the bilinear blend of the
    (up to 4) nearest views, weighted by distance along each axis (no disparity compensation).

    Args:
        lf: (U, V, H, W, C) views, or a LightField.
        path: (u, v) positions, 0 <= u <= U - 1 and 0 <= v <= V - 1.

    Returns:
        One (H, W, C) array of the views' dtype per position (new arrays, integers rounded and clipped).
    """
    views = _as_views(lf)
    u, v = views.shape[:2]
    if len(path) == 0:
        raise InputError("the parallax path is empty")
    frames = []
    for k, p in enumerate(path):
        a, b = _position(p, u, v, k)
        a0, b0 = math.floor(a), math.floor(b)
        fa, fb = a - a0, b - b0
        if fa == 0.0 and fb == 0.0:
            frames.append(views[a0, b0].copy())
            continue
        a1, b1 = min(a0 + 1, u - 1), min(b0 + 1, v - 1)
        acc = np.zeros(views.shape[2:], dtype=np.float64)
        for ia, wa in ((a0, 1.0 - fa), (a1, fa)):
            for ib, wb in ((b0, 1.0 - fb), (b1, fb)):
                if wa * wb > 0.0:
                    acc += (wa * wb) * views[ia, ib]
        frames.append(_cast(acc, views.dtype))
    return frames


def _gif_frame(frame, k: int) -> np.ndarray:
    arr = np.asarray(frame)
    if arr.ndim == 3 and arr.shape[2] in (1, 3):
        arr = arr[:, :, 0] if arr.shape[2] == 1 else arr
    elif arr.ndim != 2:
        raise InputError(f"frame {k} must be (H, W), (H, W, 1) or (H, W, 3), got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"frame {k} is empty (shape {arr.shape})")
    if arr.dtype == np.uint8:
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        return np.clip(np.rint(np.nan_to_num(arr)), 0, 255).astype(np.uint8)
    raise InputError(f"frame {k} must be uint8 or float in 0..255, got dtype {arr.dtype}")


def save_gif(frames: Sequence[np.ndarray], path: str | os.PathLike, *, fps: float = 10.0, loop: int = 0) -> None:
    """Write frames as an animated GIF, atomically (a temporary file beside ``path``, then renamed).

    Each RGB frame gets its own 256-colour palette (GIF's limit); grey frames are stored as they are. Pillow stores
    consecutive identical frames once, with their durations added.

    Args:
        frames: (H, W, 3) RGB, (H, W, 1) or (H, W) grey frames, all the same shape; uint8, or float in 0..255
            (rounded and clipped).
        path: the ``.gif`` file; its folder is created if needed.
        fps: frames per second, > 0 (GIF stores durations in hundredths of a second).
        loop: times to play the animation; 0 repeats it forever.

    Raises:
        InputError: no frames, frames of different shapes or unsupported shapes or dtypes, or bad fps or loop.
    """
    from PIL import Image

    if len(frames) == 0:
        raise InputError("no frames to write to the GIF")
    arrays = [_gif_frame(f, k) for k, f in enumerate(frames)]
    for k, arr in enumerate(arrays):
        if arr.shape != arrays[0].shape:
            raise InputError(
                f"all frames must have the same shape: frame {k} is {arr.shape}, frame 0 {arrays[0].shape}"
            )
    try:
        fps = float(fps)
    except (TypeError, ValueError):
        raise InputError(f"fps must be a number, got {fps!r}") from None
    if not (math.isfinite(fps) and fps > 0):
        raise InputError(f"fps must be positive, got {fps}")
    loop = _index(loop, "loop", 65536, 0)  # GIF stores it in 16 bits
    images = [Image.fromarray(a) for a in arrays]
    duration = max(10, round(1000.0 / fps))
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=loop)
