"""The output folder of a batch: checked writable before any work, and held by one batch at a time.

The hold is an ``fcntl.flock`` on a lock file in the folder, so the kernel releases it when the batch's process
ends, however it ends (a crash or SIGKILL included). A lock file left by a process that died is taken over by the
next batch.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputError

__all__ = ["LOCK_NAME", "OUTPUT_FULL", "check_writable", "hold_folder"]

LOCK_NAME = ".omnicodec-batch.lock"
# Write errors after which every later stream would fail the same way: the batch stops instead of going on.
OUTPUT_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
# flock errors of file systems without locks (some NFS set-ups): the batch runs unlocked there.
_NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP})


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def check_writable(folder: Path) -> None:
    """Raise :class:`OutputError` unless files can be created in ``folder`` or, when it does not exist yet, in its
    nearest existing parent (where it will be created).

    Creates and removes an unnamed temporary file, so permissions, ACLs and read-only mounts all count, and
    nothing is left behind.
    """
    existing = _nearest_existing(folder)
    where = "" if existing == folder else f" (to be created in {existing})"
    if not existing.is_dir():
        raise OutputError(f"{folder}: cannot create the output folder: {existing} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise OutputError(f"{folder}: the output folder is not writable{where}: {exc.strerror or exc}") from None


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; returns those this call created, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    created = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        created.append(path)
    return created[::-1]


def _lock(path: Path) -> int | None:
    """Open and flock ``path``; the descriptor, or None where the file system has no locks.

    Raises:
        OutputError: another process holds the lock.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            by = f" (pid {holder})" if holder.isdigit() else ""
            raise OutputError(f"{path.parent}: another batch{by} is writing to this folder; wait for it to end or "
                              "choose another output folder") from None
        except OSError as exc:
            os.close(fd)
            if exc.errno in _NO_LOCKS:
                with contextlib.suppress(OSError):
                    path.unlink()
                return None
            raise OutputError(f"{path}: cannot lock the output folder: {exc.strerror or exc}") from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file between our open and flock: lock the one there now
    with contextlib.suppress(OSError):  # the pid is only for the message of a batch refused (a full disk: none)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


@contextlib.contextmanager
def hold_folder(folder: Path) -> Iterator[None]:
    """Create ``folder`` if needed and hold it for one batch until the block ends.

    Guarantees: while the block runs no other batch holds the folder (a second one raises :class:`OutputError`
    at once, naming the holder's pid); at the end the lock file is removed, and so are the folders this call
    created if they are still empty, so a batch that could not start leaves nothing behind.
    """
    created = _make_folders(folder)
    lock = folder / LOCK_NAME
    try:
        fd = _lock(lock)
    except BaseException:
        _remove_empty(created)
        raise
    try:
        yield
    finally:
        if fd is not None:
            with contextlib.suppress(OSError):
                lock.unlink()  # while still held: a batch that opened it meanwhile sees it replaced and retries
            os.close(fd)
        _remove_empty(created)


def _remove_empty(folders: list[Path]) -> None:
    for path in folders:  # deepest first
        with contextlib.suppress(OSError):
            path.rmdir()
