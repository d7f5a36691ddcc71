"""Findings (what the model or a clinician placed on an image) and the review actions on them
(`reviews`: one row per accept/reject/edit/add/undo, with before and after, for undo and audit)."""

from __future__ import annotations

import json
import sqlite3

from .db import Database
from .reports import REPORT_FINDING_FIELDS

# a clinician's decision on a finding: what a signed report carries and the review floor never hides
DECIDED = ("accepted", "edited", "added")
_DECIDED_SQL = "(" + ",".join(f"'{s}'" for s in DECIDED) + ")"


def get(c: sqlite3.Connection, finding_id: int) -> sqlite3.Row | None:
    return c.execute("SELECT * FROM findings WHERE id=?", (finding_id,)).fetchone()


# -- written by analysis (inside images.mark_analyzed) and counted for the CLI -----------------
_MODEL_FINDING = ("label", "code", "confidence", "x1", "y1", "x2", "y2", "severity", "tooth_fdi", "tooth_universal",
                  "surfaces", "model_name", "model_version")


def replace_model_findings(c: sqlite3.Connection, image_id: int, study_id: int | None, findings: list[dict], *,
                           created_at: str) -> None:
    """An image's model findings are these (inside `images.mark_analyzed`'s transaction);
    clinicians' findings are kept."""
    c.execute("DELETE FROM findings WHERE image_id=? AND source='model'", (image_id,))
    c.executemany(
        "INSERT INTO findings(image_id, study_id, label, code, confidence, x1, y1, x2, y2, severity, "
        "tooth_fdi, tooth_universal, surfaces, model_name, model_version, created_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(image_id, study_id, *(f[k] for k in _MODEL_FINDING), created_at) for f in findings],
    )


def count_for_image(db: Database, image_id: int) -> int:
    return db.one("SELECT COUNT(*) FROM findings WHERE image_id=?", (image_id,))[0]


def count_by_label(db: Database, image_id: int) -> list[sqlite3.Row]:
    """(label, c) of one image's findings, the most frequent first."""
    return db.query("SELECT label, COUNT(*) c FROM findings WHERE image_id=? GROUP BY label ORDER BY c DESC",
                    (image_id,))


def of_study(db: Database, study_id: int) -> list[sqlite3.Row]:
    """Every finding of a study, whatever its status, oldest first."""
    return db.query("SELECT * FROM findings WHERE study_id=? ORDER BY id", (study_id,))


def reported(c: sqlite3.Connection, study_id: int) -> list[sqlite3.Row]:
    """The fields a report freezes of the findings it carries (accepted, edited, added)."""
    return c.execute(f"SELECT {', '.join(REPORT_FINDING_FIELDS)} FROM findings WHERE study_id=? AND status IN "
                     f"{_DECIDED_SQL} ORDER BY image_id, id", (study_id,)).fetchall()


def reported_ids(db: Database, study_id: int) -> list[sqlite3.Row]:
    return db.query(f"SELECT id, image_id FROM findings WHERE study_id=? AND status IN {_DECIDED_SQL}",
                    (study_id,))


def current(db: Database, finding_id: int) -> sqlite3.Row | None:
    """What a finding says now (status, label, tooth, surfaces): for the corrections of a signed note."""
    return db.one("SELECT status, label, tooth_universal, surfaces FROM findings WHERE id=?", (finding_id,))


def models_of_study(db: Database, study_id: int) -> list[str]:
    """The models ("name version") behind a study's images or findings."""
    rows = db.query("SELECT DISTINCT model_name, model_version FROM images WHERE study_id=? AND model_name<>'' "
                    "UNION SELECT DISTINCT model_name, model_version FROM findings WHERE study_id=? "
                    "AND model_name<>''", (study_id, study_id))
    return sorted({f"{r[0]} {r[1]}".strip() for r in rows})


# -- changes (inside the caller's transaction, with their review row) ------------------------
def set_status(c: sqlite3.Connection, finding_id: int, status: str) -> None:
    c.execute("UPDATE findings SET status=? WHERE id=?", (status, finding_id))


def update(c: sqlite3.Connection, finding_id: int, values: dict) -> None:
    """Sets the given columns (names from review.api's EDITABLE list and status, never user text)."""
    sets = ", ".join(f"{k}=?" for k in values)
    c.execute(f"UPDATE findings SET {sets} WHERE id=?", (*values.values(), finding_id))


def add(c: sqlite3.Connection, image_id: int, study_id: int, label: str, box: tuple[float, float, float, float], *,
        tooth_fdi: int | None, tooth_universal: str, surfaces: str, severity: int, note: str, at: str) -> int:
    """A finding a clinician drew (confidence 1, status 'added')."""
    x1, y1, x2, y2 = box
    cur = c.execute(
        "INSERT INTO findings(image_id, study_id, label, code, confidence, x1, y1, x2, y2, tooth_fdi, "
        "tooth_universal, surfaces, severity, source, status, note, created_at) "
        "VALUES (?,?,?,?,1.0,?,?,?,?,?,?,?,?,'clinician','added',?,?)",
        (image_id, study_id, label, label, x1, y1, x2, y2, tooth_fdi, tooth_universal, surfaces, severity, note, at))
    return cur.lastrowid


def withdraw_added(c: sqlite3.Connection, finding_id: int) -> None:
    """An undone 'add': kept for the audit trail's references, but out of every view and report."""
    c.execute("UPDATE findings SET status='withdrawn' WHERE id=? AND source='clinician'", (finding_id,))


# -- reviews --------------------------------------------------------------------------------
def record_review(c: sqlite3.Connection, study_id: int, finding_id: int, action: str, actor: str, before: dict | str,
                  after: dict | str, at: str, *, undone: bool = False) -> None:
    as_text = (lambda v: v if isinstance(v, str) else json.dumps(v))
    c.execute("INSERT INTO reviews(study_id, finding_id, action, actor, before, after, at, undone) "
              "VALUES (?,?,?,?,?,?,?,?)", (study_id, finding_id, action, actor, as_text(before), as_text(after), at,
                                           1 if undone else 0))


def last_undoable(c: sqlite3.Connection, study_id: int) -> sqlite3.Row | None:
    return c.execute("SELECT * FROM reviews WHERE study_id=? AND undone=0 AND action<>'undo' ORDER BY id DESC LIMIT 1",
                     (study_id,)).fetchone()


def last_review(c: sqlite3.Connection, study_id: int) -> sqlite3.Row | None:
    """The study's newest review row: who changed it last, and when (for a conflict message)."""
    return c.execute("SELECT * FROM reviews WHERE study_id=? ORDER BY id DESC LIMIT 1", (study_id,)).fetchone()


def mark_undone(c: sqlite3.Connection, review_id: int) -> None:
    c.execute("UPDATE reviews SET undone=1 WHERE id=?", (review_id,))


# -- the silent-pilot comparison --------------------------------------------------------------
def review_outcomes(db: Database) -> list[sqlite3.Row]:
    return db.query("SELECT label, status, source FROM findings WHERE status<>'withdrawn'")


def model_findings_with_patient(db: Database) -> list[sqlite3.Row]:
    return db.query("SELECT f.label, f.tooth_universal, s.patient_id FROM findings f JOIN studies s "
                    "ON s.id=f.study_id WHERE f.source='model' AND f.status<>'withdrawn'")


def boxes_of(db: Database, image_id: int, label: str) -> list[tuple[float, float, float, float]]:
    """The boxes of one image's model findings of `label` (e.g. the teeth the quality checks use)."""
    return [(r[0], r[1], r[2], r[3]) for r in db.query(
        "SELECT x1, y1, x2, y2 FROM findings WHERE image_id=? AND label=? AND status<>'withdrawn'", (image_id, label))]
