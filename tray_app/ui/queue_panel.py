"""The study queue: triage order, patient, set text, tags, top findings, age and status."""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QVBoxLayout, QWidget)

from . import theme
from .widgets import heading_row, panel_layout
from .present import age, dob, label_text, patient_name, top_findings

STATUS_FILTERS = (
    ("To review", ("new", "in_review")),
    ("All", None),
    ("New", ("new",)),
    ("In review", ("in_review",)),
    ("Signed", ("signed",)),
    ("Exported", ("exported",)),
    ("Export failed", ("export_failed",)),
)
# tags shown as chips on the card; the rest (region:, teeth:, image kinds) are in the tooltip and filter
CHIP_TAGS = {"urgent": "Urgent", "caries_suspected": "Caries suspected", "anomaly_detected": "Anomaly",
             "type_uncertain": "Type uncertain", "incomplete": "Incomplete", "post-op": "Post-op",
             "restoration_present": "Restorations"}


def matches(study: dict, text: str) -> bool:
    """Every word of the filter appears in the name, chart number, birth date or a tag."""
    words = text.lower().split()
    if not words:
        return True
    p = study["patient"]
    hay = " ".join([patient_name(p.get("name", "")), p.get("name", ""), p.get("id", ""), p.get("birth_date", ""),
                    dob(p.get("birth_date", "")), " ".join(study.get("tags", [])),
                    " ".join(t.replace("_", " ") for t in study.get("tags", [])),
                    (study.get("set") or {}).get("text", ""), "sent unverified" if sent_unverified(study) else ""]).lower()
    return all(w in hay for w in words)


def sent_unverified(study: dict) -> bool:
    """Targeted automation sent some findings to the chart before any dentist signed the study."""
    return bool((study.get("automated") or {}).get("sent")) and study.get("status") in ("new", "in_review")


def _card_key(study: dict):
    """What a card shows: the study, and its age as text (which moves on with the clock)."""
    return study, age(study.get("last_image_at", ""))


class StudyCard(QWidget):
    def __init__(self, study: dict, scale: theme.Scale, parent=None, display=label_text):
        super().__init__(parent)
        self.study_id = study["id"]
        urgent = study.get("urgent") or "urgent" in study.get("tags", [])
        self.setObjectName("card")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        edge = theme.URGENT if urgent else "transparent"
        self.setStyleSheet(f"QWidget#card {{ background: transparent; border-left: {scale.px(4)}px solid {edge}; }}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(scale.px(10), scale.px(6), scale.px(8), scale.px(7))
        lay.setSpacing(scale.px(2))
        p = study["patient"]
        top = QHBoxLayout()
        top.setSpacing(scale.px(6))
        name = QLabel(html.escape(patient_name(p.get("name", ""))))
        name.setStyleSheet(f"font-weight: 600; font-size: {scale.title}px;")
        name.setTextFormat(Qt.TextFormat.RichText)
        top.addWidget(name, 1)
        status = study.get("status", "new")
        pill = QLabel(theme.STATUS_TEXT.get(status, status))
        colour = theme.STUDY_STATUS_COLORS.get(status, theme.MUTED)
        pill.setStyleSheet(f"color: {colour}; border: 1px solid {colour}; border-radius: {scale.px(8)}px;"
                           f" padding: 0 {scale.px(6)}px; font-size: {scale.small}px;")
        top.addWidget(pill, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(top)
        self.status_label = pill

        muted = theme.MUTED
        n = study.get("image_count", len(study.get("images", [])))
        meta = (f"{html.escape(p.get('id') or '—')} · DOB {dob(p.get('birth_date', ''))} · "
                f"{n} img · {age(study.get('last_image_at', ''))}")
        set_text = (study.get("set") or {}).get("text") or study.get("description") or ""
        findings = top_findings(study, limit=2, display=display)
        chips = []
        if urgent:
            chips.append(f"<span style='background:{theme.URGENT}; color:white; font-weight:600;'>"
                         f"&nbsp;URGENT&nbsp;</span>")
        if sent_unverified(study):
            chips.append("<span style='color:#e0b45a; font-weight:600;'>Sent unverified</span>")
        for tag in study.get("tags", []):
            if tag in CHIP_TAGS and tag != "urgent":
                c = "#e0b45a" if tag in ("caries_suspected", "anomaly_detected") else muted
                chips.append(f"<span style='color:{c};'>{CHIP_TAGS[tag]}</span>")
        rows = [f"<span style='color:{muted}; font-size:{scale.small}px'>{meta}</span>"]
        if set_text:
            rows.append(html.escape(set_text))
        rows.append(f"<span style='color:{theme.BANNER_TEXT if findings != 'No findings' else muted}'>"
                    f"{html.escape(findings)}</span>")
        if chips:
            rows.append(f"<span style='font-size:{scale.small}px'>{' &nbsp;·&nbsp; '.join(chips)}</span>")
        body = QLabel("<br>".join(rows))
        body.setTextFormat(Qt.TextFormat.RichText)
        body.setWordWrap(True)
        lay.addWidget(body)
        self.setToolTip("Tags: " + (", ".join(study.get("tags", [])) or "none"))


class QueuePanel(QWidget):
    study_selected = Signal(int)
    scope_changed = Signal()   # the status filter now needs signed/exported studies too (or no longer)

    def __init__(self, scale: theme.Scale, parent=None, display=label_text):
        super().__init__(parent)
        self.scale = scale
        self.display = display  # a label's display name (the window's model catalog)
        lay = panel_layout(self, QVBoxLayout, scale, (8, 8, 8, 0), spacing=6)
        head, self.count_label = heading_row("Review queue")
        lay.addLayout(head)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: name, chart #, tag")
        self.filter_edit.setToolTip("Words to match in the patient name, chart number, birth date or tags, e.g. \"urgent\" or \"caries\"")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.apply_filter)
        lay.addWidget(self.filter_edit)
        self.status_combo = QComboBox()
        for text, _ in STATUS_FILTERS:
            self.status_combo.addItem(text)
        self.status_combo.currentIndexChanged.connect(self._status_changed)
        lay.addWidget(self.status_combo)
        self.list = QListWidget()
        self.list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(0)
        self.list.currentItemChanged.connect(self._current_changed)
        lay.addWidget(self.list, 1)
        self.studies: list[dict] = []
        self._keys: list = []
        self._building = False

    # -- content ---------------------------------------------------------------------------------
    def set_studies(self, studies: list[dict]) -> None:
        """Studies in the order given (triage order); keeps the current selection. Cards whose
        study (and shown age) did not change are kept: building a card costs ~2 ms, and the
        window reloads the queue after every review action."""
        current = self.current_study_id()
        keys = [_card_key(s) for s in studies]
        same_order = ([s["id"] for s in studies] == [s["id"] for s in self.studies]
                      and self.list.count() == len(studies))
        self._building = True
        try:
            if same_order:
                for i, (s, key) in enumerate(zip(studies, keys)):
                    if key != self._keys[i]:
                        self._place_card(self.list.item(i), s)  # the old card is deleted by the view
            else:
                self.list.clear()
                for s in studies:
                    item = QListWidgetItem()
                    item.setData(Qt.ItemDataRole.UserRole, s["id"])
                    self.list.addItem(item)
                    self._place_card(item, s)
            self.studies, self._keys = studies, keys
            self.apply_filter()
            if current is not None:
                self.select_study(current, emit=False)
        finally:
            self._building = False

    def _place_card(self, item: QListWidgetItem, study: dict) -> None:
        card = StudyCard(study, self.scale, display=self.display)
        self.list.setItemWidget(item, card)  # first: the window's style sheet reaches it from there
        self._fit(item, card, max(200, self.list.viewport().width() - 4))

    @staticmethod
    def _fit(item: QListWidgetItem, card: QWidget, width: int) -> None:
        # the height wrapped text needs at this width: sizeHint() alone ignores the wrapping, and
        # cards rebuilt while the window was showing lost their last line
        card.setFixedWidth(width)
        height = card.heightForWidth(width) if card.hasHeightForWidth() else -1
        item.setSizeHint(QSize(width, height if height > 0 else card.sizeHint().height()))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        width = max(200, self.list.viewport().width() - 4)
        for i in range(self.list.count()):
            item = self.list.item(i)
            card = self.list.itemWidget(item)
            if card is not None and card.width() != width:
                self._fit(item, card, width)

    def wants_done(self) -> bool:
        """Whether the status filter shows signed/exported studies (so the window must read them)."""
        allowed = STATUS_FILTERS[max(0, self.status_combo.currentIndex())][1]
        return allowed is None or any(s not in ("new", "in_review") for s in allowed)

    def _status_changed(self, *_) -> None:
        self.scope_changed.emit()
        self.apply_filter()

    def apply_filter(self, *_) -> None:
        text = self.filter_edit.text()
        allowed = STATUS_FILTERS[max(0, self.status_combo.currentIndex())][1]
        shown = 0
        by_id = {s["id"]: s for s in self.studies}
        for i in range(self.list.count()):
            item = self.list.item(i)
            s = by_id.get(item.data(Qt.ItemDataRole.UserRole))
            ok = s is not None and (allowed is None or s.get("status") in allowed) and matches(s, text)
            item.setHidden(not ok)
            shown += ok
        self.count_label.setText(f"{shown} of {len(self.studies)}" if shown != len(self.studies)
                                 else f"{shown} stud{'y' if shown == 1 else 'ies'}")

    # -- selection -------------------------------------------------------------------------------
    def visible_study_ids(self) -> list[int]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if not self.list.item(i).isHidden()]

    def current_study_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def select_study(self, study_id: int, emit: bool = True) -> bool:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == study_id:
                was = self._building
                self._building = self._building or not emit
                try:
                    self.list.setCurrentItem(item)
                finally:
                    self._building = was
                self.list.scrollToItem(item)
                return True
        was = self._building
        self._building = True
        try:
            self.list.setCurrentItem(None)  # the open study is filtered out: highlight nothing
        finally:
            self._building = was
        return False

    def next_study(self) -> int | None:
        """Select the next visible study after the current one (wraps); returns its id."""
        ids = self.visible_study_ids()
        if not ids:
            return None
        cur = self.current_study_id()
        nxt = ids[(ids.index(cur) + 1) % len(ids)] if cur in ids else ids[0]
        self.select_study(nxt)
        return nxt

    def _current_changed(self, current, _previous) -> None:
        if current is not None and not self._building:
            self.study_selected.emit(current.data(Qt.ItemDataRole.UserRole))
