"""Asks a dentist or admin to authorise a change (clinicians, rollout mode, export
destinations, automation labels): who, and their PIN. The PIN is checked by the core
(review.clinicians.authorize), never here."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout


class AuthorityDialog(QDialog):
    def __init__(self, clinicians: list[dict], reason: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Authorise this change")
        lay = QVBoxLayout(self)
        text = QLabel(f"{reason[:1].upper()}{reason[1:]} needs a dentist's or admin's PIN.")
        text.setWordWrap(True)
        lay.addWidget(text)
        form = QFormLayout()
        self.who = QComboBox()
        for c in clinicians:
            if c.get("can_authorise"):
                self.who.addItem(f"{c['name']} ({c['role']})", c["id"])
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(64)
        form.addRow("Authorised by", self.who)
        form.addRow("PIN", self.pin)
        lay.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.pin.setFocus()

    def authority(self):
        from ..review.clinicians import Authority

        if self.who.currentData() is None:
            return None
        return Authority(int(self.who.currentData()), self.pin.text())


def ask(parent, clinicians: list[dict], reason: str):
    """The Authority entered, or None when cancelled."""
    dialog = AuthorityDialog(clinicians, reason, parent)
    return dialog.authority() if dialog.exec() == QDialog.DialogCode.Accepted else None
