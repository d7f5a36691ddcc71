"""The watch-folder editor: path + browse + test, watch method, patient id meaning, file-name
template. The settings window edits each watch folder with it; the first-run wizard uses its
compact form (the folder row only) and the template hint."""

from __future__ import annotations

from PySide6.QtCore import QDir, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QVBoxLayout, QWidget)

from ...config import PATIENT_ID_MEANINGS, SOURCE_KINDS
from ...intake.naming import TemplateError, validate_template
from .. import settings_model as model
from .common import ERROR_STYLE, Background, show_message

KIND_TEXT = {"auto": "Automatic (shares: notifications, polled if none arrive)",
             "native": "Change notifications (local disks)", "polling": "Polling (network shares, NAS)"}
TEMPLATE_HELP = ("Only for PNG/JPEG/TIFF exports (DICOM files carry the patient). Fields: {chart} {patnum} {id} "
                 "{last} {first} {date:%Y%m%d} {time:%H%M%S} {seq} {*}")


class TemplateHint:
    """Says under a file-name template field what is wrong with it as it is typed, else `help_text`."""

    def __init__(self, edit: QLineEdit, label: QLabel, help_text: str = TEMPLATE_HELP):
        self.edit, self.label, self.help_text = edit, label, help_text
        edit.textChanged.connect(self.check)

    def check(self, *_) -> bool:
        try:
            validate_template(self.edit.text().strip())
        except TemplateError as exc:
            self.label.setText(f"Template problem: {exc}")
            self.label.setStyleSheet(ERROR_STYLE)
            return False
        self.label.setText(self.help_text)
        self.label.setStyleSheet("")
        return True


class FolderEditor(QWidget):
    """One watch folder. `compact`: the folder row and the test result only (the wizard asks the rest)."""

    changed = Signal()

    def __init__(self, parent=None, *, compact: bool = False):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        outer.addLayout(form)
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
        self.patient_id = QComboBox()
        for k in PATIENT_ID_MEANINGS:
            self.patient_id.addItem(model.PATIENT_ID_TEXT[k], k)
        self.patient_id.setToolTip("What the patient id in these files means in the practice-management system")
        self.template = QLineEdit()
        self.enabled = QCheckBox("Watch this folder")
        # wrapped labels get the full width (in a form row they are squeezed and clipped)
        self.template_msg = QLabel(TEMPLATE_HELP)
        self.template_msg.setWordWrap(True)
        self.template_msg.setObjectName("hint")
        self.hint = TemplateHint(self.template, self.template_msg)
        if compact:
            for w in (self.kind, self.patient_id, self.template, self.enabled, self.template_msg):
                w.setParent(self)
                w.hide()
        else:
            form.addRow("Watch method", self.kind)
            form.addRow("Patient id is the", self.patient_id)
            form.addRow("File-name template", self.template)
            form.addRow("", self.enabled)
            outer.addWidget(self.template_msg)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setMinimumHeight(60)
        self.result.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        outer.addWidget(self.result)
        self.prober = Background(self)
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
        self.hint.check()

    def store(self, source) -> None:
        source.path = self.path.text().strip()
        source.name_template = self.template.text().strip()
        source.kind = self.kind.currentData()
        source.patient_id = self.patient_id.currentData()
        source.enabled = self.enabled.isChecked()

    def _edited(self, *_):
        self.changed.emit()

    def _browse(self) -> None:
        start = self.path.text().strip() or QDir.homePath()
        chosen = QFileDialog.getExistingDirectory(self, "Choose the imaging export folder", start)
        if chosen:
            self.path.setText(QDir.toNativeSeparators(chosen))

    def run_test(self) -> None:
        self.result.setStyleSheet("")
        self.result.setText("Testing…")
        self.test.setEnabled(False)
        path = self.path.text().strip()
        self.prober.run("folder-test", model.probe_folder, path, self.template.text().strip() or None,
                        on_error=lambda exc: model.FolderProbe(path, False, f"Could not test the folder ({exc})"))

    def _show_probe(self, probe) -> None:
        self.test.setEnabled(True)
        show_message(self.result, probe.summary(), probe.ok)
