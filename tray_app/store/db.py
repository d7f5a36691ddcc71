"""Connections (one per thread, WAL), transactions and numbered migrations."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Callable, Iterator


# Called with the connection after a tx() commits / rolls back (the audit anchor follows commits).
AFTER_COMMIT: list[Callable[[sqlite3.Connection], None]] = []
AFTER_ROLLBACK: list[Callable[[sqlite3.Connection], None]] = []


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _migrations() -> list[tuple[int, str]]:
    found = []
    for entry in resources.files("tray_app.store").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """Opens one connection per thread; `tx()` is a write transaction taken up front.

    BEGIN IMMEDIATE takes the write lock at the start, so two writers never deadlock on
    a lock upgrade, and busy_timeout makes concurrent writers (watchers, worker, CLI) wait.

    Connections are kept per thread object, not in a threading.local: on threads Python did
    not start (Qt's thread pool) thread-local state is lost after every job, which opened
    and kept one more connection per job. A connection whose Python thread has ended (a
    re-armed watch, a one-off scan) is closed when the next connection is opened. Threads
    Python did not start are never seen to end (before 3.13): only long-lived ones may use
    the database (the review window's pixel pool never lets its threads expire).
    """

    def __init__(self, path: Path, *, busy_timeout_ms: int = 30_000):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._busy_timeout_ms = busy_timeout_ms
        self._by_thread: dict[int, tuple[threading.Thread, sqlite3.Connection]] = {}
        self._lock = threading.Lock()
        # this process's writers queue here: SQLite's busy handler sleeps 1, 2, 5, 10... ms and
        # retries, so a writer behind another one waited up to ~9 ms after the lock was free (the
        # first image of a burst met that three times). busy_timeout still serves other processes.
        self._writer = threading.Lock()
        self.migrate()

    def conn(self) -> sqlite3.Connection:
        me = threading.current_thread()
        entry = self._by_thread.get(me.ident)
        if entry is not None and entry[0] is me:
            return entry[1]
        c = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=self._busy_timeout_ms / 1000)
        c.row_factory = sqlite3.Row
        c.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        c.execute("PRAGMA journal_mode = WAL")
        c.execute("PRAGMA synchronous = FULL")  # a committed state must survive power loss
        c.execute("PRAGMA foreign_keys = ON")
        with self._lock:
            ended = [k for k, (t, _) in self._by_thread.items() if k == me.ident or not _alive(t)]
            stale = [self._by_thread.pop(k)[1] for k in ended]
            self._by_thread[me.ident] = (me, c)
        for old in stale:  # their threads are gone: nobody else can be using them
            _close(old)
        return c

    def connection_count(self) -> int:
        return len(self._by_thread)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        c = self.conn()
        if c.in_transaction:
            # inside an outer tx() on this thread: a savepoint, so a step that writes in its own
            # transaction (study summary, audit) can also be part of a larger all-or-nothing one
            with self._savepoint(c):
                yield c
            return
        if not self._writer.acquire(timeout=self._busy_timeout_ms / 1000):
            raise sqlite3.OperationalError("database is locked")  # what the busy handler says
        try:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
                c.execute("COMMIT")
            except BaseException:
                # also when COMMIT itself failed (disk full): never leave the connection inside a
                # transaction, or every later BEGIN on this thread fails
                if c.in_transaction:
                    try:
                        c.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                for hook in AFTER_ROLLBACK:
                    hook(c)
                raise
        finally:
            self._writer.release()
        for hook in AFTER_COMMIT:
            hook(c)

    @staticmethod
    @contextmanager
    def _savepoint(c: sqlite3.Connection) -> Iterator[None]:
        # one name is enough: savepoints nest strictly and SQLite acts on the most recent one
        c.execute("SAVEPOINT nested")
        try:
            yield
            c.execute("RELEASE nested")
        except BaseException:
            c.execute("ROLLBACK TO nested")
            c.execute("RELEASE nested")
            raise

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.conn().execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        return self.conn().execute(sql, params).fetchone()

    def migrate(self) -> int:
        # SQLite's table-rebuild procedure: foreign keys off while a table is replaced (the
        # pragma is ignored inside a transaction), checked before the commit, then on again
        self.conn().execute("PRAGMA foreign_keys = OFF")
        try:
            with self.tx() as c:
                version = start = c.execute("PRAGMA user_version").fetchone()[0]
                for number, sql in _migrations():
                    if number > version:
                        for statement in _split_sql(sql):
                            c.execute(statement)
                        c.execute(f"PRAGMA user_version = {number}")
                        version = number
                broken = c.execute("PRAGMA foreign_key_check").fetchall() if version != start else []
                if broken:
                    raise sqlite3.IntegrityError(f"migration left {len(broken)} broken reference(s), "
                                                 f"first in table {broken[0][0]}")
        finally:
            self.conn().execute("PRAGMA foreign_keys = ON")
        return version

    def close(self) -> None:
        # a write of another thread of ours finishes first: closing a connection in use crashes
        got = self._writer.acquire(timeout=self._busy_timeout_ms / 1000)
        try:
            self._close_all()
        finally:
            if got:
                self._writer.release()

    def _close_all(self) -> None:
        with self._lock:
            conns = [c for _, c in self._by_thread.values()]
            self._by_thread.clear()
        for c in conns:
            _close(c)


def _alive(thread: threading.Thread) -> bool:
    try:
        return thread.is_alive()
    except Exception:  # a foreign thread's stand-in object may refuse to say: assume alive
        return True


def _close(c: sqlite3.Connection) -> None:
    try:
        c.close()
    except sqlite3.ProgrammingError:
        pass


def _split_sql(sql: str) -> list[str]:
    # executescript() would COMMIT our transaction; split on complete statements instead.
    statements, buf = [], []
    for line in sql.splitlines():
        buf.append(line)
        candidate = "\n".join(buf)
        if sqlite3.complete_statement(candidate):
            if candidate.strip():
                statements.append(candidate)
            buf = []
    rest = "\n".join(buf).strip()
    if rest and not all(l.strip().startswith("--") or not l.strip() for l in buf):
        statements.append(rest)
    return statements
