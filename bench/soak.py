"""A working day compressed: the real tray shell and a started service on a demo home, with
random review actions, sign-offs, pauses, filter changes and (optionally) new radiographs,
as fast as the window takes them. Reports memory, widgets, open SQLite connections, threads
and file handles as it goes, so a leak shows as a slope.

    DENTAL_BRIDGE_HOME=/tmp/soak dental-bridge demo --headless --once
    DENTAL_BRIDGE_HOME=/tmp/soak python -m bench.soak --seconds 150 [--new-images] [--seed 1]

Found this way: PySide6 6.12.0 aborting on Python 3.11 after ~10 accept/undo cycles, and one
SQLite connection kept per image shown. With --new-images every image is a new study, so the
queue (and memory) grows with it by design: compare runs with and without.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYSTRAY_BACKEND", "dummy")

PIN = "246813"
WEIGHTS = {"accept": 20, "reject": 8, "undo": 8, "next": 6, "nav": 15, "shell_poll": 5, "window_poll": 5,
           "threshold": 3, "sign": 1, "pause": 1, "filter": 2}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--new-images", action="store_true", help="also drop a new bitewing into the watch folder now and then")
    args = ap.parse_args(argv)

    import psutil
    from PySide6.QtCore import QCoreApplication, QEvent

    from tray_app.app import Service
    from tray_app.config import Config, Paths
    from tray_app.demo import workspace
    from tray_app.review.clinicians import add_clinician
    from tray_app.store.db import Database
    from tray_app.ui.app_shell import AppShell, ensure_app

    paths = Paths.resolve().ensure()
    config = Config.load(paths.config_file)
    if not config.sources:
        print("run `dental-bridge demo --headless --once` on this home first", file=sys.stderr)
        return 2
    drop = paths.data_dir / "soak-drop"
    drop.mkdir(exist_ok=True)
    config.export.destinations = ["folder"]
    config.export.folder.path = str(drop)
    config.save(paths.config_file)
    db = Database(paths.database)
    row = db.one("SELECT id FROM clinicians WHERE role='dentist' AND active=1")
    dentist = row[0] if row else add_clinician(db, "Dr Soak", "dentist", PIN)

    app = ensure_app()
    service = Service(config, paths)
    shell = AppShell(service, paths, config, poll_ms=500, quit_app=lambda: None)
    shell.start(start_service=True, first_run=False)
    shell.open_review()
    w = shell.review_window
    rng = random.Random(args.seed)
    proc = psutil.Process()
    folder = Path(config.sources[0].path)

    def settle(seconds: float = 0.0) -> None:
        end = time.monotonic() + seconds
        while True:  # what the event loop would do, including deferred deletes
            app.processEvents()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            if time.monotonic() >= end:
                return
            time.sleep(0.005)

    def sign() -> None:
        if w.study and not w.read_only():
            try:
                w.api.sign(w.study["id"], dentist, PIN)
            except Exception:  # noqa: BLE001 — a refusal (e.g. identity gaps) is part of the day
                return
            w.refresh_study()

    def new_image() -> None:
        patient = workspace.PATIENTS[rng.randrange(len(workspace.PATIENTS))]
        workspace._write("bitewing", "dcm", 12, None, rng.randrange(10**6), folder, patient, rng.randrange(100, 999), None)

    def pause() -> None:
        shell.toggle_pause()
        settle(0.2)
        shell.toggle_pause()

    actions = {
        "accept": w.accept_current, "reject": w.reject_current, "undo": w.undo, "next": w.next_study,
        "nav": lambda: w._nav(rng.choice([-1, 1])), "shell_poll": shell.poll, "window_poll": w.poll,
        "threshold": lambda: w.findings_panel.controls.threshold.setValue(rng.randrange(0, 90)),
        "sign": sign, "pause": pause,
        "filter": lambda: w.queue.status_combo.setCurrentIndex(rng.randrange(w.queue.status_combo.count())),
        "new_image": new_image,
    }
    weights = dict(WEIGHTS, **({"new_image": 2} if args.new_images else {}))
    names, wts = list(weights), list(weights.values())

    def line(n: int, t: float) -> str:
        return (f"t={t:5.0f}s actions={n:6d} rss={proc.memory_info().rss / 2**20:6.0f} MiB "
                f"widgets={len(app.allWidgets()):5d} db_connections={w.db_handle.connection_count() + service.db.connection_count()} "
                f"threads={proc.num_threads()} queue={w.queue.list.count()}")

    settle(3.0)  # model loaded, first poll done
    start = time.monotonic()
    print(line(0, 0.0), flush=True)
    n, done = 0, {}
    while time.monotonic() - start < args.seconds:
        name = rng.choices(names, wts)[0]
        actions[name]()
        done[name] = done.get(name, 0) + 1
        settle(0.02)
        n += 1
        if n % 500 == 0:
            print(line(n, time.monotonic() - start), flush=True)
    settle(2.0)
    gc.collect()
    print(line(n, time.monotonic() - start))
    print("actions:", done)
    print("studies:", dict(db.query("SELECT status, COUNT(*) FROM studies GROUP BY status")))
    shell.shutdown()
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
