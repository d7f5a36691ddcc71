"""The export outbox: one row per (study, destination, report kind) and its parts, with the
transitions of docs/architecture.md's export states (see export/outbox.py for who drives them):

    queued ──claim──▶ sending ──finish──▶ done | failed | needs_attention | superseded | cancelled

Functions taking a connection `c` run inside the caller's transaction; those taking the
`Database` are one statement (or one transaction) of their own.
"""

from __future__ import annotations

import sqlite3

from .db import Database

NOT_SIGNED = "this study has not been signed; only signed reports are exported"

# an automated export counts as sent once a row finished or any part of one was written
AUTOMATED_SENT = ("EXISTS (SELECT 1 FROM outbox o WHERE o.study_id={study} AND o.report_kind='automated' AND "
                  "(o.state='done' OR EXISTS (SELECT 1 FROM export_parts p WHERE p.outbox_id=o.id AND "
                  "p.state IN ('done','sending'))))")

# due: waiting and past its backoff (or its schedule lies beyond the horizon: the clock was set
# back), a claim whose lease ran out, or a row queued before its study was signed whose report now exists
_DUE = ("((state IN ('queued','failed') AND (? OR next_attempt_at IS NULL OR next_attempt_at <= ? OR "
        "next_attempt_at > ?)) OR (state='sending' AND (next_attempt_at IS NULL OR next_attempt_at <= ? OR "
        "next_attempt_at > ?)) OR (state='needs_attention' AND reason=? AND EXISTS "
        "(SELECT 1 FROM reports r WHERE r.study_id=outbox.study_id)))")


def _due_params(now: str, horizon: str, ignore_backoff: bool) -> tuple:
    return (1 if ignore_backoff else 0, now, horizon, now, horizon, NOT_SIGNED)


# -- queueing -------------------------------------------------------------------------------
def queue(c: sqlite3.Connection, study_id: int, destination: str, at: str, *, kind: str = "signed") -> None:
    """One row per destination, in the transaction of the signature (or automation decision)."""
    c.execute("INSERT OR IGNORE INTO outbox(study_id, destination, report_kind, created_at, updated_at) "
              "VALUES (?,?,?,?,?)", (study_id, destination, kind, at, at))


def supersede_unsent(c: sqlite3.Connection, study_id: int, at: str) -> int:
    """At signature: automated rows not yet started never go out."""
    cur = c.execute("UPDATE outbox SET state='superseded', reason='the study was signed before this automatic "
                    "export went out; the signed report is sent instead', next_attempt_at=NULL, updated_at=? "
                    "WHERE study_id=? AND report_kind='automated' AND state IN ('queued','failed','needs_attention')",
                    (at, study_id))
    return cur.rowcount


# -- reads ----------------------------------------------------------------------------------
def due(db: Database, now: str, horizon: str, *, ignore_backoff: bool = False) -> list[dict]:
    return [dict(r) for r in db.query(f"SELECT * FROM outbox WHERE {_DUE} ORDER BY id",
                                      _due_params(now, horizon, ignore_backoff))]


def next_attempt_at(db: Database) -> str | None:
    """The earliest schedule of a waiting row ('' for one due now), None when nothing waits."""
    row = db.one("SELECT MIN(COALESCE(next_attempt_at, '')) AS t FROM outbox "
                 "WHERE state IN ('queued','failed','sending')")
    return None if row is None else row["t"]


def status(db: Database) -> list[dict]:
    return [dict(r) | {"parts": [dict(p) for p in db.query(
        "SELECT part, state, remote_id, target, attempts FROM export_parts WHERE outbox_id=? ORDER BY id",
        (r["id"],))]} for r in db.query(
        "SELECT id, study_id, destination, report_kind, state, attempts, next_attempt_at, reason, marker, "
        "remote_id, created_at, updated_at FROM outbox ORDER BY id")]


def of_study(db: Database, study_id: int) -> list[dict]:
    """One study's export rows, for the review window and the hub's export status."""
    return [dict(r) for r in db.query(
        "SELECT destination, report_kind, state, attempts, next_attempt_at, reason, updated_at FROM outbox "
        "WHERE study_id=? ORDER BY id", (study_id,))]


def automated_states(db: Database, study_id: int) -> list[str]:
    return [r["state"] for r in db.query("SELECT state FROM outbox WHERE study_id=? AND report_kind='automated' "
                                         "ORDER BY id", (study_id,))]


# -- transitions of a row -------------------------------------------------------------------
def requeue(c: sqlite3.Connection, at: str, outbox_id: int | None = None) -> list[sqlite3.Row]:
    """needs_attention/failed rows (or the one given) back in the queue now; returns them."""
    rows = c.execute("SELECT id, study_id FROM outbox WHERE state IN ('needs_attention','failed')" +
                     (" AND id=?" if outbox_id is not None else ""),
                     (outbox_id,) if outbox_id is not None else ()).fetchall()
    for r in rows:
        c.execute("UPDATE outbox SET state='queued', next_attempt_at=NULL, updated_at=? WHERE id=?", (at, r["id"]))
    return rows


def claim(c: sqlite3.Connection, outbox_id: int, now: str, horizon: str, lease_until: str, *,
          ignore_backoff: bool = False) -> dict | None:
    """Marks a due row `sending` with a lease; None when it is not due any more (another worker took it)."""
    cur = c.execute(f"UPDATE outbox SET state='sending', attempts=attempts+1, next_attempt_at=?, updated_at=? "
                    f"WHERE id=? AND {_DUE}", (lease_until, now, outbox_id, *_due_params(now, horizon, ignore_backoff)))
    if cur.rowcount != 1:
        return None
    return dict(c.execute("SELECT * FROM outbox WHERE id=?", (outbox_id,)).fetchone())


def set_marker(db: Database, outbox_id: int, marker: str) -> None:
    with db.tx() as c:
        c.execute("UPDATE outbox SET marker=? WHERE id=?", (marker, outbox_id))


def set_payload(db: Database, outbox_id: int, payload: str) -> None:
    with db.tx() as c:
        c.execute("UPDATE outbox SET payload=? WHERE id=?", (payload, outbox_id))


def extend_lease(c: sqlite3.Connection, outbox_id: int, lease_until: str, at: str) -> None:
    c.execute("UPDATE outbox SET next_attempt_at=?, updated_at=? WHERE id=?", (lease_until, at, outbox_id))


def finish(c: sqlite3.Connection, outbox_id: int, state: str, reason: str, next_attempt_at: str | None,
           remote_ids: str, at: str) -> None:
    c.execute("UPDATE outbox SET state=?, reason=?, next_attempt_at=?, remote_id=?, updated_at=? WHERE id=?",
              (state, reason, next_attempt_at, remote_ids, at, outbox_id))


def signed_rows_open(c: sqlite3.Connection, study_id: int) -> int:
    """Signed-report rows of the study not done yet (0: the study is exported)."""
    return c.execute("SELECT COUNT(*) FROM outbox WHERE study_id=? AND report_kind='signed' AND state<>'done'",
                     (study_id,)).fetchone()[0]


# -- parts ----------------------------------------------------------------------------------
def part(db: Database, outbox_id: int, name: str, marker: str, at: str) -> sqlite3.Row:
    """The part's row, recorded (pending, with its marker) the first time it is asked for."""
    r = db.one("SELECT * FROM export_parts WHERE outbox_id=? AND part=?", (outbox_id, name))
    if r is None:
        with db.tx() as c:
            c.execute("INSERT OR IGNORE INTO export_parts(outbox_id, part, marker, updated_at) VALUES (?,?,?,?)",
                      (outbox_id, name, marker, at))
        r = db.one("SELECT * FROM export_parts WHERE outbox_id=? AND part=?", (outbox_id, name))
    return r


def parts(db: Database, outbox_id: int) -> list[sqlite3.Row]:
    return db.query("SELECT * FROM export_parts WHERE outbox_id=? ORDER BY id", (outbox_id,))


def part_sending(c: sqlite3.Connection, outbox_id: int, name: str, target: str, at: str) -> None:
    c.execute("UPDATE export_parts SET state='sending', attempts=attempts+1, target=?, updated_at=? "
              "WHERE outbox_id=? AND part=?", (target, at, outbox_id, name))


def part_done(c: sqlite3.Connection, outbox_id: int, name: str, remote_id: str, detail: str, at: str) -> None:
    c.execute("UPDATE export_parts SET state='done', remote_id=?, detail=?, updated_at=? WHERE outbox_id=? AND part=?",
              (remote_id, detail, at, outbox_id, name))


def part_pending(db: Database, outbox_id: int, name: str, at: str) -> None:
    with db.tx() as c:
        c.execute("UPDATE export_parts SET state='pending', updated_at=? WHERE outbox_id=? AND part=?",
                  (at, outbox_id, name))


def done_remote_ids(db: Database, outbox_id: int) -> str:
    """`part=remote id` of each finished part, for the row's record."""
    return ",".join(f"{p['part']}={p['remote_id']}" for p in db.query(
        "SELECT part, remote_id FROM export_parts WHERE outbox_id=? AND state='done' ORDER BY id", (outbox_id,)))
