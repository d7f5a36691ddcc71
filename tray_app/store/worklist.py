"""The worklist's copy of the schedule (`worklist_items`) and when it was read (`worklist_refresh`).

What is read and how it becomes DICOM is `tray_app/worklist/`; this module only reads and writes rows.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from .db import Database

_COLUMNS = ("apt_num", "modality", "pat_num", "chart_number", "patient_name", "birth_date", "sex", "start",
            "procedures", "provider")


@dataclass(frozen=True)
class Item:
    """One imaging appointment for one modality, as the worklist answers it."""

    apt_num: int
    modality: str
    pat_num: int
    chart_number: str
    patient_name: str
    birth_date: str
    sex: str
    start: str  # local 'YYYY-MM-DD HH:MM:SS'
    procedures: tuple[tuple[str, str], ...]  # (CDT code, description)
    provider: str


@dataclass(frozen=True)
class RefreshState:
    refreshed_at: str = ""  # '' = never read
    first_day: str = ""
    last_day: str = ""
    attempted_at: str = ""
    error: str = ""
    skipped: int = 0


def replace(db: Database, items: list[Item], *, first_day: str, last_day: str, now: str, skipped: int = 0) -> None:
    """A successful read: the copy becomes exactly `items`, in one transaction."""
    with db.tx() as c:
        c.execute("DELETE FROM worklist_items")
        c.executemany(f"INSERT INTO worklist_items({','.join(_COLUMNS)}) VALUES ({','.join('?' * len(_COLUMNS))})",
                      [(i.apt_num, i.modality, i.pat_num, i.chart_number, i.patient_name, i.birth_date, i.sex,
                        i.start, json.dumps([list(p) for p in i.procedures]), i.provider) for i in items])
        c.execute("INSERT INTO worklist_refresh(id, refreshed_at, first_day, last_day, attempted_at, error, skipped) "
                  "VALUES (1,?,?,?,?,'',?) ON CONFLICT(id) DO UPDATE SET refreshed_at=excluded.refreshed_at, "
                  "first_day=excluded.first_day, last_day=excluded.last_day, attempted_at=excluded.attempted_at, "
                  "error='', skipped=excluded.skipped", (now, first_day, last_day, now, skipped))


def record_failure(db: Database, *, now: str, error: str) -> None:
    """A failed read: the copy stays as it was; the attempt and its reason are kept."""
    with db.tx() as c:
        c.execute("INSERT INTO worklist_refresh(id, attempted_at, error) VALUES (1,?,?) ON CONFLICT(id) DO UPDATE "
                  "SET attempted_at=excluded.attempted_at, error=excluded.error", (now, error or "unknown error"))


def items(db: Database | sqlite3.Connection, *, first_day: str = "", last_day: str = "") -> list[Item]:
    """The copy's items starting on the days asked (local yyyy-MM-dd, both inclusive), by start time."""
    conn = db.conn() if isinstance(db, Database) else db
    rows = conn.execute("SELECT * FROM worklist_items WHERE substr(start,1,10) >= ? AND substr(start,1,10) <= ? "
                        "ORDER BY start, apt_num, modality", (first_day or "0000-00-00", last_day or "9999-99-99"))
    return [Item(r["apt_num"], r["modality"], r["pat_num"], r["chart_number"], r["patient_name"], r["birth_date"],
                 r["sex"], r["start"], tuple(tuple(p) for p in json.loads(r["procedures"])), r["provider"])
            for r in rows]


def refresh_state(db: Database | sqlite3.Connection) -> RefreshState:
    conn = db.conn() if isinstance(db, Database) else db
    r = conn.execute("SELECT * FROM worklist_refresh WHERE id=1").fetchone()
    if r is None:
        return RefreshState()
    return RefreshState(r["refreshed_at"] or "", r["first_day"] or "", r["last_day"] or "", r["attempted_at"] or "",
                        r["error"] or "", r["skipped"] or 0)
