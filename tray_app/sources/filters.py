"""Names that are never radiographs: temp/partial files of copy tools and OS droppings."""

from __future__ import annotations

import os
from pathlib import PurePath

_IGNORED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store", "ehthumbs.db", "dicomdir"}
_IGNORED_SUFFIXES = {
    ".tmp", ".temp", ".part", ".partial", ".crdownload", ".filepart", ".download", ".lock", ".lck",
    # sidecar files some exporters write next to images; not images themselves
    ".txt", ".xml", ".ini", ".log", ".json", ".lnk", ".db", ".html", ".htm", ".pdf", ".csv", ".md5", ".sha256",
}


def _parts_below(path: str, root: str | None) -> tuple[str, ...]:
    """The folders between the watched folder and the file. Only those can hide a file: the
    watched folder itself may well sit under a dotted one (~/.local/share on Linux, a share
    mounted at /mnt/.practice)."""
    if not root:
        return ()
    norm = lambda s: os.path.normcase(s).replace("\\", "/").rstrip("/")  # noqa: E731
    p, r = norm(path), norm(root)
    if not p.startswith(r + "/"):
        return ()
    return PurePath(p[len(r) + 1:]).parts[:-1]


def is_ignored(path: str, root: str | None = None) -> bool:
    """True for a path that is not an image to read. `root` is the watched folder the path is
    under; dotted folders count only below it (without a root, only the file name counts)."""
    name = PurePath(path.replace("\\", "/")).name
    lower = name.lower()
    if not name or lower in _IGNORED_NAMES:
        return True
    if name.startswith((".", "~", "$")):
        return True
    if any(part.startswith(".") for part in _parts_below(path, root) if part not in (".", "..")):
        return True  # hidden folders inside the watched one (e.g. .sync, .git)
    return PurePath(name).suffix.lower() in _IGNORED_SUFFIXES
