"""Builds the typed report (`store.reports.Report`) once for sign-off and for targeted
automation, says what every writer of a report says first about a demonstration model, and
what a signed report corrects of an automatic export that went out before it."""

from __future__ import annotations

from datetime import datetime, timezone

from ..analysis.catalog import DEMO_MODEL_NAMES, ModelCatalog
from ..store.db import Database
from ..store import findings as findings_store
from ..store import reports
from ..store.reports import REPORT_FINDING_FIELDS, Patient, Report, Signer
from ..store.studies import queue

LABEL = "AI-Assisted Preliminary Findings"
DEMO_LINE = "DEMONSTRATION MODEL — not for clinical use"


def build(db: Database, study_id: int, findings: list, *, label: str, cdt: dict, drafts: dict,
          signer: Signer | None = None, signed_at: str | None = None, automated: dict | None = None,
          supersedes: dict | None = None, catalog: ModelCatalog | None = None,
          confirmed_codes: list | None = None) -> Report:
    """A report of the study's identity, set, tags and images and the given findings, with the
    models that made them, which of those are demonstration models and the display name and
    colour of each label (`catalog`: the installed models, default the bundled ones) and the
    treatment codes the signing dentist confirmed (review/codes.py)."""
    study = queue(db, include_done=True, study_id=study_id)[0]
    rows = [{k: f[k] for k in REPORT_FINDING_FIELDS} for f in findings]
    models = sorted({f"{r['model_name']} {r['model_version']}".strip() for r in rows if r["model_name"]})
    # "no findings" from a demonstration model is a demonstration result too: its images count
    analysed_by = sorted(set(models) | {im["model"] for im in study["images"] if im.get("model")})
    facts = (catalog or ModelCatalog.bundled()).report_facts(analysed_by, [r["label"] for r in rows])
    return Report(
        study_id=study_id, patient=Patient.from_dict(study["patient"]), study_uid=study["study_uid"],
        set=study.get("set"), tags=study.get("tags"),
        images=[{"id": im["id"], "kind": im["kind"], "sha256": im["sha256"]} for im in study["images"]],
        findings=rows, models=models, label=label, cdt=cdt, drafts=drafts, signer=signer, signed_at=signed_at,
        demonstration_models=facts["demonstration_models"], label_styles=facts["label_styles"],
        automated=automated, supersedes=supersedes, confirmed_codes=confirmed_codes or None)


def demonstration_models(report: Report) -> list[str]:
    """The report's models whose manifests say demonstration (recorded when the report was made;
    reports older than that record are recognised by the model's name)."""
    if report.demonstration_models is not None:
        return list(report.demonstration_models)
    return [m for m in report.models if m.split(" ")[0] in DEMO_MODEL_NAMES]


def demo_text(models: list[str]) -> str:
    """The first line of everything written from a demonstration model's findings ("" otherwise)."""
    return f"{DEMO_LINE} ({', '.join(models)}): not for diagnosis or treatment." if models else ""


def demo_line(report: Report) -> str:
    return demo_text(demonstration_models(report))


def demo_prefix(report: Report) -> str:
    """What a one-line text (a document description, a DICOM label) starts with for such a report."""
    return f"{DEMO_LINE} — " if demonstration_models(report) else ""


def local_time(iso: str) -> str:
    """Local 'YYYY-MM-DD HH:MM' for an ISO time (the store writes UTC; a time without a zone is UTC)."""
    try:
        dt = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso or ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone().strftime("%Y-%m-%d %H:%M")


def automated_record(db: Database, study_id: int) -> dict | None:
    """The automated export of a study if any of it reached a destination (None when it was
    only decided, or superseded/cancelled before anything was written)."""
    r = reports.automated_sent(db, study_id)
    if r is None:
        return None
    return {"at": r["decided_at"], "sha256": r["sha256"], "findings": Report.from_json(r["snapshot"]).findings}


def corrections(db: Database, study_id: int, rec: dict | None = None) -> list[dict]:
    """Automatically exported findings the signed report does not carry as sent: anything not
    accepted as it was (rejected, edited, or left unreviewed and so not in the report).
    `rec`: the study's automated_record() when the caller has it already."""
    rec = rec or automated_record(db, study_id)
    if rec is None:
        return []
    out = []
    for sent in rec["findings"]:
        now = findings_store.current(db, sent["id"])
        if now is not None and now["status"] == "accepted":
            continue
        change = "not confirmed"
        if now is not None and now["status"] == "edited":
            change = f"corrected to {now['label']} #{now['tooth_universal'] or '?'} {now['surfaces']}".strip()
        out.append({"id": sent["id"], "label": sent["label"], "tooth_universal": sent["tooth_universal"],
                    "change": change})
    return out
