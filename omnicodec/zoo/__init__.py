"""One model zoo for every modality: the index of shipped models, their sha256 check, and ``load(name) -> model``.

``omnicodec/zoo/index.json`` maps each model name to an entry::

    {"file": "dense.npz",          # in omnicodec/zoo/weights/
     "sha256": "1f11...",          # of that file; checked before the bytes are used
     "bytes": 137942,
     "kind": "occupancy",          # picks the loader (occupancy, lossy_pointcloud, image, ...)
     "modality": "pointcloud",
     "command": "python tools/train_lossless.py ...",   # how it was trained
     "data": {"train_set": ..., "sample_list_sha256": ..., "built_by": ...},
     ...}                          # any other fields the training script records (step, family, validation, ...)

The zoo knows no codec. A package that ships models of a kind registers a loader for it
(:func:`register_loader`, a function ``bytes -> model``); :func:`load` imports the built-in loader modules
(:data:`_BUILTIN_LOADERS`) only when a model of their kind is first asked for. Loaders must not execute pickles
(``np.load(..., allow_pickle=False)``, ``torch.load(..., weights_only=True)``). A codec loads the models it needs
itself with :func:`require`: one the index does not list is then a :class:`ModelError` with the fix, never a
silent fallback.

For tests and for trying out models, the environment variable ``OMNICODEC_ZOO_DIR`` names another zoo folder
(holding ``index.json`` and ``weights/``) to use instead of the shipped one.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import InputError, ModelError

__all__ = ["ENV_VAR", "PACKAGE_DIR", "zoo_dir", "index_path", "weights_dir", "list_models", "entry", "model_path",
           "verified_bytes", "register_loader", "load", "require", "load_count", "clear_cache"]

ENV_VAR = "OMNICODEC_ZOO_DIR"
"""Environment variable naming a zoo folder to use instead of :data:`PACKAGE_DIR`."""

PACKAGE_DIR = Path(__file__).resolve().parent
"""The shipped zoo: ``index.json`` and ``weights/`` inside the installed package."""

_FIX = "reinstall omnicodec (pip install --force-reinstall omnicodec), or in a source checkout restore omnicodec/zoo/"

_BUILTIN_LOADERS: dict[str, str] = {
    # kind -> module that calls register_loader(kind, ...) when imported
    "occupancy": "omnicodec.pointcloud.model_zoo",
    "lossy_pointcloud": "omnicodec.pointcloud.lossy_zoo",
    "image": "omnicodec.image.models",
    "image_contexts": "omnicodec.image.subband_model",
    "lightfield": "omnicodec.lightfield.models",
    "lightfield_blend": "omnicodec.lightfield.models",
    "attributes": "omnicodec.pointcloud.attr_model",
    "attributes_raht": "omnicodec.pointcloud.attr_raht_model",
    "spin": "omnicodec.pointcloud.spin_model",
}

_LOADERS: dict[str, Callable[[bytes], Any]] = {}
_INDEX_CACHE: dict[str, tuple[tuple[int, int], dict[str, dict[str, Any]]]] = {}
_MODELS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.RLock()
_LOADS = [0]


def zoo_dir() -> Path:
    """The zoo folder in use: ``$OMNICODEC_ZOO_DIR`` if set, else the shipped :data:`PACKAGE_DIR`."""
    return Path(os.environ.get(ENV_VAR) or PACKAGE_DIR)


def index_path() -> Path:
    """The index file, ``index.json`` in :func:`zoo_dir`."""
    return zoo_dir() / "index.json"


def weights_dir() -> Path:
    """The folder of the weights files, ``weights/`` in :func:`zoo_dir`."""
    return zoo_dir() / "weights"


def _index() -> dict[str, dict[str, Any]]:
    """The parsed index, re-read when the file changes (a training run may rewrite it)."""
    path = index_path()
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        cached = _INDEX_CACHE.get(str(path))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        entries = json.loads(path.read_text())
        if not isinstance(entries, dict) or not all(isinstance(e, dict) for e in entries.values()):
            raise ValueError("not an object of model entries")
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the model index {path} ({exc}); {_FIX}") from None
    _INDEX_CACHE[str(path)] = (stamp, entries)
    return entries


def list_models(kind: str | None = None) -> dict[str, dict[str, Any]]:
    """Name -> entry (a copy) of every indexed model, or of those of ``kind``, sorted by name.

    Raises:
        ModelError: the index is missing or unreadable.
    """
    return {name: copy.deepcopy(e) for name, e in sorted(_index().items()) if kind in (None, e.get("kind"))}


def entry(name: str, kind: str | None = None) -> dict[str, Any]:
    """The index entry (a copy) of model ``name``; with ``kind``, the model must be of that kind.

    Raises:
        InputError: no such model (of that kind).
        ModelError: the index is missing or unreadable.
    """
    models = _index()
    e = models.get(name)
    if e is None or kind not in (None, e.get("kind")):
        known = ", ".join(n for n, m in sorted(models.items()) if kind in (None, m.get("kind"))) or "none installed"
        what = f"unknown model {name!r}" if e is None else f"model {name!r} is of kind {e.get('kind')}, not {kind}"
        raise InputError(f"{what}; available: {known}")
    return copy.deepcopy(e)


def model_path(name: str) -> Path:
    """The weights file of model ``name`` (it may be missing; :func:`verified_bytes` checks).

    Raises:
        InputError: no such model.
    """
    return weights_dir() / str(entry(name).get("file", ""))


def verified_bytes(name: str) -> tuple[bytes, str]:
    """The bytes of model ``name``'s weights file and their sha256 (hex), checked against the index.

    Raises:
        InputError: no such model.
        ModelError: the file is missing or unreadable, or its sha256 differs from the index.
    """
    return _checked_bytes(name, entry(name))


def _checked_bytes(name: str, e: dict[str, Any]) -> tuple[bytes, str]:
    if not isinstance(e.get("file"), str) or not e["file"]:
        raise ModelError(f"model {name!r}: the index {index_path()} names no weights file; {_FIX}")
    path = weights_dir() / e["file"]
    try:
        data = path.read_bytes()
    except OSError as exc:
        problem = "is missing" if isinstance(exc, FileNotFoundError) else f"cannot be read ({exc.strerror})"
        raise ModelError(f"model {name!r}: weights file {path} {problem}; {_FIX}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != e.get("sha256"):
        raise ModelError(f"model {name!r}: weights file {path} has sha256 {digest[:16]}..., the index records "
                         f"{str(e.get('sha256'))[:16]}... (damaged or replaced); {_FIX}")
    return data, digest


def register_loader(kind: str, fn: Callable[[bytes], Any]) -> None:
    """Make ``fn`` (weights file bytes -> model object) the loader of models of ``kind``.

    The bytes given to ``fn`` have been checked against the index. ``fn`` raises :class:`ModelError` for bytes it
    cannot read and must not execute pickles.
    """
    _LOADERS[kind] = fn


def _loader(kind: str) -> Callable[[bytes], Any]:
    if kind not in _LOADERS and kind in _BUILTIN_LOADERS:
        importlib.import_module(_BUILTIN_LOADERS[kind])  # registers its loaders
    if kind not in _LOADERS:
        raise ModelError(f"no loader for models of kind {kind!r}; this omnicodec version cannot use them")
    return _LOADERS[kind]


def load(name: str, kind: str | None = None) -> Any:
    """Model ``name`` loaded by its kind's loader: once per process (per zoo folder and sha256), then cached.

    Args:
        name: a model name from :func:`list_models`.
        kind: if given, the model must be of this kind (so a codec never gets another kind's model).

    Raises:
        InputError: no such model (of that kind).
        ModelError: the file is missing, changed (sha256 differs from the index) or malformed.
    """
    e = entry(name, kind)
    key = (str(zoo_dir()), name, str(e.get("sha256")))
    with _LOCK:
        if key not in _MODELS:
            fn = _loader(str(e.get("kind")))
            data, _ = _checked_bytes(name, e)
            try:
                _MODELS[key] = fn(data)
            except ModelError as exc:
                raise ModelError(f"model {name!r}: {exc}") from None
            _LOADS[0] += 1
        return _MODELS[key]


def require(name: str, kind: str | None = None) -> Any:
    """:func:`load` for a model that omnicodec itself asks for (a codec's own model, not one named by the caller):
    a name the index does not list means a damaged installation, so it is a :class:`ModelError` naming the model and
    the fix, where :func:`load` gives an :class:`InputError` (a caller's unknown name).

    Raises:
        ModelError: the model is not in the index (of that kind), or its file is missing, changed or malformed.
    """
    try:
        entry(name, kind)
    except InputError as exc:
        raise ModelError(f"model {name!r}{f' (kind {kind})' if kind else ''} is not in the model index "
                         f"{index_path()} ({exc}); {_FIX}") from None
    return load(name, kind)


def load_count() -> int:
    """How many times this process has read and loaded a model file (calls of :func:`load` not served by the
    cache)."""
    return _LOADS[0]


def clear_cache() -> None:
    """Forget every loaded model and parsed index (the next :func:`load` reads the files again)."""
    with _LOCK:
        _MODELS.clear()
        _INDEX_CACHE.clear()
