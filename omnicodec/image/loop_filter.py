"""Adaptive loop filter of the wavelet core: Wiener filters per pixel class, fitted by the encoder, sent in the stream.

After a plane is decoded (inverse wavelet, before the colour transform), every pixel ``x`` gets a class from its
neighbourhood, and the filter of its class adds a weighted sum of symmetric second differences::

    y = x + sum_k c_k (x[p + o_k] + x[p - o_k] - 2 x[p]) / COEF_UNIT

over the 12 offsets ``o_k`` of half a diamond of radius 3 (:data:`OFFSETS`; the filter is symmetric and keeps flat
areas flat). Quantisation noise of a wavelet coder is spread over smooth areas and rings at edges; a filter per
kind of neighbourhood removes part of it (the idea of the adaptive loop filters of video codecs).

**Classes** (:func:`classify`), from the decoded plane rounded to integers (and clipped to ``+-2**20``), so exact
everywhere: the sums over a 5x5 window of the absolute second differences vertically ``v``, horizontally ``h`` and
along the two diagonals ``d1``, ``d2``. Activity ``v + h`` falls in one of 5 levels split by 4 thresholds the
stream carries; the direction is horizontal or vertical where ``max(h, v) > 2 min(h, v)`` (and this dominance beats
the diagonals'), else a diagonal where ``max(d1, d2) > 2 min(d1, d2)``, else none: 5 x 5 = 25 classes.

**Encoder** (:func:`fit`): the least-squares filter of every class (squared errors weighted per row for
panoramas, as WS-PSNR weighs them), then classes merged greedily into shared filters while that lowers
``D + lam R`` (``lam`` in squared pixel error per bit, the coder's own trade-off), and a filter kept only where
its gain pays for its coefficients.

**Payload** (one ``LOOP`` chunk per plane, :func:`to_bytes`): a byte ``F``, the number of filters (0: no filtering,
and nothing follows); then, most significant bit first: the four activity thresholds as differences from the one
before (the first from 0), each an exp-Golomb code of order 4; the filter of each of the 25 classes in
``bit_length(F)`` bits (``F``: not filtered); the ``F x 12`` coefficients in units of ``1 / COEF_UNIT`` (``-127 ..
127``), zigzag-mapped (``v >= 0 -> 2 v``, ``v < 0 -> -2 v - 1``), each an exp-Golomb code of order 2; zero bits to
the byte boundary.

Filtering runs over strips of rows in place, so it adds a few rows of memory, not a plane; the arithmetic is
elementwise IEEE float64 in a fixed order, identical on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CorruptStreamError

__all__ = ["LoopFilter", "OFFSETS", "CLASSES", "COEF_UNIT", "classify", "fit", "apply", "from_bytes", "to_bytes"]

RADIUS = 3
OFFSETS = tuple((dy, dx) for dy in range(0, RADIUS + 1) for dx in range(-RADIUS, RADIUS + 1)
                if abs(dy) + abs(dx) <= RADIUS and (dy, dx) > (0, 0))
"""Half of the diamond of radius 3: ``(dy, dx)`` with ``|dy| + |dx| <= 3``, ``(dy, dx) > (0, 0)``."""
TAPS = len(OFFSETS)
ACTIVITY_LEVELS = 5
DIRECTIONS = 5
CLASSES = ACTIVITY_LEVELS * DIRECTIONS
COEF_UNIT = 256
"""Coefficients are integers in units of ``1 / COEF_UNIT``, stored as int8."""
OFF = 255
"""Filter index of a class left unfiltered."""
_WINDOW = 2  # the activity window is (2 * _WINDOW + 1) squared
_MARGIN = RADIUS + 1 + _WINDOW  # rows and columns of context a pixel's class and filter read
_STRIP = 256
_RIDGE = 1e-3
_SUBSAMPLE_ABOVE = 1 << 20
_CLIP = 1 << 20  # plane values beyond it (only in damaged streams) are clipped before classifying


@dataclass(frozen=True)
class LoopFilter:
    """The filters of one plane.

    Attributes:
        thresholds: ``(4,)`` int64 activity thresholds (non-decreasing).
        index: ``(CLASSES,)`` int64 filter index of each class, or :data:`OFF`.
        coefs: ``(F, TAPS)`` int64 coefficients in units of ``1 / COEF_UNIT``, each in ``-127 .. 127``.
    """

    thresholds: np.ndarray
    index: np.ndarray
    coefs: np.ndarray


NONE = LoopFilter(np.zeros(ACTIVITY_LEVELS - 1, np.int64), np.full(CLASSES, OFF, np.int64),
                  np.zeros((0, TAPS), np.int64))


class _BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def put(self, value: int, width: int) -> None:
        self.bits.extend((value >> (width - 1 - i)) & 1 for i in range(width))

    def golomb(self, n: int, k: int) -> None:
        """Exp-Golomb code of order ``k`` of ``n >= 0``."""
        v = n + (1 << k)
        self.put(0, v.bit_length() - 1 - k)
        self.put(v, v.bit_length())

    def to_bytes(self) -> bytes:
        bits = self.bits + [0] * (-len(self.bits) % 8)
        return bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))


class _BitReader:
    def __init__(self, data: bytes) -> None:
        self.bits = "".join(f"{b:08b}" for b in data)
        self.pos = 0

    def get(self, width: int) -> int:
        if self.pos + width > len(self.bits):
            raise CorruptStreamError("image stream has a truncated loop-filter payload")
        v = int(self.bits[self.pos:self.pos + width] or "0", 2)
        self.pos += width
        return v

    def golomb(self, k: int, limit: int) -> int:
        zeros = 0
        while self.get(1) == 0:
            zeros += 1
            if zeros > 32:
                raise CorruptStreamError("image stream has a malformed loop-filter payload")
        n = ((1 << (zeros + k)) | self.get(zeros + k)) - (1 << k)
        if n > limit:
            raise CorruptStreamError("image stream has loop-filter parameters out of range")
        return n

    def check_end(self) -> None:
        if len(self.bits) - self.pos >= 8 or "1" in self.bits[self.pos:]:
            raise CorruptStreamError("image stream has a malformed loop-filter payload")


def _zigzag(v: int) -> int:
    return 2 * v if v >= 0 else -2 * v - 1


def to_bytes(f: LoopFilter) -> bytes:
    """The ``LOOP`` payload of ``f``."""
    n = len(f.coefs)
    if n == 0:
        return bytes([0])
    w = _BitWriter()
    prev = 0
    for t in f.thresholds:
        w.golomb(int(t) - prev, 4)
        prev = int(t)
    width = n.bit_length()
    for i in f.index:
        w.put(n if i == OFF else int(i), width)
    for c in f.coefs.reshape(-1):
        w.golomb(_zigzag(int(c)), 2)
    return bytes([n]) + w.to_bytes()


def from_bytes(data: bytes) -> LoopFilter:
    """Inverse of :func:`to_bytes`.

    Raises:
        CorruptStreamError: a payload that is malformed, truncated, too long or out of range.
    """
    if not data or data[0] > CLASSES or (data[0] == 0 and len(data) != 1):
        raise CorruptStreamError("image stream has a malformed loop-filter payload")
    n = data[0]
    if n == 0:
        return NONE
    r = _BitReader(data[1:])
    thresholds = np.cumsum([r.golomb(4, 1 << 24) for _ in range(ACTIVITY_LEVELS - 1)]).astype(np.int64)
    width = n.bit_length()
    index = np.array([r.get(width) for _ in range(CLASSES)], dtype=np.int64)
    if np.any(index > n):
        raise CorruptStreamError("image stream has loop-filter parameters out of range")
    index[index == n] = OFF
    z = np.array([r.golomb(2, 254) for _ in range(n * TAPS)], dtype=np.int64)
    r.check_end()
    coefs = np.where(z & 1, -(z + 1) // 2, z // 2).reshape(n, TAPS)
    return LoopFilter(thresholds, index, coefs)


def _pad(a: np.ndarray, top: int, bottom: int, wrap: bool) -> np.ndarray:
    """``a`` with ``top`` / ``bottom`` rows repeated at its edges and :data:`_MARGIN` columns each side (periodic
    with ``wrap``, else repeated)."""
    a = np.pad(a, ((top, bottom), (0, 0)), mode="edge")
    return np.pad(a, ((0, 0), (_MARGIN, _MARGIN)), mode="wrap" if wrap else "edge")


def _box(a: np.ndarray) -> np.ndarray:
    """Sums over ``(2 _WINDOW + 1)``-squared windows (valid part: ``2 _WINDOW`` fewer rows and columns)."""
    k = 2 * _WINDOW + 1
    rows = sum(a[i:a.shape[0] - k + 1 + i] for i in range(k))
    return sum(rows[:, j:rows.shape[1] - k + 1 + j] for j in range(k))


def _classes_padded(x: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Classes of the pixels of a padded strip ``x`` that lie :data:`_MARGIN` inside it (integers only)."""
    act, direction = _activity_direction(x)
    return np.searchsorted(thresholds, act, side="right") * DIRECTIONS + direction


def _activity_direction(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Activity ``v + h`` and direction (0..4) of the pixels :data:`_MARGIN` inside the padded strip ``x``."""
    r = np.clip(np.rint(x), -_CLIP, _CLIP).astype(np.int32)  # window sums stay below 2**31
    c = 2 * r[1:-1, 1:-1]
    v = _box(np.abs(c - r[:-2, 1:-1] - r[2:, 1:-1]))
    h = _box(np.abs(c - r[1:-1, :-2] - r[1:-1, 2:]))
    d1 = _box(np.abs(c - r[:-2, :-2] - r[2:, 2:]))
    d2 = _box(np.abs(c - r[:-2, 2:] - r[2:, :-2]))
    m = RADIUS  # _box and the differences used _WINDOW + 1 of the _MARGIN
    v, h, d1, d2 = (a[m:-m, m:-m] for a in (v, h, d1, d2))
    hv_hi, hv_lo = np.maximum(h, v), np.minimum(h, v)
    d_hi, d_lo = np.maximum(d1, d2), np.minimum(d1, d2)
    hv = (hv_hi > 2 * hv_lo) & (hv_hi.astype(np.int64) * d_lo >= d_hi.astype(np.int64) * hv_lo)
    dd = ~hv & (d_hi > 2 * d_lo)
    direction = np.where(hv, np.where(h > v, 1, 2), np.where(dd, np.where(d1 > d2, 3, 4), 0))
    return v + h, direction


def _strips(height: int):
    for r0 in range(0, height, _STRIP):
        yield r0, min(r0 + _STRIP, height)


def _window(plane: np.ndarray, r0: int, r1: int, wrap: bool) -> np.ndarray:
    """Rows ``r0 - _MARGIN .. r1 + _MARGIN`` of ``plane`` (edges repeated), padded by columns."""
    h = plane.shape[0]
    a, b = max(r0 - _MARGIN, 0), min(r1 + _MARGIN, h)
    return _pad(plane[a:b], _MARGIN - (r0 - a), _MARGIN - (b - r1), wrap)


def _differences(x: np.ndarray, row_step: int = 1):
    """The :data:`TAPS` second differences of the pixels :data:`_MARGIN` inside the padded ``x`` (every
    ``row_step``-th row), one at a time."""
    m, s = _MARGIN, row_step
    hh, ww = x.shape[0] - 2 * m, x.shape[1] - 2 * m
    twice = 2.0 * x[m:m + hh:s, m:m + ww]
    for dy, dx in OFFSETS:
        yield x[m + dy:m + dy + hh:s, m + dx:m + dx + ww] + x[m - dy:m - dy + hh:s, m - dx:m - dx + ww] - twice


def classify(plane: np.ndarray, thresholds: np.ndarray, wrap: bool = False) -> np.ndarray:
    """``(H, W)`` int64 class of every pixel of a decoded plane (``wrap``: periodic columns)."""
    out = np.empty(plane.shape, dtype=np.int64)
    for r0, r1 in _strips(plane.shape[0]):
        out[r0:r1] = _classes_padded(_window(plane, r0, r1, wrap), thresholds)
    return out


def apply(plane: np.ndarray, f: LoopFilter, wrap: bool = False) -> None:
    """Filters a decoded ``(H, W)`` float64 plane in place (nothing to do when ``f`` has no filter)."""
    if len(f.coefs) == 0:
        return
    taps = np.vstack([f.coefs, np.zeros((1, TAPS), np.int64)]).astype(np.float64).T.copy()  # (TAPS, F + 1)
    index = np.where(f.index == OFF, len(f.coefs), f.index)
    above = None  # the unfiltered rows just above the current strip
    for r0, r1 in _strips(plane.shape[0]):
        a, b = max(r0 - _MARGIN, 0), min(r1 + _MARGIN, plane.shape[0])
        rows = plane[a:b].copy()
        if above is not None:
            rows[:r0 - a] = above[above.shape[0] - (r0 - a):]
        x = _pad(rows, _MARGIN - (r0 - a), _MARGIN - (b - r1), wrap)
        filt = index[_classes_padded(x, f.thresholds)]
        acc = np.zeros((r1 - r0, plane.shape[1]))
        for k, d in enumerate(_differences(x)):
            acc += taps[k][filt] * d
        above = plane[max(r1 - _MARGIN, 0):r1].copy()
        plane[r0:r1] += acc * (1.0 / COEF_UNIT)


def _statistics(orig: np.ndarray, rec: np.ndarray, classes: np.ndarray, wrap: bool,
                row_weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per class: ``A = sum w f f^T`` ``(CLASSES, TAPS, TAPS)`` and ``b = sum w f e`` with ``f``
    the second differences of ``rec`` and ``e = orig - rec``."""
    A = np.zeros((CLASSES, TAPS, TAPS))
    b = np.zeros((CLASSES, TAPS))
    step = 2 if rec.size > _SUBSAMPLE_ABOVE else 1  # every other row of large planes: enough samples, half the time
    for r0, r1 in _strips(rec.shape[0]):
        x = _window(rec, r0, r1, wrap)
        cls = classes[r0:r1:step].reshape(-1)
        feats = np.stack([d.reshape(-1) for d in _differences(x, step)])
        err = (orig[r0:r1:step] - rec[r0:r1:step]).reshape(-1)
        w = np.ones(err.size) if row_weights is None else np.repeat(row_weights[r0:r1:step], rec.shape[1])
        order = np.argsort(cls, kind="stable")
        bounds = np.searchsorted(cls[order], np.arange(CLASSES + 1))
        for k in range(CLASSES):
            sel = order[bounds[k]:bounds[k + 1]]
            if sel.size:
                fk, wk, ek = feats[:, sel], w[sel], err[sel]
                A[k] += (fk * wk) @ fk.T
                b[k] += fk @ (wk * ek)
    return A, b


def _solve(A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
    """Quantised least-squares coefficients of one group and the weighted squared error they remove."""
    if not np.any(A):
        return np.zeros(TAPS, np.int64), 0.0
    ridge = _RIDGE * (np.trace(A) / TAPS + 1e-12) * np.eye(TAPS)
    c = np.clip(np.round(np.linalg.solve(A + ridge, b) * COEF_UNIT), -127, 127).astype(np.int64)
    w = c / COEF_UNIT
    return c, float(2 * w @ b - w @ A @ w)


def fit(orig: np.ndarray, rec: np.ndarray, lam: float, wrap: bool = False,
        row_weights: np.ndarray | None = None) -> LoopFilter:
    """The encoder's filters for a decoded plane ``rec`` of ``orig`` (both ``(H, W)`` float64).

    Args:
        lam: squared pixel error (weighted) worth one bit.
        wrap: periodic columns (panoramas).
        row_weights: ``(H,)`` weight of each row's squared errors (None: 1).
    """
    act = np.empty(rec.shape, dtype=np.int64)
    direction = np.empty(rec.shape, dtype=np.int64)
    for r0, r1 in _strips(rec.shape[0]):
        act[r0:r1], direction[r0:r1] = _activity_direction(_window(rec, r0, r1, wrap))
    thresholds = np.quantile(act[::2, ::2], np.arange(1, ACTIVITY_LEVELS) / ACTIVITY_LEVELS).astype(np.int64)
    act = np.searchsorted(thresholds, act, side="right") * DIRECTIONS + direction
    del direction
    A, b = _statistics(orig, rec, act, wrap, row_weights)
    keys = [(k,) for k in range(CLASSES) if np.any(A[k])]
    stats = {key: (A[key[0]], b[key[0]]) for key in keys}
    header_bits = 8 + 40 + 3 * CLASSES

    def value(key: tuple) -> float:  # error removed minus the filter's price, or 0 when it is not worth sending
        c, gain = _solve(*stats[key])
        bits = sum(2 * (_zigzag(int(v)) + 4).bit_length() - 3 for v in c) + 3
        return max(gain - lam * bits, 0.0)

    values = {key: value(key) for key in keys}
    best_total, best_groups = sum(values.values()), list(keys)
    while len(keys) > 1:
        best = None
        for i in range(len(keys)):
            for j in range(i + 1, len(keys)):
                merged = tuple(sorted(keys[i] + keys[j]))
                if merged not in stats:
                    stats[merged] = (stats[keys[i]][0] + stats[keys[j]][0], stats[keys[i]][1] + stats[keys[j]][1])
                    values[merged] = value(merged)
                delta = values[merged] - values[keys[i]] - values[keys[j]]
                if best is None or delta > best[0]:
                    best = (delta, i, j, merged)
        _, i, j, merged = best
        keys = [k for n, k in enumerate(keys) if n not in (i, j)] + [merged]
        total = sum(values[k] for k in keys)
        if total > best_total:
            best_total, best_groups = total, list(keys)
    kept = [k for k in best_groups if values[k] > 0]
    if not kept or best_total <= lam * header_bits:
        return NONE
    index = np.full(CLASSES, OFF, np.int64)
    coefs = []
    for n, key in enumerate(kept):
        index[list(key)] = n
        coefs.append(_solve(*stats[key])[0])
    return LoopFilter(thresholds, index, np.stack(coefs))
