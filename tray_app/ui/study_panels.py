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

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QSplitter, QWidget

from . import theme

PANEL_MODULES: tuple[str, ...] = ("analysis_panel", "chart_panel", "quality_panel", "priors_panel")  # call register()


class StudyPanel(QWidget):
    loader: "BackgroundLoader | None" = None   # a panel that loads off the GUI thread sets it

    def wait(self, msecs: int = 10_000) -> bool:
        """Until what the panel asked for off the GUI thread has loaded (tests, screenshots)."""
        return self.loader.wait(msecs) if self.loader is not None else True

    def show_study(self, study: dict) -> None:
        """The study opened or changed (the same study again after a review action)."""

    def show_image(self, image_id: int) -> None:
        """The image on show changed."""


class _Signals(QObject):
    loaded = Signal(object, object)  # key (study or image id), result


class _Load(QRunnable):
    def __init__(self, load: Callable[[object], object], key, signals: _Signals):
        super().__init__()
        self.load, self.key, self.signals = load, key, signals

    def run(self) -> None:
        result = self.load(self.key)  # `load` handles its own errors: it knows what may be said or logged
        try:
            self.signals.loaded.emit(self.key, result)
        except RuntimeError:  # the window closed meanwhile
            pass


class BackgroundLoader:
    """What a panel shows, loaded on one thread of the panel's own that never expires (so one
    database connection), delivered to `loaded(key, result)` on the GUI thread."""

    def __init__(self, owner: QWidget, load: Callable[[object], object], loaded: Callable[[object, object], None]):
        self.load = load
        self.pool = QThreadPool(owner)
        self.pool.setMaxThreadCount(1)
        self.pool.setExpiryTimeout(-1)
        self.signals = _Signals(owner)
        self.signals.loaded.connect(loaded)

    def request(self, key) -> None:
        self.pool.start(_Load(self.load, key, self.signals))

    def wait(self, msecs: int = 10_000) -> bool:
        return self.pool.waitForDone(msecs)


Factory = Callable[[object, theme.Scale], StudyPanel]
_FACTORIES: list[Factory] = []


def register(factory: Factory) -> Factory:
    _FACTORIES.append(factory)
    return factory


def make_panels(api, scale: theme.Scale) -> list[StudyPanel]:
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
