"""The sidecar review window: queue | header, banner, toolbar, image, thumbnails | findings.

Reads and changes go through the review API (`ReviewAPI`, or a client home's `RemoteReviewAPI` over
its hub, followed by long-poll: hub_follow.py); `changes()` polled every 2 s; an action refused as
stale (another PC changed the study) reloads it; pixels load on a thread pool (`backend.PixelLoader`).
Keys: Up/Down findings, A accept, R reject, E edit, D draw, N next study, Ctrl+Z undo, F fit, I invert.
Parts are widgets of their own (study_header, view_toolbar, canvas, thumb_strip, findings_panel); panels
under the findings list plug in through study_panels.py.
"""

from __future__ import annotations

import getpass
import logging

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from ..analysis.catalog import ModelCatalog
from ..labels import findings_labels
from ..review.api import ReviewError, StaleVersion
from . import theme
from .backend import PixelLoader
from .canvas import ImageCanvas
from .finding_dialog import FindingDialog, changed_values
from .findings_panel import FindingsPanel
from .present import OverlaySettings, all_findings, models_of, mount_order
from .queue_panel import QueuePanel
from .sign_dialog import SignDialog
from .study_panels import make_panels, side_column
from .study_header import Banner, StudyHeader
from .thumb_strip import ThumbStrip
from .view_toolbar import ViewToolbar

log = logging.getLogger(__name__)

READ_ONLY_STATUSES = ("signed", "exported", "export_failed")
POLL_MS = 2000


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
        self.study, self.findings, self.image_id = None, [], None  # dict | None, list[dict], int | None
        self.sign_dialog: SignDialog | None = None
        self._fingerprint: tuple = ()
        self.setWindowTitle("Dental AI Bridge — Review")
        self.setStyleSheet(theme.stylesheet(self.scale))
        font = QFont(self.font())
        font.setPixelSize(self.scale.body)
        self.setFont(font)

        self.pixels = PixelLoader(api.pixels, self)
        self.pixels.loaded.connect(self._on_pixels)
        self.pixels.failed.connect(self._on_pixels_failed)

        self.queue = QueuePanel(self.scale, display=lambda label: self.catalog.style(label).display)
        self.queue.study_selected.connect(self.open_study)
        self.queue.scope_changed.connect(self.reload_queue)
        centre = self._build_centre()
        self.findings_panel = self._build_findings_panel()
        self.panels = make_panels(api, self.scale)
        split = QSplitter(Qt.Orientation.Horizontal)
        for index, (part, stretch) in enumerate(((self.queue, 0), (centre, 1),
                                                 (side_column(self.findings_panel, self.panels), 0))):
            split.addWidget(part)
            split.setStretchFactor(index, stretch)
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

    def _build_centre(self) -> QWidget:
        """Header, banner, toolbar, image and thumbnails, top to bottom."""
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        self.header = StudyHeader(self.scale)
        self.header.sign_btn.clicked.connect(self.open_sign_dialog)
        self.title, self.sign_btn = self.header.title, self.header.sign_btn  # what callers read on the window
        cl.addWidget(self.header)
        self.banner = Banner(self.scale)
        cl.addWidget(self.banner)
        self.canvas = ImageCanvas()
        self.canvas.settings = self.settings
        chip = QFont(self.font())
        chip.setPixelSize(self.scale.small)
        self.canvas.chip_font = chip
        self.canvas.finding_clicked.connect(self._canvas_clicked)
        self.canvas.box_drawn.connect(self.on_box_drawn)
        self.canvas.nav_key.connect(self._nav)
        self.toolbar = ViewToolbar(self.canvas, self.scale)
        cl.addWidget(self.toolbar)
        cl.addWidget(self.canvas, 1)
        self.thumbs = ThumbStrip(self.scale)
        self.thumbs.image_chosen.connect(self._thumb_chosen)
        cl.addWidget(self.thumbs)
        return centre

    def _build_findings_panel(self) -> FindingsPanel:
        panel = FindingsPanel(self.settings, self.scale)
        panel.finding_selected.connect(self._finding_selected)
        panel.accept_requested.connect(self.accept_current)
        panel.reject_requested.connect(self.reject_current)
        panel.edit_requested.connect(self.edit_current)
        panel.draw_toggled.connect(self.canvas.set_draw_mode)
        panel.undo_requested.connect(self.undo)
        panel.controls.changed.connect(self._overlay_changed)
        return panel

    def _shortcuts(self) -> None:
        draw = self.findings_panel.draw_btn
        keys = {"A": self.accept_current, "R": self.reject_current, "E": self.edit_current, "N": self.next_study,
                "D": lambda: draw.toggle(), QKeySequence.StandardKey.Undo: self.undo,
                "F": lambda: self.canvas.fit(), "I": lambda: self.toolbar.invert_btn.toggle(),
                "Escape": lambda: draw.setChecked(False)}
        for seq, slot in keys.items():
            shortcut = QShortcut(QKeySequence(seq), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)

    # -- queue -------------------------------------------------------------------------------------
    def reload_queue(self) -> None:
        self._fingerprint = self._changes()
        try:  # signed/exported studies accumulate for years: read them only when the filter shows them
            self.queue.set_studies(self.api.queue(include_done=self.queue.wants_done()))
        except ReviewError as exc:  # a hub that does not answer
            return self.status.showMessage(str(exc), 8000)
        if self.study is None:
            ids = self.queue.visible_study_ids()
            if ids:
                self.queue.select_study(ids[0])

    def poll(self) -> None:
        """Refresh only when the store changed (new images, findings, reviews, signatures)."""
        fp = self._changes()
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

    def _changes(self):
        try:
            return self.api.changes()
        except ReviewError as exc:  # a hub that does not answer: said here, the next poll tries again
            return self.status.showMessage(str(exc), POLL_MS * 2) or self._fingerprint

    def next_study(self) -> None:
        self.queue.next_study()
    # -- study -------------------------------------------------------------------------------------
    def open_study(self, study_id: int) -> None:
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
        return bool(self.study and (self.study.get("signed") or self.study.get("status") in READ_ONLY_STATUSES))

    def _apply_study(self, study: dict, keep_finding: int | None) -> None:
        first_load = self.study is None or self.study["id"] != study["id"]
        self.study = study
        self.findings = all_findings(study)
        self.header.show_study(study)
        models = models_of(study)
        self.banner.show_state(study, models, [m for m in models if self.catalog.facts(m).demonstration])
        self.status_model.setText(("Model: " + ", ".join(models)) if models else "No model output")
        labels = list(dict.fromkeys([f["label"] for f in self.findings] + [l for m in models
                                                                          for l in self.catalog.facts(m).labels]))
        self.settings.styles = {label: self.catalog.style(label, models) for label in labels}
        self.findings_panel.controls.set_labels(labels)
        ro = self.read_only()
        self.findings_panel.set_read_only(ro)
        self.header.set_signable(not ro, bool(study.get("signed")))
        self.thumbs.fill(study, self.pixels, self.image_id)
        self.findings_panel.set_findings(self.findings, keep=keep_finding)
        for panel in self.panels:
            panel.show_study(study)
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

    def _image_findings(self, image_id: int | None) -> list[dict]:
        return [f for f in self.findings if f["image_id"] == image_id]

    # -- images ------------------------------------------------------------------------------------
    def show_image(self, image_id: int) -> None:
        if image_id == self.image_id and self.canvas.pixmap_item is not None:
            return
        self.image_id = image_id
        self.thumbs.mark_current(image_id)
        cached = self.pixels.cached(image_id)
        if cached is not None:
            self._show_pixels(image_id, cached)
        else:
            self.canvas.show_loading(image_id)
            self.pixels.request(image_id)
        for panel in self.panels:
            panel.show_image(image_id)

    def _show_pixels(self, image_id: int, pixels: np.ndarray) -> None:
        self.canvas.set_image(image_id, pixels, self._image_findings(image_id))
        self.canvas.select(self.findings_panel.current_finding_id())
        self.toolbar.show_view()

    def _on_pixels(self, image_id: int, pixels: np.ndarray) -> None:
        self.thumbs.set_pixels(image_id, pixels)
        if image_id == self.image_id and (self.canvas.pixmap_item is None or self.canvas.image_id != image_id):
            self._show_pixels(image_id, pixels)

    def _on_pixels_failed(self, image_id: int, reason: str) -> None:
        if image_id == self.image_id:
            self.canvas.show_message(f"This image could not be shown: {reason}")

    def _thumb_chosen(self, image_id: int) -> None:
        self.show_image(image_id)
        fid = self.findings_panel.current_finding_id()
        f = next((x for x in self.findings if x["id"] == fid), None)
        if f is None or f["image_id"] != image_id:
            first = next((fid for fid in self.findings_panel.visible_finding_ids()
                          if any(x["id"] == fid and x["image_id"] == image_id for x in self.findings)), None)
            if first is not None:
                self.findings_panel.select_finding(first, emit=False)
                self.canvas.select(first)

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
        if self.study is None:
            return None
        if self.read_only():
            self.status.showMessage("This study is signed and read-only.", 5000)
            return None
        try:
            result = fn(*args, **kw)
        except (ReviewError, ValueError) as exc:
            if isinstance(exc, StaleVersion):  # show the study as it is now; the sentence stays
                self.poll()
            return self.status.showMessage(str(exc), 8000)
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
                                    + findings_labels()))
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
        changes = changed_values(f, values)
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
