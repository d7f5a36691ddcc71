"""The kinds of thing the Open Dental export writes, as small registered plug-ins.

A kind names its parts for one report (`names`), builds each part's request body, posts it, and
can find an earlier write of the part in Open Dental (by the part's marker, or by its own
identity) so a retry never writes twice. The exporter walks `KINDS` in order; a new kind
(procedures, follow-up tasks, …) registers with `register()` in a module of its own.
"""

from __future__ import annotations

from typing import Callable

from .opendental import Upload, b64, description, fit_upload
from .comparison_page import comparison_pages
from .pdf import report_pdf
from .render import encode_image, models_text, nice_label, report_label
from ..pms.client import ODClient
from .od_part_kind import PartKind
from ..pms.formats import tooth_numbers
from ..review.report import LABEL, demo_line, demo_prefix, local_time
from ..store.reports import Report


KINDS: list[PartKind] = []


def register(kind: PartKind) -> PartKind:
    KINDS.append(kind)
    return kind


def kind_of(name: str) -> PartKind:
    for kind in KINDS:
        if kind.owns(name):
            return kind
    raise ValueError(f"unknown export part {name}")


class _Upload(PartKind):
    def post(self, client: ODClient, body: dict) -> dict:
        return client.upload_document(body)

    def upload(self, run, make: Callable[[float], Upload], marker: str, text: str,
               img_type: str) -> tuple[dict, Upload]:
        up = fit_upload(make, run.client.body_limit)
        if up.note:
            text += f" ({up.note})"
        return {"PatNum": run.pat_num, "rawBase64": b64(up.data), "extension": up.extension,
                "Description": description(text, marker), "DateCreated": run.created,
                "DocCategory": run.def_num(), "ImgType": img_type}, up


class AnnotatedImages(_Upload):
    """Documents POST Upload per annotated radiograph (ImgType Radiograph, ToothNumbers)."""

    def owns(self, name):
        return name.startswith("img")

    def names(self, settings, report):
        return [f"img{im['id']}" for im in report.images_to_render()] if settings.write_images else []

    def body(self, run, name, marker):
        report, image_id = run.report, int(name[3:])
        image, findings = report.image(image_id), report.image_findings(image_id)
        fmt = run.settings.image_format

        def make(scale: float) -> Upload:
            return Upload(encode_image(run.job.rendered(image, scale), fmt, run.settings.jpeg_quality), f".{fmt}")

        labels = ", ".join(sorted({nice_label(f.get("label", ""), report) for f in findings})) or "no findings"
        text = f"{run.label} — {image.get('kind') or 'radiograph'}: {labels} — {run.signed_by()}"
        body, up = self.upload(run, make, marker, text, "Radiograph")
        teeth = tooth_numbers([f.get("tooth_universal") for f in findings if f.get("tooth_universal")])
        if teeth:
            body["ToothNumbers"] = teeth
        return body, up.note


class ReportPdf(_Upload):
    """Documents POST Upload of the PDF findings report, or the patient-friendly summary."""

    def __init__(self, name: str, friendly: bool):
        self.name, self.friendly = name, friendly

    def owns(self, name):
        return name == self.name

    def names(self, settings, report):
        if self.friendly:
            return [self.name] if settings.write_patient_summary and report.drafts.get("patient_summary") else []
        return [self.name] if settings.write_pdf else []

    def body(self, run, name, marker):
        report = run.report

        before_after = comparison_pages(run.job.db, run.job.study_id, report) if self.friendly else []

        def make(scale: float) -> Upload:
            imgs = [(im, run.job.rendered(im, scale)) for im in report.images_to_render()]
            return Upload(report_pdf(report, imgs, study=run.job.study, marker=marker,
                                     patient_friendly=self.friendly, comparisons=before_after), ".pdf")

        what = "patient summary" if self.friendly else "findings report"
        body, up = self.upload(run, make, marker, f"{run.label} — {what} — {run.signed_by()}", "Document")
        return body, up.note


class ChartNote(PartKind):
    """Commlogs POST with the signed chart note (Commlogs POST answered nothing before 23.3.7)."""

    resource, marker_field, id_key = "commlogs", "Note", "CommlogNum"

    def owns(self, name):
        return name == "note"

    def names(self, settings, report):
        return ["note"] if settings.write_chart_note else []

    def body(self, run, name, marker):
        return {"PatNum": run.pat_num, "Note": chart_note(run.report, marker), "CommDateTime": run.created,
                "Mode_": "None", "SentOrReceived": "Neither"}, ""


class UrgentPopup(PartKind):
    """Popups POST for an urgent study, only when configured (popups irritate staff)."""

    resource, marker_field, id_key = "popups", "Description", "PopupNum"

    def owns(self, name):
        return name == "popup"

    def names(self, settings, report):
        urgent = "urgent" in (report.tags or []) and not report.is_automated
        return ["popup"] if settings.popup_for_urgent and urgent else []

    def body(self, run, name, marker):
        return {"PatNum": run.pat_num, "PopupLevel": "Patient",
                "Description": f"{demo_prefix(run.report)}{LABEL}: urgent findings {run.signed_by()} — see the chart "
                               f"note and Imaging. {marker}"}, ""


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


for _kind in (AnnotatedImages(), ReportPdf("pdf", False), ReportPdf("patient_pdf", True), ChartNote(),
              UrgentPopup()):
    register(_kind)

from .od_procedures import Procedures  # noqa: E402  (kinds in modules of their own, which do not import this one)
from .od_follow_up import KINDS as _FOLLOW_UP  # noqa: E402 — the follow-up after sign-off (issue 19)
for _kind in (Procedures(), *_FOLLOW_UP):
    register(_kind)
