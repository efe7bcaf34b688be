"""The batch manifest (JSON lines, one row per frame) and the summary of a run.

A row holds ``input``, ``output``, ``status`` (``encoded``, ``resumed`` or ``failed``), ``points``, ``bits``,
``bpp``, ``encode_seconds``, ``verified`` (true, false, or null when not checked) and ``error`` (null, or one line).
While a batch runs, rows are appended as frames finish (whole rows only, even on a full disk), so an interrupted
run keeps what it did; at the end the file is rewritten atomically with one row per frame in input order.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_open

__all__ = ["FIELDS", "ManifestLog", "read_manifest", "write_manifest", "summarize", "format_summary"]

FIELDS = ("input", "output", "status", "points", "bits", "bpp", "encode_seconds", "verified", "error")


def _line(row: dict[str, Any]) -> str:
    return json.dumps({k: row.get(k) for k in FIELDS}) + "\n"


class ManifestLog:
    """Rows appended to the manifest as frames finish, each one whole or not at all."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)

    def append(self, row: dict[str, Any]) -> None:
        """Append ``row``; on a write error (a full disk) the file is cut back to its previous rows and the error
        raised, so no partial row is ever left."""
        assert self._fd is not None
        data = _line(row).encode("utf-8")
        size = os.fstat(self._fd).st_size
        try:
            if os.write(self._fd, data) != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError:
            os.ftruncate(self._fd, size)
            raise

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_manifest(path: Path) -> dict[str, dict[str, Any]]:
    """Input -> its last row in a manifest; empty when the file is missing. Unreadable lines are skipped (an
    interrupted append)."""
    rows: dict[str, dict[str, Any]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return rows
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("input"), str):
            rows[row["input"]] = row
    return rows


def write_manifest(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` as the whole manifest, atomically."""
    with atomic_open(path, "w") as fh:
        fh.writelines(_line(row) for row in rows)


def summarize(rows: list[dict[str, Any]], seconds: float, frames: int | None = None) -> dict[str, Any]:
    """Totals of a run.

    Args:
        rows: the manifest rows of the frames that finished (encoded, resumed or failed).
        seconds: wall time of the frames' processing.
        frames: frames the batch was asked for (more than ``len(rows)`` after an interruption).

    Returns:
        frames, encoded, resumed, failed, unfinished, points, bits, total_bpp (all bits / all points), mean_bpp
        (mean of the frames' bpp), seconds, frames_per_second (encoded frames / seconds).
    """
    good = [r for r in rows if r.get("status") in ("encoded", "resumed") and r.get("bits") is not None]
    encoded = sum(r.get("status") == "encoded" for r in rows)
    points = sum(int(r.get("points") or 0) for r in good)
    bits = sum(int(r["bits"]) for r in good)
    rates = [float(r["bpp"]) for r in good if r.get("bpp") is not None]
    total = len(rows) if frames is None else frames
    return {
        "frames": total,
        "encoded": encoded,
        "resumed": sum(r.get("status") == "resumed" for r in rows),
        "failed": sum(r.get("status") == "failed" for r in rows),
        "unfinished": total - len(rows),
        "points": points,
        "bits": bits,
        "total_bpp": bits / points if points else None,
        "mean_bpp": sum(rates) / len(rates) if rates else None,
        "seconds": seconds,
        "frames_per_second": encoded / seconds if seconds > 0 else None,
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a two-column table."""

    def show(value: Any, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    lines = [
        ("frames", show(summary["frames"], ",")),
        ("encoded", show(summary["encoded"], ",")),
        ("resumed (already done)", show(summary["resumed"], ",")),
        ("failed", show(summary["failed"], ",")),
        ("unfinished", show(summary["unfinished"], ",")),
        ("points", show(summary["points"], ",")),
        ("bits", show(summary["bits"], ",")),
        ("total bpp", show(summary["total_bpp"], ".4f")),
        ("mean bpp", show(summary["mean_bpp"], ".4f")),
        ("seconds", show(summary["seconds"], ".2f")),
        ("frames per second", show(summary["frames_per_second"], ".3f")),
    ]
    width = max(len(k) for k, _ in lines)
    return os.linesep.join(f"{k:<{width}}  {v:>14}" for k, v in lines)
