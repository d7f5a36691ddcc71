"""The hub's tables: one-time pairing codes and the paired clients' tokens (both hashed).

The rules (code length and lifetime, token making, hashing) are `hub/pairing.py`; this module
only reads and writes rows.
"""

from __future__ import annotations

import sqlite3

from .db import Database


def add_code(c: sqlite3.Connection, code_hash: str, created_at: str, expires_at: str) -> None:
    c.execute("INSERT INTO hub_pairing_codes(code_hash, created_at, expires_at) VALUES (?,?,?)",
              (code_hash, created_at, expires_at))


def use_code(c: sqlite3.Connection, code_hash: str, now: str) -> bool:
    """Mark an unused, unexpired code used; False when there is none (wrong, used or expired)."""
    cur = c.execute("UPDATE hub_pairing_codes SET used_at=? WHERE code_hash=? AND used_at IS NULL AND expires_at>?",
                    (now, code_hash, now))
    return cur.rowcount == 1


def active_client_named(c: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    return c.execute("SELECT * FROM hub_clients WHERE name=? AND revoked_at IS NULL", (name,)).fetchone()


def add_client(c: sqlite3.Connection, name: str, token_hash: str, created_at: str) -> int:
    return c.execute("INSERT INTO hub_clients(name, token_hash, created_at) VALUES (?,?,?)",
                     (name, token_hash, created_at)).lastrowid


def client_by_token(db: Database, token_hash: str) -> sqlite3.Row | None:
    """The active (not revoked) client holding this token."""
    return db.one("SELECT * FROM hub_clients WHERE token_hash=? AND revoked_at IS NULL", (token_hash,))


def touch(db: Database, client_id: int, now: str) -> None:
    with db.tx() as c:
        c.execute("UPDATE hub_clients SET last_seen_at=? WHERE id=?", (now, client_id))


def list_clients(db: Database, *, include_revoked: bool = False) -> list[sqlite3.Row]:
    where = "" if include_revoked else " WHERE revoked_at IS NULL"
    return db.query(f"SELECT id, name, created_at, last_seen_at, revoked_at FROM hub_clients{where} ORDER BY name")


def revoke(c: sqlite3.Connection, name: str, now: str) -> bool:
    cur = c.execute("UPDATE hub_clients SET revoked_at=? WHERE name=? AND revoked_at IS NULL", (now, name))
    return cur.rowcount > 0
