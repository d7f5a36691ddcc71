"""Hash-chained audit log: each entry's hash covers its content and the previous hash.

Entries are appended inside the caller's transaction, so an audited step and its audit
entry commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass

from .store.db import utcnow

GENESIS = "0" * 64


def _digest(prev_hash: str, at: str, event: str, subject: str, data: str) -> str:
    canonical = json.dumps([prev_hash, at, event, subject, data], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append(conn: sqlite3.Connection, event: str, subject: str = "", **data) -> str:
    """Append one entry; the caller holds a write transaction (Database.tx)."""
    row = conn.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    prev = row[0] if row else GENESIS
    at = utcnow()
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    h = _digest(prev, at, event, subject, payload)
    conn.execute(
        "INSERT INTO audit(at, event, subject, data, prev_hash, hash) VALUES (?,?,?,?,?,?)",
        (at, event, subject, payload, prev, h),
    )
    return h


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify(conn: sqlite3.Connection) -> VerifyResult:
    prev = GENESIS
    n = 0
    for seq, at, event, subject, data, prev_hash, h in conn.execute(
        "SELECT seq, at, event, subject, data, prev_hash, hash FROM audit ORDER BY seq"
    ):
        n += 1
        if prev_hash != prev:
            return VerifyResult(False, n, seq, "link to the previous entry is broken (entry removed or reordered)")
        if _digest(prev_hash, at, event, subject, data) != h:
            return VerifyResult(False, n, seq, "entry content was changed after it was written")
        prev = h
    return VerifyResult(True, n)


def export_entries(conn: sqlite3.Connection, *, date_from: str = "", date_to: str = "", patient_id: str = "") -> list[dict]:
    """Audit entries for an auditor, optionally by date range (YYYY-MM-DD, inclusive) and patient.

    Entries keep their hashes, so the exported chain can be re-verified outside the app."""
    sql, params = "SELECT * FROM audit WHERE 1=1", []
    if date_from:
        sql += " AND at >= ?"
        params.append(date_from)
    if date_to:
        sql += " AND at < date(?, '+1 day')"
        params.append(date_to)
    rows = conn.execute(sql + " ORDER BY seq", params).fetchall()
    if patient_id:
        subjects = set()
        for sid, in conn.execute("SELECT id FROM studies WHERE patient_id=?", (patient_id,)):
            subjects.add(f"study:{sid}")
            subjects.update(f"image:{i}" for i, in conn.execute("SELECT id FROM images WHERE study_id=?", (sid,)))
            subjects.update(f"finding:{i}" for i, in conn.execute("SELECT id FROM findings WHERE study_id=?", (sid,)))
        rows = [r for r in rows if r["subject"] in subjects]
    return [{"seq": r["seq"], "at": r["at"], "event": r["event"], "subject": r["subject"],
             "data": json.loads(r["data"] or "{}"), "prev_hash": r["prev_hash"], "hash": r["hash"]} for r in rows]
