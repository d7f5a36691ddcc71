"""The thumbnail strip under the image: one entry per image in mount order, numbered, with its
view and finding count; an image's thumbnail appears once its pixels have loaded."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from . import theme
from .backend import PixelLoader
from .canvas import gray_qimage
from .present import mount_order


def short_view(view: str) -> str:
    return (view.replace("PA maxillary", "Max").replace("PA mandibular", "Mand").replace(" right", " R")
            .replace(" left", " L").replace("premolar", "PM").replace("molar", "M").replace("canine", "C")
            .replace("centrals", "Ant"))


class ThumbStrip(QListWidget):
    image_chosen = Signal(int)  # image id, when the reader picks a thumbnail (not when set by code)

    def __init__(self, scale: theme.Scale, parent=None):
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListWidget.Movement.Static)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        th = scale.px(72)
        self.setIconSize(QSize(round(th * 1.3), th))
        self.setFixedHeight(th + scale.px(44))
        self.setSpacing(scale.px(3))
        self.setStyleSheet(f"QListWidget {{ background: {theme.PANEL}; border-top: 1px solid {theme.BORDER}; }}"
                           f" QListWidget::item {{ color: {theme.MUTED}; }}"
                           f" QListWidget::item:selected {{ background: {theme.ACCENT_DIM}; color: {theme.TEXT};"
                           f" border: none; }}")
        self.currentItemChanged.connect(self._current_changed)

    def _current_changed(self, current, _previous) -> None:
        if current is not None:
            self.image_chosen.emit(current.data(Qt.ItemDataRole.UserRole))

    def fill(self, study: dict, pixels: PixelLoader, current_image: int | None) -> None:
        """The study's images; thumbnails not loaded yet are asked of `pixels` (placeholder until then)."""
        self.blockSignals(True)
        self.clear()
        for index, (im, view) in enumerate(mount_order(study.get("images", []))):
            n = sum(1 for f in im.get("findings", []) if f["label"] != "tooth" and f["status"] != "rejected")
            retake = [i["sentence"] for i in im.get("quality") or []]  # image-quality advice: marked ⚠
            item = QListWidgetItem(f"{index + 1} {short_view(view)}{f' · {n}' if n else ''}{' ⚠' if retake else ''}")
            item.setData(Qt.ItemDataRole.UserRole, im["id"])
            item.setToolTip("\n".join([f"{view} — {n} finding{'s' if n != 1 else ''}", *retake]))
            if retake:
                item.setForeground(QColor(theme.BANNER_BORDER))
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            cached = pixels.cached(im["id"])
            if cached is not None:
                item.setIcon(self._icon(cached))
            else:
                placeholder = QPixmap(self.iconSize())
                placeholder.fill(QColor(theme.VIEWER))
                item.setIcon(QIcon(placeholder))
                pixels.request(im["id"])
            self.addItem(item)
            if im["id"] == current_image:
                self.setCurrentItem(item)
        self.blockSignals(False)

    def _icon(self, pixels: np.ndarray) -> QIcon:
        size = self.iconSize()
        step = max(1, int(max(pixels.shape[0] / size.height(), pixels.shape[1] / size.width())))
        small = pixels[::step, ::step]
        return QIcon(QPixmap.fromImage(gray_qimage(small)).scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                                                  Qt.TransformationMode.SmoothTransformation))

    def _items_of(self, image_id: int) -> list[QListWidgetItem]:
        return [self.item(i) for i in range(self.count()) if self.item(i).data(Qt.ItemDataRole.UserRole) == image_id]

    def set_pixels(self, image_id: int, pixels: np.ndarray) -> None:
        for item in self._items_of(image_id):
            item.setIcon(self._icon(pixels))

    def mark_current(self, image_id: int) -> None:
        """Highlight the image shown, without announcing it as the reader's choice."""
        for item in self._items_of(image_id):
            self.blockSignals(True)
            self.setCurrentItem(item)
            self.blockSignals(False)
