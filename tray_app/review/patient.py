"""Which study `review --patient ID` opens: the newest study of the patient in front of the user.

An Open Dental Program Link passes the patient's PatNum or chart number (docs/program-link.md);
which one an id in our files means is set per watch folder (`[[sources]] patient_id`), so an id
without `--id-kind` is looked up as what the watch folders say it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import PATIENT_ID_MEANINGS, Config, SourceConfig
from ..store import studies
from ..store.db import Database

ID_NAMES = {"patnum": "PatNum", "chartnumber": "chart number"}


@dataclass(frozen=True)
class PatientMatch:
    study_id: int | None
    message: str = ""  # why nothing opens, in words for the front desk (empty when a study matched)


def id_kinds(config: Config, id_kind: str | None = None) -> tuple[str, ...]:
    """What a patient id may mean: the kind asked for, else the watch folders' meanings (both without any)."""
    if id_kind:
        return (id_kind,)
    configured = {s.patient_id for s in config.sources}
    if config.dicom.enabled:  # the receiver's inbox is watched as a folder with the default meaning (app.py)
        configured.add(SourceConfig(path="").patient_id)
    return tuple(k for k in PATIENT_ID_MEANINGS if k in configured) or PATIENT_ID_MEANINGS


def find(db: Database, config: Config, patient_id: str, id_kind: str | None = None) -> PatientMatch:
    pid = (patient_id or "").strip()
    if not pid:
        return PatientMatch(None, "No patient number was passed (is a patient selected in the practice software?). "
                                  "Showing the review queue.")
    kinds = id_kinds(config, id_kind)
    rows = studies.newest_of_patient(db, pid, kinds)
    if len(rows) > 1:
        # a PatNum of one patient can be the chart number of another: never guess between them
        return PatientMatch(None, f"{pid} is the PatNum of one patient and the chart number of another. "
                                  "Add --id-kind patnum or --id-kind chartnumber to the link's command line. "
                                  "Showing the review queue.")
    if not rows:
        what = " or ".join(ID_NAMES[k] for k in kinds)
        return PatientMatch(None, f"No radiographs of the patient with {what} {pid} have arrived yet. "
                                  "Showing the review queue.")
    return PatientMatch(rows[0]["id"])
