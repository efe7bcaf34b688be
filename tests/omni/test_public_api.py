"""Public-API snapshot of omnicodec.omni, and its independence from the codecs."""

from __future__ import annotations

import subprocess
import sys

from omnicodec import omni
from tests.conftest import REPO

EXPECTED = {
    "pixel_to_lonlat", "lonlat_to_pixel", "lonlat_to_xyz", "xyz_to_lonlat", "pixel_to_xyz", "xyz_to_pixel",
    "rotation_matrix", "INTERPOLATIONS", "sample_erp", "viewport_directions", "viewport_grid",
    "default_viewport_size", "erp_to_viewport", "FACES", "FACE_ANGLES", "face_basis", "erp_to_cubemap",
    "cubemap_to_erp", "cubemap_layout", "rotate_erp", "e2p", "e2c", "c2e",
}


def test_public_names():
    assert set(omni.__all__) == EXPECTED
    for name in omni.__all__:
        assert hasattr(omni, name), name
    assert omni.INTERPOLATIONS == ("nearest", "bilinear", "bicubic")


def test_geometry_and_viewport_metrics_import_no_codec():
    code = (
        "import sys, omnicodec.omni, omnicodec.metrics.viewport; "
        "bad = [m for m in sys.modules if m.startswith(('omnicodec.codecs', 'omnicodec.image', 'torch'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr
