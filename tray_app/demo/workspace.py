"""`dental-bridge demo`: a self-contained practice with generated radiographs.

A demo home (separate from the real profile unless DENTAL_BRIDGE_HOME is set) holds an
"imaging export" folder that is watched like a real share. It is seeded with a few patients
(bitewings and periapicals as DICOM, a panoramic PNG and a 16-bit TIFF named by the
file-name template, and one patient's images from a year ago with today's, `history.py`), and while the demo runs a new radiograph arrives every so often.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from pydicom.uid import generate_uid

from ..app import Service
from ..clinical.views import FMX_VIEWS
from ..config import Config, Paths, SourceConfig, default_demo_home
from ..logging_setup import setup_logging
from ..store import findings, images
from . import history, writers
from .synth import generate_sample

DRIP_SECONDS = 30.0

FMX = [(("bitewing" if v.startswith("BW") else "periapical"), "dcm", 12, v[3:]) for v in FMX_VIEWS]

# (chart, last, first, birth date, [(kind, format, bits, view)])
PATIENTS = [
    ("DEMO001", "Demo", "Alice", "19790412",
     [("bitewing", "dcm", 12, v) for v in ("right molar", "right premolar", "left premolar", "left molar")]),
    ("DEMO002", "Demo", "Bruno", "19620930",
     [("periapical", "dcm", 12, "mandibular left molar"), ("periapical", "dcm", 8, "maxillary centrals")]),
    ("DEMO003", "Demo", "Carla", "19880105", [("panoramic", "png", 8, None)]),
    ("DEMO004", "Demo", "Dmitri", "19550718", [("periapical", "tif", 16, None), ("bitewing", "png", 8, None)]),
    ("DEMO005", "Demo", "Eva", "19700223", FMX),
]


def demo_home() -> Path:
    if os.environ.get("DENTAL_BRIDGE_HOME"):
        return Path(os.environ["DENTAL_BRIDGE_HOME"])
    home = default_demo_home()
    os.environ["DENTAL_BRIDGE_HOME"] = str(home)  # config, db, logs of the demo stay apart
    return home


def _write(kind: str, fmt: str, bits: int, view: str | None, seed: int, folder: Path, patient, seq: int,
           study_uid: str | None) -> Path:
    chart, last, first, birth, _ = patient
    sample = generate_sample(kind, seed, bits_stored=bits, view=view)
    date = time.strftime("%Y%m%d")
    if fmt == "dcm":
        final = folder / f"{chart}_{seq:02d}.dcm"
    else:
        final = folder / f"{chart}_{last}_{first}_{date}_{seq:02d}.{fmt}"
    tmp = folder / f"~{final.name}"  # written under an ignored name, then renamed, as imaging software does
    if fmt == "dcm":
        writers.write_dicom(sample, tmp, patient_id=chart, patient_name=f"{last}^{first}", birth_date=birth,
                            study_uid=study_uid, instance_number=seq, study_date=date,
                            series_description=None)
    else:
        (writers.write_png if fmt == "png" else writers.write_tiff)(sample, tmp)
    os.replace(tmp, final)
    return final


def seed_workspace(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    if any(p.is_file() for p in folder.iterdir()):
        return 0
    n = 0
    for p_index, patient in enumerate(PATIENTS):
        study_uid = generate_uid(entropy_srcs=["dental-bridge-demo", patient[0]])
        for seq, (kind, fmt, bits, view) in enumerate(patient[4], start=1):
            _write(kind, fmt, bits, view, 1000 + p_index * 100 + seq, folder, patient, seq, study_uid)
            n += 1
    return n + history.write_history(folder)


def _drip(folder: Path, stop: threading.Event) -> None:
    """A new radiograph now and then, so the demo shows live watching."""
    i = 0
    kinds = [("bitewing", "dcm", 12, None), ("periapical", "png", 8, None), ("periapical", "dcm", 16, None),
             ("panoramic", "png", 8, None)]
    while not stop.wait(DRIP_SECONDS):
        patient = PATIENTS[i % len(PATIENTS)]
        kind, fmt, bits, view = kinds[i % len(kinds)]
        try:
            _write(kind, fmt, bits, view, 5000 + i, folder, patient, 50 + i, None)
        except OSError as exc:
            print(f"demo: could not write a new radiograph ({exc})", file=sys.stderr)
        i += 1


def _announce(db, status: str, image_id: int, names: dict[str, str] | None = None) -> None:
    row = images.with_patient(db, image_id)
    if row is None or status not in ("analyzed", "quarantined"):
        return
    if status == "analyzed":
        labels = findings.count_by_label(db, image_id)
        teeth = sum(r["c"] for r in labels if r["label"] == "tooth")
        names = names or {}  # the manifest's display names
        summary = ", ".join(f"{r['c']} {names.get(r['label'], r['label'].replace('_', ' '))}" for r in labels
                            if r["label"] != "tooth") \
            or "no findings"
        summary += f"  ({teeth} teeth)" if teeth else ""
        print(f"  analysed image {image_id} ({row['kind']}, patient {row['patient_id'] or '?'}): {summary}", flush=True)
    else:
        print(f"  quarantined image {image_id}: {row['reason']}", flush=True)


def run_demo(*, headless: bool, once: bool, explicit_headless: bool, run_service: Callable,
             run_window: Callable | None = None, show_queue: Callable[[], int] | None = None) -> int:
    """The demo, run by `run_service` (headless) or `run_window`; `show_queue` prints the review
    queue when it ends (`--once`: its exit code is the demo's)."""
    home = demo_home()
    paths = Paths.resolve().ensure()
    setup_logging(paths.log_dir, to_stderr=False)
    export = home / "imaging-export"
    config = Config.load(paths.config_file)
    if not any(Path(s.path) == export for s in config.sources):
        config.sources.append(SourceConfig(path=str(export), kind="native"))
        # the demo's images are synthetic: where the diagnostic labels were validated
        config.analysis.unvalidated_labels = True
        # the demo's own model may reach a (test) PMS set up in the demo; a practice must opt in
        config.export.allow_demonstration_model = True
        config.save(paths.config_file)
    print("Dental AI Bridge demo — generated radiographs, no real patients.")
    print(f"  workspace:       {home}")
    print(f"  imaging export:  {export}  (watched like the practice's share)")
    seeded = seed_workspace(export)
    if seeded:
        print(f"  wrote {seeded} demo radiographs for {len(PATIENTS) + 1} patients"
              f" ({history.PATIENT[2]} {history.PATIENT[1]} has images from a year ago too)")
    if headless and not explicit_headless:
        print("  No display found: running headless.")

    service = Service(config, paths)
    service.load_model()
    names = {l.name: l.display.lower() for l in service.model.manifest.labels} if service.model else {}
    service.processor.on_change = lambda status, image_id: _announce(service.db, status, image_id, names)
    if service.model is None:
        print(f"  Analysis is off: {service.model_problem}")
    else:
        m = service.model.manifest
        print(f"  model:           {m.name} {m.version}" + ("  — DEMONSTRATION ONLY, not for clinical use"
                                                            if m.is_demonstration else ""))
    print("  AI-Assisted Preliminary Findings — not a diagnosis.\n")

    if once:
        service.processor.on_change = None
        service.run_once()
        service.db.close()
        return show_queue() if show_queue else 0

    stop = threading.Event()
    drip = threading.Thread(target=_drip, args=(export, stop), name="demo-drip", daemon=True)
    drip.start()
    try:
        if not headless and run_window is not None:
            print(f"Opening the review window; a new radiograph arrives every {DRIP_SECONDS:.0f} s.\n", flush=True)
            return run_window(service, paths, config)
        print(f"Watching; a new radiograph arrives every {DRIP_SECONDS:.0f} s. Stop with Ctrl-C.\n", flush=True)
        return run_service(service, once=False, stop=stop)
    finally:
        stop.set()
        print()
        if show_queue:
            show_queue()
