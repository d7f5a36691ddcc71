"""Quiet polling (sources/poller.py) and the check beside a native watch (sources/native_check.py),
on real folders with real watchdog observers. Passes are driven one at a time with a clock the
test moves, so nothing depends on how fast the machine is."""

from __future__ import annotations

import os
import threading

import pytest
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import EventQueue, ObservedWatch

from samples import write_png
from service_helpers import wait_for
from tray_app.app import sync_sources
from tray_app.config import SourceConfig
from tray_app.sources.native_check import DeliveryCheck
from tray_app.sources.poller import HOT_SECONDS, QuietPollingEmitter, QuietPollingObserver
from tray_app.sources.watch import Discovery, Watcher
from tray_app.store.db import Database


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


class CountingScandir:
    def __init__(self):
        self.calls: list[str] = []

    def __call__(self, path):
        self.calls.append(os.path.basename(path))
        return os.scandir(path)


def _emitter(root, **kw):
    clock, scandir, queue = Clock(), CountingScandir(), EventQueue()
    e = QuietPollingEmitter(queue, ObservedWatch(str(root), recursive=True), timeout=2.0, fast=0.25,
                            full_seconds=60.0, scandir=scandir, clock=clock, **kw)
    e.on_thread_start()
    scandir.calls.clear()
    clock.t += HOT_SECONDS + 1  # past the few seconds a folder that just changed is listed anyway
    return e, clock, scandir, queue


def _events(queue) -> list[tuple[str, str]]:
    out = []
    while not queue.empty():
        event, _watch = queue.get()
        out.append((event.event_type, os.path.basename(event.src_path)))
    return out


def _set_mtime(path, ns):
    os.utime(path, ns=(ns, ns))


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "share"
    for sub in ("archive", "today"):
        (root / sub).mkdir(parents=True)
    for i in range(50):
        (root / "archive" / f"old_{i}.png").write_bytes(b"x" * i)
    return root


def test_unchanged_folders_are_not_listed_and_a_changed_one_is_listed_alone(tree):
    e, clock, scandir, queue = _emitter(tree)
    for _ in range(5):
        assert not e.poll()
    assert scandir.calls == []  # five passes: three stats each, no listing
    (tree / "today" / "BW_1.png").write_bytes(b"new")
    assert e.poll()
    assert scandir.calls == ["today"]
    assert _events(queue) == [("created", "BW_1.png")]
    clock.t += HOT_SECONDS + 1
    scandir.calls.clear()
    assert not e.poll()
    assert scandir.calls == []


def test_a_new_sub_folder_is_reported_once_for_the_handler_to_scan(tree):
    e, clock, scandir, queue = _emitter(tree)
    (tree / "today" / "patient 7").mkdir()
    (tree / "today" / "patient 7" / "PA_1.png").write_bytes(b"pa")
    assert e.poll()
    assert _events(queue) == [("created", "patient 7")]
    (tree / "today" / "patient 7" / "PA_2.png").write_bytes(b"pa2")
    clock.t += 0.5
    assert e.poll()
    assert _events(queue) == [("created", "PA_2.png")]


def test_a_file_rewritten_in_place_is_found_by_the_full_pass(tree):
    e, clock, scandir, queue = _emitter(tree)
    f = tree / "archive" / "old_7.png"
    f.write_bytes(b"rewritten, longer than before")  # the folder's time does not move
    assert not e.poll()
    assert _events(queue) == []
    clock.t += 60
    assert e.poll(full=True)
    assert _events(queue) == [("modified", "old_7.png")]
    assert not e.folders[str(tree / "archive")].time_unreliable  # a rewrite is not a new name


def test_a_folder_that_keeps_no_modification_time_is_found_by_the_full_pass_and_listed_from_then_on(tree):
    e, clock, scandir, queue = _emitter(tree)
    today = tree / "today"
    before = today.stat().st_mtime_ns
    (today / "BW_1.png").write_bytes(b"1")
    _set_mtime(today, before)  # as FAT/exFAT or a server without folder times leaves it
    assert not e.poll()
    assert _events(queue) == []  # the cheap pass cannot see it …
    assert e.poll(full=True)
    assert _events(queue) == [("created", "BW_1.png")]  # … the full pass does
    assert e.folders[str(today)].time_unreliable
    (today / "BW_2.png").write_bytes(b"2")
    _set_mtime(today, before)
    clock.t += HOT_SECONDS + 1
    scandir.calls.clear()
    assert e.poll()  # no full pass needed any more
    assert _events(queue) == [("created", "BW_2.png")]
    assert scandir.calls == ["today"]


def test_a_file_replaced_by_rename_under_the_same_name_is_reported(tree):
    e, clock, scandir, queue = _emitter(tree)
    staged = tree / "today" / "~BW.png"
    staged.write_bytes(b"first")
    os.replace(staged, tree / "today" / "BW.png")
    assert e.poll()
    _events(queue)
    clock.t += HOT_SECONDS + 1
    staged.write_bytes(b"second version")
    os.replace(staged, tree / "today" / "BW.png")
    assert e.poll()
    assert ("modified", "BW.png") in _events(queue)


def test_the_interval_is_fast_after_a_change_and_doubles_while_quiet_up_to_the_bound(tree):
    e, clock, scandir, queue = _emitter(tree)
    assert e.interval == e.slow == 2.0
    (tree / "today" / "BW_1.png").write_bytes(b"1")
    e.tick()
    assert e.interval == 0.25
    seen = []
    for _ in range(6):
        clock.t += HOT_SECONDS + 1
        e.tick()
        seen.append(e.interval)
    assert seen == [0.5, 1.0, 2.0, 2.0, 2.0, 2.0]
    (tree / "today" / "BW_2.png").write_bytes(b"2")
    e.tick()
    assert e.interval == 0.25


def test_a_vanished_folder_stops_the_emitter_for_the_supervisor_to_re_arm(tree):
    import shutil

    e, clock, scandir, queue = _emitter(tree)
    shutil.rmtree(tree)
    e.tick()
    assert _events(queue) == [("deleted", "share")]
    assert not e.should_keep_running()


def test_the_quiet_observer_delivers_events_to_a_handler(tree):
    got: list[str] = []

    class Record(FileSystemEventHandler):
        def on_any_event(self, event):
            got.append(os.path.basename(event.src_path))

    obs = QuietPollingObserver(slow=0.2, fast=0.05)
    obs.schedule(Record(), str(tree), recursive=True)
    obs.start()
    try:
        (tree / "today" / "BW_9.png").write_bytes(b"9")
        wait_for(lambda: "BW_9.png" in got, 20, message="the polled file reported")
    finally:
        obs.stop()
        obs.join(timeout=10)


# -- the check beside a native watch ----------------------------------------------------------------
def test_delivery_check_counts_only_files_the_native_watch_never_reported():
    clock = Clock()
    check = DeliveryCheck(grace=5.0, clock=clock)
    check.native("/s/a.png")
    check.listed("/s/a.png")  # reported first
    check.listed("/s/b.png")
    check.native("/s/b.png")  # reported a little after the listing: in time
    check.listed("/s/c.png")
    clock.t += 4.9
    assert check.missed() == []
    clock.t += 0.2
    assert check.missed() == [os.path.normcase("/s/c.png")]


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "bridge.sqlite3")
    yield d
    d.close()


def _watch(db, share, native_observer=Observer, grace=1.0):
    sources = sync_sources(db, [SourceConfig(path=str(share), kind="auto")])
    watcher = Watcher(db, Discovery(db, threading.Event()), sources, supervise_seconds=0.2, poll_seconds=0.3,
                      checked=lambda s: True, native_observer=native_observer)
    watcher.check_seconds, watcher.check_grace = 0.3, grace
    return watcher


def _paths(db) -> set[str]:
    return {os.path.basename(r[0]) for r in db.query("SELECT path FROM images")}


def test_a_share_whose_native_watch_does_not_deliver_moves_to_polling(db, tmp_path):
    """A real native observer that reports nothing for the share (as an SMB server that accepts
    change-notify requests and never answers): the listing beside it finds the file, the miss
    moves the share to polling, and later files are found by polling."""
    share, elsewhere = tmp_path / "share", tmp_path / "elsewhere"
    share.mkdir()
    elsewhere.mkdir()

    class DeafObserver(Observer):  # alive and healthy, but watching a folder where nothing happens
        def schedule(self, handler, path, **kw):
            return super().schedule(handler, str(elsewhere), **kw)

    watcher = _watch(db, share, DeafObserver)
    watcher.start()
    try:
        w = watcher.watches[0]
        assert (w.kind, w.check is not None) == ("native", True)
        write_png(share / "BW_1.png", seed=1)
        wait_for(lambda: "BW_1.png" in _paths(db), 20, message="the listing to find the first file")
        wait_for(lambda: w.kind == "polling" and w.status == "watching", 20, message="the move to polling")
        assert w.check is None and w.checker is None
        write_png(share / "BW_2.png", seed=2)
        wait_for(lambda: "BW_2.png" in _paths(db), 20, message="polling to find the next file")
    finally:
        watcher.stop()


def test_a_native_watch_that_delivers_stays_native(db, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    watcher = _watch(db, share, grace=3.0)  # a loaded machine may hand events on late; a second is not a miss
    watcher.start()
    try:
        w = watcher.watches[0]
        emitter = next(iter(w.checker.emitters))
        for i in range(5):
            write_png(share / f"BW_{i}.png", seed=i)
        wait_for(lambda: len(_paths(db)) == 5, 20, message="five files")
        passes = emitter.passes
        wait_for(lambda: emitter.passes >= passes + 12, 30, message="check passes past the grace time")
        assert w.kind == "native" and w.check is not None and w.check.missed() == []
    finally:
        watcher.stop()
