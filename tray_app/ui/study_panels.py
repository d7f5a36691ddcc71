"""Panels beside the findings list that say more about the open study: chart context, priors,
image quality, …

A panel is a module named in `PANEL_MODULES` that registers a factory `(api, scale) -> StudyPanel`
with `register()`. The review window stacks the panels under the findings list and hands each the
study when it opens or changes, and the image on show. A panel loads what it needs off the GUI
thread (the open must not wait for the practice system) and hides itself when it has nothing to
show.
"""

from __future__ import annotations

import importlib
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QWidget

from . import theme

PANEL_MODULES: tuple[str, ...] = ("analysis_panel", "chart_panel", "quality_panel", "priors_panel")  # call register()


class StudyPanel(QWidget):
    def show_study(self, study: dict) -> None:
        """The study opened or changed (the same study again after a review action)."""

    def show_image(self, image_id: int) -> None:
        """The image on show changed."""


Factory = Callable[[object, theme.Scale], StudyPanel]
_FACTORIES: list[Factory] = []


def register(factory: Factory) -> Factory:
    _FACTORIES.append(factory)
    return factory


def make_panels(api, scale: theme.Scale) -> list[StudyPanel]:
    for name in PANEL_MODULES:
        importlib.import_module(f"{__package__}.{name}")
    return [factory(api, scale) for factory in _FACTORIES]


def side_column(findings: QWidget, panels: list[StudyPanel]) -> QWidget:
    """The findings list, with the panels under it (each resizable)."""
    if not panels:
        return findings
    column = QSplitter(Qt.Orientation.Vertical)
    for index, widget in enumerate([findings, *panels]):
        column.addWidget(widget)
        column.setStretchFactor(index, 1 if index == 0 else 0)
    column.setChildrenCollapsible(False)
    return column


# registered as this module loads, so the list of factories is complete before any window is built
for _name in PANEL_MODULES:
    importlib.import_module(f"{__package__}.{_name}")
