"""The "Analysis" tab: triage and FMX, analysis threads, unvalidated labels, the rollout mode
with targeted automation's labels and confidence, and how long cached images are kept."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QSpinBox, QWidget

from ...config import ROLLOUT_MODES, default_threads
from .. import settings_model as model
from .common import Page, wrapped


def _spin(lo: float, hi: float, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)  # out-of-range values are refused on Save, with the reason
    box.setSingleStep(step)
    box.setDecimals(2)
    return box


class AnalysisPage(Page):
    title = "Analysis"

    def __init__(self, model_text: str = "", parent=None):
        super().__init__(parent)
        form = QFormLayout(self)
        if model_text:
            form.addRow("Model", wrapped(model_text))
        self.urgent = _spin(0.0, 10.0, 0.1)
        self.urgent.setToolTip("A study is flagged urgent when a finding's severity (0-3) × confidence reaches this")
        form.addRow("Urgent threshold", self.urgent)
        self.fmx = QSpinBox()
        self.fmx.setRange(10, 30)
        form.addRow("Images in a full-mouth series", self.fmx)
        self.threads = QSpinBox()
        self.threads.setRange(0, max(1, os.cpu_count() or 1))
        self.threads.setSpecialValueText(f"Automatic ({default_threads()})")
        form.addRow("Analysis threads", self.threads)
        self.unvalidated = QCheckBox("Also show findings not validated on real radiographs")
        self.unvalidated.setToolTip("Labels the model's manifest leaves off by default (the demonstration model's "
                                    "diagnoses: caries, calculus, periapical radiolucency, bone loss). They were "
                                    "measured on synthetic images only.")
        form.addRow("", self.unvalidated)
        self.rollout = QComboBox()
        for k in ROLLOUT_MODES:
            self.rollout.addItem(model.ROLLOUT_TEXT[k].split(":")[0], k)
        self.rollout_help = wrapped()
        form.addRow("Rollout mode", self.rollout)
        form.addRow("", self.rollout_help)
        self.auto_box = QWidget()
        auto = QHBoxLayout(self.auto_box)
        auto.setContentsMargins(0, 0, 0, 0)
        self.auto_labels: dict[str, QCheckBox] = {}
        for label, text in model.AUTOMATABLE_TEXT.items():
            self.auto_labels[label] = QCheckBox(text)
            auto.addWidget(self.auto_labels[label])
        auto.addStretch(1)
        self.auto_conf = _spin(0.5, 1.0, 0.01)
        self.auto_conf.setToolTip("Only findings at least this confident are exported before review")
        form.addRow("Export before review", self.auto_box)
        form.addRow("…at confidence of at least", self.auto_conf)
        self.rollout.currentIndexChanged.connect(self._rollout_help)
        self.retention = QSpinBox()
        self.retention.setRange(0, 3650)
        self.retention.setSuffix(" days")
        self.retention.setToolTip("Cached images of studies exported longer ago than this are deleted")
        form.addRow("Keep cached images", self.retention)

    def load(self, config) -> None:
        gov = config.governance
        self.urgent.setValue(config.clinical.urgent_threshold)
        self.fmx.setValue(config.clinical.fmx_images)
        self.threads.setValue(config.analysis.threads)
        self.unvalidated.setChecked(config.analysis.unvalidated_labels)
        self.rollout.setCurrentIndex(max(0, self.rollout.findData(gov.rollout)))
        for label, box in self.auto_labels.items():
            box.setChecked(label in gov.auto_labels)
        self.auto_conf.setValue(gov.auto_min_confidence)
        self.retention.setValue(gov.retention_days)
        self._rollout_help()

    def save(self, config) -> None:
        config.clinical.urgent_threshold = round(self.urgent.value(), 2)
        config.clinical.fmx_images = self.fmx.value()
        config.analysis.threads = self.threads.value()
        config.analysis.unvalidated_labels = self.unvalidated.isChecked()
        config.governance.rollout = self.rollout.currentData()
        config.governance.retention_days = self.retention.value()
        config.governance.auto_labels = [k for k, box in self.auto_labels.items() if box.isChecked()]
        config.governance.auto_min_confidence = round(self.auto_conf.value(), 2)

    def _rollout_help(self, *_):
        self.rollout_help.setText(model.ROLLOUT_TEXT[self.rollout.currentData()])
        on = self.rollout.currentData() == "targeted_automation"
        self.auto_box.setEnabled(on)
        self.auto_conf.setEnabled(on)
