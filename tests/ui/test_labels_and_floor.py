"""The review window and the exports share one name and colour per label (the manifest's), and
the window starts at each label's review floor; the sign-off dialog speaks of what is shown."""

from __future__ import annotations

import json

import numpy as np

from tray_app.export import render
from tray_app.store.reports import Report
from tray_app.store.db import Database
from ui_home import COLORS, DENTIST


def set_floor(paths, label: str, floor: float) -> None:
    path = paths.user_models_dir / "stub" / "model.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for spec in manifest["labels"]:
        if spec["name"] == label:
            spec["review_floor"] = floor
    path.write_text(json.dumps(manifest), encoding="utf-8")


def hex_rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def test_window_starts_at_each_labels_floor_and_the_slider_overrides_it(review_home, make_window):
    set_floor(review_home, "calculus", 0.5)  # the stub's calculus is 42 %
    w = make_window(review_home)
    controls = w.findings_panel.controls
    assert controls.per_label.isChecked() and controls.threshold_label.text() == "per type"
    assert "Calculus: 50%" in controls.threshold_label.toolTip()
    calculus = [f for f in w.findings if f["label"] == "calculus"]
    assert calculus and all(f["confidence"] < 0.5 for f in calculus)
    shown = set(w.findings_panel.visible_finding_ids())
    assert not shown & {f["id"] for f in calculus}
    assert {f["id"] for f in w.findings if f["label"] == "caries"} <= shown
    assert "hidden by filters" in w.findings_panel.summary.text()
    # the sign-off dialog counts what is shown, and says the rest stays out too
    dlg = w.open_sign_dialog()
    assert dlg.unreviewed.text().startswith(f"{len(shown)} proposed findings shown have not been reviewed")
    assert f"{len(calculus)} more is hidden" in dlg.unreviewed.text() or \
        f"{len(calculus)} more are hidden" in dlg.unreviewed.text()
    dlg.close()
    # one minimum for all from the slider; "Model" goes back to the floors
    controls.threshold.setValue(0)
    assert not controls.per_label.isChecked() and w.settings.threshold == 0.0
    assert {f["id"] for f in calculus} <= set(w.findings_panel.visible_finding_ids())
    controls.per_label.setChecked(True)
    assert w.settings.threshold is None and not set(w.findings_panel.visible_finding_ids()) & {
        f["id"] for f in calculus}


def test_unreviewed_text_without_hidden_findings():
    from tray_app.ui.sign_dialog import unreviewed_text

    study = {"images": [{"findings": [{"label": "caries", "status": "proposed"},
                                      {"label": "tooth", "status": "proposed"}]}]}
    assert unreviewed_text(study, lambda f: True) == ("1 proposed finding shown has not been reviewed. Only "
                                                      "accepted, edited and added findings go into the report.")
    assert unreviewed_text({"images": []}, lambda f: True) == ""


def test_window_and_exported_image_share_the_manifests_name_and_colour(review_home, make_window):
    label = "periapical_radiolucency"
    w = make_window(review_home)
    study = next(s for s in w.queue.studies if any(f["label"] == label for im in s["images"]
                                                    for f in im["findings"]))
    w.open_study(study["id"])
    w.findings_panel.controls.color_mode.setCurrentIndex(1)  # colour by label
    finding = next(f for f in w.findings if f["label"] == label)
    assert w.canvas.finding_colour(finding).name() == COLORS[label]
    assert w.findings_panel.controls.label_checks[label].text() == "Periapical radiolucency"
    row = w.findings_panel.visible_finding_ids().index(finding["id"])
    assert w.findings_panel.table.item(row, 2).text() == "Periapical radiolucency"

    api = w.api
    api.accept(finding["id"])
    dentist = next(c for c in api.clinicians() if c["name"] == DENTIST[0])
    api.sign(study["id"], dentist["id"], DENTIST[2])
    db = Database(review_home.database)
    snap = json.loads(db.one("SELECT snapshot FROM reports WHERE study_id=?", (study["id"],))["snapshot"])
    db.close()
    assert snap["label_styles"][label] == {"display": "Periapical radiolucency", "color": COLORS[label]}
    [f] = snap["findings"]
    report = Report.from_dict(snap)
    assert render.finding_text(f, report).startswith("Periapical radiolucency")
    # the box drawn on the exported picture is the window's colour
    img = render.annotated_image(np.zeros((400, 400), np.uint8),
                                 [dict(f, x1=100, y1=150, x2=300, y2=350)], report, original_size=(400, 400))
    column = np.asarray(img)[:, round(100 * img.width / 400) + 1]  # through the box's left edge
    assert any(tuple(px) == hex_rgb(COLORS[label]) for px in column), set(map(tuple, column))


def test_a_label_no_manifest_knows_gets_the_same_default_everywhere(review_home, make_window):
    w = make_window(review_home)
    style = w.catalog.style("fracture")
    assert style.display == "Fracture"
    assert render.label_style("fracture", Report.from_dict({"label_styles": {}})).color == style.color


def test_exports_use_the_bundled_manifests_names_and_colours():
    from tray_app.config import bundled_models_dir

    manifest = json.loads((bundled_models_dir() / "dental-demo" / "model.json").read_text(encoding="utf-8"))
    for spec in manifest["labels"]:  # periapical_radiolucency fell back to white under another name
        assert render.colour(spec["name"]) == hex_rgb(spec["color"]), spec["name"]
        assert render.nice_label(spec["name"]) == spec["display"]
