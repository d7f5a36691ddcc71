"""Which Open Dental patient a radiograph belongs to, confirmed by last name and birth date."""

from __future__ import annotations

import re
import unicodedata

from .client import ODClient


def _norm_name(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(ch for ch in decomposed if ch.isalnum()).casefold()


def _norm_date(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")[:8]
    return digits if len(digits) == 8 and digits != "00010101" else ""


class PatientProblem(Exception):
    """The patient cannot be confirmed: nothing may be written (needs attention)."""


def resolve_patient(client: ODClient, patient: dict, *, require_birth_date: bool = True) -> dict:
    """The Open Dental patient for the report's patient, confirmed by last name and birth date."""
    pid = str(patient.get("id") or "").strip()
    kind = patient.get("id_kind") or ""
    if not pid:
        raise PatientProblem("the radiographs carry no patient id, so the Open Dental chart cannot be found; "
                             "export them by hand")
    if kind == "patnum":
        if not pid.isdigit():
            raise PatientProblem(f"the patient id {pid!r} is not an Open Dental PatNum; check the watch folder's "
                                 "patient-id setting (patnum or chartnumber)")
        pat_num = int(pid)
    elif kind == "chartnumber":
        found = [p for p in client.patients_by_chart(pid) if str(p.get("ChartNumber", "")).strip() == pid]
        if not found:
            raise PatientProblem(f"no Open Dental patient has chart number {pid}; check the chart number in the "
                                 "imaging software")
        if len(found) > 1:
            raise PatientProblem(f"{len(found)} Open Dental patients share chart number {pid}; fix the duplicate "
                                 "chart numbers, then retry the export")
        pat_num = int(found[0]["PatNum"])
    else:
        raise PatientProblem("it is not known whether the patient id is a PatNum or a chart number; set the watch "
                             "folder's patient-id setting")
    record = client.patient(pat_num)
    if not record:
        raise PatientProblem(f"Open Dental has no patient with PatNum {pat_num}; check the patient id in the "
                             "imaging software")
    last = (patient.get("name") or "").split("^")[0]
    problems = []
    if not _norm_name(last) or _norm_name(last) != _norm_name(str(record.get("LName", ""))):
        problems.append("last name")
    ours, theirs = _norm_date(patient.get("birth_date", "")), _norm_date(str(record.get("Birthdate", "")))
    if ours or require_birth_date:
        if not ours:
            problems.append("birth date (missing on the radiograph)")
        elif ours != theirs:
            problems.append("birth date")
    if problems:
        raise PatientProblem(f"Open Dental patient {pat_num} does not match the radiographs ({' and '.join(problems)} "
                             "differ); nothing was written — check the patient in the imaging software and in "
                             "Open Dental")
    return record


