"""Which implementation runs the sparse operations: ``"torch"`` (default) or ``"minkowski"``.

The choice is read once from the environment variable ``OMNICODEC_SPARSE_BACKEND`` and can be changed with
:func:`set_backend` or, for a block of code, :func:`use_backend`. Both backends take the same tensors and weights and
give the same results (within float rounding); ``"minkowski"`` needs MinkowskiEngine, which
``tools/install_minkowski.sh`` builds.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator

from ..errors import InputError

__all__ = ["BACKENDS", "ENV_VAR", "get_backend", "set_backend", "use_backend", "minkowski_available"]

BACKENDS = ("torch", "minkowski")
ENV_VAR = "OMNICODEC_SPARSE_BACKEND"
_current: str | None = None


def minkowski_available() -> bool:
    """Whether MinkowskiEngine can be imported (without importing it)."""
    return importlib.util.find_spec("MinkowskiEngine") is not None


def _check(name: str) -> str:
    name = name.strip().lower()
    if name not in BACKENDS:
        raise InputError(f"unknown sparse backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "minkowski" and not minkowski_available():
        raise InputError(
            "sparse backend 'minkowski' needs MinkowskiEngine, which is not installed "
            "(build it with tools/install_minkowski.sh)"
        )
    return name


def get_backend() -> str:
    """The backend in use: the last :func:`set_backend`, else ``$OMNICODEC_SPARSE_BACKEND``, else ``"torch"``."""
    global _current
    if _current is None:
        _current = _check(os.environ.get(ENV_VAR, "") or "torch")
    return _current


def set_backend(name: str) -> None:
    """Select the backend for every later sparse operation.

    Raises:
        InputError: an unknown name, or ``"minkowski"`` without MinkowskiEngine installed.
    """
    global _current
    _current = _check(name)


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Run a block with another backend, then restore the previous one."""
    previous = get_backend()
    set_backend(name)
    try:
        yield
    finally:
        set_backend(previous)
