"""`doctor`'s lines for the next steps (issue 19): where an urgent alert and the follow-up go, and
alerts that could not be written to Open Dental."""

from __future__ import annotations

from ..doctor import Check, Context
from ..store import alerts
from ..store.db import Database

KEY = "export.opendental.next_steps"


def where_they_go(ctx: Context) -> list[Check]:
    if "opendental" not in ctx.config.export.destinations:
        return []  # the tray tells of urgent studies; nothing to set up
    ns = ctx.config.export.opendental.next_steps
    channel = ns.alert_channel()
    if not ns.alert:
        alert, hint = "off", False
    elif channel == "task":
        alert, hint = f"an Open Dental task on the patient (task list {ns.task_list_num}) and the tray", False
    elif channel == "popup":
        alert, hint = "an Open Dental popup on the patient and the tray", False
    else:
        alert = "the tray only"
        hint = ns.alert_via == "task"  # Open Dental is connected, only the task list is missing
        if hint:
            alert += f": set {KEY}.task_list_num and user_num for a task on the patient in Open Dental"
    follow = ("off" if not ns.follow_up else
              f"an Open Dental task (task list {ns.task_list_num})" if ns.task_list_set else "an Open Dental commlog note")
    return [Check("next steps", True, f"urgent studies: {alert}; follow-up after sign-off: {follow}",
                  warning=hint)]


def alerts_needing_attention(ctx: Context) -> list[Check]:
    if ctx.paths is None:
        return []
    db = Database(ctx.paths.database)
    try:
        rows = alerts.status(db)
    finally:
        db.close()
    return [Check(f"urgent alert (study {r['study_id']})", False, r["reason"])
            for r in rows if r["state"] == "needs_attention"]


CHECKS = (where_they_go, alerts_needing_attention)
