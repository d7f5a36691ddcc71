"""The findings panel: the display controls (`overlay_controls.py`) over the findings table, with
Accept / Reject / Edit / Add box / Undo. Rows follow the overlay filters; editing a finding's
details is `finding_dialog.py`."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QGridLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from ..store.findings import DECIDED
from . import theme
from .overlay_controls import OverlayControls
from .present import OverlaySettings, tooth_text
from .widgets import heading_row, panel_layout

COLUMNS = ("Img", "Tooth", "Finding", "Conf", "Status")
STATUS_WORDS = {"proposed": "Proposed", "accepted": "Accepted", "rejected": "Rejected", "edited": "Edited",
                "added": "Added"}


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
        lay = panel_layout(self, QVBoxLayout, scale, (8, 8, 8, 8), spacing=6)
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
            n = sum(f["status"] in DECIDED for f in pathology)
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
