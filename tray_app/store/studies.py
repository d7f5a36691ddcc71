"""Study grouping and the review-queue read model."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from typing import Any

from .db import Database
from . import quality
from .outbox import AUTOMATED_SENT


def patient_key(id_kind: str, patient_id: str) -> str:
    """How a study names its patient (`studies.patient_key`): the id's meaning and the id, case-folded."""
    return f"{id_kind}:{patient_id.strip().upper()}"


def newest_of_patient(db: Database, patient_id: str, id_kinds: tuple[str, ...]) -> list[sqlite3.Row]:
    """The newest study (by its latest image) with a reviewable image of each patient the
    practice knows by `patient_id` in one of `id_kinds` (patnum, chartnumber): one row
    (id, patient_id_kind) per kind that matches, newest first."""
    keys = [patient_key(k, patient_id) for k in id_kinds]
    return db.query(
        "SELECT id, patient_id_kind, MAX(last_image_at) AS newest FROM studies s "
        f"WHERE patient_key IN ({','.join('?' * len(keys))}) AND EXISTS "
        "(SELECT 1 FROM images i WHERE i.study_id=s.id AND i.state<>'duplicate') "
        "GROUP BY patient_key ORDER BY newest DESC", keys)


def any_study(db: Database) -> bool:
    return db.one("SELECT 1 FROM studies LIMIT 1") is not None


def assign_study(
    c: sqlite3.Connection, *, study_uid: str, patient: dict[str, str], source_id: int | None, folder: str,
    image_time: str, window_minutes: float, description: str = "",
) -> int:
    """The study this image belongs to (created if needed), inside the caller's transaction.

    StudyInstanceUID wins; otherwise images of one patient from one folder arriving within
    the window form a study, which is how an FMX from a raster-only exporter arrives.
    """
    if study_uid:
        row = c.execute("SELECT id, last_image_at FROM studies WHERE study_uid=?", (study_uid,)).fetchone()
        if row:
            if image_time > row["last_image_at"]:
                c.execute("UPDATE studies SET last_image_at=? WHERE id=?", (image_time, row["id"]))
            return row["id"]
        group_key = f"uid:{study_uid}"
    else:
        group_key = f"{patient.get('key') or 'unknown'}|{source_id}|{folder}"
        t = datetime.fromisoformat(image_time)
        lo = (t - timedelta(minutes=window_minutes)).isoformat(timespec="milliseconds")
        hi = (t + timedelta(minutes=window_minutes)).isoformat(timespec="milliseconds")
        row = c.execute(
            "SELECT id, first_seen_at, last_image_at FROM studies WHERE group_key=? AND study_uid IS NULL "
            "AND last_image_at>=? AND first_seen_at<=? ORDER BY last_image_at DESC LIMIT 1",
            (group_key, lo, hi),
        ).fetchone()
        if row:
            c.execute(
                "UPDATE studies SET last_image_at=MAX(last_image_at, ?), first_seen_at=MIN(first_seen_at, ?) WHERE id=?",
                (image_time, image_time, row["id"]),
            )
            return row["id"]
    cur = c.execute(
        "INSERT INTO studies(study_uid, group_key, patient_key, patient_id, patient_id_kind, patient_name, birth_date, "
        "source_id, study_date, description, first_seen_at, last_image_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            study_uid or None, group_key, patient.get("key", ""), patient.get("id", ""), patient.get("id_kind", ""),
            patient.get("name", ""), patient.get("birth_date", ""), source_id, patient.get("study_date", ""),
            description, image_time, image_time,
        ),
    )
    return cur.lastrowid


def queue(db: Database, *, include_done: bool = False, study_id: int | None = None) -> list[dict[str, Any]]:
    """Studies awaiting review with their images and findings, most urgent first."""
    if study_id is not None:
        studies = db.query("SELECT s.* FROM studies s WHERE s.id=?", (study_id,))
    else:
        where = "" if include_done else "WHERE s.status IN ('new','in_review')"
        studies = db.query(f"SELECT s.* FROM studies s {where} ORDER BY s.priority DESC, s.last_image_at DESC")
    out = []
    for s in studies:
        images = db.query("SELECT * FROM images WHERE study_id=? AND state<>'duplicate' ORDER BY id", (s["id"],))
        findings = db.query("SELECT * FROM findings WHERE study_id=? AND status<>'withdrawn' "
                            "ORDER BY image_id, confidence DESC", (s["id"],))
        by_image: dict[int, list[dict]] = {}
        for f in findings:
            by_image.setdefault(f["image_id"], []).append(
                {
                    "id": f["id"], "label": f["label"], "code": f["code"], "confidence": round(f["confidence"], 4),
                    "box": [round(f[k], 1) for k in ("x1", "y1", "x2", "y2")],
                    "tooth_universal": f["tooth_universal"] or None, "tooth_fdi": f["tooth_fdi"],
                    "surfaces": f["surfaces"], "severity": f["severity"], "status": f["status"],
                    "model": f"{f['model_name']} {f['model_version']}".strip(),
                }
            )
        img_list = []
        advice = quality.of_study(db, s["id"])  # image-quality advice: a retake while the patient is there
        for im in images:
            img_list.append(
                {
                    "id": im["id"], "path": im["path"], "state": im["state"], "reason": im["reason"] or None,
                    "kind": im["kind"], "kind_confidence": round(im["kind_confidence"], 2), "kind_rule": im["kind_rule"], "width": im["width"], "height": im["height"], "sha256": im["sha256"],
                    "model": f"{im['model_name']} {im['model_version']}".strip() or None,
                    "findings": by_image.get(im["id"], []),
                    "quality": advice["images"].get(im["id"], []),
                }
            )
        if not img_list:
            continue
        auto = db.one("SELECT decided_at, outcome, reason, snapshot, "
                      f"{AUTOMATED_SENT.format(study='a.study_id')} AS sent FROM automated_reports a WHERE study_id=?",
                      (s["id"],))
        if auto is not None and auto["sent"]:
            sent = {f["id"] for f in json.loads(auto["snapshot"])["findings"]}
            for im in img_list:
                for f in im["findings"]:
                    f["sent_unverified"] = f["id"] in sent
        out.append(
            {
                "id": s["id"], "status": s["status"], "priority": s["priority"], "version": s["version"],
                "patient": {"id": s["patient_id"], "id_kind": s["patient_id_kind"], "name": s["patient_name"],
                            "birth_date": s["birth_date"]},
                "study_uid": s["study_uid"], "study_date": s["study_date"], "description": s["description"],
                "tags": json.loads(s["tags"] or "[]"), "urgent": bool(s["urgent"]),
                "set": json.loads(s["clinical"] or "{}").get("set"),
                "cdt": json.loads(s["clinical"] or "{}").get("cdt"),
                "first_image_at": s["first_seen_at"],
                "last_image_at": s["last_image_at"], "image_count": len(img_list),
                "findings_count": sum(len(i["findings"]) for i in img_list),
                "images": img_list,
                "quality_set": advice["set"],
                # targeted automation: exported unverified / skipped (why) / nothing qualified
                "automated": {"at": auto["decided_at"], "outcome": auto["outcome"], "reason": auto["reason"] or None,
                              "sent": bool(auto["sent"])} if auto else None,
            }
        )
    return out


def quiet_without_waiting_export(db: Database, cutoff: str, waiting_states: tuple[str, ...]) -> dict[int, str]:
    """{id: status} of studies with no image since `cutoff` and no export row in `waiting_states`."""
    marks = ",".join("?" * len(waiting_states))
    return {r["id"]: r["status"] for r in db.query(
        f"SELECT id, status FROM studies s WHERE last_image_at < ? AND NOT EXISTS (SELECT 1 FROM outbox o "
        f"WHERE o.study_id = s.id AND o.state IN ({marks}))", (cutoff, *waiting_states))}


# -- the derived clinical summary (clinical/study_summary.py) ---------------------------------------
def summary(c: sqlite3.Connection, study_id: int) -> sqlite3.Row | None:
    """(tags, priority, urgent, clinical) as last recorded."""
    return c.execute("SELECT tags, priority, urgent, clinical FROM studies WHERE id=?", (study_id,)).fetchone()


def set_summary(c: sqlite3.Connection, study_id: int, tags: str, priority: float, urgent: int, clinical: str) -> None:
    c.execute("UPDATE studies SET tags=?, priority=?, urgent=?, clinical=? WHERE id=?",
              (tags, priority, urgent, clinical, study_id))


def earlier_finding_on_teeth(db: Database, study_id: int, teeth: list[int], *, labels: tuple[str, ...],
                             statuses: tuple[str, ...], days: int) -> bool:
    """An earlier study of this study's patient, begun within `days` before it, has a finding of
    `labels` in `statuses` on one of `teeth`."""
    row = db.one("SELECT patient_key, first_seen_at FROM studies WHERE id=?", (study_id,))
    if row is None or not row["patient_key"] or not teeth:
        return False
    hit = db.one(
        f"SELECT 1 FROM findings f JOIN studies s ON s.id=f.study_id WHERE s.patient_key=? AND s.id<>? "
        f"AND s.first_seen_at < ? AND s.first_seen_at >= datetime(?, ?) "
        f"AND f.status IN ({','.join('?' * len(statuses))}) AND f.label IN ({','.join('?' * len(labels))}) "
        f"AND f.tooth_fdi IN ({','.join('?' * len(teeth))}) LIMIT 1",
        (row["patient_key"], study_id, row["first_seen_at"], row["first_seen_at"], f"-{days} days",
         *statuses, *labels, *teeth),
    )
    return hit is not None


def get(db: Database, study_id: int) -> sqlite3.Row | None:
    return db.one("SELECT * FROM studies WHERE id=?", (study_id,))


def status_of(c: sqlite3.Connection, study_id: int) -> str | None:
    row = c.execute("SELECT status FROM studies WHERE id=?", (study_id,)).fetchone()
    return None if row is None else row["status"]


def clinical(db: Database, study_id: int) -> dict[str, Any]:
    """The study's derived summary (clinical/study_summary.py): drafts, set, study line."""
    row = db.one("SELECT clinical FROM studies WHERE id=?", (study_id,))
    return json.loads((row["clinical"] if row else None) or "{}")


def identity(db: Database, study_id: int) -> sqlite3.Row | None:
    """Patient id (and what it means), name and birth date as the images gave them."""
    return db.one("SELECT patient_id, patient_id_kind, patient_name, birth_date FROM studies WHERE id=?", (study_id,))


def version_of(c: sqlite3.Connection, study_id: int) -> int | None:
    row = c.execute("SELECT version FROM studies WHERE id=?", (study_id,)).fetchone()
    return None if row is None else row["version"]


def bump_version(c: sqlite3.Connection, study_id: int) -> int:
    """One more review action or the sign-off on this study (inside the caller's transaction)."""
    return c.execute("UPDATE studies SET version=version+1 WHERE id=? RETURNING version", (study_id,)).fetchone()[0]


def mark_in_review(c: sqlite3.Connection, study_id: int) -> None:
    c.execute("UPDATE studies SET status='in_review' WHERE id=? AND status='new'", (study_id,))


def mark_signed(c: sqlite3.Connection, study_id: int) -> None:
    c.execute("UPDATE studies SET status='signed' WHERE id=?", (study_id,))


def mark_exported(c: sqlite3.Connection, study_id: int) -> None:
    c.execute("UPDATE studies SET status='exported' WHERE id=? AND status IN ('signed','export_failed')", (study_id,))


def mark_export_failed(c: sqlite3.Connection, study_id: int) -> None:
    c.execute("UPDATE studies SET status='export_failed' WHERE id=? AND status='signed'", (study_id,))


def mark_export_retried(c: sqlite3.Connection, study_id: int) -> None:
    c.execute("UPDATE studies SET status='signed' WHERE id=? AND status='export_failed'", (study_id,))
