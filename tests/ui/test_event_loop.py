"""Ctrl-C / SIGTERM quit the Qt loop, also when they arrive while the app is still starting
its threads (before the loop runs): CI once caught SIGTERM killing the app in that window."""

from __future__ import annotations

import os
import signal

from PySide6.QtCore import QTimer

from tray_app.ui.event_loop import QuitOnSignals


def test_a_signal_before_the_loop_runs_quits_without_entering_it(qapp):
    with QuitOnSignals(qapp) as loop:
        os.kill(os.getpid(), signal.SIGTERM)       # during start-up: handled, not fatal
        assert loop.signalled
        assert loop.run() == 0                     # returns at once instead of waiting forever
    assert signal.getsignal(signal.SIGTERM) != loop._quit     # the previous handler is back


def test_a_signal_while_the_loop_runs_quits_it(qapp):
    with QuitOnSignals(qapp) as loop:
        QTimer.singleShot(100, lambda: os.kill(os.getpid(), signal.SIGINT))
        assert loop.run() == 0 and loop.signalled
