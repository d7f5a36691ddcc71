"""Retake advice reaches the tray within a moment, not at the next 3 s state poll: a light timer
reads the newest advice row's id (one index lookup) twice a second and asks the tray to poll when
it moves. On a client PC the hub's change long-poll does this instead (hub_tray.py)."""

from __future__ import annotations

import logging
import sqlite3
from typing import Callable

from PySide6.QtCore import QObject, QTimer

from ..store import quality

log = logging.getLogger(__name__)

BELL_MS = 500


class AdviceBell(QObject):
    def __init__(self, conn: Callable[[], sqlite3.Connection], ring: Callable[[], None], parent=None,
                 interval_ms: int = BELL_MS):
        super().__init__(parent)
        self.conn, self.ring = conn, ring
        self.last: int | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)

    def start(self) -> "AdviceBell":
        self.timer.start()
        return self

    def check(self) -> None:
        try:
            latest = quality.latest_id(self.conn())
        except sqlite3.Error as exc:  # a busy moment: the next tick asks again
            log.debug("advice bell: %s", exc)
            return
        if self.last is not None and latest != self.last:
            self.ring()
        self.last = latest
