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

Before retrying a write whose outcome is unknown (timeout, reset connection, 5xx, a crash
between the answer and our commit) the part's marker is looked up with `GET /documents?PatNum=`,
`GET /commlogs?PatNum=` or `GET /popups?PatNum=`, so nothing is written twice.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from .opendental import Upload, b64, description, fit_upload
from ..pms.client import ODClient, ODError
from ..pms.formats import od_datetime, tooth_numbers
from ..pms.patients import PatientProblem, resolve_patient
from .job import Job, NeedsAttention, RetryLater
from ..review.report import LABEL, demo_line, demo_prefix, local_time
from ..store.reports import Report
from .pdf import report_pdf
from .render import encode_image, models_text, nice_label, report_label, signed_by
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

    # -- the plan ----------------------------------------------------------------------------
    def plan(self, job: Job) -> list[str]:
        s = self.settings
        parts = []
        if s.write_images:
            parts += [f"img{im['id']}" for im in job.report.images_to_render()]
        if s.write_pdf:
            parts.append("pdf")
        if s.write_patient_summary and job.report.drafts.get("patient_summary"):
            parts.append("patient_pdf")
        if s.write_chart_note:
            parts.append("note")
        if s.popup_for_urgent and "urgent" in (job.report.tags or []) and not job.report.is_automated:
            parts.append("popup")
        return parts

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
            return _ODRun(self, job, client, parts).run()
        except ODError as exc:  # the outbox's terms: retried by itself, or a person must act
            kind = f"Open Dental {exc.status or ('unreachable' if exc.unreachable else 'error')}"
            raise (RetryLater if exc.retry else NeedsAttention)(str(exc), logged=kind) from exc
        finally:
            client.close()


class _ODRun:
    def __init__(self, exporter: OpenDentalExporter, job: Job, client: ODClient, parts: list[str]):
        self.settings = exporter.settings
        self.job = job
        self.client = client
        self.parts = parts
        self.report = job.report
        self.pat_num = 0
        self._docs: list[dict] | None = None
        self._commlogs: list[dict] | None = None
        self._popups: list[dict] | None = None
        self._def_num: int | None = None
        self.written = 0

    def run(self) -> dict:
        try:
            record = resolve_patient(self.client, self.report.patient.to_dict(),
                                     require_birth_date=self.settings.require_birth_date)
        except PatientProblem as exc:
            raise NeedsAttention(str(exc)) from exc
        self.pat_num = int(record["PatNum"])
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
        job = self.job
        part = job.part(name)
        if part.state == "done":
            return ""
        if part.state == "sending":  # outcome of an earlier attempt unknown: look before writing again
            found = self.find(name, part.marker)
            if found is not None:
                job.done(name, found, how="found", detail="found by marker; not written again")
                return ""
        body, note = self.body(name, part.marker)
        job.begin(name)
        try:
            result = self.post(name, body)
        except ODError as exc:
            if exc.written is False:
                job.not_written(name)
            raise
        remote_id = self.remote_id(name, result, part.marker)
        # (a crash here, before done() commits, leaves the part `sending`: the next attempt finds it)
        job.done(name, remote_id, detail=note)
        self.written += 1
        return f"{name}: {note}" if note else ""

    def post(self, name: str, body: dict) -> dict:
        if name == "note":
            return self.client.post_commlog(body)
        if name == "popup":
            return self.client.post_popup(body)
        return self.client.upload_document(body)

    def remote_id(self, name: str, result: dict, marker: str) -> str:
        key = {"note": "CommlogNum", "popup": "PopupNum"}.get(name, "DocNum")
        value = (result or {}).get(key) if isinstance(result, dict) else None
        if value is None and name == "note":  # Commlogs POST returned nothing before 23.3.7
            self._commlogs = None
            value = self.find(name, marker)
        return str(value or "")

    def find(self, name: str, marker: str) -> str | None:
        if name == "note":
            if self._commlogs is None:
                self._commlogs = self.client.commlogs(self.pat_num)
            rows, field, key = self._commlogs, "Note", "CommlogNum"
        elif name == "popup":
            if self._popups is None:
                self._popups = self.client.popups(self.pat_num)
            rows, field, key = self._popups, "Description", "PopupNum"
        else:
            if self._docs is None:
                self._docs = self.client.documents(self.pat_num)
            rows, field, key = self._docs, "Description", "DocNum"
        for r in rows:
            if marker in str(r.get(field) or ""):
                return str(r.get(key) or "?")
        return None

    # -- bodies ------------------------------------------------------------------------------
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

    def body(self, name: str, marker: str) -> tuple[dict, str]:
        report = self.report
        created = od_datetime(report.time)
        label = demo_prefix(report) + report_label(report)
        if name.startswith("img"):
            image_id = int(name[3:])
            image = report.image(image_id)
            findings = report.image_findings(image_id)
            fmt = self.settings.image_format

            def make(scale: float) -> Upload:
                img = self.job.rendered(image, scale)
                return Upload(encode_image(img, fmt, self.settings.jpeg_quality), f".{fmt}")

            up = fit_upload(make, self.client.body_limit)
            labels = ", ".join(sorted({nice_label(f.get("label", ""), report) for f in findings})) or "no findings"
            text = f"{label} — {image.get('kind') or 'radiograph'}: {labels} — {self.signed_by()}"
            if up.note:
                text += f" ({up.note})"
            body = {"PatNum": self.pat_num, "rawBase64": b64(up.data), "extension": up.extension,
                    "Description": description(text, marker), "DateCreated": created,
                    "DocCategory": self.def_num(), "ImgType": "Radiograph"}
            teeth = tooth_numbers([f.get("tooth_universal") for f in findings if f.get("tooth_universal")])
            if teeth:
                body["ToothNumbers"] = teeth
            return body, up.note
        if name in ("pdf", "patient_pdf"):
            friendly = name == "patient_pdf"

            def make_pdf(scale: float) -> Upload:
                imgs = [(im, self.job.rendered(im, scale)) for im in report.images_to_render()]
                return Upload(report_pdf(report, imgs, study=self.job.study, marker=marker, patient_friendly=friendly),
                              ".pdf")

            up = fit_upload(make_pdf, self.client.body_limit)
            what = "patient summary" if friendly else "findings report"
            text = f"{label} — {what} — {self.signed_by()}"
            if up.note:
                text += f" ({up.note})"
            return {"PatNum": self.pat_num, "rawBase64": b64(up.data), "extension": ".pdf",
                    "Description": description(text, marker), "DateCreated": created,
                    "DocCategory": self.def_num(), "ImgType": "Document"}, up.note
        if name == "note":
            return {"PatNum": self.pat_num, "Note": chart_note(report, marker), "CommDateTime": created,
                    "Mode_": "None", "SentOrReceived": "Neither"}, ""
        if name == "popup":
            return {"PatNum": self.pat_num, "PopupLevel": "Patient",
                    "Description": f"{demo_prefix(report)}{LABEL}: urgent findings {self.signed_by()} — see the chart note and Imaging. "
                                   f"{marker}"}, ""
        raise ValueError(f"unknown export part {name}")


def chart_note(report: Report, marker: str) -> str:
    """The signed chart note as written to the PMS: the draft the dentist signed, then who signed, then the marker.
    A demonstration model's note says so in its first line."""
    note = (report.drafts.get("chart_note") or f"{report_label(report)}.").rstrip()
    if demo_line(report):
        note = f"{demo_line(report)}\n{note}"
    if report.is_automated:  # the note says itself that nobody has reviewed it
        return f"{note}\n{marker}"
    name, role = report.signer_name, report.signer.role if report.signer else ""
    signed = f"Reviewed and signed by {name} ({role}) on {local_time(report.signed_at or '')}."
    # the drafted note names the model(s) in its last line; older drafts did not
    model = "" if "\nModel: " in note else f"\nModel: {models_text(report)}."
    if "Reviewed and signed by" in note:  # drafts signed since the notes carry the signer themselves
        note = note.replace(f"Reviewed and signed by {name}.", signed)
        return f"{note}{model}\n{marker}"
    return f"{note}\n{signed}{model}\n{marker}"
