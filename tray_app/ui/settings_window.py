"""Settings window: watch folders, analysis and governance (rollout, targeted automation),
clinicians, DICOM (receiver, PACS destination), start at login (and Export when the settings
carry an [export] table). Replaces editing config.toml.

Nothing is written until Save; Save validates everything first (settings_model.check, i.e.
Config.validate plus templates and ranges) and refuses with the reasons in red at the bottom.
A clinician is added at once (it is a database change, audited by review.clinicians).
Adding a clinician and saving a guarded setting (guarded_settings: rollout, automation labels,
export destinations) ask for a dentist's or admin's PIN (`ask_authority`) once one exists.
Open Dental keys go to the OS keyring only (tray_app.export.secrets), never to config.toml.
"""

from __future__ import annotations

import logging
import os
import threading

from PySide6.QtCore import QDir, QObject, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QTabWidget,
                               QVBoxLayout, QWidget)

from .. import autostart
from ..config import PATIENT_ID_MEANINGS, ROLLOUT_MODES, SOURCE_KINDS, Config, ConfigError, default_threads
from . import settings_model as model

log = logging.getLogger(__name__)

KIND_TEXT = {"auto": "Automatic (network shares are polled)", "native": "Change notifications (local disks)",
             "polling": "Polling (network shares, NAS)"}
TEMPLATE_HELP = ("Only for PNG/JPEG/TIFF exports (DICOM files carry the patient). Fields: {chart} {patnum} {id} "
                 "{last} {first} {date:%Y%m%d} {time:%H%M%S} {seq} {*}")
ERROR_STYLE = "color: #b3261e; font-weight: 600;"
OK_STYLE = "color: #1e6b3a;"


class _Probe(QObject):
    """Runs settings_model.probe_folder off the GUI thread (a share can be slow)."""

    done = Signal(object)

    def run(self, path: str, template: str | None) -> None:
        def work():
            try:
                result = model.probe_folder(path, template)
            except Exception as exc:  # noqa: BLE001 — shown to the user, never a crash
                result = model.FolderProbe(path, False, f"Could not test the folder ({exc})")
            self.done.emit(result)

        threading.Thread(target=work, name="folder-test", daemon=True).start()


class _Echo(QObject):
    """A DICOM echo off the GUI thread (an unreachable node takes the whole timeout)."""

    done = Signal(bool, str)

    def run(self, fn, *args) -> None:
        def work():
            try:
                ok, message = fn(*args)
            except Exception as exc:  # noqa: BLE001 — shown to the user, never a crash
                ok, message = False, f"the test failed ({type(exc).__name__}: {exc})"
            self.done.emit(ok, message)

        threading.Thread(target=work, name="dicom-echo", daemon=True).start()


class FolderEditor(QWidget):
    """Path + browse + test, watch method, patient id meaning, file-name template."""

    changed = Signal()

    def __init__(self, parent=None, *, compact: bool = False):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        outer.addLayout(form)
        self.form = form
        row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setPlaceholderText(r"\\server\share\xray-export")
        self.path.setToolTip("Use the network path (\\\\server\\share\\folder), not a mapped drive letter: "
                             "drive letters may not be connected yet when Windows starts the app.")
        self.browse = QPushButton("Browse…")
        self.test = QPushButton("Test")
        self.test.setToolTip("List what would be read from this folder")
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        row.addWidget(self.test)
        form.addRow("Folder", row)
        self.kind = QComboBox()
        for k in SOURCE_KINDS:
            self.kind.addItem(KIND_TEXT[k], k)
        if not compact:
            form.addRow("Watch method", self.kind)
        self.patient_id = QComboBox()
        for k in PATIENT_ID_MEANINGS:
            self.patient_id.addItem(model.PATIENT_ID_TEXT[k], k)
        self.patient_id.setToolTip("What the patient id in these files means in the practice-management system")
        form.addRow("Patient id is the", self.patient_id)
        self.template = QLineEdit()
        form.addRow("File-name template", self.template)
        self.enabled = QCheckBox("Watch this folder")
        if not compact:
            form.addRow("", self.enabled)
        else:
            self.kind.hide()
            self.enabled.hide()
        # wrapped labels get the full width (in a form row they are squeezed and clipped)
        self.template_msg = QLabel(TEMPLATE_HELP)
        self.template_msg.setWordWrap(True)
        self.template_msg.setObjectName("hint")
        outer.addWidget(self.template_msg)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setMinimumHeight(60)
        self.result.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        outer.addWidget(self.result)
        self.prober = _Probe(self)
        self.prober.done.connect(self._show_probe)
        self.browse.clicked.connect(self._browse)
        self.test.clicked.connect(self.run_test)
        for w in (self.path, self.template):
            w.textChanged.connect(self._edited)
        self.kind.currentIndexChanged.connect(self._edited)
        self.patient_id.currentIndexChanged.connect(self._edited)
        self.enabled.toggled.connect(self._edited)

    def load(self, source) -> None:
        for w in (self.path, self.template, self.kind, self.patient_id, self.enabled):
            w.blockSignals(True)
        self.path.setText(source.path)
        self.template.setText(source.name_template)
        self.kind.setCurrentIndex(max(0, self.kind.findData(source.kind)))
        self.patient_id.setCurrentIndex(max(0, self.patient_id.findData(source.patient_id)))
        self.enabled.setChecked(source.enabled)
        for w in (self.path, self.template, self.kind, self.patient_id, self.enabled):
            w.blockSignals(False)
        self.result.setText("")
        self._check_template()

    def store(self, source) -> None:
        source.path = self.path.text().strip()
        source.name_template = self.template.text().strip()
        source.kind = self.kind.currentData()
        source.patient_id = self.patient_id.currentData()
        source.enabled = self.enabled.isChecked()

    def _edited(self, *_):
        self._check_template()
        self.changed.emit()

    def _check_template(self) -> bool:
        from ..intake.naming import TemplateError, validate_template

        try:
            validate_template(self.template.text().strip())
        except TemplateError as exc:
            self.template_msg.setText(f"Template problem: {exc}")
            self.template_msg.setStyleSheet(ERROR_STYLE)
            return False
        self.template_msg.setText(TEMPLATE_HELP)
        self.template_msg.setStyleSheet("")
        return True

    def _browse(self) -> None:
        start = self.path.text().strip() or QDir.homePath()
        chosen = QFileDialog.getExistingDirectory(self, "Choose the imaging export folder", start)
        if chosen:
            self.path.setText(QDir.toNativeSeparators(chosen))

    def run_test(self) -> None:
        self.result.setStyleSheet("")
        self.result.setText("Testing…")
        self.test.setEnabled(False)
        self.prober.run(self.path.text().strip(), self.template.text().strip() or None)

    def _show_probe(self, probe) -> None:
        self.test.setEnabled(True)
        self.result.setStyleSheet(OK_STYLE if probe.ok else ERROR_STYLE)
        self.result.setText(probe.summary())


class SettingsWindow(QDialog):
    saved = Signal(object)  # the new Config

    def __init__(self, paths, config: Config, *, db=None, parent=None, autostart_supported: bool | None = None,
                 registry=None, model_text: str = ""):
        super().__init__(parent)
        self.paths = paths
        self.original = config
        self.config = model.clone(config)
        self.registry = registry
        self.autostart_supported = autostart.supported() if autostart_supported is None else autostart_supported
        self.has_export = hasattr(config, "export") and _export_available()
        self._db = db
        self.ask_authority = self._ask_authority  # (reason) -> Authority | None; tests replace it
        self.setWindowTitle("Dental AI Bridge — Settings")
        self.setMinimumSize(760, 560)
        root = QVBoxLayout(self)
        self.tabs = QTabWidget()
        root.addWidget(self.tabs, 1)
        self.tabs.addTab(self._folders_tab(), "Watch folders")
        self.tabs.addTab(self._analysis_tab(model_text), "Analysis")
        self.tabs.addTab(self._clinicians_tab(), "Clinicians")
        if self.has_export:
            self.tabs.addTab(self._export_tab(), "Export")
        self.tabs.addTab(self._dicom_tab(), "DICOM")
        self.tabs.addTab(self._general_tab(), "General")
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
        self._load_sources()

    # -- database (clinicians) -----------------------------------------------------------------------------
    def db(self):
        if self._db is None:
            from ..store.db import Database

            self._db = Database(self.paths.database)
            self._own_db = True
        return self._db

    def done(self, result: int) -> None:
        if getattr(self, "_own_db", False) and self._db is not None:
            self._db.close()
            self._db = None
        super().done(result)

    def _ask_authority(self, reason: str):
        from ..review.clinicians import list_clinicians
        from .authority_dialog import ask

        return ask(self, list_clinicians(self.db()), reason)

    # -- tabs --------------------------------------------------------------------------------------------------
    def _folders_tab(self) -> QWidget:
        w = QWidget()
        lay = QHBoxLayout(w)
        left = QVBoxLayout()
        self.source_list = QListWidget()
        self.source_list.setMinimumWidth(220)
        self.source_list.currentRowChanged.connect(self._select_source)
        left.addWidget(self.source_list, 1)
        row = QHBoxLayout()
        self.add_source = QPushButton("Add folder")
        self.remove_source = QPushButton("Remove")
        self.add_source.clicked.connect(self._add_source)
        self.remove_source.clicked.connect(self._remove_source)
        row.addWidget(self.add_source)
        row.addWidget(self.remove_source)
        left.addLayout(row)
        lay.addLayout(left, 0)
        self.folder = FolderEditor(self)
        self.folder.changed.connect(self._folder_edited)
        self.no_folder = QLabel("No watch folder yet. Add the folder your imaging software exports to.")
        self.no_folder.setWordWrap(True)
        right = QVBoxLayout()
        right.addWidget(self.no_folder)
        right.addWidget(self.folder)
        right.addStretch(1)
        lay.addLayout(right, 1)
        return w

    def _analysis_tab(self, model_text: str) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        c = self.config
        if model_text:
            m = QLabel(model_text)
            m.setWordWrap(True)
            form.addRow("Model", m)
        self.urgent = QDoubleSpinBox()
        self.urgent.setRange(0.0, 10.0)  # out-of-range values are refused on Save, with the reason
        self.urgent.setSingleStep(0.1)
        self.urgent.setDecimals(2)
        self.urgent.setValue(c.clinical.urgent_threshold)
        self.urgent.setToolTip("A study is flagged urgent when a finding's severity (0-3) × confidence reaches this")
        form.addRow("Urgent threshold", self.urgent)
        self.fmx = QSpinBox()
        self.fmx.setRange(10, 30)
        self.fmx.setValue(c.clinical.fmx_images)
        form.addRow("Images in a full-mouth series", self.fmx)
        self.threads = QSpinBox()
        self.threads.setRange(0, max(1, os.cpu_count() or 1))
        self.threads.setSpecialValueText(f"Automatic ({default_threads()})")
        self.threads.setValue(c.analysis.threads)
        form.addRow("Analysis threads", self.threads)
        self.unvalidated = QCheckBox("Also show findings not validated on real radiographs")
        self.unvalidated.setChecked(c.analysis.unvalidated_labels)
        self.unvalidated.setToolTip("Labels the model's manifest leaves off by default (the demonstration model's "
                                    "diagnoses: caries, calculus, periapical radiolucency, bone loss). They were "
                                    "measured on synthetic images only.")
        form.addRow("", self.unvalidated)
        self.rollout = QComboBox()
        for k in ROLLOUT_MODES:
            self.rollout.addItem(model.ROLLOUT_TEXT[k].split(":")[0], k)
        self.rollout.setCurrentIndex(max(0, self.rollout.findData(c.governance.rollout)))
        self.rollout_help = QLabel("")
        self.rollout_help.setWordWrap(True)
        form.addRow("Rollout mode", self.rollout)
        form.addRow("", self.rollout_help)
        gov = c.governance
        self.auto_box = QWidget()
        auto = QHBoxLayout(self.auto_box)
        auto.setContentsMargins(0, 0, 0, 0)
        self.auto_labels: dict[str, QCheckBox] = {}
        for label, text in model.AUTOMATABLE_TEXT.items():
            box = QCheckBox(text)
            box.setChecked(label in gov.auto_labels)
            self.auto_labels[label] = box
            auto.addWidget(box)
        auto.addStretch(1)
        self.auto_conf = QDoubleSpinBox()
        self.auto_conf.setRange(0.5, 1.0)
        self.auto_conf.setSingleStep(0.01)
        self.auto_conf.setDecimals(2)
        self.auto_conf.setValue(gov.auto_min_confidence)
        self.auto_conf.setToolTip("Only findings at least this confident are exported before review")
        form.addRow("Export before review", self.auto_box)
        form.addRow("…at confidence of at least", self.auto_conf)
        self.rollout.currentIndexChanged.connect(self._rollout_help)
        self._rollout_help()
        self.retention = QSpinBox()
        self.retention.setRange(0, 3650)
        self.retention.setSuffix(" days")
        self.retention.setValue(c.governance.retention_days)
        self.retention.setToolTip("Cached images of studies exported longer ago than this are deleted")
        form.addRow("Keep cached images", self.retention)
        return w

    def _rollout_help(self, *_):
        self.rollout_help.setText(model.ROLLOUT_TEXT[self.rollout.currentData()])
        on = self.rollout.currentData() == "targeted_automation"
        self.auto_box.setEnabled(on)
        self.auto_conf.setEnabled(on)

    def _clinicians_tab(self) -> QWidget:
        from ..review.clinicians import ROLES

        w = QWidget()
        lay = QVBoxLayout(w)
        self.clinicians = QTableWidget(0, 3)
        self.clinicians.setHorizontalHeaderLabels(["Name", "Role", "Can sign"])
        self.clinicians.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.clinicians.verticalHeader().setVisible(False)
        self.clinicians.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        lay.addWidget(self.clinicians, 1)
        box = QGroupBox("Add a clinician")
        form = QFormLayout(box)
        self.clin_name = QLineEdit()
        self.clin_name.setPlaceholderText("e.g. Dr. Maria Lopez")
        self.clin_role = QComboBox()
        for r in ROLES:
            self.clin_role.addItem(r.capitalize(), r)
        self.clin_pin = QLineEdit()
        self.clin_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.clin_pin.setPlaceholderText("dentists and admins: 6+ digits or a passphrase")
        self.clin_pin.setMaxLength(64)
        self.clin_pin2 = QLineEdit()
        self.clin_pin2.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_clin = QPushButton("Add clinician")
        self.add_clin.clicked.connect(self.add_clinician)
        self.clin_msg = QLabel("Only dentists can sign. Adding a clinician needs a dentist's or admin's PIN "
                               "(except the first). PINs are stored as salted hashes.")
        self.clin_msg.setWordWrap(True)
        form.addRow("Name", self.clin_name)
        form.addRow("Role", self.clin_role)
        form.addRow("PIN", self.clin_pin)
        form.addRow("PIN again", self.clin_pin2)
        form.addRow("", self.add_clin)
        form.addRow("", self.clin_msg)
        lay.addWidget(box)
        self._load_clinicians()
        return w

    def _load_clinicians(self) -> None:
        from ..review.clinicians import list_clinicians

        rows = list_clinicians(self.db())
        self.clinicians.setRowCount(len(rows))
        for i, r in enumerate(rows):
            self.clinicians.setItem(i, 0, QTableWidgetItem(r["name"] + ("  (locked)" if r["locked"] else "") +
                                                           ("  (PIN too short: change it)" if r["pin_too_short"]
                                                            else "")))
            self.clinicians.setItem(i, 1, QTableWidgetItem(r["role"].capitalize()))
            self.clinicians.setItem(i, 2, QTableWidgetItem("Yes" if r["can_sign"] else "No"))

    def add_clinician(self) -> bool:
        from ..review.clinicians import ClinicianError, add_clinician, authority_exists

        if self.clin_pin.text() != self.clin_pin2.text():
            self._clin_message("The two PINs differ.", False)
            return False
        try:
            needed = authority_exists(self.db())
            authority = self.ask_authority("adding a clinician") if needed else None
            if needed and authority is None:
                raise ClinicianError("adding a clinician needs a dentist's or admin's PIN")
            add_clinician(self.db(), self.clin_name.text(), self.clin_role.currentData(), self.clin_pin.text(),
                          actor=model.os_user(), authority=authority)
        except ClinicianError as exc:
            text = str(exc)
            self._clin_message(text[:1].upper() + text[1:] + ".", False)  # keeps "PIN" upper-case
            return False
        self._clin_message(f"Added {self.clin_name.text().strip()}.", True)
        for f in (self.clin_name, self.clin_pin, self.clin_pin2):
            f.clear()
        self._load_clinicians()
        return True

    def _od_security(self, *_) -> None:
        from ..export.doctor import plain_http_warning

        od = model.clone(self.config.export.opendental)
        od.mode, od.server, od.https = self.od_mode.currentData(), self.od_server.text().strip(), self.od_https.isChecked()
        plain = od.plain_on_network()
        self.od_plain.setText(plain_http_warning(plain) + "." if plain else "")
        self.od_plain.setVisible(bool(plain))

    def _clin_message(self, text: str, ok: bool) -> None:
        self.clin_msg.setText(text)
        self.clin_msg.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)

    def _export_tab(self) -> QWidget:
        from ..settings.export import FOLDER_LAYOUTS, OD_MODES

        ex = self.config.export
        w = QWidget()
        lay = QVBoxLayout(w)
        dest = QGroupBox("Send signed reports to")
        dl = QVBoxLayout(dest)
        self.to_od = QCheckBox("Open Dental (API)")
        self.to_od.setChecked("opendental" in ex.destinations)
        self.to_folder = QCheckBox("A drop folder (Dentrix import, Open Dental AtoZ)")
        self.to_folder.setChecked("folder" in ex.destinations)
        dl.addWidget(self.to_od)
        dl.addWidget(self.to_folder)
        self.allow_demo = QCheckBox("Export findings of a demonstration model (only for trying it on a test patient)")
        self.allow_demo.setToolTip("A demonstration model is not for clinical use. Its findings are held back from "
                                   "every destination unless this is on; each export sent with it is recorded in "
                                   "the audit log.")
        self.allow_demo.setChecked(ex.allow_demonstration_model)
        dl.addWidget(self.allow_demo)
        lay.addWidget(dest)
        od = QGroupBox("Open Dental")
        f = QFormLayout(od)
        self.od_mode = QComboBox()
        for m in OD_MODES:
            self.od_mode.addItem(m, m)
        self.od_mode.setCurrentIndex(max(0, self.od_mode.findData(ex.opendental.mode)))
        self.od_server = QLineEdit(ex.opendental.server)
        self.od_category = QLineEdit(ex.opendental.doc_category)
        self.od_dev = QLineEdit()
        self.od_cust = QLineEdit()
        for k in (self.od_dev, self.od_cust):
            k.setEchoMode(QLineEdit.EchoMode.Password)
            k.setPlaceholderText("leave empty to keep the stored key")
        self.od_keys_state = QLabel(_keys_state())
        self.od_https = QCheckBox("Use https (where the API Service offers it)")
        self.od_https.setChecked(ex.opendental.https)
        self.od_plain = QLabel("")  # warns when keys and radiographs would cross the network unencrypted
        self.od_plain.setWordWrap(True)
        self.od_plain.setStyleSheet(ERROR_STYLE)
        f.addRow("Connection", self.od_mode)
        f.addRow("API Service computer", self.od_server)
        f.addRow("", self.od_https)
        f.addRow("", self.od_plain)
        f.addRow("Image category", self.od_category)
        f.addRow("Developer key", self.od_dev)
        f.addRow("Customer key", self.od_cust)
        f.addRow("", self.od_keys_state)
        lay.addWidget(od)
        self.od_mode.currentIndexChanged.connect(self._od_security)
        self.od_server.textChanged.connect(self._od_security)
        self.od_https.toggled.connect(self._od_security)
        self._od_security()
        fo = QGroupBox("Drop folder")
        g = QFormLayout(fo)
        self.folder_path = QLineEdit(ex.folder.path)
        self.folder_layout = QComboBox()
        for m in FOLDER_LAYOUTS:
            self.folder_layout.addItem(m, m)
        self.folder_layout.setCurrentIndex(max(0, self.folder_layout.findData(ex.folder.layout)))
        self.atoz_root = QLineEdit(ex.folder.atoz_root)
        g.addRow("Folder", self.folder_path)
        g.addRow("Layout", self.folder_layout)
        g.addRow("AtoZ folder", self.atoz_root)
        lay.addWidget(fo)
        lay.addStretch(1)
        return w

    def _dicom_tab(self) -> QWidget:
        d = self.config.dicom
        w = QWidget()
        lay = QVBoxLayout(w)
        rx = QGroupBox("Receive images pushed by the imaging software or PACS (DICOM C-STORE)")
        f = QFormLayout(rx)
        self.scp_on = QCheckBox("Listen for DICOM images")
        self.scp_on.setChecked(d.enabled)
        self.scp_ae = QLineEdit(d.ae_title)
        self.scp_ae.setMaxLength(16)
        self.scp_port = QSpinBox()
        self.scp_port.setRange(1, 65535)
        self.scp_port.setValue(d.port)
        self.scp_bind = QComboBox()
        self.scp_bind.addItem("This PC only (127.0.0.1)", "127.0.0.1")
        self.scp_bind.addItem("The practice network (all addresses)", "0.0.0.0")
        if self.scp_bind.findData(d.bind_address) < 0:
            self.scp_bind.addItem(d.bind_address, d.bind_address)
        self.scp_bind.setCurrentIndex(self.scp_bind.findData(d.bind_address))
        self.scp_allowed = QLineEdit(", ".join(d.allowed_calling_aes))
        self.scp_allowed.setPlaceholderText("empty = any sender; e.g. DEXIS, SCHICK")
        f.addRow("", self.scp_on)
        f.addRow("Our AE title", self.scp_ae)
        f.addRow("Port", self.scp_port)
        f.addRow("Accept connections from", self.scp_bind)
        f.addRow("Allowed senders (AE titles)", self.scp_allowed)
        lay.addWidget(rx)
        self.pacs = None
        ex = getattr(self.config, "export", None)
        dest = getattr(ex, "dicom", None)
        if self.has_export and dest is not None:
            self.pacs = QGroupBox("Send results to a PACS or viewer (DICOM)")
            g = QFormLayout(self.pacs)
            self.to_pacs = QCheckBox("Send results to this PACS or viewer")
            pacs_help = QLabel("Each signed report, and under targeted automation each unverified automatic "
                               "export, is sent as it is made, with retries while the node is off.")
            pacs_help.setWordWrap(True)
            self.to_pacs.setChecked("dicom" in ex.destinations)
            self.pacs_host = QLineEdit(dest.host)
            self.pacs_port = QSpinBox()
            self.pacs_port.setRange(1, 65535)
            self.pacs_port.setValue(dest.port)
            self.pacs_ae = QLineEdit(dest.called_ae)
            self.pacs_ae.setMaxLength(16)
            self.pacs_calling = QLineEdit(dest.calling_ae)
            self.pacs_calling.setMaxLength(16)
            self.pacs_calling.setToolTip("The AE title we call with; the PACS must know it")
            self.pacs_gsps = QCheckBox("Presentation state (findings drawn over the original image)")
            self.pacs_gsps.setChecked(dest.send_gsps)
            self.pacs_sc = QCheckBox("Annotated copy (secondary capture)")
            self.pacs_sc.setChecked(dest.send_sc)
            self.pacs_test = QPushButton("Test (C-ECHO)")
            self.pacs_test_msg = QLabel("")
            self.pacs_test_msg.setWordWrap(True)
            self.pacs_test.clicked.connect(self._echo_pacs)
            g.addRow("", self.to_pacs)
            g.addRow("", pacs_help)
            g.addRow("Host", self.pacs_host)
            g.addRow("Port", self.pacs_port)
            g.addRow("AE title", self.pacs_ae)
            g.addRow("Our AE title", self.pacs_calling)
            g.addRow("Send", self.pacs_gsps)
            g.addRow("", self.pacs_sc)
            g.addRow(self.pacs_test, self.pacs_test_msg)
            lay.addWidget(self.pacs)
        lay.addStretch(1)
        return w

    def _echo_pacs(self) -> None:
        import copy

        from ..export.dicom_export import echo

        cfg = copy.deepcopy(self.config.export.dicom)
        saved_calling = cfg.calling_ae
        self._store_pacs(cfg)
        cfg.calling_ae = cfg.calling_ae or saved_calling
        if not cfg.host or not cfg.called_ae:
            self._echo_done(False, "Enter the host and AE title first")
            return
        self.pacs_test_msg.setStyleSheet("")
        self.pacs_test_msg.setText("Testing…")
        probe = _Echo(self)
        probe.done.connect(self._echo_done)
        probe.run(echo, cfg)

    def _echo_done(self, ok: bool, message: str) -> None:
        self.pacs_test_msg.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.pacs_test_msg.setText(message[:1].upper() + message[1:])

    def _collect_dicom(self, c: Config) -> None:
        d = c.dicom
        d.enabled = self.scp_on.isChecked()
        d.ae_title = self.scp_ae.text().strip()
        d.port = self.scp_port.value()
        d.bind_address = self.scp_bind.currentData()
        d.allowed_calling_aes = [a.strip() for a in self.scp_allowed.text().replace(";", ",").split(",") if a.strip()]
        if self.pacs is not None:
            self._store_pacs(c.export.dicom)

    def _store_pacs(self, dest) -> None:
        dest.host = self.pacs_host.text().strip()
        dest.port = self.pacs_port.value()
        dest.called_ae = self.pacs_ae.text().strip()
        dest.calling_ae = self.pacs_calling.text().strip()
        dest.send_gsps = self.pacs_gsps.isChecked()
        dest.send_sc = self.pacs_sc.isChecked()

    def _general_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.autostart = QCheckBox("Start Dental AI Bridge when I sign in to Windows")
        if self.autostart_supported:
            try:
                self.autostart.setChecked(autostart.is_enabled(self.registry))
            except autostart.AutostartError as exc:
                self.autostart.setToolTip(str(exc))
            form.addRow("Start at login", self.autostart)
        else:
            self.autostart.hide()
        for label, p in (("Settings file", self.paths.config_file), ("Data", self.paths.data_dir),
                         ("Logs", self.paths.log_dir)):
            v = QLabel(str(p))
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            v.setWordWrap(True)
            form.addRow(label, v)
        return w

    # -- sources -----------------------------------------------------------------------------------------
    def _load_sources(self) -> None:
        self.source_list.clear()
        for s in self.config.sources:
            self.source_list.addItem(QListWidgetItem(s.path or "(new folder)"))
        if self.config.sources:
            self.source_list.setCurrentRow(0)
        self._source_widgets()

    def _source_widgets(self) -> None:
        has = bool(self.config.sources)
        self.folder.setVisible(has)
        self.no_folder.setVisible(not has)
        self.remove_source.setEnabled(has)

    def _select_source(self, row: int) -> None:
        if 0 <= row < len(self.config.sources):
            self.folder.load(self.config.sources[row])

    def _folder_edited(self) -> None:
        row = self.source_list.currentRow()
        if 0 <= row < len(self.config.sources):
            s = self.config.sources[row]
            self.folder.store(s)
            self.source_list.item(row).setText(s.path or "(new folder)")

    def _add_source(self) -> None:
        self.config.sources.append(model.new_source())
        self.source_list.addItem(QListWidgetItem("(new folder)"))
        self.source_list.setCurrentRow(len(self.config.sources) - 1)
        self._source_widgets()
        self.folder.path.setFocus()

    def _remove_source(self) -> None:
        row = self.source_list.currentRow()
        if 0 <= row < len(self.config.sources):
            del self.config.sources[row]
            self.source_list.takeItem(row)
            if self.config.sources:
                self.source_list.setCurrentRow(min(row, len(self.config.sources) - 1))
        self._source_widgets()

    # -- save ---------------------------------------------------------------------------------------------
    def collect(self) -> Config:
        c = self.config
        c.clinical.urgent_threshold = round(self.urgent.value(), 2)
        c.clinical.fmx_images = self.fmx.value()
        c.analysis.threads = self.threads.value()
        c.analysis.unvalidated_labels = self.unvalidated.isChecked()
        c.governance.rollout = self.rollout.currentData()
        c.governance.retention_days = self.retention.value()
        c.governance.auto_labels = [k for k, box in self.auto_labels.items() if box.isChecked()]
        c.governance.auto_min_confidence = round(self.auto_conf.value(), 2)
        self._collect_dicom(c)
        if self.has_export:
            ex = c.export
            boxes = [("opendental", self.to_od), ("folder", self.to_folder)]
            if self.pacs is not None:
                boxes.append(("dicom", self.to_pacs))
            ex.destinations = [d for d, box in boxes if box.isChecked()]
            ex.allow_demonstration_model = self.allow_demo.isChecked()
            ex.opendental.mode = self.od_mode.currentData()
            ex.opendental.server = self.od_server.text().strip()
            ex.opendental.https = self.od_https.isChecked()
            ex.opendental.doc_category = self.od_category.text().strip()
            ex.folder.path = self.folder_path.text().strip()
            ex.folder.layout = self.folder_layout.currentData()
            ex.folder.atoz_root = self.atoz_root.text().strip()
        return c

    def problems(self, c: Config) -> list[str]:
        errors = model.check(c)
        if not all(s.path.strip() for s in c.sources):
            errors.insert(0, "a watch folder has no path: enter one or remove it")
        if self.has_export:  # export settings are checked by model.check (Config.validate)
            dev, cust = self.od_dev.text().strip(), self.od_cust.text().strip()
            if bool(dev) != bool(cust):
                errors.append("enter both Open Dental keys (developer and customer), or neither")
        return errors

    def save(self) -> bool:
        c = self.collect()
        errors = self.problems(c)
        if errors:
            self.show_errors(errors)
            return False
        from ..guarded_settings import changed_guarded, needs_authority
        from ..review.clinicians import ClinicianError

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
        if self.has_export and self.od_dev.text().strip():
            from ..export.secrets import SecretsError, set_opendental_keys

            try:
                set_opendental_keys(self.od_dev.text().strip(), self.od_cust.text().strip())
            except SecretsError as exc:
                self.show_errors([str(exc)])
                return False
            self.od_dev.clear()
            self.od_cust.clear()
            self.od_keys_state.setText(_keys_state())
        if self.autostart_supported:
            try:
                autostart.set_enabled(self.autostart.isChecked(), self.registry)
            except autostart.AutostartError as exc:
                self.show_errors([str(exc)])
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


def _export_available() -> bool:
    import importlib.util

    try:
        return (importlib.util.find_spec("tray_app.settings.export") is not None
                and importlib.util.find_spec("tray_app.export.secrets") is not None)
    except (ImportError, ValueError):
        return False


def _keys_state() -> str:
    try:
        from ..export.secrets import get_opendental_keys

        keys = get_opendental_keys()
    except Exception as exc:  # noqa: BLE001 — a keyring problem is shown, not raised
        return f"Keys: cannot read the keyring ({type(exc).__name__})"
    return "Keys: stored in the system keyring (Windows Credential Manager)" if keys else "Keys: not set"
