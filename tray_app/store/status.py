"""Read-only queries the UI polls across tables: the tray's counts and the review window's
change fingerprint. Each is a handful of index lookups, cheap enough for a timer on the GUI
thread; none writes. Functions take a connection (tray) or the `Database` (review window).
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from .db import Database
from .outbox import AUTOMATED_SENT

log = logging.getLogger(__name__)

REVIEW_STATUSES = ("new", "in_review")
EXPORT_FAILED = ("failed", "needs_attention")


def _marks(values: tuple) -> str:
    return ",".join("?" * len(values))


# -- tray ---------------------------------------------------------------------------------------
def source_statuses(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(path, status) of every watch folder the store knows, configured or not."""
    return [(r[0], r[1]) for r in conn.execute("SELECT path, status FROM sources")]


def studies_to_review(conn: sqlite3.Connection) -> int:
    return conn.execute(f"SELECT COUNT(*) FROM studies WHERE status IN ({_marks(REVIEW_STATUSES)})",
                        REVIEW_STATUSES).fetchone()[0]


def urgent_study_ids(conn: sqlite3.Connection) -> frozenset[int]:
    """Urgent studies still waiting for review (a signed urgent study is dealt with)."""
    return frozenset(r[0] for r in conn.execute(
        f"SELECT id FROM studies WHERE urgent=1 AND status IN ({_marks(REVIEW_STATUSES)})", REVIEW_STATUSES))


def failing_export_ids(conn: sqlite3.Connection) -> frozenset[int]:
    return frozenset(r[0] for r in conn.execute(
        f"SELECT id FROM outbox WHERE state IN ({_marks(EXPORT_FAILED)})", EXPORT_FAILED))


def quarantined_images(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM images WHERE state='quarantined'").fetchone()[0]


def unverified_auto_exports(conn: sqlite3.Connection) -> int:
    """Studies whose automated export reached the chart and that no dentist has signed yet."""
    return conn.execute("SELECT COUNT(*) FROM automated_reports a WHERE outcome='exported' AND NOT EXISTS "
                        "(SELECT 1 FROM reports r WHERE r.study_id=a.study_id) AND "
                        + AUTOMATED_SENT.format(study="a.study_id")).fetchone()[0]


WAITING_FOR_ANALYSIS = ("ready", "decoded")
RUN_LOOKBACK = 1000  # images looked back over for the start of a run


def analysis_progress(conn: sqlite3.Connection) -> tuple[int, int]:
    """(images done, images in this run) while images wait for analysis, else (0, 0).

    A run is what the worker took without going idle: the images waiting (not those being
    retried for a locked file, nor files still being written) and, before them, each image
    finished after the one following it arrived — so an FMX arriving over a minute, or a
    holiday's backlog, counts up as "4 of 18". Index and primary-key lookups only (at most
    RUN_LOOKBACK rows): the tray polls it."""
    marks = _marks(WAITING_FOR_ANALYSIS)
    first, waiting = conn.execute(f"SELECT MIN(id), COUNT(*) FROM images WHERE state IN ({marks}) AND attempts=0",
                                  WAITING_FOR_ANALYSIS).fetchone()
    if not waiting:
        return 0, 0
    following = conn.execute("SELECT discovered_at FROM images WHERE id=?", (first,)).fetchone()[0]
    done = 0
    for state, discovered, finished in conn.execute(
            "SELECT state, discovered_at, updated_at FROM images WHERE id < ? ORDER BY id DESC LIMIT ?",
            (first, RUN_LOOKBACK)):
        if state in WAITING_FOR_ANALYSIS or state == "discovered":
            continue  # retried or still being written: neither done nor a gap
        if finished < following:
            break  # done before the next one arrived: the worker was idle in between
        done, following = done + 1, discovered
    later = conn.execute(f"SELECT COUNT(*) FROM images WHERE id > ? AND state NOT IN ({marks}, 'discovered')",
                         (first, *WAITING_FOR_ANALYSIS)).fetchone()[0]  # done out of order (a retry passed)
    return done + later, done + later + waiting


# -- review window ------------------------------------------------------------------------------
_QUEUE_FINGERPRINT = (
    "SELECT (SELECT COUNT(*) FROM studies), (SELECT group_concat(status || ':' || priority, ',') FROM studies), "
    "(SELECT MAX(updated_at) FROM images), (SELECT COUNT(*) FROM images), (SELECT COUNT(*) FROM findings), "
    "(SELECT MAX(id) FROM findings), (SELECT MAX(id) FROM reviews), (SELECT MAX(id) FROM image_quality)"
)
_EXPORT_FINGERPRINT = "SELECT (SELECT COUNT(*) FROM reports), (SELECT MAX(updated_at) FROM outbox)"


def change_fingerprint(db: Database) -> tuple:
    """Changes whenever anything the review queue shows changes (images, findings, reviews,
    image-quality advice, signatures, exports). Empty when the store was busy: the caller asks again next tick."""
    try:
        row = db.one(_QUEUE_FINGERPRINT)
    except sqlite3.Error as exc:  # a busy/locked moment: report "unknown"
        log.debug("fingerprint failed: %s", exc)
        return ()
    base = tuple(row) if row else ()
    try:
        extra = db.one(_EXPORT_FINGERPRINT)
        base += tuple(extra) if extra else ()
    except sqlite3.Error:
        pass
    return base


def data_version(db: Database) -> tuple[int, int]:
    """(this thread, SQLite's data_version of its connection): the number moves when another
    connection commits, so an unchanged one means the fingerprint need not be recomputed."""
    return threading.get_ident(), db.conn().execute("PRAGMA data_version").fetchone()[0]
