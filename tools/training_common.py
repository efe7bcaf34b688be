"""What the training scripts (``tools/train_lossless.py``, ``tools/train_lossy.py``) share: the log line, the data and
output paths, checkpoints, and the zoo index entry that records how a shipped model was made."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from datasets.paths import check_training_path  # noqa: E402


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def training_paths(args, model_file: str, checkpoint_file: str) -> tuple[Path, Path, Path, Path] | None:
    """Training set, validation set, model file and checkpoint of ``args.kind`` (``--train``, ``--val``, ``--out``,
    ``--checkpoint`` or their defaults under ``datasets/build/`` and ``omnicodec/pointcloud/zoo/``). Checks that
    the sets are training data (never evaluation files) and exist; prints one error line and returns None if not."""
    kind = args.kind
    train = args.train or REPO / f"datasets/build/{kind}_train.h5"
    val = args.val or REPO / f"datasets/build/{kind}_val.h5"
    out = args.out or REPO / "omnicodec/pointcloud/zoo" / model_file
    ckpt = args.checkpoint or REPO / "datasets/build" / checkpoint_file
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
    """Write a model file atomically (a reader never sees half a file)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)


def save_checkpoint(ckpt: Path, net: torch.nn.Module, opt: torch.optim.Optimizer, state: dict) -> None:
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(net=net.state_dict(), opt=opt.state_dict(), state=state), ckpt)


def write_zoo_entry(index: Path, out: Path, data: bytes, script: str, kind: str, train: Path, excluded: list[str],
                    **extra) -> None:
    """Add or replace the entry of model file ``out`` (bytes ``data``) in the zoo index ``index``: its sha256, size,
    the command line that trained it (``python tools/SCRIPT`` and this process's arguments), the training set with
    its sample-list hash and the excluded sources, and ``extra`` (step, validation scores). Written atomically."""

    import h5py

    with h5py.File(train, "r") as f:
        data_hash = str(f.attrs.get("sample_list_sha256", ""))
        built_by = str(f.attrs.get("command", f"python -m datasets.build --kind {kind}"))
    entries = json.loads(index.read_text()) if index.exists() else {}
    entries[out.stem] = dict(
        file=out.name,
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=len(data),
        kind=kind,
        training_command=f"python tools/{script} " + " ".join(sys.argv[1:]),
        data=dict(train_set=str(train.relative_to(REPO)) if train.is_relative_to(REPO) else str(train),
                  sample_list_sha256=data_hash, built_by=built_by, excluded=list(excluded)),
        **extra,
    )
    tmp = index.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
    tmp.replace(index)
