"""The sidecar review window: queue | image + banner | findings.

Reads go through `ReviewAPI` (and one cheap fingerprint query, polled every 2 s on the GUI
thread); every change is an API call (one audited transaction). Pixels load on the thread
pool (`backend.PixelLoader`). Keyboard-first: Up/Down move through findings, A accept,
R reject, E edit, D draw a box, N next study, Ctrl+Z undo, F fit, I invert.
"""

from __future__ import annotations

import getpass
import html
import logging

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (QComboBox, QDialog, QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QMainWindow, QPushButton, QSplitter, QToolButton, QVBoxLayout, QWidget)

from ..analysis.catalog import ModelCatalog
from ..store.status import change_fingerprint
from . import theme
from .backend import PixelLoader
from .canvas import PRESETS, ImageCanvas, gray_qimage
from .finding_dialog import FindingDialog
from .findings_panel import FindingsPanel
from .present import OverlaySettings, all_findings, dob, models_of, mount_order, patient_name, when
from .queue_panel import QueuePanel
from .sign_dialog import SignDialog

log = logging.getLogger(__name__)

BANNER_TEXT = "AI-Assisted Preliminary Findings — not a diagnosis"
DEMO_TEXT = "Demonstration model — not for clinical use"
READ_ONLY_STATUSES = ("signed", "exported", "export_failed")
POLL_MS = 2000


def short_view(view: str) -> str:
    return (view.replace("PA maxillary", "Max").replace("PA mandibular", "Mand").replace(" right", " R")
            .replace(" left", " L").replace("premolar", "PM").replace("molar", "M").replace("canine", "C")
            .replace("centrals", "Ant"))


class Banner(QFrame):
    """Permanent AI banner (amber), demonstration warning (orange) or signed notice (green)."""

    def __init__(self, scale: theme.Scale, parent=None):
        super().__init__(parent)
        self.scale = scale
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.main = QLabel()
        self.main.setTextFormat(Qt.TextFormat.RichText)
        self.main.setWordWrap(True)
        self.demo = QLabel()
        self.demo.setTextFormat(Qt.TextFormat.RichText)
        self.demo.setWordWrap(True)
        lay.addWidget(self.main)
        lay.addWidget(self.demo)
        self.demo.hide()
        self.main.hide()

    def _style(self, label: QLabel, bg: str, border: str, fg: str) -> None:
        s = self.scale
        label.setStyleSheet(f"background: {bg}; color: {fg}; border-left: {s.px(5)}px solid {border};"
                            f" padding: {s.px(5)}px {s.px(12)}px; font-size: {s.px(14)}px;")

    def show_state(self, *, models: list[str], demonstration: list[str], signed: dict | None,
                   hidden: str = "", automated: dict | None = None) -> None:
        model_text = ", ".join(models) if models else "no model"
        if hidden and not signed:
            self._style(self.main, theme.PANEL_ALT, theme.MUTED, theme.TEXT)
            self.main.setText(f"<b>{html.escape(hidden[:1].upper() + hidden[1:])}</b> &nbsp;·&nbsp; "
                              f"review the images as usual")
            self.main.show()
            self.demo.hide()
            return
        if signed:
            self._style(self.main, theme.SIGNED_BG, theme.SIGNED_BORDER, theme.SIGNED_TEXT)
            self.main.setText(f"<b>Signed by {html.escape(signed.get('by', ''))} · "
                              f"{html.escape(when(signed.get('at', '')))}</b> &nbsp;·&nbsp; read-only"
                              f" &nbsp;·&nbsp; AI-assisted ({html.escape(model_text)})")
            self.main.setToolTip("This study is signed; its report is frozen and can no longer be changed.")
        else:
            self._style(self.main, theme.BANNER_BG, theme.BANNER_BORDER, theme.BANNER_TEXT)
            self.main.setText(f"<b>{BANNER_TEXT}</b> &nbsp;·&nbsp; Model {html.escape(model_text)}")
            self.main.setToolTip("Findings are proposals from an AI model. A dentist reviews them and signs "
                                 "before anything is written to the chart or sent to the practice management system.")
            if (automated or {}).get("sent"):
                self.main.setText(self.main.text() + f"<br><b>Low-risk findings were sent to the chart unverified "
                                  f"({html.escape(when(automated.get('at', '')))})</b> &nbsp;·&nbsp; your signature "
                                  f"verifies what you accept; the rest is sent as not confirmed")
                self.main.setToolTip("Targeted automation: confident findings of the practice's low-risk labels went "
                                     "to the chart marked \"AI-generated, not yet verified\". Review and sign as "
                                     "usual; the signed note lists what you did not confirm.")
        self.main.show()
        if demonstration:
            self._style(self.demo, theme.DEMO_BG, theme.DEMO_BORDER, theme.DEMO_TEXT)
            self.demo.setText(f"<b>⚠ {DEMO_TEXT}</b> &nbsp;·&nbsp; trained on synthetic images only")
            self.demo.setToolTip(f"{', '.join(demonstration)} is a demonstration model: its boxes say nothing "
                                 f"about this patient. Install the practice's licensed model for clinical use.")
            self.demo.show()
        else:
            self.demo.hide()

    def clear(self) -> None:
        self.main.hide()
        self.demo.hide()

    def text(self) -> str:
        parts = [self.main.text()] if not self.main.isHidden() else []
        if not self.demo.isHidden():
            parts.append(self.demo.text())
        return " ".join(parts)


class ReviewWindow(QMainWindow):
    study_loaded = Signal(int)

    def __init__(self, api, db, *, model_dirs=None, scale: theme.Scale | None = None, actor: str | None = None,
                 poll_ms: int = POLL_MS, parent=None):
        super().__init__(parent)
        self.api, self.db = api, db
        # one source of label names, colours and floors for the window and the exports: the API's
        self.catalog = ModelCatalog(model_dirs) if model_dirs is not None else api.catalog
        self.scale = scale or theme.Scale(1.0)
        self.actor = actor if actor is not None else _os_user()
        self.settings = OverlaySettings()
        self.study: dict | None = None
        self.findings: list[dict] = []
        self.image_id: int | None = None
        self.sign_dialog: SignDialog | None = None
        self._fingerprint: tuple = ()
        self.setWindowTitle("Dental AI Bridge — Review")
        self.setStyleSheet(theme.stylesheet(self.scale))
        font = QFont(self.font())
        font.setPixelSize(self.scale.body)
        self.setFont(font)

        self.pixels = PixelLoader(db, self)
        self.pixels.loaded.connect(self._on_pixels)
        self.pixels.failed.connect(self._on_pixels_failed)

        # -- left: queue
        self.queue = QueuePanel(self.scale, display=lambda label: self.catalog.style(label).display)
        self.queue.study_selected.connect(self.open_study)
        self.queue.scope_changed.connect(self.reload_queue)
        # -- centre: header, banner, tools, canvas, thumbnails
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        header = QWidget()
        header.setObjectName("panel")
        header.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        hl = QHBoxLayout(header)
        hl.setContentsMargins(self.scale.px(12), self.scale.px(6), self.scale.px(8), self.scale.px(6))
        self.title = QLabel("Select a study")
        self.title.setObjectName("heading")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("muted")
        self.subtitle.setTextFormat(Qt.TextFormat.RichText)
        tl = QVBoxLayout()
        tl.setSpacing(0)
        tl.addWidget(self.title)
        tl.addWidget(self.subtitle)
        hl.addLayout(tl, 1)
        self.sign_btn = QPushButton("Sign off…")
        self.sign_btn.setObjectName("primary")
        self.sign_btn.setToolTip("Review what will be written and sign with your PIN")
        self.sign_btn.clicked.connect(self.open_sign_dialog)
        self.sign_btn.setEnabled(False)
        hl.addWidget(self.sign_btn, 0, Qt.AlignmentFlag.AlignVCenter)
        cl.addWidget(header)
        self.banner = Banner(self.scale)
        cl.addWidget(self.banner)
        cl.addWidget(self._toolbar())
        self.canvas = ImageCanvas()
        self.canvas.settings = self.settings
        chip = QFont(self.font())
        chip.setPixelSize(self.scale.small)
        self.canvas.chip_font = chip
        self.canvas.finding_clicked.connect(self._canvas_clicked)
        self.canvas.box_drawn.connect(self.on_box_drawn)
        self.canvas.nav_key.connect(self._nav)
        self.canvas.view_changed.connect(self._update_wl_label)
        cl.addWidget(self.canvas, 1)
        self.thumbs = QListWidget()
        self.thumbs.setViewMode(QListWidget.ViewMode.IconMode)
        self.thumbs.setFlow(QListWidget.Flow.LeftToRight)
        self.thumbs.setWrapping(False)
        self.thumbs.setMovement(QListWidget.Movement.Static)
        self.thumbs.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.thumbs.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        th = self.scale.px(72)
        self.thumbs.setIconSize(QSize(round(th * 1.3), th))
        self.thumbs.setFixedHeight(th + self.scale.px(44))
        self.thumbs.setSpacing(self.scale.px(3))
        self.thumbs.setStyleSheet(f"QListWidget {{ background: {theme.PANEL}; border-top: 1px solid {theme.BORDER}; }}"
                                  f" QListWidget::item {{ color: {theme.MUTED}; }}"
                                  f" QListWidget::item:selected {{ background: {theme.ACCENT_DIM}; color: {theme.TEXT};"
                                  f" border: none; }}")
        self.thumbs.currentItemChanged.connect(self._thumb_changed)
        cl.addWidget(self.thumbs)
        # -- right: findings
        self.findings_panel = FindingsPanel(self.settings, self.scale)
        self.findings_panel.finding_selected.connect(self._finding_selected)
        self.findings_panel.accept_requested.connect(self.accept_current)
        self.findings_panel.reject_requested.connect(self.reject_current)
        self.findings_panel.edit_requested.connect(self.edit_current)
        self.findings_panel.draw_toggled.connect(self.canvas.set_draw_mode)
        self.findings_panel.undo_requested.connect(self.undo)
        self.findings_panel.controls.changed.connect(self._overlay_changed)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.queue)
        split.addWidget(centre)
        split.addWidget(self.findings_panel)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setStretchFactor(2, 0)
        split.setChildrenCollapsible(False)
        self.splitter = split
        self.setCentralWidget(split)
        self.status = self.statusBar()
        self.status_model = QLabel("")
        self.status.addPermanentWidget(self.status_model)
        self._shortcuts()

        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)
        self.reload_queue()
        if poll_ms > 0:
            self.timer.start()

    def _toolbar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("panel")
        bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        lay = QHBoxLayout(bar)
        lay.setContentsMargins(self.scale.px(8), self.scale.px(4), self.scale.px(8), self.scale.px(4))
        lay.setSpacing(self.scale.px(4))

        def tool(text, tip, slot, checkable=False):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setCheckable(checkable)
            (b.toggled if checkable else b.clicked).connect(slot)
            lay.addWidget(b)
            return b

        tool("Fit", "Fit the image to the window (F)", lambda: self.canvas.fit())
        tool("1:1", "One image pixel per screen pixel", lambda: self.canvas.actual_size())
        tool("−", "Zoom out (mouse wheel)", lambda: self.canvas.zoom_by(1 / 1.25))
        tool("+", "Zoom in (mouse wheel)", lambda: self.canvas.zoom_by(1.25))
        lay.addSpacing(self.scale.px(8))
        tool("⟳ 90°", "Rotate 90° clockwise", lambda: self.canvas.rotate_90())
        tool("Flip", "Flip left–right", lambda: self.canvas.toggle_flip())
        self.invert_btn = tool("Invert", "Invert grey levels (I)", lambda on: self.canvas.set_invert(on), True)
        lay.addSpacing(self.scale.px(8))
        self.preset_combo = QComboBox()
        self.preset_combo.addItems(list(PRESETS))
        self.preset_combo.setToolTip("Window/level preset; right-drag on the image to adjust")
        self.preset_combo.textActivated.connect(lambda name: self.canvas.preset(name))
        lay.addWidget(self.preset_combo)
        tool("Reset", "Reset window/level, rotation, flip and zoom", self._reset_view)
        lay.addStretch(1)
        self.wl_label = QLabel("")
        self.wl_label.setObjectName("muted")
        lay.addWidget(self.wl_label)
        return bar

    def _shortcuts(self) -> None:
        def key(seq, slot):
            s = QShortcut(QKeySequence(seq), self)
            s.setContext(Qt.ShortcutContext.WindowShortcut)
            s.activated.connect(slot)
            return s

        key("A", self.accept_current)
        key("R", self.reject_current)
        key("E", self.edit_current)
        key("N", self.next_study)
        key("D", lambda: self.findings_panel.draw_btn.toggle())
        key(QKeySequence.StandardKey.Undo, self.undo)
        key("F", lambda: self.canvas.fit())
        key("I", lambda: self.invert_btn.toggle())
        key("Escape", lambda: self.findings_panel.draw_btn.setChecked(False))

    # -- queue -------------------------------------------------------------------------------------
    def reload_queue(self) -> None:
        self._fingerprint = change_fingerprint(self.db)
        # signed/exported studies accumulate for years: read them only when the filter shows them
        studies = self.api.queue(include_done=self.queue.wants_done())
        self.queue.set_studies(studies)
        if self.study is None:
            ids = self.queue.visible_study_ids()
            if ids:
                self.queue.select_study(ids[0])

    def poll(self) -> None:
        """Refresh only when the store changed (new images, findings, reviews, signatures)."""
        fp = change_fingerprint(self.db)
        if not fp or fp == self._fingerprint:
            return
        self.reload_queue()
        if self.study is not None:
            try:
                fresh = self.api.study(self.study["id"])
            except Exception:
                return
            if fresh != self.study:
                self._apply_study(fresh, keep_finding=self.findings_panel.current_finding_id())

    def next_study(self) -> None:
        self.queue.next_study()

    # -- study -------------------------------------------------------------------------------------
    def open_study(self, study_id: int) -> None:
        from ..review.api import ReviewError

        self.findings_panel.draw_btn.setChecked(False)
        try:
            study = self.api.study(study_id)
        except ReviewError as exc:
            self.status.showMessage(str(exc), 8000)
            return
        self.image_id = None
        self._apply_study(study, keep_finding=None)
        self.queue.select_study(study_id, emit=False)
        self.findings_panel.table.setFocus(Qt.FocusReason.OtherFocusReason)
        self.study_loaded.emit(study_id)

    def read_only(self) -> bool:
        s = self.study
        return bool(s and (s.get("signed") or s.get("status") in READ_ONLY_STATUSES))

    def _apply_study(self, study: dict, keep_finding: int | None) -> None:
        first_load = self.study is None or self.study["id"] != study["id"]
        self.study = study
        self.findings = all_findings(study)
        p = study["patient"]
        urgent = study.get("urgent") or "urgent" in study.get("tags", [])
        mark = (f" <span style='background:{theme.URGENT}; color:white; font-size:{self.scale.small}px;'>"
                f"&nbsp;URGENT&nbsp;</span>") if urgent else ""
        self.title.setText(f"{html.escape(patient_name(p.get('name', '')))}{mark}")
        set_text = (study.get("set") or {}).get("text") or study.get("description") or ""
        self.subtitle.setText(" · ".join(html.escape(x) for x in (
            f"Chart {p.get('id') or '—'}", f"DOB {dob(p.get('birth_date', ''))}", set_text,
            theme.STATUS_TEXT.get(study.get("status", ""), study.get("status", ""))) if x))
        models = models_of(study)
        demo = [m for m in models if self.catalog.facts(m).demonstration]
        self.banner.show_state(models=models, demonstration=demo, signed=study.get("signed"),
                               hidden=study.get("findings_hidden", ""), automated=study.get("automated"))
        self.status_model.setText(("Model: " + ", ".join(models)) if models else "No model output")
        labels = list(dict.fromkeys([f["label"] for f in self.findings] + [l for m in models
                                                                          for l in self.catalog.facts(m).labels]))
        self.settings.styles = {label: self.catalog.style(label, models) for label in labels}
        self.findings_panel.controls.set_labels(labels)
        ro = self.read_only()
        self.findings_panel.set_read_only(ro)
        self.sign_btn.setEnabled(not ro)
        self.sign_btn.setText("Signed" if study.get("signed") else "Sign off…")
        self._fill_thumbs(study)
        self.findings_panel.set_findings(self.findings, keep=keep_finding)
        if first_load or self.image_id is None:
            fid = self.findings_panel.current_finding_id()
            f = next((x for x in self.findings if x["id"] == fid), None)
            images = [im for im, _ in mount_order(study.get("images", []))]
            target = f["image_id"] if f else (images[0]["id"] if images else None)
            if target is not None:
                self.show_image(target)
            else:
                self.canvas.show_message("No images in this study")
        else:
            self.canvas.set_findings(self._image_findings(self.image_id))
            self.canvas.select(self.findings_panel.current_finding_id())

    def _fill_thumbs(self, study: dict) -> None:
        self.thumbs.blockSignals(True)
        self.thumbs.clear()
        for index, (im, view) in enumerate(mount_order(study.get("images", []))):
            n = sum(1 for f in im.get("findings", []) if f["label"] != "tooth" and f["status"] != "rejected")
            item = QListWidgetItem(f"{index + 1} {short_view(view)}{f' · {n}' if n else ''}")
            item.setData(Qt.ItemDataRole.UserRole, im["id"])
            item.setToolTip(f"{view} — {n} finding{'s' if n != 1 else ''}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            pixels = self.pixels.cached(im["id"])
            if pixels is not None:
                item.setIcon(self._thumb_icon(pixels))
            else:
                placeholder = QPixmap(self.thumbs.iconSize())
                placeholder.fill(QColor(theme.VIEWER))
                item.setIcon(QIcon(placeholder))
                self.pixels.request(im["id"])
            self.thumbs.addItem(item)
            if im["id"] == self.image_id:
                self.thumbs.setCurrentItem(item)
        self.thumbs.blockSignals(False)

    def _thumb_icon(self, pixels: np.ndarray) -> QIcon:
        size = self.thumbs.iconSize()
        step = max(1, int(max(pixels.shape[0] / size.height(), pixels.shape[1] / size.width())))
        small = pixels[::step, ::step]
        return QIcon(QPixmap.fromImage(gray_qimage(small)).scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                                                  Qt.TransformationMode.SmoothTransformation))

    def _image_findings(self, image_id: int | None) -> list[dict]:
        return [f for f in self.findings if f["image_id"] == image_id]

    # -- images ------------------------------------------------------------------------------------
    def show_image(self, image_id: int) -> None:
        if image_id == self.image_id and self.canvas.pixmap_item is not None:
            return
        self.image_id = image_id
        for i in range(self.thumbs.count()):
            item = self.thumbs.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == image_id:
                self.thumbs.blockSignals(True)
                self.thumbs.setCurrentItem(item)
                self.thumbs.blockSignals(False)
        cached = self.pixels.cached(image_id)
        if cached is not None:
            self._show_pixels(image_id, cached)
        else:
            self.canvas.show_loading(image_id)
            self.pixels.request(image_id)

    def _show_pixels(self, image_id: int, pixels: np.ndarray) -> None:
        self.canvas.set_image(image_id, pixels, self._image_findings(image_id))
        self.canvas.select(self.findings_panel.current_finding_id())
        self._update_wl_label()

    def _on_pixels(self, image_id: int, pixels: np.ndarray) -> None:
        for i in range(self.thumbs.count()):
            item = self.thumbs.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == image_id:
                item.setIcon(self._thumb_icon(pixels))
        if image_id == self.image_id and (self.canvas.pixmap_item is None or self.canvas.image_id != image_id):
            self._show_pixels(image_id, pixels)

    def _on_pixels_failed(self, image_id: int, reason: str) -> None:
        if image_id == self.image_id:
            self.canvas.show_message(f"This image could not be shown: {reason}")

    def _thumb_changed(self, current, _previous) -> None:
        if current is None:
            return
        image_id = current.data(Qt.ItemDataRole.UserRole)
        self.show_image(image_id)
        fid = self.findings_panel.current_finding_id()
        f = next((x for x in self.findings if x["id"] == fid), None)
        if f is None or f["image_id"] != image_id:
            first = next((fid for fid in self.findings_panel.visible_finding_ids()
                          if any(x["id"] == fid and x["image_id"] == image_id for x in self.findings)), None)
            if first is not None:
                self.findings_panel.select_finding(first, emit=False)
                self.canvas.select(first)

    def _reset_view(self) -> None:
        self.invert_btn.setChecked(False)
        self.preset_combo.setCurrentText("Default")
        self.canvas.reset_view()

    def _update_wl_label(self) -> None:
        c = self.canvas
        self.wl_label.setText(f"W {c.window_width:.0f}  L {c.window_level:.0f}  ·  {c.zoom * 100:.0f}%"
                              + (f"  ·  {c.rotation}°" if c.rotation else "") + ("  ·  flipped" if c.flip_h else ""))

    # -- findings ----------------------------------------------------------------------------------
    def _finding_selected(self, finding_id: int) -> None:
        f = next((x for x in self.findings if x["id"] == finding_id), None)
        if f is None:
            self.canvas.select(None)
            return
        if f["image_id"] != self.image_id:
            self.show_image(f["image_id"])
        self.canvas.select(finding_id)

    def _canvas_clicked(self, finding_id: int) -> None:
        self.findings_panel.select_finding(finding_id)

    def _nav(self, delta: int) -> None:
        ids = self.findings_panel.visible_finding_ids()
        if not ids:
            return
        cur = self.findings_panel.current_finding_id()
        i = ids.index(cur) if cur in ids else -1
        self.findings_panel.select_finding(ids[max(0, min(len(ids) - 1, i + delta))])

    def _overlay_changed(self) -> None:
        self.findings_panel.refill()
        self.canvas.restyle()

    def _act(self, fn, *args, **kw):
        """Run one API action; a refusal becomes a status-bar sentence, not a crash."""
        from ..review.api import ReviewError

        if self.study is None:
            return None
        if self.read_only():
            self.status.showMessage("This study is signed and read-only.", 5000)
            return None
        try:
            result = fn(*args, **kw)
        except (ReviewError, ValueError) as exc:
            self.status.showMessage(str(exc), 8000)
            return None
        self.refresh_study()
        return result

    def refresh_study(self, keep_finding: int | None = None) -> None:
        if self.study is None:
            return
        keep = keep_finding if keep_finding is not None else self.findings_panel.current_finding_id()
        self._apply_study(self.api.study(self.study["id"]), keep_finding=keep)
        self.reload_queue()

    def accept_current(self) -> None:
        f = self.findings_panel.current_finding()
        if f is None:
            return
        self._act(self.api.accept, f["id"], actor=self.actor)
        self.findings_panel.select_next(f["id"])
        self.status.showMessage(f"Accepted {self.settings.display(f['label']).lower()} — Ctrl+Z to undo", 4000)

    def reject_current(self) -> None:
        f = self.findings_panel.current_finding()
        if f is None:
            return
        self._act(self.api.reject, f["id"], actor=self.actor)
        self.findings_panel.select_next(f["id"])
        self.status.showMessage(f"Rejected {self.settings.display(f['label']).lower()} — Ctrl+Z to undo", 4000)

    def undo(self) -> None:
        if self.study is None:
            return
        done = self._act(self.api.undo, self.study["id"], actor=self.actor)
        if done is False:
            self.status.showMessage("Nothing to undo on this study.", 4000)
        elif done:
            self.status.showMessage("Undone.", 3000)

    def ask_finding_details(self, finding: dict | None, title: str) -> dict | None:
        """The label/tooth/surfaces/note dialog; tests replace this method."""
        labels = list(dict.fromkeys(self.catalog.labels() + [f["label"] for f in self.findings]
                                    + ["caries", "calculus", "periapical_radiolucency", "bone_loss", "restoration"]))
        dlg = FindingDialog(labels, finding, title, self, display=self.settings.display)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        return dlg.values()

    def edit_current(self) -> None:
        f = self.findings_panel.current_finding()
        if f is None or self.read_only():
            return
        values = self.ask_finding_details(f, "Edit finding")
        if values is None:
            return
        changes = {k: v for k, v in values.items() if v not in (None, "") or k in ("surfaces", "note")}
        if changes.get("label") == f["label"]:
            changes.pop("label")
        if changes.get("surfaces", "") == (f.get("surfaces") or ""):
            changes.pop("surfaces", None)
        if changes.get("note", "") == (f.get("note") or ""):
            changes.pop("note", None)
        if changes.get("tooth_fdi") == f.get("tooth_fdi"):
            changes.pop("tooth_fdi", None)
        if changes:
            self._act(self.api.edit, f["id"], actor=self.actor, **changes)

    def on_box_drawn(self, image_id: int, box: list) -> None:
        if self.read_only():
            return
        values = self.ask_finding_details(None, "Add finding")
        self.findings_panel.draw_btn.setChecked(False)
        if values is None:
            return
        fid = self._act(self.api.add, image_id, values["label"], box, tooth_fdi=values.get("tooth_fdi"),
                        surfaces=values.get("surfaces", ""), note=values.get("note", ""), actor=self.actor)
        if fid:
            self.findings_panel.select_finding(fid)
            self.status.showMessage(f"Added {self.settings.display(values['label']).lower()} — Ctrl+Z to undo", 4000)

    # -- sign-off ----------------------------------------------------------------------------------
    def open_sign_dialog(self) -> SignDialog | None:
        """Opens the (window-modal, non-blocking) sign-off dialog and returns it."""
        if self.study is None or self.read_only():
            return None
        self.sign_dialog = SignDialog(self.api, self.study, self.scale, self, shown=self.settings.passes_filters)
        self.sign_dialog.signed.connect(self._signed)
        self.sign_dialog.open()
        return self.sign_dialog

    def _signed(self, result: dict) -> None:
        self.status.showMessage(f"Signed by {result.get('signed_by', '')}.", 6000)
        self.refresh_study()

    def closeEvent(self, event) -> None:
        self.timer.stop()
        self.pixels.wait(5000)
        super().closeEvent(event)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return ""
