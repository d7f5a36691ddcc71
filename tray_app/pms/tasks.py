"""Open Dental tasks on a patient: the urgent alert and the follow-up suggestion go there.

Documented contract (opendental.com/site/apitasks.html):
- `GET /tasks` (22.3.16, Read All): filters TaskListNum, KeyNum + ObjectType ("Patient"),
  TaskStatus, DateTimeOriginal ("yyyy-MM-dd HH:mm:ss"; tasks created after it; default: the
  previous 14 days), paged.
- `POST /tasks` (22.3.17, the $30 "AllOthers" permission): required TaskListNum, Descript,
  UserNum; optional KeyNum + ObjectType ("Patient"/"Appointment"), DateTimeEntry, PriorityDefNum,
  DescriptOverride. Answers 201 with the task (TaskNum).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .client import ODClient


def post_patient_task(client: ODClient, *, task_list_num: int, user_num: int, pat_num: int, descript: str) -> dict:
    body = {"TaskListNum": int(task_list_num), "UserNum": int(user_num), "KeyNum": int(pat_num),
            "ObjectType": "Patient", "Descript": descript}
    return client.request("POST", "tasks", body=body) or {}


def patient_tasks(client: ODClient, pat_num: int, *, since: str) -> list[dict]:
    """The patient's tasks created after `since` (an Open Dental local `yyyy-MM-dd HH:mm:ss`, a day
    before our write: the default window is only 14 days, and clocks differ)."""
    try:
        start = datetime.strptime(since, "%Y-%m-%d %H:%M:%S") - timedelta(days=1)
    except ValueError:
        start = datetime.now() - timedelta(days=14)
    return client.get_all("tasks", {"ObjectType": "Patient", "KeyNum": int(pat_num),
                                    "DateTimeOriginal": start.strftime("%Y-%m-%d %H:%M:%S")})


def task_with_marker(client: ODClient, pat_num: int, marker: str, *, since: str) -> str | None:
    """The TaskNum of the patient's task whose Descript carries `marker` (an earlier write of ours)."""
    for row in patient_tasks(client, pat_num, since=since):
        if marker in str(row.get("Descript") or ""):
            return str(row.get("TaskNum") or "?")
    return None
