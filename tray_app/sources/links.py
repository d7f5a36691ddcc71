"""Links in watched folders: a symlink, junction or other reparse point is never followed.

A link in an export share could make us ingest (and export into a chart) a file from anywhere
on the PC or network. Watching, scans, `ingest` and intake all skip links and accept a path
only while its resolved location stays inside the folder it was found in.
"""

from __future__ import annotations

import os
import stat
from typing import Iterator

FILE_ATTRIBUTE_REPARSE_POINT = 0x400  # Windows: symlinks, junctions, mount points, cloud placeholders …
# … of which the "name surrogates" point somewhere else (IsReparseTagNameSurrogate); a OneDrive
# placeholder (IO_REPARSE_TAG_CLOUD_*) is the file itself and stays readable
IO_REPARSE_TAG_NAME_SURROGATE = 0x20000000

LINK_REASON = ("the file is a shortcut (link) to another place; only files stored in the watched folder itself "
               "are read — copy the image into the folder instead")


def is_link(st: os.stat_result) -> bool:
    """True for a symlink, or (Windows) a reparse point that leads elsewhere such as a junction —
    from os.lstat(). A reparse point of unknown tag counts as a link."""
    if stat.S_ISLNK(st.st_mode):
        return True
    if not getattr(st, "st_file_attributes", 0) & FILE_ATTRIBUTE_REPARSE_POINT:
        return False
    tag = getattr(st, "st_reparse_tag", 0)
    return not tag or bool(tag & IO_REPARSE_TAG_NAME_SURROGATE)


def is_link_path(path: str) -> bool:
    try:
        return is_link(os.lstat(path))
    except OSError:
        return False


def inside(path: str, root: str) -> bool:
    """The resolved path stays inside the resolved root (a link in a parent folder cannot lead out)."""
    real_root = os.path.normcase(os.path.realpath(root))
    real = os.path.normcase(os.path.realpath(path))
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def walk(root: str, *, onerror=None) -> Iterator[tuple[str, list[str], list[str]]]:
    """os.walk that enters neither symlinked folders nor junctions (Python 3.11's os.walk follows
    junctions on Windows) nor hidden folders; the caller may prune `dirnames` further."""
    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames[:] = sorted(d for d in dirnames
                             if not d.startswith(".") and not is_link_path(os.path.join(dirpath, d)))
        yield dirpath, dirnames, filenames
