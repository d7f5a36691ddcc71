"""The tray application: composes QApplication, the single-instance guard, the tray, the review
window (built on first open), the settings window, the first-run wizard and the service.

`run_app(service, paths, config) -> int` is what `dental-bridge run` calls with a display;
`main(argv)` is the windowed executable's entry (DentalAIBridge.exe): it takes the guard before
building the service, so a second launch only asks the first to show its window.

Threads: the Qt main thread owns every window and `AppShell`; pystray runs on its own thread and
only emits `TrayBridge.requested` (queued here); the service runs on its worker threads; the
tray state is polled from SQLite by a QTimer (one cheap query set every few seconds). Export now
and service restarts run on short-lived threads and report back by signal.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Callable

from PySide6.QtCore import QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from .. import __version__
from ..settings_file import SettingsFile, replace_service
from . import service_control, tray_state
from .event_loop import QuitOnSignals
from .advice_bell import AdviceBell
from .hub_tray import pair_review_pc, poller_for
from .icons import icon_path
from .chart_link import follow_requests, raise_window
from .single_instance import instance_guard
from .launch import build_window
from .tray import (ABOUT, EXPORT_NOW, OPEN_LOGS, OPEN_REVIEW, PAIR_CLIENT, QUIT, SETTINGS, TOGGLE_PAUSE,
                   TrayBridge, TrayController)

log = logging.getLogger(__name__)

POLL_MS = 3000
DEMO_NOTE = ("The installed model was trained on generated radiographs only. Its findings show how the app "
             "works; they are not fit for diagnosis.")


class AppShell(QObject):
    """Receives tray actions on the main thread and owns the windows."""

    export_finished = Signal(str)
    service_restarted = Signal(object)  # the settings that could not start a service, or None

    def __init__(self, service, paths, config, *, app: QApplication | None = None, tray: TrayController | None = None,
                 open_url: Callable[[QUrl], object] | None = None, quit_app: Callable[[], None] | None = None,
                 poll_ms: int = POLL_MS, service_factory: Callable | None = None, registry=None):
        super().__init__()
        self.app = app or QApplication.instance()
        self.service, self.paths, self.config = service, paths, config
        self.bridge = TrayBridge()
        self.bridge.requested.connect(self.handle)  # queued: emitted on the pystray thread
        self.tray = tray or TrayController(self.bridge, show_export=service_control.export_available(),
                                           client_mode=bool(config.client.hub_url), show_pairing=config.hub.enabled)
        if tray is not None:
            tray.bridge = self.bridge
        self.open_url = open_url or QDesktopServices.openUrl
        self.quit_app = quit_app or QApplication.quit
        self.service_factory = service_factory
        self.registry = registry
        self.settings_file = SettingsFile(paths.config_file, config, paths.database)  # `config set` while we run
        self._running_config = config
        self.service_restarted.connect(self._restarted)
        self.notifier = tray_state.Notifier()
        self.review_window = None
        self.settings_window = None
        self.wizard = None
        self.about_box = None
        self.quitting = False
        self.handled: list[str] = []
        self.handled_on: list[int] = []
        self.state: tray_state.TrayState | None = None
        self._db = None
        self._started_at = time.monotonic()
        self._service_lock = threading.Lock()
        self.export_finished.connect(self._export_done)
        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)
        self.pairing_dialog = self.hub_poller = None

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self, *, start_service: bool = True, first_run: bool = True) -> None:
        if start_service and self.service is not None:
            self.service.start()
        shown = self.tray.start()
        if not shown:
            # no tray here (Linux without a tray backend): the window is the app; closing it quits
            if self.app is not None:
                self.app.setQuitOnLastWindowClosed(True)
            self.open_review()
        self.poll()
        if self.timer.interval() > 0:
            self.timer.start()  # and retake advice is announced as it is recorded (a client follows its hub)
            self.bell = None if self.config.client.hub_url else AdviceBell(self._conn, self.poll, self).start()
        if first_run and not self.config.sources and not self.config.client.hub_url:
            self.open_wizard()

    def shutdown(self) -> None:
        """After the event loop: stop the tray, close windows and databases, stop the service."""
        self.timer.stop()
        self.tray.stop()
        self.hub_poller and self.hub_poller.close()
        for w in (self.review_window, self.settings_window, self.wizard, self.pairing_dialog):
            if w is not None:
                w.close()
        if self.review_window is not None:
            self.review_window.db_handle.close()
        if self._db is not None:
            self._db.close()
            self._db = None
        with self._service_lock:
            if self.service is not None:
                self.service.stop()

    # -- tray actions (main thread) ----------------------------------------------------------------------------
    @Slot(str)
    def handle(self, action: str) -> None:
        self.handled.append(action)
        self.handled_on.append(threading.get_ident())  # tests check this is the main thread
        try:
            {OPEN_REVIEW: self.open_review, TOGGLE_PAUSE: self.toggle_pause, EXPORT_NOW: self.export_now,
             SETTINGS: self.open_settings, OPEN_LOGS: self.open_logs, ABOUT: self.show_about,
             PAIR_CLIENT: self.pair_client, QUIT: self.quit}[action]()
        except Exception:
            log.exception("tray action %s failed", action)

    def open_review(self):
        if self.review_window is None:
            self.review_window = build_window(self.paths, self.config)
            self.review_window.setWindowIcon(app_icon())
        w = self.review_window
        if w.timer.interval() > 0 and not w.timer.isActive():
            w.timer.start()  # closeEvent stopped the poll timer; the window is only hidden
        w.reload_queue()
        return raise_window(w)

    @property
    def paused(self) -> bool:
        return service_control.is_paused(self.service) if self.service is not None else False

    def toggle_pause(self) -> None:
        if self.service is None:
            return
        service_control.set_paused(self.service, not self.paused)
        self.tray.set_paused(self.paused)
        self.poll()

    def export_now(self) -> None:
        def work():
            try:
                # under the service lock: a settings restart waits rather than closing the
                # service's database under a drain in progress
                with self._service_lock:
                    text = service_control.export_now(self.service)
            except Exception as exc:  # noqa: BLE001 — reported in a notification, never a crash
                log.exception("export now failed")
                text = f"Export failed: {exc}"
            self.export_finished.emit(text)

        threading.Thread(target=work, name="export-now", daemon=True).start()

    @Slot(str)
    def _export_done(self, text: str) -> None:
        self.tray.notify("Export", text)
        self.poll()

    def open_settings(self) -> None:
        from .settings_window import SettingsWindow

        if self.settings_window is None or not self.settings_window.isVisible():
            self.settings_window = SettingsWindow(self.paths, self.config, registry=self.registry,
                                                  model_text=self.model_text())
            self.settings_window.setWindowIcon(app_icon())
            self.settings_window.saved.connect(self.apply_config)
        raise_window(self.settings_window)  # also un-minimises it

    def open_wizard(self) -> None:
        from .wizard import FirstRunWizard

        if self.wizard is not None and self.wizard.isVisible():
            self.wizard.raise_()
            return
        self.wizard = FirstRunWizard(self.paths, self.config, registry=self.registry,
                                     demonstration_note=DEMO_NOTE if self.is_demonstration() else "")
        self.wizard.setWindowIcon(app_icon())
        self.wizard.saved.connect(self.apply_config)
        self.wizard.show()

    def pair_client(self, ask=None):
        self.pairing_dialog = pair_review_pc(None, self.paths, ask=ask) or self.pairing_dialog
        return self.pairing_dialog

    def open_logs(self) -> None:
        self.paths.log_dir.mkdir(parents=True, exist_ok=True)
        self.open_url(QUrl.fromLocalFile(str(self.paths.log_dir)))

    def show_about(self) -> None:
        box = QMessageBox()
        box.setWindowTitle("About Dental AI Bridge")
        box.setIconPixmap(app_icon().pixmap(64, 64))
        demo = (f"<p style='color:#a0400c'><b>Demonstration model.</b> {DEMO_NOTE}</p>"
                if self.is_demonstration() else "")
        box.setText(f"<h3>Dental AI Bridge {__version__}</h3><p>{self.model_text()}</p>{demo}"
                    "<p>Findings are suggestions for a clinician to review; a dentist signs before anything "
                    "is written to a patient's chart.</p>")
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setModal(False)
        box.show()
        self.about_box = box

    def quit(self) -> None:
        self.quitting = True
        self.timer.stop()
        self.quit_app()

    # -- model facts ------------------------------------------------------------------------------------------
    def _manifest(self):
        model = getattr(self.service, "model", None)
        return getattr(model, "manifest", None)

    def service_problem(self) -> str:
        """What the tray should say is wrong with the PC or the model (empty when nothing is)."""
        problem = getattr(self.service, "problem", "") or self.settings_file.error
        if not problem and self._manifest() is None and getattr(self.service, "model_problem", ""):
            problem = f"analysis paused, images wait: {self.service.model_problem}"
        return problem

    def model_text(self) -> str:
        m = self._manifest()
        if m is not None:
            return f"Model: {m.name} {m.version}"
        problem = getattr(self.service, "model_problem", "") or "loading…"
        return f"Model: none ({problem})"

    def is_demonstration(self) -> bool:
        m = self._manifest()
        if m is not None:
            return bool(getattr(m, "is_demonstration", False))
        from ..app import model_search_dirs
        from ..analysis import registry

        try:
            entry = registry.choose(registry.discover(model_search_dirs(self.paths)), self.config.analysis.model)
        except Exception:  # noqa: BLE001
            return False
        return bool(entry and entry.manifest and entry.manifest.is_demonstration)

    # -- settings changes -------------------------------------------------------------------------------------
    @Slot(object)
    def apply_config(self, config) -> None:
        """New settings: the service is rebuilt from them (watchers, worker, thresholds) off the GUI
        thread; pause carries over."""
        self.config = config
        self.settings_file.accept(config)
        if self.review_window is not None and hasattr(self.review_window.api, "config"):
            self.review_window.api.config = config
        factory = self.service_factory or _default_service_factory

        def restart():
            with self._service_lock:  # one restart at a time, always to the newest settings
                wanted = self.config
                if wanted is self._running_config:
                    return
                self.service, self._running_config = replace_service(
                    self.service, lambda c: factory(c, self.paths), wanted, self._running_config, paused=self.paused)
            self.service_restarted.emit(None if self._running_config is wanted else wanted)

        threading.Thread(target=restart, name="service-restart", daemon=True).start()

    @Slot(object)
    def _restarted(self, refused) -> None:
        if refused is not None and refused is self.config:  # and no newer settings are on their way
            self.config = self._running_config
            self.settings_file.refuse_applied(self._running_config)
            if self.review_window is not None and hasattr(self.review_window.api, "config"):
                self.review_window.api.config = self.config
        self.poll()

    # -- state polling ----------------------------------------------------------------------------------------
    def _conn(self):
        if self._db is None:
            from ..store.db import Database

            self._db = Database(self.paths.database)
        return self._db.conn()

    def poll(self) -> None:
        changed = self.settings_file.changed()
        if changed is not None:
            self.apply_config(changed)
        if self.config.client.hub_url:  # client mode (also right after the wizard paired): the hub's queue
            self.hub_poller = self.hub_poller or poller_for(self.config.client, self.show_state, self)
            return self.hub_poller.poll()  # delivered to show_state
        try:
            paths = [s.path for s in self.config.sources if s.enabled]
            scp = getattr(self.service, "scp", None)
            listening = scp is not None and getattr(scp, "running", False)
            state = tray_state.compute(self._conn(), paused=self.paused, source_paths=paths,
                                       rollout=self.config.governance.rollout, problem=self.service_problem(),
                                       receiver=f"DICOM :{self.config.dicom.port}" if listening else "",
                                       analysing=getattr(self.service, "model", None) is not None)
        except Exception:
            log.exception("tray state poll failed")
            return
        self.show_state(state)

    @Slot(object)
    def show_state(self, state) -> None:
        self.state = state
        self.tray.set_state(state.state, state.tooltip, state.to_review)
        for note in self.notifier.update(state):
            self.tray.notify(note.title, note.message)


def _default_service_factory(config, paths):
    from ..app import Service

    return Service(config, paths)


def app_icon() -> QIcon:
    return QIcon(str(icon_path("app.png")))


def ensure_app() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1] or ["dental-bridge"])
        app.setApplicationName("Dental AI Bridge")
        app.setStyle("Fusion")
    app.setQuitOnLastWindowClosed(False)  # closing the review window leaves the tray running
    app.setWindowIcon(app_icon())
    return app


def run_app(service, paths, config, *, guard=None) -> int:
    """Tray app over a built (not started) service; returns the exit code after Quit."""
    app = ensure_app()
    own_guard = guard is None
    if guard is None:
        guard = instance_guard(paths)
        if not guard.acquire():
            service.db.close()
            return 0
    t0 = time.monotonic()
    shell = AppShell(service, paths, config, app=app)
    shell.tray.on_first_icon = lambda t: log.info("tray icon shown %.2f s after the shell started", t - t0)
    follow_requests(guard, shell.open_review)
    with QuitOnSignals(app) as loop:  # before the tray and service threads start: a signal then still quits
        shell.start()
        try:
            code = loop.run()
        finally:
            shell.shutdown()
            if own_guard:
                guard.release()
    return int(code)


def main(argv: list[str] | None = None) -> int:
    """Entry of the windowed executable: guard first, then the service, then the tray."""
    from ..config import ConfigError, Paths
    from ..logging_setup import ensure_std_streams, setup_logging

    ensure_std_streams()

    paths = Paths.resolve().ensure()
    setup_logging(paths.log_dir, to_stderr=False)
    app = ensure_app()
    guard = instance_guard(paths)
    if not guard.acquire():
        return 0
    try:
        try:
            from ..guarded_settings import load

            config, hand_edited = load(paths)
            if hand_edited:
                log.error("%s", hand_edited)
        except ConfigError as exc:
            QMessageBox.critical(None, "Dental AI Bridge", f"The settings file cannot be used:\n\n{exc}\n\n"
                                 f"File: {paths.config_file}\nFix or delete it, then start the app again.")
            return 2
        from ..app import Service

        service = Service(config, paths)
        log.info("Dental AI Bridge %s starting (pid %d)", __version__, os.getpid())
        return run_app(service, paths, config, guard=guard)
    finally:
        guard.release()
        del app
