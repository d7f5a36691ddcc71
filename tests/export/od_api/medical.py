"""A patient's medical context as Open Dental's API documents it (all Read All):

- Allergies GET (21.1): `PatNum` required; rows AllergyNum, AllergyDefNum, PatNum, defDescription,
  defSnomedType, Reaction, StatusIsActive ("true"/"false"), DateAdverseReaction.
- Diseases GET (21.3): 400 "PatNum is required", 404 "Patient not found"; rows DiseaseNum, PatNum,
  DiseaseDefNum, diseaseDefName, PatNote, ProbStatus (Active/Resolved/Inactive), DateStart, DateStop.
- MedicationPats GET (21.3): rows MedicationPatNum, PatNum (a string in the example), medName,
  MedicationNum, PatNote, DateStart, DateStop ("0001-01-01": not stopped), ProvNum.
- PatientNotes GET (21.2): `/patientnotes/{PatNum}`, one object; Medical, Service, ICEName, ICEPhone.
- ToothInitials GET (24.2.3): `PatNum` optional; rows ToothInitialNum, PatNum, ToothNum ("1"-"32",
  "A"-"T"), InitialType (Missing, Hidden, Primary, Rotate, …), Movement, DrawingSegment, ColorDraw,
  SecDateTEntry, SecDateTEdit, DrawText. `server.version` below 24.2.3 answers 404, as an older
  Open Dental does not offer it.

`seed(server, PatNum, …)` fills them for a test.
"""

from __future__ import annotations


def _patient(server, q, required=True):
    if "PatNum" not in q:
        return None, ((400, "PatNum is required") if required else None)
    if not q["PatNum"].isdigit():
        return None, (400, "PatNum is invalid")
    if int(q["PatNum"]) not in server.state.patients:
        return None, (404, "Patient not found")
    return int(q["PatNum"]), None


def _list(table: str, required: bool = True):
    def handler(server, match, q, data):
        pat_num, error = _patient(server, q, required)
        if error:
            return error
        rows = [r for r in server.state.tables[table] if pat_num is None or int(r["PatNum"]) == pat_num]
        return 200, server._page(rows, q)
    return handler


def tooth_initials(server, match, q, data):
    if getattr(server, "version", (26, 1, 0)) < (24, 2, 3):
        return 404, "Not found"
    return _list("toothinitials", required=False)(server, match, q, data)


def patient_note(server, match, q, data):
    pat_num = int(match.group(1))
    if pat_num not in server.state.patients:
        return 404, "Patient not found"
    note = next((r for r in server.state.tables["patientnotes"] if r["PatNum"] == pat_num), None)
    return 200, note or {"PatNum": pat_num, "Medical": "", "Service": "", "ICEName": "", "ICEPhone": ""}


ROUTES = [
    ("GET", r"allergies", _list("allergies")),
    ("GET", r"diseases", _list("diseases")),
    ("GET", r"medicationpats", _list("medicationpats")),
    ("GET", r"toothinitials", tooth_initials),
    ("GET", r"patientnotes/(\d+)", patient_note),
]


def seed(server, pat_num: int, *, medical: str = "", problems=(), allergies=(), medications=(), missing=()) -> None:
    """problems: (name, status) or names; allergies: (what, reaction, active); medications: (name, note, stop)."""
    t = server.state.tables
    if medical:
        t["patientnotes"].append({"PatNum": pat_num, "Medical": medical, "Service": "", "ICEName": "", "ICEPhone": ""})
    for item in problems:
        name, status = (item, "Active") if isinstance(item, str) else item
        t["diseases"].append({"DiseaseNum": server._num(), "PatNum": pat_num, "DiseaseDefNum": server._num(),
                              "diseaseDefName": name, "PatNote": "", "ProbStatus": status,
                              "DateStart": "0001-01-01 00:00:00", "DateStop": "0001-01-01 00:00:00"})
    for what, reaction, active in allergies:
        t["allergies"].append({"AllergyNum": server._num(), "AllergyDefNum": server._num(), "PatNum": pat_num,
                               "defDescription": what, "defSnomedType": "None", "Reaction": reaction,
                               "StatusIsActive": "true" if active else "false", "DateAdverseReaction": "0001-01-01"})
    for name, note, stop in medications:
        t["medicationpats"].append({"MedicationPatNum": server._num(), "PatNum": str(pat_num), "medName": name,
                                    "MedicationNum": server._num(), "PatNote": note, "DateStart": "2020-01-01",
                                    "DateStop": stop or "0001-01-01", "ProvNum": 1})
    for tooth in missing:
        t["toothinitials"].append({"ToothInitialNum": server._num(), "PatNum": pat_num, "ToothNum": str(tooth),
                                   "InitialType": "Missing", "Movement": "0", "DrawingSegment": "",
                                   "ColorDraw": "0,0,0", "SecDateTEntry": "2024-05-30 12:18:00",
                                   "SecDateTEdit": "2024-05-30 12:18:00", "DrawText": ""})
