"""Targeted automation, the third rollout phase: confident findings of configured low-risk
labels (existing restorations, crowns, root fillings, implants by default) go to the chart
before a dentist has looked, marked "AI-generated, not yet verified", and the study stays in
the review queue until a dentist signs it.

One decision per study, made once the study has been quiet for `auto_settle_seconds` and
every image is analysed, and kept immutable like a signed report (`automated_reports`):

    exported  the selected findings' snapshot, with one outbox row per destination
    nothing   no finding qualified; nothing was sent
    skipped   the study's identity is in doubt (no patient id, images naming different
              patients); a person must sign it

Diagnoses (caries, bone loss, periapical lesions …) can never be configured for automation
(see GovernanceConfig.validate); a signature later exports the full reviewed report, and the
signed chart note names any automatically exported finding the dentist did not confirm.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from .store import audit
from .clinical import notes
from .clinical.image_type import UNCERTAIN
from .config import GovernanceConfig
from .review.report import build as build_report
from .store import findings, images, outbox, reports, studies
from .store.db import Database, utcnow
from .store.reports import Report

log = logging.getLogger(__name__)

AUTO_LABEL = "AI-generated, not yet verified"
PENDING_IMAGE_STATES = ("discovered", "ready", "decoded")
MAX_AGE_HOURS = 24  # turning the mode on never sends a backlog of old unreviewed studies


def qualifying(findings: list[dict], gov: GovernanceConfig) -> list[dict]:
    """Model findings nobody has touched, of an automated label, at or above the confidence,
    and never one the model's manifest rates as a diagnosis (severity 2+)."""
    labels = set(gov.auto_labels)
    return [f for f in findings if f["source"] == "model" and f["status"] == "proposed"
            and f["label"] in labels and f["confidence"] >= gov.auto_min_confidence
            and (f.get("severity") or 0) < 2]


def identity_problem(db: Database, study_id: int) -> str:
    """Why this study cannot go out without a person (empty when it can): the checks a
    signing dentist is warned about, made strict because nobody looks first."""
    s = studies.identity(db, study_id)
    if s is None or not s["patient_id"]:
        return "the images carry no patient id"
    if not s["patient_name"] or not s["birth_date"]:
        return "the images carry no patient name or birth date, so the chart match would rest on the id alone"
    names = images.patient_names(db, study_id)
    if len(names) > 1:
        return f"the images name different patients ({', '.join(sorted(names))})"
    uncertain = len(images.type_uncertain(db, study_id, UNCERTAIN))
    if uncertain:
        return f"the type of {uncertain} image(s) is uncertain"
    return ""


def candidates(db: Database, settle_seconds: float, now: datetime | None = None) -> list[int]:
    """Unreviewed studies with every image analysed, quiet for settle_seconds, not yet decided."""
    now = now or datetime.now(timezone.utc)
    cutoff = (now - timedelta(seconds=settle_seconds)).isoformat(timespec="milliseconds")
    oldest = (now - timedelta(hours=MAX_AGE_HOURS)).isoformat(timespec="milliseconds")
    # a file found recently but not read yet has no study: it may belong to any of them
    if images.pending_without_study_since(db, PENDING_IMAGE_STATES, cutoff):
        return []
    return reports.automation_candidates(db, PENDING_IMAGE_STATES, oldest, cutoff)


def _report(db: Database, study_id: int, findings: list[dict], gov: GovernanceConfig, decided_at: str) -> Report:
    report = build_report(db, study_id, findings, label=AUTO_LABEL,
                          cdt={"imaging": [], "treatment": []},  # nothing is billed from unreviewed output
                          drafts={}, automated={"at": decided_at, "labels": list(gov.auto_labels),
                                                "min_confidence": gov.auto_min_confidence, "verified": False})
    clinical = studies.clinical(db, study_id)
    note = notes.automated_note(findings, study_line=clinical.get("study_line") or "study",
                                labels=gov.auto_labels, min_confidence=gov.auto_min_confidence,
                                model=", ".join(report.models) or "—")
    return replace(report, drafts={"chart_note": note})


def decide(db: Database, study_id: int, gov: GovernanceConfig, destinations: list[str]) -> dict:
    """Records the automation decision for one study (once) and queues its exports."""
    problem = identity_problem(db, study_id)
    found = sorted((dict(r) for r in findings.of_study(db, study_id)), key=lambda f: (f["image_id"], f["id"]))
    chosen = [] if problem else qualifying(found, gov)
    decided_at = utcnow()
    snapshot_text = digest = ""
    if problem:
        outcome, reason = "skipped", f"not sent automatically: {problem}; a dentist must review and sign it"
    elif not chosen:
        outcome, reason = "nothing", "no finding of an automated label reached the confidence"
    else:
        outcome, reason = "exported", ""
        snapshot_text = _report(db, study_id, chosen, gov, decided_at).to_json()
        digest = reports.digest(snapshot_text)
    with db.tx() as c:
        if not reports.open_for_automation(c, study_id):  # reviewed, signed or decided meanwhile (another process)
            return {"study_id": study_id, "outcome": "not_open"}
        reports.insert_automated(c, study_id, decided_at, outcome, reason, snapshot_text, digest)
        queued = destinations if outcome == "exported" else []
        for dest in queued:
            outbox.queue(c, study_id, dest, decided_at, kind="automated")
        audit.append(c, f"automation_{outcome}", f"study:{study_id}", reason=reason, report_sha256=digest,
                     findings=[f["id"] for f in chosen], labels=list(gov.auto_labels),
                     min_confidence=gov.auto_min_confidence, destinations=queued)
    if outcome != "nothing":
        log.info("study %d: automation %s%s", study_id, outcome, f" ({reason})" if reason else "")
    return {"study_id": study_id, "outcome": outcome, "reason": reason, "findings": len(chosen),
            "destinations": queued}


def run_pass(db: Database, gov: GovernanceConfig, destinations: list[str], now: datetime | None = None) -> list[dict]:
    if not gov.automated or not destinations:
        return []  # with nowhere to send, the one decision per study waits for a destination
    out = []
    for sid in candidates(db, gov.auto_settle_seconds, now):
        try:
            out.append(decide(db, sid, gov, destinations))
        except Exception:  # one odd study must not stop the others; it is tried again next pass
            log.exception("automation: study %d could not be decided", sid)
    return out


def unverified(db: Database) -> list[dict[str, Any]]:
    """Automatically exported studies no dentist has signed yet: the list for later review."""
    out = []
    for r in reports.unverified(db):
        report = Report.from_json(r["snapshot"])
        out.append({"study_id": r["study_id"], "exported_at": r["decided_at"], "status": r["status"],
                    "patient": {"id": r["patient_id"], "name": r["patient_name"]},
                    "findings": [{"id": f["id"], "label": f["label"], "tooth_universal": f["tooth_universal"] or None,
                                  "confidence": round(f["confidence"], 3)} for f in report.findings],
                    "export_states": outbox.automated_states(db, r["study_id"]), "report_sha256": r["sha256"]})
    return out
