"""On a client home the review window follows the hub's changes as they happen: a
`ChangeFollower` long-polls the hub on its own thread, so another PC's accept shows here within a
second instead of at the next 2 s poll (which stays, as a safety net).

The follower's callbacks run on its thread; they reach the window as Qt signals, delivered on the
GUI thread because this object lives there. The follower has its own connection to the hub (a
long-poll holds one for up to half a minute); it starts when the window is shown and stops when it
closes (the tray only hides its window, and shows it again later).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal

from ..hub.changes import LONG_POLL_SECONDS
from ..hub.client import HubClient
from ..hub.follow import ChangeFollower


class WindowFollower(QObject):
    changed = Signal(int, str)  # (generation, hub version)
    hub_status = Signal(int, bool, str)

    def __init__(self, window, hub: HubClient, *, wait: float = LONG_POLL_SECONDS):
        super().__init__(window)
        self.window, self.hub, self.wait = window, hub, wait
        self.follower: ChangeFollower | None = None
        self._generation = 0  # a stopped follower's last callbacks (its long-poll ends later) are ignored
        self._away = False
        self.changed.connect(self._reload)
        self.hub_status.connect(self._say)
        window.installEventFilter(self)  # the tray hides the window on close and shows it again

    def start(self) -> None:
        if self.follower is not None:
            return
        self._generation += 1
        gen = self._generation
        # its own connection (a long-poll holds one for up to half a minute); it retries by itself
        client = HubClient(self.hub.url, self.hub.fingerprint, self.hub.token, retry_seconds=0)
        self.follower = ChangeFollower(client, lambda version: self._hand_over(self.changed, gen, version),
                                       lambda up, message: self._hand_over(self.hub_status, gen, up, message),
                                       wait=self.wait).start()

    def stop(self) -> None:
        """Without waiting: the thread ends when its current long-poll returns."""
        if self.follower is not None:
            self._generation += 1
            self.follower.stop(timeout=0)
            self.follower = None

    def running(self) -> bool:
        return self.follower is not None

    # on the follower's thread: only hand over (the window may be gone by the time a poll returns)
    def _hand_over(self, signal, gen: int, *args) -> None:
        if gen == self._generation:
            try:
                signal.emit(gen, *args)
            except RuntimeError:  # the window and this object were deleted meanwhile
                pass

    # on the GUI thread
    def _reload(self, gen: int, version: str) -> None:
        if gen == self._generation:
            self.window.poll()

    def _say(self, gen: int, available: bool, message: str) -> None:
        if gen != self._generation:
            return
        if not available:
            self.window.status.showMessage(message)  # until the hub answers again
        elif self._away:
            self.window.status.clearMessage()
        self._away = not available

    def eventFilter(self, watched, event) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Show:
            self.start()
        elif watched is self.window and event.type() == QEvent.Type.Close:
            self.stop()
        return False
