"""ProcedureLogs GET (multiple, API 21.1): filters PatNum and AptNum (22.3.32), paged.
ProcedureLogs POST (21.4, permission ProcedureLogs): the documented required fields and formats.

POST contract (https://www.opendental.com/site/apiprocedurelogs.html): PatNum, ProcDate
(yyyy-MM-dd) and ProcStatus required; ProcStatus TP, C or EO, and from 25.1.14 also EC, R, Cn;
procCode (a code of the office's list) or CodeNum (25.2.21) required; ToothNum required by
codes of the Surf or Tooth treatment area; Surf required by the Surf area: tooth surfaces
B/F, V, M, O/I, D, L. 201 with the new row; 400 with an explanation otherwise. The office's
version is the `ProgramVersion` preference (od_api/preferences.py); `server.denied` lists the
API permissions the key lacks (401).
"""

from __future__ import annotations

import re

# a few of an office's procedure codes with their treatment area (ProcedureCodes GET: TreatArea)
CODES = {**{c: "Surf" for c in ("D2140", "D2150", "D2160", "D2161", "D2330", "D2331", "D2332", "D2335", "D2391",
                                "D2392", "D2393", "D2394")},
         **{c: "Tooth" for c in ("D2740", "D2750", "D2751", "D2790", "D3310", "D3320", "D3330", "D6010", "D6065")},
         "D0120": "Mouth", "D4341": "Quad"}
TEETH = {str(n) for n in range(1, 33)} | set("ABCDEFGHIJKLMNOPQRST")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def version(server) -> tuple[int, ...]:
    """The office's version, as Open Dental itself says it (Preferences GET, od_api/preferences.py)."""
    _, rows = server._route("GET", "preferences", {"PrefName": "ProgramVersion"}, None)
    return tuple(int(x) for x in rows[0]["ValueString"].split(".")[:3])


def list_procedures(server, match, q, data):
    rows = server.state.tables["procedurelogs"]
    for key in ("PatNum", "AptNum"):
        if key in q:
            if not q[key].isdigit():
                return 400, f"{key} is invalid"
            rows = [r for r in rows if int(r.get(key) or 0) == int(q[key])]
    return 200, server._page(rows, q)


def add_procedure(server, match, q, data):
    if "ProcedureLogs" in getattr(server, "denied", ()):
        return 401, "This API key does not have the ProcedureLogs permission"
    err = server._need(data, ("PatNum", "ProcDate", "ProcStatus"))
    if err:
        return 400, err
    if not DATE.match(str(data["ProcDate"])):
        return 400, "ProcDate format is yyyy-MM-dd"
    statuses = {"TP", "C", "EO"} | ({"EC", "R", "Cn"} if version(server) >= (25, 1, 14) else set())
    if data["ProcStatus"] not in statuses:
        return 400, "ProcStatus is invalid"
    if "CodeNum" in data:
        return 400, "CodeNum is not a valid field"  # this stand-in plays a version before 25.2.21
    code = data.get("procCode")
    if not code:
        return 400, "procCode is required"
    if code not in CODES:
        return 400, f"procCode {code} is not a valid procedure code"
    area, tooth, surf = CODES[code], str(data.get("ToothNum", "")), str(data.get("Surf", ""))
    if area in ("Surf", "Tooth") and tooth not in TEETH:
        return 400, "ToothNum is invalid" if tooth else "ToothNum is required for this procedure code"
    if area == "Surf" and (not surf or not re.fullmatch(r"[BFVMOIDL]{1,5}", surf) or len(set(surf)) != len(surf)):
        return 400, "Surf is invalid" if surf else "Surf is required for this procedure code"
    if area != "Surf" and surf and area != "Quad":
        return 400, "Surf is not valid for this procedure code"
    row = {"ProcNum": server._num(), "PatNum": data["PatNum"], "AptNum": 0, "ProcDate": data["ProcDate"],
           "ProcFee": "0.00", "Surf": surf, "ToothNum": tooth, "ToothRange": "", "ProcStatus": data["ProcStatus"],
           "ProvNum": 1, "Dx": 0, "CodeNum": sorted(CODES).index(code) + 1, "procCode": code, "descript": "",
           "DateTStamp": f"{data['ProcDate']} 08:00:00"}
    server.state.tables["procedurelogs"].append(row)
    return 201, row


ROUTES = [("GET", r"procedurelogs", list_procedures), ("POST", r"procedurelogs", add_procedure)]
