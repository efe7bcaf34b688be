"""Where batch frames run: a local process pool, or Ray actors on one machine or a cluster.

Both give the same interface: :meth:`start` brings the workers up (each loads the models once), :meth:`submit`
queues a frame, :meth:`wait` returns the rows of finished frames, :meth:`stats` reports each worker, :meth:`close`
stops them (``kill=True`` on an interruption), and :attr:`notices` holds a line per worker death for the log. The
rows come from :func:`.worker.encode_frame`, so the streams are the same bytes either way.

A worker that dies while coding a frame (SIGKILL, the out-of-memory killer) is replaced and the frame coded once
more; a second death makes it a failed frame, with the reason as its error. The other frames are not disturbed.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import multiprocessing.connection as mpc
import os
import signal
import socket
import time
from typing import Any

from ..errors import InputError, OmnicodecError
from .worker import KILL_TOKENS, EncodeConfig, empty_row, encode_frame, setup_worker, worker_stats

__all__ = ["LocalPool", "RayPool", "make_executor"]

_START_TIMEOUT = 300.0
# Thread pools of the numerical libraries a worker loads; each worker gets its share of the cores, not all of them
# (numpy's OpenBLAS otherwise starts one thread per core in every worker).
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def worker_environment(threads: int) -> dict[str, str]:
    """Environment variables limiting a worker's library thread pools to ``threads`` (those the user set win)."""
    return {k: str(threads) for k in _THREAD_VARIABLES if k not in os.environ}


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


ATTEMPTS = 2  # a frame whose worker process dies while coding it is coded once more, then recorded as failed


def _how_it_died(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


class _Deaths:
    """Worker deaths counted against the frame being coded: the first :data:`ATTEMPTS` - 1 are retried, then the
    frame fails."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.notices: list[str] = []  # one line per death, for the caller's log

    def count(self, path: str, how: str) -> dict[str, Any] | None:
        """Record that the worker coding ``path`` died (``how``); None when the frame is to be coded again,
        otherwise its failure row."""
        self.counts[path] = self.counts.get(path, 0) + 1
        if self.counts[path] < ATTEMPTS:
            self.notices.append(f"{path}: its worker process died ({how}); coding it again")
            return None
        return empty_row(path, f"{path}: the worker process coding it died {ATTEMPTS} times ({how}; out of memory?)")


_STATS = "stats"


def _serve(config: EncodeConfig, conn) -> None:
    """A worker process: set up once, then answer each frame path received with its row, until told to stop
    (None) or the caller is gone."""
    setup_worker(config)
    try:
        conn.send(("ready", os.getpid()))
        while (task := conn.recv()) is not None:
            conn.send(("stats", worker_stats()) if task == _STATS else ("row", encode_frame(task)))
    except (EOFError, BrokenPipeError):  # the caller is gone
        return


class _Process:
    """One worker process, the caller's end of its pipe, and the frames sent to it, oldest first: the first is
    being coded, the others wait in the pipe."""

    def __init__(self, ctx, config: EncodeConfig):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(config, child), name="omnicodec-batch-worker")
        with _environment(worker_environment(config.threads)):
            self.process.start()
        child.close()
        self.frames: collections.deque[str] = collections.deque()
        self.ready = False

    def send(self, task: str | None) -> None:
        with contextlib.suppress(OSError):  # a dead worker: its death is handled by LocalPool.wait
            self.conn.send(task)


class LocalPool:
    """A pool of ``workers`` processes on this machine (started with ``spawn``: no state shared with the caller).

    A worker that dies (killed, out of memory) is replaced by a new one and the frames sent to it are handed out
    again; the frame it was coding counts an attempt (:class:`_Deaths`), those waiting behind it do not.
    """

    kind = "local"

    def __init__(self, config: EncodeConfig, workers: int):
        self.config = config
        self.workers = workers
        self._ctx = multiprocessing.get_context("spawn")
        self._procs: list[_Process] = []
        self._deaths = _Deaths()
        self.notices = self._deaths.notices

    def start(self) -> None:
        self._procs = [_Process(self._ctx, self.config) for _ in range(self.workers)]
        deadline = time.monotonic() + _START_TIMEOUT
        while not all(p.ready for p in self._procs):
            if time.monotonic() > deadline:
                raise OmnicodecError(f"the worker processes did not start within {_START_TIMEOUT:.0f} s")
            self._poll(1.0)

    def submit(self, path: str) -> None:
        """Send ``path`` to the worker with the fewest frames, preferring one that is up to one still starting."""
        proc = min(self._procs, key=lambda p: (not p.ready, len(p.frames)))
        proc.frames.append(path)
        proc.send(path)

    @property
    def in_flight(self) -> int:
        return sum(len(p.frames) for p in self._procs)

    @property
    def capacity(self) -> int:
        """Frames to keep in flight: one running and one queued per worker."""
        return 2 * self.workers

    def wait(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Rows of frames that finished (possibly none, after a worker's death or on ``timeout``)."""
        return self._poll(timeout)

    def _poll(self, timeout: float | None) -> list[dict[str, Any]]:
        by_handle = {h: p for p in self._procs for h in (p.conn, p.process.sentinel)}
        rows = []
        for proc in {by_handle[h] for h in mpc.wait(list(by_handle), timeout)}:
            dead = False
            try:
                while proc.conn.poll():
                    kind, value = proc.conn.recv()
                    if kind == "ready":
                        proc.ready = True
                    elif kind == "row":
                        proc.frames.popleft()
                        rows.append(value)
            except (EOFError, OSError):  # the pipe closed, or a message cut short: the worker is gone
                dead = True
            if dead or not proc.process.is_alive():
                rows.extend(self._replace(proc))
        return rows

    def _replace(self, dead: _Process) -> list[dict[str, Any]]:
        """Start a new worker in place of ``dead`` and hand ``dead``'s frames out again; returns the failure row of
        the frame it was coding when that was the frame's last attempt."""
        dead.process.join(timeout=10)
        dead.conn.close()
        how = _how_it_died(dead.process.exitcode)
        if not dead.ready:
            raise OmnicodecError(f"a worker process failed to start ({how})")
        new = _Process(self._ctx, self.config)
        self._procs[self._procs.index(dead)] = new
        frames = list(dead.frames)
        failed = self._deaths.count(frames[0], how) if frames else None
        for path in frames[1:] if failed else frames:
            self.submit(path)
        return [failed] if failed else []

    def stats(self) -> list[dict[str, Any]]:
        """Each worker's :func:`.worker.worker_stats` (a replacement still starting has none yet)."""
        ready = [p for p in self._procs if p.ready]
        for proc in ready:
            proc.send(_STATS)
        found = []
        for proc in ready:
            with contextlib.suppress(EOFError, OSError):
                while proc.conn.poll(60):
                    kind, value = proc.conn.recv()
                    if kind == "stats":
                        found.append(value)
                        break
        return found

    def close(self, kill: bool = False) -> None:
        for proc in self._procs:
            if kill or not proc.ready:
                proc.process.terminate()
            else:
                proc.send(None)
        for proc in self._procs:
            proc.process.join(timeout=30)
            if proc.process.exitcode is None:
                proc.process.kill()
                proc.process.join()
            proc.conn.close()
        self._procs = []


class _RayWorker:
    """A Ray actor: set up once, then compress frames sent as bytes (the cluster need not share a disk)."""

    def __init__(self, config: EncodeConfig):
        setup_worker(config, ignore_sigint=False)

    def ready(self) -> int:
        return os.getpid()

    def encode(self, path: str, payload: bytes) -> dict[str, Any]:
        return encode_frame(path, payload)

    def stats(self) -> dict[str, Any]:
        return worker_stats()


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail fast on a ``HOST:PORT`` that accepts no connection (Ray itself retries for minutes)."""
    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():
        return  # another form Ray understands (e.g. ray://HOST:PORT); Ray reports its own errors
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise InputError(f"cannot reach the Ray cluster at {address!r}: {exc.strerror or exc}") from None


class RayPool:
    """``workers`` Ray actors, one CPU each; ``address="auto"`` starts a local Ray instance, anything else is the
    address of a running cluster (``ray start --head`` prints it)."""

    kind = "ray"

    def __init__(self, config: EncodeConfig, workers: int, address: str):
        self.config = config
        self.workers = workers
        self.address = address
        self._actors: list[Any] = []
        self._idle: list[Any] = []
        self._pending: dict[Any, tuple[Any, str]] = {}  # object ref -> (actor, frame path)
        self._started_ray = False
        self._deaths = _Deaths()
        self.notices = self._deaths.notices

    def start(self) -> None:
        try:
            import ray
        except ImportError:
            raise InputError("--ray needs the ray package: pip install 'omnicodec[ray]'") from None
        self._ray = ray
        if not ray.is_initialized():
            kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                                          configure_logging=False)
            if self.address == "auto":
                kwargs.update(num_cpus=self.workers)
                # a private instance on this machine, whatever RAY_ADDRESS says
                os.environ.pop("RAY_ADDRESS", None)
            else:
                _check_reachable(self.address)
                kwargs.update(address=self.address)
            try:
                ray.init(**kwargs)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                hint = ("" if os.environ.get("RAY_AUTH_MODE") else "; if the cluster uses token authentication (the "
                        "default of `ray start` since Ray 2.59), set RAY_AUTH_MODE=token (the token is read from "
                        "RAY_AUTH_TOKEN or ~/.ray/auth_token)")
                raise InputError(f"cannot reach the Ray cluster at {self.address!r}: {exc}{hint}") from None
            self._started_ray = True
        env = {k: str(self.config.threads) for k in _THREAD_VARIABLES}
        env.update({k: os.environ[k] for k in (KILL_TOKENS,) if k in os.environ})
        self._remote = ray.remote(num_cpus=1, max_restarts=0, runtime_env={"env_vars": env})(_RayWorker)
        self._actors = [self._remote.remote(self.config) for _ in range(self.workers)]
        try:
            ray.get([a.ready.remote() for a in self._actors], timeout=_START_TIMEOUT)
        except Exception as exc:  # an actor that cannot start
            raise OmnicodecError(f"the Ray workers failed to start ({type(exc).__name__}: {exc})") from None
        self._idle = list(self._actors)

    def submit(self, path: str) -> None:
        # An actor runs one frame at a time; frames wait here until one is idle, so a frame never queues behind
        # another on a busy worker while a different one sits idle.
        if not self._idle:
            raise RuntimeError("submit() with no idle Ray worker; check in_flight first")
        self._send(self._idle.pop(), path)

    def _send(self, actor, path: str) -> None:
        with open(path, "rb") as fh:
            payload = fh.read()
        self._pending[actor.encode.remote(path, payload)] = (actor, path)

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    @property
    def capacity(self) -> int:
        """Frames to keep in flight: one per actor."""
        return self.workers

    def wait(self, timeout: float | None = None) -> list[dict[str, Any]]:
        ray = self._ray
        ready, _ = ray.wait(list(self._pending), num_returns=1, timeout=timeout)
        rows = []
        for ref in ready:
            actor, path = self._pending.pop(ref)
            try:
                rows.append(ray.get(ref))
            except ray.exceptions.RayActorError as exc:  # the actor's process died: a new actor takes its place
                new = self._remote.remote(self.config)
                self._actors[self._actors.index(actor)] = new
                actor = new
                failed = self._deaths.count(path, f"Ray: {type(exc).__name__}")
                if not failed:
                    self._send(actor, path)
                    continue
                rows.append(failed)
            except ray.exceptions.RayError as exc:
                raise OmnicodecError(f"a Ray worker failed ({type(exc).__name__}); rerun with --resume") from None
            self._idle.append(actor)
        return rows

    def stats(self) -> list[dict[str, Any]]:
        return self._ray.get([a.stats.remote() for a in self._actors], timeout=60)

    def close(self, kill: bool = False) -> None:
        if not self._actors:
            return
        ray = self._ray
        for actor in self._actors:
            ray.kill(actor)
        self._actors, self._idle, self._pending = [], [], {}
        if self._started_ray:
            ray.shutdown()


def make_executor(config: EncodeConfig, workers: int, ray: str | None):
    """A :class:`LocalPool`, or a :class:`RayPool` when ``ray`` is ``"auto"`` or a cluster address."""
    if ray is None:
        return LocalPool(config, workers)
    return RayPool(config, workers, ray)

