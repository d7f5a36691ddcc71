"""SQLite store: the single source of truth shared by every thread and process."""

from .db import Database, utcnow

__all__ = ["Database", "utcnow"]
