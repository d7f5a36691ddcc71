"""What every settings page shares: the page contract, message styles, off-GUI-thread work."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QWidget

ERROR_STYLE = "color: #b3261e; font-weight: 600;"
OK_STYLE = "color: #1e6b3a;"


class Page(QWidget):
    """One tab of the settings window.

    `load(config)` shows the settings, `save(config)` writes the page's fields into `config`
    (the window's working copy), `check(config)` names problems only the page can see (the
    settings' own validation runs once, for all pages), and `commit()` stores what lives outside
    config.toml (keyring, Windows registry) once the file is written; it returns an error or ""."""

    title = ""

    def load(self, config) -> None:
        pass

    def check(self, config) -> list[str]:
        return []

    def save(self, config) -> None:
        pass

    def commit(self) -> str:
        return ""


class Background(QObject):
    """Runs `fn(*args)` on a daemon thread (a share or a DICOM node can be slow) and emits its
    result on the GUI thread; an exception becomes `on_error(exc)`, shown to the user, never a crash."""

    done = Signal(object)

    def run(self, name: str, fn, *args, on_error) -> None:
        def work():
            try:
                result = fn(*args)
            except Exception as exc:  # noqa: BLE001 — shown to the user, never a crash
                result = on_error(exc)
            self.done.emit(result)

        threading.Thread(target=work, name=name, daemon=True).start()


def show_message(label: QLabel, text: str, ok: bool) -> None:
    label.setText(text)
    label.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)


def wrapped(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label
