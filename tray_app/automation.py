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

import json
import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from . import audit
from .clinical import notes
from .clinical.image_type import UNCERTAIN
from .config import GovernanceConfig
from .review.report import build as build_report
from .store import reports
from .store.db import Database, utcnow
from .store.reports import Report

log = logging.getLogger(__name__)

AUTO_LABEL = "AI-generated, not yet verified"
PENDING_IMAGE_STATES = ("discovered", "ready", "decoded")
MAX_AGE_HOURS = 24  # turning the mode on never sends a backlog of old unreviewed studies
# an automated export counts as sent once a row finished or any part of one was written
SENT_SQL = ("EXISTS (SELECT 1 FROM outbox o WHERE o.study_id={study} AND o.report_kind='automated' AND "
            "(o.state='done' OR EXISTS (SELECT 1 FROM export_parts p WHERE p.outbox_id=o.id AND "
            "p.state IN ('done','sending'))))")


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
    s = db.one("SELECT patient_id, patient_name, birth_date FROM studies WHERE id=?", (study_id,))
    if s is None or not s["patient_id"]:
        return "the images carry no patient id"
    if not s["patient_name"] or not s["birth_date"]:
        return "the images carry no patient name or birth date, so the chart match would rest on the id alone"
    names = patient_names(db, study_id)
    if len(names) > 1:
        return f"the images name different patients ({', '.join(sorted(names))})"
    uncertain = db.one("SELECT COUNT(*) FROM images WHERE study_id=? AND kind_confidence>0 AND kind_confidence<? "
                       "AND state NOT IN ('duplicate','quarantined')", (study_id, UNCERTAIN))[0]
    if uncertain:
        return f"the type of {uncertain} image(s) is uncertain"
    return ""


def patient_names(db: Database, study_id: int) -> set[str]:
    return {r["meta_name"] for r in db.query(
        "SELECT json_extract(meta, '$.patient_last') || '^' || json_extract(meta, '$.patient_first') AS meta_name "
        "FROM images WHERE study_id=? AND state NOT IN ('duplicate','quarantined')", (study_id,))
        if r["meta_name"] and r["meta_name"] != "^"}


def candidates(db: Database, settle_seconds: float, now: datetime | None = None) -> list[int]:
    """Unreviewed studies with every image analysed, quiet for settle_seconds, not yet decided."""
    now = now or datetime.now(timezone.utc)
    cutoff = (now - timedelta(seconds=settle_seconds)).isoformat(timespec="milliseconds")
    oldest = (now - timedelta(hours=MAX_AGE_HOURS)).isoformat(timespec="milliseconds")
    marks = ",".join("?" * len(PENDING_IMAGE_STATES))
    # a file found recently but not read yet has no study: it may belong to any of them
    if db.one(f"SELECT 1 FROM images WHERE study_id IS NULL AND state IN ({marks}) AND discovered_at >= ? LIMIT 1",
              (*PENDING_IMAGE_STATES, cutoff)):
        return []
    rows = db.query(
        "SELECT s.id FROM studies s WHERE s.status='new' "
        "AND NOT EXISTS (SELECT 1 FROM automated_reports a WHERE a.study_id=s.id) "
        "AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.study_id=s.id) "
        "AND EXISTS (SELECT 1 FROM images i WHERE i.study_id=s.id AND i.state='analyzed') "
        f"AND NOT EXISTS (SELECT 1 FROM images i WHERE i.study_id=s.id AND i.state IN ({marks})) "
        "AND (SELECT MAX(i.updated_at) FROM images i WHERE i.study_id=s.id) BETWEEN ? AND ? ORDER BY s.id",
        (*PENDING_IMAGE_STATES, oldest, cutoff))
    return [r["id"] for r in rows]


def _report(db: Database, study_id: int, findings: list[dict], gov: GovernanceConfig, decided_at: str) -> Report:
    report = build_report(db, study_id, findings, label=AUTO_LABEL,
                          cdt={"imaging": [], "treatment": []},  # nothing is billed from unreviewed output
                          drafts={}, automated={"at": decided_at, "labels": list(gov.auto_labels),
                                                "min_confidence": gov.auto_min_confidence, "verified": False})
    clinical = json.loads(db.one("SELECT clinical FROM studies WHERE id=?", (study_id,))["clinical"] or "{}")
    note = notes.automated_note(findings, study_line=clinical.get("study_line") or "study",
                                labels=gov.auto_labels, min_confidence=gov.auto_min_confidence,
                                model=", ".join(report.models) or "—")
    return replace(report, drafts={"chart_note": note})


def decide(db: Database, study_id: int, gov: GovernanceConfig, destinations: list[str]) -> dict:
    """Records the automation decision for one study (once) and queues its exports."""
    problem = identity_problem(db, study_id)
    findings = [dict(r) for r in db.query("SELECT * FROM findings WHERE study_id=? ORDER BY image_id, id",
                                          (study_id,))]
    chosen = [] if problem else qualifying(findings, gov)
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
        still_open = c.execute("SELECT 1 FROM studies WHERE id=? AND status='new' AND NOT EXISTS "
                               "(SELECT 1 FROM automated_reports WHERE study_id=?)", (study_id, study_id)).fetchone()
        if still_open is None:  # reviewed, signed or decided meanwhile (another process)
            return {"study_id": study_id, "outcome": "not_open"}
        c.execute("INSERT INTO automated_reports(study_id, decided_at, outcome, reason, snapshot, sha256) "
                  "VALUES (?,?,?,?,?,?)", (study_id, decided_at, outcome, reason, snapshot_text, digest))
        queued = destinations if outcome == "exported" else []
        for dest in queued:
            c.execute("INSERT OR IGNORE INTO outbox(study_id, destination, report_kind, created_at, updated_at) "
                      "VALUES (?,?,'automated',?,?)", (study_id, dest, decided_at, decided_at))
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
    rows = db.query(
        "SELECT a.study_id, a.decided_at, a.sha256, a.snapshot, s.status, s.patient_id, s.patient_name "
        "FROM automated_reports a JOIN studies s ON s.id=a.study_id WHERE a.outcome='exported' "
        "AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.study_id=a.study_id) ORDER BY a.decided_at")
    out = []
    for r in rows:
        snap = json.loads(r["snapshot"])
        states = [x["state"] for x in db.query("SELECT state FROM outbox WHERE study_id=? AND "
                                                "report_kind='automated' ORDER BY id", (r["study_id"],))]
        out.append({"study_id": r["study_id"], "exported_at": r["decided_at"], "status": r["status"],
                    "patient": {"id": r["patient_id"], "name": r["patient_name"]},
                    "findings": [{"id": f["id"], "label": f["label"], "tooth_universal": f["tooth_universal"] or None,
                                  "confidence": round(f["confidence"], 3)} for f in snap["findings"]],
                    "export_states": states, "report_sha256": r["sha256"]})
    return out


def record(db: Database, study_id: int) -> dict | None:
    """The automated export of a study if any of it reached a destination (None when it was
    only decided, or superseded/cancelled before anything was written)."""
    r = db.one("SELECT decided_at, snapshot, sha256 FROM automated_reports a WHERE study_id=? AND outcome='exported' "
               f"AND {SENT_SQL.format(study='a.study_id')}", (study_id,))
    if r is None:
        return None
    return {"at": r["decided_at"], "sha256": r["sha256"], "findings": json.loads(r["snapshot"])["findings"]}


def corrections(db: Database, study_id: int, rec: dict | None = None) -> list[dict]:
    """Automatically exported findings the signed report does not carry as sent: anything not
    accepted as it was (rejected, edited, or left unreviewed and so not in the report).
    `rec`: the study's record() when the caller has it already."""
    rec = rec or record(db, study_id)
    if rec is None:
        return []
    out = []
    for sent in rec["findings"]:
        now = db.one("SELECT status, label, tooth_universal, surfaces FROM findings WHERE id=?", (sent["id"],))
        if now is not None and now["status"] == "accepted":
            continue
        change = "not confirmed"
        if now is not None and now["status"] == "edited":
            change = f"corrected to {now['label']} #{now['tooth_universal'] or '?'} {now['surfaces']}".strip()
        out.append({"id": sent["id"], "label": sent["label"], "tooth_universal": sent["tooth_universal"],
                    "change": change})
    return out


def supersede_unsent(c, study_id: int) -> int:
    """At signature (inside its transaction): automated rows not yet started never go out."""
    cur = c.execute("UPDATE outbox SET state='superseded', reason='the study was signed before this automatic "
                    "export went out; the signed report is sent instead', next_attempt_at=NULL, updated_at=? "
                    "WHERE study_id=? AND report_kind='automated' AND state IN ('queued','failed','needs_attention')",
                    (utcnow(), study_id))
    return cur.rowcount
