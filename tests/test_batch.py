"""Batch compression: frame discovery, the local pool and Ray, failures, resume, interruption, atomic outputs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import omnicodec
from omnicodec import zoo
from omnicodec.batch import BatchInterrupted, find_frames, read_manifest, run
from omnicodec.bitstream import open_stream
from omnicodec.cli import main
from omnicodec.errors import InputError
from omnicodec.pointcloud.compare import same_on_grid
from omnicodec.types import PointCloud
from tests.conftest import REPO

STEP = 0.001


def _sweep(rng: np.random.Generator, points: int) -> PointCloud:
    """A LiDAR-like frame in metres: rings of points on a ground plane and a few walls, with intensity."""
    az = rng.uniform(0, 2 * np.pi, points)
    ring = rng.integers(0, 16, points)
    r = 3.0 + 1.5 * ring + rng.normal(0, 0.02, points)
    z = -1.7 + rng.normal(0, 0.01, points)
    wall = rng.random(points) < 0.3
    r[wall] = 12.0
    z[wall] = rng.uniform(-1.7, 1.0, wall.sum())
    pos = np.stack([r * np.cos(az), r * np.sin(az), z], axis=1).astype(np.float32)
    return PointCloud(pos, {"intensity": rng.random(points).astype(np.float32)})


@pytest.fixture(scope="module")
def sequence(tmp_path_factory) -> Path:
    """A folder of five KITTI-format frames (3,000 points each) in a sub-folder ``seq``."""
    root = tmp_path_factory.mktemp("lidar")
    rng = np.random.default_rng(7)
    for i in range(5):
        omnicodec.write(root / "seq" / f"{i:06d}.bin", _sweep(rng, 3000))
    return root / "seq"


def _streams(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.omc"))}


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".part" in p.name]


def test_find_frames_mirrors_inputs(tmp_path):
    for rel in ("a/x.ply", "a/sub/y.pcd", "b/z.bin", "b/notes.txt", "a/.hidden/w.ply"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    frames = find_frames([tmp_path / "a", str(tmp_path / "b" / "*.bin")], tmp_path / "out")
    assert [f.name for f in frames] == ["a/sub/y.pcd", "a/x.ply", "b/z.bin"]
    assert [f.output for f in frames] == [tmp_path / "out" / n for n in ("a/sub/y.omc", "a/x.omc", "b/z.omc")]
    globbed = find_frames([str(tmp_path / "*")], tmp_path / "out")  # a glob matching folders searches them
    assert [f.name for f in globbed] == ["a/sub/y.pcd", "a/x.ply", "b/z.bin"]
    single = find_frames([tmp_path / "a"], tmp_path / "out")  # one folder: its own contents at the top
    assert [f.output.relative_to(tmp_path / "out").as_posix() for f in single] == ["sub/y.omc", "x.omc"]
    assert len(find_frames([tmp_path / "a", tmp_path / "a" / "x.ply"], tmp_path / "o")) == 2  # each file once

    (tmp_path / "a" / "x.pcd").write_bytes(b"")
    with pytest.raises(InputError, match="would both be written to"):
        find_frames([tmp_path / "a"], tmp_path / "out")
    with pytest.raises(InputError, match="no such file or folder"):
        find_frames([tmp_path / "missing"], tmp_path / "out")
    with pytest.raises(InputError, match="matches no point-cloud files"):
        find_frames([str(tmp_path / "*.las")], tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no point-cloud files"):
        find_frames([tmp_path / "empty"], tmp_path / "out")
    with pytest.raises(InputError, match="not a point-cloud file"):
        find_frames([tmp_path / "b" / "notes.txt"], tmp_path / "out")


def test_local_pool_streams_manifest_and_failures(tmp_path, sequence, capsys):
    """Two workers: every stream is what compress() gives, decodes exactly; a corrupt frame is recorded and the rest
    finish; the exit status is 3."""
    src = tmp_path / "in"
    src.mkdir()
    for p in sorted(sequence.glob("*.bin"))[:3]:
        (src / p.name).write_bytes(p.read_bytes())
    (src / "000009.bin").write_bytes(b"\x00" * 10)  # not a whole number of 16-byte records
    out = tmp_path / "out"
    status = main(["batch", str(src), "-o", str(out), "--grid-step", str(STEP), "--workers", "2", "--verify",
                   "--json", "-q"])
    summary = json.loads(capsys.readouterr().out)
    assert status == 3
    assert (summary["frames"], summary["encoded"], summary["failed"]) == (4, 3, 1)
    assert len(summary["workers"]) == 2
    for worker in summary["workers"]:  # occupancy and attribute models once per worker, at start-up
        assert worker["model_loads"] == (len(zoo.list_models("occupancy")) + len(zoo.list_models("attributes"))
                                         + len(zoo.list_models("attributes_raht")))
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [Path(r["input"]).name for r in rows] == ["000000.bin", "000001.bin", "000002.bin", "000009.bin"]
    bad = rows[-1]
    assert bad["status"] == "failed" and "000009.bin" in bad["error"] and bad["bits"] is None
    assert not (out / "000009.omc").exists()
    for row in rows[:3]:
        cloud = omnicodec.read(row["input"])
        stream = Path(row["output"]).read_bytes()
        assert row["status"] == "encoded" and row["verified"] is True and row["error"] is None
        assert row["points"] == 3000 and row["bits"] == 8 * len(stream)
        assert row["bpp"] == pytest.approx(row["bits"] / 3000)
        assert stream == omnicodec.compress(cloud, grid_step=STEP)  # the pool changes nothing
        assert same_on_grid(cloud, omnicodec.decompress(stream), STEP)
    assert summary["total_bpp"] == pytest.approx(sum(r["bits"] for r in rows[:3]) / 9000)
    assert not _leftovers(out)


def test_resume_redoes_only_missing_or_broken_streams(tmp_path, sequence):
    out = tmp_path / "out"
    first = run([sequence], out, grid_step=STEP, workers=1, log=None, progress=False)
    assert first.ok and first.summary["encoded"] == 5
    before = _streams(out)
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*.omc")}

    again = run([sequence], out, grid_step=STEP, workers=1, resume=True, log=None, progress=False)
    assert again.summary["resumed"] == 5 and again.summary["encoded"] == 0 and again.workers == []
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.omc")} == stamps  # nothing rewritten
    assert again.summary["bits"] == first.summary["bits"]

    (out / "000001.omc").unlink()
    data = bytearray((out / "000003.omc").read_bytes())
    data[-5] ^= 0xFF  # a checksum now fails
    (out / "000003.omc").write_bytes(bytes(data))
    third = run([sequence], out, grid_step=STEP, workers=1, resume=True, log=None, progress=False)
    assert (third.summary["encoded"], third.summary["resumed"]) == (2, 3)
    assert _streams(out) == before
    rows = read_manifest(out / "manifest.jsonl")
    assert len((out / "manifest.jsonl").read_text().splitlines()) == 5
    assert sorted(r["status"] for r in rows.values()) == ["encoded"] * 2 + ["resumed"] * 3

    # streams made otherwise are not "done": another codec, grid step or named model
    for n, changed in enumerate((dict(codec="octree"), dict(grid_step=0.002), dict(model="dense"))):
        other = shutil.copytree(out, tmp_path / f"other{n}")  # the first streams, to resume with other options
        redo = run([sequence], other, workers=1, resume=True, log=None, progress=False,
                   **{"grid_step": STEP, **changed})
        assert redo.summary["encoded"] == 5, changed


def test_bad_options_fail_before_any_work(tmp_path, sequence, capsys):
    out = tmp_path / "out"
    for argv, message in (
        (["--rate", "99"], "rate must be an integer from 1"),
        (["--codec", "learned", "--rate", "3"], "has no option 'rate'"),
        (["--model", "nope"], "unknown model 'nope'"),
        (["--workers", "0"], "workers must be a positive integer"),
        (["--codec", "zip"], "unknown codec 'zip'"),
    ):
        assert main(["batch", str(sequence), "-o", str(out), "--grid-step", str(STEP), *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err
    assert not out.exists() or not any(out.iterdir())


def test_unreachable_ray_cluster_is_one_error_and_writes_nothing(tmp_path, sequence, capsys):
    pytest.importorskip("ray")
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "out"
    assert main(["batch", str(sequence), "-o", str(out), "--grid-step", str(STEP), "--ray", f"127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot reach the Ray cluster" in err
    assert not out.exists()


def _default_sigint() -> None:
    # as from a terminal: an ignored SIGINT would be inherited (an earlier test may have run a worker set-up, which
    # ignores it, in this process), and Python then leaves it ignored
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_batch(src: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "omnicodec", "batch", str(src), "-o", str(out), "--grid-step",
                             str(STEP), "--workers", "1", *extra], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_no_partial_files_and_resumes(tmp_path, signum):
    """Stopped after its first frame, the batch exits with 128 + the signal, keeps its finished streams and the
    manifest, leaves no partial file; --resume then finishes with the same bytes as an uninterrupted run."""
    rng = np.random.default_rng(11)
    src = tmp_path / "seq"
    for i in range(5):
        omnicodec.write(src / f"{i:06d}.bin", _sweep(rng, 20000))
    out = tmp_path / "out"
    proc = _start_batch(src, out)
    manifest = out / "manifest.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if manifest.exists() and manifest.read_text().strip():
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err
    assert "interrupted" in err and "--resume" in err
    assert not _leftovers(out)
    done = read_manifest(manifest)
    assert 1 <= len(done) < 5
    assert sorted(out.glob("*.omc")) == sorted(Path(r["output"]) for r in done.values())
    for path in out.glob("*.omc"):
        open_stream(path)  # every stream with a final name is whole

    resumed = run([src], out, grid_step=STEP, workers=1, resume=True, log=None, progress=False)
    assert resumed.ok and resumed.summary["resumed"] == len(done) and resumed.summary["encoded"] == 5 - len(done)
    for path in sorted(src.glob("*.bin")):  # the same bytes as an uninterrupted compress
        assert (out / path.name).with_suffix(".omc").read_bytes() == omnicodec.compress(omnicodec.read(path),
                                                                                        grid_step=STEP)


def test_interruption_through_the_api_returns_what_was_done(tmp_path, sequence, monkeypatch):
    from omnicodec.batch import runner

    calls = []
    original = runner._record

    def record_then_stop(frame, row):
        calls.append(frame)
        result = original(frame, row)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return result

    monkeypatch.setattr(runner, "_record", record_then_stop)
    with pytest.raises(BatchInterrupted) as info:
        run([sequence], tmp_path / "out", grid_step=STEP, workers=1, log=None, progress=False)
    result = info.value.result
    assert info.value.signum == signal.SIGINT and result.interrupted
    assert result.summary["encoded"] == 1 and result.summary["unfinished"] == 4
    assert len(read_manifest(tmp_path / "out" / "manifest.jsonl")) == 1
    assert not _leftovers(tmp_path / "out")


def test_decompress_a_folder(tmp_path, sequence, capsys):
    out = tmp_path / "streams"
    run([sequence], out, grid_step=STEP, workers=1, log=None, progress=False)
    (out / "broken.omc").write_bytes(b"OMC?")
    decoded = tmp_path / "decoded"
    assert main(["decompress", str(out), "-o", str(decoded), "--format", "bin", "-q"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "broken.omc" in err[0]
    for src in sorted(sequence.glob("*.bin")):
        assert same_on_grid(omnicodec.read(src), omnicodec.read(decoded / src.name), STEP)
    assert main(["decompress", str(out), "-o", str(decoded), "--format", "obj"]) == 2
    assert "--format 'obj'" in capsys.readouterr().err


def test_ray_streams_equal_the_local_pool(tmp_path, sequence, monkeypatch):
    """The same streams either way, even when a Ray worker is killed mid-frame (the worker's test hook): a new actor
    takes its place and the frame is coded again."""
    pytest.importorskip("ray")
    from omnicodec.batch.worker import KILL_TOKENS

    local = run([sequence], tmp_path / "local", grid_step=STEP, workers=2, log=None, progress=False)
    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "000002.bin.1").touch()
    monkeypatch.setenv(KILL_TOKENS, str(tmp_path / "tokens"))
    notices = []
    on_ray = run([sequence], tmp_path / "ray", grid_step=STEP, workers=2, ray="auto", log=notices.append,
                 progress=False)
    assert not any((tmp_path / "tokens").iterdir())
    assert any("000002.bin: its worker process died (Ray: ActorDiedError); coding it again" in n for n in notices)
    assert local.ok and on_ray.ok
    assert len(on_ray.workers) == 2 and all(w["frames"] >= 1 for w in on_ray.workers)
    assert _streams(tmp_path / "ray") == _streams(tmp_path / "local")
    assert [r["bits"] for r in on_ray.rows] == [r["bits"] for r in local.rows]


def test_ray_joins_a_running_cluster(tmp_path, sequence):
    """--ray ADDRESS: the frames run on a cluster started apart (`ray start --head`), with the same bytes."""
    pytest.importorskip("ray")
    ray_cli = Path(sys.executable).with_name("ray")
    if not ray_cli.exists():
        pytest.skip("the ray command is not installed beside this Python")
    port = 20000 + os.getpid() % 20000
    env = dict(os.environ, RAY_AUTH_MODE="token")
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay under 108 bytes
    start = subprocess.run([str(ray_cli), "start", "--head", "--port", str(port), "--num-cpus", "2",
                            "--include-dashboard", "false", "--temp-dir", temp],
                           env=env, capture_output=True, text=True, timeout=120)
    assert start.returncode == 0, start.stderr
    try:
        cmd = [sys.executable, "-m", "omnicodec", "batch", str(sequence), "-o", str(tmp_path / "out"), "--grid-step",
               str(STEP), "--ray", f"127.0.0.1:{port}", "--workers", "2", "--json", "-q"]
        r = subprocess.run(cmd, env=dict(env, PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        assert json.loads(r.stdout)["encoded"] == 5
    finally:
        subprocess.run([str(ray_cli), "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)
    for path in sorted(sequence.glob("*.bin")):
        assert (tmp_path / "out" / path.name).with_suffix(".omc").read_bytes() == omnicodec.compress(
            omnicodec.read(path), grid_step=STEP)


def test_progress_bar_on_a_terminal_and_log_lines_otherwise(tmp_path, sequence):
    import fcntl
    import pty
    import struct
    import termios

    frames = sorted(sequence.glob("*.bin"))[:2]
    args = [sys.executable, "-m", "omnicodec", "batch", *map(str, frames), "--grid-step", str(STEP), "--workers", "1"]
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="120")
    plain = subprocess.run([*args, "-o", str(tmp_path / "a")], env=env, capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    lines = [line for line in plain.stderr.splitlines() if line.startswith("[")]
    assert len(lines) == 2 and lines[0].startswith("[1/2] 000000.bin: 3,000 points,") and "bpp" in lines[0]

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a new pty is 0 columns wide
    proc = subprocess.Popen([*args, "-o", str(tmp_path / "b")], env=env, stdout=subprocess.PIPE, stderr=follower,
                            text=True)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        shown += chunk
    proc.communicate(timeout=300)
    os.close(leader)
    assert proc.returncode == 0
    text = shown.decode(errors="replace")
    assert "frames:" in text and "frame/s" in text and "<" in text  # tqdm: rate and time left
    assert "[1/2]" not in text
