"""What priors add to opening a study: time from `open_study` to the first painted image, for
studies whose images have a prior (the priors panel loads the comparison and both images and
turns the prior on its thread pool) against the same window without the priors panel.

`python -m bench.priors_timing [--patients 3] [--rounds 5]` builds a home in a temporary folder:
per patient a prior and a current bitewing (tray_app/demo/pairs.py) through the real service
(bundled detector, comparison step), then times the opens offscreen and prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def build_home(root: Path, patients: int) -> None:
    from tray_app.app import Service
    from tray_app.config import Config, IntakeConfig, Paths, SourceConfig
    from tray_app.demo.pairs import CHANGES, as_samples, make_pair
    from tray_app.demo.writers import write_dicom

    os.environ["DENTAL_BRIDGE_HOME"] = str(root)
    export = root / "export"
    export.mkdir(parents=True)
    config = Config(sources=[SourceConfig(path=str(export))], intake=IntakeConfig(settle_seconds=0.2))
    service = Service(config, Paths.resolve().ensure())
    pairs = [make_pair("bitewing", 700 + i, CHANGES[i % len(CHANGES)]) for i in range(patients)]
    for when, index in (("20250304", 0), ("20260105", 1)):
        for i, pair in enumerate(pairs):
            write_dicom(as_samples(pair, 700 + i)[index], export / f"p{i}_{when}.dcm", patient_id=f"T{i}",
                        patient_name=f"Timing^{i}", birth_date="19700101", study_date=when, instance_number=index + 1,
                        study_uid=f"1.2.826.0.1.3680043.8.498.77.{i}.{index}")
        service.run_once()
    service.db.close()


def time_opens(rounds: int) -> dict:
    import onnxruntime  # noqa: F401  (same import order as the app)
    from PySide6.QtWidgets import QApplication

    from tray_app.config import Paths
    from tray_app.ui import study_panels
    from tray_app.ui.launch import build_window
    from tray_app.ui.priors_panel import PriorsPanel

    app = QApplication.instance() or QApplication([])
    paths = Paths.resolve()
    out = {}
    registered = list(study_panels._FACTORIES)        # the priors panel registered itself on import
    for name, factories in (("without_priors_panel", []), ("with_priors_panel", registered)):
        study_panels.PANEL_MODULES = ()
        study_panels._FACTORIES[:] = factories
        window = build_window(paths, None, size=(1366, 768), poll_ms=0)
        window.show()
        app.processEvents()
        studies = [r[0] for r in window.db_handle.query(
            "SELECT DISTINCT study_id FROM image_comparisons ORDER BY study_id")]
        others = [r[0] for r in window.db_handle.query(
            "SELECT id FROM studies WHERE id NOT IN (SELECT study_id FROM image_comparisons) ORDER BY id")]
        paints, panels = [], []
        for _ in range(rounds):
            for study in studies:
                window.open_study(others[0])           # away and back: a real open each time
                while window.canvas.pixmap_item is None or window.canvas.image_id != window.image_id:
                    app.processEvents()
                    time.sleep(0.001)
                t0 = time.perf_counter()
                window.open_study(study)
                first = window.image_id
                while window.canvas.pixmap_item is None or window.canvas.image_id != first:
                    app.processEvents()
                    time.sleep(0.001)
                app.processEvents()
                paints.append(time.perf_counter() - t0)
                panel = next((p for p in window.panels if isinstance(p, PriorsPanel)), None)
                if panel is not None:
                    while not (panel.isVisible() and panel.image_id == first and panel.data):
                        app.processEvents()
                        time.sleep(0.001)
                    panels.append(time.perf_counter() - t0)
        out[name] = {"first_paint_ms_median": round(statistics.median(paints) * 1000, 1),
                     "first_paint_ms_max": round(max(paints) * 1000, 1), "opens": len(paints)}
        if panels:
            out[name]["priors_panel_shown_ms_median"] = round(statistics.median(panels) * 1000, 1)
        window.close()
        window.pixels.wait(5000)
        window.db_handle.close()
    out["added_by_priors_ms"] = round(out["with_priors_panel"]["first_paint_ms_median"]
                                      - out["without_priors_panel"]["first_paint_ms_median"], 1)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--patients", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        build_home(Path(tmp) / "home", a.patients)
        print(json.dumps(time_opens(a.rounds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
