"""The image-quality advice of each image (table `image_quality`, migration 012): written by the
quality step after analysis (tray_app/quality/step.py), read by the tray, the review queue and
the review window's quality panel. Issues are stored as the JSON of `quality.advice.Issue`."""

from __future__ import annotations

import json
import sqlite3

from .db import Database, utcnow


def record(c: sqlite3.Connection, image_id: int, study_id: int | None, issues: list[dict],
           set_issue: dict | None) -> int:
    """One image's advice (replacing an earlier check of it), inside the caller's transaction."""
    c.execute("DELETE FROM image_quality WHERE image_id=?", (image_id,))
    return c.execute("INSERT INTO image_quality(image_id, study_id, checked_at, issues, set_issue) VALUES (?,?,?,?,?)",
                     (image_id, study_id, utcnow(), json.dumps(issues),
                      json.dumps(set_issue) if set_issue else None)).lastrowid


def of_study(db: Database, study_id: int) -> dict:
    """{"images": {image_id: [issue, …]}, "set": the newest check's set issue or None}."""
    rows = db.query("SELECT image_id, issues, set_issue FROM image_quality WHERE study_id=? ORDER BY id", (study_id,))
    return {"images": {r["image_id"]: json.loads(r["issues"]) for r in rows if r["issues"] != "[]"},
            "set": json.loads(rows[-1]["set_issue"]) if rows and rows[-1]["set_issue"] else None}


def latest_id(conn: sqlite3.Connection) -> int:
    """The newest advice row's id (0 when none): the tray compares it between polls."""
    return conn.execute("SELECT COALESCE(MAX(id), 0) FROM image_quality").fetchone()[0]


def open_advice(conn: sqlite3.Connection, limit: int = 20) -> list[tuple[str, str]]:
    """(key, sentence) of the newest advice on studies still to review, newest first: image
    issues keyed by image, a set's missing bitewing by study (each image repeats it)."""
    rows = conn.execute(
        "SELECT q.image_id, q.study_id, q.issues, q.set_issue FROM image_quality q JOIN studies s ON s.id=q.study_id "
        "WHERE s.status IN ('new','in_review') AND (q.issues<>'[]' OR q.set_issue IS NOT NULL) "
        "ORDER BY q.id DESC LIMIT ?", (limit,)).fetchall()
    out: dict[str, str] = {}
    for r in rows:
        for issue in json.loads(r["issues"]):
            out.setdefault(f"image:{r['image_id']}:{issue['check']}", issue["sentence"])
        if r["set_issue"]:
            out.setdefault(f"study:{r['study_id']}:set", json.loads(r["set_issue"])["sentence"])
    return list(out.items())
