"""Finding the frames of a batch: files, folders and glob patterns to (input, output stream) pairs.

The outputs mirror the inputs under the output folder. The root they are mirrored from is the common folder of
the inputs' roots: a folder input is its own root, a file's root is its parent folder, and a glob's root is the
folder before its first wildcard. ``seq/000000.bin`` given as ``seq/`` becomes ``OUT/000000.omc``; two sequence
folders ``a/`` and ``b/`` become ``OUT/a/...`` and ``OUT/b/...``. A file is named for where it was found: a
symbolic link by its own name, not its target's. Every stream lands inside the output folder: a file outside the
inputs' common folder (a ``..`` after a wildcard) or an output sub-folder that is a link to elsewhere is refused.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..io import POINT_CLOUD_EXTENSIONS

__all__ = ["Frame", "find_frames", "stream_name", "STREAM_SUFFIX"]

STREAM_SUFFIX = ".omc"
_MAGIC = set("*?[")


@dataclass(frozen=True)
class Frame:
    """One input file and the stream it becomes."""

    input: Path
    output: Path
    name: str  # the input's path relative to the mirrored root, with "/" separators

    @property
    def key(self) -> str:
        """The input path as the manifest records it."""
        return os.fspath(self.input)


def stream_name(relative: Path) -> Path:
    """The stream's path for an input's relative path: its extension replaced by ``.omc``."""
    return relative.with_suffix(STREAM_SUFFIX)


def _is_point_cloud(path: Path) -> bool:
    return path.suffix.lower() in POINT_CLOUD_EXTENSIONS and not path.name.startswith(".")


def _glob_root(pattern: str) -> Path:
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if _MAGIC & set(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _folder_files(folder: Path) -> list[Path]:
    """Point-cloud files under a folder, recursively, sorted; hidden files and folders skipped."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and _is_point_cloud(p)
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _expand(item: str | os.PathLike) -> tuple[list[Path], Path]:
    """The point-cloud files one input names, and its root."""
    text = os.fspath(item)
    path = Path(text)
    if path.is_dir():
        files = _folder_files(path)
        if not files:
            raise InputError(f"{text}: the folder holds no point-cloud files ({' '.join(POINT_CLOUD_EXTENSIONS)})")
        return files, path
    if path.is_file():
        if path.suffix.lower() not in POINT_CLOUD_EXTENSIONS:
            raise InputError(f"{text}: not a point-cloud file ({' '.join(POINT_CLOUD_EXTENSIONS)})")
        return [path], path.parent
    if _MAGIC & set(text):
        files = []
        for match in sorted(Path(p) for p in glob.glob(text, recursive=True)):
            if match.is_dir():
                files.extend(_folder_files(match))
            elif match.is_file() and _is_point_cloud(match):
                files.append(match)
        if not files:
            raise InputError(f"{text}: the pattern matches no point-cloud files")
        return files, _glob_root(text)
    raise InputError(f"{text}: no such file or folder")


def find_frames(inputs: list[str | os.PathLike], outdir: str | os.PathLike) -> list[Frame]:
    """The frames of a batch, in input order (each folder and pattern sorted), each file once.

    Args:
        inputs: files, folders (searched recursively for .ply .pcd .bin .las .laz) or glob patterns (``**``
            allowed; a folder they match is searched too).
        outdir: the output folder.

    Raises:
        InputError: no inputs, a missing path, a pattern or folder without point clouds, two inputs that would
            write the same stream (``a.ply`` and ``a.pcd`` in one folder), or a stream that would land outside
            ``outdir`` (a ``..`` after a wildcard, an output sub-folder that is a link to elsewhere).
    """
    if not inputs:
        raise InputError("no inputs given")
    found: list[Path] = []
    roots = []
    for item in inputs:
        files, root = _expand(item)
        roots.append(_absolute(root))
        found.extend(files)
    common = Path(os.path.commonpath(roots))
    out = Path(outdir)
    inside = _InsideCheck(out)
    frames: list[Frame] = []
    seen_inputs: set[Path] = set()
    seen_outputs: dict[Path, Path] = {}
    for path in found:
        resolved = path.resolve()
        if resolved in seen_inputs:
            continue
        seen_inputs.add(resolved)
        relative = _relative_name(path, common)
        output = out / stream_name(relative)
        if output in seen_outputs:
            raise InputError(f"{seen_outputs[output]} and {path} would both be written to {output}; "
                             "batch them separately")
        inside.check(output)
        seen_outputs[output] = path
        frames.append(Frame(path, output, relative.as_posix()))
    return frames


def _absolute(path: Path) -> Path:
    """``path`` made absolute with ``..`` removed, symbolic links kept: a file is named for where it was found,
    not for what a link points to."""
    return Path(os.path.abspath(path))


def _relative_name(path: Path, common: Path) -> Path:
    """The input's path relative to the inputs' common folder: a relative path without ``..``.

    Raises:
        InputError: the file lies outside that folder (a glob with ``..`` after a wildcard), so its stream would
            land outside the output folder.
    """
    try:
        return _absolute(path).relative_to(common)
    except ValueError:
        raise InputError(f"{path}: lies outside the inputs' folder {common} ('..' after a wildcard?), so its stream "
                         "would be written outside the output folder; name it without '..'") from None


class _InsideCheck:
    """Checks that streams land inside the output folder once symbolic links are followed (a sub-folder that is a
    link to elsewhere would take them out); each folder is looked at once."""

    def __init__(self, out: Path):
        self.out = out
        self.real = out.resolve()
        self.seen: set[Path] = set()

    def check(self, output: Path) -> None:
        """Raise :class:`InputError` when ``output``'s folder resolves outside the output folder."""
        folder = output.parent
        if folder in self.seen:
            return
        if not folder.resolve().is_relative_to(self.real):
            raise InputError(f"{output}: its folder {folder} leads outside the output folder {self.out} (a symbolic "
                             "link?); remove the link or choose another output folder")
        self.seen.add(folder)
