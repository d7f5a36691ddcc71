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


def run_event_loop(app: QApplication) -> int:
    if threading.current_thread() is not threading.main_thread():
        return int(app.exec())  # signal handlers can only be set from the main thread

    def quit_loop(signum, _frame):
        log.info("signal %s: quitting", signal.Signals(signum).name)
        app.quit()

    previous = {}
    for name in _SIGNALS:
        sig = getattr(signal, name, None)
        if sig is not None:
            previous[sig] = signal.signal(sig, quit_loop)
    wake = QTimer()
    wake.timeout.connect(lambda: None)  # returns to Python now and then, where handlers run
    wake.start(250)
    try:
        return int(app.exec())
    finally:
        wake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
