"""The finding editor: label, tooth (Universal), surfaces and note, checked before it closes."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit

from . import theme
from .present import SURFACE_LETTERS, label_text, parse_tooth


class FindingDialog(QDialog):
    """Label, tooth (Universal), surfaces and note, for editing a finding or adding a drawn one."""

    def __init__(self, labels: list[str], finding: dict | None = None, title: str = "Edit finding", parent=None,
                 display=label_text):
        super().__init__(parent)
        self.display = display
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.label = QComboBox()
        self.label.setEditable(True)
        for l in labels:
            if l != "tooth":
                self.label.addItem(display(l), l)
        f = finding or {}
        if f.get("label"):
            i = self.label.findData(f["label"])
            if i < 0:
                self.label.addItem(display(f["label"]), f["label"])
                i = self.label.count() - 1
            self.label.setCurrentIndex(i)
        self.tooth = QLineEdit(str(f.get("tooth_universal") or ""))
        self.tooth.setPlaceholderText("Universal number, e.g. 3 or A")
        self.surfaces = QLineEdit(f.get("surfaces") or "")
        self.surfaces.setPlaceholderText("e.g. MO (letters from MODBLIF)")
        self.note = QLineEdit(f.get("note") or "")
        self.error = QLabel("")
        self.error.setStyleSheet(f"color: {theme.URGENT};")
        form.addRow("Finding", self.label)
        form.addRow("Tooth #", self.tooth)
        form.addRow("Surfaces", self.surfaces)
        form.addRow("Note", self.note)
        form.addRow(self.error)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self._check)
        box.rejected.connect(self.reject)
        form.addRow(box)

    def values(self) -> dict:
        data = self.label.currentData()
        text = self.label.currentText().strip()
        label = data if data is not None and self.display(data) == text else text.lower().replace(" ", "_")
        return {"label": label, "tooth_fdi": parse_tooth(self.tooth.text()),
                "surfaces": self.surfaces.text().strip().upper(), "note": self.note.text().strip()}

    def _check(self) -> None:
        try:
            v = self.values()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        if not v["label"]:
            self.error.setText("Choose what the finding is")
            return
        if any(ch not in SURFACE_LETTERS for ch in v["surfaces"]):
            self.error.setText("Surfaces are letters from M, O, D, B, L, I, F")
            return
        self.accept()


def changed_values(finding: dict, values: dict) -> dict:
    """What the edit dialog changed on a finding (blank fields keep their value, except surfaces and note)."""
    changes = {k: v for k, v in values.items() if v not in (None, "") or k in ("surfaces", "note")}
    if changes.get("label") == finding["label"]:
        changes.pop("label")
    for key, default in (("surfaces", ""), ("note", ""), ("tooth_fdi", None)):
        if key in changes and changes[key] == (finding.get(key) or default):
            changes.pop(key)
    return changes
