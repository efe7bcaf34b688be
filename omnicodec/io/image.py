"""Images (photos and equirectangular 360 degree panoramas): PNG, JPEG, TIFF and BMP through Pillow."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..types import ErpImage
from ._util import fail
from .atomic import atomic_path

__all__ = ["read_image", "write_image", "IMAGE_FORMATS"]

#: Extension -> Pillow format name.
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}


def read_image(path: str | os.PathLike) -> ErpImage:
    """Read a PNG, JPEG, TIFF or BMP image as RGB.

    Args:
        path: the image file.

    Returns:
        An ErpImage with pixels (H, W, 3) uint8 (other modes are converted to RGB). ``metadata``: ``format``
        ("png" or "jpeg"), ``mode`` (the file's Pillow mode).

    Raises:
        InputError: a missing, unreadable or truncated image.
    """
    from PIL import Image

    if not Path(path).is_file():
        raise fail(path, "no such file")
    try:
        with Image.open(path) as im:
            mode = im.mode
            fmt = (im.format or "").lower()
            pixels = np.asarray(im if mode == "RGB" else im.convert("RGB"))
    except Exception as exc:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, ValueError, ... on bad files
        raise fail(path, f"cannot read the image ({exc})") from None
    return ErpImage(pixels, metadata={"format": fmt, "mode": mode})


def write_image(
    path: str | os.PathLike,
    image: ErpImage,
    *,
    quality: int | None = None,
    compress_level: int = 6,
) -> None:
    """Write an image as PNG, TIFF, BMP (lossless) or JPEG, chosen by the extension, atomically.

    Args:
        path: destination ``.png``, ``.jpg``, ``.jpeg``, ``.tif``, ``.tiff`` or ``.bmp``.
        image: pixels (H, W, C) uint8 with C in 1, 3 (and 4 for PNG).
        quality: JPEG quality 1-100 (default 95); not allowed for PNG.
        compress_level: PNG zlib level 0-9.

    Raises:
        InputError: an unsupported extension, dtype or channel count, or ``quality`` for PNG.
    """
    from PIL import Image

    fmt = IMAGE_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise fail(path, f"unsupported image extension (expected one of {', '.join(IMAGE_FORMATS)})")
    pixels = image.pixels
    c = pixels.shape[2]
    if pixels.dtype != np.uint8 or c not in ((1, 3, 4) if fmt in ("PNG", "TIFF") else (1, 3)):
        raise fail(path, f"{fmt} images must be uint8 with 1 or 3 channels (4 for PNG and TIFF), got {pixels.dtype} "
                         f"x {c}")
    img = Image.fromarray(pixels[:, :, 0] if c == 1 else pixels)
    if fmt != "JPEG" and quality is not None:
        raise fail(path, f"quality applies to JPEG only ({fmt} is lossless)")
    if fmt == "PNG":
        options: dict = {"compress_level": compress_level}
    elif fmt == "TIFF":
        options = {"compression": "tiff_deflate"}
    elif fmt == "BMP":
        options = {}
    else:
        q = 95 if quality is None else int(quality)
        if not 1 <= q <= 100:
            raise fail(path, f"JPEG quality must be in 1..100, got {q}")
        options = {"quality": q}
    with atomic_path(path) as tmp:
        img.save(tmp, format=fmt, **options)
