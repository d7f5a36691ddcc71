"""First-run wizard: welcome → role → watch folder → patient id meaning → clinician → done, or, on
a PC that reviews through a hub: welcome → role → the hub (address, code, fingerprint) → done
(no folder, no model, no local dentist: the hub watches, analyses and checks PINs).

Shown when the settings have no watch folder. Finish saves config.toml (audited as
`config_changed` via "first_run"), adds the dentist (audited by review.clinicians) and, on
Windows, sets start at login. Cancel leaves everything as it was; the tray then says that no
watch folder is set up, and Settings can do the same later.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QLabel, QLineEdit, QRadioButton, QVBoxLayout, QWizard,
                               QWizardPage)

from .. import autostart
from ..config import Config, ConfigError
from . import settings_model as model
from .settings.common import ERROR_STYLE
from .settings.folder_editor import TEMPLATE_HELP, FolderEditor, TemplateHint
from .wizard_client import ClientPage, RolePage

log = logging.getLogger(__name__)

WELCOME = (
    "<p>Dental AI Bridge watches the folder your imaging software exports radiographs to, finds "
    "possible findings with a model that runs on this computer, and lets hygienists and dentists "
    "review them. Nothing is written to a patient's chart until a dentist has reviewed and signed.</p>"
    "<p>No image or patient detail leaves this computer except the signed reports you choose to "
    "export to your practice-management system.</p>"
    "<p>This takes about two minutes: the export folder, what patient numbers in it mean, and the "
    "first dentist who signs.</p>"
)


def _text(html: str) -> QLabel:
    label = QLabel(html)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    return label


class WelcomePage(QWizardPage):
    def __init__(self, demonstration_note: str = ""):
        super().__init__()
        self.setTitle("Welcome to Dental AI Bridge")
        lay = QVBoxLayout(self)
        lay.addWidget(_text(WELCOME))
        if demonstration_note:
            warn = _text(f"<p><b>Demonstration model.</b> {demonstration_note}</p>")
            warn.setStyleSheet("background: #fff1e0; border: 1px solid #f08a3c; padding: 8px; color: #5a2d0c;")
            lay.addWidget(warn)
        lay.addStretch(1)


class FolderPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Imaging export folder")
        self.setSubTitle("The folder your imaging software saves exported radiographs to. Use the network path, "
                         "for example \\\\server\\xrays\\export, rather than a drive letter.")
        lay = QVBoxLayout(self)
        # this page asks only for the folder; the next one asks what the names mean
        self.editor = FolderEditor(self, compact=True)
        self.editor.path.textChanged.connect(self.completeChanged)
        lay.addWidget(self.editor)
        lay.addStretch(1)

    def isComplete(self) -> bool:
        return bool(self.editor.path.text().strip())


class PatientIdPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Patient numbers")
        self.setSubTitle("Radiographs carry a patient id. What does it mean in your practice-management system?")
        lay = QVBoxLayout(self)
        self.chart = QRadioButton(model.PATIENT_ID_TEXT["chartnumber"])
        self.patnum = QRadioButton(model.PATIENT_ID_TEXT["patnum"])
        self.chart.setChecked(True)
        lay.addWidget(self.chart)
        lay.addWidget(self.patnum)
        form = QFormLayout()
        self.template = QLineEdit(model.new_source().name_template)
        form.addRow("File-name template", self.template)
        lay.addSpacing(12)
        lay.addLayout(form)
        self.help = QLabel(TEMPLATE_HELP + ". Example: A1234_Smith_Jane_20261128_03.png matches the default.")
        self.help.setWordWrap(True)
        self.hint = TemplateHint(self.template, self.help, self.help.text())
        lay.addWidget(self.help)
        lay.addStretch(1)

    @property
    def meaning(self) -> str:
        return "patnum" if self.patnum.isChecked() else "chartnumber"

    def validatePage(self) -> bool:
        return self.hint.check()


class ClinicianPage(QWizardPage):
    def __init__(self, has_dentist: bool):
        super().__init__()
        self.has_dentist = has_dentist
        self.setTitle("The dentist who signs")
        self.setSubTitle("Only a dentist can sign a study before it is exported. Add yourself or the practice's "
                         "dentist; more clinicians can be added in Settings.")
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Dr. Maria Lopez")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("6 to 12 digits, or a passphrase")
        self.pin.setMaxLength(64)
        self.pin2 = QLineEdit()
        self.pin2.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Name", self.name)
        form.addRow("PIN", self.pin)
        form.addRow("PIN again", self.pin2)
        self.msg = QLabel("The PIN is stored as a salted hash; five wrong PINs lock the clinician out for five "
                          "minutes. This dentist authorises later changes (clinicians, rollout, export "
                          "destinations) with the PIN." if not has_dentist else
                          "A dentist or admin is already set up: more clinicians are added in Settings, "
                          "with their PIN.")
        for field in (self.name, self.pin, self.pin2):
            field.setEnabled(not has_dentist)
        self.msg.setWordWrap(True)
        form.addRow("", self.msg)

    def validatePage(self) -> bool:
        from ..review.clinicians import ClinicianError, validate_pin

        name, pin = self.name.text().strip(), self.pin.text()
        if self.has_dentist and not name and not pin:
            return True
        try:
            if not name:
                raise ClinicianError("enter the dentist's name")
            validate_pin(pin, "dentist")
            if pin != self.pin2.text():
                raise ClinicianError("the two PINs differ")
        except ClinicianError as exc:
            self.msg.setText(str(exc).capitalize() + ".")
            self.msg.setStyleSheet(ERROR_STYLE)
            return False
        return True


class DonePage(QWizardPage):
    def __init__(self, autostart_supported: bool):
        super().__init__()
        self.setTitle("Ready")
        lay = QVBoxLayout(self)
        self.summary = _text("")
        lay.addWidget(self.summary)
        self.autostart = QCheckBox("Start Dental AI Bridge when I sign in to Windows (recommended)")
        self.autostart.setChecked(True)
        self.autostart.setVisible(autostart_supported)
        lay.addWidget(self.autostart)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        lay.addWidget(self.error)
        lay.addStretch(1)

    def initializePage(self) -> None:
        w: FirstRunWizard = self.wizard()
        if w.client_mode:
            url = w.client_page.paired[0] if w.client_page.paired else ""
            self.summary.setText(f"<p>This PC reviews through the hub at <b>{_esc(url)}</b>.</p>"
                                 "<p>Dental AI Bridge lives in the notification area (near the clock). Its icon "
                                 "shows the hub's studies waiting for review; click it to open the review "
                                 "window.</p>")
            return
        src = w.folder_page.editor.path.text().strip()
        who = w.clinician_page.name.text().strip()
        meaning = "PatNum" if w.patient_page.meaning == "patnum" else "chart number"
        self.summary.setText(
            f"<p>Watching <b>{_esc(src)}</b>; patient ids are the <b>{meaning}</b>.</p>"
            + (f"<p>{_esc(who)} can sign studies.</p>" if who else "")
            + "<p>Dental AI Bridge lives in the notification area (near the clock). Its icon shows when studies "
              "are waiting for review; click it to open the review window.</p>")

    def validatePage(self) -> bool:
        return self.wizard().finish()


def _esc(text: str) -> str:
    import html

    return html.escape(text)


class FirstRunWizard(QWizard):
    saved = Signal(object)  # the new Config

    def __init__(self, paths, config: Config, *, parent=None, autostart_supported: bool | None = None,
                 registry=None, demonstration_note: str = ""):
        super().__init__(parent)
        self.paths, self.config, self.registry = paths, config, registry
        self.autostart_supported = autostart.supported() if autostart_supported is None else autostart_supported
        self.setWindowTitle("Set up Dental AI Bridge")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, False)
        self.setMinimumSize(640, 480)
        self.welcome_page = WelcomePage(demonstration_note)
        self.role_page = RolePage()
        self.client_page = ClientPage()
        self.folder_page = FolderPage()
        self.patient_page = PatientIdPage()
        self.clinician_page = ClinicianPage(self._has_dentist())
        self.done_page = DonePage(self.autostart_supported)
        self.page_ids = {}
        for p in (self.welcome_page, self.role_page, self.folder_page, self.patient_page, self.clinician_page,
                  self.client_page, self.done_page):
            self.page_ids[p] = self.addPage(p)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Start")

    @property
    def client_mode(self) -> bool:
        return self.role_page.reviews.isChecked()

    def nextId(self) -> int:
        """A reviewing PC goes from the role straight to the hub, and from the hub to the end."""
        page = self.currentPage()
        if page is self.role_page:
            return self.page_ids[self.client_page if self.client_mode else self.folder_page]
        if page is self.clinician_page or page is self.client_page:
            return self.page_ids[self.done_page]
        return super().nextId()

    def _has_dentist(self) -> bool:
        from ..store.db import Database

        db = Database(self.paths.database)
        try:
            from ..review.clinicians import authority_exists

            return authority_exists(db)  # then nobody is added here without a PIN
        finally:
            db.close()

    def finish(self) -> bool:
        """Saves everything; False (with the reason on the last page) when something is refused."""
        new = model.clone(self.config)
        if self.client_mode:
            new.client.hub_url, new.client.hub_fingerprint = self.client_page.paired
            return self._save(new)
        src = model.new_source(self.folder_page.editor.path.text().strip())
        src.patient_id = self.patient_page.meaning
        src.name_template = self.patient_page.template.text().strip()
        src.kind = self.folder_page.editor.kind.currentData() or "auto"
        if not any(s.path == src.path for s in new.sources):
            new.sources.append(src)
        return self._save(new, clinician=True)

    def _save(self, new: Config, *, clinician: bool = False) -> bool:
        from ..review.clinicians import ClinicianError, add_clinician
        from ..store.db import Database

        try:
            model.save(self.paths, self.config, new, actor=model.os_user(), via="first_run")
        except (ConfigError, OSError) as exc:
            self.done_page.error.setText(f"Not saved: {exc}")
            return False
        name = self.clinician_page.name.text().strip() if clinician else ""
        if name and not self.clinician_page.has_dentist:  # the first dentist: nobody could authorise it
            db = Database(self.paths.database)
            try:
                add_clinician(db, name, "dentist", self.clinician_page.pin.text(), actor=model.os_user())
            except ClinicianError as exc:
                self.done_page.error.setText(f"The dentist was not added: {exc}")
                return False
            finally:
                db.close()
        if self.autostart_supported:
            try:
                autostart.set_enabled(self.done_page.autostart.isChecked(), self.registry)
            except autostart.AutostartError as exc:
                log.warning("start at login: %s", exc)
        self.config = new
        self.saved.emit(model.clone(new))
        return True
