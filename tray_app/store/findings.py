"""The `findings` table (owner: the export/review engineer; this branch adds only the block below)."""

from __future__ import annotations

import sqlite3

from .db import Database


# --- added by intake/core for intake/pipeline, intake/ingest, clinical/study_summary, demo/workspace ---
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
