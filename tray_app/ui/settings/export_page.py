"""The "Export" tab: where signed reports go (Open Dental, a drop folder), the Open Dental
connection and keys (to the OS keyring only, never config.toml), the drop folder."""

from __future__ import annotations

import copy

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QVBoxLayout

from ...export.doctor import plain_http_warning
from ...pms.keys import SecretsError, get_opendental_keys, set_opendental_keys
from ...settings.export import FOLDER_LAYOUTS, OD_MODES
from .common import ERROR_STYLE, Page, wrapped


def keys_state() -> str:
    try:
        keys = get_opendental_keys()
    except Exception as exc:  # noqa: BLE001 — a keyring problem is shown, not raised
        return f"Keys: cannot read the keyring ({type(exc).__name__})"
    return "Keys: stored in the system keyring (Windows Credential Manager)" if keys else "Keys: not set"


def _choices(values) -> QComboBox:
    box = QComboBox()
    for v in values:
        box.addItem(v, v)
    return box


class ExportPage(Page):
    title = "Export"

    def __init__(self, parent=None):
        super().__init__(parent)
        self._od = None  # the Open Dental settings being edited (for the plain-http warning)
        lay = QVBoxLayout(self)
        dest = QGroupBox("Send signed reports to")
        dl = QVBoxLayout(dest)
        self.to_od = QCheckBox("Open Dental (API)")
        self.to_folder = QCheckBox("A drop folder (Dentrix import, Open Dental AtoZ)")
        dl.addWidget(self.to_od)
        dl.addWidget(self.to_folder)
        self.allow_demo = QCheckBox("Export findings of a demonstration model (only for trying it on a test patient)")
        self.allow_demo.setToolTip("A demonstration model is not for clinical use. Its findings are held back from "
                                   "every destination unless this is on; each export sent with it is recorded in "
                                   "the audit log.")
        dl.addWidget(self.allow_demo)
        lay.addWidget(dest)
        od = QGroupBox("Open Dental")
        f = QFormLayout(od)
        self.od_mode = _choices(OD_MODES)
        self.od_server = QLineEdit()
        self.od_category = QLineEdit()
        self.od_dev = QLineEdit()
        self.od_cust = QLineEdit()
        for k in (self.od_dev, self.od_cust):
            k.setEchoMode(QLineEdit.EchoMode.Password)
            k.setPlaceholderText("leave empty to keep the stored key")
        self.od_keys_state = QLabel(keys_state())
        self.od_https = QCheckBox("Use https (where the API Service offers it)")
        self.od_plain = wrapped()  # warns when keys and radiographs would cross the network unencrypted
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
        fo = QGroupBox("Drop folder")
        g = QFormLayout(fo)
        self.folder_path = QLineEdit()
        self.folder_layout = _choices(FOLDER_LAYOUTS)
        self.atoz_root = QLineEdit()
        g.addRow("Folder", self.folder_path)
        g.addRow("Layout", self.folder_layout)
        g.addRow("AtoZ folder", self.atoz_root)
        lay.addWidget(fo)
        lay.addStretch(1)

    def load(self, config) -> None:
        ex = config.export
        self._od = copy.deepcopy(ex.opendental)
        self.to_od.setChecked("opendental" in ex.destinations)
        self.to_folder.setChecked("folder" in ex.destinations)
        self.allow_demo.setChecked(ex.allow_demonstration_model)
        self.od_mode.setCurrentIndex(max(0, self.od_mode.findData(ex.opendental.mode)))
        self.od_server.setText(ex.opendental.server)
        self.od_category.setText(ex.opendental.doc_category)
        self.od_https.setChecked(ex.opendental.https)
        self.folder_path.setText(ex.folder.path)
        self.folder_layout.setCurrentIndex(max(0, self.folder_layout.findData(ex.folder.layout)))
        self.atoz_root.setText(ex.folder.atoz_root)
        self._od_security()

    def check(self, config) -> list[str]:
        # the export settings themselves are checked with the rest (Config.validate)
        if bool(self.od_dev.text().strip()) != bool(self.od_cust.text().strip()):
            return ["enter both Open Dental keys (developer and customer), or neither"]
        return []

    def save(self, config) -> None:
        ex = config.export
        ex.use("opendental", self.to_od.isChecked())
        ex.use("folder", self.to_folder.isChecked())
        ex.allow_demonstration_model = self.allow_demo.isChecked()
        ex.opendental.mode = self.od_mode.currentData()
        ex.opendental.server = self.od_server.text().strip()
        ex.opendental.https = self.od_https.isChecked()
        ex.opendental.doc_category = self.od_category.text().strip()
        ex.folder.path = self.folder_path.text().strip()
        ex.folder.layout = self.folder_layout.currentData()
        ex.folder.atoz_root = self.atoz_root.text().strip()

    def commit(self) -> str:
        if not self.od_dev.text().strip():
            return ""  # empty keeps the stored keys
        try:
            set_opendental_keys(self.od_dev.text().strip(), self.od_cust.text().strip())
        except SecretsError as exc:
            return str(exc)
        self.od_dev.clear()
        self.od_cust.clear()
        self.od_keys_state.setText(keys_state())
        return ""

    def _od_security(self, *_) -> None:
        if self._od is None:
            return
        od = copy.deepcopy(self._od)
        od.mode, od.server, od.https = self.od_mode.currentData(), self.od_server.text().strip(), self.od_https.isChecked()
        plain = od.plain_on_network()
        self.od_plain.setText(plain_http_warning(plain) + "." if plain else "")
        self.od_plain.setVisible(bool(plain))
