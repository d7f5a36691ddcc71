"""Qt's event loop with Ctrl-C and SIGTERM honoured.

While `QApplication.exec()` runs in C++, Python never gets to run its signal handlers: Ctrl-C
in the terminal that started `dental-bridge demo` did nothing, and SIGTERM (logout, a service
manager) ended the process without stopping the service. Here a signal quits the loop, so the
caller's shutdown (tray, windows, service) runs as it does after Quit.
"""

from __future__ import annotations

import logging
import signal
import threading

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

_SIGNALS = ("SIGINT", "SIGTERM", "SIGBREAK")  # SIGBREAK: Ctrl-Break in a Windows console


class QuitOnSignals:
    """Ctrl-C / SIGTERM quit the Qt loop. Installed before the app starts its threads (a
    signal that arrives while they start, before the loop runs, must still stop it cleanly:
    `quit()` before `exec()` would be lost, so the loop is not entered at all then)."""

    def __init__(self, app: QApplication):
        self.app = app
        self.signalled = False
        self._previous: dict = {}

    def __enter__(self) -> "QuitOnSignals":
        if threading.current_thread() is threading.main_thread():  # handlers only from the main thread
            for name in _SIGNALS:
                sig = getattr(signal, name, None)
                if sig is not None:
                    self._previous[sig] = signal.signal(sig, self._quit)
        return self

    def _quit(self, signum, _frame) -> None:
        log.info("signal %s: quitting", signal.Signals(signum).name)
        self.signalled = True
        self.app.quit()

    def run(self) -> int:
        if self.signalled:
            return 0
        wake = QTimer()
        wake.timeout.connect(lambda: None)  # returns to Python now and then, where handlers run
        wake.start(250)
        try:
            return 0 if self.signalled else int(self.app.exec())
        finally:
            wake.stop()

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def run_event_loop(app: QApplication) -> int:
    with QuitOnSignals(app) as loop:
        return loop.run()
