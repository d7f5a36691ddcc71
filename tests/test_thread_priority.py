"""The pipeline's background threads run below normal priority (Linux: the thread's own nice
value), so the model's thread keeps its core; the calling thread alone is lowered. The Windows
half is tests/windows/test_thread_priority.py."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from tray_app.thread_priority import NICE, lower_this_thread


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_a_background_thread_is_lowered_and_the_caller_is_not():
    me = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def background():
        seen["lowered"] = lower_this_thread()
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    t = threading.Thread(target=background)
    t.start()
    t.join(10)
    assert seen == {"lowered": True, "nice": max(NICE, me)}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == me


def test_the_pipelines_background_threads_are_lowered(home, export_dir):
    """Every thread the service starts for intake and its steps, not only the ones named here."""
    from service_helpers import fast_config, home_paths, wait_for
    from samples import write_png
    from tray_app.app import Service

    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread nice values are Linux's")
    s = Service(fast_config(export_dir), home_paths())
    s.start()
    try:
        for i in range(3):
            write_png(export_dir / f"img_{i}.png", seed=i)
        wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 3, 60,
                 message="3 images analysed")
        nice = {t.name: os.getpriority(os.PRIO_PROCESS, t.native_id) for t in threading.enumerate()
                if t.native_id is not None and t.is_alive()}
        for name in ("analysis-prepare", "analysis-commit", "after-image", "discovery", "readiness"):
            assert nice.get(name, NICE) >= NICE, nice
        assert nice["analysis-worker"] < NICE  # the model's thread keeps normal priority
        assert {"analysis-prepare", "analysis-commit", "readiness"} <= set(nice)
    finally:
        s.stop()
