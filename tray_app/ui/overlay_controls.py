"""The "Display" controls above the findings: minimum confidence (one for all, or each label's
own floor from the model), overlay opacity, anatomy and rejected boxes, colour mode and one
checkbox per label. They edit the window's shared `OverlaySettings` and say `changed`."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QSlider, QToolButton,
                               QVBoxLayout, QWidget)

from . import theme
from .present import OverlaySettings


class OverlayControls(QWidget):
    """Threshold, opacity, anatomy, colour mode and per-label visibility."""

    changed = Signal()

    def __init__(self, settings: OverlaySettings, scale: theme.Scale, parent=None):
        super().__init__(parent)
        self.settings = settings
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(scale.px(4))
        grid = QGridLayout()
        grid.setHorizontalSpacing(scale.px(8))
        grid.setVerticalSpacing(scale.px(2))
        self.threshold = QSlider(Qt.Orientation.Horizontal)
        self.threshold.setRange(0, 95)
        self.threshold.setSingleStep(5)
        self.threshold.setPageStep(10)
        self.threshold.setValue(round((settings.threshold or 0) * 100))
        self.threshold.setToolTip("Hide findings below this confidence (nothing is deleted)")
        self.threshold_label = QLabel()
        self.threshold_label.setMinimumWidth(scale.px(44))
        self.threshold.valueChanged.connect(self._threshold_changed)
        # the starting point: each finding type's own floor from the model's manifest
        self.per_label = QToolButton()
        self.per_label.setText("Model")
        self.per_label.setCheckable(True)
        self.per_label.setToolTip("Each finding type's own minimum from the model (moving the slider sets one "
                                  "minimum for all)")
        self.per_label.toggled.connect(self._per_label_toggled)
        grid.addWidget(QLabel("Min. confidence"), 0, 0)
        grid.addWidget(self.threshold, 0, 1)
        grid.addWidget(self.threshold_label, 0, 2)
        grid.addWidget(self.per_label, 0, 3)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(10, 100)
        self.opacity.setValue(round(settings.opacity * 100))
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.opacity_label = QLabel()
        grid.addWidget(QLabel("Overlay opacity"), 1, 0)
        grid.addWidget(self.opacity, 1, 1)
        grid.addWidget(self.opacity_label, 1, 2)
        grid.setColumnStretch(1, 1)
        lay.addLayout(grid)
        row = QHBoxLayout()
        self.anatomy = QCheckBox("Teeth outlines")
        self.anatomy.setToolTip("Show the detected tooth boxes (anatomy)")
        self.anatomy.setChecked(settings.show_anatomy)
        self.anatomy.toggled.connect(self._anatomy_changed)
        row.addWidget(self.anatomy)
        self.rejected = QCheckBox("Rejected")
        self.rejected.setToolTip("Show rejected findings on the image (dotted)")
        self.rejected.toggled.connect(self._rejected_changed)
        row.addWidget(self.rejected)
        row.addStretch(1)
        self.color_mode = QComboBox()
        self.color_mode.addItems(["Colour: confidence", "Colour: label"])
        self.color_mode.currentIndexChanged.connect(self._color_changed)
        row.addWidget(self.color_mode)
        lay.addLayout(row)
        self.legend = QLabel(" &nbsp; ".join(
            f"<span style='color:{c}'>■</span> {name if name != 'low' else 'low (dashed)'}"
            f"{' ≥ %d%%' % round(lo * 100) if lo else ''}" for lo, name, c in theme.BANDS))
        self.legend.setObjectName("muted")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.legend)
        self.labels_box = QGridLayout()
        self.labels_box.setHorizontalSpacing(scale.px(10))
        self.labels_box.setVerticalSpacing(0)
        lay.addLayout(self.labels_box)
        self.label_checks: dict[str, QCheckBox] = {}
        if settings.threshold is None:
            self.per_label.setChecked(True)
        else:
            self._threshold_changed(self.threshold.value(), emit=False)
        self._opacity_changed(self.opacity.value(), emit=False)

    def set_labels(self, labels: list[str]) -> None:
        """One checkbox per label of the study's models, named and coloured as the manifests say."""
        for cb in self.label_checks.values():
            # hide and detach now: deleteLater alone leaves the old boxes painted under the new ones
            self.labels_box.removeWidget(cb)
            cb.hide()
            cb.setParent(None)
            cb.deleteLater()
        self.label_checks.clear()
        for i, label in enumerate(l for l in labels if l != "tooth"):
            cb = QCheckBox(self.settings.display(label))
            cb.setChecked(label not in self.settings.hidden_labels)
            colour = self.settings.style(label).color
            if colour:
                cb.setStyleSheet(f"QCheckBox {{ background: transparent; }} QCheckBox::indicator:checked "
                                 f"{{ background: {colour}; border-color: {colour}; }}")
            cb.toggled.connect(lambda on, l=label: self._label_toggled(l, on))
            self.labels_box.addWidget(cb, i // 2, i % 2)  # two columns: "Periapical radiolucency" is long
            self.label_checks[label] = cb
        self.show_floors()

    def _threshold_changed(self, value: int, emit: bool = True) -> None:
        self.settings.threshold = value / 100.0
        self.threshold_label.setText(f"{value}%")
        self.threshold_label.setToolTip("")
        with QSignalBlocker(self.per_label):
            self.per_label.setChecked(False)
        if emit:
            self.changed.emit()

    def _per_label_toggled(self, on: bool) -> None:
        if not on:  # back to one minimum for all, where the slider stands
            self._threshold_changed(self.threshold.value())
            return
        self.settings.threshold = None
        self.show_floors()
        self.changed.emit()

    def show_floors(self) -> None:
        """The slider and its label show the per-label floors (the lowest, all in the tooltip)."""
        if self.settings.threshold is not None:
            return
        floors = {label: self.settings.floor(label) for label in self.settings.styles if label != "tooth"}
        lowest = min(floors.values(), default=0.0)
        with QSignalBlocker(self.threshold):
            self.threshold.setValue(round(lowest * 100))
        self.threshold_label.setText("per type")
        self.threshold_label.setToolTip("\n".join(f"{self.settings.display(l)}: {v:.0%}" for l, v in floors.items()))

    def _opacity_changed(self, value: int, emit: bool = True) -> None:
        self.settings.opacity = value / 100.0
        self.opacity_label.setText(f"{value}%")
        if emit:
            self.changed.emit()

    def _anatomy_changed(self, on: bool) -> None:
        self.settings.show_anatomy = on
        self.changed.emit()

    def _rejected_changed(self, on: bool) -> None:
        self.settings.show_rejected = on
        self.changed.emit()

    def _color_changed(self, index: int) -> None:
        self.settings.color_mode = "label" if index == 1 else "confidence"
        self.changed.emit()

    def _label_toggled(self, label: str, on: bool) -> None:
        (self.settings.hidden_labels.discard if on else self.settings.hidden_labels.add)(label)
        self.changed.emit()
