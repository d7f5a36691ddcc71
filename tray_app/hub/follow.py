"""Follows the hub's changes on a client PC: one thread long-polling `/changes`.

`on_change(version)` is called whenever the hub's version changes (reload the queue / study);
`on_status(available, message)` when the hub stops or starts answering, so the tray and the
review window can say "the hub is not answering" and then clear it by themselves. After losing
the hub the thread keeps trying with backoff and, once the hub is back, calls `on_change` (it
cannot know what changed meanwhile). Callbacks run on this thread: a UI hands them on (a Qt
signal) to its own.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from .changes import LONG_POLL_SECONDS
from .client import BACKOFF_FIRST, HubClient, HubError, HubUnavailable

log = logging.getLogger(__name__)

RECONNECT_MAX = 5.0  # seconds between attempts while the hub is away


class ChangeFollower:
    def __init__(self, client: HubClient, on_change: Callable[[str], None],
                 on_status: Callable[[bool, str], None] = lambda available, message: None, *,
                 wait: float = LONG_POLL_SECONDS):
        self.client = client
        self.on_change = on_change
        self.on_status = on_status
        self.wait = wait
        self.available: bool | None = None
        self.version = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-follow", daemon=True)

    def start(self) -> "ChangeFollower":
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stops after the current long-poll returns (at most `wait` seconds later)."""
        self._stop.set()
        self._thread.join(timeout)

    def _status(self, available: bool, message: str) -> None:
        if available != self.available:
            self.available = available
            log.info("hub follower: hub %s", "answering" if available else "not answering")
            self.on_status(available, message)

    def _run(self) -> None:
        pause = BACKOFF_FIRST
        while not self._stop.is_set():
            try:
                version = self.client.changes(self.version, self.wait) if self.version else self.client.version()
            except HubUnavailable as exc:
                self._status(False, str(exc))
                self.version = ""  # whatever happened meanwhile: reload once the hub is back
                self._stop.wait(pause)
                pause = min(pause * 2, RECONNECT_MAX)
                continue
            except HubError as exc:  # refused (revoked pairing …): say so, try again later
                self._status(False, str(exc))
                self._stop.wait(RECONNECT_MAX)
                continue
            pause = BACKOFF_FIRST
            self._status(True, "")
            if not version:  # the hub's store was busy that moment: ask again shortly
                self._stop.wait(BACKOFF_FIRST)
            if version != self.version:
                self.version = version
                self.on_change(version)
