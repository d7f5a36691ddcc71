"""Urgent-study alerts (`study_alerts`): one row per study, its Open Dental write and its state.

    queued ──claim──▶ sending ──▶ done
                         ├──▶ failed            retried with backoff (maybe_written: look first)
                         └──▶ needs_attention   a person must act (patient, keys, permission)
    not_sent: nothing goes to Open Dental (the tray alone, or a demonstration model held back)

Functions taking a connection `c` run inside the caller's transaction; those taking the
`Database` are a transaction of their own.
"""

from __future__ import annotations

import sqlite3

from .db import Database

# waiting and past its backoff (or scheduled beyond the horizon: the clock was set back), or a
# claim whose lease ran out (the sender died mid-write)
_DUE = ("(state IN ('queued','failed','sending') AND (next_attempt_at IS NULL OR next_attempt_at <= ? "
        "OR next_attempt_at > ?))")


def add(c: sqlite3.Connection, study_id: int, via: str, text: str, marker: str, at: str, *,
        state: str = "queued", reason: str = "") -> bool:
    """The study's alert, once: False when it already has one (a later image of the same study)."""
    cur = c.execute("INSERT OR IGNORE INTO study_alerts(study_id, via, text, marker, state, reason, created_at, "
                    "updated_at) VALUES (?,?,?,?,?,?,?,?)", (study_id, via, text, marker, state, reason, at, at))
    return cur.rowcount == 1


def exists(db: Database, study_id: int) -> bool:
    return db.one("SELECT 1 FROM study_alerts WHERE study_id=?", (study_id,)) is not None


def due(db: Database, now: str, horizon: str) -> list[dict]:
    return [dict(r) for r in db.query(f"SELECT * FROM study_alerts WHERE {_DUE} ORDER BY id", (now, horizon))]


def next_attempt_at(db: Database) -> str | None:
    """The earliest schedule of a waiting alert ('' for one due now), None when nothing waits."""
    row = db.one("SELECT MIN(COALESCE(next_attempt_at, '')) AS t FROM study_alerts "
                 "WHERE state IN ('queued','failed','sending')")
    return None if row is None else row["t"]


def claim(c: sqlite3.Connection, alert_id: int, now: str, horizon: str, lease_until: str) -> dict | None:
    """`sending` with a lease, committed before the write: from here its outcome may be unknown."""
    cur = c.execute(f"UPDATE study_alerts SET state='sending', attempts=attempts+1, next_attempt_at=?, updated_at=? "
                    f"WHERE id=? AND {_DUE}", (lease_until, now, alert_id, now, horizon))
    if cur.rowcount != 1:
        return None
    return dict(c.execute("SELECT * FROM study_alerts WHERE id=?", (alert_id,)).fetchone())


def began_write(db: Database, alert_id: int, at: str) -> None:
    with db.tx() as c:
        c.execute("UPDATE study_alerts SET maybe_written=1, updated_at=? WHERE id=?", (at, alert_id))


def finish(c: sqlite3.Connection, alert_id: int, state: str, reason: str, next_attempt_at: str | None, at: str, *,
           remote_id: str = "", maybe_written: bool | None = None) -> None:
    c.execute("UPDATE study_alerts SET state=?, reason=?, next_attempt_at=?, updated_at=?, "
              "remote_id=CASE WHEN ?<>'' THEN ? ELSE remote_id END, "
              "maybe_written=COALESCE(?, maybe_written) WHERE id=?",
              (state, reason, next_attempt_at, at, remote_id, remote_id,
               None if maybe_written is None else int(maybe_written), alert_id))


def texts(conn: sqlite3.Connection, study_ids) -> dict[int, str]:
    """The alert text of each of these studies that has one (the tray's notification)."""
    ids = [int(i) for i in study_ids]
    if not ids:
        return {}
    rows = conn.execute(f"SELECT study_id, text FROM study_alerts WHERE study_id IN ({','.join('?' * len(ids))})",
                        ids)
    return {r[0]: r[1] for r in rows}


def with_texts(conn: sqlite3.Connection, studies: list[dict]) -> list[dict]:
    """Review-queue rows with `alert`: their alert's text, "" when they have none."""
    found = texts(conn, [s["id"] for s in studies])
    for s in studies:
        s["alert"] = found.get(s["id"], "")
    return studies


def of_study(db: Database, study_id: int) -> dict | None:
    row = db.one("SELECT * FROM study_alerts WHERE study_id=?", (study_id,))
    return dict(row) if row else None


def status(db: Database) -> list[dict]:
    return [dict(r) for r in db.query("SELECT id, study_id, via, state, attempts, next_attempt_at, reason, "
                                      "remote_id, created_at, updated_at FROM study_alerts ORDER BY id")]
