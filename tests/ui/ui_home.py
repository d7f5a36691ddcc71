"""Builds a realistic Dental AI Bridge home for the review-window tests (documentation screenshots come
from a real demo run instead: docs/make_review_screenshots.py).

Radiographs come from the demo generator and go through the real intake path
(`Service.run_once`) with a small ONNX stub detector that reports a few findings on every
image: teeth (anatomy), caries (strong and medium), a restoration, a low-confidence calculus
and a periapical radiolucency.
"""

from __future__ import annotations

import json
from pathlib import Path

from model_factory import write_model, yolo_output

from tray_app.config import Config, IntakeConfig, Paths, SourceConfig

LABELS = ["tooth", "caries", "restoration", "calculus", "periapical_radiolucency"]
SEVERITY = {"tooth": 0, "caries": 2, "restoration": 0, "calculus": 1, "periapical_radiolucency": 3}
COLORS = {"tooth": "#94a3b8", "caries": "#ef4444", "restoration": "#38bdf8", "calculus": "#facc15",
          "periapical_radiolucency": "#a78bfa"}
# (class, cx, cy, w, h, score) in the 64x64 letterboxed input
DETECTIONS = [
    (0, 12, 32, 9, 20, 0.95), (0, 22, 32, 9, 20, 0.93), (0, 32, 32, 9, 20, 0.94), (0, 42, 32, 9, 20, 0.92),
    (0, 52, 32, 9, 20, 0.90),
    (1, 14, 27, 4, 4, 0.91),
    (1, 33, 36, 3, 3, 0.55),
    (2, 43, 26, 6, 4, 0.84),
    (3, 23, 40, 3, 2, 0.42),
    (4, 52, 41, 5, 4, 0.66),
]
DENTIST = ("Dr. Dana Molar", "dentist", "246813")
HYGIENIST = ("Hana Lee", "hygienist", "1357")


def home_paths(root: Path) -> Paths:
    root = Path(root)
    return Paths(root / "config.toml", root / "data", root / "logs", root / "cache", root / "models")


def install_model(models_dir: Path, *, name: str = "stub", demonstration: bool = False) -> Path:
    const = yolo_output(len(LABELS), 64, DETECTIONS)
    use = ("Demonstration only — synthetic training data, not for clinical use" if demonstration
           else "test stub")
    d = write_model(models_dir / name, const, LABELS, size=(64, 64), name=name, version="1.0.0",
                    thresholds=0.3, intended_use=use)
    manifest = json.loads((d / "model.json").read_text(encoding="utf-8"))
    for spec in manifest["labels"]:
        spec["severity"] = SEVERITY[spec["name"]]
        spec["color"] = COLORS[spec["name"]]
    (d / "model.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return d


def set_demonstration(models_dir: Path, name: str = "stub", on: bool = True) -> None:
    path = models_dir / name / "model.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["intended_use"] = ("Demonstration only — synthetic training data, not for clinical use" if on
                                else "test stub")
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")


SMALL_SET = [
    # (chart, last, first, birth, [(kind, format, bits, view)])
    ("DEMO001", "Demo", "Alice", "19790412",
     [("bitewing", "dcm", 12, "right molar"), ("bitewing", "dcm", 12, "left molar")]),
    ("DEMO002", "Demo", "Bruno", "19620930", [("periapical", "dcm", 8, "mandibular left molar")]),
    ("DEMO003", "Demo", "Carla", "19880105", [("panoramic", "png", 8, None)]),
]


def build_home(root: Path, *, patients=None, model_name: str = "stub", demonstration: bool = False,
               clinicians: bool = True) -> Paths:
    """Writes the radiographs, ingests them, adds a dentist and a hygienist; returns the Paths."""
    from pydicom.uid import generate_uid

    from tray_app.app import Service
    from tray_app.demo import workspace
    from tray_app.review.clinicians import add_clinician

    paths = home_paths(root).ensure()
    install_model(paths.user_models_dir, name=model_name, demonstration=demonstration)
    export = Path(root) / "imaging-export"
    export.mkdir(parents=True, exist_ok=True)
    if patients is None:
        patients = SMALL_SET
    for p_index, patient in enumerate(patients):
        study_uid = generate_uid(entropy_srcs=["ui-test", patient[0]])
        for seq, (kind, fmt, bits, view) in enumerate(patient[4], start=1):
            workspace._write(kind, fmt, bits, view, 1000 + p_index * 100 + seq, export, patient, seq, study_uid)
    config = Config(sources=[SourceConfig(path=str(export), kind="polling")],
                    intake=IntakeConfig(settle_seconds=0.2, supervise_seconds=0.3, reconcile_minutes=60.0))
    config.save(paths.config_file)
    service = Service(config, paths)
    service.run_once()
    # one confident periapical radiolucency makes the first patient's study urgent
    from tray_app.clinical.study_summary import refresh

    first = service.db.one("SELECT id FROM studies WHERE patient_id=?", (patients[0][0],))
    if first is not None:
        with service.db.tx() as c:
            c.execute("UPDATE findings SET confidence=0.9 WHERE id=(SELECT id FROM findings WHERE study_id=? "
                      "AND label='periapical_radiolucency' ORDER BY id LIMIT 1)", (first["id"],))
        refresh(service.db, first["id"])
    if clinicians:
        from tray_app.review.clinicians import Authority

        dentist = add_clinician(service.db, *DENTIST)  # the first one: nobody to authorise it
        add_clinician(service.db, *HYGIENIST, authority=Authority(dentist, DENTIST[2]))
    service.db.close()
    return paths
