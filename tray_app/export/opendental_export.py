"""Writes one signed report into Open Dental (the client is tray_app.pms.client).

What one signed study writes (each configurable, each carrying a unique marker
`[DAB:{study_id}:{report_sha256[:12]}:{part}]` so a retry can find it):

1. `GET /patients/{PatNum}` (or `GET /patients?ChartNumber=` first): the patient must exist and
   the last name and birth date must match the radiograph, else nothing is written.
2. `GET /definitions?Category=18`: the image category's DefNum by name.
3. `POST /documents/Upload` per annotated radiograph (ImgType Radiograph, DocCategory,
   ToothNumbers, DateCreated, Description "AI-Assisted Preliminary Findings … [marker]").
4. `POST /documents/Upload` for the PDF findings report (ImgType Document, extension .pdf).
5. `POST /commlogs` with the signed chart note (marker in the Note).
6. `POST /popups` for an urgent study, only when configured.
7. `POST /procedurelogs` per confirmed treatment code (TP) and per accepted existing work (EO/Cn),
   only when configured (od_procedures.py: no marker field, found by identity; not written when
   Open Dental already has it).

Before retrying a write whose outcome is unknown (timeout, reset connection, 5xx, a crash
between the answer and our commit) the part's marker is looked up with `GET /documents?PatNum=`,
`GET /commlogs?PatNum=` or `GET /popups?PatNum=`, so nothing is written twice. Each kind of part is a
plug-in in od_parts.py.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from . import od_parts
from ..pms.client import ODClient, ODError
from ..pms.formats import od_datetime
from ..pms.patients import PatientProblem, resolve_patient
from .job import Job, NeedsAttention, RetryLater
from ..review.report import demo_prefix
from .render import report_label, signed_by
from ..pms.keys import ODKeys, get_opendental_keys
from ..settings.export import OpenDentalConfig

log = logging.getLogger("tray_app.export.opendental")


class OpenDentalExporter:
    name = "opendental"

    def __init__(self, settings: OpenDentalConfig, *, keys_provider: Callable[[], ODKeys | None] | None = None,
                 client_factory: Callable[[OpenDentalConfig, ODKeys], ODClient] | None = None):
        self.settings = settings
        self.keys_provider = keys_provider or get_opendental_keys
        self.client_factory = client_factory or (lambda s, k: ODClient(s, k, clock=time.monotonic))

    def plan(self, job: Job) -> list[str]:
        return [name for kind in od_parts.KINDS for name in kind.names(self.settings, job.report)]

    def export(self, job: Job) -> dict:
        keys = self.keys_provider()
        if keys is None:
            raise NeedsAttention("the Open Dental API keys are not set up: run `dental-bridge secrets set opendental` "
                                 "(or ask your IT support), then retry the export")
        parts = self.plan(job)
        if all(job.part(p).state == "done" for p in parts):
            return {"parts": parts, "written": 0}
        client = self.client_factory(self.settings, keys)
        try:
            return ODRun(self, job, client, parts).run()
        except ODError as exc:  # the outbox's terms: retried by itself, or a person must act
            kind = f"Open Dental {exc.status or ('unreachable' if exc.unreachable else 'error')}"
            raise (RetryLater if exc.retry else NeedsAttention)(str(exc), logged=kind) from exc
        finally:
            client.close()


class ODRun:
    """One attempt at one signed study: the patient confirmed, then each part written at most once."""

    def __init__(self, exporter: OpenDentalExporter, job: Job, client: ODClient, parts: list[str]):
        self.settings = exporter.settings
        self.job = job
        self.client = client
        self.parts = parts
        self.report = job.report
        self.pat_num = 0
        self.created = od_datetime(self.report.time)
        self.label = demo_prefix(self.report) + report_label(self.report)
        self._listings: dict[str, list[dict]] = {}
        self._def_num: int | None = None
        self.written = 0

    def run(self) -> dict:
        try:
            record = resolve_patient(self.client, self.report.patient.to_dict(),
                                     require_birth_date=self.settings.require_birth_date)
        except PatientProblem as exc:
            raise NeedsAttention(str(exc)) from exc
        self.pat_num = int(record["PatNum"])
        self.record = record
        earlier = self.job.payload.get("pat_num")
        if earlier and int(earlier) != self.pat_num:
            raise NeedsAttention(f"the patient now resolves to Open Dental PatNum {self.pat_num}, but earlier parts of "
                                 f"this export went to PatNum {earlier}; check the chart numbers before retrying")
        if not earlier:
            self.job.remember(pat_num=self.pat_num, mode=self.client.mode)
        notes = []
        for name in self.parts:
            note = self.write_part(name)
            if note:
                notes.append(note)
        return {"pat_num": self.pat_num, "parts": self.parts, "written": self.written, "mode": self.client.mode,
                **({"notes": notes} if notes else {})}

    # -- idempotent write of one part ----------------------------------------------------------
    def write_part(self, name: str) -> str:
        job, kind = self.job, od_parts.kind_of(name)
        part = job.part(name)
        if part.state == "done":
            return ""
        if part.state == "sending":  # outcome of an earlier attempt unknown: look before writing again
            found = kind.find(self, name, part.marker)
            if found is not None:
                job.done(name, found, how="found", detail=f"found by {kind.found_by}; not written again")
                return ""
        there = kind.present(self, name)
        if there is not None:  # e.g. a crown charted in Open Dental before: not written a second time
            job.done(name, there[0], how="found", detail=there[1])
            return ""
        body, note = kind.body(self, name, part.marker)
        job.begin(name)
        try:
            result = kind.post(self.client, body)
        except ODError as exc:
            if exc.written is False:
                job.not_written(name)
            raise
        value = result.get(kind.id_key) if isinstance(result, dict) else None
        if value is None:  # e.g. Commlogs POST answered nothing before 23.3.7
            self._listings.pop(kind.resource, None)
            value = kind.find(self, name, part.marker)
        # (a crash here, before done() commits, leaves the part `sending`: the next attempt finds it)
        job.done(name, str(value or ""), detail=note)
        self.written += 1
        return f"{name}: {note}" if note else ""

    def listing(self, resource: str) -> list[dict]:
        """`GET /<resource>?PatNum=` once per attempt (all pages)."""
        if resource not in self._listings:
            self._listings[resource] = self.client.get_all(resource, {"PatNum": self.pat_num})
        return self._listings[resource]

    def def_num(self) -> int:
        if self._def_num is None:
            wanted = self.settings.doc_category.strip().casefold()
            cats = self.client.image_categories()
            match = [c for c in cats if str(c.get("ItemName", "")).strip().casefold() == wanted
                     and str(c.get("isHidden", "false")).lower() != "true"]
            if not match:
                raise NeedsAttention(f"Open Dental has no image category named {self.settings.doc_category!r}: add it "
                                     "in Setup > Definitions > Image Categories, or change the category in Dental AI "
                                     "Bridge's export settings")
            self._def_num = int(match[0]["DefNum"])
        return self._def_num

    def signed_by(self) -> str:
        return signed_by(self.report)
