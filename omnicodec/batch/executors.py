"""Where batch frames run: a local process pool, or Ray actors on one machine or a cluster.

Both give the same interface: :meth:`start` brings the workers up (each loads the models once), :meth:`submit`
queues a frame, :meth:`wait` returns the rows of finished frames, :meth:`stats` reports each worker, :meth:`close`
stops them (``kill=True`` on an interruption). The rows come from :func:`.worker.encode_frame`, so the streams are
the same bytes either way.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import socket
from typing import Any

from ..errors import InputError, OmnicodecError
from .worker import EncodeConfig, encode_frame, setup_worker, worker_stats

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


def _barrier_setup(config: EncodeConfig, barrier) -> None:
    setup_worker(config)
    _BARRIER[0] = barrier


_BARRIER: list[Any] = [None]


def _warm() -> int:
    """Wait until every worker is up (so that each one has started and loaded its models)."""
    _BARRIER[0].wait(_START_TIMEOUT)
    return os.getpid()


class LocalPool:
    """A pool of ``workers`` processes on this machine (started with ``spawn``: no state shared with the caller)."""

    kind = "local"

    def __init__(self, config: EncodeConfig, workers: int):
        self.config = config
        self.workers = workers
        self._pool: cf.ProcessPoolExecutor | None = None
        self._pending: set[cf.Future] = set()

    def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(self.workers)
        self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_barrier_setup,
                                            initargs=(self.config, barrier))
        try:
            with _environment(worker_environment(self.config.threads)):  # the processes start here
                warm = [self._pool.submit(_warm) for _ in range(self.workers)]
                pids = [f.result(timeout=_START_TIMEOUT) for f in warm]
        except cf.process.BrokenProcessPool as exc:
            raise OmnicodecError(f"the worker processes failed to start ({exc})") from None
        if len(set(pids)) != self.workers:
            raise OmnicodecError(f"expected {self.workers} worker processes, {len(set(pids))} started")

    def submit(self, path: str) -> None:
        assert self._pool is not None
        self._pending.add(self._pool.submit(encode_frame, path))

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    @property
    def capacity(self) -> int:
        """Frames to keep in flight: one running and one queued per worker."""
        return 2 * self.workers

    def wait(self, timeout: float | None = None) -> list[dict[str, Any]]:
        done, self._pending = cf.wait(self._pending, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        rows = []
        for future in done:
            try:
                rows.append(future.result())
            except cf.process.BrokenProcessPool:
                raise OmnicodecError("a worker process died (killed, or out of memory); rerun with --resume and "
                                     "fewer --workers") from None
        return rows

    def stats(self) -> list[dict[str, Any]]:
        assert self._pool is not None
        futures = [self._pool.submit(_stats_after_barrier) for _ in range(self.workers)]
        return [f.result(timeout=60) for f in futures]

    def close(self, kill: bool = False) -> None:
        if self._pool is None:
            return
        if kill:
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None


def _stats_after_barrier() -> dict[str, Any]:
    _BARRIER[0].wait(60)  # one call per worker, as in start()
    return worker_stats()


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
        self._pending: dict[Any, Any] = {}  # object ref -> actor
        self._started_ray = False

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
        remote = ray.remote(num_cpus=1, max_restarts=0, runtime_env={"env_vars": env})(_RayWorker)
        self._actors = [remote.remote(self.config) for _ in range(self.workers)]
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
        actor = self._idle.pop()
        with open(path, "rb") as fh:
            payload = fh.read()
        self._pending[actor.encode.remote(path, payload)] = actor

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
            actor = self._pending.pop(ref)
            try:
                rows.append(ray.get(ref))
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

