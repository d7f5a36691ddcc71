"""Priors: the same patient's earlier images, and the stored comparison of an image with its
prior (`image_comparisons`). The matching rules (view, teeth) are `clinical/priors.py`; the
comparison is `clinical/comparison.py`; this module only reads and writes rows.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .db import Database, utcnow

ANALYSED = ("analyzed", "in_review", "signed", "exported")


def study_date(row: sqlite3.Row) -> str:
    """YYYY-MM-DD of a study: its DICOM StudyDate, else when we first saw it."""
    keys = row.keys()                     # a row of earlier_images, or any image row (dates unknown)
    d = ((row["study_date"] if "study_date" in keys else "") or "").replace("-", "")
    if len(d) == 8 and d.isdigit():
        return f"{d[:4]}-{d[4:6]}-{d[6:]}"
    return ((row["first_seen_at"] if "first_seen_at" in keys else "") or "")[:10]


def earlier_images(db: Database, study_id: int) -> list[sqlite3.Row]:
    """Analysed images of this study's patient in studies begun before it, newest study first.
    Each row carries its study's `study_date` and `first_seen_at`."""
    study = db.one("SELECT patient_key, first_seen_at, study_date FROM studies WHERE id=?", (study_id,))
    if study is None or not study["patient_key"]:
        return []
    return db.query(
        "SELECT i.*, s.study_date, s.first_seen_at FROM images i JOIN studies s ON s.id=i.study_id "
        "WHERE s.patient_key=? AND s.id<>? AND s.first_seen_at < ? "
        f"AND i.state IN ({','.join('?' * len(ANALYSED))}) ORDER BY s.first_seen_at DESC, i.id",
        (study["patient_key"], study_id, study["first_seen_at"], *ANALYSED))


def later_images(db: Database, study_id: int, kind: str) -> list[sqlite3.Row]:
    """Analysed images of `kind` of this study's patient, in studies begun after it and still under
    review, that have no comparison or one with a prior older than this study: an image of this
    study may be their prior (a history folder's older file analysed after a newer one)."""
    study = db.one("SELECT patient_key, first_seen_at FROM studies WHERE id=?", (study_id,))
    if study is None or not study["patient_key"]:
        return []
    return db.query(
        "SELECT i.* FROM images i JOIN studies s ON s.id=i.study_id "
        "LEFT JOIN image_comparisons c ON c.image_id=i.id LEFT JOIN studies ps ON ps.id=c.prior_study_id "
        "WHERE s.patient_key=? AND s.id<>? AND s.first_seen_at > ? AND s.status IN ('new','in_review') "
        f"AND i.kind=? AND i.state IN ({','.join('?' * len(ANALYSED))}) "
        "AND (c.image_id IS NULL OR ps.first_seen_at < ?) ORDER BY i.id",
        (study["patient_key"], study_id, study["first_seen_at"], kind, *ANALYSED, study["first_seen_at"]))


def save(db: Database, image_id: int, study_id: int, prior: sqlite3.Row | None, *, view: str = "",
         registered: bool = False, matrix: Any = (), correlation: float = 0.0, changes: list | None = None,
         bone: list | None = None, reason: str = "") -> None:
    with db.tx() as c:
        c.execute(
            "INSERT OR REPLACE INTO image_comparisons(image_id, study_id, prior_image_id, prior_study_id, prior_date,"
            " view, registered, matrix, correlation, changes, bone, reason, computed_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (image_id, study_id, prior["id"], prior["study_id"], study_date(prior), view, int(registered),
             json.dumps([list(r) for r in matrix]), float(correlation), json.dumps(changes or []),
             json.dumps(bone or []), reason, utcnow()))


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    for key in ("matrix", "changes", "bone"):
        d[key] = json.loads(d[key] or "[]")
    d["registered"] = bool(d["registered"])
    return d


def of_study(db: Database, study_id: int) -> list[dict[str, Any]]:
    """The comparisons of a study's images, in image order."""
    return [_decode(r) for r in db.query("SELECT * FROM image_comparisons WHERE study_id=? ORDER BY image_id",
                                         (study_id,))]


def of_image(db: Database, image_id: int) -> dict[str, Any] | None:
    row = db.one("SELECT * FROM image_comparisons WHERE image_id=?", (image_id,))
    return _decode(row) if row else None
