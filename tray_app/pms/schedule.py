"""The imaging appointments of a window of days, read from Open Dental's schedule.

Endpoints (Open Dental API docs, https://opendental.com/site/apiappointments.html and
apiprocedurelogs.html, apiproviders.html, apipatients.html), all Read All:

- `GET /appointments?dateStart=&dateEnd=` (21.1; inclusive, yyyy-MM-dd), paged. `AptStatus` is
  filtered here, not sent: the parameter only exists from 22.4.28.
- `GET /procedurelogs?AptNum=` (22.3.32): the appointment's procedures and their CDT codes,
  which decide whether it is an imaging appointment (the caller says which codes are).
- `GET /patients/{PatNum}` (21.1): name, Birthdate, Gender, ChartNumber.
- `GET /providers` (21.1): the provider's name (ProvNum → LName, FName); the appointment's own
  `provAbbr` when the list cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

from .client import ODClient
from .procedures import ProcedureLog

# Scheduled, and the old ASAP status: the patient is expected in the chair. Complete, Broken,
# UnschedList, Planned and the patient notes are not.
EXPECTED = ("Scheduled", "ASAP")
SEX = {"male": "M", "female": "F", "other": "O"}  # Open Dental's Gender; "Unknown" → ''


@dataclass(frozen=True)
class ScheduledImaging:
    """One imaging appointment: who, when, which imaging procedures (by modality), by whom."""

    apt_num: int
    pat_num: int
    chart_number: str
    last: str
    first: str
    middle: str
    birth_date: str  # yyyy-MM-dd or ''
    sex: str  # M | F | O | ''
    start: str  # local 'yyyy-MM-dd HH:mm:ss'
    procedures: tuple[tuple[str, str, str], ...]  # (modality, CDT code, description)
    provider_last: str
    provider_first: str


def _int(value) -> int:
    try:
        return int(str(value or 0).strip() or 0)
    except ValueError:
        return 0


def _date(value) -> str:
    text = str(value or "")[:10]
    try:
        return date.fromisoformat(text).isoformat() if text and text != "0001-01-01" else ""
    except ValueError:
        return ""


def _start(value) -> str:
    try:
        return datetime.strptime(str(value or ""), "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return ""


def _providers(client: ODClient) -> dict[int, tuple[str, str]]:
    from .client import ODError

    try:
        rows = client.get_all("providers", {})
    except ODError:
        return {}  # the abbreviation on the appointment will do
    return {_int(r.get("ProvNum")): (str(r.get("LName") or "").strip(), str(r.get("FName") or "").strip())
            for r in rows if isinstance(r, dict)}


def read_imaging_schedule(client: ODClient, first_day: date, last_day: date,
                          modality_of: Callable[[str], str]) -> tuple[list[ScheduledImaging], int]:
    """(imaging appointments of the days first_day..last_day, how many were skipped as unreadable).

    `modality_of(code)` is the DICOM modality of a CDT code, '' for a code that takes no image.
    Raises `ODError` when Open Dental cannot be read (the caller keeps its last copy)."""
    appointments = client.get_all("appointments", {"dateStart": first_day.isoformat(),
                                                    "dateEnd": last_day.isoformat()})
    providers: dict[int, tuple[str, str]] | None = None
    out: list[ScheduledImaging] = []
    skipped = 0
    for apt in appointments:
        if not isinstance(apt, dict) or str(apt.get("AptStatus") or "") not in EXPECTED:
            continue
        apt_num, start = _int(apt.get("AptNum")), _start(apt.get("AptDateTime"))
        if not apt_num or not start or not first_day.isoformat() <= start[:10] <= last_day.isoformat():
            continue
        logs = [ProcedureLog.from_row(r) for r in client.get_all("procedurelogs", {"AptNum": apt_num})
                if isinstance(r, dict)]
        imaging = tuple((modality_of(p.code), p.code, p.description.strip()) for p in logs
                        if not p.deleted and p.apt_num in (0, apt_num) and modality_of(p.code))
        if not imaging:
            continue
        patient = client.patient(_int(apt.get("PatNum")))
        if not patient:
            skipped += 1  # an appointment of a patient Open Dental no longer returns
            continue
        if providers is None:
            providers = _providers(client)
        prov = providers.get(_int(apt.get("ProvNum"))) or (str(apt.get("provAbbr") or "").strip(), "")
        out.append(ScheduledImaging(
            apt_num=apt_num, pat_num=_int(patient.get("PatNum")), chart_number=str(patient.get("ChartNumber") or "").strip(),
            last=str(patient.get("LName") or "").strip(), first=str(patient.get("FName") or "").strip(),
            middle=str(patient.get("MiddleI") or "").strip(), birth_date=_date(patient.get("Birthdate")),
            sex=SEX.get(str(patient.get("Gender") or "").strip().lower(), ""), start=start, procedures=imaging,
            provider_last=prov[0], provider_first=prov[1]))
    return out, skipped
