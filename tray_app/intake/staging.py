"""Copying an image to local staging while hashing it: the one way intake (and a re-decode
after the cache was purged, `image_cache.decode_original`) reads a file from an export folder.

The copy never follows a link (a file swapped for a symlink after discovery is refused), and
it stops at the size limit however much the file grows after its size was checked.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from ..sources.links import LINK_REASON, is_link
from .errors import QuarantineError

CHUNK = 1 << 20


class FileTooLarge(QuarantineError):
    """More bytes than the limit (the file grew after its size was checked)."""


def open_no_follow(path: Path):
    """Open a regular file for reading; a link (or a file swapped for one) raises QuarantineError."""
    before = os.lstat(path)
    if is_link(before):
        raise QuarantineError(LINK_REASON)
    if not stat.S_ISREG(before.st_mode):
        raise QuarantineError("not a file (a device, pipe or folder)")
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == getattr(errno, "ELOOP", -1):
            raise QuarantineError(LINK_REASON) from exc
        raise
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):  # swapped between lstat and open (Windows)
        os.close(fd)
        raise QuarantineError(LINK_REASON)
    return os.fdopen(fd, "rb")


def copy_hashed(src: Path, dst: Path, *, max_bytes: int) -> tuple[str, int]:
    """Copy `src` to `dst` and return (sha256, size). More than `max_bytes` raises QuarantineError
    (the file grew past the limit after its size was checked); OSErrors pass through."""
    h = hashlib.sha256()
    size = 0
    try:
        with open_no_follow(src) as f, open(dst, "wb") as out:
            while chunk := f.read(min(CHUNK, max_bytes + 1 - size)):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(f"file is larger than the {max_bytes / 2**20:.0f} MB limit "
                                          "(it grew while it was being read)")
                h.update(chunk)
                out.write(chunk)
    except BaseException:
        dst.unlink(missing_ok=True)
        raise
    return h.hexdigest(), size
