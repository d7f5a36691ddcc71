"""Writers of one process queue on the database's own lock: a writer behind another one starts
its transaction when that one ends, instead of sleeping in SQLite's busy handler (1, 2, 5, 10 ms
and so on) and finding the lock long free. Other processes still meet busy_timeout."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from tray_app.store import Database


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "bridge.sqlite3", busy_timeout_ms=5_000)
    with d.tx() as c:
        c.execute("CREATE TABLE counter (n INTEGER)")
        c.execute("INSERT INTO counter VALUES (0)")
    yield d
    d.close()


def test_a_writer_behind_another_starts_only_when_that_one_has_committed(db):
    """Its BEGIN is not even tried while the other holds the lock (no busy-handler polling)."""
    statements: list[str] = []
    done = threading.Event()

    def second_writer():
        db.conn().set_trace_callback(statements.append)
        with db.tx() as c:
            c.execute("UPDATE counter SET n = n + 1")
        done.set()

    with db.tx() as c:
        c.execute("UPDATE counter SET n = n + 10")
        t = threading.Thread(target=second_writer)
        t.start()
        time.sleep(0.3)  # time for the second writer to reach its transaction (and, before, poll)
        tried_meanwhile, done_meanwhile = list(statements), done.is_set()
    t.join(30)
    assert not any(s.startswith("BEGIN") for s in tried_meanwhile), tried_meanwhile
    assert not done_meanwhile
    assert done.is_set() and db.one("SELECT n FROM counter")["n"] == 11


def test_writers_of_one_process_take_turns_and_all_commit(db):
    errors = []

    def add(times):
        try:
            for _ in range(times):
                with db.tx() as c:
                    n = c.execute("SELECT n FROM counter").fetchone()["n"]
                    c.execute("UPDATE counter SET n = ?", (n + 1,))
        except Exception as exc:  # reported below: a lost update or "database is locked"
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(25,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and db.one("SELECT n FROM counter")["n"] == 100


def test_a_writer_waiting_past_the_busy_timeout_is_told_the_database_is_locked(tmp_path):
    db = Database(tmp_path / "bridge.sqlite3", busy_timeout_ms=200)
    failed = []

    def late_writer():
        try:
            with db.tx() as c:
                c.execute("CREATE TABLE late (x)")
        except sqlite3.OperationalError as exc:
            failed.append(str(exc))

    with db.tx():
        t = threading.Thread(target=late_writer)
        t.start()
        t.join(30)
    assert failed and "locked" in failed[0]
    late_writer()  # the lock is free again: it works now
    assert len(failed) == 1
    db.close()


def test_a_writer_in_another_process_is_waited_for_and_a_timeout_frees_our_lock(tmp_path):
    """Another Database on the same file stands in for the CLI or a second service process."""
    path = tmp_path / "bridge.sqlite3"
    ours, other = Database(path, busy_timeout_ms=200), Database(path, busy_timeout_ms=200)
    c = other.conn()
    c.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        with ours.tx() as t:
            t.execute("CREATE TABLE mine (x)")
    c.execute("ROLLBACK")
    done = []
    t = threading.Thread(target=lambda: done.append(_create(ours, "mine")))  # another thread of ours
    t.start()
    t.join(30)
    assert done == [True]  # our own lock was released by the failed BEGIN
    assert ours.one("SELECT COUNT(*) n FROM sqlite_master WHERE name='mine'")["n"] == 1
    ours.close()
    other.close()


def _create(db: Database, table: str) -> bool:
    with db.tx() as c:
        c.execute(f"CREATE TABLE {table} (x)")
    return True
