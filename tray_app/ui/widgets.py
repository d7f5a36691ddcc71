"""Small widget builders shared by the panels."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel


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
