"""The one model zoo (:mod:`omnicodec.zoo`): index, sha256 checks, loaders by kind, and the errors a broken
installation gives."""

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
from omnicodec.errors import InputError, ModelError
from omnicodec.types import PointCloud
from tests.conftest import REPO

FIELDS = {"file", "sha256", "bytes", "kind", "modality", "command", "data"}


def test_every_indexed_model_loads_and_matches_its_sha256():
    models = zoo.list_models()
    assert {"dense", "lidar", "lossy_dense", "lossy_lidar"} <= set(models)
    for name, entry in models.items():
        assert FIELDS <= set(entry), name
        path = zoo.model_path(name)
        assert path.parent == zoo.weights_dir() and path.name == entry["file"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{name}: {path} does not match the index"
        assert zoo.verified_bytes(name) == (path.read_bytes(), digest)
        model = zoo.load(name)
        assert model is zoo.load(name, entry["kind"])  # loaded once, then cached
        assert getattr(model, "sha256", digest) == digest
    assert set(zoo.list_models("occupancy")) == {"dense", "lidar"}
    assert set(zoo.list_models("lossy_pointcloud")) == {"lossy_dense", "lossy_lidar"}
    assert zoo.list_models("no such kind") == {}


def test_unknown_names_and_wrong_kinds_are_input_errors():
    with pytest.raises(InputError,
                       match="unknown model 'nope'; available: attributes, attributes_raht, dense, .*lossy_lidar"):
        zoo.entry("nope")
    with pytest.raises(InputError, match="unknown model 'nope'; available: dense, lidar$"):
        zoo.load("nope", "occupancy")
    with pytest.raises(InputError, match="'lossy_dense' is of kind lossy_pointcloud, not occupancy; available: dense, "
                                         "lidar$"):
        zoo.load("lossy_dense", "occupancy")


def test_importing_the_zoo_imports_no_codec():
    code = textwrap.dedent("""
        import sys
        from omnicodec import zoo
        assert not [m for m in sys.modules if m.startswith(("omnicodec.pointcloud", "omnicodec.codecs", "torch"))]
        zoo.load("dense")  # the occupancy loader module is imported on demand
        assert "omnicodec.pointcloud.model_zoo" in sys.modules
        print("ok")
    """)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop(zoo.ENV_VAR, None)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert r.stdout.strip() == "ok", r.stderr


@pytest.fixture
def zoo_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the shipped zoo, in use through ``$OMNICODEC_ZOO_DIR`` for the test."""
    root = tmp_path / "zoo"
    shutil.copytree(zoo.PACKAGE_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setenv(zoo.ENV_VAR, str(root))
    return root


def _surface() -> PointCloud:
    x, y = np.meshgrid(np.arange(64), np.arange(64))
    z = np.rint(10 * np.sin(x / 9.0) + 8 * np.cos(y / 11.0) + 30)
    return PointCloud(np.stack([x.ravel(), y.ravel(), z.ravel()], 1).astype(np.float32))


def test_a_corrupted_weights_file_is_a_model_error_naming_the_model(zoo_copy, monkeypatch):
    monkeypatch.delenv(zoo.ENV_VAR)
    stream = omnicodec.compress(_surface())  # with the shipped dense model
    monkeypatch.setenv(zoo.ENV_VAR, str(zoo_copy))
    assert zoo.index_path() == zoo_copy / "index.json"
    path = zoo_copy / "weights" / zoo.entry("dense")["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"model 'dense': weights file .* has sha256 .*reinstall omnicodec") as e:
        zoo.load("dense")
    assert "\n" not in str(e.value)
    with pytest.raises(ModelError, match="'dense'"):  # and so is decoding a stream that needs it
        omnicodec.decompress(stream)
    with pytest.raises(ModelError, match="'dense'"):
        omnicodec.compress(_surface(), model="dense")
    monkeypatch.delenv(zoo.ENV_VAR)
    assert len(omnicodec.decompress(stream)) == len(_surface())  # the shipped zoo is untouched


def test_a_missing_weights_file_is_a_model_error_naming_the_model_and_the_fix(zoo_copy):
    (zoo_copy / "weights" / zoo.entry("lossy_lidar")["file"]).unlink()
    with pytest.raises(ModelError, match=r"^model 'lossy_lidar': weights file .* is missing; reinstall omnicodec"):
        zoo.load("lossy_lidar")
    with pytest.raises(ModelError, match="lossy_lidar"):
        omnicodec.compress(_surface(), rate=1, model="lidar")
    (zoo_copy / "index.json").unlink()
    with pytest.raises(ModelError, match="cannot read the model index .*reinstall omnicodec"):
        zoo.list_models()


class _Payload:
    """A pickle that would create a folder when unpickled by a loader that runs pickles."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return os.mkdir, (str(self.target),)


def test_weights_are_loaded_without_running_pickles(zoo_copy, tmp_path):
    target = tmp_path / "ran"
    buf = io.BytesIO()
    torch.save({"config": _Payload(target), "state": {}, "extra": {}}, buf)
    data = buf.getvalue()
    (zoo_copy / "weights" / "lossy_dense.pt").write_bytes(data)
    index = json.loads((zoo_copy / "index.json").read_text())
    index["lossy_dense"]["sha256"] = hashlib.sha256(data).hexdigest()
    (zoo_copy / "index.json").write_text(json.dumps(index))
    with pytest.raises(ModelError, match="not a lossy point-cloud model"):
        zoo.load("lossy_dense")
    assert not target.exists()


def test_a_training_script_adds_a_model_of_a_new_kind(zoo_copy, monkeypatch):
    """What an image training script does: write a state dict and its entry, register a loader, load it."""
    sys.path.insert(0, str(REPO))
    from tools.training_common import write_model, write_zoo_entry

    monkeypatch.setattr(sys, "argv", ["train_toy.py", "--steps", "1"])
    net = torch.nn.Linear(3, 2)
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    out = zoo.weights_dir() / "toy_image.pt"
    write_model(out, buf.getvalue())
    write_zoo_entry(out, buf.getvalue(), kind="toy_image", modality="image", script="train_toy.py",
                    data_record={"train_set": "somewhere", "sample_list_sha256": "0" * 64}, step=1)

    def load_toy(data: bytes) -> torch.nn.Module:
        model = torch.nn.Linear(3, 2)
        model.load_state_dict(torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))
        return model

    entry = zoo.entry("toy_image")
    assert entry["command"] == "python tools/train_toy.py --steps 1" and entry["modality"] == "image"
    assert {"dense", "lossy_dense", "toy_image"} <= set(zoo.list_models())  # the other entries are kept
    assert not list(zoo_copy.glob("**/*.tmp")) and not list(zoo_copy.glob("**/.*"))
    with pytest.raises(ModelError, match="no loader for models of kind 'toy_image'"):
        zoo.load("toy_image")
    monkeypatch.setitem(zoo._LOADERS, "toy_image", None)
    zoo.register_loader("toy_image", load_toy)
    assert torch.equal(zoo.load("toy_image").weight, net.weight)
