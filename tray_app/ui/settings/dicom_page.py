"""The "DICOM" tab: the receiver for images pushed by imaging software or a PACS, and (when
the settings carry export destinations) sending results to a PACS or viewer, with a C-ECHO test."""

from __future__ import annotations

import copy

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QLineEdit, QPushButton, QSpinBox, QVBoxLayout

from .common import Background, Page, show_message, wrapped

BIND_CHOICES = (("This PC only (127.0.0.1)", "127.0.0.1"), ("The practice network (all addresses)", "0.0.0.0"))


def _port() -> QSpinBox:
    box = QSpinBox()
    box.setRange(1, 65535)
    return box


def _ae_title() -> QLineEdit:
    field = QLineEdit()
    field.setMaxLength(16)
    return field


class DicomPage(Page):
    title = "DICOM"

    def __init__(self, pacs: bool, parent=None):
        """`pacs`: the settings carry export destinations, so results can go to a PACS."""
        super().__init__(parent)
        self._dest = None  # the PACS destination being edited (for the echo test)
        lay = QVBoxLayout(self)
        rx = QGroupBox("Receive images pushed by the imaging software or PACS (DICOM C-STORE)")
        f = QFormLayout(rx)
        self.scp_on = QCheckBox("Listen for DICOM images")
        self.scp_ae = _ae_title()
        self.scp_port = _port()
        self.scp_bind = QComboBox()
        for text, address in BIND_CHOICES:
            self.scp_bind.addItem(text, address)
        self.scp_allowed = QLineEdit()
        self.scp_allowed.setPlaceholderText("empty = any sender; e.g. DEXIS, SCHICK")
        f.addRow("", self.scp_on)
        f.addRow("Our AE title", self.scp_ae)
        f.addRow("Port", self.scp_port)
        f.addRow("Accept connections from", self.scp_bind)
        f.addRow("Allowed senders (AE titles)", self.scp_allowed)
        lay.addWidget(rx)
        self.pacs = self._pacs_box() if pacs else None
        if self.pacs is not None:
            lay.addWidget(self.pacs)
        lay.addStretch(1)

    def _pacs_box(self) -> QGroupBox:
        box = QGroupBox("Send results to a PACS or viewer (DICOM)")
        g = QFormLayout(box)
        self.to_pacs = QCheckBox("Send results to this PACS or viewer")
        pacs_help = wrapped("Each signed report, and under targeted automation each unverified automatic "
                            "export, is sent as it is made, with retries while the node is off.")
        self.pacs_host = QLineEdit()
        self.pacs_port = _port()
        self.pacs_ae = _ae_title()
        self.pacs_calling = _ae_title()
        self.pacs_calling.setToolTip("The AE title we call with; the PACS must know it")
        self.pacs_gsps = QCheckBox("Presentation state (findings drawn over the original image)")
        self.pacs_sc = QCheckBox("Annotated copy (secondary capture)")
        self.pacs_test = QPushButton("Test (C-ECHO)")
        self.pacs_test_msg = wrapped()
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
        return box

    def load(self, config) -> None:
        d = config.dicom
        self.scp_on.setChecked(d.enabled)
        self.scp_ae.setText(d.ae_title)
        self.scp_port.setValue(d.port)
        if self.scp_bind.findData(d.bind_address) < 0:  # set by hand to one address of this PC
            self.scp_bind.addItem(d.bind_address, d.bind_address)
        self.scp_bind.setCurrentIndex(self.scp_bind.findData(d.bind_address))
        self.scp_allowed.setText(", ".join(d.allowed_calling_aes))
        if self.pacs is not None:
            ex = config.export
            dest = self._dest = copy.deepcopy(ex.dicom)
            self.to_pacs.setChecked("dicom" in ex.destinations)
            self.pacs_host.setText(dest.host)
            self.pacs_port.setValue(dest.port)
            self.pacs_ae.setText(dest.called_ae)
            self.pacs_calling.setText(dest.calling_ae)
            self.pacs_gsps.setChecked(dest.send_gsps)
            self.pacs_sc.setChecked(dest.send_sc)

    def save(self, config) -> None:
        d = config.dicom
        d.enabled = self.scp_on.isChecked()
        d.ae_title = self.scp_ae.text().strip()
        d.port = self.scp_port.value()
        d.bind_address = self.scp_bind.currentData()
        d.allowed_calling_aes = [a.strip() for a in self.scp_allowed.text().replace(";", ",").split(",") if a.strip()]
        if self.pacs is not None:
            config.export.use("dicom", self.to_pacs.isChecked())
            self._store_pacs(config.export.dicom)

    def _store_pacs(self, dest) -> None:
        dest.host = self.pacs_host.text().strip()
        dest.port = self.pacs_port.value()
        dest.called_ae = self.pacs_ae.text().strip()
        dest.calling_ae = self.pacs_calling.text().strip()
        dest.send_gsps = self.pacs_gsps.isChecked()
        dest.send_sc = self.pacs_sc.isChecked()

    def _echo_pacs(self) -> None:
        from ...export.dicom_export import echo  # pynetdicom: loaded when a test is asked for

        cfg = copy.deepcopy(self._dest)
        saved_calling = cfg.calling_ae
        self._store_pacs(cfg)
        cfg.calling_ae = cfg.calling_ae or saved_calling
        if not cfg.host or not cfg.called_ae:
            self._echo_done((False, "Enter the host and AE title first"))
            return
        self.pacs_test_msg.setStyleSheet("")
        self.pacs_test_msg.setText("Testing…")
        probe = Background(self)
        probe.done.connect(self._echo_done)
        probe.run("dicom-echo", echo, cfg,
                  on_error=lambda exc: (False, f"the test failed ({type(exc).__name__}: {exc})"))

    def _echo_done(self, result) -> None:
        ok, message = result
        show_message(self.pacs_test_msg, message[:1].upper() + message[1:], ok)
