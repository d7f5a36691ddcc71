"""The frozen one-folder build (build.spec, PyInstaller under Wine): `--version`, the bundle
self-check, `demo --headless --once` with the bundled model, and the windowed app holding the
single-instance mutex while a second launch steps aside. `.ci/windows/run.sh` builds it and
sets DENTAL_BRIDGE_FROZEN_DIST; without a build these tests are skipped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .child import wait_for

pytestmark = [
    pytest.mark.windows,
    pytest.mark.skipif(not os.environ.get("DENTAL_BRIDGE_FROZEN_DIST"),
                       reason="needs a frozen build (DENTAL_BRIDGE_FROZEN_DIST, set by .ci/windows/run.sh)"),
]


@pytest.fixture
def dist() -> Path:
    return Path(os.environ["DENTAL_BRIDGE_FROZEN_DIST"])


def _env(home: Path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DENTAL_BRIDGE_SELFTEST")}
    env.update(DENTAL_BRIDGE_HOME=str(home), QT_QPA_PLATFORM="offscreen", PYSTRAY_BACKEND="dummy", **extra)
    return env


def _cli(dist: Path, home: Path, *args: str, timeout: float = 300, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([str(dist / "dental-bridge.exe"), *args], env=_env(home, **extra), capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=timeout)


def test_version_and_bundle_self_check(dist, win_home):
    from tray_app import __version__

    r = _cli(dist, win_home, "--version")
    assert r.returncode == 0 and __version__ in r.stdout, r.stdout + r.stderr
    r = _cli(dist, win_home, timeout=300, DENTAL_BRIDGE_SELFTEST="1")
    assert r.returncode == 0, r.stdout + r.stderr  # every dynamically loaded module is in the bundle


def test_frozen_demo_headless_once_analyses_with_the_bundled_model(dist, win_home):
    r = _cli(dist, win_home, "demo", "--headless", "--once")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "model:           dental-demo" in r.stdout, r.stdout[:2000]
    assert "analyzed" in r.stdout and "Study 1" in r.stdout, r.stdout[-3000:]


def test_frozen_app_holds_the_instance_and_a_second_launch_steps_aside(dist, win_home, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    assert _cli(dist, win_home, "config", "add-source", str(share)).returncode == 0
    app_exe = [str(dist / "DentalAIBridge.exe")]
    app = subprocess.Popen(app_exe, env=_env(win_home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = win_home / "logs" / "dental-bridge.log"
    text = lambda: log.read_text("utf-8", "replace") if log.exists() else ""  # noqa: E731
    try:
        assert wait_for(lambda: "tray icon shown" in text() or app.poll() is not None, timeout=180)
        assert app.poll() is None, text()[-3000:]
        second = subprocess.run(app_exe, env=_env(win_home), capture_output=True, timeout=120)
        assert second.returncode == 0
        assert app.poll() is None, "the first instance died when the second started"
        assert "asked it to show" in text()
    finally:
        app.kill()
        app.wait(timeout=30)
