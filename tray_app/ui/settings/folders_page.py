"""The "Watch folders" tab: the list of watch folders, each edited with the FolderEditor."""

from __future__ import annotations

import copy

from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout

from .. import settings_model as model
from .common import Page
from .folder_editor import FolderEditor


class FoldersPage(Page):
    title = "Watch folders"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.sources = []
        lay = QHBoxLayout(self)
        left = QVBoxLayout()
        self.source_list = QListWidget()
        self.source_list.setMinimumWidth(220)
        self.source_list.currentRowChanged.connect(self._select_source)
        left.addWidget(self.source_list, 1)
        row = QHBoxLayout()
        self.add_source = QPushButton("Add folder")
        self.remove_source = QPushButton("Remove")
        self.add_source.clicked.connect(self._add_source)
        self.remove_source.clicked.connect(self._remove_source)
        row.addWidget(self.add_source)
        row.addWidget(self.remove_source)
        left.addLayout(row)
        lay.addLayout(left, 0)
        self.folder = FolderEditor(self)
        self.folder.changed.connect(self._folder_edited)
        self.no_folder = QLabel("No watch folder yet. Add the folder your imaging software exports to.")
        self.no_folder.setWordWrap(True)
        right = QVBoxLayout()
        right.addWidget(self.no_folder)
        right.addWidget(self.folder)
        right.addStretch(1)
        lay.addLayout(right, 1)

    def load(self, config) -> None:
        self.sources = copy.deepcopy(config.sources)
        self.source_list.clear()
        for s in self.sources:
            self.source_list.addItem(QListWidgetItem(s.path or "(new folder)"))
        if self.sources:
            self.source_list.setCurrentRow(0)
        self._source_widgets()

    def check(self, config) -> list[str]:
        return [] if all(s.path.strip() for s in config.sources) else ["a watch folder has no path: enter one or "
                                                                        "remove it"]

    def save(self, config) -> None:
        config.sources = copy.deepcopy(self.sources)

    def _source_widgets(self) -> None:
        has = bool(self.sources)
        self.folder.setVisible(has)
        self.no_folder.setVisible(not has)
        self.remove_source.setEnabled(has)

    def _select_source(self, row: int) -> None:
        if 0 <= row < len(self.sources):
            self.folder.load(self.sources[row])

    def _folder_edited(self) -> None:
        row = self.source_list.currentRow()
        if 0 <= row < len(self.sources):
            s = self.sources[row]
            self.folder.store(s)
            self.source_list.item(row).setText(s.path or "(new folder)")

    def _add_source(self) -> None:
        self.sources.append(model.new_source())
        self.source_list.addItem(QListWidgetItem("(new folder)"))
        self.source_list.setCurrentRow(len(self.sources) - 1)
        self._source_widgets()
        self.folder.path.setFocus()

    def _remove_source(self) -> None:
        row = self.source_list.currentRow()
        if 0 <= row < len(self.sources):
            del self.sources[row]
            self.source_list.takeItem(row)
            if self.sources:
                self.source_list.setCurrentRow(min(row, len(self.sources) - 1))
        self._source_widgets()
