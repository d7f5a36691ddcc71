"""2 000 files arriving in bursts into a watched folder of a running service: none missed,
none doubled, memory bounded."""

import os
import signal
import subprocess
import sys
import time

import psutil
from PIL import Image

from samples import radiograph
from service_helpers import fast_config, home_paths, starts_logged, wait_for, wait_started
from tray_app.store import Database

FILES = int(os.environ.get("DAB_LOAD_FILES", "2000"))
BURST = 200


def test_bursts_of_files_are_all_processed_with_bounded_memory(home, export_dir):
    paths = home_paths()
    fast_config(export_dir, settle_seconds=0.3).save(paths.config_file)
    env = dict(os.environ, DENTAL_BRIDGE_HOME=str(home))
    log_file = paths.log_dir / "dental-bridge.log"
    before = starts_logged(log_file)
    proc = subprocess.Popen([sys.executable, "-m", "tray_app", "run", "--headless"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    db = Database(paths.database)
    try:
        wait_started(log_file, before, proc)
        p = psutil.Process(proc.pid)
        base = radiograph(1, h=48, w=64)
        for start in range(0, FILES, BURST):
            sub = export_dir / f"burst{start // BURST:02d}"
            sub.mkdir()
            for i in range(start, min(FILES, start + BURST)):
                img = base.copy()
                img.flat[i % img.size] ^= 0xFF  # distinct content, so no file is a duplicate
                img.flat[(i * 7919) % img.size] = i % 251
                Image.fromarray(img).save(sub / f"A{i:05d}_Load_Pat_20261128_{i}.png")
            peak = max(peak, p.memory_info().rss)
            time.sleep(0.5)

        def done():
            nonlocal peak
            peak = max(peak, p.memory_info().rss)
            return db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] >= FILES
        wait_for(done, 600, interval=0.5, message=f"{FILES} files analysed")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    rows = db.query("SELECT state, COUNT(*) n FROM images GROUP BY state")
    assert {r["state"]: r["n"] for r in rows} == {"analyzed": FILES}
    assert db.one("SELECT COUNT(DISTINCT path) FROM images")[0] == FILES
    print(f"load: {FILES} files, peak RSS {peak / 2**20:.0f} MiB")
    assert peak < 400 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB"
    db.close()
