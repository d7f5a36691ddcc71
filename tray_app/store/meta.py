"""The `meta` table: facts about this database file itself (its id)."""

from __future__ import annotations

import sqlite3


def database_id(conn: sqlite3.Connection) -> str:
    """A random id made when the database was created: tells a replaced database from the
    one a key or record was made for ("" before migration 006)."""
    row = conn.execute("SELECT value FROM meta WHERE key='database_id'").fetchone()
    return row[0] if row else ""


def database_path(conn: sqlite3.Connection) -> str:
    """The file this connection's main database lives in."""
    return conn.execute("PRAGMA database_list").fetchone()[2]
