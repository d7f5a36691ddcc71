"""Does a native watch deliver? ReadDirectoryChangesW works on most SMB shares, but some
servers (and some NAS firmware) accept the request and never report anything. Beside such a
watch a slow quiet poll (`poller.py`) lists the folder; a new file it finds that the native
watch has not reported within GRACE_SECONDS is a miss, and the supervisor moves the folder to
polling. Nothing is written to the share to test it: source folders are only ever read.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler

GRACE_SECONDS = 5.0  # a native event later than this after the listing found the file counts as missed
CHECK_SECONDS = 10.0  # interval of the listing beside a native watch


class DeliveryCheck:
    def __init__(self, grace: float = GRACE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.grace = grace
        self.clock = clock
        self._reported: set[str] = set()  # paths the native watch reported
        self._found: dict[str, float] = {}  # paths only the listing found, and when
        self._lock = threading.Lock()

    def native(self, path: str) -> None:
        with self._lock:
            if len(self._reported) > 20_000:
                self._reported.clear()
            self._reported.add(os.path.normcase(path))
            self._found.pop(os.path.normcase(path), None)

    def listed(self, path: str) -> None:
        key = os.path.normcase(path)
        with self._lock:
            if key not in self._reported and len(self._found) < 20_000:
                self._found.setdefault(key, self.clock())

    def missed(self) -> list[str]:
        """New files the listing found that the native watch has not reported within the grace."""
        now = self.clock()
        with self._lock:
            return sorted(p for p, t in self._found.items() if now - t >= self.grace)


class ListingHandler(FileSystemEventHandler):
    """The check listing's events: new files are noted, and offered like any event (the listing
    must not make a file wait for a native event that may never come)."""

    def __init__(self, check: DeliveryCheck, forward: FileSystemEventHandler):
        self.check = check
        self.forward = forward

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type == "created" and not event.is_directory:
            self.check.listed(os.fsdecode(event.src_path))
        self.forward.on_any_event(event)
