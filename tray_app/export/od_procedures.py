"""Procedures in the Open Dental chart after sign-off (ProcedureLogs POST, API 21.4).

What a signed report writes, each part switchable in `[export.opendental]` (both off by default:
they change the chart's treatment plan and need the key's ProcedureLogs permission):

- `write_treatment_plan`: each accepted pathology finding whose code the signing dentist confirmed
  (`Report.confirmed_codes`) → a treatment-planned procedure (ProcStatus TP) with that code, the
  Universal tooth and, for codes charted by surface, the surfaces. Findings of one tooth confirmed
  with the same code (one lesion seen on two films) are one procedure, their surfaces joined.
  A finding without a confirmed code, and a rejected one (not in the report), write nothing.
- `write_existing_conditions`: accepted existing work (labels.CHARTED_WORK_LABELS: restorations,
  crowns, root canal fillings, implants, with the code labels.py charts them as) → an existing
  procedure, ProcStatus EO, or Cn/EC (`existing_status`; Cn and EC exist from Open Dental 25.1.14,
  read from the `ProgramVersion` preference, pms/version.py) — unless the tooth already has a
  procedure of that code family charted as C, EC, EO or Cn. A restoration without surfaces is not
  charted (its codes need them; the sign-off refuses a confirmed surface code without them too).

Each procedure is its own part, `proc<finding id>` (the lowest id of its findings). Open Dental's
ProcedureLogs POST has no free-text field that could carry our marker on every version: the
procedure note is a second write (ProcNotes POST, another permission, not atomic with the POST),
ClaimNote goes out on e-claims to insurers and BillingNote (25.2.21) shows in the Account module.
So an earlier write is recognised by its identity instead — patient, code, tooth, surfaces,
status and ProcDate (the signing date, fixed by the report) among the patient's procedure logs —
before a retry whose outcome is unknown; a procedure the chart already has (planned or charted by
someone else) is not written either. ProcDate is the local date of the signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .od_part_kind import PartKind
from ..clinical import cdt
from ..labels import CHARTED_WORK_LABELS
from ..pms.client import ODClient, ODError
from ..pms.procedures import EXISTING, PLANNED, ProcedureLog
from ..pms.version import program_version

CHARTED = (*EXISTING, "Cn")  # a condition charted counts as charted work too
NEW_STATUSES = (25, 1, 14)  # ProcedureLogs POST takes EC, R and Cn from this version
PERMISSION = ("Open Dental refused to add a procedure to the chart (401): the API key Dental AI Bridge uses needs "
              "Open Dental's ProcedureLogs permission. Ask whoever set up the key (the Dental AI Bridge vendor) to "
              "add it, or turn off export.opendental.write_treatment_plan and write_existing_conditions; then "
              "retry the export.")
_NAME = re.compile(r"proc(\d+)")


@dataclass(frozen=True)
class Procedure:
    name: str
    code: str
    tooth: str       # Universal
    surfaces: str
    planned: bool    # TP; else existing work
    label: str


def procedures(settings, report) -> list[Procedure]:
    """The procedures a signed report writes with these settings, in finding order."""
    if report.is_automated:  # only a dentist's signature charts anything
        return []
    groups: dict[tuple, list[dict]] = {}
    by_id = {f["id"]: f for f in report.findings}
    if settings.write_treatment_plan:
        for c in report.confirmed_codes or []:
            f = by_id.get(c["finding_id"])
            if f and f.get("tooth_universal"):
                groups.setdefault((True, f["tooth_universal"], c["code"]), []).append(f)
    if settings.write_existing_conditions:
        for f in report.findings:
            if f["label"] in CHARTED_WORK_LABELS and f.get("tooth_universal") and f.get("tooth_fdi"):
                groups.setdefault((False, f["tooth_universal"], f["label"]), []).append(f)
    out = []
    for (planned, tooth, what), fs in groups.items():
        surfaces = _surfaces("".join(f.get("surfaces") or "" for f in fs))
        code = what if planned else cdt.existing_code(what, int(fs[0]["tooth_fdi"]), surfaces)
        if cdt.takes_surfaces(code) and not surfaces:  # a restoration whose surfaces nobody placed
            continue
        out.append(Procedure(f"proc{min(f['id'] for f in fs)}", code, tooth,
                             surfaces if cdt.takes_surfaces(code) else "", planned,
                             fs[0]["label"]))
    return sorted(out, key=lambda p: int(p.name[4:]))


def _surfaces(letters: str) -> str:
    order = "MOIDBFLV"
    return "".join(sorted({s for s in letters.upper() if s in order}, key=order.index))


def _same_surfaces(a: str, b: str) -> bool:
    # Open Dental writes an anterior tooth's occlusal as I and its buccal as F (B/F, O/I in its docs)
    norm = str.maketrans("IFV", "OBB")
    return set(a.upper().translate(norm)) == set(b.upper().translate(norm))


class Procedures(PartKind):
    """One procedure per tooth and confirmed code (registered by od_parts)."""

    resource, marker_field, id_key, found_by = "procedurelogs", "", "ProcNum", "identity"

    def owns(self, name):
        return bool(_NAME.fullmatch(name))

    def names(self, settings, report):
        return [p.name for p in procedures(settings, report)]

    def _proc(self, run, name) -> Procedure:
        return next(p for p in procedures(run.settings, run.report) if p.name == name)

    def status(self, run, proc: Procedure) -> tuple[str, str]:
        """ProcStatus for this procedure and a note for the outbox (why not the configured one)."""
        if proc.planned:
            return "TP", ""
        if not hasattr(run, "_existing_status"):
            wanted = run.settings.existing_status
            version = program_version(run.client)
            new = version is not None and version[:3] >= NEW_STATUSES
            if wanted == "auto":
                run._existing_status = ("Cn" if new else "EO", "")
            elif wanted in ("EC", "Cn") and version is not None and not new:
                shown = ".".join(str(v) for v in version)
                run._existing_status = ("EO", f"Open Dental {shown} takes {wanted} only from 25.1.14: charted as EO")
            else:
                run._existing_status = (wanted, "")
        return run._existing_status

    def body(self, run, name, marker):
        proc = self._proc(run, name)
        status, note = self.status(run, proc)
        body = {"PatNum": run.pat_num, "ProcDate": run.created[:10], "ProcStatus": status, "procCode": proc.code,
                "ToothNum": proc.tooth}
        if proc.surfaces:
            body["Surf"] = proc.surfaces
        return body, note

    def post(self, client: ODClient, body: dict) -> dict:
        try:
            return client.request("POST", self.resource, body=body) or {}
        except ODError as exc:
            if exc.status == 401:  # the key worked for the patient read: this permission is what is missing
                raise ODError(PERMISSION, status=401, retry=False, written=False) from exc
            raise

    def _logs(self, run) -> list[ProcedureLog]:
        return [p for p in (ProcedureLog.from_row(r) for r in run.listing(self.resource) if isinstance(r, dict))
                if not p.deleted]

    def find(self, run, name, marker):
        """Our earlier write, by its identity (no marker field exists, see above)."""
        proc = self._proc(run, name)
        status, _ = self.status(run, proc)
        date = run.created[:10]
        for log in self._logs(run):
            if (log.pat_num == run.pat_num and log.code == proc.code and log.tooth == proc.tooth
                    and _same_surfaces(log.surfaces, proc.surfaces) and log.status == status and log.date == date):
                return str(log.proc_num)
        return None

    def present(self, run, name):
        proc = self._proc(run, name)
        for log in self._logs(run):
            if log.tooth != proc.tooth:
                continue
            if proc.planned and log.status in PLANNED and log.code == proc.code:
                return str(log.proc_num), f"{proc.code} on #{proc.tooth} is already planned in Open Dental"
            if not proc.planned and log.status in CHARTED and cdt.in_family(proc.label, log.code):
                return (str(log.proc_num), f"#{proc.tooth} already has {log.code} charted ({log.status}) in Open "
                                           "Dental; not charted again")
        return None

