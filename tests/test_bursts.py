"""A burst of files (an FMX, a folder copied in) costs a few commits, not one per file: the
watcher's events are recorded together on the discovery thread, the files a readiness pass finds
complete are promoted together after the first (which the worker starts on at once), and the
service warms the model and the decoder before the first image waits for them."""

from __future__ import annotations

import os
import threading

import pytest

from samples import write_png
from service_helpers import fast_config, home_paths, wait_for
from tray_app.sources.readiness import ReadinessMonitor
from tray_app.sources.watch import Discovery
from tray_app.store import Database
from tray_app.store import images as image_repo


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "bridge.sqlite3")
    yield d
    d.close()


def _renamed_in(folder, n: int) -> list:
    paths = []
    for i in range(n):
        staged = write_png(folder / f"~img_{i:02d}.png", seed=i)
        final = folder / f"img_{i:02d}.png"
        os.replace(staged, final)
        paths.append(final)
    return paths


def _offered_while_the_first_is_recorded(discovery, paths, monkeypatch):
    """The first path's commit is held until `release` is set; the other paths are offered
    meanwhile. Returns the batch sizes recorded (filled in as they are) and `release`."""
    real, batches = image_repo.discover_many, []
    inside, release = threading.Event(), threading.Event()

    def held(d, versions):
        batches.append(len(versions))
        if len(batches) == 1:
            inside.set()
            assert release.wait(30)
        return real(d, versions)

    monkeypatch.setattr(image_repo, "discover_many", held)
    discovery.offer_soon(str(paths[0]), None, renamed=True)
    assert inside.wait(30)
    for p in paths[1:]:
        discovery.offer_soon(str(p), None, renamed=True)
    return batches, release


def test_events_arriving_while_one_is_recorded_are_recorded_together_in_order(db, tmp_path, monkeypatch):
    discovery = Discovery(db, threading.Event())
    paths = _renamed_in(tmp_path, 12)
    batches, release = _offered_while_the_first_is_recorded(discovery, paths, monkeypatch)
    release.set()
    wait_for(lambda: db.one("SELECT COUNT(*) FROM images")[0] == 12, 30, interval=0.02, message="all 12 recorded")
    assert batches == [1, 11]
    rows = db.query("SELECT path FROM images ORDER BY id")
    assert [r["path"] for r in rows] == [str(p) for p in paths]  # arrival order kept
    assert discovery.renamed_in == {str(p) for p in paths}  # readiness skips their settle time
    discovery.offer_soon(str(paths[0]), None, renamed=True)  # the same version again: nothing new
    assert db.one("SELECT COUNT(*) FROM images")[0] == 12


def test_stopping_discovery_records_what_was_handed_over_before_the_database_closes(db, tmp_path, monkeypatch):
    """The service closes its database right after: a discovery thread still writing then
    crashed the process (a connection closed under it)."""
    discovery = Discovery(db, threading.Event())
    paths = _renamed_in(tmp_path, 3)
    _, release = _offered_while_the_first_is_recorded(discovery, paths, monkeypatch)
    stopper = threading.Thread(target=discovery.stop)
    stopper.start()
    release.set()
    stopper.join(30)
    recorder = discovery._recorder
    assert not stopper.is_alive() and (recorder is None or not recorder.is_alive())
    assert db.one("SELECT COUNT(*) FROM images")[0] == 3  # all handed over before stop, recorded
    late = write_png(tmp_path / "late.png", seed=9)
    discovery.offer_soon(str(late), None, renamed=True)  # after stop: left to the next start-up scan
    assert discovery._recorder is None and db.one("SELECT COUNT(*) FROM images")[0] == 3


def test_closing_the_database_waits_for_a_write_another_thread_has_under_way(tmp_path):
    d = Database(tmp_path / "bridge.sqlite3")
    inside, go_on, errors = threading.Event(), threading.Event(), []

    def writer():
        try:
            with d.tx() as c:
                c.execute("CREATE TABLE t (x)")
                inside.set()
                assert go_on.wait(30)
                c.execute("INSERT INTO t VALUES (1)")
        except Exception as exc:  # on the old code: "Cannot operate on a closed database"
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    assert inside.wait(30)
    closer = threading.Thread(target=d.close)
    closer.start()
    closer.join(0.3)
    still_closing = closer.is_alive()
    go_on.set()
    t.join(30)
    closer.join(30)
    assert still_closing and not errors
    assert Database(tmp_path / "bridge.sqlite3").one("SELECT COUNT(*) FROM t")[0] == 1


def test_a_readiness_pass_promotes_the_first_complete_file_at_once_and_the_rest_together(db, tmp_path, monkeypatch):
    discovery = Discovery(db, threading.Event())
    for p in _renamed_in(tmp_path, 6):
        assert discovery.offer(str(p), None, renamed=True)
    real, batches = image_repo.mark_ready_many, []
    monkeypatch.setattr(image_repo, "mark_ready_many", lambda d, v: batches.append(len(v)) or real(d, v))
    wake = threading.Event()
    monitor = ReadinessMonitor(db, settle_seconds=30.0, wake_worker=wake, renamed_in=discovery.renamed_in)
    assert monitor.check_once(now=10.0) == 0
    assert batches == [1, 5] and wake.is_set()
    assert {r["state"] for r in db.query("SELECT state FROM images")} == {"ready"}


def test_the_service_warms_the_model_and_the_decoder_before_the_first_image(home, export_dir):
    from tray_app.app import Service

    s = Service(fast_config(export_dir), home_paths())
    runs = []
    real_load = s.load_model

    def load_and_count():
        real_load()
        real_run = s.model.run_raw
        s.model.run_raw = lambda t: runs.append(t.shape) or real_run(t)

    s.worker._load_model = load_and_count
    s.start()
    try:
        wait_for(lambda: runs, 60, message="the warm-up run")
        assert image_repo.next_work(s.db, model_available=True) is None  # no image yet: a blank input
        write_png(export_dir / "first.png", seed=1)
        wait_for(lambda: s.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 1, 60,
                 message="the first image analysed")
        assert len(runs) == 2  # the warm-up and the image: no second model for the warm-up
        assert not [f for f in s.processor.staging.iterdir()]  # the decoder's probe is gone
    finally:
        s.stop()
