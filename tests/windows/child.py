"""Child Windows processes of the app, for the Windows tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def app_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a child app process: its own data folder, offscreen Qt, the checkout
    on the path (the lane does not install the project, so the tested code is this tree)."""
    env = dict(os.environ)
    env.update(DENTAL_BRIDGE_HOME=str(home), QT_QPA_PLATFORM="offscreen", PYTHONIOENCODING="utf-8",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")])))
    env.update(extra)
    return env


def run_cli(home: Path, *args: str, timeout: float = 240, **extra: str) -> subprocess.CompletedProcess:
    """`python -m tray_app ARGS` in a child Windows process. Output goes through pipes: a
    Windows Python under Wine dies at start when its stdout is a regular file."""
    return subprocess.run([sys.executable, "-m", "tray_app", *args], env=app_env(home, **extra),
                          capture_output=True, text=True, encoding="utf-8", errors="replace",
                          timeout=timeout, cwd=str(REPO))


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
