"""The contract between the outbox and the exporters: one claimed row (`Job`) with its parts,
and the errors an exporter raises to say what the outbox should do with the row.

Exporters import only this module (never the outbox), and turn their own client's errors
(HTTP, DICOM association, file system) into these:

- `RetryLater`: not written this time for a passing reason; the row is retried with backoff;
- `NeedsAttention`: a person must act (wrong or unknown patient, permissions, keys);
- `NotSent`: an automated export that must not go out any more (final).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from ..store import audit
from ..errors import RetryLater
from ..intake.errors import OriginalChanged
from ..store import outbox as outbox_store
from ..store.reports import Report

__all__ = ["Exporter", "Job", "NeedsAttention", "NotSent", "Part", "RetryLater"]


class NeedsAttention(Exception):
    """A person has to act (wrong or unknown patient, permissions, keys); not retried by itself.
    `logged`: what the log may say (the message can name a patient or a file)."""

    def __init__(self, message: str = "", *, logged: str = "needs a person's attention"):
        super().__init__(message)
        self.logged = logged


class NotSent(Exception):
    """An automated export that must not go out any more (final): `superseded` when the study
    was signed first (the signed report goes instead), `cancelled` when automation was turned off."""

    def __init__(self, state: str, reason: str):
        super().__init__(reason)
        self.state = state


class Exporter(Protocol):
    name: str

    def export(self, job: "Job") -> dict: ...


class Queue(Protocol):
    """What a job needs of the outbox that claimed it: its clock and the automated-row guard."""

    db: Any

    def now_iso(self) -> str: ...

    def lease_until(self) -> str: ...

    def check_automated(self, c, study_id: int) -> None: ...


@dataclass
class Part:
    name: str
    marker: str
    state: str
    remote_id: str
    target: str
    attempts: int


class Job:
    """One claimed outbox row: the frozen report plus the part bookkeeping exporters use."""

    def __init__(self, outbox: Queue, row: dict, report: Report, report_sha256: str, study: dict):
        self.outbox = outbox
        self.db = outbox.db
        self.row = row
        self.id = row["id"]
        self.destination = row["destination"]
        self.study_id = row["study_id"]
        self.report = report
        self.report_sha256 = report_sha256
        self.study = study
        self.payload: dict[str, Any] = json.loads(row.get("payload") or "{}")
        self._rendered: dict[int, Any] = {}

    def rendered(self, image: dict, scale: float = 1.0):
        """The annotated rendering of one report image. Full size is made once per attempt and
        shared by the parts that need it (image upload, PDF, secondary capture); rendering is
        deterministic, so sharing changes no byte. An original replaced after signing is never sent."""
        # imported here, as the outbox always did: drawing brings PIL and numpy, which `export --status`
        # or `export --retry` never need
        from .render import render_study_image

        try:
            if scale != 1.0:
                return render_study_image(self.db, self.report, image, scale=scale)
            if image["id"] not in self._rendered:
                self._rendered[image["id"]] = render_study_image(self.db, self.report, image)
            return self._rendered[image["id"]]
        except OriginalChanged as exc:
            raise NeedsAttention(str(exc), logged="the original image changed after signing") from exc

    # -- markers ---------------------------------------------------------------------------
    @property
    def base_marker(self) -> str:
        return f"[DAB:{self.study_id}:{self.report_sha256[:12]}]"

    def marker(self, part: str) -> str:
        return f"[DAB:{self.study_id}:{self.report_sha256[:12]}:{part}]"

    # -- parts -----------------------------------------------------------------------------
    def part(self, name: str) -> Part:
        return _part(outbox_store.part(self.db, self.id, name, self.marker(name), self.outbox.now_iso()))

    def parts(self) -> list[Part]:
        return [_part(r) for r in outbox_store.parts(self.db, self.id)]

    def begin(self, name: str, target: str = "") -> None:
        """Committed before the write: from here on the outcome counts as unknown until done()."""
        now = self.outbox.now_iso()
        with self.db.tx() as c:
            if self.row.get("report_kind") == "automated":
                self.outbox.check_automated(c, self.study_id)  # signed or switched off mid-export: stop
            outbox_store.part_sending(c, self.id, name, target, now)
            outbox_store.extend_lease(c, self.id, self.outbox.lease_until(), now)
            audit.append(c, "export_write", f"outbox:{self.id}", study=self.study_id, destination=self.destination,
                         part=name, marker=self.marker(name))

    def done(self, name: str, remote_id: str = "", *, how: str = "written", detail: str = "") -> None:
        now = self.outbox.now_iso()
        with self.db.tx() as c:
            outbox_store.part_done(c, self.id, name, str(remote_id or ""), detail, now)
            outbox_store.extend_lease(c, self.id, self.outbox.lease_until(), now)
            audit.append(c, f"export_{how}", f"outbox:{self.id}", study=self.study_id, destination=self.destination,
                         part=name, remote_id=str(remote_id or ""), detail=detail)

    def not_written(self, name: str) -> None:
        """The write certainly did not happen (refused, never sent): no marker search next time."""
        outbox_store.part_pending(self.db, self.id, name, self.outbox.now_iso())

    def remember(self, **values) -> None:
        self.payload.update(values)
        outbox_store.set_payload(self.db, self.id, json.dumps(self.payload, sort_keys=True))


def _part(r) -> Part:
    return Part(r["part"], r["marker"], r["state"], r["remote_id"], r["target"], r["attempts"])
