"""The priors panel under the findings list: what changed since the same patient's earlier image
of this view (clinical/comparison.py, computed at analysis time), and a button that opens the
comparison window (side by side, flicker, blend, difference).

The stored comparison, both images' pixels and the prior turned onto the current image are
loaded on a thread pool of the panel's own, never on the GUI thread; the panel hides for an
image without a prior (and on a review PC whose API has no comparisons).
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QScrollArea, QVBoxLayout

from ..analysis.registration import warp_onto
from ..clinical.change_text import comparison_lines
from . import study_panels, theme
from .widgets import heading_row, panel_layout

log = logging.getLogger(__name__)
SHOWN_LINES = 6   # of the comparison's text before it scrolls: the findings list above keeps its room


def load_comparison(api, image_id: int) -> dict | None:
    """The comparison of one image with the pixels to show it: the current image, the prior
    turned onto it and the mask of where the prior has pixels. Runs on a pool thread."""
    comp = api.comparison(image_id)
    if comp is None:
        return None
    current = np.asarray(api.pixels(image_id), dtype=np.uint8)
    prior = np.asarray(api.pixels(comp["prior_image_id"]), dtype=np.uint8)
    h, w = current.shape[:2]
    m = comp["matrix"] if comp["registered"] else [[w / prior.shape[1], 0, 0], [0, h / prior.shape[0], 0]]
    warped, seen = warp_onto(prior, m, current.shape)
    return {"comparison": comp, "current": current, "prior": warped, "seen": seen}


def _load_or_none(api, image_id: int) -> dict | None:
    try:
        return load_comparison(api, image_id)
    except Exception:   # a missing cache or prior: the panel stays hidden, the review goes on
        log.exception("comparison of image %d could not be loaded", image_id)
        return None


class PriorsPanel(study_panels.StudyPanel):
    def __init__(self, api, scale: theme.Scale):
        super().__init__()
        self.api, self.image_id, self.data, self.window = api, None, None, None
        lay = panel_layout(self, QVBoxLayout, scale, (8, 8, 8, 8), spacing=4)
        row, self.status = heading_row("Since the prior image")
        lay.addLayout(row)
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # a word-wrapped label squeezed by the column clips its first and last lines: it scrolls instead
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.text)
        lay.addWidget(self.scroll)
        self.open_btn = QPushButton("Compare with prior…")
        self.open_btn.clicked.connect(self.open_comparison)
        lay.addWidget(self.open_btn)
        self.loader = study_panels.BackgroundLoader(self, lambda image_id: _load_or_none(api, image_id), self._loaded)
        self.pool = self.loader.pool
        self.hide()

    def show_image(self, image_id: int) -> None:
        self.image_id = image_id
        if not hasattr(self.api, "comparison"):
            return
        self.loader.request(image_id)

    def _loaded(self, image_id: int, result) -> None:
        if image_id != self.image_id:
            return                       # the user moved on to another image meanwhile
        self.data = result
        if result is None:
            self.hide()
            return
        comp = result["comparison"]
        self.status.setText(comp["prior_date"])   # with the view beside it, the heading was clipped in the column
        self.status.setToolTip(f"Prior image: {comp['view']} of {comp['prior_date']}")
        self.text.setText("\n".join(comparison_lines(comp, all_bone=True)))
        self.show()
        self._fit_text()

    def _fit_text(self) -> None:
        width = max(self.scroll.viewport().width(), self.text.minimumSizeHint().width(), 1)
        most = SHOWN_LINES * self.text.fontMetrics().lineSpacing()
        self.scroll.setFixedHeight(min(self.text.heightForWidth(width), most) + 2)

    def resizeEvent(self, event) -> None:   # noqa: N802 (Qt's name): the wrap changes with the width
        super().resizeEvent(event)
        if self.isVisible():
            self._fit_text()

    def open_comparison(self) -> None:
        if not self.data:
            return
        from .comparison_window import ComparisonWindow

        comp = self.data["comparison"]
        self.window = ComparisonWindow(self.data["current"], self.data["prior"], self.data["seen"],
                                       f"Compared with {comp['prior_date']}", comparison_lines(comp),
                                       comp["changes"] if comp["registered"] else [], self)
        self.window.resize(1100, 700)
        self.window.show()


study_panels.register(PriorsPanel)
