"""The tray icon: pystray on its own thread; every menu action only emits a Qt signal.

pystray runs menu callbacks synchronously on its message-loop thread (win32), so a callback
that touched a widget would race the Qt main thread, and a slow one would freeze the tray.
Here each callback does exactly one thing: `bridge.requested.emit(ACTION)`. `TrayBridge` lives
on the main thread, so the signal is queued there and `AppShell.handle` does the work.

The Icon is created and run on the same thread (pystray #94). Under the `dummy` backend (CI)
the icon and its menu are built but never run: `run()` would raise and leave a non-daemon
thread behind. Updates from the Qt side (image, tooltip, menu text, notifications) go through
pystray's own thread-safe calls (Shell_NotifyIcon on Windows).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable

from PySide6.QtCore import QObject, Signal

from .icons import tray_image

log = logging.getLogger(__name__)

OPEN_REVIEW, TOGGLE_PAUSE, EXPORT_NOW, PAIR_CLIENT, SETTINGS, OPEN_LOGS, ABOUT, QUIT = (
    "open_review", "toggle_pause", "export_now", "pair_client", "settings", "open_logs", "about", "quit")
ACTIONS = (OPEN_REVIEW, TOGGLE_PAUSE, EXPORT_NOW, PAIR_CLIENT, SETTINGS, OPEN_LOGS, ABOUT, QUIT)


class TrayBridge(QObject):
    """Created on the Qt main thread; `requested` is emitted from the pystray thread."""

    requested = Signal(str)


def load_pystray():
    """The pystray module, or None when no backend can run here (e.g. Linux without a display)."""
    try:
        import pystray
    except Exception as exc:  # noqa: BLE001 — Xlib raises its own error types without a display
        log.warning("no tray icon: pystray cannot start here (%s: %s)", type(exc).__name__, exc)
        return None
    return pystray


def _is_dummy(pystray_module) -> bool:
    return (os.environ.get("PYSTRAY_BACKEND") == "dummy"
            or pystray_module.Icon.__module__.endswith(("._base", "._dummy")))


class TrayController:
    """Owns the pystray Icon and its thread."""

    NAME = "DentalAIBridge"

    def __init__(self, bridge: TrayBridge, *, show_export: bool = True, pystray_module=None,
                 on_first_icon: Callable[[float], None] | None = None, client_mode: bool = False,
                 show_pairing: bool = False):
        self.bridge = bridge
        self.show_export = show_export
        # client mode: this PC watches and exports nothing (no Pause, no Export now);
        # show_pairing: this PC is a hub, other PCs pair with it
        self.client_mode, self.show_pairing = client_mode, show_pairing
        self.pystray = pystray_module or load_pystray()
        self.available = self.pystray is not None
        self.paused_view = False  # plain state read by the menu text callable (no Qt)
        self.icon = None
        self.thread: threading.Thread | None = None
        self.notifications: list[tuple[str, str]] = []
        self.on_first_icon = on_first_icon
        self.first_icon_at: float | None = None
        self._image = tray_image("watching")
        self._title = "Dental AI Bridge"
        self._lock = threading.Lock()
        self._ready = threading.Event()

    # -- menu: the callables below run on the pystray thread and only emit -------------------------
    def _emit(self, action: str) -> Callable:
        def activate(icon=None, item=None):
            self.bridge.requested.emit(action)
        activate.__name__ = f"emit_{action}"
        return activate

    def _pause_text(self, item=None) -> str:
        return "Resume watching" if self.paused_view else "Pause watching"

    def build_menu(self):
        ps = self.pystray
        item, sep = ps.MenuItem, ps.Menu.SEPARATOR
        items = [item("Open review", self._emit(OPEN_REVIEW), default=True)]
        if not self.client_mode:
            items.append(item(self._pause_text, self._emit(TOGGLE_PAUSE)))
        if self.show_export and not self.client_mode:  # hidden when this build has no export package
            items.append(item("Export now", self._emit(EXPORT_NOW)))
        if self.show_pairing:
            items.append(item("Pair a review PC…", self._emit(PAIR_CLIENT)))
        return ps.Menu(
            *items,
            sep,
            item("Settings…", self._emit(SETTINGS)),
            item("Open logs folder", self._emit(OPEN_LOGS)),
            item("About Dental AI Bridge", self._emit(ABOUT)),
            sep,
            item("Quit", self._emit(QUIT)),
        )

    def _make_icon(self):
        with self._lock:
            self.icon = self.pystray.Icon(self.NAME, self._image, self._title, self.build_menu())
        return self.icon

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> bool:
        """Shows the icon (on its own thread). False when no tray is possible here."""
        if not self.available:
            return False
        if _is_dummy(self.pystray):
            self._make_icon()  # menus work (tests call the items); nothing to show or run
            self._mark_first_icon()
            return True
        self.thread = threading.Thread(target=self._run, name="tray", daemon=True)
        self.thread.start()
        return True

    def _run(self) -> None:
        try:
            icon = self._make_icon()

            def setup(ic):
                ic.visible = True
                self._ready.set()
                self._mark_first_icon()

            icon.run(setup=setup)
        except Exception:
            log.exception("the tray icon stopped")

    def _mark_first_icon(self) -> None:
        if self.first_icon_at is None:
            self.first_icon_at = time.monotonic()
            if self.on_first_icon:
                self.on_first_icon(self.first_icon_at)

    def stop(self) -> None:
        icon = self.icon
        if icon is not None and self.thread is not None:
            try:
                icon.visible = False
                icon.stop()
            except Exception:
                log.debug("tray stop failed", exc_info=True)
            self.thread.join(timeout=6)

    # -- updates from the Qt side ---------------------------------------------------------------------
    def set_state(self, state: str, tooltip: str, count: int = 0) -> None:
        image = tray_image(state, count)
        with self._lock:
            changed_image = image is not self._image
            self._image, self._title = image, tooltip
            icon = self.icon
        if icon is None or not self.thread:
            return
        try:
            if changed_image:
                icon.icon = image
            icon.title = tooltip
        except Exception:
            log.debug("tray update failed", exc_info=True)

    @property
    def image(self):
        return self._image

    @property
    def title(self) -> str:
        return self._title

    def set_paused(self, paused: bool) -> None:
        self.paused_view = paused
        if self.icon is not None and self.thread:
            try:
                self.icon.update_menu()
            except Exception:
                log.debug("menu update failed", exc_info=True)

    def notify(self, title: str, message: str) -> None:
        self.notifications.append((title, message))
        icon = self.icon
        if icon is None or not self.thread or not getattr(icon, "HAS_NOTIFICATION", False):
            log.info("notification: %s — %s", title, message)
            return
        try:
            icon.notify(message, title)
        except Exception:
            log.debug("notification failed", exc_info=True)
