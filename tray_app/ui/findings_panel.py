"""Findings table with Accept / Reject / Edit / Add, and the overlay controls above it."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout,
                               QGridLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QSlider,
                               QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from . import theme
from .widgets import heading_row
from .present import SURFACE_LETTERS, OverlaySettings, label_text, parse_tooth, tooth_text

COLUMNS = ("Img", "Tooth", "Finding", "Conf", "Status")
STATUS_WORDS = {"proposed": "Proposed", "accepted": "Accepted", "rejected": "Rejected", "edited": "Edited",
                "added": "Added"}


class OverlayControls(QWidget):
    """Threshold, opacity, anatomy, colour mode and per-label visibility."""

    changed = Signal()

    def __init__(self, settings: OverlaySettings, scale: theme.Scale, parent=None):
        super().__init__(parent)
        self.settings = settings
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(scale.px(4))
        grid = QGridLayout()
        grid.setHorizontalSpacing(scale.px(8))
        grid.setVerticalSpacing(scale.px(2))
        self.threshold = QSlider(Qt.Orientation.Horizontal)
        self.threshold.setRange(0, 95)
        self.threshold.setSingleStep(5)
        self.threshold.setPageStep(10)
        self.threshold.setValue(round((settings.threshold or 0) * 100))
        self.threshold.setToolTip("Hide findings below this confidence (nothing is deleted)")
        self.threshold_label = QLabel()
        self.threshold_label.setMinimumWidth(scale.px(44))
        self.threshold.valueChanged.connect(self._threshold_changed)
        # the starting point: each finding type's own floor from the model's manifest
        self.per_label = QToolButton()
        self.per_label.setText("Model")
        self.per_label.setCheckable(True)
        self.per_label.setToolTip("Each finding type's own minimum from the model (moving the slider sets one "
                                  "minimum for all)")
        self.per_label.toggled.connect(self._per_label_toggled)
        grid.addWidget(QLabel("Min. confidence"), 0, 0)
        grid.addWidget(self.threshold, 0, 1)
        grid.addWidget(self.threshold_label, 0, 2)
        grid.addWidget(self.per_label, 0, 3)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(10, 100)
        self.opacity.setValue(round(settings.opacity * 100))
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.opacity_label = QLabel()
        grid.addWidget(QLabel("Overlay opacity"), 1, 0)
        grid.addWidget(self.opacity, 1, 1)
        grid.addWidget(self.opacity_label, 1, 2)
        grid.setColumnStretch(1, 1)
        lay.addLayout(grid)
        row = QHBoxLayout()
        self.anatomy = QCheckBox("Teeth outlines")
        self.anatomy.setToolTip("Show the detected tooth boxes (anatomy)")
        self.anatomy.setChecked(settings.show_anatomy)
        self.anatomy.toggled.connect(self._anatomy_changed)
        row.addWidget(self.anatomy)
        self.rejected = QCheckBox("Rejected")
        self.rejected.setToolTip("Show rejected findings on the image (dotted)")
        self.rejected.toggled.connect(self._rejected_changed)
        row.addWidget(self.rejected)
        row.addStretch(1)
        self.color_mode = QComboBox()
        self.color_mode.addItems(["Colour: confidence", "Colour: label"])
        self.color_mode.currentIndexChanged.connect(self._color_changed)
        row.addWidget(self.color_mode)
        lay.addLayout(row)
        self.legend = QLabel(" &nbsp; ".join(
            f"<span style='color:{c}'>■</span> {name if name != 'low' else 'low (dashed)'}"
            f"{' ≥ %d%%' % round(lo * 100) if lo else ''}" for lo, name, c in theme.BANDS))
        self.legend.setObjectName("muted")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.legend)
        self.labels_box = QGridLayout()
        self.labels_box.setHorizontalSpacing(scale.px(10))
        self.labels_box.setVerticalSpacing(0)
        lay.addLayout(self.labels_box)
        self.label_checks: dict[str, QCheckBox] = {}
        if settings.threshold is None:
            self.per_label.setChecked(True)
        else:
            self._threshold_changed(self.threshold.value(), emit=False)
        self._opacity_changed(self.opacity.value(), emit=False)

    def set_labels(self, labels: list[str]) -> None:
        """One checkbox per label of the study's models, named and coloured as the manifests say."""
        for cb in self.label_checks.values():
            # hide and detach now: deleteLater alone leaves the old boxes painted under the new ones
            self.labels_box.removeWidget(cb)
            cb.hide()
            cb.setParent(None)
            cb.deleteLater()
        self.label_checks.clear()
        for i, label in enumerate(l for l in labels if l != "tooth"):
            cb = QCheckBox(self.settings.display(label))
            cb.setChecked(label not in self.settings.hidden_labels)
            colour = self.settings.style(label).color
            if colour:
                cb.setStyleSheet(f"QCheckBox {{ background: transparent; }} QCheckBox::indicator:checked "
                                 f"{{ background: {colour}; border-color: {colour}; }}")
            cb.toggled.connect(lambda on, l=label: self._label_toggled(l, on))
            self.labels_box.addWidget(cb, i // 2, i % 2)  # two columns: "Periapical radiolucency" is long
            self.label_checks[label] = cb
        self.show_floors()

    def _threshold_changed(self, value: int, emit: bool = True) -> None:
        self.settings.threshold = value / 100.0
        self.threshold_label.setText(f"{value}%")
        self.threshold_label.setToolTip("")
        with QSignalBlocker(self.per_label):
            self.per_label.setChecked(False)
        if emit:
            self.changed.emit()

    def _per_label_toggled(self, on: bool) -> None:
        if not on:  # back to one minimum for all, where the slider stands
            self._threshold_changed(self.threshold.value())
            return
        self.settings.threshold = None
        self.show_floors()
        self.changed.emit()

    def show_floors(self) -> None:
        """The slider and its label show the per-label floors (the lowest, all in the tooltip)."""
        if self.settings.threshold is not None:
            return
        floors = {label: self.settings.floor(label) for label in self.settings.styles if label != "tooth"}
        lowest = min(floors.values(), default=0.0)
        with QSignalBlocker(self.threshold):
            self.threshold.setValue(round(lowest * 100))
        self.threshold_label.setText("per type")
        self.threshold_label.setToolTip("\n".join(f"{self.settings.display(l)}: {v:.0%}" for l, v in floors.items()))

    def _opacity_changed(self, value: int, emit: bool = True) -> None:
        self.settings.opacity = value / 100.0
        self.opacity_label.setText(f"{value}%")
        if emit:
            self.changed.emit()

    def _anatomy_changed(self, on: bool) -> None:
        self.settings.show_anatomy = on
        self.changed.emit()

    def _rejected_changed(self, on: bool) -> None:
        self.settings.show_rejected = on
        self.changed.emit()

    def _color_changed(self, index: int) -> None:
        self.settings.color_mode = "label" if index == 1 else "confidence"
        self.changed.emit()

    def _label_toggled(self, label: str, on: bool) -> None:
        (self.settings.hidden_labels.discard if on else self.settings.hidden_labels.add)(label)
        self.changed.emit()


class FindingsTable(QTableWidget):
    FIT = QHeaderView.ResizeMode.ResizeToContents

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.verticalHeader().hide()
        self.setWordWrap(False)
        h = self.horizontalHeader()
        for i in range(len(COLUMNS)):
            h.setSectionResizeMode(i, self.FIT if i != 2 else QHeaderView.ResizeMode.Stretch)

    @contextmanager
    def filling(self):
        """Columns fitted once after a refill: fitted per item, each new cell re-measures its whole
        column (a 70-finding FMX took a quarter of a second per review action)."""
        h = self.horizontalHeader()
        fitted = [i for i in range(self.columnCount()) if h.sectionResizeMode(i) == self.FIT]
        for i in fitted:
            h.setSectionResizeMode(i, QHeaderView.ResizeMode.Fixed)
        try:
            yield
        finally:
            for i in fitted:
                h.setSectionResizeMode(i, self.FIT)


class FindingsPanel(QWidget):
    finding_selected = Signal(int)     # finding id (or -1)
    accept_requested = Signal()
    reject_requested = Signal()
    edit_requested = Signal()
    draw_toggled = Signal(bool)
    undo_requested = Signal()

    def __init__(self, settings: OverlaySettings, scale: theme.Scale, parent=None):
        super().__init__(parent)
        self.scale = scale
        self.settings = settings
        self.setObjectName("panel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(scale.px(8), scale.px(8), scale.px(8), scale.px(8))
        lay.setSpacing(scale.px(6))
        title = QLabel("Display")
        title.setObjectName("sectionTitle")
        lay.addWidget(title)
        self.controls = OverlayControls(settings, scale)
        lay.addWidget(self.controls)
        head, self.summary = heading_row("Findings")
        lay.addLayout(head)
        self.table = FindingsTable()
        self.table.itemSelectionChanged.connect(self._selection_changed)
        lay.addWidget(self.table, 1)
        buttons = QGridLayout()
        buttons.setSpacing(scale.px(6))
        self.accept_btn = QPushButton("Accept  (A)")
        self.accept_btn.setObjectName("accept")
        self.reject_btn = QPushButton("Reject  (R)")
        self.reject_btn.setObjectName("reject")
        self.edit_btn = QPushButton("Edit…  (E)")
        self.draw_btn = QPushButton("Add box  (D)")
        self.draw_btn.setCheckable(True)
        self.draw_btn.setToolTip("Draw a box on the image to add a finding")
        self.undo_btn = QPushButton("Undo  (Ctrl+Z)")
        self.accept_btn.clicked.connect(self.accept_requested)
        self.reject_btn.clicked.connect(self.reject_requested)
        self.edit_btn.clicked.connect(self.edit_requested)
        self.draw_btn.toggled.connect(self.draw_toggled)
        self.undo_btn.clicked.connect(self.undo_requested)
        buttons.addWidget(self.accept_btn, 0, 0)
        buttons.addWidget(self.reject_btn, 0, 1)
        buttons.addWidget(self.edit_btn, 0, 2)
        buttons.addWidget(self.draw_btn, 1, 0)
        buttons.addWidget(self.undo_btn, 1, 1, 1, 2)
        lay.addLayout(buttons)
        self.findings: list[dict] = []
        self._filling = False
        self.read_only = False

    def set_read_only(self, read_only: bool) -> None:
        self.read_only = read_only
        for b in (self.accept_btn, self.reject_btn, self.edit_btn, self.draw_btn, self.undo_btn):
            b.setEnabled(not read_only)
        if read_only and self.draw_btn.isChecked():
            self.draw_btn.setChecked(False)

    # -- rows ------------------------------------------------------------------------------------
    def set_findings(self, findings: list[dict], keep: int | None = None) -> None:
        """All findings of the study (each with image_index); rows follow the overlay filters."""
        self.findings = findings
        self.refill(keep)

    def refill(self, keep: int | None = None) -> None:
        keep = self.current_finding_id() if keep is None else keep
        shown = [f for f in self.findings if self.settings.passes_filters(f)]
        hidden = len([f for f in self.findings if f["label"] != "tooth" or self.settings.show_anatomy]) - len(shown)
        self._filling = True
        try:
            with self.table.filling():
                self.table.setRowCount(len(shown))
                for row, f in enumerate(shown):
                    self._fill_row(row, f)
            self.table.resizeRowsToContents()
        finally:
            self._filling = False
        pathology = [f for f in self.findings if f["label"] != "tooth"]
        open_ = sum(f["status"] == "proposed" for f in pathology)
        if self.read_only:
            n = sum(f["status"] in ("accepted", "edited", "added") for f in pathology)
            text = f"read-only · {n} in the signed report"
        else:
            text = f"{open_} to review" if open_ else "all reviewed" if pathology else ""
        if hidden > 0:
            text += f" · {hidden} hidden by filters"
        self.summary.setText(text)
        if keep is not None and self.select_finding(keep, emit=False):
            return
        if shown:
            self.table.selectRow(0)
        else:
            self.finding_selected.emit(-1)

    def _fill_row(self, row: int, f: dict) -> None:
        _, colour = theme.band(f["confidence"])
        tooth = tooth_text(f) + (f" {f['surfaces']}" if f.get("surfaces") else "")
        values = [str(f["image_index"] + 1), tooth, self.settings.display(f["label"]) + (" ✎" if f.get("note") else ""),
                  "—" if f["status"] == "added" else f"{f['confidence']:.0%}",
                  "Not in report" if self.read_only and f["status"] == "proposed"
                  else "Sent unverified" if f["status"] == "proposed" and f.get("sent_unverified")
                  else STATUS_WORDS.get(f["status"], f["status"])]
        for col, v in enumerate(values):
            item = QTableWidgetItem(v)
            item.setData(Qt.ItemDataRole.UserRole, f["id"])
            if col in (0, 3):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if f["status"] == "rejected":
                item.setForeground(QColor(theme.STATUS_COLORS["rejected"]))
                font = QFont(item.font())
                font.setStrikeOut(col == 2)
                item.setFont(font)
            elif self.read_only and f["status"] == "proposed":
                item.setForeground(QColor(theme.MUTED))
            elif col == 3 and f["status"] != "added":
                item.setForeground(QColor(colour))
            elif col == 4:
                item.setForeground(QColor(theme.STATUS_COLORS.get(f["status"], theme.TEXT)))
            tip = f"{self.settings.display(f['label'])} · {f['confidence']:.0%} · {f.get('model') or 'clinician'}"
            item.setToolTip(tip + (f"\nNote: {f['note']}" if f.get("note") else ""))
            self.table.setItem(row, col, item)

    def visible_finding_ids(self) -> list[int]:
        return [self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(self.table.rowCount())]

    def current_finding_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def current_finding(self) -> dict | None:
        fid = self.current_finding_id()
        return next((f for f in self.findings if f["id"] == fid), None)

    def select_finding(self, finding_id: int, emit: bool = True) -> bool:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) == finding_id:
                was = self._filling
                self._filling = was or not emit
                try:
                    self.table.selectRow(r)
                finally:
                    self._filling = was
                self.table.scrollToItem(self.table.item(r, 0))
                return True
        return False

    def select_next(self, after_id: int) -> None:
        """After a decision: the next still-proposed row below, else the next row."""
        ids = self.visible_finding_ids()
        if after_id not in ids:
            return
        i = ids.index(after_id)
        by_id = {f["id"]: f for f in self.findings}
        for fid in ids[i + 1:] + ids[:i]:
            if by_id[fid]["status"] == "proposed":
                self.select_finding(fid)
                return
        if i + 1 < len(ids):
            self.select_finding(ids[i + 1])

    def _selection_changed(self) -> None:
        if self._filling:
            return
        fid = self.current_finding_id()
        self.finding_selected.emit(fid if fid is not None else -1)


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
