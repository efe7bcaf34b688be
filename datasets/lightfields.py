"""Light-field training data: scenes of textured layers rendered per view, and the real training light fields.

Convention (that of :mod:`omnicodec.lightfield`): views ``(U, V, H, W, 3)`` uint8, U view rows (top to bottom), V
view columns (left to right); a scene point at disparity ``d`` (pixels per view step) seen at pixel ``(y, x)`` of
view ``(u, v)`` is at ``(y + d (u' - u), x + d (v' - v))`` in view ``(u', v')``.

Rendered scenes (:func:`render_layered_lightfield`) are fronto-parallel layers, each at one disparity: a background
plane filling the frame and foreground shapes (ellipses, rounded rectangles, star-shaped polygons; 1-pixel
anti-aliased edges) cut from random crops of textures, each with a slight brightness gradient. **Larger disparity
is nearer**, the sign of the HCI benchmark's disparity maps (depth = 1 / (k d + 1 / focus distance), k > 0): the
background takes the smallest disparity drawn, and each view is composited back to front, layers in ascending
disparity, so a nearer layer covers a farther one in every view. A layer lives on a canvas in the centre view's
pixel coordinates, wider than the view by a margin (:func:`layer_margin`) so that every shift stays inside it; view
``(u, v)`` samples it at ``(y - d (u - uc), x - d (v - vc))`` (``uc, vc`` the grid's centre) with bilinear
interpolation of the premultiplied colour, exact for integer shifts; mild Gaussian noise (sigma 1) is added per view.

Real light fields (:func:`real_training_lightfields`): ``lytro_2067`` (all 9 x 9 views) and ``hci_cotton``,
``hci_dino`` (33 of the 9 x 9 views: centre row, centre column and both diagonals), with a mask of the views
present. ``lightfield/antinous`` is evaluation-only: :func:`datasets.paths.check_training_path` refuses it before
anything is opened.

CLI: ``python -m datasets.lightfields --out datasets/build/lightfields_train.h5 [--count 40] [--seed 0]`` writes the
training set (:func:`build`); ``--sample DIR`` writes the small project-rendered sample (:func:`write_sample`).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from PIL import Image

from .paths import REPO, check_training_path, is_evaluation_only, shared_data_root

__all__ = ["Layer", "layer_margin", "random_layers", "render_layers", "render_layered_lightfield",
           "procedural_textures", "project_textures", "TRAINING_LIGHTFIELDS", "load_view_grid",
           "real_training_lightfields", "build", "read_set", "SAMPLE_GRID", "SAMPLE_SIZE", "sample_lightfield",
           "write_sample", "main"]

TRAINING_LIGHTFIELDS = ("lytro_2067", "hci_cotton", "hci_dino")  # folders of <shared data>/lightfield
SAMPLE_GRID, SAMPLE_SIZE = (5, 5), 192
_GRIDS = ((5, 5), (7, 7), (9, 9), (5, 9), (9, 5), (3, 7), (7, 3), (5, 7))
_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg")
_HCI = re.compile(r"^.*Cam(\d+)\.png$", re.IGNORECASE)
_ROWCOL = re.compile(r"^.*?_(\d+)_(\d+)\.png$", re.IGNORECASE)
_Named = tuple[str, np.ndarray, np.ndarray]  # (name, views, present)


@dataclass
class Layer:
    """A fronto-parallel layer at ``disparity`` (pixels per view step, larger is nearer): ``rgb`` (H + 2 M, W + 2 M, 3)
    float colour in [0, 255] and ``alpha`` (H + 2 M, W + 2 M) coverage in [0, 1] on a canvas whose pixel
    (y + M, x + M) is the centre view's pixel (y, x) (M: :func:`layer_margin`)."""

    disparity: float
    rgb: np.ndarray
    alpha: np.ndarray


def layer_margin(grid: tuple[int, int], max_abs_disparity: float) -> int:
    """Canvas margin M (pixels per side) that keeps every view's bilinear samples inside a layer's canvas."""
    reach = max(grid[0] - 1, grid[1] - 1) / 2 * abs(max_abs_disparity)
    return int(math.ceil(reach)) + 2


def _value_noise(rng: np.random.Generator, h: int, w: int, cells: float, octaves: int = 4) -> np.ndarray:
    """(h, w) fractal value noise in [0, 1]: ``octaves`` smoothly interpolated random lattices, ``cells`` per side."""
    out, total, amp, side = np.zeros((h, w)), 0.0, 1.0, max(h, w)
    for o in range(octaves):
        c = cells * 2**o
        lattice = rng.random((int(c * h / side) + 2, int(c * w / side) + 2))
        ys, xs = np.arange(h) * c / side, np.arange(w) * c / side
        iy, ix = ys.astype(np.int64), xs.astype(np.int64)
        fy, fx = ys - iy, xs - ix
        fy, fx = (fy * fy * (3 - 2 * fy))[:, None], (fx * fx * (3 - 2 * fx))[None, :]
        top = lattice[iy][:, ix] * (1 - fx) + lattice[iy][:, ix + 1] * fx
        bottom = lattice[iy + 1][:, ix] * (1 - fx) + lattice[iy + 1][:, ix + 1] * fx
        out += amp * (top * (1 - fy) + bottom * fy)
        total += amp
        amp *= 0.5
    return out / total


def procedural_textures(n: int, seed: int = 0, size: int = 512) -> list[np.ndarray]:
    """``n`` (size, size, 3) uint8 textures, no third-party content: coloured value noise, warped stripes, rotated
    checkers and linear or radial colour gradients in turn, each with fine grain. Deterministic for ``seed``."""
    rng, out = np.random.default_rng(seed), []
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    for kind in (i % 4 for i in range(n)):
        c0, c1, c2 = rng.uniform(0, 1, (3, 3))
        if kind == 0:
            t = np.stack([_value_noise(rng, size, size, rng.uniform(3, 10)) for _ in range(2)], -1)
            img = c0 + (t[..., :1] - 0.5) * 2 * (c1 - c0) + (t[..., 1:] - 0.5) * (c2 - 0.5)
        else:
            a = rng.uniform(0, np.pi)
            along, across = xx * np.cos(a) + yy * np.sin(a), -xx * np.sin(a) + yy * np.cos(a)
            if kind == 1:
                warp = 0.15 * _value_noise(rng, size, size, 3, 2)
                t = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(4, 20) * (along + warp))
                t = np.clip((t - 0.5) * rng.uniform(1, 6) + 0.5, 0, 1)
            elif kind == 2:
                t = ((np.floor(along * (f := rng.uniform(4, 16))) + np.floor(across * f)) % 2).astype(np.float64)
            else:
                cy, cx = rng.uniform(0.2, 0.8, 2)
                t = np.hypot(yy - cy, xx - cx) / 0.7 if rng.random() < 0.5 else along
                t = np.mod(t * rng.uniform(0.7, 2.5), 1.0)
                t = np.minimum(t, 1 - t) * 2
            img = c0 + t[..., None] * (c1 - c0)
        grain = _value_noise(rng, size, size, size / 4, 2)[..., None] - 0.5
        img = img + rng.uniform(0.03, 0.12) * grain
        out.append(np.round(np.clip(img, 0, 1) * 255).astype(np.uint8))
    return out


def _load_rgb(path: Path, factor: int = 1) -> np.ndarray:
    with Image.open(check_training_path(path)) as im:
        img = im.convert("RGB")
    while img.width // factor > 2048:
        factor *= 2
    if factor > 1:
        img = img.resize((img.width // factor, img.height // factor), Image.Resampling.BOX)
    return np.asarray(img)


def project_textures(root: str | Path | None = None) -> list[np.ndarray]:
    """(h, w, 3) uint8 textures from the shared data folder: the photos of ``images/train`` and the panoramas of
    ``erp`` (downscaled 2x; any image wider than 2048 is halved until it is not), skipping the files the guard refuses
    and the image sets' validation files (:data:`datasets.images.VAL_FILES`). Empty when the folder is absent."""
    from .images import VAL_FILES

    base, out = shared_data_root(root), []
    for rel, factor in (("images/train", 1), ("erp", 2)):
        folder = base / rel
        for f in sorted(folder.iterdir()) if folder.is_dir() else []:
            if f.suffix.lower() in _SUFFIXES and f"{rel}/{f.name}" not in VAL_FILES and not is_evaluation_only(f):
                out.append(_load_rgb(f, factor))
    return out


def _crop(tex: np.ndarray, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A random (h, w, 3) float crop of ``tex`` (randomly flipped or transposed; upscaled when too small)."""
    if rng.random() < 0.5:
        tex = tex.transpose(1, 0, 2)
    tex = tex[:: rng.choice([-1, 1]), :: rng.choice([-1, 1])]
    scale = max(h / tex.shape[0], w / tex.shape[1])
    if scale > 1:
        size = (int(math.ceil(tex.shape[1] * scale)) + 1, int(math.ceil(tex.shape[0] * scale)) + 1)
        tex = np.asarray(Image.fromarray(np.ascontiguousarray(tex)).resize(size, Image.Resampling.BILINEAR))
    y0, x0 = rng.integers(0, tex.shape[0] - h + 1), rng.integers(0, tex.shape[1] - w + 1)
    return tex[y0 : y0 + h, x0 : x0 + w].astype(np.float32)


def _shape_alpha(rng: np.random.Generator, hc: int, wc: int, m: int, h: int, w: int) -> np.ndarray:
    """(hc, wc) coverage of a random shape inside the view: 0.5 - signed distance (pixels), clipped to [0, 1]."""
    cy, cx = m + rng.uniform(0.15, 0.85) * h, m + rng.uniform(0.15, 0.85) * w
    r, a = rng.uniform(0.12, 0.4) * min(h, w), rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:hc, 0:wc].astype(np.float64) + 0.5
    py = (yy - cy) * np.cos(a) - (xx - cx) * np.sin(a)
    px = (yy - cy) * np.sin(a) + (xx - cx) * np.cos(a)
    kind = rng.integers(3)
    if kind == 0:  # ellipse: first-order signed distance f / |grad f|
        ry, rx = r, r * rng.uniform(0.4, 1.0)
        f = np.hypot(py / ry, px / rx)
        grad = np.hypot(py / ry**2, px / rx**2) / np.maximum(f, 1e-9)
        sd = (f - 1) / np.maximum(grad, 1e-9)
    elif kind == 1:  # rounded rectangle: exact signed distance
        hy, hx = r, r * rng.uniform(0.4, 1.0)
        rad = rng.uniform(0.05, 0.6) * min(hy, hx)
        qy, qx = np.abs(py) - (hy - rad), np.abs(px) - (hx - rad)
        sd = np.hypot(np.maximum(qy, 0), np.maximum(qx, 0)) + np.minimum(np.maximum(qy, qx), 0) - rad
    else:  # star-shaped polygon: distance to the nearest edge, sign by the even-odd rule
        k = int(rng.integers(3, 9))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        vy, vx = r * rng.uniform(0.45, 1.0, k) * np.sin(ang), r * rng.uniform(0.45, 1.0, k) * np.cos(ang)
        dist, inside = np.full(py.shape, np.inf), np.zeros(py.shape, dtype=bool)
        for i in range(k):
            ay, ax, by, bx = vy[i], vx[i], vy[(i + 1) % k], vx[(i + 1) % k]
            ey, ex = by - ay, bx - ax
            t = np.clip(((py - ay) * ey + (px - ax) * ex) / max(ey * ey + ex * ex, 1e-12), 0, 1)
            dist = np.minimum(dist, np.hypot(py - ay - t * ey, px - ax - t * ex))
            if ey != 0:
                inside ^= ((ay > py) != (by > py)) & (px < ax + (py - ay) * ex / ey)
        sd = np.where(inside, -dist, dist)
    return np.clip(0.5 - sd, 0, 1).astype(np.float32)


def random_layers(textures: list[np.ndarray], *, grid: tuple[int, int] = (9, 9), size: tuple[int, int] = (256, 256),
                  layers: int = 3, disparity_range: tuple[float, float] = (-2.0, 2.0),
                  rng: np.random.Generator) -> list[Layer]:
    """A random scene: ``layers + 1`` disparities drawn uniformly from ``disparity_range`` and sorted; the smallest
    (farthest) goes to the background plane (alpha 1 everywhere), the others to random shapes. Textures are drawn
    without repetition while there are enough. Returns the layers in ascending disparity (back to front)."""
    if not textures:
        raise ValueError("no textures")
    (h, w), (lo, hi) = size, sorted(float(d) for d in disparity_range)
    m = layer_margin(grid, max(abs(lo), abs(hi)))
    hc, wc = h + 2 * m, w + 2 * m
    disparities, order = np.sort(rng.uniform(lo, hi, layers + 1)), rng.permutation(len(textures))
    yy, xx = np.mgrid[0:hc, 0:wc].astype(np.float32) / max(hc, wc)
    out = []
    for i, d in enumerate(disparities):
        rgb = _crop(textures[order[i % len(order)]], hc, wc, rng)
        ramp = yy * np.sin(a := rng.uniform(0, 2 * np.pi)) + xx * np.cos(a) - 0.5
        gain = rng.uniform(0.85, 1.1) * (1 + rng.uniform(-0.25, 0.25) * ramp)
        rgb = np.clip(rgb * gain[..., None], 0, 255)
        alpha = np.ones((hc, wc), np.float32) if i == 0 else _shape_alpha(rng, hc, wc, m, h, w)
        out.append(Layer(float(d), rgb, alpha))
    return out


def _shift(canvas: np.ndarray, a_y: float, a_x: float, h: int, w: int) -> np.ndarray:
    """``canvas`` sampled bilinearly at rows ``a_y + [0, h)`` and columns ``a_x + [0, w)``."""
    iy, ix = math.floor(a_y), math.floor(a_x)
    fy, fx = a_y - iy, a_x - ix
    block = canvas[iy : iy + h + 1, ix : ix + w + 1]
    rows = block[:h] * (1 - fy) + block[1 : h + 1] * fy if fy else block[:h]
    return rows[:, :w] * (1 - fx) + rows[:, 1 : w + 1] * fx if fx else rows[:, :w]


def render_layers(layers: list[Layer], grid: tuple[int, int], size: tuple[int, int], *, noise: float = 0.0,
                  rng: np.random.Generator | None = None) -> np.ndarray:
    """Render layers into (U, V, H, W, 3) uint8 views, composited back to front in ascending disparity (the list's
    order does not matter), plus Gaussian noise of sigma ``noise`` per view (drawn from ``rng``). Raises ValueError
    for a canvas whose margin is too small for the grid and the layer's disparity."""
    (nu, nv), (h, w), prepared = grid, size, []
    uc, vc = (nu - 1) / 2, (nv - 1) / 2
    for layer in sorted(layers, key=lambda lay: lay.disparity):
        m = (layer.alpha.shape[0] - h) // 2
        if layer.alpha.shape != (h + 2 * m, w + 2 * m) or m < layer_margin(grid, layer.disparity) - 1:
            raise ValueError(f"canvas {layer.alpha.shape} too small for {grid} x {size} at d = {layer.disparity}")
        alpha = layer.alpha.astype(np.float32)[..., None]
        prepared.append((layer.disparity, m, np.concatenate([layer.rgb.astype(np.float32) * alpha, alpha], -1)))
    rng = rng if rng is not None else np.random.default_rng(0)
    views = np.empty((nu, nv, h, w, 3), dtype=np.uint8)
    for u in range(nu):
        for v in range(nv):
            acc = np.zeros((h, w, 3), np.float32)
            for d, m, premult in prepared:
                s = _shift(premult, m - d * (u - uc), m - d * (v - vc), h, w)
                acc = acc * (1 - s[..., 3:]) + s[..., :3]
            if noise > 0:
                acc = acc + rng.normal(0.0, noise, acc.shape).astype(np.float32)
            views[u, v] = np.clip(np.round(acc), 0, 255).astype(np.uint8)
    return views


def render_layered_lightfield(textures: list[np.ndarray], *, grid: tuple[int, int] = (9, 9),
                              size: tuple[int, int] = (256, 256), layers: int = 3,
                              disparity_range: tuple[float, float] = (-2.0, 2.0), seed: int = 0,
                              noise: float = 1.0) -> np.ndarray:
    """(U, V, H, W, 3) uint8 views of a random layered scene (see the module docstring): ``layers`` foreground
    layers before a background plane, disparities (pixels per view step, larger is nearer) drawn from
    ``disparity_range``, layers cut from crops of ``textures`` ((h, w, 3) uint8), Gaussian noise of sigma ``noise``
    per view. Everything random follows ``seed``: the same arguments give the same array."""
    rng = np.random.default_rng(seed)
    scene = random_layers(textures, grid=grid, size=size, layers=layers, disparity_range=disparity_range, rng=rng)
    return render_layers(scene, grid, size, noise=noise, rng=rng)


def load_view_grid(folder: str | Path, grid: tuple[int, int] = (9, 9)) -> tuple[np.ndarray, np.ndarray]:
    """``(views (U, V, H, W, 3) uint8, present (U, V) bool)`` of a folder of ``input_CamNNN.png`` (NNN = V row + col)
    or ``<prefix>_RR_CC.png`` (1-based) views; missing views are zero. Raises
    :class:`~datasets.paths.EvaluationDataError` for evaluation-only data before anything is opened, and
    FileNotFoundError when the folder holds no views."""
    folder = check_training_path(folder)
    nu, nv = grid
    files: dict[tuple[int, int], Path] = {}
    for f in sorted(folder.iterdir()):
        if m := _HCI.match(f.name):
            files[divmod(int(m[1]), nv)] = f
        elif m := _ROWCOL.match(f.name):
            files[(int(m[1]) - 1, int(m[2]) - 1)] = f
    files = {k: f for k, f in files.items() if 0 <= k[0] < nu and 0 <= k[1] < nv}
    if not files:
        raise FileNotFoundError(f"{folder}: no light-field views")
    views: np.ndarray | None = None
    present = np.zeros(grid, dtype=bool)
    for (u, v), f in sorted(files.items()):
        img = _load_rgb(f)
        if views is None:
            views = np.zeros((nu, nv) + img.shape, dtype=np.uint8)
        views[u, v] = img
        present[u, v] = True
    return views, present


def real_training_lightfields(root: str | Path | None = None,
                              names: tuple[str, ...] = TRAINING_LIGHTFIELDS) -> list[_Named]:
    """``[(name, views (U, V, H, W, 3) uint8, present (U, V) bool), ...]`` of the named folders of
    ``<root>/lightfield`` that exist (9 x 9 grids). Every path passes the guard first: asking for ``antinous``
    raises :class:`datasets.paths.EvaluationDataError`."""
    base = shared_data_root(root) / "lightfield"
    out = []
    for name in names:
        folder = check_training_path(base / name)
        if folder.is_dir():
            out.append((name, *load_view_grid(folder)))
    return out


def build(out: str | Path, root: str | Path | None = None, *, count: int = 40, seed: int = 0,
          size_range: tuple[int, int] = (128, 256), real: bool = True, command: str | None = None) -> list[str]:
    """Write the training set: the real training light fields (``real``) and ``count`` rendered scenes.

    Each scene draws a grid from 5x5, 7x7, 9x9, 5x9, 9x5, 3x7, 7x3, 5x7, a view size in ``size_range`` (multiples
    of 8), 2 to 5 layers and a disparity range inside +-3 pixels. Textures: :func:`project_textures`, else (no
    shared data) 16 :func:`procedural_textures`. Layout: a group per light field (``000``, ``001``, ...) holding
    ``views`` (U, V, H, W, 3) uint8 (gzip, a chunk per view) and ``present`` (U, V) bool, attributes ``name`` and
    ``source``; file attributes ``command``, ``seed``, ``count``, ``textures`` and ``sample_list_sha256``, the sha256
    of the lines ``key name source shape sha256(views)``. Written beside ``out``, then renamed. Returns the names.
    """
    out, rng, lines, names = Path(out), np.random.default_rng(seed), [], []
    textures = project_textures(root)
    texture_source = "project_textures" if textures else "procedural_textures"
    textures = textures or procedural_textures(16, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with h5py.File(tmp, "w") as f:

        def put(name: str, source: str, views: np.ndarray, present: np.ndarray) -> None:
            key = f"{len(names):03d}"
            g = f.create_group(key)
            g.create_dataset("views", data=views, chunks=(1, 1) + views.shape[2:], compression="gzip",
                             compression_opts=4)
            g.create_dataset("present", data=present)
            g.attrs.update(name=name, source=source)
            digest = hashlib.sha256(np.ascontiguousarray(views).tobytes()).hexdigest()
            lines.append(f"{key} {name} {source} {'x'.join(str(n) for n in views.shape)} {digest}")
            names.append(name)

        for name, views, present in real_training_lightfields(root) if real else []:
            put(name, f"lightfield/{name}", views, present)
        lo, hi = (int(n) // 8 for n in size_range)
        for i in range(count):
            grid = _GRIDS[rng.integers(len(_GRIDS))]
            size = tuple(int(n) * 8 for n in rng.integers(lo, hi + 1, 2))
            layers = int(rng.integers(2, 6))
            c, half = rng.uniform(-1.5, 1.5), rng.uniform(0.5, 1.5)
            dr = (round(max(c - half, -3.0), 3), round(min(c + half, 3.0), 3))
            s = int(rng.integers(2**31))
            views = render_layered_lightfield(textures, grid=grid, size=size, layers=layers, disparity_range=dr, seed=s)
            put(f"layers_{i:03d}", f"render_layered_lightfield(grid={grid}, size={size}, layers={layers}, "
                f"disparity_range={dr}, seed={s})", views, np.ones(grid, dtype=bool))
        f.attrs.update(command=command or f"python -m datasets.lightfields --out {out} --count {count} --seed {seed}",
                       seed=seed, count=count, textures=texture_source,
                       sample_list_sha256=hashlib.sha256("\n".join(lines).encode()).hexdigest())
    tmp.replace(out)
    return names


def read_set(path: str | Path) -> list[_Named]:
    """All light fields of a set written by :func:`build`: ``[(name, views, present), ...]`` in order."""
    out = []
    with h5py.File(check_training_path(path), "r") as f:
        for key in sorted(f):
            g = f[key]
            out.append((str(g.attrs["name"]), g["views"][()], g["present"][()]))
    return out


def sample_lightfield(size: int = SAMPLE_SIZE, seed: int = 0) -> np.ndarray:
    """The project-rendered sample: a 5 x 5 layered scene of ``size`` x ``size`` views from procedural textures only."""
    return render_layered_lightfield(procedural_textures(8, seed, size=384), grid=SAMPLE_GRID, size=(size, size),
                                     layers=3, disparity_range=(-1.5, 1.5), seed=seed)


def write_sample(folder: str | Path, *, size: int = SAMPLE_SIZE, seed: int = 0) -> np.ndarray:
    """Write :func:`sample_lightfield` as PNGs (level 9) ``sample_RR_CC.png`` (RR, CC from 01), replacing the folder."""
    from omnicodec.io.lightfield import write_lightfield_folder
    from omnicodec.types import LightField

    views = sample_lightfield(size, seed)
    write_lightfield_folder(folder, LightField(views), naming="rowcol", prefix="sample", overwrite=True,
                            compress_level=9)
    return views


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Light-field training set: real light fields and rendered layer scenes.")
    ap.add_argument("--out", type=Path, default=REPO / "datasets" / "build" / "lightfields_train.h5")
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--count", type=int, default=40, help="rendered light fields (default 40)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sample", type=Path, default=None, help="write only the small rendered sample into this folder")
    ap.add_argument("--sample-size", type=int, default=SAMPLE_SIZE, help=f"sample view size (default {SAMPLE_SIZE})")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.sample is not None:
        views = write_sample(args.sample, size=args.sample_size, seed=args.seed)
        u, v, h, w, _ = views.shape
        nbytes = sum(f.stat().st_size for f in args.sample.iterdir())
        print(f"wrote {args.sample}: {u}x{v} views of {w}x{h}, {nbytes} bytes")
        return 0
    command = " ".join(["python -m datasets.lightfields", *(argv if argv is not None else sys.argv[1:])])
    try:
        names = build(args.out, args.data, count=args.count, seed=args.seed, command=command)
    except (FileNotFoundError, PermissionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"lightfields: {len(names)} light fields in {args.out} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
