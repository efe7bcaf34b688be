"""The README's runnable examples work as written (the command-line block and the Python block)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


def _block(text: str, heading: str, fence: str) -> str:
    part = text[text.index(heading):]
    start = part.index(fence) + len(fence)
    return part[start : part.index("```", start)]


@pytest.mark.parametrize("heading", ["## Command line", "Images and 360° panoramas (the bundled panorama",
                                     "Light fields (the bundled light field"])
def test_command_line_examples(tmp_path, heading):
    (tmp_path / "datasets").symlink_to(REPO / "datasets")
    block = _block((REPO / "README.md").read_text(), heading, "```bash")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for line in block.replace("\\\n", " ").splitlines():
        command = line.split("#")[0].strip()
        if not command:
            continue
        assert command.startswith("omnicodec ")
        args = command.split()[1:]
        r = subprocess.run([sys.executable, "-m", "omnicodec", *args], cwd=tmp_path, env=env, capture_output=True,
                           text=True)
        assert r.returncode == 0, (command, r.stderr)


def test_batch_examples(tmp_path):
    """The first block of the batch section runs on the bundled samples; its streams decode to the samples."""
    (tmp_path / "datasets").symlink_to(REPO / "datasets")
    block = _block((REPO / "README.md").read_text(), "## Sequences: batch compression", "```bash")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert len(commands) == 4 and all(c.startswith("omnicodec ") for c in commands)
    for command in commands:
        r = subprocess.run([sys.executable, "-m", "omnicodec", *command.split()[1:]], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, (command, r.stderr)
    samples = sorted(p.stem for p in (REPO / "datasets" / "samples").iterdir() if p.suffix in (".pcd", ".bin"))
    assert sorted(p.stem for p in (tmp_path / "samples_decoded").glob("*.pcd")) == samples


def test_python_example(tmp_path, monkeypatch):
    (tmp_path / "datasets").symlink_to(REPO / "datasets")
    monkeypatch.chdir(tmp_path)
    exec(_block((REPO / "README.md").read_text(), "## Python", "```python"), {})  # noqa: S102
    assert (tmp_path / "decoded.ply").is_file()
