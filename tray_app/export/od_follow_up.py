"""The follow-up a signed study suggests (clinical/follow_up.py), written for the front desk after
sign-off — never an appointment booked by itself:

- a task on the patient (Tasks POST, 22.3.17: TaskListNum and UserNum from
  `[export.opendental.next_steps]`, KeyNum + ObjectType "Patient", Descript) when a task list is set;
- otherwise a commlog note (Commlogs POST, 21.1) the front desk sees in the chart.

A part of the Open Dental export (od_parts.py), so the outbox's exactly-once rules hold: the
marker is in the Descript / Note and found (Tasks GET by patient, Commlogs GET) before any retry.
Signed reports only: an automated export has no dentist's findings to plan from.
"""

from __future__ import annotations

from .od_part_kind import PartKind
from ..clinical.follow_up import suggest
from ..pms.tasks import task_with_marker
from ..review.report import demo_line
from ..store.findings import DECIDED
from ..store.reports import Report

def follow_up_text(report: Report, marker: str) -> str:
    """What the front desk reads: the suggestion, who signed, that nothing was booked, the marker."""
    # the report holds the dentist's decided findings; an older snapshot may lack a status
    text = suggest([f for f in report.findings if f.get("status", "accepted") in DECIDED],
                   report.confirmed_codes).text()
    demo = demo_line(report)
    signed = f" Signed by {report.signer_name}." if report.signer_name else ""
    return (f"{demo + ' ' if demo else ''}Dental AI Bridge: {text}{signed} Please offer the patient this visit; "
            f"nothing was booked. {marker}")


class _FollowUp(PartKind):
    """A follow-up written as a task or as a note (registered by od_parts)."""

    name = resource = marker_field = id_key = ""
    wants_task = False

    def owns(self, name: str) -> bool:
        return name == self.name

    def names(self, settings, report: Report) -> list[str]:
        ns = settings.next_steps
        wanted = ns.follow_up and not report.is_automated and ns.task_list_set == self.wants_task
        return [self.name] if wanted else []


class FollowUpTask(_FollowUp):
    name, resource, marker_field, id_key, wants_task = "follow_up_task", "tasks", "Descript", "TaskNum", True

    def body(self, run, name, marker):
        ns = run.settings.next_steps
        return {"TaskListNum": ns.task_list_num, "UserNum": ns.user_num, "KeyNum": run.pat_num,
                "ObjectType": "Patient", "Descript": follow_up_text(run.report, marker)}, ""

    def find(self, run, name, marker):
        # tasks are listed by KeyNum + ObjectType, not PatNum
        return task_with_marker(run.client, run.pat_num, marker, since=run.created)


class FollowUpNote(_FollowUp):
    """Without a task list: a commlog note (no Commlog answer before 23.3.7: found by its marker)."""

    name, resource, marker_field, id_key = "follow_up_note", "commlogs", "Note", "CommlogNum"

    def body(self, run, name, marker):
        return {"PatNum": run.pat_num, "Note": follow_up_text(run.report, marker), "CommDateTime": run.created,
                "Mode_": "None", "SentOrReceived": "Neither"}, ""


KINDS = [FollowUpTask(), FollowUpNote()]
