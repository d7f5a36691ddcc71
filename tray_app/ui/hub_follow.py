"""On a client home the review window follows the hub's changes as they happen: a
`ChangeFollower` long-polls the hub on its own thread, so another PC's accept shows here within a
second instead of at the next 2 s poll (which stays, as a safety net).

The follower's callbacks run on its thread; they reach the window as Qt signals, delivered on the
GUI thread because this object lives there. The follower has its own connection to the hub (a
long-poll holds one for up to half a minute) and stops when the window closes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal

from ..hub.changes import LONG_POLL_SECONDS
from ..hub.client import HubClient
from ..hub.follow import ChangeFollower


class WindowFollower(QObject):
    changed = Signal(str)
    hub_status = Signal(bool, str)

    def __init__(self, window, hub: HubClient, *, wait: float = LONG_POLL_SECONDS):
        super().__init__(window)
        self.window = window
        self.changed.connect(self._reload)
        self.hub_status.connect(self._say)
        client = HubClient(hub.url, hub.fingerprint, hub.token, retry_seconds=0)  # the follower retries itself
        self.follower = ChangeFollower(client, self._emit_change, self._emit_status, wait=wait)
        self._stopped, self._away = False, False
        window.installEventFilter(self)
        self.follower.start()

    # on the follower's thread: only hand over (the window may be gone by the time a poll returns)
    def _emit_change(self, version: str) -> None:
        if not self._stopped:
            try:
                self.changed.emit(version)
            except RuntimeError:  # the window and this object were deleted meanwhile
                pass

    def _emit_status(self, available: bool, message: str) -> None:
        if not self._stopped:
            try:
                self.hub_status.emit(available, message)
            except RuntimeError:
                pass

    # on the GUI thread
    def _reload(self, version: str) -> None:
        if not self._stopped:
            self.window.poll()

    def _say(self, available: bool, message: str) -> None:
        if self._stopped:
            return
        if not available:
            self.window.status.showMessage(message)  # until the hub answers again
        elif self._away:
            self.window.status.clearMessage()
        self._away = not available

    def stop(self) -> None:
        """Without waiting: the thread ends when its current long-poll returns."""
        self._stopped = True
        self.follower.stop(timeout=0)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.stop()
        return False
