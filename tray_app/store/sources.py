"""The `sources` table: the watched folders and what their watch is doing now."""

from __future__ import annotations

import sqlite3

from .db import Database, utcnow


def upsert(c: sqlite3.Connection, path: str, kind: str) -> int:
    """The id of the source watching `path` (recorded if new; its watch kind updated)."""
    c.execute("INSERT INTO sources(path, kind, updated_at) VALUES (?,?,?) "
              "ON CONFLICT(path) DO UPDATE SET kind=excluded.kind", (path, kind, utcnow()))
    return c.execute("SELECT id FROM sources WHERE path=?", (path,)).fetchone()[0]


def set_status(db: Database, source_id: int, status: str, detail: str) -> None:
    """What the watch of this folder is doing (watching, waiting_for_folder), for the tray."""
    with db.tx() as c:
        c.execute("UPDATE sources SET status=?, status_detail=?, updated_at=? WHERE id=?",
                  (status, detail, utcnow(), source_id))
