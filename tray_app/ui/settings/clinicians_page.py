"""The "Clinicians" tab: who may sign or authorise, and adding one (a database change made at
once and audited by review.clinicians; it needs a dentist's or admin's PIN once one exists)."""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHeaderView, QLineEdit, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout)

from ...review.clinicians import ROLES, ClinicianError, add_clinician, authority_exists, list_clinicians
from .. import settings_model as model
from .common import Page, show_message, wrapped


def _pin_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class CliniciansPage(Page):
    title = "Clinicians"

    def __init__(self, db, ask_authority, parent=None):
        """`db()` the open Database; `ask_authority(reason)` a dentist's or admin's Authority or None."""
        super().__init__(parent)
        self.db, self.ask_authority = db, ask_authority
        lay = QVBoxLayout(self)
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
        self.clin_pin = _pin_field()
        self.clin_pin.setPlaceholderText("dentists and admins: 6+ digits or a passphrase")
        self.clin_pin.setMaxLength(64)
        self.clin_pin2 = _pin_field()
        self.add_clin = QPushButton("Add clinician")
        self.add_clin.clicked.connect(self.add_clinician)
        self.clin_msg = wrapped("Only dentists can sign. Adding a clinician needs a dentist's or admin's PIN "
                                "(except the first). PINs are stored as salted hashes.")
        form.addRow("Name", self.clin_name)
        form.addRow("Role", self.clin_role)
        form.addRow("PIN", self.clin_pin)
        form.addRow("PIN again", self.clin_pin2)
        form.addRow("", self.add_clin)
        form.addRow("", self.clin_msg)
        lay.addWidget(box)

    def load(self, config) -> None:
        """The clinicians as the database has them (they are not part of the settings file)."""
        rows = list_clinicians(self.db())
        self.clinicians.setRowCount(len(rows))
        for i, r in enumerate(rows):
            name = r["name"] + ("  (locked)" if r["locked"] else "") + \
                ("  (PIN too short: change it)" if r["pin_too_short"] else "")
            self.clinicians.setItem(i, 0, QTableWidgetItem(name))
            self.clinicians.setItem(i, 1, QTableWidgetItem(r["role"].capitalize()))
            self.clinicians.setItem(i, 2, QTableWidgetItem("Yes" if r["can_sign"] else "No"))

    def add_clinician(self) -> bool:
        if self.clin_pin.text() != self.clin_pin2.text():
            show_message(self.clin_msg, "The two PINs differ.", False)
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
            show_message(self.clin_msg, text[:1].upper() + text[1:] + ".", False)  # keeps "PIN" upper-case
            return False
        show_message(self.clin_msg, f"Added {self.clin_name.text().strip()}.", True)
        for f in (self.clin_name, self.clin_pin, self.clin_pin2):
            f.clear()
        self.load(None)
        return True
