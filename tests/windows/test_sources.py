"""Folder watching and readiness on Windows: watchdog's ReadDirectoryChangesW observer, and a
file another Windows process holds open for writing (imaging software still saving) stays
pending until it is released."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from tray_app.app import sync_sources
from tray_app.config import SourceConfig
from tray_app.sources.readiness import ReadinessMonitor, can_open_exclusively
from tray_app.sources.watch import Discovery, Watcher
from tray_app.store import images as image_repo
from tray_app.store.db import Database

from .child import wait_for

pytestmark = pytest.mark.windows

# holds the file open for writing (as imaging software does while saving) until stdin closes
HOLDER = r"""
import sys
with open(sys.argv[1], "ab") as f:
    f.write(b"more")
    f.flush()
    print("holding", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "bridge.sqlite3")
    yield d
    d.close()


def _states(db) -> dict[str, str]:
    return {os.path.basename(r["path"]): r["state"] for r in db.query("SELECT path, state FROM images ORDER BY id")}


def test_a_file_held_open_for_writing_by_another_process_is_not_ready_until_released(db, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    f = share / "BW_1.dcm"
    f.write_bytes(b"partial")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(f)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert not can_open_exclusively(str(f))
        wake = threading.Event()
        assert Discovery(db, threading.Event()).offer(str(f), None)
        monitor = ReadinessMonitor(db, settle_seconds=0.0, wake_worker=wake)
        t = time.monotonic()
        for i in range(5):  # size and mtime are stable, the settle time is over: only the writer holds it
            monitor.check_once(now=t + i)
        assert _states(db) == {"BW_1.dcm": "discovered"}
        assert not wake.is_set()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert can_open_exclusively(str(f))
    monitor.check_once(now=t + 10)
    assert _states(db) == {"BW_1.dcm": "ready"}
    assert wake.is_set()


def test_a_file_open_for_reading_elsewhere_is_still_ready(db, tmp_path):
    f = tmp_path / "PA_1.dcm"
    f.write_bytes(b"complete")
    with open(f, "rb"):  # e.g. antivirus or a viewer reading it: not a writer
        assert can_open_exclusively(str(f))


def test_the_windows_observer_sees_created_renamed_and_deleted_files(db, tmp_path):
    from watchdog.observers import Observer
    from watchdog.observers.read_directory_changes import WindowsApiObserver

    assert Observer is WindowsApiObserver
    share = tmp_path / "share"
    (share / "sub").mkdir(parents=True)
    sources = sync_sources(db, [SourceConfig(path=str(share), kind="native")])
    wake = threading.Event()
    discovery = Discovery(db, wake)
    watcher = Watcher(db, discovery, sources, supervise_seconds=0.5)
    watcher.start()
    try:
        w = watcher.watches[0]
        assert (w.status, w.kind) == ("watching", "native")
        assert isinstance(w.observer, WindowsApiObserver)

        (share / "BW_created.dcm").write_bytes(b"x" * 100)
        tmp = share / "sub" / "PA_new.tmp"  # filtered name while written, then renamed into place
        tmp.write_bytes(b"y" * 100)
        tmp.rename(share / "sub" / "PA_renamed.dcm")
        assert wait_for(lambda: {"BW_created.dcm", "PA_renamed.dcm"} <= set(_states(db)), timeout=20), _states(db)
        assert "PA_new.tmp" not in _states(db)
        assert str(share / "sub" / "PA_renamed.dcm") in discovery.renamed_in

        (share / "BW_created.dcm").unlink()
        monitor = ReadinessMonitor(db, settle_seconds=0.0, wake_worker=wake, renamed_in=discovery.renamed_in)
        monitor.check_once(now=time.monotonic())
        monitor.check_once(now=time.monotonic() + 1)
        assert _states(db) == {"PA_renamed.dcm": "ready"}  # the deleted one was forgotten, not quarantined
        assert watcher._healthy(w)
    finally:
        watcher.stop()


def test_the_observer_reports_each_kind_of_event(tmp_path):
    """watchdog's own events under ReadDirectoryChangesW (the product ignores deletes; readiness forgets)."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    seen: list[tuple[str, str]] = []

    class Record(FileSystemEventHandler):
        def on_any_event(self, event):
            if not event.is_directory:
                seen.append((event.event_type, os.path.basename(getattr(event, "dest_path", "") or event.src_path)))

    obs = Observer()
    obs.schedule(Record(), str(tmp_path), recursive=True)
    obs.start()
    try:
        time.sleep(0.5)
        (tmp_path / "a.tmp").write_bytes(b"1")
        (tmp_path / "a.tmp").rename(tmp_path / "a.dcm")
        (tmp_path / "a.dcm").unlink()
        assert wait_for(lambda: {("created", "a.tmp"), ("moved", "a.dcm"), ("deleted", "a.dcm")} <= set(seen),
                        timeout=20), seen
    finally:
        obs.stop()
        obs.join(timeout=10)


def test_quiet_polling_lists_only_the_folder_that_changed_from_windows_listings(tmp_path):
    """On Windows a listing gives size and mtime of each entry for free; folders whose time
    did not move are not listed at all."""
    from watchdog.observers.api import EventQueue, ObservedWatch

    from tray_app.sources.poller import HOT_SECONDS, QuietPollingEmitter

    share = tmp_path / "share"
    for sub in ("archive", "today"):
        (share / sub).mkdir(parents=True)
    for i in range(20):
        (share / "archive" / f"old_{i}.dcm").write_bytes(b"x" * i)
    listed: list[str] = []
    now = [1000.0]
    queue = EventQueue()

    def scandir(path):
        listed.append(os.path.basename(path))
        return os.scandir(path)

    e = QuietPollingEmitter(queue, ObservedWatch(str(share), recursive=True), timeout=2.0, scandir=scandir,
                            clock=lambda: now[0])
    e.on_thread_start()
    listed.clear()
    now[0] += HOT_SECONDS + 1
    assert not e.poll() and listed == []
    (share / "today" / "BW_1.dcm").write_bytes(b"new")
    assert e.poll()
    assert listed == ["today"]
    event, _watch = queue.get()
    assert (event.event_type, os.path.basename(event.src_path)) == ("created", "BW_1.dcm")


def test_a_share_whose_readdirectorychangesw_never_reports_moves_to_polling(db, tmp_path):
    """The Windows observer, alive but reporting nothing for the share (as an SMB server that
    accepts change-notify requests and never answers): the listing beside it finds the file and
    the share is polled from then on."""
    from watchdog.observers import Observer

    share, elsewhere = tmp_path / "share", tmp_path / "elsewhere"
    share.mkdir()
    elsewhere.mkdir()

    class DeafObserver(Observer):
        def schedule(self, handler, path, **kw):
            return super().schedule(handler, str(elsewhere), **kw)

    sources = sync_sources(db, [SourceConfig(path=str(share), kind="auto")])
    watcher = Watcher(db, Discovery(db, threading.Event()), sources, supervise_seconds=0.3, poll_seconds=0.3,
                      checked=lambda s: True, native_observer=DeafObserver)
    watcher.check_seconds, watcher.check_grace = 0.3, 1.0
    watcher.start()
    try:
        w = watcher.watches[0]
        assert w.kind == "native" and w.check is not None
        (share / "BW_1.dcm").write_bytes(b"x" * 100)
        assert wait_for(lambda: "BW_1.dcm" in _states(db), timeout=30), _states(db)
        assert wait_for(lambda: w.kind == "polling" and w.status == "watching", timeout=30)
        (share / "BW_2.dcm").write_bytes(b"y" * 100)
        assert wait_for(lambda: "BW_2.dcm" in _states(db), timeout=30), _states(db)
    finally:
        watcher.stop()
