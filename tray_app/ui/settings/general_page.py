"""The "General" tab: start at login (Windows) and where the settings, data and logs are."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel

from ... import autostart
from .common import Page


class GeneralPage(Page):
    title = "General"

    def __init__(self, paths, *, autostart_supported: bool, registry=None, parent=None):
        super().__init__(parent)
        self.autostart_supported, self.registry = autostart_supported, registry
        form = QFormLayout(self)
        self.autostart = QCheckBox("Start Dental AI Bridge when I sign in to Windows")
        if autostart_supported:
            form.addRow("Start at login", self.autostart)
        else:
            self.autostart.hide()
        for label, p in (("Settings file", paths.config_file), ("Data", paths.data_dir), ("Logs", paths.log_dir)):
            v = QLabel(str(p))
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            v.setWordWrap(True)
            form.addRow(label, v)

    def load(self, config) -> None:
        if self.autostart_supported:
            try:
                self.autostart.setChecked(autostart.is_enabled(self.registry))
            except autostart.AutostartError as exc:
                self.autostart.setToolTip(str(exc))

    def commit(self) -> str:
        if self.autostart_supported:
            try:
                autostart.set_enabled(self.autostart.isChecked(), self.registry)
            except autostart.AutostartError as exc:
                return str(exc)
        return ""
