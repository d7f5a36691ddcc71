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
