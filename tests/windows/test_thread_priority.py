"""The pipeline's background threads run below normal priority on Windows too (SetThreadPriority),
so the model's thread keeps its core in a burst; the calling thread alone is lowered."""

from __future__ import annotations

import ctypes
import threading

import pytest

from tray_app.thread_priority import THREAD_PRIORITY_BELOW_NORMAL, lower_this_thread

pytestmark = pytest.mark.windows


def _priority() -> int:
    k = ctypes.windll.kernel32
    k.GetCurrentThread.restype = ctypes.c_void_p
    k.GetThreadPriority.argtypes = [ctypes.c_void_p]
    return k.GetThreadPriority(k.GetCurrentThread())


def test_a_background_thread_is_lowered_and_the_caller_is_not():
    seen = {}

    def background():
        seen["before"] = _priority()
        seen["lowered"] = lower_this_thread()
        seen["after"] = _priority()

    t = threading.Thread(target=background)
    t.start()
    t.join(10)
    assert seen == {"before": 0, "lowered": True, "after": THREAD_PRIORITY_BELOW_NORMAL}
    assert _priority() == 0  # this thread kept normal priority
