"""The 8-bit pixel cache of each image: written once by intake, read by analysis, the review
window and every export. When it is gone (retention purge, a crash while writing) the
original is decoded again, and only if it still holds the bytes that were analysed.

Raw .npy: ~1 ms to write, where even a fast PNG costs ~20 ms per image.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ..config import IntakeConfig
from .decode import DecodedImage, decode_file
from .errors import OriginalChanged
from .staging import FileTooLarge, copy_hashed


def write(cache_dir: Path, image_id: int, pixels: np.ndarray) -> Path:
    """Store an image's pixels (atomically: a crash leaves no half-written cache)."""
    cache_path = cache_dir / f"{image_id}.npy"
    tmp = cache_dir / f"{image_id}.tmp.npy"
    np.save(tmp, pixels, allow_pickle=False)
    os.replace(tmp, cache_path)
    return cache_path


def cached(row) -> np.ndarray | None:
    """The cached pixels of an image row, or None when the cache is missing or unreadable."""
    cache = Path(row["cache_path"] or "")
    if cache.is_file():
        try:
            pixels = np.load(cache, allow_pickle=False)
            if pixels.ndim == 2 and pixels.dtype == np.uint8:
                return pixels
        except (OSError, ValueError):
            pass
    return None


def pixels(row, *, staging_dir: Path | None = None) -> np.ndarray:
    """An image's pixels: the cache, else its original decoded again (`decode_original`).
    OSErrors reading the original pass through; the caller decides whether to retry."""
    found = cached(row)
    return found if found is not None else decode_original(row, staging_dir=staging_dir).pixels


def decode_original(row, *, staging_dir: Path | None = None) -> DecodedImage:
    """Decode an image's original file again (its pixel cache was purged or lost), only if it
    still holds the bytes that were analysed: the copy is hashed and compared with the
    recorded sha256 before a decoder sees it. `row` is the image's database row.
    Raises OriginalChanged (a different file lies there now) or QuarantineError."""
    path = Path(row["path"])
    size = int(row["size"] or 0)
    try:
        frames = int(json.loads(row["meta"] or "{}").get("frames") or 1)
    except (ValueError, TypeError, AttributeError):
        frames = 1
    # the same bytes decode to the same size: nothing bigger than what intake accepted
    accepted = int(row["width"] or 0) * int(row["height"] or 0) * frames
    fd, tmp = tempfile.mkstemp(prefix="redecode-", suffix=path.suffix.lower()[:8],
                               dir=str(staging_dir) if staging_dir else None)
    os.close(fd)
    staged = Path(tmp)
    try:
        try:
            digest, _ = copy_hashed(path, staged, max_bytes=size or IntakeConfig().max_file_mb << 20)
        except FileTooLarge as exc:
            raise OriginalChanged(_changed(row["id"], "it is larger than the file that was analysed")) from exc
        if row["sha256"] and digest != row["sha256"]:
            raise OriginalChanged(_changed(row["id"], "its content differs from the file that was analysed"))
        return decode_file(staged, max_pixels=accepted or IntakeConfig().max_pixels)
    finally:
        staged.unlink(missing_ok=True)


def _changed(image_id: int, how: str) -> str:
    return (f"image {image_id}'s original file was replaced after it was analysed ({how}), so it was not used; "
            "check the file in the export folder — the signed report stays as it was")
