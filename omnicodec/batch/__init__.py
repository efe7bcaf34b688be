"""Batch compression of point-cloud sequences (LiDAR sweeps, scan folders), on one machine or a Ray cluster.

:func:`run` (and ``omnicodec batch``) compresses every frame to its own ``.omc`` stream under an output folder
that mirrors the inputs, in parallel: a local process pool by default, Ray actors with ``ray="auto"`` (a local Ray
instance) or ``ray="ADDRESS"`` (a running cluster). Each worker loads the models once. Every stream is written
atomically by the caller's process (a temporary name, then a rename), a failed frame is recorded in the manifest
with its error and the others go on, a worker that dies is replaced (its frame coded once more), SIGINT and SIGTERM
stop cleanly, and ``resume=True`` redoes only what is missing. One batch at a time writes to an output folder; a
read-only one is refused before any work and a full one stops the batch with the manifest matching the streams.
The streams are the same bytes whichever way they were made.
"""

from __future__ import annotations

from .frames import Frame, find_frames
from .manifest import FIELDS, read_manifest
from .runner import MANIFEST_NAME, BatchInterrupted, BatchResult, run

__all__ = ["run", "BatchResult", "BatchInterrupted", "Frame", "find_frames", "read_manifest", "FIELDS",
           "MANIFEST_NAME"]
