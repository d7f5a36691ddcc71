"""Review-window responsiveness on a real home: time from opening a study to the first
painted image, and per-image switch times across its images (offscreen Qt).
`python -m bench.ui_timing [--study ID]` with DENTAL_BRIDGE_HOME pointing at a home
(e.g. one made by `dental-bridge demo --headless --once`)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv=None) -> int:
    import onnxruntime  # noqa: F401  (same import order as the app)

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--study", type=int, help="default: the study with the most images")
    args = ap.parse_args(argv)
    from PySide6.QtWidgets import QApplication

    from tray_app.config import Paths
    from tray_app.ui.launch import build_window

    paths = Paths.resolve()
    app = QApplication.instance() or QApplication([])
    window = build_window(paths, None, size=(1366, 768), poll_ms=0)
    window.show()
    app.processEvents()
    study = args.study or window.db_handle.one(
        "SELECT study_id FROM images GROUP BY study_id ORDER BY COUNT(*) DESC LIMIT 1")[0]

    def painted(image_id):
        return window.canvas.pixmap_item is not None and window.canvas.image_id == image_id

    t0 = time.perf_counter()
    window.open_study(study)
    first = window.image_id
    while not painted(first):
        app.processEvents()
        time.sleep(0.001)
    app.processEvents()
    first_paint = time.perf_counter() - t0
    ids = [r[0] for r in window.db_handle.query(
        "SELECT id FROM images WHERE study_id=? AND state NOT IN ('duplicate','quarantined') ORDER BY id", (study,))]
    switches = []
    for image_id in ids[1:] + ids[:1]:
        t = time.perf_counter()
        window.show_image(image_id)
        while not painted(image_id):
            app.processEvents()
            time.sleep(0.001)
        app.processEvents()
        switches.append(time.perf_counter() - t)
    # a review action (accept) as the A key does it: write, re-read the study, redraw; undone after
    actions = []
    for _ in range(min(10, len(window.findings))):
        t = time.perf_counter()
        window.accept_current()
        app.processEvents()
        actions.append(time.perf_counter() - t)
    for _ in actions:
        window.undo()
    app.processEvents()
    queued = len(window.queue.visible_study_ids())
    result = {"study": study, "images": len(ids), "first_paint_ms": round(first_paint * 1000, 1),
              "switch_ms_median": round(statistics.median(switches) * 1000, 1),
              "switch_ms_max": round(max(switches) * 1000, 1),
              "studies_in_queue": queued,
              "accept_ms_median": round(statistics.median(actions) * 1000, 1) if actions else None,
              "accept_ms_max": round(max(actions) * 1000, 1) if actions else None}
    print(json.dumps(result))
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
