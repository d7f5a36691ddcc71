"""`[export.opendental.next_steps]`: what Open Dental is told beyond the signed report — an alert
when analysis flags a study urgent, and the follow-up suggested after sign-off.

It sits under `[export.opendental]` because both are Open Dental writes made with its keys and
address, and the Open Dental exporter sees only that table.

```toml
[export.opendental.next_steps]
alert = true             # an urgent study, once analysed, alerts the dentist (tray always; Open Dental below)
alert_via = "task"       # task | popup | none: a task needs task_list_num; popups interrupt every user
task_list_num = 0        # the Open Dental task list (TaskListNum) alerts and follow-ups go to; 0 = none
user_num = 0             # the Open Dental user (UserNum) the tasks are from; needed with a task list
follow_up = false        # after sign-off: the suggested follow-up visit as a task (or a commlog without a task list)
```
"""

from __future__ import annotations

from dataclasses import dataclass

from .schema import Table

ALERT_VIA = ("task", "popup", "none")


@dataclass
class NextStepsConfig(Table):
    TABLE = "export.opendental.next_steps"

    alert: bool = True
    # a task, not a popup, by default: Open Dental warns that popups irritate staff
    alert_via: str = "task"
    task_list_num: int = 0
    user_num: int = 0
    # off until the practice asks for it: otherwise every signed study adds one more note to the chart
    follow_up: bool = False

    @property
    def task_list_set(self) -> bool:
        return self.task_list_num > 0

    def alert_channel(self) -> str:
        """Where an urgent alert goes in Open Dental: task, popup or none (the tray shows it anyway).
        A task without a task list set is not possible, so the tray alone tells."""
        if not self.alert or self.alert_via == "none":
            return "none"
        if self.alert_via == "task" and not self.task_list_set:
            return "none"
        return self.alert_via

    def validate(self) -> list[str]:
        errors = []
        if self.alert_via not in ALERT_VIA:
            errors.append(f"{self.TABLE}.alert_via must be one of {', '.join(ALERT_VIA)} (got {self.alert_via!r})")
        if self.task_list_num < 0 or self.user_num < 0:
            errors.append(f"{self.TABLE}.task_list_num and user_num are Open Dental numbers (0 or more)")
        if self.task_list_set and self.user_num <= 0:
            errors.append(f"{self.TABLE}.user_num must name the Open Dental user (UserNum) the tasks come from "
                          "when a task list is set")
        return errors
