"""Batch faults: a worker killed mid-frame, a full disk, a read-only output folder, two batches on one folder, and
inputs or links that would put a stream outside the output folder."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import omnicodec
from omnicodec.batch import find_frames, read_manifest, run
from omnicodec.batch import output as batch_output
from omnicodec.batch import runner as batch_runner
from omnicodec.batch.output import LOCK_NAME
from omnicodec.batch.worker import KILL_TOKENS
from omnicodec.cli import main
from omnicodec.errors import InputError
from omnicodec.io import atomic
from omnicodec.pointcloud.compare import same_on_grid
from tests.conftest import REPO
from tests.test_batch import STEP, _leftovers, _sweep

OPTIONS = ["--codec", "octree", "--grid-step", str(STEP)]  # the codec does not matter here; octree is quick


def _frames(folder: Path, count: int, points: int = 400, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    for i in range(count):
        omnicodec.write(folder / f"{i:06d}.bin", _sweep(rng, points))
    return folder


def _batch(src: Path, out: Path, *extra: str) -> int:
    return main(["batch", str(src), "-o", str(out), *OPTIONS, *extra])


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def _assert_manifest_matches_streams(out: Path) -> dict[str, dict]:
    """Every stream in ``out`` has an ``encoded`` (or ``resumed``) row, every such row a whole stream that decodes to
    its input, and no temporary file is left."""
    rows = read_manifest(out / "manifest.jsonl")
    good = {Path(r["output"]) for r in rows.values() if r["status"] in ("encoded", "resumed")}
    assert set(out.rglob("*.omc")) == good
    for row in rows.values():
        if row["status"] in ("encoded", "resumed"):
            stream = Path(row["output"]).read_bytes()
            assert row["bits"] == 8 * len(stream)
            assert same_on_grid(omnicodec.read(row["input"]), omnicodec.decompress(stream), STEP)
    assert not _leftovers(out)
    return rows


def _mount_tmpfs(path: Path, options: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")


def _unmount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True)


def test_a_killed_worker_is_replaced_and_its_frame_redone_once_then_failed(tmp_path, monkeypatch, capsys):
    """SIGKILL mid-frame (the worker's test hook): a new worker takes over and every other frame finishes; a frame
    whose worker dies once is coded again, one whose worker dies on both attempts is recorded as failed (exit 3)."""
    src = _frames(tmp_path / "in", 6)
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    for name in ("000001.bin.1", "000003.bin.1", "000003.bin.2"):
        (tokens / name).touch()
    monkeypatch.setenv(KILL_TOKENS, str(tokens))
    out = tmp_path / "out"
    assert _batch(src, out, "--workers", "2", "--json") == 3
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert not any(tokens.iterdir())  # the three deaths happened
    assert (summary["encoded"], summary["failed"], summary["unfinished"]) == (5, 1, 0)
    assert 1 <= len(summary["workers"]) <= 2  # the workers up at the end (a replacement may still be starting)
    assert "000001.bin: its worker process died (killed by SIGKILL); coding it again" in captured.err
    rows = _assert_manifest_matches_streams(out)
    by_name = {Path(k).name: r for k, r in rows.items()}
    assert [by_name[f"{i:06d}.bin"]["status"] for i in range(6)] == ["encoded"] * 3 + ["failed"] + ["encoded"] * 2
    assert "died 2 times (killed by SIGKILL" in by_name["000003.bin"]["error"]
    assert not (out / "000003.omc").exists()
    for path in sorted(src.glob("*.bin")):  # the redone frame too: the same bytes as compress
        if path.name != "000003.bin":
            assert (out / path.with_suffix(".omc").name).read_bytes() == omnicodec.compress(
                omnicodec.read(path), codec="octree", grid_step=STEP)


def test_a_full_disk_stops_the_batch_with_one_line_and_resume_finishes(tmp_path, monkeypatch, capsys):
    """Portable: the third stream's write fails half-way with ENOSPC inside the atomic writer. One error line, exit
    2, no partial file, the manifest lists exactly the two streams written; --resume with space again finishes."""
    src = _frames(tmp_path / "in", 4)
    real_open = open
    streams = []

    class HalfWritten:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def filling_open(path, mode="r", *args, **kwargs):
        fh = real_open(path, mode, *args, **kwargs)
        if ".omc" in os.fspath(path):
            streams.append(path)
            if len(streams) >= 3:
                return HalfWritten(fh)
        return fh

    monkeypatch.setattr(atomic, "open", filling_open, raising=False)
    out = tmp_path / "out"
    assert _batch(src, out, "--workers", "1", "-q") == 2
    line = _one_line(capsys)
    assert "000002.omc: cannot write: No space left on device; the batch stopped" in line and "--resume" in line
    rows = _assert_manifest_matches_streams(out)
    assert sorted(Path(k).name for k in rows) == ["000000.bin", "000001.bin"]
    assert not (out / LOCK_NAME).exists()

    monkeypatch.undo()  # space again
    assert _batch(src, out, "--workers", "1", "--resume", "-q") == 0
    assert len(_assert_manifest_matches_streams(out)) == 4


def test_a_real_full_tmpfs(tmp_path, capsys):
    """A 40 KiB tmpfs fills up part-way: one error line, exit 2, the manifest matches the whole streams present."""
    src = _frames(tmp_path / "in", 10, points=1500)
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "size=40k")
    try:
        out = disk / "out"
        assert _batch(src, out, "--workers", "1", "-q") == 2
        assert "No space left on device" in _one_line(capsys)
        rows = _assert_manifest_matches_streams(out)
        assert 1 <= len(rows) < 10 and all(r["status"] == "encoded" for r in rows.values())
    finally:
        _unmount(disk)


@pytest.mark.parametrize("how", ["permissions", "read-only mount", "injected"])
def test_a_read_only_output_folder_is_one_error_before_any_work(tmp_path, monkeypatch, capsys, how):
    """Exit 2 with one line before any worker starts, and nothing written. ``permissions`` (chmod 555) needs a
    non-root user, since root ignores permission bits; ``read-only mount`` needs mount rights; ``injected`` (the
    probe file fails with EACCES) runs everywhere and checks the same error path."""
    src = _frames(tmp_path / "in", 1)
    folder = tmp_path / "ro"
    folder.mkdir()
    if how == "permissions":
        if os.geteuid() == 0:
            pytest.skip("root ignores permission bits; the read-only mount and injected variants cover this")
        folder.chmod(0o555)
    elif how == "read-only mount":
        _mount_tmpfs(folder, "ro,size=64k")
    else:
        def refuse(*args, **kwargs):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

        monkeypatch.setattr(batch_output.tempfile, "TemporaryFile", refuse)

    def no_workers(*args, **kwargs):
        raise AssertionError("workers started for an unwritable output folder")

    monkeypatch.setattr(batch_runner, "make_executor", no_workers)
    try:
        for out in (folder, folder / "new" / "out"):  # the folder itself, and one to be created inside it
            assert _batch(src, out) == 2
            line = _one_line(capsys)
            assert f"{out}: the output folder is not writable" in line
            assert "denied" in line or "Read-only" in line
            assert not any(folder.iterdir())
    finally:
        if how == "read-only mount":
            _unmount(folder)
        folder.chmod(0o755)


def _cli(src: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "omnicodec", "batch", str(src), "-o", str(out), *OPTIONS,
                             "--workers", "1", "-q", *extra], env=dict(os.environ, PYTHONPATH=str(REPO)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_batch_on_the_same_folder_refuses_and_a_crash_releases_the_lock(tmp_path):
    """Two processes: while the first holds the output folder (stopped with SIGSTOP once its lock file appears),
    the second exits 2 with one line naming the first's pid; after the first is SIGKILLed, a third batch runs."""
    src = _frames(tmp_path / "in", 3)
    out = tmp_path / "out"
    first = _cli(src, out)
    try:
        deadline = time.time() + 120
        while not (out / LOCK_NAME).exists() and first.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        first.send_signal(signal.SIGSTOP)
        assert first.poll() is None, first.communicate()
        second = _cli(src, out)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2
        assert err.strip() == (f"omnicodec batch: error: {out}: another batch (pid {first.pid}) is writing to this "
                               "folder; wait for it to end or choose another output folder")
    finally:
        first.kill()  # a crash: the kernel drops its lock
        first.communicate(timeout=60)
    assert (out / LOCK_NAME).exists()  # left behind by the crash, and taken over below
    result = run([src], out, codec="octree", grid_step=STEP, workers=1, resume=True, log=None, progress=False)
    assert result.ok
    _assert_manifest_matches_streams(out)
    assert not (out / LOCK_NAME).exists()


def test_streams_never_land_outside_the_output_folder(tmp_path, monkeypatch, capsys):
    """``..`` after a wildcard and an output sub-folder linked to elsewhere are refused; ``../x.ply``, absolute paths
    and a linked input file all map inside the output folder, a link by its own name."""
    for rel in ("in/a/x.ply", "in/b/y.ply", "evil.ply", "elsewhere/target.ply"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        omnicodec.write(tmp_path / rel, _sweep(np.random.default_rng(0), 50))
    out = tmp_path / "out"

    with pytest.raises(InputError, match=r"evil.ply: lies outside the inputs' folder .*'\.\.' after a wildcard"):
        find_frames([str(tmp_path / "in" / "*" / ".." / ".." / "evil.ply")], out)

    monkeypatch.chdir(tmp_path / "in")
    (frame,) = find_frames(["../evil.ply"], out)  # a file's root is its own folder
    assert frame.output == out / "evil.omc"
    frames = find_frames([tmp_path / "in" / "a" / "x.ply", tmp_path / "in" / "b"], out)  # absolute paths
    assert [f.output for f in frames] == [out / "a" / "x.omc", out / "b" / "y.omc"]
    (tmp_path / "in" / "a" / "link.ply").symlink_to(tmp_path / "elsewhere" / "target.ply")
    frames = find_frames([tmp_path / "in"], out)
    assert [f.output for f in frames] == [out / "a" / "link.omc", out / "a" / "x.omc", out / "b" / "y.omc"]

    out.mkdir()
    (out / "b").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(InputError, match=r"y.omc: its folder .* leads outside the output folder"):
        find_frames([tmp_path / "in"], out)
    assert _batch(tmp_path / "in", out) == 2  # and from the command line: one line, nothing written
    assert "leads outside the output folder" in _one_line(capsys)
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["target.ply"]
    assert sorted(p.name for p in out.iterdir()) == ["b"]
