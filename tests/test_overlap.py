"""The next image is prepared (read, hashed, decoded, committed `decoded`, pre-processed) on
the preparation thread while the model runs on this one: at most one image ahead, and a crash
at any point of it loses and repeats nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from samples import write_png
from service_helpers import fast_config, home_paths, ready_pngs, starts_logged, wait_for, wait_started
from tray_app.app import Service
from tray_app.store import Database, audit
from tray_app.store import images as image_repo


def test_while_the_model_runs_only_the_next_image_is_prepared(home, export_dir):
    s = Service(fast_config(export_dir), home_paths())
    s.load_model()
    ids = ready_pngs(s.db, export_dir, 4)
    model = s.model
    real_run, in_model, release = model.run_raw, threading.Event(), threading.Event()

    def held_run(tensor):  # the model holds on to the first image until the test has looked
        if not release.is_set():
            in_model.set()
            release.wait()
        return real_run(tensor)

    model.run_raw = held_run
    worker = threading.Thread(target=lambda: s.worker.work_once(prefetch=True))
    worker.start()
    try:
        assert in_model.wait(60)
        pre = wait_for(lambda: s.processor.prefetcher, 30, message="the preparation thread")
        wait_for(lambda: pre._ready is not None, 60, message="the second image prepared")
        assert pre._ready[0] == ids[1] and pre._busy is None and pre.held() == 1
        states = [image_repo.get(s.db, i)["state"] for i in ids]
        assert states == ["decoded", "decoded", "ready", "ready"]  # the third waits for a free slot
    finally:
        release.set()
        worker.join(60)
    while s.worker.work_once(prefetch=True) is not None:
        pass
    s.processor.stop_prefetch()
    assert [image_repo.get(s.db, i)["state"] for i in ids] == ["analyzed"] * 4
    assert pre.high_water == 1 and pre.prepared == 3  # images 2-4 were prepared ahead
    inferences = s.db.query("SELECT subject, COUNT(*) n FROM audit WHERE event='inference' GROUP BY subject")
    assert len(inferences) == 4 and {r["n"] for r in inferences} == {1}
    s.db.close()


def test_a_failure_while_preparing_ahead_is_the_images_own(home, export_dir, monkeypatch):
    """What preparing raises reaches the worker with the image it belongs to, as if inline:
    a locked file is retried, the other images go on."""
    from tray_app.intake import pipeline

    s = Service(fast_config(export_dir), home_paths())
    s.load_model()
    ids = ready_pngs(s.db, export_dir, 3)
    real_copy = pipeline.copy_hashed

    def locked_second(src, dst, **kw):
        if str(src).endswith("img_01.png"):
            raise PermissionError(13, "sharing violation")
        return real_copy(src, dst, **kw)

    monkeypatch.setattr(pipeline, "copy_hashed", locked_second)
    outcomes = []
    while (o := s.worker.work_once(prefetch=True)) is not None:
        outcomes.append((o.image_id, o.status))
    s.processor.stop_prefetch()
    assert outcomes == [(ids[0], "analyzed"), (ids[1], "retry"), (ids[2], "analyzed")]
    row = image_repo.get(s.db, ids[1])
    assert row["state"] == "ready" and row["attempts"] == 1 and "locked" in row["reason"]
    s.db.close()


def _held_model(s):
    """The model holds on to its first image until `release` is set; `in_model` tells it is there."""
    real_run, in_model, release = s.model.run_raw, threading.Event(), threading.Event()

    def held_run(tensor):
        if not release.is_set():
            in_model.set()
            release.wait()
        return real_run(tensor)

    s.model.run_raw = held_run
    return in_model, release


def _arrive(s, folder, names) -> list[int]:
    """Files moved into the export folder whole, seen by the watcher; readiness promotes them."""
    ids = []
    for i, name in enumerate(names):
        p = write_png(folder / name, seed=20 + i)
        st = p.stat()
        ids.append(image_repo.discover(s.db, str(p), None, st.st_size, st.st_mtime_ns))
        s.readiness.renamed_in.add(str(p))
    s.readiness.check_once()  # promotes them and tells the worker (Service wires on_promoted)
    return ids


def _drain_and_check(s, ids):
    while s.worker.work_once(prefetch=True) is not None:
        pass
    s.processor.stop_prefetch()
    assert [image_repo.get(s.db, i)["state"] for i in ids] == ["analyzed"] * len(ids)
    inferences = s.db.query("SELECT subject, COUNT(*) n FROM audit WHERE event='inference' GROUP BY subject")
    assert len(inferences) == len(ids) and {r["n"] for r in inferences} == {1}


@pytest.mark.parametrize("when", ["in the model", "while it is prepared"])
def test_images_that_become_ready_after_the_worker_looked_are_prepared_while_the_model_runs(home, export_dir, when):
    """A burst's first file is promoted alone, the rest a moment later: the second image is then
    prepared during the first one's model run, not after it (the model sat idle ~30 ms)."""
    s = Service(fast_config(export_dir), home_paths())
    s.load_model()
    first = ready_pngs(s.db, export_dir, 1)[0]
    in_model, release = _held_model(s)
    later: list[int] = []
    if when == "while it is prepared":
        real_prepare = s.processor.prepare

        def prepare_then_more_arrive(image_id):
            prepared = real_prepare(image_id)
            if image_id == first and not later:
                later.extend(_arrive(s, export_dir, ["late_1.png", "late_2.png"]))
            return prepared

        s.processor.prepare = prepare_then_more_arrive
    worker = threading.Thread(target=lambda: s.worker.work_once(prefetch=True, commit_behind=True))
    worker.start()
    try:
        assert in_model.wait(60)
        if when == "in the model":
            later.extend(_arrive(s, export_dir, ["late_1.png", "late_2.png"]))
        pre = s.processor.prefetcher
        wait_for(lambda: pre._ready is not None, 60, message="the second image prepared ahead")
        assert pre._ready[0] == later[0] and not release.is_set()  # the model is still on the first
        assert [image_repo.get(s.db, i)["state"] for i in later] == ["decoded", "ready"]
    finally:
        release.set()
        worker.join(60)
    s.processor.stop_commit()
    _drain_and_check(s, [first, *later])
    assert pre.prepared == 2 and pre.high_water == 1
    s.db.close()


def test_a_look_ahead_never_prepares_the_image_the_worker_prepares_itself():
    from tray_app.intake.prefetch import Prefetcher

    prepared, gate = [], threading.Event()

    def prepare(image_id):
        gate.wait(30)
        prepared.append(image_id)
        return f"prepared {image_id}"

    pre = Prefetcher(prepare)
    try:
        assert pre.take(1) is None          # the caller prepares 1 itself: no look-ahead meanwhile
        assert not pre.want_behind(1, 2)
        pre.want(None, behind=1)            # 1 is prepared and in the model
        assert pre.idle_behind() == 1
        assert not pre.want_behind(0, 2)    # a look computed for an earlier image
        assert not pre.want_behind(1, 1)
        assert pre.want_behind(1, 2)
        wait_for(lambda: pre._busy == 2, 30, message="2 being prepared ahead")
        assert not pre.want_behind(1, 3)    # one image ahead at most
        gate.set()
        assert pre.take(2) == "prepared 2"
        assert pre.take(3) is None and prepared == [2]
    finally:
        gate.set()
        pre.stop()


@pytest.mark.parametrize("point", ["staging", "prepared", "committing"])
def test_a_crash_while_the_next_image_is_prepared_loses_nothing(home, export_dir, point):
    paths = home_paths()
    fast_config(export_dir, settle_seconds=0.3).save(paths.config_file)
    for i in range(6):
        write_png(export_dir / f"img_{i:02d}.png", seed=i)
    env = dict(os.environ, DENTAL_BRIDGE_HOME=str(home))
    child = subprocess.run([sys.executable, str(Path(__file__).parent / "overlap_child.py"), point], env=env,
                           capture_output=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode(errors="replace")[-2000:]
    assert (home / "killed-while-preparing").read_text() == point

    log_file = paths.log_dir / "dental-bridge.log"
    before = starts_logged(log_file)
    proc = subprocess.Popen([sys.executable, "-m", "tray_app", "run", "--headless"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    db = Database(paths.database)
    try:
        wait_started(log_file, before, proc)
        wait_for(lambda: db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 6, 120,
                 message="all 6 files analysed after the crash")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    rows = db.query("SELECT path, state, COUNT(*) n FROM images GROUP BY path")
    assert len(rows) == 6 and all(r["n"] == 1 and r["state"] == "analyzed" for r in rows)
    per_image = db.query("SELECT image_id, COUNT(*) n FROM findings GROUP BY image_id")
    assert len(per_image) == 6 and {r["n"] for r in per_image} == {2}
    inferences = db.query("SELECT subject, COUNT(*) n FROM audit WHERE event='inference' GROUP BY subject")
    assert len(inferences) == 6 and {r["n"] for r in inferences} == {1}
    assert audit.verify(db.conn()).ok
    assert not list((paths.cache_dir / "staging").iterdir())
    db.close()
