"""The review window's image-quality panel (a study panel, ui/study_panels.py): the retake advice
for the image on show — "Cone cut on the upper left: …" — and the study's missing bitewing, from
the study the window already holds (the queue read model carries each image's advice, locally and
through the hub), so it loads nothing. Hidden when the study has no advice."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout

from . import study_panels, theme
from .present import mount_order


class QualityPanel(study_panels.StudyPanel):
    def __init__(self, api, scale: theme.Scale):
        super().__init__()
        self.setObjectName("qualityPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # paint the amber banner colours
        self.study: dict = {}
        self.image_id: int | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(scale.px(8), scale.px(6), scale.px(8), scale.px(6))
        self.title = QLabel("Retake advice")
        self.title.setStyleSheet(f"color: {theme.BANNER_TEXT}; font-weight: 600; font-size: {scale.body}px;")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setStyleSheet(f"color: {theme.TEXT}; font-size: {scale.small}px;")
        lay.addWidget(self.title)
        lay.addWidget(self.text)
        lay.addStretch(1)
        self.setStyleSheet(f"#qualityPanel {{ background: {theme.BANNER_BG}; border-top: 2px solid {theme.BANNER_BORDER}; }}")
        self.setVisible(False)

    def show_study(self, study: dict) -> None:
        self.study = study
        self._refresh()

    def show_image(self, image_id: int) -> None:
        self.image_id = image_id
        self._refresh()

    def lines(self) -> list[str]:
        """What the panel says: this image's advice, the set's, and which other images have some."""
        images = self.study.get("images", [])
        here = next((im for im in images if im["id"] == self.image_id), None)
        out = [f"⚠ {i['sentence']}" for i in (here or {}).get("quality") or []]
        if self.study.get("quality_set"):
            out.append(f"⚠ {self.study['quality_set']['sentence']}")
        # numbered as the thumbnails are (mount order)
        others = [n + 1 for n, (im, _) in enumerate(mount_order(images)) if im.get("quality") and im is not here]
        if others:
            out.append(f"Also advised for image{'s' if len(others) > 1 else ''} "
                       f"{', '.join(map(str, others))} (marked ⚠ below the image).")
        return out

    def _refresh(self) -> None:
        lines = self.lines()
        self.text.setText("<br>".join(lines))
        self.setVisible(bool(lines))


study_panels.register(QualityPanel)
