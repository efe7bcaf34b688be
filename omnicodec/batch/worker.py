"""The work of one batch worker: compress one frame (and optionally decode and check it).

The same functions run in a local process pool and in Ray actors, so both produce the same bytes. A worker is set
up once (:func:`setup_worker`): torch's thread count is fixed and the learned models are loaded, so every frame
after the first reuses them. The worker never writes outputs; it returns the stream to the caller, which writes it
atomically.
"""

from __future__ import annotations

import glob
import os
import resource
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import OmnicodecError

__all__ = ["EncodeConfig", "setup_worker", "encode_frame", "empty_row", "worker_stats", "KILL_TOKENS"]

# Test hook: the folder named by this variable holds "kill tokens" (see _kill_if_asked); unset, nothing happens.
KILL_TOKENS = "OMNICODEC_TEST_KILL_TOKENS"


@dataclass(frozen=True)
class EncodeConfig:
    """What every frame of a batch is compressed with."""

    codec: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # codec parameters, e.g. grid_step, model, rate
    verify: bool = False
    threads: int = 1  # torch threads per worker


_STATE: dict[str, Any] = {"config": None, "frames": 0}


def setup_worker(config: EncodeConfig, ignore_sigint: bool = True) -> int:
    """Prepare this process to encode frames; returns its pid.

    Args:
        config: the batch's settings.
        ignore_sigint: leave SIGINT to the parent, which stops the workers itself (a terminal's Ctrl-C reaches the
            whole process group).
    """
    if ignore_sigint:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    torch.set_num_threads(max(1, int(config.threads)))
    _STATE["config"] = config
    from ..codecs import default_codec

    codec = config.codec or default_codec("pointcloud", config.params)
    if codec in ("learned", "lossy"):
        _preload(codec, config.params.get("model", "auto"))
    return os.getpid()


def _preload(codec: str, wanted: str) -> None:
    """Load the models a point-cloud codec may need (``wanted``: a family or ``auto``; the attribute model too);
    errors are left to the frames that need the model."""
    from ..pointcloud.lossy_zoo import list_lossy_models, load_lossy_model, model_name
    from ..pointcloud.model_zoo import list_models, load_model

    try:
        lossy = list(list_lossy_models()) if wanted == "auto" else [model_name(wanted)]
        occupancy = list(list_models()) if wanted == "auto" else [wanted]
    except OmnicodecError:
        return
    from ..pointcloud.attr_model import DEFAULT_MODEL as ATTRIBUTES
    from ..pointcloud.attr_model import load_model as load_attributes
    from ..pointcloud.attr_raht_model import DEFAULT_MODEL as RAHT
    from ..pointcloud.attr_raht_model import load_model as load_raht

    loads = [(load_lossy_model, name) for name in lossy] if codec == "lossy" else []
    loads += [(load_attributes, ATTRIBUTES), (load_raht, RAHT)]  # colours and intensity; lossy colours
    for load, name in loads + [(load_model, name) for name in occupancy]:
        try:
            load(name)
        except OmnicodecError:  # reported by the frames that need it
            pass


def worker_stats() -> dict[str, Any]:
    """This worker's pid, frames done, peak resident memory (MB) and how many times a model was loaded."""
    from .. import zoo

    loads = zoo.load_count()
    return {
        "pid": os.getpid(),
        "frames": _STATE["frames"],
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "model_loads": loads,
    }


def _read(path: str, payload: bytes | None):
    from ..io import read

    if payload is None:
        return read(path)
    with tempfile.TemporaryDirectory(prefix="omnicodec-") as tmp:  # readers take paths; keep the name's format
        local = Path(tmp) / Path(path).name
        local.write_bytes(payload)
        try:
            return read(local)
        except OmnicodecError as exc:  # name the original path, not the temporary copy
            raise type(exc)(str(exc).replace(os.fspath(local), path)) from None


def _verify(cloud, stream: bytes) -> bool:
    """Decode ``stream`` and check it against ``cloud``: every point and attribute value on the coding grid (a
    lossy stream: the point count its header declares, and every attribute of the input; attributes coded at an
    attribute rate: their presence and shape)."""
    from ..bitstream import unpack
    from ..codecs import decompress
    from ..pointcloud.compare import same_on_grid
    from ..types import PointCloud

    parsed = unpack(stream)
    decoded = decompress(parsed)
    if parsed.header.codec == "lossy" or "input_grid_step" in parsed.header.params:  # lossy (or spin for lossy)
        from ..pointcloud.lossy_codec import decoded_points

        expected = decoded_points(parsed.header.params)
        return len(decoded) == expected and set(decoded.attributes) == set(cloud.attributes)
    lossy = {a["name"] for a in parsed.header.params.get("attributes", []) if a.get("attr_rate") is not None}
    if lossy:  # attributes coded at a rate point: their names and shapes, every other value exactly
        if any(name not in decoded.attributes or decoded.attributes[name].shape != cloud.attributes[name].shape
               for name in lossy):
            return False
        cloud = PointCloud(cloud.positions, {k: v for k, v in cloud.attributes.items() if k not in lossy})
        decoded = PointCloud(decoded.positions, {k: v for k, v in decoded.attributes.items() if k not in lossy},
                             grid=decoded.grid)
    return same_on_grid(cloud, decoded, decoded.grid.step if decoded.grid else 1.0)


def _kill_if_asked(path: str) -> None:
    """Test hook for worker deaths: when ``$OMNICODEC_TEST_KILL_TOKENS`` names a folder holding a token file named
    ``<the frame's file name>.<anything>``, remove one such token and kill this process with SIGKILL, as the kernel's
    out-of-memory killer would. One token kills the frame's first attempt, two its first two; a token is removed
    by exactly one process."""
    folder = os.environ.get(KILL_TOKENS)
    if not folder:
        return
    for token in sorted(Path(folder).glob(glob.escape(Path(path).name) + ".*")):
        try:
            token.unlink()
        except FileNotFoundError:  # another worker took it
            continue
        os.kill(os.getpid(), signal.SIGKILL)


def empty_row(path: str, error: str | None = None) -> dict[str, Any]:
    """A frame's row before coding (no stream, no sizes); with ``error`` (one line), the row of a failed frame."""
    return {"input": path, "points": None, "bits": None, "bpp": None, "encode_seconds": None, "verified": None,
            "error": error, "stream": None}


def encode_frame(path: str, payload: bytes | None = None) -> dict[str, Any]:
    """Compress one frame with the worker's settings.

    Args:
        path: the input file (read from disk when ``payload`` is None).
        payload: the file's bytes, for workers that do not share the caller's disk (Ray).

    Returns:
        ``{"input", "points", "bits", "bpp", "encode_seconds", "verified", "error", "stream", "worker"}``; on a
        failure ``error`` is one line and ``stream`` is None. Never raises for a bad frame.
    """
    from ..codecs import compress
    from ..types import PointCloud

    config: EncodeConfig = _STATE["config"]
    if config is None:
        raise RuntimeError("setup_worker() was not called in this process")
    row = empty_row(path)
    try:
        cloud = _read(path, payload)
        _kill_if_asked(path)
        if not isinstance(cloud, PointCloud):
            raise OmnicodecError(f"{path}: not a point cloud")
        t0 = time.perf_counter()
        stream = compress(cloud, codec=config.codec, **config.params)
        row["encode_seconds"] = time.perf_counter() - t0
        row.update(points=len(cloud), bits=8 * len(stream), bpp=8 * len(stream) / max(len(cloud), 1))
        if config.verify:
            row["verified"] = _verify(cloud, stream)
            if not row["verified"]:
                raise OmnicodecError(f"{path}: the decoded stream differs from the input")
        row["stream"] = stream
    except OmnicodecError as exc:
        row["error"] = str(exc)
    except MemoryError:
        row["error"] = f"{path}: out of memory"
    except Exception as exc:  # a bug, reported for this frame; the batch goes on
        row["error"] = f"{path}: internal error: {type(exc).__name__}: {exc}"
    _STATE["frames"] += 1
    row["worker"] = worker_stats()
    return row
