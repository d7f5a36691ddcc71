"""Single instance on Windows: the named mutex (the installer's AppMutex) and the local server,
between real processes."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from .child import app_env, run_cli, wait_for

pytestmark = pytest.mark.windows

GUARD = r"""
import sys
from PySide6.QtCore import QCoreApplication, QTimer
from tray_app.ui.single_instance import SingleInstance
app = QCoreApplication([])
guard = SingleInstance(sys.argv[1], sys.argv[2])
first = guard.acquire()
print("first" if first else "second", flush=True)
if first:
    guard.show_requested.connect(lambda: (print("asked to show", flush=True), app.quit()))
    QTimer.singleShot(60000, app.quit)
    app.exec()
guard.release()
"""

SYNCHRONIZE = 0x00100000


def _mutex_exists(name: str) -> bool:
    import ctypes
    from ctypes import wintypes

    k32 = ctypes.WinDLL("kernel32", use_last_error=True)
    k32.OpenMutexW.restype = wintypes.HANDLE
    k32.OpenMutexW.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.LPCWSTR]
    h = k32.OpenMutexW(SYNCHRONIZE, False, name)
    if h:
        k32.CloseHandle(h)
    return bool(h)


def test_second_process_steps_aside_while_the_first_holds_the_mutex(win_home):
    tag = uuid.uuid4().hex[:8]
    server, mutex = f"DentalAIBridge-test-{tag}", f"DentalAIBridge.SingleInstance.test-{tag}"
    env = app_env(win_home)
    first = subprocess.Popen([sys.executable, "-c", GUARD, server, mutex], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "first"
        assert _mutex_exists(mutex)
        second = subprocess.run([sys.executable, "-c", GUARD, server, mutex], env=env, capture_output=True,
                                text=True, timeout=60)
        assert second.stdout.split() == ["second"], second.stdout + second.stderr
        out, err = first.communicate(timeout=60)
        assert "asked to show" in out, err[-2000:]
        assert first.returncode == 0, err[-2000:]
    finally:
        if first.poll() is None:
            first.kill()
    assert not _mutex_exists(mutex)  # released with the process: the installer may proceed


def test_the_tray_app_holds_its_mutex_and_a_second_launch_steps_aside(win_home, tmp_path, monkeypatch):
    share = tmp_path / "share"
    share.mkdir()
    assert run_cli(win_home, "config", "add-source", str(share)).returncode == 0
    env = app_env(win_home, PYSTRAY_BACKEND="dummy")
    start = [sys.executable, "-c", "from tray_app.ui.app_shell import main; raise SystemExit(main())"]
    app = subprocess.Popen(start, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    log = win_home / "logs" / "dental-bridge.log"
    try:
        shown = wait_for(lambda: log.exists() and "tray icon shown" in log.read_text("utf-8", "replace")
                         or app.poll() is not None, timeout=120)
        assert shown and app.poll() is None, log.read_text("utf-8", "replace")[-3000:] if log.exists() else "no log"
        from tray_app.config import Paths
        from tray_app.ui.single_instance import instance_names

        monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(win_home))
        _server, mutex = instance_names(Paths.resolve().data_dir)
        assert _mutex_exists(mutex)
        second = subprocess.run(start, env=env, capture_output=True, timeout=90)
        assert second.returncode == 0, second.stderr[-2000:]
        assert app.poll() is None, "the first instance died when the second started"
        assert wait_for(lambda: "asked it to show" in log.read_text("utf-8", "replace"), timeout=10)
    finally:
        app.kill()
        app.wait(timeout=30)
