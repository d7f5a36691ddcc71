"""Settings window: watch folders, analysis and governance (rollout, targeted automation),
clinicians, DICOM (receiver, PACS destination), start at login (and Export when the settings
carry an [export] table). Replaces editing config.toml.

One page class per tab (`ui/settings/`: load / check / save / commit). Nothing is written
until Save; Save lets every page write its fields into a working copy, validates everything
first (the pages' own checks, then settings_model.check, i.e. Config.validate plus templates and
ranges) and refuses with the reasons in red at the bottom. A clinician is added at once (it is
a database change, audited by review.clinicians). Adding a clinician and saving a guarded
setting (guarded_settings: rollout, automation labels, export destinations) ask for a
dentist's or admin's PIN (`ask_authority`) once one exists. Open Dental keys go to the OS
keyring only (tray_app.pms.keys), never to config.toml.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTabWidget, QVBoxLayout

from .. import autostart
from ..config import Config, ConfigError
from ..guarded_settings import changed_guarded, needs_authority
from ..review.clinicians import ClinicianError
from . import settings_model as model
from .settings.analysis_page import AnalysisPage
from .settings.clinicians_page import CliniciansPage
from .settings.common import ERROR_STYLE
from .settings.dicom_page import DicomPage
from .settings.export_page import ExportPage
from .settings.folders_page import FoldersPage
from .settings.general_page import GeneralPage
from .settings.next_steps_page import NextStepsPage

log = logging.getLogger(__name__)


class SettingsWindow(QDialog):
    saved = Signal(object)  # the new Config

    def __init__(self, paths, config: Config, *, db=None, parent=None, autostart_supported: bool | None = None,
                 registry=None, model_text: str = ""):
        super().__init__(parent)
        self.paths = paths
        self.original = config
        self.config = model.clone(config)
        self.autostart_supported = autostart.supported() if autostart_supported is None else autostart_supported
        self.has_export = hasattr(config, "export")  # settings from before the [export] table have none
        self._db = db
        self._own_db = False
        self.ask_authority = self._ask_authority  # (reason) -> Authority | None; tests replace it
        self.setWindowTitle("Dental AI Bridge — Settings")
        self.setMinimumSize(760, 560)
        root = QVBoxLayout(self)
        self.tabs = QTabWidget()
        root.addWidget(self.tabs, 1)
        self.folders_page = FoldersPage()
        self.analysis_page = AnalysisPage(model_text)
        self.clinicians_page = CliniciansPage(self.db, lambda reason: self.ask_authority(reason))
        self.export_page = ExportPage() if self.has_export else None
        self.next_steps_page = NextStepsPage() if self.has_export else None
        self.dicom_page = DicomPage(pacs=self.has_export and getattr(config.export, "dicom", None) is not None)
        self.general_page = GeneralPage(paths, autostart_supported=self.autostart_supported, registry=registry)
        self.pages = [p for p in (self.folders_page, self.analysis_page, self.clinicians_page, self.export_page,
                                  self.next_steps_page, self.dicom_page, self.general_page) if p is not None]
        for page in self.pages:
            page.load(self.config)
            self.tabs.addTab(page, page.title)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        root.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        root.addWidget(buttons)

    # -- database (clinicians) -----------------------------------------------------------------------------
    def db(self):
        if self._db is None:
            from ..store.db import Database

            self._db = Database(self.paths.database)
            self._own_db = True
        return self._db

    def done(self, result: int) -> None:
        if self._own_db and self._db is not None:
            self._db.close()
            self._db = None
        super().done(result)

    def _ask_authority(self, reason: str):
        from ..review.clinicians import list_clinicians
        from .authority_dialog import ask

        return ask(self, list_clinicians(self.db()), reason)

    # -- save ---------------------------------------------------------------------------------------------
    def collect(self) -> Config:
        for page in self.pages:
            page.save(self.config)
        return self.config

    def problems(self, c: Config) -> list[str]:
        # the empty folder row reads first: it is what the settings' own "needs a path" is about
        own = {page: page.check(c) for page in self.pages}
        return own[self.folders_page] + model.check(c) + [
            e for page in self.pages if page is not self.folders_page for e in own[page]]

    def save(self) -> bool:
        c = self.collect()
        errors = self.problems(c)
        if errors:
            self.show_errors(errors)
            return False
        authority = None
        if needs_authority(self.db(), self.original, c):
            authority = self.ask_authority("changing " + ", ".join(changed_guarded(self.original, c)))
            if authority is None:
                self.show_errors(["changing the rollout mode, automation labels or export destinations needs a "
                                  "dentist's or admin's PIN"])
                return False
        try:
            model.save(self.paths, self.original, c, actor=model.os_user(), authority=authority)
        except (ConfigError, OSError, ClinicianError) as exc:
            self.show_errors([str(exc)])
            return False
        for page in self.pages:  # what lives outside config.toml: keyring, start at login
            problem = page.commit()
            if problem:
                self.show_errors([problem])
                return False
        self.error.hide()
        self.original = model.clone(c)
        self.saved.emit(model.clone(c))
        self.accept()
        return True

    def show_errors(self, errors: list[str]) -> None:
        text = "Not saved: " + "; ".join(errors) + "."
        self.error.setText(text.replace("..", "."))
        self.error.show()
