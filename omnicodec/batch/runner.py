"""Running a batch: find the frames, skip the finished ones, compress the rest on a pool, write and record each."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..bitstream import open_stream
from ..errors import BitstreamError, InputError, OutputError
from ..io.atomic import write_bytes_atomic
from ..progress import progress_bar
from .executors import make_executor
from .frames import Frame, find_frames
from .manifest import ManifestLog, read_manifest, summarize, write_manifest
from .output import OUTPUT_FULL, check_writable, hold_folder
from .worker import EncodeConfig

__all__ = ["run", "BatchResult", "BatchInterrupted", "MANIFEST_NAME"]

MANIFEST_NAME = "manifest.jsonl"


@dataclass
class BatchResult:
    """What a batch did.

    Attributes:
        rows: manifest rows of the finished frames (encoded, resumed or failed), in input order.
        summary: totals (:func:`~omnicodec.batch.manifest.summarize`): frames, encoded, resumed, failed,
            unfinished, points, bits, total_bpp, mean_bpp, seconds, frames_per_second.
        workers: per worker: pid, frames, peak_mb (peak resident memory), model_loads.
        startup_seconds: time to bring the workers up (processes or Ray actors, models loaded).
        manifest: the manifest's path.
        interrupted: the run was stopped by SIGINT or SIGTERM.
    """

    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    workers: list[dict[str, Any]] = field(default_factory=list)
    startup_seconds: float = 0.0
    manifest: Path | None = None
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        """Every frame is done and none failed."""
        return not self.summary["failed"] and not self.summary["unfinished"]


class BatchInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped the batch; ``result`` holds what was finished, ``signum`` the signal."""

    def __init__(self, result: BatchResult, signum: int):
        super().__init__(f"interrupted by signal {signum}")
        self.result = result
        self.signum = signum


class _Signal(KeyboardInterrupt):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into an exception in the main thread (as SIGINT already is), so both stop cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Signal(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_options(codec: str | None, params: dict[str, Any]) -> None:
    """Compress a two-point cloud with the batch's options, so a wrong option is one error before any work."""
    from ..codecs import compress
    from ..types import PointCloud

    step = float(params.get("grid_step") or 1.0)
    probe = PointCloud(np.array([[0.0, 0.0, 0.0], [step, step, step]]))
    compress(probe, codec=codec, **params)


def _resumable(frame: Frame, codec: str | None, params: dict[str, Any],
               previous: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The row of a frame whose stream exists, is intact (checksums) and was made with this codec, grid step, rate,
    attribute rate and (when one is named) model; None when it must be (re)encoded."""
    from ..codecs import HANDOFFS, default_codec

    if not frame.output.is_file():
        return None
    try:
        stream = open_stream(frame.output)
    except (BitstreamError, InputError):
        return None
    header = stream.header
    wanted = codec or default_codec("pointcloud", params)
    handoffs = HANDOFFS.get(wanted, ()) if params.get("model", "auto") == "auto" else ()
    if header.codec != wanted and header.codec not in handoffs:
        return None
    if header.params.get("input_grid_step", header.params.get("grid_step")) != float(params.get("grid_step") or 1.0):
        return None
    if params.get("rate") != header.params.get("rate"):
        return None
    specs = header.params.get("attributes") or []
    if any(isinstance(a, dict) and a.get("method") in ("pred", "raht") and a.get("attr_rate") != params.get("attr_rate")
           for a in specs):
        return None
    if params.get("model", "auto") != "auto" and header.model != params["model"]:
        return None
    old = previous.get(frame.key, {})
    points = header.params.get("input_points", header.params.get("points"))  # lossy streams: the input's count
    bits = 8 * stream.size
    row = {
        "input": frame.key,
        "output": os.fspath(frame.output),
        "status": "resumed",
        "points": points,
        "bits": bits,
        "bpp": bits / points if points else None,
        "encode_seconds": old.get("encode_seconds") if old.get("bits") == bits else None,
        "verified": old.get("verified") if old.get("bits") == bits else None,
        "error": None,
    }
    return row


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(
    inputs: list[str | os.PathLike] | str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    codec: str | None = None,
    grid_step: float | None = None,
    rate: int | None = None,
    attr_rate: int | None = None,
    model: str | None = None,
    coder: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
    ray: str | None = None,
    resume: bool = False,
    verify: bool = False,
    manifest: str | os.PathLike | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = _stderr,
) -> BatchResult:
    """Compress many point-cloud files to one ``.omc`` stream each, in parallel.

    Args:
        inputs: files, folders (searched recursively) or glob patterns; any readable point-cloud format.
        outdir: output folder; streams mirror the input names (``seq/000000.bin`` -> ``OUT/000000.omc``).
        codec: codec id (default: the point-cloud default, ``learned``).
        grid_step: voxel edge in input units (``0.001`` for metres to a 1 mm grid); as ``compress``.
        rate: rate point of a lossy codec (1 = lowest); None is lossless.
        attr_rate: rate point of colours and intensity (1 = lowest); None codes them losslessly.
        model: occupancy model of the learned codec (``auto``, ``dense``, ``lidar``).
        coder: entropy coder (``constriction`` or ``torchac``).
        workers: processes (or Ray actors); default the number of CPU cores.
        threads: torch threads per worker; default cores // workers (at least 1).
        ray: None for a local process pool, ``"auto"`` for a local Ray instance, or a Ray cluster address.
        resume: skip frames whose stream exists, is intact and was made with the same codec, grid step, rate and
            (when one is named) model.
        verify: decode every new stream and check it against its input (every point and attribute, on the grid).
        manifest: manifest path (default ``OUTDIR/manifest.jsonl``).
        progress: a progress bar on a terminal (plain log lines otherwise).
        log: where plain log lines go (None: nowhere).

    Returns:
        A :class:`BatchResult`. A failed frame does not stop the batch: it is recorded with its error. A frame whose
        worker process dies is coded again in a new worker; after a second death it is a failed frame.

    Raises:
        InputError: no inputs, a missing path, a wrong option (checked before any work), bad worker counts, a
            stream that would land outside ``outdir``.
        OutputError: before any work, ``outdir`` (or the manifest's folder) is not writable or another batch holds
            ``outdir``; during the work, the output is full: the batch stops, and the streams written so far are
            whole and listed in the manifest.
        BatchInterrupted: SIGINT or SIGTERM; finished streams and the manifest are kept, no partial file is left.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    cores = os.cpu_count() or 1
    workers = cores if workers is None else workers
    if not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers must be a positive integer, got {workers!r}")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise InputError(f"threads must be a positive integer, got {threads!r}")
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    frames = find_frames(list(inputs), out)
    params = {k: v for k, v in dict(grid_step=grid_step, rate=rate, attr_rate=attr_rate, model=model,
                                    coder=coder).items() if v is not None}
    _check_options(codec, params)
    manifest_path = Path(manifest) if manifest is not None else out / MANIFEST_NAME
    check_writable(out)  # before any work: a read-only folder is one error, and nothing is written
    check_writable(manifest_path.parent)
    with hold_folder(out):  # one batch at a time in an output folder; released however the batch ends
        previous = read_manifest(manifest_path) if resume else {}
        done: dict[str, dict[str, Any]] = {}
        if resume:
            for frame in frames:
                row = _resumable(frame, codec, params, previous)
                if row is not None:
                    done[frame.key] = row
        todo = [f for f in frames if f.key not in done]
        say = log or (lambda line: None)
        if resume:
            say(f"batch: {len(done)} of {len(frames)} frames already done; {len(todo)} to go")

        pool_workers = max(1, min(workers, len(todo)))
        config = EncodeConfig(codec=codec, params=params, verify=verify,
                              threads=threads or max(1, cores // pool_workers))
        result = BatchResult(rows=[], summary={}, manifest=manifest_path)
        by_key = {f.key: f for f in frames}
        executor = None
        manifest_log = None  # opened once the workers are up: a batch that cannot start writes nothing
        manifest_error = None
        t_start = time.perf_counter()
        t_work = t_start
        signum = 0
        try:
            with _stop_on_sigterm():
                try:
                    if todo:
                        executor = make_executor(config, pool_workers, ray)
                        executor.start()
                        t_work = time.perf_counter()
                        result.startup_seconds = t_work - t_start
                    out.mkdir(parents=True, exist_ok=True)
                    if not resume:
                        manifest_path.unlink(missing_ok=True)
                    manifest_log = ManifestLog(manifest_path)
                    if todo:
                        _process(executor, todo, by_key, done, manifest_log, progress, say, len(frames))
                        result.workers = executor.stats()
                        executor.close()
                        executor = None
                except _Signal as exc:
                    signum = exc.signum
                except KeyboardInterrupt:
                    signum = signal.SIGINT
        finally:
            if executor is not None:
                executor.close(kill=True)
            result.rows = [done[f.key] for f in frames if f.key in done]
            seconds = time.perf_counter() - t_work if todo else 0.0
            result.summary = summarize(result.rows, seconds, len(frames))
            result.summary["startup_seconds"] = result.startup_seconds
            if manifest_log is not None:
                manifest_log.close()
                manifest_error = _rewrite_manifest(manifest_path, result.rows)
        if signum:
            result.interrupted = True
            raise BatchInterrupted(result, int(signum))
        if manifest_error:
            raise OutputError(manifest_error)
        return result


def _rewrite_manifest(path: Path, rows: list[dict[str, Any]]) -> str | None:
    """Rewrite the manifest with ``rows`` in input order; on a write error (a full disk), keep the rows appended as
    the frames finished, which list the same streams, and return the error as one line."""
    try:
        write_manifest(path, rows)
    except OSError as exc:
        return (f"{path}: cannot rewrite the manifest in input order: {exc.strerror or exc} (its rows, appended as "
                "the frames finished, are kept)")
    return None


def _stopped(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"{path}: cannot write: {exc.strerror or exc}; the batch stopped (the streams written so far "
                       "are kept and listed in the manifest; rerun with --resume to finish)")


def _process(executor, todo: list[Frame], by_key: dict[str, Frame], done: dict[str, dict[str, Any]],
             manifest_log: ManifestLog, progress: bool, say: Callable[[str], None], total: int) -> None:
    """Code ``todo`` on ``executor``; each finished frame's stream is written, then its manifest row appended.

    Raises:
        OutputError: the output is full (or turned read-only); the frame being written then has neither a stream
            nor a row, and every earlier one has both.
    """
    queue = list(reversed(todo))
    finished = total - len(todo)
    with progress_bar(len(todo), "frames", enabled=progress, unit="frame") as bar:
        drawn = progress and sys.stderr.isatty()  # as progress_bar decides

        def tell(line: str) -> None:
            if drawn:
                bar.write(line, file=sys.stderr)
            else:
                say(line)

        while queue or executor.in_flight:
            while queue and executor.in_flight < executor.capacity:
                executor.submit(queue.pop().key)
            rows = executor.wait()
            for notice in executor.notices:
                tell(f"batch: {notice}")
            executor.notices.clear()
            for row in rows:
                frame = by_key[row["input"]]
                record = _record(frame, row)
                try:
                    manifest_log.append(record)
                except OSError as exc:
                    with contextlib.suppress(FileNotFoundError):
                        frame.output.unlink()  # no stream without its manifest row
                    raise _stopped(manifest_log.path, exc) from None
                done[frame.key] = record
                finished += 1
                bar.update(1)
                if record["error"] or not drawn:
                    tell(_log_line(finished, total, frame, record))


def _record(frame: Frame, row: dict[str, Any]) -> dict[str, Any]:
    """Write a finished frame's stream (atomically) and return its manifest row.

    Raises:
        OutputError: the output is full or read-only (:data:`~.output.OUTPUT_FULL`); no stream is left for the frame.
    """
    stream = row.pop("stream", None)
    row.pop("worker", None)
    row["output"] = os.fspath(frame.output)
    if stream is not None:
        try:
            write_bytes_atomic(frame.output, stream)
        except OSError as exc:
            if exc.errno in OUTPUT_FULL:  # every later stream would fail too
                with contextlib.suppress(OSError):
                    frame.output.unlink()  # an older stream of this frame is not in the manifest
                raise _stopped(frame.output, exc) from None
            stream, row["error"] = None, f"{frame.output}: cannot write: {exc}"
    if stream is None:
        with contextlib.suppress(FileNotFoundError):
            frame.output.unlink()  # never leave an older stream beside a failure record
        row["status"] = "failed"
    else:
        row["status"] = "encoded"
    return row


def _log_line(k: int, total: int, frame: Frame, row: dict[str, Any]) -> str:
    if row["error"]:
        return f"[{k}/{total}] {frame.name}: FAILED: {row['error']}"
    checked = ", verified" if row["verified"] else ""
    return (f"[{k}/{total}] {frame.name}: {row['points']:,} points, {row['bpp']:.4f} bpp, "
            f"{row['encode_seconds']:.2f} s{checked}")

