from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYSTRAY_BACKEND", "dummy")

class FakeRegistry:
    """The HKCU Run key as a dict."""

    def __init__(self, values=None):
        self.values: dict[str, str] = dict(values or {})
        self.writes = 0

    def get(self, name):
        return self.values.get(name)

    def set(self, name, value):
        self.writes += 1
        self.values[name] = value

    def delete(self, name):
        self.values.pop(name, None)


@pytest.fixture
def registry():
    return FakeRegistry()


@pytest.fixture
def paths(tmp_path, monkeypatch):
    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(tmp_path / "home"))
    from tray_app.config import Paths

    return Paths.resolve().ensure()


@pytest.fixture
def db(paths):
    from tray_app.store.db import Database

    d = Database(paths.database)
    yield d
    d.close()
