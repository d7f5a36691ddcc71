"""Hash-chained audit log: each entry's hash covers its content and the previous hash.

Entries are appended inside the caller's transaction, so an audited step and its audit
entry commit together or not at all. The hash is an HMAC-SHA256 keyed with a secret kept
outside the database (`audit_seal`), so whoever edits the database file cannot recompute
the chain; after each commit the newest entry is written there as the anchor, so removing
the tail is noticed too. Entries written before the log was keyed keep their plain sha256
(`legacy`); the first keyed entry's MAC covers their last hash.

The chain lives in the store because every audited step appends inside its own write
transaction (`images.quarantine`, `clinicians`, …).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
from dataclasses import dataclass

from .. import audit_seal
from . import db as store_db
from .db import utcnow
from .meta import database_id as _db_id
from .meta import database_path as _db_path

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_seals: dict[tuple[str, str], audit_seal.Seal] = {}  # (db path, db id) -> record; the key never changes
_pending: set[int] = set()  # connections that appended in their open transaction


def _digest(prev_hash: str, at: str, event: str, subject: str, data: str) -> str:
    canonical = json.dumps([prev_hash, at, event, subject, data], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _mac(key: bytes, prev_hash: str, at: str, event: str, subject: str, data: str) -> str:
    canonical = json.dumps([prev_hash, at, event, subject, data], ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def _last(conn: sqlite3.Connection) -> tuple[int, str]:
    """(seq, hash) of the newest entry; (0, GENESIS) for an empty log."""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def _seal(conn: sqlite3.Connection, last_seq: int, last_hash: str) -> audit_seal.Seal:
    """This database's key record; made on the first append (called inside the write
    transaction, so two processes never make two keys)."""
    path, db_id = _db_path(conn), _db_id(conn)
    seal = _seals.get((path, db_id))
    if seal is None:
        seal = audit_seal.load(path)
        if seal is not None and seal.db != db_id:
            if last_seq:  # a log that is not the one the key was made for: keep the evidence
                raise AuditKeyError("this database is not the one its audit key was made for")
            # a new database replaced the old one at this path (the demo starting over): say so first
            replaced = seal
            seal = audit_seal.create(path, db_id, 0, GENESIS)
            _seals[(path, db_id)] = seal
            _insert(conn, seal, GENESIS, "audit_log_started_over", "", {
                "previous_log_entries": replaced.seq, "previous_last_hash": replaced.hash})
            return seal
        if seal is None:
            seal = audit_seal.create(path, db_id, last_seq, last_hash)
        _seals[(path, db_id)] = seal
    return seal


class AuditKeyError(Exception):
    pass


def _insert(conn, seal, prev: str, event: str, subject: str, data: dict) -> str:
    at = utcnow()
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    h = _mac(seal.key_bytes, prev, at, event, subject, payload) if seal else _digest(prev, at, event, subject, payload)
    conn.execute(
        "INSERT INTO audit(at, event, subject, data, prev_hash, hash) VALUES (?,?,?,?,?,?)",
        (at, event, subject, payload, prev, h),
    )
    _pending.add(id(conn))
    return h


def append(conn: sqlite3.Connection, event: str, subject: str = "", **data) -> str:
    """Append one entry; the caller holds a write transaction (Database.tx)."""
    try:
        seal = _seal(conn, *_last(conn))
    except AuditKeyError:
        # never stop the practice's work over the log: append unkeyed; `audit verify` reports it
        log.warning("audit key does not belong to this database; `dental-bridge audit verify` reports it")
        seal = None
    # read again: making the key may have written the "started over" entry
    return _insert(conn, seal, _last(conn)[1], event, subject, data)


def _after_commit(conn: sqlite3.Connection) -> None:
    if id(conn) not in _pending:
        return
    _pending.discard(id(conn))
    try:
        path, db_id = _db_path(conn), _db_id(conn)
        seal = _seals.get((path, db_id))
        seq, h = _last(conn)
        if seal is not None and seq:
            audit_seal.advance(path, seal, seq, h)
    except Exception:  # noqa: BLE001 - the step is committed; a lagging anchor is only less strict
        log.warning("the audit anchor could not be updated", exc_info=True)


def _after_rollback(conn: sqlite3.Connection) -> None:
    _pending.discard(id(conn))


store_db.AFTER_COMMIT.append(_after_commit)
store_db.AFTER_ROLLBACK.append(_after_rollback)


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""
    keyed: bool = False  # the chain is keyed with a secret outside the database
    key_store: str = ""  # keyring | file ("" when not keyed yet)
    anchor: int = 0  # the entry the external anchor names


def verify(conn: sqlite3.Connection) -> VerifyResult:
    seal = audit_seal.load(_db_path(conn))
    db_id = _db_id(conn)
    where = {"keyring": "the Windows Credential Manager", "file": "the key file next to the database"}

    def bad(n: int, seq: int, problem: str) -> VerifyResult:
        return VerifyResult(False, n, seq, problem, seal is not None, seal.where if seal else "",
                            seal.seq if seal else 0)

    if seal is not None and seal.db != db_id:
        return bad(0, 1, "this database is not the one its audit key was made for (was the database file replaced?)")
    prev = GENESIS
    n = 0
    for seq, at, event, subject, data, prev_hash, h in conn.execute(
        "SELECT seq, at, event, subject, data, prev_hash, hash FROM audit ORDER BY seq"
    ):
        n += 1
        if seq != n or prev_hash != prev:
            return bad(n, seq, "link to the previous entry is broken (entry removed or reordered)")
        keyed = seal is not None and seq > seal.legacy
        expected = _mac(seal.key_bytes, prev_hash, at, event, subject, data) if keyed else \
            _digest(prev_hash, at, event, subject, data)
        if expected != h:
            return bad(n, seq, "entry content was changed after it was written" + (
                " (or the chain was recomputed without the key)" if keyed else
                "" if seal is not None else
                ", or the log was keyed and its key is not on this computer (a database copied or moved here?)"))
        if seal is not None and seq == seal.seq and h != seal.hash:
            return bad(n, seq, f"this entry differs from the one anchored in {where[seal.where]}")
        prev = h
    if seal is not None and n < seal.seq:
        return bad(n, n + 1, f"the last {seal.seq - n} entries were removed (the anchor in "
                             f"{where[seal.where]} names entry {seal.seq})")
    return VerifyResult(True, n, keyed=seal is not None, key_store=seal.where if seal else "",
                        anchor=seal.seq if seal else 0)


def authentic(conn: sqlite3.Connection, row) -> bool:
    """One entry's hash is what its key (or, before keying, plain sha256) gives for its content."""
    seal = audit_seal.load(_db_path(conn))
    args = (row["prev_hash"], row["at"], row["event"], row["subject"], row["data"])
    if seal is not None and seal.db == _db_id(conn) and row["seq"] > seal.legacy:
        return hmac.compare_digest(_mac(seal.key_bytes, *args), row["hash"])
    if seal is None or (seal.db == _db_id(conn) and row["seq"] <= seal.legacy):
        return _digest(*args) == row["hash"]
    return False


def seal_unkeyed(conn: sqlite3.Connection) -> None:
    """Key a log written before keying (an older version's database), once it verified intact."""
    seq, h = _last(conn)
    if seq and audit_seal.load(_db_path(conn)) is None:
        _seal(conn, seq, h)


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
        subjects = _subjects_of_patient(conn, patient_id)
        rows = [r for r in rows if r["subject"] in subjects]
    return [{"seq": r["seq"], "at": r["at"], "event": r["event"], "subject": r["subject"],
             "data": json.loads(r["data"] or "{}"), "prev_hash": r["prev_hash"], "hash": r["hash"]} for r in rows]


def _subjects_of_patient(conn: sqlite3.Connection, patient_id: str) -> set[str]:
    """The audit subjects that concern one patient: their studies, images and findings."""
    subjects = set()
    for sid, in conn.execute("SELECT id FROM studies WHERE patient_id=?", (patient_id,)):
        subjects.add(f"study:{sid}")
        subjects.update(f"image:{i}" for i, in conn.execute("SELECT id FROM images WHERE study_id=?", (sid,)))
        subjects.update(f"finding:{i}" for i, in conn.execute("SELECT id FROM findings WHERE study_id=?", (sid,)))
    return subjects


def latest_data(conn: sqlite3.Connection, event: str) -> dict | None:
    """The data of the newest entry of `event` (None if there is none)."""
    row = conn.execute("SELECT data FROM audit WHERE event=? ORDER BY seq DESC LIMIT 1", (event,)).fetchone()
    return json.loads(row[0] or "{}") if row else None


def guarded_settings_records(conn: sqlite3.Connection):
    """Entries that record the guarded settings' values (`guarded`), newest first; the caller
    trusts only the authentic ones (`authentic`)."""
    return conn.execute("SELECT * FROM audit WHERE event IN ('config_changed','guarded_settings_baseline') "
                        "AND data LIKE '%\"guarded\"%' ORDER BY seq DESC")
