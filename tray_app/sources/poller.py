"""Polling that costs next to nothing while nothing changes (network shares, and the check
beside a native watch).

Each pass stats the watched folder and its sub-folders only; a folder is listed (`os.scandir`)
when its modification time moved — adding, removing or renaming an entry changes it on NTFS,
ext4, XFS, APFS and the SMB/NFS servers in front of them — and for a few seconds after, as the
time may be coarse (FAT keeps two seconds). Listing uses the entries' own data: their inode
on POSIX, size and mtime on Windows (free from the directory enumeration); only the periodic
full pass stats every file, which also finds files rewritten in place (their folder's time
does not move). Where a folder's time does not move when files are added — FAT/exFAT disks,
some NAS and SMB servers that do not keep directory times, client-side caches of directory
information — the full pass finds what the cheap pass missed, says so in the log, and from then
on that folder is listed on every pass.

The interval adapts: `fast` after a change, doubling while quiet up to `slow`.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import time
from dataclasses import dataclass, field
from functools import partial

from watchdog.events import DirCreatedEvent, DirDeletedEvent, FileCreatedEvent, FileModifiedEvent
from watchdog.observers.api import BaseObserver, EventEmitter

from .links import is_link

log = logging.getLogger(__name__)

WINDOWS = sys.platform == "win32"
HOT_SECONDS = 3.0  # a folder that just changed is listed on every pass this long (coarse mtimes)


@dataclass
class _Folder:
    mtime_ns: int = -1
    entries: dict[str, tuple] = field(default_factory=dict)  # file name -> key (see _key)
    subdirs: set[str] = field(default_factory=set)
    hot_until: float = 0.0
    time_unreliable: bool = False  # its mtime stayed while files came: list it every pass


class QuietPollingEmitter(EventEmitter):
    def __init__(self, event_queue, watch, *, timeout: float = 2.0, event_filter=None,
                 fast: float = 0.25, full_seconds: float = 60.0, scandir=os.scandir, clock=time.monotonic):
        super().__init__(event_queue, watch, timeout=timeout, event_filter=event_filter)
        self.slow = max(float(timeout), fast)
        self.fast = fast
        self.interval = self.slow
        self.full_seconds = full_seconds
        self.scandir = scandir
        self.clock = clock
        self.folders: dict[str, _Folder] = {}
        self.listings = 0  # folders listed, for tests and the bench
        self.passes = 0
        self._last_full = 0.0
        self._failing = False
        self._full = False

    # -- watchdog's emitter loop -------------------------------------------------------------
    def on_thread_start(self) -> None:
        try:
            self.poll(full=True, quiet=True)  # what is there now; the start-up scan offers it
        except OSError:
            pass

    def queue_events(self, timeout: float) -> None:
        if not self.stopped_event.wait(self.interval):
            self.tick()

    def tick(self) -> None:
        """One pass (a full one when due), then the next interval: fast after a change, else doubled."""
        full = self.clock() - self._last_full >= self.full_seconds
        try:
            changed = self.poll(full=full)
        except (FileNotFoundError, NotADirectoryError):
            self.queue_event(DirDeletedEvent(self.watch.path))
            self.stop()  # the supervisor re-arms the watch when the folder is back
            return
        except OSError as exc:  # share briefly unreachable: keep what we know, try again
            if not self._failing:
                log.warning("cannot list %s, will retry: %s", self.watch.path, exc)
            self._failing = True
            self.interval = self.slow
            return
        self._failing = False
        self.interval = self.fast if changed else min(self.interval * 2, self.slow)

    # -- one pass ---------------------------------------------------------------------------
    def poll(self, *, full: bool = False, quiet: bool = False) -> bool:
        """One pass; queues created/modified events (none when `quiet`). True if anything changed."""
        now = self.clock()
        self.passes += 1
        self._full = full
        if full:
            self._last_full = now
        changed = False
        stack = [self.watch.path]
        while stack:
            path = stack.pop()
            try:
                st = os.stat(path)
            except OSError:
                if path == self.watch.path:
                    raise
                self._forget(path)
                continue
            folder = self.folders.get(path)
            moved = folder is None or folder.mtime_ns != st.st_mtime_ns
            if folder is not None and not (moved or full or folder.time_unreliable or now < folder.hot_until):
                stack.extend(os.path.join(path, d) for d in folder.subdirs)
                continue
            try:
                # a new name found by a full pass in a folder whose time did not move, outside the
                # few seconds a coarse time can hide a second change: its time is not kept
                unexpected = full and not moved and folder is not None and now >= folder.hot_until
                found = self._list(path, folder, quiet, unexpected)
            except OSError:
                if path == self.watch.path:
                    raise
                self._forget(path)
                continue
            if found:
                changed = True
            folder = self.folders[path]
            folder.mtime_ns = st.st_mtime_ns
            if moved or found:
                folder.hot_until = now + HOT_SECONDS
            stack.extend(os.path.join(path, d) for d in folder.subdirs)
        return changed

    def _list(self, path: str, folder: _Folder | None, quiet: bool, unexpected: bool) -> bool:
        self.listings += 1
        old = folder.entries if folder else {}
        entries: dict[str, tuple] = {}
        subdirs: set[str] = set()
        found = new_names = False
        with self.scandir(path) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name.startswith(".") or is_link(entry.stat(follow_symlinks=False)):
                        continue  # hidden folders and links are never entered (links.walk)
                    subdirs.add(entry.name)
                    if folder is not None and entry.name not in folder.subdirs and not quiet:
                        self.queue_event(DirCreatedEvent(entry.path))  # the handler scans it
                        found = new_names = True
                    continue
                key = _key(entry, self._full or folder is None)
                before = old.get(entry.name)
                if before is not None and not _differs(before, key):
                    entries[entry.name] = _merge(before, key)
                    continue
                entries[entry.name] = key
                if folder is None or quiet:
                    continue
                found = True
                new_names |= before is None
                self.queue_event(FileCreatedEvent(entry.path) if before is None else FileModifiedEvent(entry.path))
        if folder is None:
            folder = self.folders[path] = _Folder()
        elif new_names and unexpected and not folder.time_unreliable:
            folder.time_unreliable = True
            log.warning("%s did not update its modification time when its files changed (FAT/exFAT, or a "
                        "server that keeps no folder times): listing it on every pass", path)
        for gone in folder.subdirs - subdirs:
            self._forget(os.path.join(path, gone))
        folder.entries, folder.subdirs = entries, subdirs
        return found

    def _forget(self, path: str) -> None:
        prefix = path.rstrip(os.sep) + os.sep
        for p in [p for p in self.folders if p == path or p.startswith(prefix)]:
            del self.folders[p]


def _key(entry: os.DirEntry, full: bool) -> tuple:
    """(inode, size, mtime_ns), with None where this pass did not pay for it: a POSIX listing
    knows the inode for free (a file replaced by rename is a new inode), a Windows listing the
    size and mtime; a full pass stats everything."""
    if full or WINDOWS:
        st = entry.stat(follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISLNK(st.st_mode):
            return (None, None, None)
        return (st.st_ino or None, st.st_size, st.st_mtime_ns)
    return (entry.inode(), None, None)


def _differs(a: tuple, b: tuple) -> bool:
    return any(x is not None and y is not None and x != y for x, y in zip(a, b))


def _merge(a: tuple, b: tuple) -> tuple:
    return tuple(y if y is not None else x for x, y in zip(a, b))


class QuietPollingObserver(BaseObserver):
    """watchdog's observer with the quiet emitter: `slow` is the longest interval."""

    def __init__(self, *, slow: float = 2.0, fast: float = 0.25, full_seconds: float = 60.0, **kw) -> None:
        super().__init__(partial(QuietPollingEmitter, fast=min(fast, slow), full_seconds=full_seconds, **kw),
                         timeout=slow)
