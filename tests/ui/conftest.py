from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))

from ui_home import build_home, home_paths  # noqa: E402


@pytest.fixture(scope="session")
def built_home(tmp_path_factory):
    """Three ingested studies (4 images) with findings and two clinicians, built once."""
    root = tmp_path_factory.mktemp("ui-home")
    build_home(root)
    return root


@pytest.fixture
def review_home(built_home, tmp_path, monkeypatch):
    """A private copy of the built home (tests write reviews and signatures)."""
    root = tmp_path / "home"
    shutil.copytree(built_home, root)
    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(root))
    return home_paths(root)


@pytest.fixture
def make_window(qtbot):
    from tray_app.ui.launch import build_window

    made = []

    def make(paths, size=(1366, 768), poll_ms=0):
        w = build_window(paths, None, size=size, poll_ms=poll_ms)
        qtbot.addWidget(w)
        w.show()
        made.append(w)
        qtbot.waitUntil(lambda: w.image_id is None or w.canvas.pixmap_item is not None, timeout=10_000)
        return w

    yield make
    for w in made:
        w.timer.stop()
        w.pixels.wait(5000)
        w.db_handle.close()
