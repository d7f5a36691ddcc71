"""Labels a manifest leaves off by default (diagnoses not validated on real radiographs) are
not reported unless the practice turns them on."""

from __future__ import annotations

import json

from samples import write_png
from tray_app.analysis.manifest import load_manifest
from tray_app.cli import main


def test_labels_off_by_default_are_reported_only_when_turned_on(home, export_dir, capsys):
    mj = home / "models" / "stub" / "model.json"
    raw = json.loads(mj.read_text())
    raw["labels"][1].update(enabled_by_default=False, validated_on="synthetic images only")   # caries
    mj.write_text(json.dumps(raw))
    spec = load_manifest(mj.parent).labels[1]
    assert spec.name == "caries" and not spec.enabled_by_default and spec.validated_on == "synthetic images only"

    write_png(export_dir / "a.png", seed=1)
    assert main(["ingest", str(export_dir / "a.png"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == 1          # the restoration only

    assert main(["config", "set", "analysis.unvalidated_labels", "true"]) == 0
    capsys.readouterr()
    write_png(export_dir / "b.png", seed=2)
    assert main(["ingest", str(export_dir / "b.png"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == 2


def test_bundled_model_leaves_diagnoses_off_and_says_why():
    from tray_app.config import bundled_models_dir

    m = load_manifest(bundled_models_dir() / "dental-demo")
    off = {l.name for l in m.labels if not l.enabled_by_default}
    assert off == {"caries", "calculus", "periapical_radiolucency", "bone_loss"}
    assert all(l.validated_on for l in m.labels) and m.is_demonstration
