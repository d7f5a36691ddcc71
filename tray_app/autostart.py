"""Start at login: one HKCU Run value, never also a Startup-folder shortcut.

`HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`, value "DentalAIBridge" = the quoted
path of the windowed app (frozen: DentalAIBridge.exe beside the running exe; from a checkout:
`"pythonw.exe" -m tray_app`). The installer's "start when I sign in" task writes the same
value, and its uninstaller removes it. Elsewhere than Windows this is a no-op and
`supported()` is False (the settings window hides the option).

Qt-free: the registry is an injected object (`WinRegistry` by default) so the logic is
tested with a dict-backed fake on any OS.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Protocol

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
VALUE_NAME = "DentalAIBridge"
APP_EXE = "DentalAIBridge.exe"
# an older or hand-made Startup shortcut would start a second copy (the single-instance
# guard would stop it, but not before it flashed): enabling removes it
STARTUP_SHORTCUT = "Dental AI Bridge.lnk"


class AutostartError(Exception):
    """The Run value could not be read or written; phrased for the person who can fix it."""


class Registry(Protocol):
    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


class WinRegistry:
    """The current user's Run key (no elevation needed)."""

    def __init__(self, key: str = RUN_KEY):
        import winreg  # noqa: PLC0415 — Windows only

        self._winreg = winreg
        self._key = key

    def get(self, name: str) -> str | None:
        w = self._winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, self._key, 0, w.KEY_READ) as k:
                value, _type = w.QueryValueEx(k, name)
                return str(value)
        except FileNotFoundError:
            return None

    def set(self, name: str, value: str) -> None:
        w = self._winreg
        with w.CreateKeyEx(w.HKEY_CURRENT_USER, self._key, 0, w.KEY_SET_VALUE) as k:
            w.SetValueEx(k, name, 0, w.REG_SZ, value)

    def delete(self, name: str) -> None:
        w = self._winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, self._key, 0, w.KEY_SET_VALUE) as k:
                w.DeleteValue(k, name)
        except FileNotFoundError:
            pass


def supported(platform: str | None = None) -> bool:
    return (platform or sys.platform) == "win32"


def launch_command(*, frozen: bool | None = None, executable: str | None = None) -> str:
    """The command line the Run value holds: always a quoted path."""
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    raw = executable or sys.executable
    exe = PureWindowsPath(raw) if (sys.platform == "win32" or "\\" in raw) else PurePosixPath(raw)
    if frozen:
        # the console CLI (dental-bridge.exe) may be the one asking: start the windowed app
        app = exe.with_name(APP_EXE)
        return f'"{app if app.name.lower() != exe.name.lower() else exe}"'
    pythonw = exe.with_name("pythonw.exe") if exe.name.lower() == "python.exe" else exe
    return f'"{pythonw}" -m tray_app'


def startup_shortcut(appdata: str | None = None) -> Path | None:
    appdata = appdata if appdata is not None else os.environ.get("APPDATA", "")
    if not appdata:
        return None
    return Path(appdata) / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup" / STARTUP_SHORTCUT


def _registry(registry: Registry | None) -> Registry | None:
    if registry is not None:
        return registry
    if not supported():
        return None
    return WinRegistry()


def is_enabled(registry: Registry | None = None) -> bool:
    reg = _registry(registry)
    if reg is None:
        return False
    try:
        return bool(reg.get(VALUE_NAME))
    except OSError as exc:
        raise AutostartError(f"could not read the start-at-login setting ({exc})") from exc


def enable(registry: Registry | None = None, *, command: str | None = None,
           shortcut: Path | None = None) -> bool:
    """Writes the Run value (idempotent; repoints a stale path). False when not supported."""
    reg = _registry(registry)
    if reg is None:
        return False
    cmd = command or launch_command()
    try:
        if reg.get(VALUE_NAME) != cmd:
            reg.set(VALUE_NAME, cmd)
    except OSError as exc:
        raise AutostartError(f"could not turn on start at login ({exc})") from exc
    link = shortcut if shortcut is not None else startup_shortcut()
    if link is not None and link.exists():
        try:
            link.unlink()  # one mechanism only
        except OSError:
            pass
    return True


def disable(registry: Registry | None = None) -> bool:
    """Removes the Run value (idempotent). False when not supported."""
    reg = _registry(registry)
    if reg is None:
        return False
    try:
        reg.delete(VALUE_NAME)
    except OSError as exc:
        raise AutostartError(f"could not turn off start at login ({exc})") from exc
    return True


def set_enabled(on: bool, registry: Registry | None = None) -> bool:
    return enable(registry) if on else disable(registry)
