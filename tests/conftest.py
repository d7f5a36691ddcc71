from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYSTRAY_BACKEND", "dummy")
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def memory_keyring():
    """Every test gets an empty in-memory OS keyring; nothing touches a real one."""
    import keyring

    from memory_keyring import MemoryKeyring

    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An isolated DENTAL_BRIDGE_HOME with the stub detector installed as the user's model."""
    h = tmp_path / "home"
    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(h))
    from model_factory import simple_detector

    simple_detector(h / "models" / "stub")
    return h


@pytest.fixture
def export_dir(tmp_path):
    d = tmp_path / "export"
    d.mkdir()
    return d

