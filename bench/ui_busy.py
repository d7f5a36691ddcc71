"""The GUI while a big model works: `python -m bench.ui_busy [--layers 4] [--images 18]`.

The service runs in-process on its threads, as in the tray app, with a model ≈10× the bundled
one's cost (`bench/big_model.py`); an FMX is dropped into its watch folder while the review
window (offscreen) polls and repaints and the tray state is computed every second on the GUI
thread, as the tray does. A 20 ms timer measures how late the Qt event loop runs its events
(what a click or a repaint waits); the tray tooltips seen are kept, to show the progress.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _fmx(folder: Path, n: int) -> None:
    from tray_app.clinical.views import FMX_VIEWS
    from tray_app.demo.synth import generate_sample
    from tray_app.demo.writers import write_dicom

    for i, v in enumerate(FMX_VIEWS[:n]):
        s = generate_sample("bitewing" if v.startswith("BW") else "periapical", 900 + i, view=v[3:])
        tmp = folder / f"~FMX_{i:02d}.dcm"
        write_dicom(s, tmp, patient_id="BUSY1", patient_name="Busy^Fmx", birth_date="19700101",
                    study_uid="1.2.826.0.1.3680043.10.999.7", instance_number=i + 1)
        os.replace(tmp, folder / f"FMX_{i:02d}.dcm")  # renamed in, as imaging software does


def main(argv=None) -> int:
    import onnxruntime  # noqa: F401  (same import order as the app)

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=4, help="extra layers of the big model (bench/big_model.py)")
    ap.add_argument("--images", type=int, default=18)
    ap.add_argument("--threads", type=int, default=0, help="inference threads (0: the app's default)")
    args = ap.parse_args(argv)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from bench.big_model import make
    from tray_app.analysis.model import load_model
    from tray_app.app import Service
    from tray_app.config import AnalysisConfig, Config, IntakeConfig, Paths, SourceConfig
    from tray_app.ui import tray_state
    from tray_app.ui.launch import build_window

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        os.environ["DENTAL_BRIDGE_HOME"] = str(home)
        big = make(home / "models" / "large", layers=args.layers)
        bundled = load_model(Path(__file__).resolve().parent.parent / "models" / "dental-demo", threads=args.threads)
        large = load_model(big, threads=args.threads)
        cost = []
        for m in (bundled, large):
            x = m.preprocess(__import__("numpy").zeros((556, 686), "uint8"))[0]
            m.run_raw(x)
            t0 = time.perf_counter()
            m.run_raw(x)
            cost.append(time.perf_counter() - t0)
        del bundled, large
        folder = Path(tmp) / "export"
        folder.mkdir()
        config = Config(sources=[SourceConfig(path=str(folder), kind="native")], intake=IntakeConfig(),
                        analysis=AnalysisConfig(threads=args.threads))
        paths = Paths.resolve().ensure()
        config.save(paths.config_file)
        app = QApplication.instance() or QApplication([])
        service = Service(config, paths)
        service.start()
        window = build_window(paths, config, size=(1366, 768), poll_ms=2000)
        window.show()
        while service.model is None:
            app.processEvents()
            time.sleep(0.01)
        late, tooltips, tray_ms = [], [], []
        state = {"due": None}
        tick = QTimer()
        tick.setInterval(20)

        def on_tick():
            now = time.perf_counter()
            if state["due"] is not None:
                late.append(max(0.0, now - state["due"]))
            state["due"] = now + 0.020

        tick.timeout.connect(on_tick)
        tray = QTimer()
        tray.setInterval(1000)

        def on_tray():
            t0 = time.perf_counter()
            st = tray_state.compute(service.db.conn(), source_paths=[str(folder)], analysing=True)
            tray_ms.append(time.perf_counter() - t0)
            if not tooltips or tooltips[-1] != st.tooltip:
                tooltips.append(st.tooltip)

        tray.timeout.connect(on_tray)
        tick.start()
        tray.start()
        t0 = time.perf_counter()
        _fmx(folder, args.images)
        opened = False
        while service.db.one("SELECT COUNT(*) FROM images WHERE state='analyzed'")[0] < args.images:
            app.processEvents()
            if not opened and window.queue.studies:
                window.open_study(window.queue.studies[0]["id"])  # the reviewer looks while it analyses
                opened, state["due"] = True, None  # the bench's own click: not the loop being late
            time.sleep(0.002)
        wall = time.perf_counter() - t0
        tick.stop()
        tray.stop()
        panel = next((p for p in window.panels if type(p).__name__ == "AnalysisProgressPanel"), None)
        window.close()
        service.stop()
    q = sorted(late)
    result = {
        "model_cost_vs_bundled": round(cost[1] / cost[0], 1), "bundled_session_run_ms": round(cost[0] * 1000),
        "large_session_run_ms": round(cost[1] * 1000), "images": args.images, "wall_s": round(wall, 1),
        "event_loop_late_ms_median": round(statistics.median(q) * 1000, 1),
        "event_loop_late_ms_p95": round(q[int(len(q) * 0.95)] * 1000, 1),
        "event_loop_late_ms_max": round(q[-1] * 1000, 1), "ticks": len(q),
        "tray_state_ms_max": round(max(tray_ms) * 1000, 1),
        "tooltips": tooltips[:6] + (["…"] if len(tooltips) > 7 else []) + tooltips[-1:],
        "panel_seen": panel is not None,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
