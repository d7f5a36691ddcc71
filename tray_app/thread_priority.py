"""Background threads of the pipeline yield the CPU to the model's thread.

On a 2-core PC the model's thread keeps one core only while at most one other thread wants the
other. In a burst the preparation thread, the steps after an image, the commit, discovery and
readiness were often runnable at once; the operating system then shared both cores among them
and the model, whose inference took ~50 % longer (measured: 44 → 65 ms with two busy threads
beside it, 44.5 ms with the same two at a lower priority). A lower priority costs nothing when the
PC is idle, and leaves the practice's own programs ahead of this background work too.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

NICE = 10  # Linux/macOS: a clear step below normal (0), far from idle-only (19)
THREAD_PRIORITY_BELOW_NORMAL = -1


def lower_this_thread() -> bool:
    """Lower the calling thread's scheduling priority; False where that is not possible."""
    try:
        if sys.platform == "win32":
            import ctypes
            from ctypes import wintypes

            kernel32 = ctypes.windll.kernel32
            kernel32.GetCurrentThread.restype = wintypes.HANDLE  # a pseudo-handle: pointer-sized
            kernel32.SetThreadPriority.argtypes = [wintypes.HANDLE, ctypes.c_int]
            kernel32.SetThreadPriority.restype = wintypes.BOOL
            return bool(kernel32.SetThreadPriority(kernel32.GetCurrentThread(), THREAD_PRIORITY_BELOW_NORMAL))
        if sys.platform.startswith("linux"):
            # a Linux thread is a task of its own: its id takes a nice value of its own
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, max(NICE, os.getpriority(os.PRIO_PROCESS, tid)))
            return True
    except (OSError, AttributeError, ValueError) as exc:
        log.debug("thread priority unchanged: %s", exc)
    return False
