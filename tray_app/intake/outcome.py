"""What the pipeline hands on about one image: its outcome, and what analysis needs of it."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.model import OnnxModel, Plan
from ..store import images as image_repo


@dataclass
class Outcome:
    image_id: int
    path: str
    status: str  # analyzed | decoded | duplicate | quarantined | retry | changed
    reason: str = ""
    study_id: int | None = None
    findings: int = 0
    duplicate_of: int | None = None

    def as_json(self) -> dict:
        return {
            "path": self.path, "status": self.status, "reason": self.reason or None, "study_id": self.study_id,
            "image_id": self.image_id, "findings": self.findings, "duplicate_of": self.duplicate_of,
        }


@dataclass(frozen=True)
class Work:
    """What analysis needs of an image row: read from the row, or handed over by intake
    without reading back what it just wrote."""
    image_id: int
    path: str
    kind: str
    sha256: str
    study_id: int | None
    width: int
    height: int
    teeth_fdi: tuple = ()

    @classmethod
    def of_row(cls, row) -> "Work":
        return cls(row["id"], row["path"], row["kind"] or "", row["sha256"] or "", row["study_id"],
                   row["width"] or 0, row["height"] or 0, tuple(image_repo.meta_of(row).get("teeth_fdi") or ()))


@dataclass
class Prepared:
    """One image made ready for the model (on the preparation thread, or inline): either the
    outcome intake ended with, or the work and the model's input."""
    image_id: int
    outcome: Outcome | None = None
    notify: bool = False  # the outcome is news (tell the summary and the steps after an image)
    work: Work | None = None
    model: OnnxModel | None = None
    plan: Plan | None = None  # None: the model does not analyse this kind of image (`note` says so)
    note: str = ""
