"""omnicodec: learned compression of point clouds, light fields and 360-degree images.

The public API is small:

* :func:`read` / :func:`write`: point clouds (.ply, .pcd, .bin, .las/.laz), light fields (folders, .h5), ERP images.
* :func:`compress` / :func:`decompress`: any supported data to a self-describing ``.omc`` stream and back.
* :func:`open_stream`: parse a stream's header without decoding it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    BitstreamError,
    InputError,
    ModelError,
    OmnicodecError,
)
from .types import ErpImage, Grid, LightField, PointCloud  # noqa: E402

__all__ = [
    "__version__",
    "read",
    "write",
    "compress",
    "decompress",
    "open_stream",
    "PointCloud",
    "LightField",
    "ErpImage",
    "Grid",
    "OmnicodecError",
    "InputError",
    "BitstreamError",
    "ModelError",
]


def __getattr__(name: str):
    # Lazy imports keep `import omnicodec` fast (no torch until a codec needs it).
    if name in ("read", "write"):
        from . import io

        return getattr(io, name)
    if name in ("compress", "decompress"):
        from . import codecs

        return getattr(codecs, name)
    if name == "open_stream":
        from .bitstream import open_stream

        return open_stream
    raise AttributeError(f"module 'omnicodec' has no attribute {name!r}")
