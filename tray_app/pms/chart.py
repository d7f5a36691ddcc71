"""A matched patient's chart context for the review window: the medical alerts, problems,
allergies, medications and what Open Dental charts per tooth. Read-only.

Everything here is medical data: it is shown to the dentist and never logged, never put in an
exception message or an audit entry. Failures become a plain state with a fixed sentence
(`ChartContext.state`), never Open Dental's own error text.

Reads (all in the free Read All permission, https://opendental.com/site/apipermissions.html):
- `GET /patients/{PatNum}` (21.1), already read by `patients.resolve_patient` to confirm the
  patient: the urgent medical note is the patient table's `MedUrgNote` and premedication its
  `Premed` (Open Dental's schema; the API page's example record does not list them, so they are
  shown when the record carries them and nothing is asked for them).
- `GET /patientnotes/{PatNum}` (21.2): `Medical`, the medical history note.
- `GET /diseases?PatNum=` (21.3): problems; `diseaseDefName`, `PatNote`, `ProbStatus` (Active,
  Resolved, Inactive): the active ones.
- `GET /allergies?PatNum=` (21.1): `defDescription`, `Reaction`, `StatusIsActive` ("true"/"false").
- `GET /medicationpats?PatNum=` (21.3): `medName`, `PatNote`, `DateStop` ("0001-01-01": none).
- `GET /toothinitials?PatNum=` (24.2.3): `ToothNum`, `InitialType` ("Missing", "Hidden",
  "Primary", …). An older Open Dental answers 404: teeth then count as missing only when an
  extraction is charted.
- `GET /procedurelogs?PatNum=` (21.1, `procedures.procedure_logs`): work in the mouth (C, EC, EO)
  and planned treatment (TP), mapped to our labels by `labels.label_of_code`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Callable

from ..labels import label_of_code, removes_tooth
from ..settings.export import OpenDentalConfig
from .client import ODClient, ODError
from .keys import ODKeys, SecretsError, get_opendental_keys
from .patients import PatientProblem, resolve_patient
from .procedures import EXISTING, PLANNED, procedure_logs

OK, NOT_SET_UP, UNREACHABLE, UNMATCHED = "ok", "not_set_up", "unreachable", "unmatched"
SENTENCES = {
    NOT_SET_UP: "Open Dental not set up — chart context unavailable",
    UNREACHABLE: "Open Dental not reachable — chart context unavailable",
    UNMATCHED: "Patient not matched in Open Dental — chart context unavailable",
}
READ_TIMEOUT = 15.0  # seconds: the panel waits in the background, but a hub thread is held meanwhile


@dataclass(frozen=True)
class ChartedWork:
    code: str
    status: str          # C, EC, EO (in the mouth) or TP (planned)
    label: str = ""      # our label for the code ("" for work we do not detect, e.g. a sealant)
    date: str = ""
    surfaces: str = ""


@dataclass(frozen=True)
class ToothChart:
    tooth: str                                  # Universal, as Open Dental charts it
    missing: str = ""                           # why it counts as missing ("" when it does not)
    existing: tuple[ChartedWork, ...] = ()
    planned: tuple[ChartedWork, ...] = ()

    def has(self, label: str) -> ChartedWork | None:
        return next((w for w in self.existing if w.label == label), None)


@dataclass(frozen=True)
class ChartContext:
    state: str
    message: str = ""
    alerts: tuple[str, ...] = ()        # urgent medical note, premedication, medical history note
    problems: tuple[str, ...] = ()
    allergies: tuple[str, ...] = ()
    medications: tuple[str, ...] = ()
    teeth: tuple[ToothChart, ...] = ()
    notes: tuple[str, ...] = ()         # what could not be read (an older Open Dental), in words

    def tooth(self, universal: str) -> ToothChart | None:
        return next((t for t in self.teeth if t.tooth == universal), None)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)



def unavailable(state: str, detail: str = "") -> ChartContext:
    return ChartContext(state, SENTENCES[state] + (f": {detail}" if detail else ""))


def _text(*parts) -> str:
    return " — ".join(str(p).strip() for p in parts if str(p or "").strip())


def _active_until(stop: str) -> bool:
    stop = (stop or "")[:10]
    return not stop or stop.startswith("0001") or stop >= date.today().isoformat()


def _rows(client: ODClient, resource: str, pat_num: int, notes: list[str], words: str) -> list[dict]:
    try:
        return [r for r in client.get_all(resource, {"PatNum": pat_num}) if isinstance(r, dict)]
    except ODError as exc:
        if exc.status != 404:
            raise
        notes.append(f"{words} cannot be read from this Open Dental version")
        return []


def _alerts(client: ODClient, record: dict, notes: list[str]) -> tuple[str, ...]:
    alerts = [str(record.get("MedUrgNote") or "").strip()]
    if str(record.get("Premed", "")).lower() == "true":
        alerts.append("Premedicate")
    try:
        note = client.request("GET", f"patientnotes/{int(record['PatNum'])}")
    except ODError as exc:
        if exc.status != 404:
            raise
        note = None
        notes.append("the medical history note cannot be read from this Open Dental version")
    if isinstance(note, dict):
        alerts.append(str(note.get("Medical") or "").strip())
    return tuple(a for a in alerts if a)


def _teeth(client: ODClient, pat_num: int, notes: list[str]) -> tuple[ToothChart, ...]:
    missing: dict[str, str] = {}
    try:
        for row in client.get_all("toothinitials", {"PatNum": pat_num}):
            if isinstance(row, dict) and row.get("InitialType") == "Missing":
                missing[str(row.get("ToothNum", "")).strip()] = "charted missing"
    except ODError as exc:
        if exc.status != 404:
            raise
        notes.append("missing teeth: only extractions are known (tooth initials need Open Dental 24.2.3)")
    existing: dict[str, list[ChartedWork]] = {}
    planned: dict[str, list[ChartedWork]] = {}
    for p in sorted(procedure_logs(client, pat_num), key=lambda p: p.date):
        if not p.tooth or p.status not in EXISTING + PLANNED:
            continue
        work = ChartedWork(p.code, p.status, label_of_code(p.code) or "", p.date, p.surfaces)
        if p.status in PLANNED:
            planned.setdefault(p.tooth, []).append(work)
        elif removes_tooth(p.code):
            missing.setdefault(p.tooth, f"extracted {p.date} ({p.code})".replace(" ()", ""))
        else:
            existing.setdefault(p.tooth, []).append(work)
    teeth = sorted(set(missing) | set(existing) | set(planned), key=lambda t: (not t.isdigit(), t.zfill(2)))
    return tuple(ToothChart(t, missing.get(t, ""), tuple(existing.get(t, ())), tuple(planned.get(t, ())))
                 for t in teeth)


def read_chart(client: ODClient, record: dict) -> ChartContext:
    """The chart context of a confirmed patient record (raises ODError when Open Dental fails)."""
    pat_num = int(record["PatNum"])
    notes: list[str] = []
    alerts = _alerts(client, record, notes)
    problems = tuple(_text(r.get("diseaseDefName"), r.get("PatNote"))
                     for r in _rows(client, "diseases", pat_num, notes, "problems")
                     if str(r.get("ProbStatus", "Active")) == "Active")
    allergies = tuple(_text(r.get("defDescription"), r.get("Reaction"))
                      for r in _rows(client, "allergies", pat_num, notes, "allergies")
                      if str(r.get("StatusIsActive", "true")).lower() == "true")
    medications = tuple(_text(r.get("medName"), r.get("PatNote"))
                        for r in _rows(client, "medicationpats", pat_num, notes, "medications")
                        if _active_until(str(r.get("DateStop") or "")))
    return ChartContext(OK, "", alerts, tuple(p for p in problems if p), tuple(a for a in allergies if a),
                        tuple(m for m in medications if m), _teeth(client, pat_num, notes), tuple(notes))


def load_chart(settings: OpenDentalConfig, patient: dict, *,
               keys_provider: Callable[[], ODKeys | None] = get_opendental_keys,
               client_factory: Callable[[OpenDentalConfig, ODKeys], ODClient] | None = None) -> ChartContext:
    """The chart context of a study's patient, or a plain state; never raises for Open Dental's sake."""
    try:
        keys = keys_provider()
    except SecretsError:
        return unavailable(NOT_SET_UP, "the API keys cannot be read from this computer's keyring")
    if keys is None:
        return unavailable(NOT_SET_UP)
    quick = dataclasses.replace(settings, timeout=min(settings.timeout, READ_TIMEOUT))
    try:
        client = (client_factory or ODClient)(quick, keys)
    except ODError:
        return unavailable(NOT_SET_UP, "check the Open Dental settings")
    try:
        record = resolve_patient(client, patient, require_birth_date=settings.require_birth_date)
        return read_chart(client, record)
    except PatientProblem as exc:  # its sentence names ids and what differs, never names or medical data
        return unavailable(UNMATCHED, str(exc))
    except ODError as exc:
        if exc.status == 401:
            return unavailable(UNREACHABLE, "Open Dental refused the API key")
        return unavailable(UNREACHABLE)
    finally:
        client.close()

