"""Progress bars for long work: shown on a terminal, silent otherwise."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass


@contextlib.contextmanager
def progress_bar(total: int | None, desc: str, enabled: bool = True, unit: str = "it") -> Iterator[Any]:
    """A tqdm bar on stderr when ``enabled`` and stderr is a terminal; otherwise an object whose ``update`` does
    nothing.

    Args:
        total: number of steps (None when unknown).
        desc: label shown before the bar.
        enabled: the caller's wish; a bar is still only drawn on a terminal.
        unit: name of one step.
    """
    if not (enabled and sys.stderr.isatty()):
        yield _Silent()
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr, dynamic_ncols=True) as bar:
        yield bar
