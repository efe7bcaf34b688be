"""The built wheel ships the whole model zoo: ``index.json`` and every weights file it names, byte for byte, and codes
every modality from its own files.

The wheel is built offline from a copy of the package (so the working tree gets no ``build/`` folder) with the
virtual environment's setuptools (``pip wheel --no-build-isolation --no-index``); the module takes about 10 s.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest

from omnicodec import zoo
from tests.conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not installed: the wheel cannot be built offline")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "omnicodec", src / "omnicodec", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                        "-q", "-w", str(tmp / "dist"), str(src)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    (path,) = (tmp / "dist").glob("omnicodec-*.whl")
    with zipfile.ZipFile(path) as z:
        yield z


def test_the_wheel_holds_every_indexed_model(wheel):
    names = set(wheel.namelist())
    index = json.loads(wheel.read("omnicodec/zoo/index.json"))
    assert index == json.loads(zoo.index_path().read_text())
    assert {e["kind"] for e in index.values()} >= {"occupancy", "lossy_pointcloud"}
    for name, entry in index.items():
        member = f"omnicodec/zoo/weights/{entry['file']}"
        assert member in names, f"model {name!r}: {member} is not in the wheel"
        assert hashlib.sha256(wheel.read(member)).hexdigest() == entry["sha256"], f"model {name!r}: sha256 differs"
    assert "omnicodec/zoo/__init__.py" in names
    assert not [n for n in names if n.startswith("omnicodec/pointcloud/zoo/")]  # the old zoo is gone


def test_the_installed_wheel_codes_with_every_model_kind(wheel, tmp_path):
    """The wheel's own files (unpacked first on ``sys.path``, away from the checkout) compress a point cloud
    losslessly and at a lossy rate point, an image at rate 3 and a tiny light field: the failure of a wheel without
    ``*.pt`` files or without an image or light-field model."""
    site = tmp_path / "site"
    wheel.extractall(site)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(site)!r})
        import numpy as np
        import omnicodec
        from omnicodec import zoo
        assert zoo.PACKAGE_DIR.is_relative_to({str(site)!r}), zoo.PACKAGE_DIR
        x, y = np.meshgrid(np.arange(64), np.arange(64))
        z = np.rint(10 * np.sin(x / 9.0) + 8 * np.cos(y / 11.0) + 30)
        cloud = omnicodec.PointCloud(np.stack([x.ravel(), y.ravel(), z.ravel()], 1).astype(np.float32))
        assert len(omnicodec.decompress(omnicodec.compress(cloud))) == len(cloud)
        assert len(omnicodec.decompress(omnicodec.compress(cloud, rate=2))) > 0
        yy, xx = np.mgrid[0:48, 0:80]
        rgb = np.stack([xx * 3, yy * 5, (xx + yy) * 2], -1).astype(np.uint8)
        image = omnicodec.decompress(omnicodec.compress(omnicodec.ErpImage(rgb), rate=3))
        assert image.pixels.shape == rgb.shape and np.abs(image.pixels.astype(int) - rgb).mean() < 8
        views = np.stack([[np.roll(rgb, (r, c), (0, 1)) for c in range(2)] for r in range(2)])
        field = omnicodec.decompress(omnicodec.compress(omnicodec.LightField(views), rate=3))
        assert field.views.shape == views.shape and np.abs(field.views.astype(int) - views).mean() < 8
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if k != zoo.ENV_VAR}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                       env={**env, "OMP_NUM_THREADS": "1"})
    assert r.stdout.strip() == "ok", r.stderr
