"""Start at login against the real HKCU Run key: written, read back by another process, removed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tray_app import autostart

pytestmark = pytest.mark.windows

READ_RUN_VALUE = (
    "import winreg\n"
    "try:\n"
    "    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, r'Software\\Microsoft\\Windows\\CurrentVersion\\Run') as k:\n"
    "        print(repr(winreg.QueryValueEx(k, 'DentalAIBridge')))\n"
    "except FileNotFoundError:\n"
    "    print('absent')\n"
)


def _read_from_another_process() -> str:
    return subprocess.run([sys.executable, "-c", READ_RUN_VALUE], capture_output=True, text=True,
                          timeout=60, check=True).stdout.strip()


@pytest.fixture
def run_key():
    """The real Run key; a value a developer's machine already had is put back afterwards."""
    reg = autostart.WinRegistry()
    before = reg.get(autostart.VALUE_NAME)
    yield reg
    if before is None:
        reg.delete(autostart.VALUE_NAME)
    else:
        reg.set(autostart.VALUE_NAME, before)


def test_run_value_written_read_by_another_process_and_removed(run_key, tmp_path):
    autostart.disable()
    assert _read_from_another_process() == "absent"
    cmd = autostart.launch_command(frozen=True, executable=r"C:\Users\Front Desk\AppData\Local\Programs\DentalAIBridge\dental-bridge.exe")
    assert autostart.enable(command=cmd, shortcut=tmp_path / "no.lnk")
    assert autostart.is_enabled()
    REG_SZ = 1
    expected = '"C:\\Users\\Front Desk\\AppData\\Local\\Programs\\DentalAIBridge\\DentalAIBridge.exe"'
    assert _read_from_another_process() == repr((expected, REG_SZ))
    assert autostart.disable()
    assert not autostart.is_enabled()
    assert _read_from_another_process() == "absent"


def test_default_command_from_a_checkout_starts_pythonw(run_key, tmp_path):
    assert autostart.set_enabled(True)
    value = run_key.get(autostart.VALUE_NAME)
    assert value.startswith('"') and value.lower().endswith('pythonw.exe" -m tray_app'), value
    assert autostart.set_enabled(False) and run_key.get(autostart.VALUE_NAME) is None
