"""Tasks GET (22.3.16) and POST (22.3.17), as opendental.com/site/apitasks.html documents them.

POST: TaskListNum, Descript and UserNum required (400 otherwise); KeyNum needs ObjectType
"Patient" (a PatNum) or "Appointment"; answers 201 with the task. GET: TaskListNum, KeyNum (only
with ObjectType), ObjectType, TaskStatus, DateTimeOriginal (created after; default the previous
14 days), paged. The office's task lists are `server.state.tables["tasklists"]` rows
({"TaskListNum": n}); a POST to another list is refused.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

OBJECT_TYPES = ("None", "Patient", "Appointment")
STATUSES = ("New", "Viewed", "Done")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def _int_field(data, key):
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def post_task(server, match, q, data):
    if not isinstance(data, dict):
        return 400, "body must be a JSON object"
    for key in ("TaskListNum", "Descript", "UserNum"):
        if key not in data or data[key] in ("", None):
            return 400, f"{key} is required"
    list_num, user_num = _int_field(data, "TaskListNum"), _int_field(data, "UserNum")
    if list_num is None or list_num not in {t["TaskListNum"] for t in server.state.tables["tasklists"]}:
        return 400, "TaskListNum is invalid"
    if user_num is None or user_num <= 0:
        return 400, "UserNum is invalid"
    object_type = data.get("ObjectType", "None")
    if object_type not in OBJECT_TYPES:
        return 400, "ObjectType is invalid"
    key_num = data.get("KeyNum", 0)
    if key_num and object_type == "None":
        return 400, "ObjectType is required when KeyNum is set"
    if object_type == "Patient" and key_num not in server.state.patients:
        return 400, "KeyNum is not a valid PatNum"
    now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    row = {"TaskNum": server._num(), "TaskListNum": list_num, "DateTask": "0001-01-01", "KeyNum": key_num,
           "Descript": str(data["Descript"]).replace("\r", " ").replace("\n", " "), "TaskStatus": "New",
           "IsRepeating": "false", "DateType": "None", "FromNum": 0, "ObjectType": object_type,
           "DateTimeEntry": data.get("DateTimeEntry", now), "UserNum": user_num,
           "DateTimeFinished": "0001-01-01 00:00:00", "PriorityDefNum": data.get("PriorityDefNum", 0),
           "DateTimeOriginal": now, "SecDateTEdit": now, "DescriptOverride": data.get("DescriptOverride", ""),
           "IsReadOnly": "false"}
    server.state.tables["tasks"].append(row)
    return 201, row


def list_tasks(server, match, q, data):
    rows = server.state.tables["tasks"]
    if "KeyNum" in q and "ObjectType" not in q:
        return 400, "ObjectType is required when KeyNum is set"
    if q.get("ObjectType", "None") not in OBJECT_TYPES or q.get("TaskStatus", "New") not in STATUSES:
        return 400, "ObjectType or TaskStatus is invalid"
    since = q.get("DateTimeOriginal") or (datetime.now() - timedelta(days=14)).strftime("%Y-%m-%d %H:%M:%S")
    if not DATETIME.match(since):
        return 400, "DateTimeOriginal format is yyyy-MM-dd HH:mm:ss"
    for key in ("TaskListNum", "KeyNum"):
        if key in q:
            if not q[key].isdigit():
                return 400, f"{key} is invalid"
            rows = [r for r in rows if int(r[key]) == int(q[key])]
    for key in ("ObjectType", "TaskStatus"):
        if key in q:
            rows = [r for r in rows if r[key] == q[key]]
    rows = [r for r in rows if r["DateTimeOriginal"] > since]
    return 200, server._page(rows, q)


ROUTES = [("POST", r"tasks", post_task), ("GET", r"tasks", list_tasks)]
