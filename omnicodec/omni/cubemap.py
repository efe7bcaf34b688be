"""ERP <-> cubemap, and cubemap layouts for viewing.

The six faces, in this order (index, name, outward axis, view angles, which way is up and right on the face):

=====  ====  ====  ======================  ====================  ====================
index  name  axis  yaw, pitch (degrees)    up (top edge)         right (right edge)
=====  ====  ====  ======================  ====================  ====================
0      px    +x    0, 0 (image centre)     +z (north)            +y (east)
1      nx    -x    180, 0 (the seam)       +z                    -y
2      py    +y    90, 0                   +z                    -x
3      ny    -y    -90, 0                  +z                    +x
4      pz    +z    0, 90 (north pole)      -x (towards nx)       +y
5      nz    -z    0, -90 (south pole)     +x (towards px)       +y
=====  ====  ====  ======================  ====================  ====================

Each face is exactly the 90 degree, F x F viewport (:mod:`.viewport`, roll 0) at its view angles, seen from the
centre of the sphere: the side faces are upright with east to the right; the top face's bottom edge meets the top
edge of px, the bottom face's top edge meets the bottom edge of px. Face pixel (column i, row j) looks along
``forward + a right + b up`` with a = 2 (i + 0.5) / F - 1, b = 1 - 2 (j + 0.5) / F.

Layouts (:func:`cubemap_layout`): ``"cross"``, a horizontal cross 4F wide and 3F high, the middle row
``ny px py nx`` (longitudes -90, 0, 90, 180: continuous, as in the ERP) with ``pz`` above and ``nz`` below ``px``;
``"3x2"``, 3F wide and 2F high, rows ``px nx py`` and ``ny pz nz`` (the face order).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .projection import check_erp_size, rotation_matrix, xyz_to_pixel_fast
from .sampling import BLOCK, as_hwc, check_interpolation, sample_erp, sample_planes
from .viewport import viewport_directions

__all__ = ["FACES", "FACE_ANGLES", "face_basis", "erp_to_cubemap", "cubemap_to_erp", "cubemap_layout"]

#: Face names in the order of the face axis.
FACES = ("px", "nx", "py", "ny", "pz", "nz")
#: (yaw, pitch) in degrees of each face's centre, in the order of :data:`FACES`.
FACE_ANGLES = ((0.0, 0.0), (180.0, 0.0), (90.0, 0.0), (-90.0, 0.0), (0.0, 90.0), (0.0, -90.0))
_PAD = 2  # border added around each face before sampling (bicubic reaches 2 pixels out)
_LAYOUTS = {
    "cross": ((3, 4), {"pz": (0, 1), "ny": (1, 0), "px": (1, 1), "py": (1, 2), "nx": (1, 3), "nz": (2, 1)}),
    "3x2": ((2, 3), {"px": (0, 0), "nx": (0, 1), "py": (0, 2), "ny": (1, 0), "pz": (1, 1), "nz": (1, 2)}),
}


def face_basis(face: int | str) -> np.ndarray:
    """(3, 3) float64 matrix whose columns are a face's forward (outward axis), right and up unit vectors (exact)."""
    k = FACES.index(face) if face in FACES else face
    if not isinstance(k, (int, np.integer)) or not 0 <= k < 6:
        raise InputError(f"face must be 0..5 or one of {', '.join(FACES)}, got {face!r}")
    return rotation_matrix(*FACE_ANGLES[k])


_BASES = np.stack([face_basis(k) for k in range(6)])  # (6, 3, 3), columns forward, right, up


def erp_to_cubemap(pixels: np.ndarray, face_size: int, interpolation: str = "bilinear") -> np.ndarray:
    """Resample an ERP image onto the six faces of a cube.

    Args:
        pixels: (H, W, C) or (H, W) ERP image, any real or integer dtype.
        face_size: F, the side of each face in pixels (W / 4 keeps about the ERP's resolution at the equator).
        interpolation: ``"bilinear"``, ``"bicubic"`` or ``"nearest"``.

    Returns:
        (6, F, F, C) (or (6, F, F)) faces in the order of :data:`FACES`, oriented as in the module docstring, with
        the dtype of ``pixels`` (integers rounded and clipped).
    """
    check_interpolation(interpolation)
    f = int(face_size)
    if f < 1 or f != face_size:
        raise InputError(f"face_size must be a positive integer, got {face_size!r}")
    p, _ = as_hwc(pixels)
    h, w = p.shape[:2]
    out = []
    for yaw, pitch in FACE_ANGLES:
        x, y = xyz_to_pixel_fast(viewport_directions(yaw, pitch, 0.0, 90.0, (f, f)), h, w)
        out.append(sample_erp(pixels, np.stack([x, y], axis=-1), interpolation))
    return np.stack(out)


def _to_faces(d: np.ndarray, f: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, 3) directions -> face index (n,) and continuous face coordinates x, y in [0, F] (n,)."""
    axis = np.argmax(np.abs(d), axis=1)
    comp = np.take_along_axis(d, axis[:, None], axis=1)[:, 0]
    face = 2 * axis + (comp < 0)
    basis = _BASES[face]  # (n, 3, 3)
    fru = np.einsum("nk,nkc->nc", d, basis)  # components along forward, right, up
    a = fru[:, 1] / fru[:, 0]
    b = fru[:, 2] / fru[:, 0]
    return face, (a + 1.0) * (f / 2.0), (1.0 - b) * (f / 2.0)


def _padded_faces(faces: np.ndarray) -> np.ndarray:
    """(6, F + 4, F + 4, C): each face with a 2-pixel border taken from its neighbours (bilinear, on the cube)."""
    f = faces.shape[1]
    n = f + 2 * _PAD
    out = np.zeros((6, n, n, faces.shape[3]), dtype=faces.dtype)
    out[:, _PAD:-_PAD, _PAD:-_PAD] = faces
    ring = np.ones((n, n), dtype=bool)
    ring[_PAD:-_PAD, _PAD:-_PAD] = False
    rows, cols = np.nonzero(ring)
    a = (cols - _PAD + 0.5) * (2.0 / f) - 1.0
    b = 1.0 - (rows - _PAD + 0.5) * (2.0 / f)
    for k in range(6):
        fwd, right, up = _BASES[k].T
        d = fwd + a[:, None] * right + b[:, None] * up
        face, x, y = _to_faces(d, f)
        out[k, rows, cols] = sample_planes(faces, face, x, y, "bilinear", wrap_x=False)
    return out


def cubemap_to_erp(faces: np.ndarray, height: int, width: int, interpolation: str = "bilinear") -> np.ndarray:
    """Resample six cube faces onto an ERP image.

    Each face gets a 2-pixel border taken from its neighbours first, so interpolation is continuous across the
    cube's edges.

    Args:
        faces: (6, F, F, C) or (6, F, F) faces as :func:`erp_to_cubemap` makes them.
        height: H of the ERP image.
        width: W of the ERP image.
        interpolation: ``"bilinear"``, ``"bicubic"`` or ``"nearest"``.

    Returns:
        (H, W, C) (or (H, W)) ERP image with the dtype of ``faces`` (integers rounded and clipped).
    """
    check_interpolation(interpolation)
    fc = np.asarray(faces)
    squeeze = fc.ndim == 3
    if squeeze:
        fc = fc[..., None]
    if fc.ndim != 4 or fc.shape[0] != 6 or fc.shape[1] != fc.shape[2] or fc.size == 0:
        raise InputError(f"faces must have shape (6, F, F, C) or (6, F, F), got {np.shape(faces)}")
    as_hwc(fc[0])  # dtype check
    h, w = check_erp_size(height, width)
    f = fc.shape[1]
    padded = _padded_faces(fc)
    out = np.empty((h, w, fc.shape[3]), dtype=fc.dtype)
    lon = (np.arange(w) + 0.5) * (2.0 * np.pi / w) - np.pi
    step = max(1, BLOCK // w)
    for r0 in range(0, h, step):
        rows = np.arange(r0, min(h, r0 + step))
        lat = np.pi / 2.0 - (rows + 0.5) * (np.pi / h)
        c = np.cos(lat)[:, None]
        d = np.stack(np.broadcast_arrays(c * np.cos(lon), c * np.sin(lon), np.sin(lat)[:, None]), axis=-1)
        face, x, y = _to_faces(d.reshape(-1, 3), f)
        block = sample_planes(padded, face, x + _PAD, y + _PAD, interpolation, wrap_x=False)
        out[rows] = block.reshape(len(rows), w, -1)
    return out[..., 0] if squeeze else out


def cubemap_layout(faces: np.ndarray, layout: str = "cross", fill: float = 0) -> np.ndarray:
    """Arrange six faces in one image for viewing.

    Args:
        faces: (6, F, F, C) or (6, F, F) faces in the order of :data:`FACES`.
        layout: ``"cross"`` (4F wide, 3F high) or ``"3x2"`` (3F wide, 2F high); see the module docstring.
        fill: value of the cells no face covers (cross layout).

    Returns:
        (rows F, cols F, C) (or without C) image with the dtype of ``faces``.
    """
    fc = np.asarray(faces)
    if fc.ndim not in (3, 4) or fc.shape[0] != 6 or fc.shape[1] != fc.shape[2]:
        raise InputError(f"faces must have shape (6, F, F, C) or (6, F, F), got {fc.shape}")
    if layout not in _LAYOUTS:
        raise InputError(f"layout must be one of {', '.join(_LAYOUTS)}, got {layout!r}")
    (nr, nc), cells = _LAYOUTS[layout]
    f = fc.shape[1]
    out = np.full((nr * f, nc * f, *fc.shape[3:]), fill, dtype=fc.dtype)
    for name, (r, c) in cells.items():
        out[r * f : (r + 1) * f, c * f : (c + 1) * f] = fc[FACES.index(name)]
    return out
