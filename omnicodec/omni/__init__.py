"""360-degree geometry: ERP pixels <-> longitude/latitude <-> sphere directions, cubemaps, viewports, rotations.

Small pure numpy functions; angles are in degrees. The conventions (pixel centres, longitude and latitude, axes,
yaw/pitch/roll) are in :mod:`.projection`, the cube faces and layouts in :mod:`.cubemap`, the interpolation
methods in :mod:`.sampling`.

* :func:`erp_to_viewport` (``e2p``): a rectilinear view; :func:`viewport_grid` + :func:`sample_erp` compute the
  sampling grid once and apply it to several images.
* :func:`erp_to_cubemap` (``e2c``), :func:`cubemap_to_erp` (``c2e``), :func:`cubemap_layout`.
* :func:`rotate_erp`: rotate a panorama on the sphere (a yaw of whole pixel steps is an exact column roll).

Nothing here imports a codec.
"""

from __future__ import annotations

from .cubemap import FACE_ANGLES, FACES, cubemap_layout, cubemap_to_erp, erp_to_cubemap, face_basis
from .projection import (
    lonlat_to_pixel,
    lonlat_to_xyz,
    pixel_to_lonlat,
    pixel_to_xyz,
    rotation_matrix,
    xyz_to_lonlat,
    xyz_to_pixel,
)
from .rotate import rotate_erp
from .sampling import INTERPOLATIONS, sample_erp
from .viewport import default_viewport_size, erp_to_viewport, viewport_directions, viewport_grid

e2p = erp_to_viewport
e2c = erp_to_cubemap
c2e = cubemap_to_erp

__all__ = [
    "pixel_to_lonlat",
    "lonlat_to_pixel",
    "lonlat_to_xyz",
    "xyz_to_lonlat",
    "pixel_to_xyz",
    "xyz_to_pixel",
    "rotation_matrix",
    "INTERPOLATIONS",
    "sample_erp",
    "viewport_directions",
    "viewport_grid",
    "default_viewport_size",
    "erp_to_viewport",
    "FACES",
    "FACE_ANGLES",
    "face_basis",
    "erp_to_cubemap",
    "cubemap_to_erp",
    "cubemap_layout",
    "rotate_erp",
    "e2p",
    "e2c",
    "c2e",
]
