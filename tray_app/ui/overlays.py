"""How findings are painted on the radiograph: boxes, their pens, and captions kept readable.

The canvas (`canvas.py`) owns the view and the mouse; this module only decides what a finding
looks like: colour by confidence band (or by label), pen weight by band, dashed when weak and
still proposed, dotted when rejected, a caption chip drawn at screen size, and chips nudged apart
so none covers another at the current zoom.
"""

from __future__ import annotations

from typing import Callable, Iterable

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem

from . import theme
from .present import OverlaySettings, tooth_text

PEN_WIDTH = {"strong": 2.4, "medium": 1.8, "low": 1.4}
SELECTED_PEN_WIDTH = 3.2


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


def finding_colour(f: dict, settings: OverlaySettings) -> QColor:
    if settings.color_mode == "label":
        return QColor(settings.style(f["label"]).color)
    if f["label"] == "tooth":
        return QColor("#9aa3ad")
    return QColor(theme.band(f["confidence"])[1])


def caption(f: dict, settings: OverlaySettings) -> str:
    parts = [settings.display(f["label"])]
    tooth = tooth_text(f)
    if tooth != "—":
        parts.append(tooth + (f" {f['surfaces']}" if f.get("surfaces") else ""))
    if f["status"] in ("added",):
        parts.append("added")
    else:
        parts.append(f"{f['confidence']:.0%}")
    mark = {"accepted": " ✓", "edited": " ✓", "rejected": " ✗"}.get(f["status"], "")
    return " · ".join(parts) + mark


def style_box(box: FindingBox, colour: QColor, selected: bool, opacity: float) -> None:
    """Pen by confidence band and status; the selected box is thicker, lit and fully opaque."""
    f = box.finding
    band_name = theme.band(f["confidence"])[0]
    pen = QPen(colour)
    pen.setCosmetic(True)
    pen.setWidthF(SELECTED_PEN_WIDTH if selected else PEN_WIDTH[band_name])
    if f["status"] == "rejected":
        pen.setColor(QColor(theme.STATUS_COLORS["rejected"]))
        pen.setStyle(Qt.PenStyle.DotLine)
    elif band_name == "low" and f["status"] == "proposed":
        pen.setStyle(Qt.PenStyle.DashLine)
    box.setPen(pen)
    box.setBrush(QBrush(QColor(255, 255, 255, 28)) if selected else QBrush(Qt.BrushStyle.NoBrush))
    box.setOpacity(1.0 if selected else opacity)


def make_chip(box: FindingBox, text: str, colour: QColor, font: QFont, selected: bool, opacity: float) -> LabelChip:
    chip = LabelChip(text, colour, font)
    chip.setPos(box.rect().topLeft())
    chip.setOpacity(1.0 if selected else max(0.35, opacity))
    chip.setZValue(30 if selected else 20)
    return chip


def layout_chips(boxes: Iterable[FindingBox], selected_id: int | None,
                 map_from_scene: Callable[[QPointF], QPoint]) -> None:
    """Nudge captions apart so none covers another (in screen space, at the current zoom):
    the selected finding's first, then by confidence."""
    placed: list[QRectF] = []
    chips = [b.chip for b in sorted(boxes, key=lambda b: (b.finding_id != selected_id, -b.finding["confidence"]))
             if b.chip is not None]
    vp_top = 0.0
    for chip in chips:
        anchor = map_from_scene(chip.pos())
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
