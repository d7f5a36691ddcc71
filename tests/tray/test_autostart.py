"""Start at login: the HKCU Run value, with a dict standing in for the registry."""

from __future__ import annotations

from tray_app import autostart


def test_enable_writes_one_quoted_run_value_idempotently(registry, tmp_path):
    cmd = autostart.launch_command(frozen=True, executable=r"C:\Users\a\AppData\Local\Programs\DentalAIBridge\DentalAIBridge.exe")
    assert cmd == '"C:\\Users\\a\\AppData\\Local\\Programs\\DentalAIBridge\\DentalAIBridge.exe"'
    assert not autostart.is_enabled(registry)
    assert autostart.enable(registry, command=cmd, shortcut=tmp_path / "none.lnk")
    assert registry.values == {"DentalAIBridge": cmd}
    assert autostart.is_enabled(registry)
    autostart.enable(registry, command=cmd, shortcut=tmp_path / "none.lnk")
    assert registry.writes == 1  # unchanged value: not written again


def test_enable_repoints_a_stale_path_and_removes_a_startup_shortcut(registry, tmp_path):
    registry.values["DentalAIBridge"] = '"C:\\old place\\DentalAIBridge.exe"'
    link = tmp_path / "Startup" / autostart.STARTUP_SHORTCUT
    link.parent.mkdir()
    link.write_bytes(b"lnk")
    autostart.enable(registry, command='"C:\\new\\DentalAIBridge.exe"', shortcut=link)
    assert registry.values["DentalAIBridge"] == '"C:\\new\\DentalAIBridge.exe"'
    assert not link.exists()  # never both a Run value and a Startup shortcut


def test_disable_is_idempotent(registry):
    registry.values["DentalAIBridge"] = '"x.exe"'
    registry.values["OtherApp"] = '"other.exe"'
    assert autostart.disable(registry)
    assert autostart.disable(registry)
    assert registry.values == {"OtherApp": '"other.exe"'}
    assert not autostart.is_enabled(registry)


def test_set_enabled(registry, tmp_path):
    autostart.set_enabled(True, registry)
    assert autostart.is_enabled(registry)
    autostart.set_enabled(False, registry)
    assert not autostart.is_enabled(registry)


def test_launch_commands():
    # the console CLI asking (frozen): the windowed app beside it starts at login
    assert autostart.launch_command(frozen=True, executable=r"C:\App\dental-bridge.exe") == '"C:\\App\\DentalAIBridge.exe"'
    # from a checkout: pythonw, so no console window opens at login
    assert autostart.launch_command(frozen=False, executable=r"C:\venv\Scripts\python.exe") == \
        '"C:\\venv\\Scripts\\pythonw.exe" -m tray_app'


def test_registry_errors_are_phrased(tmp_path):
    class Broken:
        def get(self, name):
            raise PermissionError("access denied")

        def set(self, name, value):
            raise PermissionError("access denied")

        def delete(self, name):
            raise PermissionError("access denied")

    import pytest

    with pytest.raises(autostart.AutostartError, match="start at login"):
        autostart.enable(Broken(), command='"x"', shortcut=tmp_path / "x.lnk")
    with pytest.raises(autostart.AutostartError):
        autostart.disable(Broken())


def test_not_supported_elsewhere(monkeypatch):
    monkeypatch.setattr(autostart.sys, "platform", "linux")
    assert not autostart.supported()
    assert autostart.enable() is False
    assert autostart.disable() is False
    assert autostart.is_enabled() is False
