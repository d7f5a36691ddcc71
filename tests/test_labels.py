"""One label vocabulary (issue 17): every module asks `tray_app.labels`, none keeps its own list."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np

from model_factory import write_model, yolo_output
from tray_app import labels
from tray_app.analysis.catalog import ModelCatalog, default_style
from tray_app.analysis.manifest import load_manifest
from tray_app.clinical import notes, triage
from tray_app.config import GovernanceConfig, bundled_models_dir
from tray_app.demo import synth

PACKAGE = Path(labels.__file__).parent
OWNERS = {"labels.py", "demo/synth.py"}  # the vocabulary, and what the generator draws


def _label_literals(path: Path) -> list[str]:
    """Dict/set/list/tuple literals naming two or more known labels: a private label list."""
    known = {l.name for l in labels.KNOWN}
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None) \
            if isinstance(node, (ast.Set, ast.List, ast.Tuple)) else None
        names = {i.value for i in items or () if isinstance(i, ast.Constant) and i.value in known}
        if len(names) >= 2:
            found.append(f"{path.relative_to(PACKAGE).as_posix()}:{node.lineno}: {sorted(names)}")
    return found


def test_no_module_keeps_its_own_label_list():
    found = [hit for p in sorted(PACKAGE.rglob("*.py")) if p.relative_to(PACKAGE).as_posix() not in OWNERS
             for hit in _label_literals(p)]
    assert not found, "label lists outside tray_app/labels.py:\n" + "\n".join(found)


def test_the_bundled_manifest_agrees_with_the_vocabulary():
    raw = json.loads((bundled_models_dir() / "dental-demo" / "model.json").read_text(encoding="utf-8"))
    for item in raw["labels"]:
        product = labels.describe(item["name"])
        assert (item["display"], item["severity"], item["color"]) == (product.display, product.severity, product.color)
        # diagnoses learnt from synthetic lesions are off by default; dental work and teeth are on
        assert item["enabled_by_default"] is (item["name"] not in labels.PATHOLOGY_LABELS)


def test_every_label_the_generator_draws_is_described():
    assert set(synth.LABELS) <= {l.name for l in labels.KNOWN}


def test_a_manifest_that_names_only_labels_gets_the_products_words_colours_and_severity(tmp_path):
    write_model(tmp_path / "m", yolo_output(3, 4, []), ["caries", "root_canal", "fracture"])
    path = tmp_path / "m" / "model.json"
    raw = json.loads(path.read_text())
    raw["labels"] = [{"name": n} for n in ("caries", "root_canal", "fracture")]
    path.write_text(json.dumps(raw))
    specs = {s.name: s for s in load_manifest(tmp_path / "m").labels}
    assert (specs["root_canal"].display, specs["root_canal"].color) == ("Root canal filling", "#e6c35a")
    assert specs["caries"].severity == 2
    fracture = labels.describe("fracture")
    assert (specs["fracture"].display, specs["fracture"].severity) == ("Fracture", 0)
    assert specs["fracture"].color == fracture.color == labels.describe("fracture").color  # fixed by the name


def test_labels_no_manifest_names_are_styled_by_the_product_then_by_their_name():
    catalog = ModelCatalog(None)
    assert catalog.style("implant") == default_style("implant")
    assert default_style("implant").display == "Implant" and default_style("implant").color == "#4fbfa0"
    assert default_style("sinus_floor").display == "Sinus floor"
    assert default_style("sinus_floor").color in labels.FALLBACK_COLORS


def test_triage_notes_and_automation_read_the_vocabulary():
    # a finding stored without a severity (the manifest gave none) is weighed by the product's
    assert triage.priority([("periapical_radiolucency", 0, 0.9)]) == 2.7
    assert triage.priority([("tooth", 3, 0.9)]) == 0.0  # anatomy never raises priority
    finding = {"label": "deep_caries", "confidence": 0.8, "tooth_fdi": 16, "surfaces": "O"}
    assert "Deep caries suspected on occlusal of #3" in notes._finding_lines([finding])
    assert "A possible deep cavity" in notes.patient_summary([finding])
    assert notes.patient_summary([{"label": "crown", "tooth_fdi": 16}]).count("Nothing was pointed out") == 1
    assert GovernanceConfig().auto_labels == list(labels.AUTOMATABLE_LABELS) == \
        ["restoration", "crown", "root_canal", "implant"]
    assert GovernanceConfig(auto_labels=["caries"]).validate()  # a diagnosis is never automatable


def test_a_clinician_can_add_every_described_finding_but_not_anatomy():
    addable = labels.findings_labels()
    assert {"crown", "implant", "root_canal", "margin_discrepancy"} <= set(addable)
    assert not labels.ANATOMY_LABELS & set(addable)
