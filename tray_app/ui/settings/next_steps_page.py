"""The "Next steps" tab: the alert an urgent study raises at analysis, and the follow-up written
after sign-off (`[export.opendental.next_steps]`, settings/next_steps.py)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QSpinBox, QVBoxLayout

from .common import Page, wrapped

VIA = (("A task on the patient (needs a task list)", "task"), ("A patient popup (interrupts every user)", "popup"),
       ("Nothing in Open Dental (the tray only)", "none"))


def _number() -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, 2_000_000_000)
    box.setSpecialValueText("not set")
    return box


class NextStepsPage(Page):
    title = "Next steps"

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.addWidget(wrapped("When analysis flags a study urgent, the tray says so at once, and Open Dental too if "
                              "chosen here: the text says it is an AI finding nobody has reviewed yet. After "
                              "sign-off, the suggested follow-up visit can be left for the front desk; nothing "
                              "is ever booked."))
        form = QFormLayout()
        self.alert = QCheckBox("Alert the dentist when a study is flagged urgent")
        self.via = QComboBox()
        for text, value in VIA:
            self.via.addItem(text, value)
        self.task_list, self.user = _number(), _number()
        self.follow_up = QCheckBox("After sign-off, write the suggested follow-up visit to Open Dental")
        form.addRow("", self.alert)
        form.addRow("In Open Dental", self.via)
        form.addRow("Task list number (TaskListNum)", self.task_list)
        form.addRow("Tasks from user number (UserNum)", self.user)
        form.addRow("", self.follow_up)
        lay.addLayout(form)
        lay.addWidget(wrapped("Without a task list the follow-up is a commlog note in the chart."))
        lay.addStretch(1)

    def load(self, config) -> None:
        ns = config.export.opendental.next_steps
        self.alert.setChecked(ns.alert)
        self.via.setCurrentIndex(max(0, self.via.findData(ns.alert_via)))
        self.task_list.setValue(ns.task_list_num)
        self.user.setValue(ns.user_num)
        self.follow_up.setChecked(ns.follow_up)

    def save(self, config) -> None:
        ns = config.export.opendental.next_steps
        ns.alert, ns.alert_via = self.alert.isChecked(), self.via.currentData()
        ns.task_list_num, ns.user_num = self.task_list.value(), self.user.value()
        ns.follow_up = self.follow_up.isChecked()
