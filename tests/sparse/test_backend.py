from __future__ import annotations

import pytest

from omnicodec.errors import InputError
from omnicodec.sparse import backend


@pytest.fixture
def fresh_backend(monkeypatch):
    monkeypatch.setattr(backend, "_current", None)
    yield monkeypatch


def test_default_is_torch(fresh_backend):
    fresh_backend.delenv(backend.ENV_VAR, raising=False)
    assert backend.get_backend() == "torch"


def test_environment_variable_and_errors(fresh_backend):
    fresh_backend.setenv(backend.ENV_VAR, " Torch ")
    assert backend.get_backend() == "torch"
    with pytest.raises(InputError, match="unknown sparse backend"):
        backend.set_backend("spconv")
    assert backend.get_backend() == "torch"


def test_use_backend_restores(fresh_backend):
    fresh_backend.delenv(backend.ENV_VAR, raising=False)
    with backend.use_backend("torch"):
        assert backend.get_backend() == "torch"
    assert backend.get_backend() == "torch"


@pytest.mark.skipif(backend.minkowski_available(), reason="MinkowskiEngine is installed")
def test_minkowski_without_the_package_names_it(fresh_backend):
    with pytest.raises(InputError, match="MinkowskiEngine"):
        backend.set_backend("minkowski")
    fresh_backend.setenv(backend.ENV_VAR, "minkowski")
    with pytest.raises(InputError, match="install_minkowski"):
        backend.get_backend()
