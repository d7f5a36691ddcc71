"""The analysed image's commit runs on the commit thread while the model runs on the next image:
no image is analysed twice while its result waits to be recorded, a failing commit is the
image's own (retried, then set aside), and stopping records what was handed over."""

from __future__ import annotations

import threading

from service_helpers import fast_config, home_paths, ready_pngs, wait_for
from tray_app.app import Service
from tray_app.intake.commit_stage import CommitStage
from tray_app.store import images as image_repo


def _inferences(db) -> dict[str, int]:
    return {r["subject"]: r["n"] for r in
            db.query("SELECT subject, COUNT(*) n FROM audit WHERE event='inference' GROUP BY subject")}


def test_the_model_runs_on_the_next_image_while_this_one_is_committed(home, export_dir):
    s = Service(fast_config(export_dir), home_paths())
    s.load_model()
    ids = ready_pngs(s.db, export_dir, 3)
    real = s.processor._record_analysis
    in_commit, release = threading.Event(), threading.Event()
    ran_on: list[int] = []
    real_run = s.model.run_outputs

    def held(prepared, detections):  # the first image's commit waits until the test has looked
        if prepared.image_id == ids[0]:
            in_commit.set()
            assert release.wait(60)
        return real(prepared, detections)

    def run_outputs(plan):
        ran_on.append(plan)
        return real_run(plan)

    s.processor._record_analysis = held
    s.model.run_outputs = run_outputs
    first = s.worker.work_once(prefetch=True, commit_behind=True)
    assert first.image_id == ids[0] and first.status == "committing"
    assert in_commit.wait(60)
    second = s.worker.work_once(prefetch=True, commit_behind=True)  # not the held image again
    assert second.image_id == ids[1] and len(ran_on) == 2
    assert image_repo.get(s.db, ids[0])["state"] == "decoded"  # not recorded yet: a crash re-runs it
    assert s.processor.held_by_commit() >= {ids[0], ids[1]}
    release.set()
    while s.worker.work_once(prefetch=True, commit_behind=True) is not None:
        pass
    s.processor.stop_prefetch()
    s.processor.stop_commit()
    assert [image_repo.get(s.db, i)["state"] for i in ids] == ["analyzed"] * 3
    assert len(ran_on) == 3 and set(_inferences(s.db).values()) == {1} and len(_inferences(s.db)) == 3
    s.db.close()


def test_the_models_thread_runs_only_the_model_and_post_processing_happens_at_the_commit(home, export_dir):
    s = Service(fast_config(export_dir), home_paths())
    s.load_model()
    ids = ready_pngs(s.db, export_dir, 2)
    threads: dict[str, set[str]] = {"model": set(), "post-processing": set()}
    real_run, real_post = s.model.run_outputs, s.model.detections

    def run_outputs(plan):
        threads["model"].add(threading.current_thread().name)
        return real_run(plan)

    def detections(outputs, *a, **kw):
        threads["post-processing"].add(threading.current_thread().name)
        return real_post(outputs, *a, **kw)

    s.model.run_outputs, s.model.detections = run_outputs, detections
    worker = threading.Thread(target=lambda: [s.worker.work_once(prefetch=True, commit_behind=True)
                                              for _ in ids], name="analysis-worker")
    worker.start()
    worker.join(120)
    s.processor.stop_commit()
    s.processor.stop_prefetch()
    assert threads == {"model": {"analysis-worker"}, "post-processing": {"analysis-commit"}}
    assert [image_repo.get(s.db, i)["state"] for i in ids] == ["analyzed"] * 2
    assert s.db.one("SELECT COUNT(*) n FROM findings")["n"] > 0  # the boxes were recorded
    s.db.close()


def test_a_commit_that_fails_is_the_images_own_and_the_queue_goes_on(home, export_dir, monkeypatch):
    s = Service(fast_config(export_dir), home_paths())
    s.load_model()
    ids = ready_pngs(s.db, export_dir, 3)
    real = s.processor._record_analysis

    def broken_second(prepared, detections):
        if prepared.image_id == ids[1]:
            raise RuntimeError("findings table is broken")
        return real(prepared, detections)

    s.processor._record_analysis = broken_second
    monkeypatch.setattr(s.worker, "MAX_UNEXPECTED_FAILURES", 2)
    retry_at = {}
    monkeypatch.setattr(s.worker, "_retry_at", retry_at)

    def run_queue():
        while s.worker.work_once(prefetch=True, commit_behind=True) is not None:
            pass
        s.processor.committer.drain(60)
        retry_at.clear()  # the test does not wait out the backoff
        return image_repo.get(s.db, ids[1])["state"] == "quarantined"

    wait_for(run_queue, 60, interval=0, message="the failing image set aside")
    s.processor.stop_prefetch()
    s.processor.stop_commit()
    row = image_repo.get(s.db, ids[1])
    assert row["attempts"] == 2 and "RuntimeError: findings table is broken" in row["reason"]
    assert [image_repo.get(s.db, i)["state"] for i in (ids[0], ids[2])] == ["analyzed"] * 2
    assert not s.db.query("SELECT 1 FROM findings WHERE image_id=?", (ids[1],))  # rolled back each time
    s.db.close()


def test_stopping_records_what_was_handed_over_and_later_hand_overs_commit_inline():
    done: list[int] = []
    gate = threading.Event()

    def commit(item):
        gate.wait(30)
        done.append(item)

    stage = CommitStage(commit, depth=1)
    stage.submit(1, 1)
    stage.submit(2, 2)  # queued behind the one being committed
    gate.set()
    stage.stop()
    assert done == [1, 2] and stage.held() == set()
    stage.submit(3, 3)  # after stop: recorded on the caller's thread, never dropped
    assert done == [1, 2, 3]
