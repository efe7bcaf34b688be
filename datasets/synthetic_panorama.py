"""A project-made 360-degree equirectangular (ERP) panorama: a furnished room seen from its centre, ray cast per pixel.

``render_room_panorama(height, seed)`` returns an (H, 2H, 3) uint8 ERP image in the conventions of
:mod:`omnicodec.omni.projection`: row 0 is the north pole (straight up), column 0 longitude -180 degrees, the image
centre longitude 0 (looking along +x), longitude +90 (east, +y) a quarter of the width right of the centre. Each
pixel is the mean of 2 x 2 ray samples (2x supersampling, box-downscaled). Everything is procedural numpy, no
third-party images, and deterministic for a given ``(height, seed)``. ``render_room_view`` renders the same room
through a pinhole camera (a photo-like perspective image, the viewport conventions of :mod:`omnicodec.omni.viewport`).

The room (metres, camera at the origin, 1.45 m above the floor): 5.2 m along x, 4.2 m along y, 2.7 m high.

* Floor: a checkerboard of 0.45 m marble tiles with grout lines, a patterned rug (border, diamond lattice,
  medallion) under the camera, so the nadir has content.
* Ceiling: plaster with a ceiling rose and a round lamp at the zenith (emissive).
* +x wall (image centre): a window showing a sky gradient with clouds above distant hills, red curtains with folds.
* +y wall (longitude +90): striped wallpaper and a wooden panelled door with a brass knob.
* -y wall (longitude -90): a bookcase of randomly sized and coloured books, and a wall clock.
* -x wall (longitude 180, the 0/360 degree seam): brick, and a gold-framed sunset picture centred exactly on the
  seam (its sun is split between the left and right image edges), the seam marker.
* Every wall: a skirting board and a cornice (they cross the seam too).

Shading: albedo times (ambient occlusion near edges and corners + two soft Lambertian lights: the lamp and the
window), plus emission (lamp, the sky outside); fine value noise on every surface gives the codec texture to code.

CLI: ``python -m datasets.synthetic_panorama --out datasets/samples/room_panorama.png [--height 512] [--seed 0]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

__all__ = ["ROOM", "render_room_panorama", "render_room_view", "main"]

#: Room geometry in metres, camera at the origin: half extents along x and y, floor and ceiling heights (z).
ROOM = {"half_x": 2.6, "half_y": 2.1, "floor": -1.45, "ceiling": 1.25}
_WALL_H = ROOM["ceiling"] - ROOM["floor"]
_BLOCK_ROWS = 64  # supersampled rows rendered at once (bounds memory)
# surface ids and their inward normals
_FLOOR, _CEIL, _PX, _NX, _PY, _NY = range(6)
_NORMALS = np.array([[0, 0, 1], [0, 0, -1], [-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0]], dtype=np.float64)
_LIGHTS = (  # position (m), colour, intensity
    (np.array([0.0, 0.0, ROOM["ceiling"] - 0.15]), np.array([1.0, 0.93, 0.8]), 1.3),
    (np.array([ROOM["half_x"] - 0.1, 0.0, 0.05]), np.array([0.8, 0.9, 1.0]), 0.9),
)


def _rgb(*c: float) -> np.ndarray:
    return np.array(c, dtype=np.float64)


class _Noise:
    """Value noise on 2D surface coordinates: smooth bilinear interpolation of seeded random lattices."""

    def __init__(self, rng: np.random.Generator, size: int = 128, tables: int = 8) -> None:
        self.size = size
        self.tables = rng.random((tables, size, size))

    def value(self, u: np.ndarray, v: np.ndarray, k: int = 0) -> np.ndarray:
        """(...) noise in [0, 1] at lattice coordinates (u, v) (one lattice cell per unit), table ``k``."""
        t = self.tables[k % len(self.tables)]
        iu, iv = np.floor(u), np.floor(v)
        fu, fv = u - iu, v - iv
        fu, fv = fu * fu * (3 - 2 * fu), fv * fv * (3 - 2 * fv)
        i0, j0 = iu.astype(np.int64) % self.size, iv.astype(np.int64) % self.size
        i1, j1 = (i0 + 1) % self.size, (j0 + 1) % self.size
        top = t[i0, j0] * (1 - fu) + t[i1, j0] * fu
        bottom = t[i0, j1] * (1 - fu) + t[i1, j1] * fu
        return top * (1 - fv) + bottom * fv

    def fbm(self, u: np.ndarray, v: np.ndarray, freq: float, octaves: int = 3, k: int = 0) -> np.ndarray:
        """(...) fractal noise in [-0.5, 0.5]: ``octaves`` octaves from ``freq`` cells per metre, halving amplitude."""
        out, amp, total = 0.0, 1.0, 0.0
        for o in range(octaves):
            f = freq * 2**o
            out = out + amp * self.value(u * f + 17.3 * o, v * f - 9.1 * o, k + o)
            total += amp
            amp *= 0.5
        return out / total - 0.5


def _box(u, v, u0, u1, v0, v1) -> np.ndarray:
    return (u >= u0) & (u < u1) & (v >= v0) & (v < v1)


def _paint(col: np.ndarray, mask: np.ndarray, rgb) -> np.ndarray:
    """``col`` (N, 3) with rows where ``mask`` (N,) replaced by ``rgb`` ((3,) or (N, 3))."""
    return np.where(mask[:, None], rgb, col)


class _Room:
    """The room's materials. Shaders take (N,) surface coordinates u (m, left to right as seen from the camera)
    and v (m; height above the floor on walls, y on floor and ceiling) and return (N, 3) albedo and emission."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.noise = _Noise(rng)
        self.books = self._make_books(rng)

    @staticmethod
    def _make_books(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Per shelf: right edges (m), height fractions, colours (K, 3) and title band heights of its books."""
        palette = np.array([[0.55, 0.1, 0.1], [0.1, 0.25, 0.5], [0.15, 0.4, 0.2], [0.75, 0.6, 0.2],
                            [0.3, 0.15, 0.35], [0.85, 0.82, 0.72], [0.1, 0.1, 0.12], [0.8, 0.35, 0.1]])
        shelves = []
        for _ in range(5):
            widths = rng.uniform(0.02, 0.065, 60)
            edges = -1.36 + np.cumsum(widths)
            heights = np.where(rng.random(60) < 0.1, 0.0, rng.uniform(0.62, 0.93, 60))  # 0: a gap
            colours = np.clip(palette[rng.integers(0, len(palette), 60)] + rng.normal(0, 0.05, (60, 3)), 0, 1)
            shelves.append((edges, heights, colours, rng.uniform(0.55, 0.8, 60)))
        return shelves

    def floor(self, u, v, d):
        n = self.noise
        marble = n.fbm(u, v, 2.0, 4, k=0)
        checker = (np.floor(u / 0.45) + np.floor(v / 0.45)) % 2 == 0
        col = np.where(checker[:, None], _rgb(0.8, 0.76, 0.68), _rgb(0.42, 0.45, 0.5))
        veins = np.abs(np.sin(9 * u + 6 * v + 12 * marble))[:, None]
        col = col * (0.9 + 0.2 * marble[:, None] + 0.08 * veins) + 0.04 * n.fbm(u, v, 40.0, 2, k=1)[:, None]
        fu, fv = np.mod(u, 0.45), np.mod(v, 0.45)
        col = _paint(col, (np.minimum(fu, 0.45 - fu) < 0.006) | (np.minimum(fv, 0.45 - fv) < 0.006), _rgb(.6, .58, .55))
        # rug: x in [-0.8, 0.9], y in [-0.575, 0.625]
        ru, rv = u - 0.05, v - 0.025
        rug = _box(ru, rv, -0.85, 0.85, -0.6, 0.6)
        edge = np.minimum(0.85 - np.abs(ru), 0.6 - np.abs(rv))
        wool = 0.9 + 0.25 * n.fbm(u, v, 60.0, 2, k=2)[:, None]
        diag_a, diag_b = (np.abs(ru) + np.abs(rv)) / 0.12, (np.abs(ru) - np.abs(rv)) / 0.12
        lattice = (np.mod(diag_a, 1.0) < 0.22) | (np.mod(diag_b, 1.0) < 0.22)
        field = np.where(lattice[:, None], _rgb(0.85, 0.7, 0.4), _rgb(0.55, 0.08, 0.1))
        medallion = np.hypot(ru / 1.3, rv) < 0.25
        field = _paint(field, medallion, _rgb(0.12, 0.2, 0.45))
        field = _paint(field, medallion & (np.abs(np.hypot(ru / 1.3, rv) - 0.17) < 0.015), _rgb(0.9, 0.8, 0.5))
        zig = np.abs(edge - 0.05 - 0.02 * np.abs(np.mod(ru + rv, 0.08) / 0.04 - 1)) < 0.008
        border = np.where(zig[:, None], _rgb(0.9, 0.85, 0.7), _rgb(0.1, 0.15, 0.35))
        rug_col = np.where((edge < 0.1)[:, None], border, field) * wool
        return np.where(rug[:, None], rug_col, col), 0.0

    def ceiling(self, u, v, d):
        r = np.hypot(u, v)
        col = _rgb(0.92, 0.91, 0.87) * (1 + 0.05 * self.noise.fbm(u, v, 6.0, 3, k=3))[:, None]
        col = _paint(col, np.abs(r - 0.34) < 0.025, _rgb(0.8, 0.78, 0.72))
        col = _paint(col, np.abs(r - 0.42) < 0.01, _rgb(0.8, 0.78, 0.72))
        col = _paint(col, (r >= 0.19) & (r < 0.23), _rgb(0.7, 0.55, 0.25))
        lamp = r < 0.19
        col = _paint(col, lamp, _rgb(0.0, 0.0, 0.0))
        emission = np.where(lamp[:, None], _rgb(1.0, 0.97, 0.88) * (1.1 - 0.6 * (r / 0.19) ** 4)[:, None], 0.0)
        return col, emission

    def _trim(self, u, v, col):
        """Skirting board and cornice on every wall."""
        col = _paint(col, v < 0.11, _rgb(0.3, 0.2, 0.13) * (1 + 0.3 * self.noise.fbm(u, v, 8, 2, k=4))[:, None])
        col = _paint(col, np.abs(v - 0.105) < 0.006, _rgb(0.45, 0.32, 0.2))
        col = _paint(col, v > _WALL_H - 0.07, _rgb(0.95, 0.94, 0.9))
        return _paint(col, np.abs(v - (_WALL_H - 0.07)) < 0.008, _rgb(0.75, 0.74, 0.7))

    def wall_px(self, u, v, d):
        """Image centre: plaster, a window onto a sky above hills, curtains."""
        n = self.noise
        col = _rgb(0.62, 0.68, 0.74) * (1 + 0.08 * n.fbm(u, v, 5.0, 4, k=5))[:, None]
        opening = _box(u, v, -0.8, 0.8, 0.95, 2.1)
        fu, fv = 0.8 - np.abs(u), np.minimum(v - 0.95, 2.1 - v)
        frame = opening & ((np.minimum(fu, fv) < 0.06) | (np.abs(u) < 0.018) | (np.abs(v - 1.6) < 0.018))
        glass = opening & ~frame
        col = _paint(col, _box(u, v, -0.9, 0.9, 0.9, 0.95) | frame, _rgb(0.93, 0.93, 0.9))
        col = _paint(col, glass, _rgb(0.0, 0.0, 0.0))
        # the view outside, by ray direction: hills below a sky with clouds
        az, el = np.arctan2(d[:, 1], d[:, 0]), np.arctan2(d[:, 2], np.hypot(d[:, 0], d[:, 1]))
        hill = np.radians(1.0 + 2.5 * np.sin(3 * az + 1.0) + 1.2 * np.sin(11 * az))
        sky = _rgb(0.85, 0.9, 0.97) + np.clip(el / 0.3, 0, 1)[:, None] * (_rgb(0.25, 0.5, 0.9) - _rgb(0.85, 0.9, 0.97))
        cu, cv = d[:, 1] / d[:, 0], d[:, 2] / d[:, 0]
        cloud = np.clip((n.fbm(cu, cv * 3, 4.0, 4, k=6) + 0.05) * 5, 0, 1)[:, None]
        sky = sky * (1 - cloud) + _rgb(1.0, 1.0, 1.0) * cloud
        grass = _rgb(0.3, 0.5, 0.2) * ((1 + 0.4 * n.fbm(cu, cv, 30.0, 3, k=7)) * (0.7 + 4 * (hill - el)))[:, None]
        outside = np.where((el < hill)[:, None], np.clip(grass, 0, 1), sky)
        emission = np.where(glass[:, None], outside, 0.0)
        # curtains with folds, and their rod
        curtain = _box(np.abs(u), v, 0.8, 1.25, 0.45, 2.35)
        folds = 0.7 + 0.3 * np.cos(2 * np.pi * u / 0.09 + 0.8 * np.sin(3 * u)) ** 2
        cloth = _rgb(0.6, 0.1, 0.12) * (folds * (1 + 0.1 * n.fbm(u, v, 50, 2, k=8)))[:, None]
        col = _paint(col, curtain, cloth)
        col = _paint(col, _box(u, v, -1.35, 1.35, 2.35, 2.38), _rgb(0.15, 0.12, 0.1))
        return self._trim(u, v, col), emission

    def wall_py(self, u, v, d):
        """Longitude +90: striped wallpaper, a panelled door."""
        n = self.noise
        stripe = np.mod(u, 0.16)
        col = np.where((stripe < 0.08)[:, None], _rgb(0.9, 0.8, 0.5), _rgb(0.82, 0.7, 0.42))
        col = _paint(col, np.abs(stripe - 0.12) < 0.004, _rgb(0.6, 0.45, 0.3))
        col = col * (1 + 0.06 * n.fbm(u, v, 12.0, 3, k=9))[:, None]
        door = _box(u, v, -1.6, -0.7, 0.0, 2.05)
        casing = _box(u, v, -1.67, -0.63, 0.0, 2.12) & ~door
        grain = n.fbm(u * 40, v * 1.5, 1.0, 3, k=10) + 0.3 * np.sin(90 * u + 6 * n.fbm(u, v, 3, 2, k=11))
        wood = _rgb(0.45, 0.27, 0.14) * (1 + 0.35 * grain)[:, None]
        du, dv = u + 1.15, v
        panel = np.zeros(len(u), dtype=bool)
        for v0, v1 in ((0.15, 0.95), (1.1, 1.9)):
            for u0, u1 in ((-0.37, -0.04), (0.04, 0.37)):
                outline = _box(du, dv, u0, u1, v0, v1) & ~_box(du, dv, u0 + 0.02, u1 - 0.02, v0 + 0.02, v1 - 0.02)
                panel |= outline
        wood = np.where(panel[:, None], wood * 0.6, wood)
        col = _paint(col, door, wood)
        col = _paint(col, door & (np.hypot(u + 0.78, v - 1.0) < 0.03), _rgb(0.85, 0.7, 0.3))
        col = _paint(col, casing, _rgb(0.93, 0.92, 0.88))
        return self._trim(u, v, col), 0.0

    def wall_ny(self, u, v, d):
        """Longitude -90: green wall, a bookcase, a clock."""
        n = self.noise
        col = _rgb(0.45, 0.58, 0.45) * (1 + 0.07 * n.fbm(u, v, 6.0, 4, k=12))[:, None]
        case = _box(u, v, -1.4, 0.6, 0.0, 2.1)
        shelf = np.clip(np.floor((v - 0.08) / 0.4), 0, 4).astype(np.int64)
        sv = v - 0.08 - 0.4 * shelf  # height above the shelf board, m
        inner = case & (sv > 0.03) & (u > -1.36) & (u < 0.56) & (v < 2.06)
        wood = _rgb(0.35, 0.22, 0.12) * (1 + 0.3 * n.fbm(u * 30, v, 1.0, 2, k=13))[:, None]
        fill = np.where(inner[:, None], wood * 0.45, wood)
        for s, (edges, heights, colours, titles) in enumerate(self.books):
            m = inner & (shelf == s)
            idx = np.minimum(np.searchsorted(edges, u[m]), len(edges) - 1)
            frac = sv[m] / 0.37
            book = (frac < heights[idx]) & (u[m] < 0.56)
            spine = colours[idx] * (0.75 + 0.25 * np.cos(np.pi * (edges[idx] - u[m]) / 0.06) ** 2)[:, None]
            band = np.abs(frac - titles[idx] * heights[idx]) < 0.03
            spine = np.where(band[:, None], _rgb(0.85, 0.72, 0.35), spine)
            sub = fill[m]
            sub[book] = spine[book]
            fill[m] = sub
        col = _paint(col, case, fill)
        r, ang = np.hypot(u - 1.5, v - 1.85), np.arctan2(v - 1.85, u - 1.5)
        face = r < 0.16
        ticks = (r > 0.12) & (np.abs(np.mod(ang, np.pi / 6) - np.pi / 12) > np.pi / 12 - 0.05)
        hands = _segment(u - 1.5, v - 1.85, 0.6, 0.1, 0.012) | _segment(u - 1.5, v - 1.85, 2.3, 0.13, 0.008)
        col = _paint(col, face, _rgb(0.95, 0.95, 0.92))
        col = _paint(col, face & (ticks | hands), _rgb(0.08, 0.08, 0.1))
        col = _paint(col, (r >= 0.16) & (r < 0.18), _rgb(0.2, 0.2, 0.22))
        return self._trim(u, v, col), 0.0

    def wall_nx(self, u, v, d):
        """Longitude 180 (the seam): brick, a framed sunset picture centred on the seam (u = 0)."""
        n = self.noise
        row = np.floor(v / 0.075)
        bu = u / 0.22 + 0.5 * (row % 2)
        brick_id = np.floor(bu) * 131 + row * 17
        tint = self.noise.value(brick_id * 0.37, row * 0.53, k=14)[:, None]
        col = (_rgb(0.62, 0.3, 0.22) + 0.12 * (tint - 0.5)) * (1 + 0.15 * n.fbm(u, v, 25, 2, k=15))[:, None]
        mortar = (np.mod(v, 0.075) < 0.008) | (np.mod(bu, 1.0) * 0.22 < 0.008)
        col = _paint(col, mortar, _rgb(0.75, 0.72, 0.66))
        outer = _box(u, v, -0.75, 0.75, 1.0, 1.9)
        inner = _box(u, v, -0.68, 0.68, 1.07, 1.83)
        rim = np.minimum(0.75 - np.abs(u), np.minimum(v - 1.0, 1.9 - v)) / 0.07
        gold = _rgb(0.8, 0.62, 0.22) * (0.7 + 0.5 * np.abs(np.sin(np.pi * rim)))[:, None]
        col = _paint(col, outer & ~inner, gold)
        t = np.clip((v - 1.07) / 0.76, 0, 1)[:, None]
        art = _rgb(1.0, 0.6, 0.25) * (1 - t) + _rgb(0.35, 0.2, 0.5) * t
        sun = (np.hypot(u, v - 1.5) < 0.15) & ~((v < 1.5) & (np.mod(v, 0.04) < 0.012))
        art = _paint(art, sun, _rgb(1.0, 0.92, 0.4))
        ridge = 1.25 + 0.06 * np.sin(9 * u + 0.5) + 0.03 * np.sin(23 * u) + 0.08 * u
        art = _paint(art, v < ridge, _rgb(0.15, 0.1, 0.25))
        art = _paint(art, v < 1.15 + 0.01 * np.sin(60 * u), _rgb(0.2, 0.3, 0.5))
        col = _paint(col, inner, art * (1 + 0.06 * n.fbm(u, v, 30, 2, k=16))[:, None])
        return self._trim(u, v, col), 0.0


def _segment(x, y, angle, length, half_width) -> np.ndarray:
    """(N,) mask of points within ``half_width`` of the segment from (0, 0) along ``angle`` (rad) for ``length``."""
    c, s = np.cos(angle), np.sin(angle)
    along, across = x * c + y * s, -x * s + y * c
    return (along > -0.01) & (along < length) & (np.abs(across) < half_width)


def _shade(room: _Room, d: np.ndarray) -> np.ndarray:
    """(N, 3) float64 colour in [0, 1] seen along (N, 3) unit directions ``d`` from the camera."""
    hx, hy, z0, z1 = ROOM["half_x"], ROOM["half_y"], ROOM["floor"], ROOM["ceiling"]
    with np.errstate(divide="ignore"):
        tx = np.where(d[:, 0] > 0, hx, -hx) / d[:, 0]
        ty = np.where(d[:, 1] > 0, hy, -hy) / d[:, 1]
        tz = np.where(d[:, 2] > 0, z1, z0) / d[:, 2]
    t = np.minimum(np.minimum(np.abs(tx), np.abs(ty)), np.abs(tz))
    p = d * t[:, None]
    surface = np.where(t == np.abs(tz), np.where(d[:, 2] > 0, _CEIL, _FLOOR),
                       np.where(t == np.abs(tx), np.where(d[:, 0] > 0, _PX, _NX), np.where(d[:, 1] > 0, _PY, _NY)))
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    coords = {_FLOOR: (x, y), _CEIL: (x, y), _PX: (y, z - z0), _NX: (-y, z - z0), _PY: (-x, z - z0), _NY: (x, z - z0)}
    shaders = {_FLOOR: room.floor, _CEIL: room.ceiling, _PX: room.wall_px, _NX: room.wall_nx,
               _PY: room.wall_py, _NY: room.wall_ny}
    albedo = np.zeros_like(d)
    emission = np.zeros_like(d)
    for sid, shader in shaders.items():
        m = surface == sid
        if m.any():
            u, v = coords[sid]
            a, e = shader(u[m], v[m], d[m])
            albedo[m] = a
            emission[m] = e
    # ambient occlusion: darker near the nearest other surface (edges and corners)
    gaps = np.stack([z - z0, z1 - z, hx - x, x + hx, hy - y, y + hy], axis=1)
    near = np.partition(gaps, 1, axis=1)[:, 1]
    ao = 1.0 - 0.4 * np.exp(-near / 0.2)
    light = np.full_like(d, 0.42) * ao[:, None]
    normal = _NORMALS[surface]
    for pos, colour, power in _LIGHTS:
        to = pos - p
        dist2 = np.einsum("ij,ij->i", to, to)
        lam = np.maximum(np.einsum("ij,ij->i", normal, to), 0.0) / np.sqrt(dist2)
        light += (power * lam * np.sqrt(ao) / (1.0 + 0.35 * dist2))[:, None] * colour
    return np.clip(albedo * light + emission, 0.0, 1.0)


def render_room_panorama(height: int = 512, seed: int = 0) -> np.ndarray:
    """Render the room panorama.

    Args:
        height: H, rows of the output (>= 2); the width is 2 H.
        seed: picks the noise textures, the books and their colours (the layout of the room is fixed).

    Returns:
        (H, 2 H, 3) uint8 RGB ERP image (row 0 straight up, column 0 at longitude -180 degrees, the centre looking
        through the window along +x). Each pixel averages 2 x 2 rays through the centres of its supersampled
        sub-pixels. Deterministic: the same ``(height, seed)`` gives the same array.
    """
    if int(height) != height or height < 2:
        raise ValueError(f"height must be an integer >= 2, got {height}")
    h, w = int(height), 2 * int(height)
    hs, ws = 2 * h, 2 * w
    room = _Room(seed)
    lon = np.radians((np.arange(ws) + 0.5) * (360.0 / ws) - 180.0)
    out = np.empty((h, w, 3), dtype=np.uint8)
    for r0 in range(0, hs, _BLOCK_ROWS):
        rows = np.arange(r0, min(r0 + _BLOCK_ROWS, hs))
        lat = np.radians(90.0 - (rows + 0.5) * (180.0 / hs))
        cl = np.cos(lat)[:, None]
        d = np.stack(np.broadcast_arrays(cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)[:, None]), axis=-1)
        rgb = _shade(room, d.reshape(-1, 3)).reshape(len(rows) // 2, 2, w, 2, 3).mean(axis=(1, 3))
        out[r0 // 2 : r0 // 2 + len(rows) // 2] = np.round(rgb * 255.0).astype(np.uint8)
    return out


def render_room_view(
    yaw: float = 0.0,
    pitch: float = 0.0,
    fov_deg: float = 90.0,
    size: tuple[int, int] = (384, 512),
    seed: int = 0,
) -> np.ndarray:
    """Render a perspective (pinhole) view of the room from its centre, like a photo.

    Args:
        yaw: longitude the camera looks at, degrees (0: the window, 180: the picture on the seam wall).
        pitch: latitude it looks at, degrees (+90: straight up).
        fov_deg: horizontal field of view, degrees, in (0, 180).
        size: (h, w) of the image, pixels.
        seed: as :func:`render_room_panorama`.

    Returns:
        (h, w, 3) uint8 RGB image, row 0 at the top; each pixel averages 2 x 2 rays, like the panorama. Its geometry
        is that of ``omnicodec.omni.erp_to_viewport`` with the same angles (roll 0) and size.
    """
    from omnicodec.omni import viewport_directions

    h, w = (int(v) for v in size)
    d = viewport_directions(yaw, pitch, 0.0, fov_deg, (2 * h, 2 * w)).reshape(-1, 3)
    d = d / np.linalg.norm(d, axis=1, keepdims=True)
    rgb = _shade(_Room(seed), d).reshape(h, 2, w, 2, 3).mean(axis=(1, 3))
    return np.round(rgb * 255.0).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    """Write the panorama as a PNG: ``python -m datasets.synthetic_panorama --out PATH``."""
    from PIL import Image

    parser = argparse.ArgumentParser(description="Render the synthetic room panorama (an ERP PNG, width = 2 x height).")
    parser.add_argument("--out", type=Path, required=True, help="PNG file to write")
    parser.add_argument("--height", type=int, default=512, help="rows (default 512: a 1024 x 512 panorama)")
    parser.add_argument("--seed", type=int, default=0, help="texture seed (default 0)")
    args = parser.parse_args(argv)
    pixels = render_room_panorama(args.height, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(args.out, optimize=True)
    print(f"wrote {args.out}: {pixels.shape[1]}x{pixels.shape[0]}, {args.out.stat().st_size / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
