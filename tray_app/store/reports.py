"""Report snapshots: the typed `Report` every sign-off, automation decision and exporter uses,
and the two tables that hold them (`reports`: signed, `automated_reports`: targeted automation).

A snapshot is stored as `json.dumps(report, sort_keys=True, ensure_ascii=False)` and its sha256
is that text's; rows are immutable (triggers refuse updates). `Report.to_json()` writes exactly
that text, so the hash of a report is the hash it always had, and `Report.from_json` reads
every snapshot ever stored — those from before `demonstration_models` and `label_styles` were
recorded too (those fields are then None, and omitted again when written).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any

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
_OMITTED_WHEN_NONE = ("demonstration_models", "label_styles", "automated", "supersedes")


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
