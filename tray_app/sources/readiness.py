"""Decides when a discovered file is complete: size and mtime stable for the settle time,
then it opens. Imaging software, copy tools and antivirus hold files open while writing,
so a sharing violation means "not yet", never "failed".

A file whose own structure shows it was written to the end (`completeness.py`: PNG at IEND,
JPEG at EOI, TIFF strips, DICOM pixel data) needs its size and mtime held only for
COMPLETE_SETTLE, or none when it was moved into place by rename; the settle time stays for
everything else."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable

from ..store import images as image_repo
from ..thread_priority import lower_this_thread
from ..store.db import Database
from .completeness import proves_complete

log = logging.getLogger(__name__)


def can_open_exclusively(path: str) -> bool:
    """True when nobody holds the file open for writing (Windows); a plain open elsewhere."""
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        GENERIC_READ, FILE_SHARE_READ, OPEN_EXISTING = 0x80000000, 0x1, 3
        create = ctypes.windll.kernel32.CreateFileW
        create.restype = wintypes.HANDLE
        handle = create(str(path), GENERIC_READ, FILE_SHARE_READ, None, OPEN_EXISTING, 0, None)
        if handle == wintypes.HANDLE(-1).value:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)
        return True
    try:
        with open(path, "rb") as f:
            f.read(1)
        return True
    except OSError:
        return False


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    stable_since: float
    complete: bool = False  # the structure of this size+mtime ends at the end of the file


class ReadinessMonitor:
    RENAMED_SETTLE = 0.2  # a file moved into place is complete; only a short open check remains
    # structurally complete, written in place: size and mtime must still hold this long, against a
    # writer that overwrites an older file without truncating it or stalls in a pre-allocated one
    COMPLETE_SETTLE = 0.3
    QUICK = 0.05  # the shortest sleep between passes while a file is nearly due

    def __init__(self, db: Database, settle_seconds: float, wake_worker: threading.Event, poll: float = 0.25,
                 renamed_in: set[str] | None = None):
        self.db = db
        self.renamed_in = renamed_in if renamed_in is not None else set()
        self._renamed_last_pass: set[str] = set()
        self._due: float | None = None  # seconds until the next pending file may be ready
        self.settle = settle_seconds
        self.poll = poll
        self.wake_worker = wake_worker
        self.wake = threading.Event()
        self._seen: dict[int, _Seen] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.on_error = None  # callable(exc): lets the service report e.g. a full disk
        self.on_promoted: Callable[[], None] | None = None  # the service's worker.work_arrived

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="readiness", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        lower_this_thread()  # the model's thread keeps its core
        while not self._stop.is_set():
            try:
                pending = self.check_once()
            except Exception as exc:
                log.exception("readiness check failed; retrying")
                if self.on_error:
                    self.on_error(exc)
                pending = 1
            # nothing pending: sleep until a watcher or scan wakes us
            due = self.poll if self._due is None else min(max(self._due, self.QUICK), self.poll)
            self.wake.wait(due if pending else 5.0)
            self.wake.clear()

    def check_once(self, now: float | None = None) -> int:
        """One pass over discovered files; returns how many are still pending."""
        now = time.monotonic() if now is None else now
        rows = image_repo.pending_discovered(self.db)
        live = {r.id for r in rows}
        for stale in set(self._seen) - live:
            del self._seen[stale]
        # renamed paths that never became a pending row (known version, vanished, a folder) are
        # dropped after one pass of grace (the watcher adds a path just before recording it)
        paths = {r.path for r in rows}
        self.renamed_in -= (self.renamed_in & self._renamed_last_pass) - paths
        self._renamed_last_pass = set(self.renamed_in)
        self._due = None
        pending = 0
        # the first complete file is promoted at once (the worker starts on it), the rest together
        first, rest = True, []
        for r in rows:
            try:
                st = os.stat(r.path)
            except FileNotFoundError:
                parent_ok = os.path.isdir(os.path.dirname(r.path))
                if parent_ok:
                    image_repo.forget_vanished(self.db, r.id)
                    self._seen.pop(r.id, None)
                else:
                    pending += 1  # share down: keep the row, try again later
                continue
            except OSError:
                pending += 1
                continue
            renamed = r.path in self.renamed_in
            seen = self._seen.get(r.id)
            if seen is None or (seen.size, seen.mtime_ns) != (st.st_size, st.st_mtime_ns):
                # once per version seen: the structure is read again only after the file changed
                seen = self._seen[r.id] = _Seen(st.st_size, st.st_mtime_ns, now, proves_complete(r.path))
                if (r.size, r.mtime_ns) != (st.st_size, st.st_mtime_ns):
                    image_repo.observe(self.db, r.id, st.st_size, st.st_mtime_ns)
                if not (seen.complete and renamed):  # moved into place whole: nothing left to wait for
                    pending += 1
                    self._note_due(self._settle(seen, renamed) if (seen.complete or renamed) else self.poll)
                    continue
            settle = self._settle(seen, renamed)
            if now - seen.stable_since < settle:
                pending += 1
                self._note_due(seen.stable_since + settle - now)
                continue
            if not can_open_exclusively(r.path):
                pending += 1  # a writer still holds it
                self._note_due(self.poll)
                continue
            if first:
                self._promote([(r.id, st.st_size, st.st_mtime_ns)])
                first = False
            else:
                rest.append((r.id, st.st_size, st.st_mtime_ns))
            self.renamed_in.discard(r.path)
            self._seen.pop(r.id, None)
        self._promote(rest)
        return pending

    def _promote(self, versions: list[tuple[int, int, int]]) -> None:
        if versions and image_repo.mark_ready_many(self.db, versions):
            self.wake_worker.set()
            if self.on_promoted is not None:
                self.on_promoted()

    def _settle(self, seen: _Seen, renamed: bool) -> float:
        """How long this version's size and mtime must hold before it counts as complete."""
        if seen.complete:
            return 0.0 if renamed else min(self.COMPLETE_SETTLE, self.settle)
        return self.RENAMED_SETTLE if renamed else self.settle

    def _note_due(self, seconds: float) -> None:
        self._due = seconds if self._due is None else min(self._due, seconds)
