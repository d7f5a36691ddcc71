"""kill -9 at random moments during ingest; after restarts every file is analysed exactly once."""

import os
import random
import signal
import subprocess
import sys
import time

from samples import write_dicom, write_png
from service_helpers import fast_config, home_paths, starts_logged, wait_for, wait_started
from tray_app.store import audit
from tray_app.store import Database


def _start(env):
    return subprocess.Popen([sys.executable, "-m", "tray_app", "run", "--headless"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_kill_9_during_ingest_loses_and_duplicates_nothing(home, export_dir):
    paths = home_paths()
    fast_config(export_dir, settle_seconds=0.3).save(paths.config_file)
    env = dict(os.environ, DENTAL_BRIDGE_HOME=str(home))
    rng = random.Random(1234)
    written = 0
    for cycle in range(10):
        proc = _start(env)
        deadline = time.monotonic() + rng.uniform(0.8, 3.0)
        while time.monotonic() < deadline:
            if written < 40:
                f = export_dir / f"img_{written:03d}.{'dcm' if written % 2 else 'png'}"
                (write_dicom if written % 2 else write_png)(f, seed=written)
                written += 1
            time.sleep(rng.uniform(0.02, 0.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    while written < 40:
        write_png(export_dir / f"img_{written:03d}.png", seed=written)
        written += 1

    log_file = paths.log_dir / "dental-bridge.log"
    starts_before = starts_logged(log_file)
    proc = _start(env)
    db = Database(paths.database)
    try:
        wait_started(log_file, starts_before, proc)
        wait_for(lambda: db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] == 40, 120,
                 message="all 40 files analysed after the crash loop")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]

    rows = db.query("SELECT path, state, COUNT(*) n FROM images GROUP BY path")
    assert len(rows) == 40
    assert all(r["n"] == 1 and r["state"] == "analyzed" for r in rows), [dict(r) for r in rows if r["n"] != 1]
    per_image = db.query("SELECT image_id, COUNT(*) n FROM findings GROUP BY image_id")
    assert len(per_image) == 40 and {r["n"] for r in per_image} == {2}
    inferences = db.query("SELECT subject, COUNT(*) n FROM audit WHERE event='inference' GROUP BY subject")
    assert len(inferences) == 40 and {r["n"] for r in inferences} == {1}
    assert audit.verify(db.conn()).ok
    assert not list((paths.cache_dir / "staging").iterdir())
