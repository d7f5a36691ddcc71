"""Every tray menu item, called as the pystray thread calls it: the callable only emits a
signal; the Qt main thread does the work (window shown, settings opened, paused, quit…)."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QUrl

from tray_app.config import Config
from tray_app.ui import tray as tray_mod
from tray_app.ui.app_shell import AppShell


@pytest.fixture
def shell(qtbot, paths):
    from tray_app.app import Service

    config = Config()
    service = Service(config, paths)  # built, not started: no threads
    opened, quits = [], []
    s = AppShell(service, paths, config, open_url=lambda url: opened.append(url), quit_app=lambda: quits.append(1),
                 poll_ms=0)
    s.opened, s.quits = opened, quits
    s.start(start_service=False, first_run=False)
    yield s
    for w in (s.review_window, s.settings_window, s.about_box):
        if w is not None:
            w.close()
    if s.review_window is not None:
        s.review_window.timer.stop()
        s.review_window.pixels.wait(5000)
    s.shutdown()


def _items(shell):
    icon = shell.tray.icon
    assert icon is not None, "the dummy backend still builds the icon and its menu"
    sep = shell.tray.pystray.Menu.SEPARATOR
    return icon, {item.text: item for item in icon.menu.items if item is not sep}


def _call_from_tray_thread(item, icon):
    """pystray runs menu actions on its own thread; do the same."""
    t = threading.Thread(target=item, args=(icon,), name="pystray-like")
    t.start()
    t.join(5)


def _activate(qtbot, shell, text, action):
    icon, items = _items(shell)
    before = len(shell.handled)
    _call_from_tray_thread(items[text], icon)
    # nothing happened on the tray thread: the work is queued for the main thread
    assert len(shell.handled) == before
    qtbot.waitUntil(lambda: len(shell.handled) == before + 1, timeout=3000)
    assert shell.handled[-1] == action
    assert shell.handled_on[-1] == threading.main_thread().ident


def test_menu_lists_every_action(shell):
    _icon, items = _items(shell)
    assert list(items) == ["Open review", "Pause watching", "Export now", "Settings…", "Open logs folder",
                           "About Dental AI Bridge", "Quit"]
    assert items["Open review"].default  # left click opens the review window


def test_callables_only_emit_the_signal(shell, monkeypatch):
    """Each menu callable does exactly one thing: emit `requested` with its action name."""
    emitted = []

    class Recorder:
        def emit(self, action):
            emitted.append((action, threading.current_thread().name))

    class FakeBridge:
        requested = Recorder()

    icon, items = _items(shell)
    controller = tray_mod.TrayController(FakeBridge(), pystray_module=shell.tray.pystray, show_pairing=True)
    controller.start()
    for item in controller.icon.menu.items:
        if item is not controller.pystray.Menu.SEPARATOR:
            _call_from_tray_thread(item, controller.icon)
    assert [a for a, _ in emitted] == list(tray_mod.ACTIONS)
    assert all(thread == "pystray-like" for _, thread in emitted)


def test_open_review(qtbot, shell):
    _activate(qtbot, shell, "Open review", "open_review")
    assert shell.review_window is not None and shell.review_window.isVisible()
    # closed and opened again: shown again, and its poll timer restarted
    shell.review_window.close()
    assert not shell.review_window.isVisible()
    _activate(qtbot, shell, "Open review", "open_review")
    assert shell.review_window.isVisible()


def test_pause_and_resume(qtbot, shell):
    _activate(qtbot, shell, "Pause watching", "toggle_pause")
    assert shell.service.watcher.paused is True
    assert shell.state.state == "waiting_for_share" or shell.state.paused  # no folder yet: setup first
    assert shell.state.paused and "Paused" in shell.tray.title
    # paused also skips new work: events record nothing, the worker takes nothing
    assert shell.service.discovery.offer(str(shell.paths.data_dir / "x.dcm"), None) is False
    assert shell.service.work_once() is None
    _icon, items = _items(shell)
    assert "Resume watching" in items  # the menu text follows the state
    _activate(qtbot, shell, "Resume watching", "toggle_pause")
    assert shell.service.watcher.paused is False
    assert not shell.state.paused


def test_export_now_reports_back(qtbot, shell):
    _activate(qtbot, shell, "Export now", "export_now")
    qtbot.waitUntil(lambda: any(t == "Export" for t, _ in shell.tray.notifications), timeout=5000)
    title, text = [n for n in shell.tray.notifications if n[0] == "Export"][-1]
    assert "No export destination" in text or "Nothing to export" in text


def test_settings(qtbot, shell):
    _activate(qtbot, shell, "Settings…", "settings")
    assert shell.settings_window is not None and shell.settings_window.isVisible()


def test_open_logs(qtbot, shell):
    _activate(qtbot, shell, "Open logs folder", "open_logs")
    assert shell.opened == [QUrl.fromLocalFile(str(shell.paths.log_dir))]


def test_about(qtbot, shell):
    _activate(qtbot, shell, "About Dental AI Bridge", "about")
    from tray_app import __version__

    assert shell.about_box.isVisible()
    text = shell.about_box.text()
    assert __version__ in text and "Model:" in text


def test_quit(qtbot, shell):
    _activate(qtbot, shell, "Quit", "quit")
    assert shell.quits == [1] and shell.quitting


def test_export_item_hidden_without_export_package(qtbot):
    bridge = tray_mod.TrayBridge()
    c = tray_mod.TrayController(bridge, show_export=False)
    c.start()
    assert "Export now" not in [i.text for i in c.icon.menu.items]


def test_state_poll_updates_icon_and_notifies(qtbot, shell, db):
    from tray_app.store.db import utcnow

    shell.notifier.limiter.gap = 0
    shell.poll()
    watching = shell.tray.image
    now = utcnow()
    with db.tx() as c:
        c.execute("INSERT INTO studies(group_key, status, urgent, first_seen_at, last_image_at) VALUES ('g','new',1,?,?)",
                  (now, now))
    shell.poll()
    assert shell.state.state == "urgent"
    assert shell.tray.image is not watching
    assert "1 urgent study" in shell.tray.title
    assert any(t == "Urgent finding" for t, _ in shell.tray.notifications)


def test_model_and_pc_problems_show_in_the_tooltip(qtbot, shell):
    shell.service.model = None
    shell.service.model_problem = "no model is installed: add one in the models folder"
    shell.poll()
    assert shell.state.state == "waiting_for_share"
    assert "Analysis paused, images wait: no model" in shell.tray.title
    shell.service.health.disk_full = True  # as Health.component_failed sets it
    shell.poll()
    assert shell.tray.title.startswith("Dental AI Bridge — The disk holding")


def test_settings_changed_outside_the_app_restart_the_service(qtbot, shell, tmp_path):
    """`dental-bridge config add-source` while the tray runs: the next poll rebuilds the service
    from the file; saving from our own settings window is not counted twice; a broken file
    keeps the service and shows why in the tooltip."""
    from tray_app.cli import main

    built = []
    shell.service_factory = lambda config, paths: built.append(config) or _Started()
    folder = tmp_path / "xrays"
    folder.mkdir()
    shell.poll()
    assert built == []
    assert main(["config", "add-source", str(folder)]) == 0
    shell.poll()
    qtbot.waitUntil(lambda: len(built) == 1, timeout=5000)
    assert [s.path for s in built[0].sources] == [str(folder)] and shell.config is built[0]
    shell.poll()
    assert len(built) == 1  # the same file is not applied twice

    own = Config.load(shell.paths.config_file)
    own.intake.settle_seconds = 3.0
    own.save(shell.paths.config_file)
    shell.apply_config(own)  # what the settings window's `saved` signal does
    qtbot.waitUntil(lambda: len(built) == 2, timeout=5000)
    shell.poll()
    assert len(built) == 2

    shell.paths.config_file.write_text("[intake\n", encoding="utf-8")
    shell.poll()
    assert len(built) == 2 and "the previous settings stay in force" in shell.tray.title
    assert len(shell.tray.title) <= 127  # what a Windows tray tooltip shows


class _Started:
    """A stand-in service for restarts: the real one's threads are not what these tests are about."""
    problem = ""
    model_problem = ""
    scp = None
    running: list = []

    def __init__(self, config=None, slow: float = 0.0):
        self.config, self.slow, self.paused = config, slow, False

    def start(self):
        time.sleep(self.slow)
        _Started.running.append(self)

    def stop(self):
        if self in _Started.running:
            _Started.running.remove(self)

    def set_paused(self, paused):
        self.paused = paused


def _sources(config):
    return [s.path for s in config.sources]


def test_quick_changes_leave_one_service_with_the_newest_settings(qtbot, shell, tmp_path):
    from tray_app.cli import main

    _Started.running = []
    shell.service = None
    shell.service_factory = lambda config, paths: _Started(config, slow=0.3)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert main(["config", "add-source", str(a)]) == 0
    shell.poll()
    assert main(["config", "add-source", str(b)]) == 0
    shell.poll()  # while the first restart is still starting its service
    qtbot.waitUntil(lambda: shell._running_config is shell.config and len(_Started.running) == 1, timeout=5000)
    time.sleep(0.5)
    assert len(_Started.running) == 1 and _sources(_Started.running[0].config) == [str(a), str(b)]
    assert shell.service is _Started.running[0]


def test_settings_that_cannot_start_a_service_fall_back_to_the_running_ones(qtbot, shell, tmp_path, monkeypatch):
    from tray_app.cli import main
    from tray_app import settings_file

    _Started.running = []
    shell.service = None

    def factory(config, paths):
        if config.sources:
            raise OSError("the DICOM port is taken")  # what a real Service() could raise
        return _Started(config)

    shell.service_factory = factory
    folder = tmp_path / "xrays"
    folder.mkdir()
    assert main(["config", "add-source", str(folder)]) == 0
    shell.poll()
    qtbot.waitUntil(lambda: "could not be applied" in shell.tray.title, timeout=5000)
    assert len(_Started.running) == 1 and _sources(_Started.running[0].config) == []
    assert _sources(shell.config) == [] and len(shell.tray.title) <= 127

    # a file deleted by hand does not mean "defaults": nothing restarts, the tray says so
    restarts = len(_Started.running)
    shell.paths.config_file.unlink()
    shell.poll()
    assert "settings file is missing" in shell.tray.title and len(_Started.running) == restarts

    # a file held open by another program is read again on the next poll, not lost
    shell.service_factory = lambda config, paths: _Started(config)
    assert main(["config", "add-source", str(folder)]) == 0
    real_load, calls = settings_file.Config.load, []

    def held_open(path):
        calls.append(path)
        if len(calls) == 1:
            raise PermissionError(13, "The process cannot access the file", str(path))
        return real_load(path)

    monkeypatch.setattr(settings_file.Config, "load", staticmethod(held_open))
    shell.poll()
    shell.poll()
    qtbot.waitUntil(lambda: bool(_Started.running) and _sources(_Started.running[-1].config) == [str(folder)],
                    timeout=5000)
    assert len(calls) == 2 and "previous settings" not in shell.tray.title
