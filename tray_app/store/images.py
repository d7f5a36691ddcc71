"""Image rows and their state transitions (docs/architecture.md, "Data flow and states"):

    discovered → ready → decoded → analyzed → (in_review → signed → exported)
               ↘ quarantined(reason)   ↘ duplicate(of)

`discover`(`_many`), `mark_ready`(`_many`), `back_to_discovered`, `forget_vanished`, `mark_decoded`,
`mark_duplicate`, `mark_analyzed`, `quarantine`: each transition with its audit entry. A
function taking a `Database` is one transaction; one taking a connection runs inside the
caller's (`db.tx()`), so the caller can group it with other steps. Signing moves a study's
images on (`review/api.py`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterable

from . import audit
from . import findings as findings_repo
from .db import Database, utcnow

PENDING_STATES = ("discovered", "ready", "decoded")


@dataclass
class ImageRow:
    id: int
    source_id: int | None
    path: str
    size: int | None
    mtime_ns: int | None
    state: str
    sha256: str | None
    attempts: int

    @classmethod
    def of(cls, r: sqlite3.Row) -> "ImageRow":
        return cls(r["id"], r["source_id"], r["path"], r["size"], r["mtime_ns"], r["state"], r["sha256"], r["attempts"])


def is_known_version(db: Database, path: str, size: int, mtime_ns: int) -> bool:
    return db.one("SELECT 1 FROM images WHERE path=? AND size=? AND mtime_ns=? LIMIT 1", (path, size, mtime_ns)) is not None


def discover(db: Database, path: str, source_id: int | None, size: int, mtime_ns: int) -> int | None:
    """Record a new file (or a new version of a path); returns the new row id, or None if known."""
    return discover_many(db, [(path, source_id, size, mtime_ns)])[0]


def discover_many(db: Database, versions: list[tuple[str, int | None, int, int]]) -> list[int | None]:
    """(path, source id, size, mtime_ns) of files seen, in one transaction (a burst of files costs
    one commit, not one each); per file the new row id, or None if that version is known."""
    out: list[int | None] = []
    with db.tx() as c:
        for path, source_id, size, mtime_ns in versions:
            if c.execute("SELECT 1 FROM images WHERE path=? AND size=? AND mtime_ns=? LIMIT 1",
                         (path, size, mtime_ns)).fetchone():
                out.append(None)
                continue
            now = utcnow()
            cur = c.execute(
                "INSERT OR IGNORE INTO images(source_id, path, size, mtime_ns, state, discovered_at, updated_at) "
                "VALUES (?,?,?,?,'discovered',?,?)",
                (source_id, path, size, mtime_ns, now, now),
            )
            if cur.rowcount == 0:
                out.append(None)
                continue
            audit.append(c, "discovered", f"image:{cur.lastrowid}", source=source_id)
            out.append(cur.lastrowid)
    return out


def pending_discovered(db: Database) -> list[ImageRow]:
    return [ImageRow.of(r) for r in db.query("SELECT * FROM images WHERE state='discovered' ORDER BY id")]


def mark_ready(db: Database, image_id: int, size: int, mtime_ns: int) -> bool:
    return bool(mark_ready_many(db, [(image_id, size, mtime_ns)]))


def mark_ready_many(db: Database, versions: list[tuple[int, int, int]]) -> list[int]:
    """(id, size, mtime_ns) rows found complete, promoted in one transaction (a burst of files
    costs one commit, not one each); returns the ids that became `ready`."""
    promoted = []
    with db.tx() as c:
        for image_id, size, mtime_ns in versions:
            # an older row may already hold this exact version (rescan raced the watcher)
            dup = c.execute(
                "SELECT id FROM images WHERE path=(SELECT path FROM images WHERE id=?) AND size=? AND mtime_ns=? "
                "AND id<>?", (image_id, size, mtime_ns, image_id),
            ).fetchone()
            if dup:
                c.execute("DELETE FROM images WHERE id=? AND state='discovered'", (image_id,))
                continue
            cur = c.execute(
                "UPDATE images SET state='ready', size=?, mtime_ns=?, updated_at=? WHERE id=? AND state='discovered'",
                (size, mtime_ns, utcnow(), image_id),
            )
            if cur.rowcount == 1:
                promoted.append(image_id)
    return promoted


def observe(db: Database, image_id: int, size: int, mtime_ns: int) -> None:
    db.conn().execute("UPDATE images SET size=?, mtime_ns=? WHERE id=? AND state='discovered'", (size, mtime_ns, image_id))


def forget_vanished(db: Database, image_id: int) -> None:
    """A file that disappeared before it was complete was a temp file; nothing to keep."""
    with db.tx() as c:
        c.execute("DELETE FROM images WHERE id=? AND state='discovered'", (image_id,))


def back_to_discovered(db: Database, image_id: int, size: int, mtime_ns: int) -> None:
    """The file changed after it looked complete: wait for it to settle again (this row is
    dropped when a newer pending row for the same path already does that)."""
    with db.tx() as c:
        pending = c.execute(
            "SELECT 1 FROM images WHERE path=(SELECT path FROM images WHERE id=?) AND state='discovered'", (image_id,)
        ).fetchone()
        if pending:
            c.execute("DELETE FROM images WHERE id=?", (image_id,))
        else:
            c.execute("UPDATE images SET state='discovered', size=?, mtime_ns=?, updated_at=? WHERE id=?",
                      (size, mtime_ns, utcnow(), image_id))


def find_version(db: Database, path: str, size: int, mtime_ns: int) -> sqlite3.Row | None:
    """The oldest row recorded for exactly this version of a file."""
    return db.one("SELECT * FROM images WHERE path=? AND size=? AND mtime_ns=? ORDER BY id LIMIT 1",
                  (path, size, mtime_ns))


def pending_for_path(db: Database, path: str) -> int | None:
    """The row waiting (`discovered`) for a path, if any: one per path (a partial unique index)."""
    row = db.one("SELECT id FROM images WHERE path=? AND state='discovered'", (path,))
    return row["id"] if row else None


def next_work(db: Database, *, model_available: bool, skip: Iterable[int] = ()) -> sqlite3.Row | None:
    rows = next_works(db, model_available=model_available, skip=skip)
    return rows[0] if rows else None


def next_works(db: Database, *, model_available: bool, skip: Iterable[int] = (), limit: int = 1) -> list[sqlite3.Row]:
    """The next `limit` images to work on, oldest first (the worker takes one and prepares the next)."""
    states = ("ready", "decoded") if model_available else ("ready",)
    skip = tuple(skip)
    sql = f"SELECT * FROM images WHERE state IN ({','.join('?' * len(states))})"
    if skip:
        sql += f" AND id NOT IN ({','.join('?' * len(skip))})"
    return db.query(sql + " ORDER BY id LIMIT ?", (*states, *skip, limit))


def get(db: Database, image_id: int) -> sqlite3.Row | None:
    return db.one("SELECT * FROM images WHERE id=?", (image_id,))


def quarantine(db: Database, image_id: int, reason: str, sha256: str | None = None) -> None:
    with db.tx() as c:
        c.execute(
            "UPDATE images SET state='quarantined', reason=?, sha256=COALESCE(?, sha256), updated_at=? WHERE id=?",
            (reason, sha256, utcnow(), image_id),
        )
        audit.append(c, "quarantined", f"image:{image_id}", reason=reason, sha256=sha256)


def find_original(c: sqlite3.Connection, image_id: int, sha256: str, sop_uid: str = "") -> sqlite3.Row | None:
    """An earlier image with the same bytes, or the same SOPInstanceUID, that is not itself a duplicate."""
    row = c.execute(
        "SELECT id, state, reason FROM images WHERE sha256=? AND id<>? AND state NOT IN ('duplicate','discovered','ready') "
        "ORDER BY id LIMIT 1",
        (sha256, image_id),
    ).fetchone()
    if row is None and sop_uid:
        row = c.execute(
            "SELECT id, state, reason FROM images WHERE sop_uid=? AND id<>? AND state NOT IN ('duplicate','discovered','ready','quarantined') "
            "ORDER BY id LIMIT 1",
            (sop_uid, image_id),
        ).fetchone()
    return row


def mark_duplicate(c: sqlite3.Connection, image_id: int, original: sqlite3.Row, sha256: str, why: str) -> None:
    reason = f"same {why} as image {original['id']}"
    c.execute(
        "UPDATE images SET state='duplicate', duplicate_of=?, sha256=?, reason=?, updated_at=? WHERE id=?",
        (original["id"], sha256, reason, utcnow(), image_id),
    )
    audit.append(c, "duplicate", f"image:{image_id}", of=original["id"], by=why, sha256=sha256)


def mark_decoded(c: sqlite3.Connection, image_id: int, *, sha256: str, sop_uid: str, study_id: int, kind: str,
                 kind_confidence: float, kind_rule: str, width: int, height: int, meta: dict, cache_path: str,
                 fmt: str) -> bool:
    """`ready` → `decoded` with what intake learnt; False when the row had already left `ready`
    (another process, a CLI ingest beside the service, got there first)."""
    cur = c.execute(
        "UPDATE images SET state='decoded', sha256=?, sop_uid=?, study_id=?, kind=?, kind_confidence=?, "
        "kind_rule=?, width=?, height=?, meta=?, cache_path=?, reason='', updated_at=? WHERE id=? AND state='ready'",
        (sha256, sop_uid or None, study_id, kind, kind_confidence, kind_rule, width, height,
         json.dumps(meta, default=str), cache_path, utcnow(), image_id),
    )
    if cur.rowcount == 0:
        return False
    audit.append(c, "decoded", f"image:{image_id}", sha256=sha256, study=study_id, kind=kind,
                 kind_rule=kind_rule, kind_confidence=round(kind_confidence, 2),
                 format=fmt, width=width, height=height)
    return True


def mark_analyzed(db: Database, image_id: int, study_id: int | None, *, model_name: str, model_version: str,
                  note: str, findings: list[dict], inference: dict) -> str | None:
    """`decoded` → `analyzed`: the model's findings (replacing any earlier ones of this image),
    the state and the `inference` audit entry in one transaction, so an image is analysed
    exactly once however the process dies. Returns None when done, else the state the row
    was in instead ("changed" when it is gone)."""
    now = utcnow()
    with db.tx() as c:
        cur = c.execute("UPDATE images SET state='analyzed', model_name=?, model_version=?, reason=?, updated_at=? "
                        "WHERE id=? AND state='decoded'", (model_name, model_version, note, now, image_id))
        if cur.rowcount == 0:
            row = c.execute("SELECT state FROM images WHERE id=?", (image_id,)).fetchone()
            return row[0] if row else "changed"
        findings_repo.replace_model_findings(c, image_id, study_id, findings, created_at=now)
        audit.append(c, "inference", f"image:{image_id}", **inference)
    return None


def record_attempt(db: Database, image_id: int, reason: str) -> int:
    with db.tx() as c:
        c.execute("UPDATE images SET attempts=attempts+1, reason=?, updated_at=? WHERE id=?", (reason, utcnow(), image_id))
        return c.execute("SELECT attempts FROM images WHERE id=?", (image_id,)).fetchone()[0]


def meta_of(row: sqlite3.Row) -> dict[str, Any]:
    try:
        return json.loads(row["meta"] or "{}")
    except json.JSONDecodeError:
        return {}


# -- the demo's announcement of each image (demo/workspace.py) ---------------------------------
def with_patient(db: Database, image_id: int) -> sqlite3.Row | None:
    """kind, reason and the study's patient_id (None before the image has a study)."""
    return db.one("SELECT i.kind, i.reason, s.patient_id FROM images i LEFT JOIN studies s ON s.id=i.study_id "
                  "WHERE i.id=?", (image_id,))


# -- reads and transitions of review and export -----------------------------------------------
def study_of(c: sqlite3.Connection, image_id: int) -> int | None:
    row = c.execute("SELECT study_id FROM images WHERE id=?", (image_id,)).fetchone()
    return None if row is None else row["study_id"]


def type_uncertain(db: Database, study_id: int, below: float) -> list[sqlite3.Row]:
    """Usable images whose type was decided with confidence under `below`."""
    return db.query("SELECT id, kind, kind_rule FROM images WHERE study_id=? AND kind_confidence>0 AND "
                    "kind_confidence<? AND state NOT IN ('duplicate','quarantined')", (study_id, below))


def patient_names(db: Database, study_id: int) -> set[str]:
    """The patient names (Last^First) the study's usable images carry in their headers."""
    return {r["meta_name"] for r in db.query(
        "SELECT json_extract(meta, '$.patient_last') || '^' || json_extract(meta, '$.patient_first') AS meta_name "
        "FROM images WHERE study_id=? AND state NOT IN ('duplicate','quarantined')", (study_id,))
        if r["meta_name"] and r["meta_name"] != "^"}


def pending_without_study_since(db: Database, states: tuple[str, ...], since: str) -> bool:
    """A file found since `since` but not read yet (so it has no study): it may belong to any."""
    marks = ",".join("?" * len(states))
    return db.one(f"SELECT 1 FROM images WHERE study_id IS NULL AND state IN ({marks}) AND discovered_at >= ? LIMIT 1",
                  (*states, since)) is not None


def mark_signed(c: sqlite3.Connection, study_id: int, at: str) -> None:
    c.execute("UPDATE images SET state='signed', updated_at=? WHERE study_id=? AND state='analyzed'", (at, study_id))


def mark_exported(c: sqlite3.Connection, study_id: int, at: str) -> None:
    c.execute("UPDATE images SET state='exported', updated_at=? WHERE study_id=? AND state='signed'", (at, study_id))


# -- retention (PHI minimisation, retention.py) ---------------------------------------------------
def cached_before(db: Database, cutoff: str) -> list[sqlite3.Row]:
    """(id, study_id, cache_path) of images with a pixel cache, unchanged since `cutoff`."""
    return db.query("SELECT id, study_id, cache_path FROM images WHERE cache_path<>'' AND updated_at < ?", (cutoff,))


def forget_caches(c: sqlite3.Connection, image_ids: Iterable[int]) -> None:
    """Their pixel caches were deleted: a later display decodes the original again."""
    c.executemany("UPDATE images SET cache_path='' WHERE id=?", [(i,) for i in image_ids])


def under_folder(db: Database, folder: str) -> list[sqlite3.Row]:
    """(path, state, study_id) of every image whose path starts with `folder`."""
    return db.query("SELECT path, state, study_id FROM images WHERE path LIKE ? || '%'", (folder,))


# -- read models ------------------------------------------------------------------------------
def of_study(db: Database, study_id: int) -> list[sqlite3.Row]:
    """A study's images that count (not duplicates or quarantined), oldest first."""
    return db.query("SELECT * FROM images WHERE study_id=? AND state NOT IN ('duplicate','quarantined') ORDER BY id",
                    (study_id,))

