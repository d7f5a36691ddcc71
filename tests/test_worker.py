"""The analysis worker loop on its own, apart from the composition root (`app.Service`)."""

from __future__ import annotations

import errno
import threading

from samples import write_png
from service_helpers import fast_config, home_paths
from tray_app.intake.pipeline import Processor
from tray_app.store import Database
from tray_app.store import images as image_repo
from tray_app.worker import AnalysisWorker, Health


def test_a_full_disk_is_the_pcs_problem_never_the_images(home, export_dir):
    paths = home_paths().ensure()
    db = Database(paths.database)
    config = fast_config(export_dir)
    processor = Processor(db, config, paths)
    health, calls = Health(), []
    worker = AnalysisWorker(db, config, paths.data_dir, paths.cache_dir, processor, health, threading.Event(),
                            load_model=lambda: calls.append("load"), rescan=lambda: calls.append("rescan"),
                            wake_readiness=lambda: calls.append("readiness"), wake_exporter=lambda: None)
    f = write_png(export_dir / "a.png")
    st = f.stat()
    image_id = image_repo.discover(db, str(f), None, st.st_size, st.st_mtime_ns)
    assert image_repo.mark_ready(db, image_id, st.st_size, st.st_mtime_ns)

    def disk_full(_image_id):
        raise OSError(errno.ENOSPC, "No space left on device")

    processor.process = disk_full
    outcome = worker.work_once()
    assert outcome.status == "retry" and outcome.reason == Health.DISK_FULL == health.problem
    assert image_repo.get(db, image_id)["attempts"] == 0 and image_repo.get(db, image_id)["state"] == "ready"
    assert worker.work_once() is None and worker.waiting_retries  # held back, not retried at once

    worker._recover_from_disk_full()  # writing works again: rescan, and the held image goes now
    assert calls == ["rescan", "readiness"] and health.problem == "" and not worker.waiting_retries
    worker.paused = True
    assert worker.work_once() is None
    db.close()


def test_steps_after_an_image_run_in_order_and_a_failing_one_stops_nothing(home, export_dir):
    """The composition root adds steps (alerts, image quality) that see each analysed image."""
    from tray_app.intake.pipeline import Outcome

    paths = home_paths().ensure()
    seen = []

    def broken(outcome):
        raise RuntimeError("boom")

    processor = Processor(Database(paths.database), fast_config(export_dir), paths,
                          after_image=[lambda o: seen.append(("first", o.image_id)), broken,
                                       lambda o: seen.append(("last", o.image_id))])
    assert processor._notify(Outcome(7, "x.png", "analyzed")).status == "analyzed"
    assert seen == []  # not in a study: nothing to tell
    processor._notify(Outcome(8, "y.png", "quarantined", study_id=1))
    assert seen == []
    processor._notify(Outcome(9, "z.png", "analyzed", study_id=1))
    assert seen == [("first", 9), ("last", 9)]


def test_steps_that_may_lag_run_off_the_model_thread_and_inline_ones_stay(home, export_dir):
    """Retake advice and priors must not hold the next image; the urgent alert's row must not wait."""
    from tray_app.intake.after_steps import StepRunner, inline

    paths = home_paths().ensure()
    db = Database(paths.database)
    release, seen = threading.Event(), []

    def slow(outcome):
        release.wait(10)
        seen.append(("slow", outcome.image_id, threading.current_thread().name))

    def alert(outcome):
        seen.append(("alert", outcome.image_id, threading.current_thread().name))

    runner = StepRunner()
    runner.start()
    processor = Processor(db, fast_config(export_dir), paths, after_image=[slow, inline(alert)], step_runner=runner)
    ids = []
    for name in ("a.png", "b.png"):
        f = write_png(export_dir / name, seed=len(ids))
        st = f.stat()
        ids.append(image_repo.discover(db, str(f), None, st.st_size, st.st_mtime_ns))
        assert image_repo.mark_ready(db, ids[-1], st.st_size, st.st_mtime_ns)
    for image_id in ids:  # the second image is processed while the first one's slow step still waits
        assert processor.process(image_id).status == "decoded"
    main = threading.current_thread().name
    assert seen == [("alert", ids[0], main), ("alert", ids[1], main)]
    release.set()
    assert runner.drain(10)
    assert seen[2:] == [("slow", ids[0], "after-image"), ("slow", ids[1], "after-image")]
    runner.stop()
