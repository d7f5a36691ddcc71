"""Current image against its aligned prior: side by side, flicker, blend and difference.

The prior arrives already turned onto the current image (the stored registration); the
difference view first brings both to the same mean and contrast, as the two exposures differ.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QButtonGroup, QDialog, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout

MODES = ("Side by side", "Flicker", "Blend", "Difference")
CHANGE_COLOURS = {"new": "#f59e0b", "grown": "#ef4444", "gone": "#60a5fa"}


def _normalised(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    vals = a[mask].astype(np.float32)
    return (a.astype(np.float32) - vals.mean()) / (vals.std() + 1e-6)


def compose(mode: str, current: np.ndarray, prior: np.ndarray, seen: np.ndarray, alpha: float = 0.5,
            flick: bool = False) -> np.ndarray:
    """The uint8 picture of one mode (prior already aligned; `seen` marks its valid pixels)."""
    if mode == "Side by side":
        gap = np.full((current.shape[0], 8), 40, np.uint8)
        return np.hstack([prior, gap, current])
    if mode == "Flicker":
        return prior if flick else current
    if mode == "Blend":
        return np.clip((1 - alpha) * prior.astype(np.float32) + alpha * current, 0, 255).astype(np.uint8)
    mask = seen if seen.any() else np.ones_like(seen)
    diff = _normalised(current, mask) - _normalised(prior, mask)
    return np.where(seen, np.clip(128 + 40 * diff, 0, 255), 128).astype(np.uint8)


def to_pixmap(gray: np.ndarray) -> QPixmap:
    gray = np.ascontiguousarray(gray)
    h, w = gray.shape
    return QPixmap.fromImage(QImage(gray.data, w, h, w, QImage.Format.Format_Grayscale8).copy())


class ComparisonWindow(QDialog):
    def __init__(self, current: np.ndarray, prior: np.ndarray, seen: np.ndarray, title: str, lines: list[str],
                 changes: list[dict], parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.current, self.prior, self.seen, self.changes = current, prior, seen, changes
        self.mode, self.flick = MODES[0], False
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.group = QButtonGroup(self)
        for i, name in enumerate(MODES):
            b = QPushButton(name)
            b.setCheckable(True)
            b.setChecked(i == 0)
            self.group.addButton(b, i)
            bar.addWidget(b)
        self.group.idClicked.connect(self.set_mode)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setValue(50)
        self.slider.setToolTip("Prior ← → current")
        self.slider.valueChanged.connect(lambda _: self.redraw())
        bar.addWidget(self.slider, 1)
        lay.addLayout(bar)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(480, 320)
        lay.addWidget(self.picture, 1)
        self.caption = QLabel("\n".join(lines))
        self.caption.setWordWrap(True)
        lay.addWidget(self.caption)
        self.timer = QTimer(self)
        self.timer.setInterval(600)
        self.timer.timeout.connect(self._toggle)
        self.redraw()

    def set_mode(self, index: int) -> None:
        self.mode = MODES[index]
        self.timer.start() if self.mode == "Flicker" else self.timer.stop()
        self.redraw()

    def _toggle(self) -> None:
        self.flick = not self.flick
        self.redraw()

    def _marked(self, gray: np.ndarray) -> QPixmap:
        """The picture with the changed findings' boxes (on the current half in side by side)."""
        pix = to_pixmap(gray)
        dx = self.current.shape[1] + 8 if self.mode == "Side by side" else 0
        painter = QPainter(pix)
        for c in self.changes:
            pen = QPen(QColor(CHANGE_COLOURS.get(c["change"], "#ffffff")))
            pen.setWidth(max(2, gray.shape[1] // 300))
            painter.setPen(pen)
            x1, y1, x2, y2 = c["box"]
            painter.drawRect(int(x1 + dx), int(y1), int(x2 - x1), int(y2 - y1))
        painter.end()
        return pix

    def redraw(self) -> None:
        gray = compose(self.mode, self.current, self.prior, self.seen, self.slider.value() / 100, self.flick)
        pix = self._marked(gray)
        size = self.picture.size()
        self.picture.setPixmap(pix.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(event)
        self.redraw()
