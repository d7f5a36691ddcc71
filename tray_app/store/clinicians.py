"""The `clinicians` table: who may review, sign and authorise, their PIN hashes and lock-out.

The rules (roles, PIN strength, who authorises what) are `review/clinicians.py`; this module
only reads and writes rows, inside the caller's transaction where a rule must be checked in
the same transaction as the write.
"""

from __future__ import annotations

import sqlite3

from .db import Database, utcnow



def authority_exists(c: sqlite3.Connection) -> bool:
    """An active dentist or admin exists (who could authorise a change)."""
    return c.execute("SELECT 1 FROM clinicians WHERE active=1 AND role IN ('dentist','admin') LIMIT 1").fetchone() \
        is not None


def other_authorities(c: sqlite3.Connection, clinician_id: int) -> int:
    """How many active dentists or admins there are besides this clinician."""
    return c.execute("SELECT COUNT(*) FROM clinicians WHERE active=1 AND role IN ('dentist','admin') AND id<>?",
                     (clinician_id,)).fetchone()[0]


def active_names(c: sqlite3.Connection) -> list[sqlite3.Row]:
    """(id, name) of every active clinician."""
    return c.execute("SELECT id, name FROM clinicians WHERE active=1").fetchall()


def active(c: sqlite3.Connection, clinician_id: int) -> sqlite3.Row | None:
    return c.execute("SELECT * FROM clinicians WHERE id=? AND active=1", (clinician_id,)).fetchone()


def list_active(db: Database) -> list[sqlite3.Row]:
    return db.query("SELECT * FROM clinicians WHERE active=1 ORDER BY name")


def add(c: sqlite3.Connection, name: str, role: str, pin_hash: str, pin_salt: str) -> int:
    cur = c.execute("INSERT INTO clinicians(name, role, pin_hash, pin_salt, created_at) VALUES (?,?,?,?,?)",
                    (name, role, pin_hash, pin_salt, utcnow()))
    return cur.lastrowid


def set_role(c: sqlite3.Connection, clinician_id: int, role: str, *, pin_weak: bool) -> None:
    c.execute("UPDATE clinicians SET role=?, pin_weak=? WHERE id=?", (role, int(pin_weak), clinician_id))


def deactivate(c: sqlite3.Connection, clinician_id: int) -> None:
    c.execute("UPDATE clinicians SET active=0 WHERE id=?", (clinician_id,))


def set_pin(c: sqlite3.Connection, clinician_id: int, pin_hash: str, pin_salt: str) -> None:
    """A new PIN: strong enough (checked by the caller), failures and lock-out cleared."""
    c.execute("UPDATE clinicians SET pin_hash=?, pin_salt=?, pin_weak=0, failed_attempts=0, locked_until=NULL "
              "WHERE id=?", (pin_hash, pin_salt, clinician_id))


def record_failed_attempt(c: sqlite3.Connection, clinician_id: int, failures: int, locked_until: str | None) -> None:
    """Count an attempt as failed before its PIN is hashed (cleared by `clear_failures` when it
    proves right), and set the lock-out when it is due (an existing one is kept)."""
    c.execute("UPDATE clinicians SET failed_attempts=?, locked_until=COALESCE(?, locked_until) WHERE id=?",
              (failures, locked_until, clinician_id))


def clear_failures(c: sqlite3.Connection, clinician_id: int, *, pin_weak: bool) -> None:
    """A right PIN: the count starts again; `pin_weak` says it is shorter than now required."""
    c.execute("UPDATE clinicians SET failed_attempts=0, pin_weak=? WHERE id=?", (int(pin_weak), clinician_id))
