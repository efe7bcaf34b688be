"""Every model file of the zoo, one by one: loaded by its name alone, never by running a pickle, refused (``ModelError``
naming the model) when one byte changed or the file is missing, by the zoo and by the codecs that use it, which never
go on without it.

The codec checks reuse the golden streams (``tests/golden``) and their inputs (``tools/make_golden.py``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import omnicodec
from omnicodec import zoo
from omnicodec.errors import ModelError
from tests.conftest import REPO
from tools import make_golden as mg

GOLDEN = REPO / "tests" / "golden"
MODELS = sorted(zoo.list_models())

USES = {
    # model -> a golden stream that uses it (of the cheapest to encode)
    "attributes": "spin_sweep.omc",
    "attributes_raht": "lossy_dense_r7_attr4.omc",
    "dense": "learned_dense_sphere.omc",
    "image_core": "image_core_r6.omc",
    "image_erp": "erp_image_erp_r3.omc",
    "image_wavelet": "image_wavelet_r6.omc",
    "lidar": "learned_lidar_sweep.omc",
    "lightfield": "lightfield_r2.omc",
    "lightfield_blend": "lightfield_r2.omc",
    "lossy_dense": "lossy_dense_r2.omc",
    "lossy_lidar": "lossy_lidar_r1.omc",
    "spin": "spin_sweep.omc",
}


@pytest.fixture
def zoo_copy(tmp_path, monkeypatch) -> Path:
    """A copy (no links: files are rewritten in it) of the shipped zoo, in use through ``$OMNICODEC_ZOO_DIR``."""
    root = tmp_path / "zoo"
    shutil.copytree(zoo.PACKAGE_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"), symlinks=False)
    monkeypatch.setenv(zoo.ENV_VAR, str(root))
    return root


def _case(name: str) -> mg.Case:
    (case,) = [c for c in mg.CASES if c.file == USES[name]]
    return case


def test_every_model_has_a_golden_stream_using_it():
    assert sorted(USES) == MODELS
    for name, file in USES.items():
        assert name in mg.models_of((GOLDEN / file).read_bytes()), (name, file)


def test_every_model_loads_by_its_name_alone_in_a_fresh_process():
    code = textwrap.dedent("""
        from omnicodec import zoo
        for name, entry in zoo.list_models().items():
            model = zoo.load(name)
            assert getattr(model, "sha256", entry["sha256"]) == entry["sha256"], name
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if k != zoo.ENV_VAR}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300,
                       env={**env, "OMP_NUM_THREADS": "1"})
    assert r.stdout.strip() == "ok", r.stderr


class _Payload:
    """A pickle that creates a folder when a loader runs it."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return os.mkdir, (str(self.target),)


def _pickled_like(path: Path, target: Path) -> bytes:
    """A file of ``path``'s format whose every top-level entry is a pickle running :class:`_Payload`."""
    buf = io.BytesIO()
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            keys = list(z.files)
        np.savez(buf, **{k: np.array([_Payload(target)], dtype=object) for k in keys})
    else:
        keys = list(torch.load(path, map_location="cpu", weights_only=True))
        torch.save({k: _Payload(target) for k in keys}, buf)
    return buf.getvalue()


@pytest.mark.parametrize("name", MODELS)
def test_a_weights_file_holding_pickles_is_refused_without_running_them(name, zoo_copy, tmp_path):
    """Loaders read with ``np.load(..., allow_pickle=False)`` or ``torch.load(..., weights_only=True)``: a file whose
    sha256 the index accepts but that holds pickled objects is a ModelError, and no pickled code runs."""
    target = tmp_path / "ran"
    path = zoo.model_path(name)
    data = _pickled_like(path, target)
    path.write_bytes(data)
    index = json.loads(zoo.index_path().read_text())
    index[name]["sha256"] = hashlib.sha256(data).hexdigest()
    zoo.index_path().write_text(json.dumps(index))
    with pytest.raises(ModelError, match=f"^model '{name}': "):
        zoo.load(name)
    assert not target.exists()


@pytest.mark.parametrize("name", MODELS)
def test_one_changed_byte_in_a_weights_file_is_a_model_error_naming_the_model(name, zoo_copy):
    path = zoo.model_path(name)
    assert path.is_relative_to(zoo_copy) and not path.is_symlink()
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=f"^model '{name}': weights file .* has sha256 .*reinstall omnicodec"):
        zoo.load(name)
    with pytest.raises(ModelError, match=f"'{name}'.*reinstall omnicodec"):
        omnicodec.decompress((GOLDEN / USES[name]).read_bytes())
    assert zoo.verified_bytes("spin" if name != "spin" else "dense")  # the other files are still good


@pytest.mark.parametrize("name", MODELS)
def test_a_missing_weights_file_stops_the_codecs_with_the_model_and_the_fix(name, zoo_copy):
    zoo.model_path(name).unlink()
    fix = f"'{name}'.*weights file .* is missing; reinstall omnicodec"
    with pytest.raises(ModelError, match=f"^model {fix}"):
        zoo.load(name)
    with pytest.raises(ModelError, match=fix):
        mg.encode(_case(name))
    with pytest.raises(ModelError, match=fix):
        omnicodec.decompress((GOLDEN / USES[name]).read_bytes())


@pytest.mark.parametrize("name", ["lightfield_blend", "image_wavelet"])
def test_a_light_field_model_missing_from_the_index_is_an_error_not_a_stream_without_it(name, zoo_copy):
    """The light-field encoder asks for its blending network and its key view's core by name: an index without them
    is a damaged installation (once, the encoder went on without the blending network)."""
    index = json.loads(zoo.index_path().read_text())
    del index[name]
    zoo.index_path().write_text(json.dumps(index))
    with pytest.raises(ModelError, match=f"^model '{name}' .*is not in the model index .*reinstall omnicodec"):
        mg.encode(_case("lightfield_blend"))
