"""The radiograph canvas: window/level, zoom, pan, rotate/flip, invert and finding overlays.

Mouse: wheel zooms about the cursor, left-drag pans (or draws a box in draw mode), right-drag
adjusts window (horizontal) and level (vertical), a click on a box selects its finding.
Scene coordinates are image pixels (x right, y down), the same space as finding boxes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen, QPixmap, QTransform
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsPixmapItem, QGraphicsRectItem, QGraphicsScene,
                               QGraphicsSimpleTextItem, QGraphicsView)

from . import theme
from .present import OverlaySettings, tooth_text

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


class LabelChip(QGraphicsItem):
    """A finding's caption, drawn at screen size whatever the zoom (ignores view transforms)."""

    def __init__(self, text: str, colour: QColor, font: QFont, parent=None):
        super().__init__(parent)
        self.text, self.colour, self.font = text, colour, font
        fm = QFontMetricsF(font)
        self.pad = max(2.0, fm.height() * 0.15)
        self.w = fm.horizontalAdvance(text) + 2 * self.pad
        self.h = fm.height() + self.pad
        self.dy = -self.h - 1  # above the box by default
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(20)

    def rect(self) -> QRectF:
        return QRectF(0, self.dy, self.w, self.h)

    def boundingRect(self) -> QRectF:
        return self.rect().adjusted(-1, -1, 1, 1)

    def set_dy(self, dy: float) -> None:
        self.prepareGeometryChange()
        self.dy = dy

    def paint(self, painter: QPainter, option, widget=None) -> None:
        r = self.rect()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(15, 16, 18, 215))
        painter.drawRoundedRect(r, 3, 3)
        painter.setBrush(self.colour)
        painter.drawRect(QRectF(r.left(), r.top(), 3, r.height()))
        painter.setPen(QColor(theme.TEXT))
        painter.setFont(self.font)
        painter.drawText(r.adjusted(self.pad + 2, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         self.text)


class FindingBox(QGraphicsRectItem):
    def __init__(self, finding: dict, rect: QRectF):
        super().__init__(rect)
        self.finding = finding
        self.finding_id = finding["id"]
        self.chip: LabelChip | None = None
        self.setZValue(10)


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
        if self.settings.color_mode == "label":
            return QColor(self.settings.style(f["label"]).color)
        if f["label"] == "tooth":
            return QColor("#9aa3ad")
        return QColor(theme.band(f["confidence"])[1])

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
            band_name = theme.band(f["confidence"])[0]
            selected = fid == self.selected_id
            pen = QPen(colour)
            pen.setCosmetic(True)
            pen.setWidthF(3.2 if selected else {"strong": 2.4, "medium": 1.8, "low": 1.4}[band_name])
            if f["status"] == "rejected":
                pen.setColor(QColor(theme.STATUS_COLORS["rejected"]))
                pen.setStyle(Qt.PenStyle.DotLine)
            elif band_name == "low" and f["status"] == "proposed":
                pen.setStyle(Qt.PenStyle.DashLine)
            box.setPen(pen)
            box.setBrush(QBrush(QColor(255, 255, 255, 28)) if selected else QBrush(Qt.BrushStyle.NoBrush))
            box.setOpacity(1.0 if selected else self.settings.opacity)
            if f["label"] == "tooth" and not selected:
                continue  # anatomy boxes stay uncaptioned: they would bury the pathology captions
            chip = LabelChip(self.caption(f), colour, self.chip_font)
            chip.setPos(box.rect().topLeft())
            chip.setOpacity(1.0 if selected else max(0.35, self.settings.opacity))
            chip.setZValue(30 if selected else 20)
            self.scene().addItem(chip)
            box.chip = chip
        self.layout_chips()

    def caption(self, f: dict) -> str:
        parts = [self.settings.display(f["label"])]
        tooth = tooth_text(f)
        if tooth != "—":
            parts.append(tooth + (f" {f['surfaces']}" if f.get("surfaces") else ""))
        if f["status"] in ("added",):
            parts.append("added")
        else:
            parts.append(f"{f['confidence']:.0%}")
        mark = {"accepted": " ✓", "edited": " ✓", "rejected": " ✗"}.get(f["status"], "")
        return " · ".join(parts) + mark

    def layout_chips(self) -> None:
        """Nudge captions apart so none covers another (in screen space, at the current zoom)."""
        placed: list[QRectF] = []
        chips = [b.chip for b in sorted(self.boxes.values(), key=lambda b: (b.finding_id != self.selected_id,
                                                                                -b.finding["confidence"]))
                 if b.chip is not None]
        vp_top = 0.0
        for chip in chips:
            anchor = self.mapFromScene(chip.pos())
            ax, ay = float(anchor.x()), float(anchor.y())
            dy = -chip.h - 1
            if ay + dy < vp_top:
                dy = 1.0  # no room above: inside the box
            for _ in range(12):
                r = QRectF(ax, ay + dy, chip.w, chip.h)
                hit = next((p for p in placed if p.intersects(r)), None)
                if hit is None:
                    break
                dy = hit.bottom() - ay + 1
            chip.set_dy(dy)
            placed.append(QRectF(ax, ay + dy, chip.w, chip.h))

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
