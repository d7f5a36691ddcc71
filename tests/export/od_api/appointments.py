"""Appointments GET (single and multiple, API 21.1), as documented on
https://opendental.com/site/apiappointments.html: filters PatNum (21.4), AptStatus (22.4.28), Op
(23.2.27), date (one day) or dateStart/dateEnd (inclusive), all yyyy-MM-dd, ClinicNum, DateTStamp;
paged. Rows live in `server.state.tables["appointments"]`; `add_appointment` makes one."""

from __future__ import annotations

import re
from datetime import date, datetime

STATUSES = ("Scheduled", "Complete", "UnschedList", "ASAP", "Broken", "Planned", "PtNote", "PtNoteCompleted")


def add_appointment(server, pat_num: int, when: str, *, status: str = "Scheduled", prov_num: int = 1,
                    op: int = 1, clinic: int = 0, descript: str = "") -> dict:
    """An appointment at `when` ('yyyy-MM-dd HH:mm:ss') with the documented fields."""
    row = {"AptNum": server._num(), "PatNum": pat_num, "AptStatus": status, "Pattern": "//XXXX//", "Confirmed": 19,
           "confirmed": "Not Called", "Op": op, "Note": "", "ProvNum": prov_num, "provAbbr": f"DOC{prov_num}",
           "ProvHyg": 0, "AptDateTime": when, "ProcDescript": descript, "ClinicNum": clinic, "IsHygiene": "false",
           "IsNewPatient": "false", "DateTStamp": "2026-01-01 08:00:00", "Priority": "Normal",
           "AppointmentTypeNum": 0}
    server.state.tables["appointments"].append(row)
    return row


def _day(text: str) -> date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text or ""):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def list_appointments(server, match, q, data):
    rows = server.state.tables["appointments"]
    for key in ("PatNum", "Op", "ClinicNum"):
        if key in q:
            if not q[key].isdigit():
                return 400, f"{key} is invalid"
            rows = [r for r in rows if int(r.get(key) or 0) == int(q[key])]
    if "AptStatus" in q:
        if q["AptStatus"] not in STATUSES:
            return 400, "AptStatus is invalid"
        rows = [r for r in rows if r["AptStatus"] == q["AptStatus"]]
    bounds = {}
    for key in ("date", "dateStart", "dateEnd"):
        if key in q:
            bounds[key] = _day(q[key])
            if bounds[key] is None:
                return 400, f"{key} must be in yyyy-MM-dd format"
    low = bounds.get("date") or bounds.get("dateStart")
    high = bounds.get("date") or bounds.get("dateEnd")
    if low or high:
        rows = [r for r in rows if (not low or r["AptDateTime"][:10] >= low.isoformat())
                and (not high or r["AptDateTime"][:10] <= high.isoformat())]
    if "DateTStamp" in q:
        try:
            stamp = datetime.strptime(q["DateTStamp"], "%Y-%m-%d %H:%M:%S" if " " in q["DateTStamp"] else "%Y-%m-%d")
        except ValueError:
            return 400, "DateTStamp is invalid"
        rows = [r for r in rows if datetime.strptime(r["DateTStamp"], "%Y-%m-%d %H:%M:%S") > stamp]
    rows = sorted(rows, key=lambda r: (r["AptDateTime"], r["AptNum"]))
    return 200, server._page([{**r, "serverDateTime": "2026-01-01 08:00:00"} for r in rows], q)


def one_appointment(server, match, q, data):
    found = [r for r in server.state.tables["appointments"] if r["AptNum"] == int(match.group(1))]
    return (200, found[0]) if found else (404, "Appointment not found")


ROUTES = [("GET", r"appointments", list_appointments), ("GET", r"appointments/(\d+)", one_appointment)]
