"""Names that are never radiographs: temp/partial files of copy tools and OS droppings."""

from __future__ import annotations

from pathlib import PurePath

_IGNORED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store", "ehthumbs.db", "dicomdir"}
_IGNORED_SUFFIXES = {
    ".tmp", ".temp", ".part", ".partial", ".crdownload", ".filepart", ".download", ".lock", ".lck",
    # sidecar files some exporters write next to images; not images themselves
    ".txt", ".xml", ".ini", ".log", ".json", ".lnk", ".db", ".html", ".htm", ".pdf", ".csv", ".md5", ".sha256",
}


def is_ignored(path: str) -> bool:
    p = PurePath(path.replace("\\", "/"))
    name = p.name
    lower = name.lower()
    if not name or lower in _IGNORED_NAMES:
        return True
    if name.startswith((".", "~", "$")):
        return True
    if any(part.startswith(".") for part in p.parts[:-1] if part not in (".", "..")):
        return True  # hidden folders (e.g. .sync, .git)
    return p.suffix.lower() in _IGNORED_SUFFIXES
