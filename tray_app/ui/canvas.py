"""The radiograph canvas: window/level, zoom, pan, rotate/flip, invert and finding overlays
(what a finding's box and caption look like: `overlays.py`).

Mouse: wheel zooms about the cursor, left-drag pans (or draws a box in draw mode), right-drag
adjusts window (horizontal) and level (vertical), a click on a box selects its finding.
Scene coordinates are image pixels (x right, y down), the same space as finding boxes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap, QTransform
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsPixmapItem, QGraphicsRectItem, QGraphicsScene,
                               QGraphicsSimpleTextItem, QGraphicsView)

from . import overlays, theme
from .overlays import FindingBox
from .present import OverlaySettings

# window/level presets on 8-bit display values: name -> (width, level)
PRESETS = {
    "Default": (256, 128),
    "Contrast": (170, 128),
    "Soft": (320, 128),
    "Bright": (220, 100),
    "Dark": (220, 160),
    "Caries": (120, 140),
}


def apply_window(pixels: np.ndarray, width: float, level: float, invert: bool) -> np.ndarray:
    lo = level - width / 2.0
    lut = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / max(width, 1.0)), 0, 255).astype(np.uint8)
    if invert:
        lut = 255 - lut
    return lut[pixels]


def gray_qimage(a: np.ndarray) -> QImage:
    a = np.ascontiguousarray(a, dtype=np.uint8)
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class ImageCanvas(QGraphicsView):
    finding_clicked = Signal(int)          # finding id
    box_drawn = Signal(int, list)          # image id, [x1, y1, x2, y2] in image pixels
    view_changed = Signal()                # window/level, zoom, rotation, ...
    nav_key = Signal(int)                  # Up/Down pressed while the canvas has focus: -1 / +1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor(theme.VIEWER))
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.image_id: int | None = None
        self.pixels: np.ndarray | None = None
        self.pixmap_item: QGraphicsPixmapItem | None = None
        self.message_item: QGraphicsSimpleTextItem | None = None
        self.boxes: dict[int, FindingBox] = {}
        self.findings: list[dict] = []
        self.settings = OverlaySettings()
        self.selected_id: int | None = None
        self.window_width, self.window_level = PRESETS["Default"]
        self.invert = False
        self.rotation = 0
        self.flip_h = False
        self.zoom = 1.0
        self.fit_mode = True
        self.draw_mode = False
        self.chip_font = QFont()
        self._wl_drag: tuple[QPointF, float, float] | None = None
        self._draw_start: QPointF | None = None
        self._draw_item: QGraphicsRectItem | None = None

    # -- content ------------------------------------------------------------------------------
    def show_loading(self, image_id: int, text: str = "Loading image…") -> None:
        self.image_id = image_id
        self.pixels = None
        self._clear()
        self._message(text)

    def show_message(self, text: str) -> None:
        self.image_id = None
        self.pixels = None
        self._clear()
        self._message(text)

    def _message(self, text: str) -> None:
        item = QGraphicsSimpleTextItem(text)
        item.setBrush(QColor(theme.MUTED))
        f = QFont(self.chip_font)
        f.setPixelSize(max(14, self.chip_font.pixelSize() + 2))
        item.setFont(f)
        item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.scene().addItem(item)
        self.message_item = item
        self.resetTransform()
        self.centerOn(item)

    def _clear(self) -> None:
        self.scene().clear()
        self.pixmap_item = None
        self.message_item = None
        self.boxes.clear()
        self._draw_item = None

    def set_image(self, image_id: int, pixels: np.ndarray, findings: list[dict]) -> None:
        same = self.image_id == image_id and self.pixmap_item is not None
        self.image_id = image_id
        self.pixels = pixels
        self._clear()
        self.pixmap_item = QGraphicsPixmapItem()
        self.pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.pixmap_item)
        self._render_pixels()
        h, w = pixels.shape
        self.scene().setSceneRect(QRectF(-w * 0.5, -h * 0.5, w * 2, h * 2))
        self.set_findings(findings)
        if not same or self.fit_mode:
            self.fit()

    def _render_pixels(self) -> None:
        if self.pixels is None or self.pixmap_item is None:
            return
        shown = apply_window(self.pixels, self.window_width, self.window_level, self.invert)
        self.pixmap_item.setPixmap(QPixmap.fromImage(gray_qimage(shown)))

    def set_findings(self, findings: list[dict]) -> None:
        self.findings = findings
        for box in self.boxes.values():
            if box.chip is not None:
                self.scene().removeItem(box.chip)
            self.scene().removeItem(box)
        self.boxes.clear()
        if self.pixmap_item is None:
            return
        for f in findings:
            x1, y1, x2, y2 = f["box"]
            box = FindingBox(f, QRectF(x1, y1, x2 - x1, y2 - y1))
            self.scene().addItem(box)
            self.boxes[f["id"]] = box
        self.restyle()

    def finding_colour(self, f: dict) -> QColor:
        return overlays.finding_colour(f, self.settings)

    def restyle(self) -> None:
        """Re-apply visibility, pens and captions after a settings or selection change."""
        for fid, box in self.boxes.items():
            f = box.finding
            visible = self.settings.on_canvas(f) or fid == self.selected_id
            box.setVisible(visible)
            if box.chip is not None:
                self.scene().removeItem(box.chip)
                box.chip = None
            if not visible:
                continue
            colour = self.finding_colour(f)
            selected = fid == self.selected_id
            overlays.style_box(box, colour, selected, self.settings.opacity)
            if f["label"] == "tooth" and not selected:
                continue  # anatomy boxes stay uncaptioned: they would bury the pathology captions
            box.chip = overlays.make_chip(box, overlays.caption(f, self.settings), colour, self.chip_font, selected,
                                          self.settings.opacity)
            self.scene().addItem(box.chip)
        self.layout_chips()

    def layout_chips(self) -> None:
        overlays.layout_chips(self.boxes.values(), self.selected_id, self.mapFromScene)

    def select(self, finding_id: int | None) -> None:
        self.selected_id = finding_id
        self.restyle()
        box = self.boxes.get(finding_id) if finding_id is not None else None
        if box is not None and not self.mapToScene(self.viewport().rect()).boundingRect().contains(box.rect()):
            self.centerOn(box)

    def visible_finding_ids(self) -> list[int]:
        return [fid for fid, b in self.boxes.items() if b.isVisible()]

    # -- view state ------------------------------------------------------------------------------
    def _apply_transform(self) -> None:
        t = QTransform()
        t.scale(self.zoom, self.zoom)
        t.rotate(self.rotation)
        t.scale(-1.0 if self.flip_h else 1.0, 1.0)
        self.setTransform(t)
        self.layout_chips()
        self.view_changed.emit()

    def fit(self) -> None:
        self.fit_mode = True
        if self.pixmap_item is None:
            return
        r = self.pixmap_item.boundingRect()
        w, h = (r.height(), r.width()) if self.rotation % 180 else (r.width(), r.height())
        vp = self.viewport().rect()
        if w <= 0 or h <= 0 or vp.width() < 10:
            return
        self.zoom = min((vp.width() - 16) / w, (vp.height() - 16) / h)
        self._apply_transform()
        self.centerOn(self.pixmap_item)

    def actual_size(self) -> None:
        self.fit_mode = False
        self.zoom = 1.0
        self._apply_transform()

    def zoom_by(self, factor: float) -> None:
        self.fit_mode = False
        self.zoom = max(0.02, min(40.0, self.zoom * factor))
        self._apply_transform()

    def rotate_90(self) -> None:
        self.rotation = (self.rotation + 90) % 360
        self.fit() if self.fit_mode else self._apply_transform()

    def toggle_flip(self) -> None:
        self.flip_h = not self.flip_h
        self._apply_transform()

    def set_invert(self, on: bool) -> None:
        self.invert = on
        self._render_pixels()
        self.view_changed.emit()

    def set_window(self, width: float, level: float) -> None:
        self.window_width = max(2.0, min(512.0, width))
        self.window_level = max(0.0, min(255.0, level))
        self._render_pixels()
        self.view_changed.emit()

    def preset(self, name: str) -> None:
        self.set_window(*PRESETS[name])

    def reset_view(self) -> None:
        self.rotation, self.flip_h, self.invert = 0, False, False
        self.window_width, self.window_level = PRESETS["Default"]
        self._render_pixels()
        self.fit()

    def set_draw_mode(self, on: bool) -> None:
        self.draw_mode = on
        self.setDragMode(QGraphicsView.DragMode.NoDrag if on else QGraphicsView.DragMode.ScrollHandDrag)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.OpenHandCursor)

    # -- events ----------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.fit_mode:
            self.fit()
        else:
            self.layout_chips()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.nav_key.emit(-1 if event.key() == Qt.Key.Key_Up else 1)
            event.accept()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15 ** steps)
        event.accept()

    def _box_at(self, pos) -> FindingBox | None:
        for item in self.items(pos):
            if isinstance(item, FindingBox) and item.isVisible():
                return item
        return None

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            self._wl_drag = (event.position(), self.window_width, self.window_level)
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and self.draw_mode and self.pixmap_item is not None:
            self._draw_start = self.mapToScene(event.position().toPoint())
            pen = QPen(QColor(theme.ACCENT))
            pen.setCosmetic(True)
            pen.setWidthF(2.0)
            pen.setStyle(Qt.PenStyle.DashLine)
            self._draw_item = self.scene().addRect(QRectF(self._draw_start, self._draw_start), pen)
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            box = self._box_at(event.position().toPoint())
            if box is not None:
                self.finding_clicked.emit(box.finding_id)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._wl_drag is not None:
            start, w0, l0 = self._wl_drag
            d = event.position() - start
            self.set_window(w0 + d.x() * 1.0, l0 + d.y() * 0.5)
            event.accept()
            return
        if self._draw_start is not None and self._draw_item is not None:
            p = self.mapToScene(event.position().toPoint())
            self._draw_item.setRect(QRectF(self._draw_start, p).normalized())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.RightButton and self._wl_drag is not None:
            self._wl_drag = None
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and self._draw_start is not None:
            p = self.mapToScene(event.position().toPoint())
            rect = QRectF(self._draw_start, p).normalized()
            self._draw_start = None
            if self._draw_item is not None:
                self.scene().removeItem(self._draw_item)
                self._draw_item = None
            self.finish_draw(rect)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def finish_draw(self, rect: QRectF) -> None:
        if self.pixels is None or self.image_id is None:
            return
        h, w = self.pixels.shape
        rect = rect.intersected(QRectF(0, 0, w, h))
        if rect.width() < 3 or rect.height() < 3:
            return
        self.box_drawn.emit(self.image_id, [round(rect.left(), 1), round(rect.top(), 1),
                                            round(rect.right(), 1), round(rect.bottom(), 1)])
