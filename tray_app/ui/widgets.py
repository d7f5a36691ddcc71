"""Small widget builders shared by the panels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QWidget

from . import theme


def panel_layout(widget: QWidget, layout_class: type[QBoxLayout], scale: theme.Scale,
                 margins: tuple[int, int, int, int], spacing: int | None = None) -> QBoxLayout:
    """Styles `widget` as a panel (the stylesheet's background only paints with
    WA_StyledBackground) and gives it a box layout with scaled margins and spacing."""
    widget.setObjectName("panel")
    widget.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
    lay = layout_class(widget)
    lay.setContentsMargins(*(scale.px(m) if m else 0 for m in margins))
    if spacing is not None:
        lay.setSpacing(scale.px(spacing))
    return lay


def heading_row(title: str) -> tuple[QHBoxLayout, QLabel]:
    """A panel heading on the left and a muted status label (counts) on the right."""
    row = QHBoxLayout()
    heading = QLabel(title)
    heading.setObjectName("heading")
    row.addWidget(heading)
    row.addStretch(1)
    status = QLabel("")
    status.setObjectName("muted")
    row.addWidget(status)
    return row, status
