"""Under the findings list while the open study's images are still with the model:
"Analysing 4 of 18 images — findings appear as each one is done". With a big model an FMX
takes minutes; the window stays usable and says how far it is. Hidden when nothing waits."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout

from ..store.images import PENDING_STATES
from . import study_panels, theme


def progress_text(study: dict) -> str:
    """The panel's sentence for a study (empty when every image is through analysis)."""
    images = study.get("images") or []
    waiting = sum(1 for im in images if im.get("state") in PENDING_STATES)
    if not waiting:
        return ""
    done = len(images) - waiting
    return (f"Analysing {done + 1} of {len(images)} images — findings appear as each one is done"
            if len(images) > 1 else "Analysing this image…")


class AnalysisProgressPanel(study_panels.StudyPanel):
    def __init__(self, api, scale: theme.Scale):
        super().__init__()
        self.label = QLabel("")
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(scale.px(8), scale.px(4), scale.px(8), scale.px(4))
        layout.addWidget(self.label)
        self.hide()

    def show_study(self, study: dict) -> None:
        text = progress_text(study)
        self.label.setText(text)
        self.setVisible(bool(text))


study_panels.register(AnalysisProgressPanel)
