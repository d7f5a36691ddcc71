"""What is proposed for review: one finding per label and tooth surface, and a review floor per
label from the manifest that "accept all" respects (proposals under it stay out of the report)."""

import json
from dataclasses import dataclass

import pytest

from model_factory import write_model, yolo_output
from samples import write_dicom
from service_helpers import cli_sign_all, fast_config, home_paths
from tray_app.analysis.manifest import ManifestError, load_manifest
from tray_app.analysis.tooth_mapping import Placed
from tray_app.app import Service


def one_label_model(directory, **extra):
    return write_model(directory, yolo_output(2, 8, []), ["tooth", "caries"], thresholds=[0.35, 0.15], **extra)


def test_review_floor_comes_from_the_manifest_with_a_default(tmp_path):
    from tray_app.analysis.manifest import DEFAULT_REVIEW_FLOOR

    m = load_manifest(one_label_model(tmp_path / "a"))
    floors = {l.name: l.review_floor for l in m.labels}
    assert floors == {"tooth": DEFAULT_REVIEW_FLOOR, "caries": DEFAULT_REVIEW_FLOOR}  # above the 0.15 threshold
    high = load_manifest(write_model(tmp_path / "b", yolo_output(2, 8, []), ["tooth", "caries"], thresholds=0.6))
    assert {l.review_floor for l in high.labels} == {0.6}  # never under the detection threshold
    top = load_manifest(one_label_model(tmp_path / "c", review_floor=0.25))
    assert {l.review_floor for l in top.labels} == {0.25}
    d = one_label_model(tmp_path / "d")
    raw = json.loads((d / "model.json").read_text())
    raw["labels"][1]["review_floor"] = 0.7
    raw["labels"][1]["a_key_from_a_newer_trainer"] = {"anything": 1}  # extra keys are fine
    (d / "model.json").write_text(json.dumps(raw))
    assert {l.name: l.review_floor for l in load_manifest(d).labels}["caries"] == 0.7
    raw["labels"][1]["review_floor"] = 1.5
    (d / "model.json").write_text(json.dumps(raw))
    with pytest.raises(ManifestError, match="review_floor"):
        load_manifest(d)


@dataclass
class Det:
    label: str
    score: float


def test_duplicates_of_one_label_on_one_tooth_surface_keep_the_most_confident():
    from tray_app.analysis.merge import merge_duplicates

    dets = [Det("crown", 0.23), Det("tooth", 0.9), Det("crown", 0.15), Det("caries", 0.8), Det("caries", 0.5),
            Det("caries", 0.4), Det("caries", 0.3), Det("tooth", 0.8), Det("calculus", 0.6), Det("calculus", 0.5)]
    placed = [Placed(3, "1", ""), Placed(3, "1", ""), Placed(3, "1", ""), Placed(16, "3", "MO"),
              Placed(16, "3", "OM"), Placed(16, "3", "D"), Placed(None, "", ""), Placed(3, "1", ""),
              Placed(None, "", ""), Placed(None, "", "")]
    kept, where = merge_duplicates(dets, placed)
    assert [(d.label, d.score) for d in kept] == [
        ("crown", 0.23), ("tooth", 0.9), ("caries", 0.8), ("caries", 0.4), ("caries", 0.3), ("tooth", 0.8),
        ("calculus", 0.6), ("calculus", 0.5)]  # mesial-occlusal merged; distal and unplaced ones stay
    assert [p.surfaces for p in where][:4] == ["", "", "MO", "D"]


def test_analysis_proposes_one_finding_per_tooth_surface(home, export_dir, monkeypatch):
    from tray_app.intake import pipeline

    # two caries boxes far apart (non-maximum suppression keeps both), both placed on #3 occlusal
    write_model(home / "models" / "stub", yolo_output(2, 8, [(1, 16, 20, 6, 6, 0.23), (1, 44, 40, 6, 6, 0.81)]),
                ["tooth", "caries"], thresholds=0.15)
    monkeypatch.setattr(pipeline, "place_findings",
                        lambda detections, **kw: [Placed(16, "3", "O") for _ in detections])
    write_dicom(export_dir / "a.dcm", seed=1)
    s = Service(fast_config(export_dir), home_paths())
    s.run_once()
    rows = s.db.query("SELECT label, confidence, x1 FROM findings")
    assert [(r["label"], round(r["confidence"], 2)) for r in rows] == [("caries", 0.81)]
    entry = json.loads(s.db.one("SELECT data FROM audit WHERE event='inference'")["data"])
    assert len(entry["outputs"]) == 2 and entry["merged_duplicates"] == 1  # the audit keeps what the model said
    s.db.close()


def test_cli_accept_all_takes_only_what_the_review_shows(home, export_dir, monkeypatch, capsys):
    # caries 90 % and calculus 20 %: both over their 0.15 threshold, calculus under the 40 % floor
    write_model(home / "models" / "stub", yolo_output(3, 8, [(1, 20, 20, 10, 10, 0.9), (2, 44, 44, 8, 8, 0.2)]),
                ["tooth", "caries", "calculus"], thresholds=0.15)
    write_dicom(export_dir / "a.dcm", seed=1)
    out = cli_sign_all(export_dir, monkeypatch, capsys)
    assert out["findings"] == 1 and out["below_floor"] == 1
    from tray_app.store.db import Database

    db = Database(home_paths().database)
    snap = json.loads(db.one("SELECT snapshot FROM reports")["snapshot"])
    assert [f["label"] for f in snap["findings"]] == ["caries"]
    assert "Calculus" not in snap["drafts"]["chart_note"]
    db.close()
