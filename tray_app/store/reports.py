"""Report snapshots: the typed `Report` every sign-off, automation decision and exporter uses,
and the two tables that hold them (`reports`: signed, `automated_reports`: targeted automation).

A snapshot is stored as `json.dumps(report, sort_keys=True, ensure_ascii=False)` and its sha256
is that text's; rows are immutable (triggers refuse updates). `Report.to_json()` writes exactly
that text, so the hash of a report is the hash it always had, and `Report.from_json` reads
every snapshot ever stored — those from before `demonstration_models` and `label_styles` were
recorded too (those fields are then None, and omitted again when written; so is
`confirmed_codes` when the dentist confirmed no treatment code).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field, fields
from typing import Any

from .db import Database
from .outbox import AUTOMATED_SENT

# the finding fields a report snapshot freezes (signed or automated)
REPORT_FINDING_FIELDS = ("id", "image_id", "label", "code", "confidence", "x1", "y1", "x2", "y2", "tooth_fdi",
                         "tooth_universal", "surfaces", "status", "source", "note", "model_name", "model_version")


@dataclass(frozen=True)
class Patient:
    id: str = ""
    id_kind: str = ""        # 'patnum' or 'chartnumber' (what the imaging software's id means)
    name: str = ""           # DICOM style: Last^First^Middle
    birth_date: str = ""     # YYYYMMDD as the images carry it

    @property
    def last(self) -> str:
        return (self.name or "").partition("^")[0]

    @property
    def first(self) -> str:
        return (self.name or "").partition("^")[2].split("^")[0]

    @classmethod
    def from_dict(cls, d: dict | None) -> "Patient":
        d = d or {}
        return cls(**{f.name: d.get(f.name, "") for f in fields(cls)})

    def to_dict(self) -> dict:
        return {"id": self.id, "id_kind": self.id_kind, "name": self.name, "birth_date": self.birth_date}


@dataclass(frozen=True)
class Signer:
    id: int
    name: str
    role: str

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "role": self.role}


# recorded only by some reports: left out of the text when None (never stored as null)
_OMITTED_WHEN_NONE = ("demonstration_models", "label_styles", "automated", "supersedes", "confirmed_codes")


@dataclass(frozen=True)
class Report:
    """One report as frozen at signing (or at an automation decision). `images` and `findings`
    are the rows as they were frozen (`findings`: REPORT_FINDING_FIELDS of each)."""

    study_id: int
    patient: Patient
    study_uid: str | None
    set: dict | None
    tags: list | None
    images: list[dict]
    findings: list[dict]
    models: list[str]
    label: str
    cdt: dict
    drafts: dict
    signer: Signer | None
    signed_at: str | None
    demonstration_models: list[str] | None = None   # None: made before this was recorded
    label_styles: dict | None = None                 # {label: {display, color}}; None: not recorded
    automated: dict | None = None                    # targeted automation: {at, labels, min_confidence, verified}
    supersedes: dict | None = None                   # signed after an automated export: what it corrects
    confirmed_codes: list | None = None              # [{finding_id, code}] the signing dentist confirmed
    extra: dict = field(default_factory=dict, compare=False)       # keys of a newer version, kept as they are
    absent: frozenset = field(default=frozenset(), compare=False)  # keys the stored text did not have

    # -- reading -----------------------------------------------------------------------------
    @property
    def is_automated(self) -> bool:
        return bool(self.automated)

    @property
    def time(self) -> str:
        """ISO time the report was made: the signature, or the automatic decision."""
        return self.signed_at or (self.automated or {}).get("at") or ""

    @property
    def signer_name(self) -> str:
        return self.signer.name if self.signer else ""

    def image(self, image_id: int) -> dict:
        return next(im for im in self.images if im["id"] == image_id)

    def image_findings(self, image_id: int) -> list[dict]:
        return [f for f in self.findings if f.get("image_id") == image_id]

    def images_to_render(self) -> list[dict]:
        """The images with findings, else all of them."""
        with_findings = {f.get("image_id") for f in self.findings}
        return [im for im in self.images if im["id"] in with_findings] or list(self.images)

    # -- the stored form ---------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict) -> "Report":
        known = {f.name for f in fields(cls)} - {"extra", "absent"}
        signer = d.get("signer")
        values: dict[str, Any] = {k: d.get(k) for k in known}
        values.update(
            patient=Patient.from_dict(d.get("patient")),
            images=list(d.get("images") or []), findings=list(d.get("findings") or []),
            models=list(d.get("models") or []), label=d.get("label") or "", cdt=d.get("cdt") or {},
            drafts=d.get("drafts") or {},
            signer=Signer(signer.get("id"), signer.get("name") or "", signer.get("role") or "") if signer else None,
        )
        return cls(**values, extra={k: v for k, v in d.items() if k not in known},
                   absent=frozenset(k for k in known if k not in d and k not in _OMITTED_WHEN_NONE))

    @classmethod
    def from_json(cls, text: str) -> "Report":
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("extra", "absent")}
        out["patient"] = self.patient.to_dict()
        out["signer"] = self.signer.to_dict() if self.signer else None
        for k in _OMITTED_WHEN_NONE:
            if out[k] is None:
                del out[k]
        for k in self.absent:
            out.pop(k, None)
        return out | self.extra

    def to_json(self) -> str:
        """The stored text, byte for byte what the snapshot always was (its sha256 is the report's)."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- signed reports (`reports`) --------------------------------------------------------------
def insert_signed(c: sqlite3.Connection, study_id: int, signer: Signer, signed_at: str, text: str, sha256: str) -> None:
    c.execute("INSERT INTO reports(study_id, signed_by, signer_name, signed_at, snapshot, sha256) VALUES (?,?,?,?,?,?)",
              (study_id, signer.id, signer.name, signed_at, text, sha256))


def signed(db: Database, study_id: int) -> sqlite3.Row | None:
    return db.one("SELECT * FROM reports WHERE study_id=?", (study_id,))


def is_signed(c: sqlite3.Connection, study_id: int) -> bool:
    return c.execute("SELECT 1 FROM reports WHERE study_id=?", (study_id,)).fetchone() is not None


# -- targeted automation (`automated_reports`): one immutable decision per study ---------------
def insert_automated(c: sqlite3.Connection, study_id: int, decided_at: str, outcome: str, reason: str, text: str,
                     sha256: str) -> None:
    c.execute("INSERT INTO automated_reports(study_id, decided_at, outcome, reason, snapshot, sha256) "
              "VALUES (?,?,?,?,?,?)", (study_id, decided_at, outcome, reason, text, sha256))


def automated_export(db: Database, study_id: int) -> sqlite3.Row | None:
    """The automatically exported report of a study (None unless the decision was to export)."""
    return db.one("SELECT * FROM automated_reports WHERE study_id=? AND outcome='exported'", (study_id,))


def automated_sent(db: Database, study_id: int) -> sqlite3.Row | None:
    """The automated export of a study if any of it reached a destination."""
    return db.one("SELECT decided_at, snapshot, sha256 FROM automated_reports a WHERE study_id=? AND "
                  f"outcome='exported' AND {AUTOMATED_SENT.format(study='a.study_id')}", (study_id,))


def open_for_automation(c: sqlite3.Connection, study_id: int) -> bool:
    """Not reviewed, signed or decided (by another process) since the candidates were read."""
    return c.execute("SELECT 1 FROM studies WHERE id=? AND status='new' AND NOT EXISTS "
                     "(SELECT 1 FROM automated_reports WHERE study_id=?)", (study_id, study_id)).fetchone() is not None


def automation_candidates(db: Database, pending_states: tuple[str, ...], oldest: str, cutoff: str) -> list[int]:
    """New studies with no decision and no signature, some image analysed, none still pending,
    whose newest image change lies between `oldest` and `cutoff`."""
    marks = ",".join("?" * len(pending_states))
    return [r["id"] for r in db.query(
        "SELECT s.id FROM studies s WHERE s.status='new' "
        "AND NOT EXISTS (SELECT 1 FROM automated_reports a WHERE a.study_id=s.id) "
        "AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.study_id=s.id) "
        "AND EXISTS (SELECT 1 FROM images i WHERE i.study_id=s.id AND i.state='analyzed') "
        f"AND NOT EXISTS (SELECT 1 FROM images i WHERE i.study_id=s.id AND i.state IN ({marks})) "
        "AND (SELECT MAX(i.updated_at) FROM images i WHERE i.study_id=s.id) BETWEEN ? AND ? ORDER BY s.id",
        (*pending_states, oldest, cutoff))]


def unverified(db: Database) -> list[sqlite3.Row]:
    """Automatically exported studies no dentist has signed yet, oldest first."""
    return db.query(
        "SELECT a.study_id, a.decided_at, a.sha256, a.snapshot, s.status, s.patient_id, s.patient_name "
        "FROM automated_reports a JOIN studies s ON s.id=a.study_id WHERE a.outcome='exported' "
        "AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.study_id=a.study_id) ORDER BY a.decided_at")
