"""What the training scripts (``tools/train_lossless.py``, ``tools/train_lossy.py``) share: the log line, the data and
output paths, checkpoints, and the zoo index entry that records how a shipped model was made.

A training script of any modality ships a model with two calls, each atomic (a reader never sees half a file)::

    write_model(out, data)                      # out: omnicodec/zoo/weights/NAME.EXT (default), data: the file bytes
    write_zoo_entry(out, data, kind="image", modality="image", script="train_image.py",
                    data_record={"train_set": ..., "sample_list_sha256": ...}, step=step, ...)

The entry is named ``out.stem`` and goes into ``index.json`` of the zoo folder holding ``out`` in its ``weights/``
(:mod:`omnicodec.zoo`); ``kind`` must have a loader registered with :func:`omnicodec.zoo.register_loader`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from datasets.paths import check_training_path  # noqa: E402
from omnicodec import zoo  # noqa: E402


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def training_paths(args, model_file: str, checkpoint_file: str) -> tuple[Path, Path, Path, Path] | None:
    """Training set, validation set, model file and checkpoint of ``args.kind`` (``--train``, ``--val``, ``--out``,
    ``--checkpoint`` or their defaults under ``datasets/build/`` and ``omnicodec/zoo/weights/``). Checks that the
    sets are training data (never evaluation files) and exist, and that the model file goes into the ``weights/``
    folder of a zoo folder (whose ``index.json`` will record it); prints one error line and returns None if not."""
    kind = args.kind
    train = args.train or REPO / f"datasets/build/{kind}_train.h5"
    val = args.val or REPO / f"datasets/build/{kind}_val.h5"
    out = args.out or zoo.weights_dir() / model_file
    ckpt = args.checkpoint or REPO / "datasets/build" / checkpoint_file
    if out.parent.name != "weights":
        print(f"error: {out} is not in a zoo's weights/ folder; use e.g. --out /tmp/myzoo/weights/{model_file} "
              "(then OMNICODEC_ZOO_DIR=/tmp/myzoo tries it)", file=sys.stderr)
        return None
    for p in (train, val):
        check_training_path(p)
        if not p.exists():
            print(f"error: {p} not found; build it with: python -m datasets.build --kind {kind}", file=sys.stderr)
            return None
    return train, val, out, ckpt


def resume(ckpt: Path, net: torch.nn.Module, opt: torch.optim.Optimizer, fresh: bool,
           device: torch.device | str = "cpu") -> dict:
    """The training state (step, best score, history), restored with ``net`` and ``opt`` from ``ckpt`` unless
    ``fresh`` or there is no checkpoint yet."""
    if fresh or not ckpt.exists():
        return dict(step=0, best=float("inf"), history=[])
    saved = torch.load(ckpt, map_location=device, weights_only=False)
    net.load_state_dict(saved["net"])
    opt.load_state_dict(saved["opt"])
    log(f"resumed from {ckpt} at step {saved['state']['step']}")
    return saved["state"]


def write_model(out: Path, data: bytes) -> None:
    """Write a model file atomically (a reader never sees half a file; the hidden temporary file is never shipped)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp"
    tmp.write_bytes(data)
    tmp.replace(out)


def save_checkpoint(ckpt: Path, net: torch.nn.Module, opt: torch.optim.Optimizer, state: dict) -> None:
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(net=net.state_dict(), opt=opt.state_dict(), state=state), ckpt)


def h5_data_record(train: Path, family: str, excluded: list[str]) -> dict[str, Any]:
    """The ``data`` field of a zoo entry for an HDF5 training set of ``datasets.build``: its path, sample-list hash,
    the command that built it and the excluded sources."""
    import h5py

    with h5py.File(train, "r") as f:
        data_hash = str(f.attrs.get("sample_list_sha256", ""))
        built_by = str(f.attrs.get("command", f"python -m datasets.build --kind {family}"))
    return dict(train_set=str(train.relative_to(REPO)) if train.is_relative_to(REPO) else str(train),
                sample_list_sha256=data_hash, built_by=built_by, excluded=list(excluded))


def write_zoo_entry(out: Path, data: bytes, *, kind: str, modality: str, script: str, data_record: dict[str, Any],
                    **extra: Any) -> None:
    """Add or replace the zoo entry of model file ``out`` (bytes ``data``, already written by :func:`write_model`).

    The entry, named ``out.stem``, goes into ``index.json`` of the zoo folder ``out.parent.parent`` (``out`` lies in
    its ``weights/``): file name, sha256, size, ``kind`` (the zoo loader), ``modality``, the command line that trained
    it (``python tools/SCRIPT`` and this process's arguments), ``data_record`` (training data and its hash, e.g.
    :func:`h5_data_record`) and ``extra`` (family, step, validation scores, ...). The index is rewritten atomically,
    under a lock on the zoo folder so that two training runs never lose each other's entries."""
    root = out.resolve().parent.parent
    index = root / "index.json"
    entry = dict(file=out.name, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), kind=kind,
                 modality=modality, command=f"python tools/{script} " + " ".join(sys.argv[1:]), data=data_record,
                 **extra)
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        entries = json.loads(index.read_text()) if index.exists() else {}
        entries[out.stem] = entry
        tmp = root / ".index.json.tmp"
        tmp.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
        tmp.replace(index)
    finally:
        os.close(fd)
