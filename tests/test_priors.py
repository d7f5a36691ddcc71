"""Priors (issue 20 part 1): the same patient's earlier image of the same view is found,
aligned, and what changed — findings new / gone / grown, bone level per tooth surface — feeds
the study's tags, priority, chart note and the patient's comparison page."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tray_app.analysis.registration import register
from tray_app.clinical import bone_level, change
from tray_app.clinical.pixel_evidence import pixel_evidence
from tray_app.clinical.change_text import comparison_lines, note_paragraph
from tray_app.config import bundled_models_dir
from tray_app.demo.pairs import as_samples, make_pair

IDENTITY = [[1, 0, 0], [0, 1, 0]]


def _aligned_px(reg, pair) -> float:
    h, w = pair.prior.shape
    pts = np.array([[x, y] for x in (0.2 * w, 0.8 * w) for y in (0.2 * h, 0.8 * h)])
    true = pts @ pair.prior_to_current[:, :2].T + pair.prior_to_current[:, 2]
    return float(np.abs(reg.map_points(pts) - true).max())


@pytest.mark.parametrize("kind,seed,what", [("bitewing", 11, "none"), ("periapical", 12, "bone_receded"),
                                            ("bitewing", 13, "new_restoration"), ("periapical", 14, "lesion_grew")])
def test_a_turned_and_differently_exposed_prior_of_the_same_view_is_aligned(kind, seed, what):
    pair = make_pair(kind, seed, what)
    assert abs(np.degrees(np.arctan2(pair.prior_to_current[1, 0], pair.prior_to_current[0, 0]))) >= 2
    reg = register(pair.current, pair.prior)
    assert reg.ok, reg.reason
    assert _aligned_px(reg, pair) <= 5.0


def test_a_prior_of_another_view_is_not_aligned():
    a = make_pair("bitewing", 21, "none", view="right molar")
    b = make_pair("bitewing", 22, "none", view="left premolar")
    reg = register(a.current, b.prior)
    assert not reg.ok and "does not match" in reg.reason


def _f(label, box, fdi, **kw):
    return dict(label=label, x1=box[0], y1=box[1], x2=box[2], y2=box[3], tooth_fdi=fdi, surfaces=kw.get("s", ""))


def test_findings_are_new_gone_or_grown_after_alignment_and_teeth_are_not_compared():
    shift = [[1, 0, 30], [0, 1, -10]]           # the prior sits 30 px left of / 10 px below the current
    prior = [_f("caries", (100, 110, 120, 130), 36), _f("restoration", (200, 210, 240, 240), 37),
             _f("calculus", (300, 310, 310, 320), 46), _f("tooth", (0, 0, 50, 50), 35)]
    current = [_f("caries", (125, 95, 160, 130), 36),         # 3× the area: grown
               _f("restoration", (232, 202, 268, 228), 37),   # the same filling, moved with the sensor
               _f("restoration", (400, 100, 430, 130), 35),   # new
               _f("tooth", (10, 0, 60, 50), 35)]
    out = change.findings_change(current, prior, shift, (640, 480))
    kinds = sorted((c["change"], c["label"], c["tooth_fdi"]) for c in out)
    assert kinds == [("gone", "calculus", 46), ("grown", "caries", 36), ("new", "restoration", 35)]
    assert next(c for c in out if c["change"] == "grown")["area_ratio"] == 3.06
    # the same boxes again: nothing changed
    assert change.findings_change(prior, prior, IDENTITY, (640, 480)) == []
    # a prior finding the current image does not show (out of view) is not "gone"
    assert change.findings_change([], [_f("caries", (700, 10, 720, 30), 18)], IDENTITY, (640, 480)) == []


class _Lm:
    def __init__(self, fdi, side, cej, crest, apex=None):
        self.tooth_fdi, self.side, self.cej, self.crest, self.apex = fdi, side, cej, crest, apex


def test_bone_level_in_mm_with_spacing_and_in_percent_of_the_root_without():
    now = [_Lm(36, "M", (100, 100), (100, 160), (100, 400)), _Lm(36, "D", (200, 100), (200, 130))]
    then = [_Lm(36, "M", (100, 100), (100, 130), (100, 400)), _Lm(36, "D", (200, 100), (200, 129))]
    rows = bone_level.bone_change(bone_level.bone_levels(now, 0.05), bone_level.bone_levels(then, 0.05))
    m = next(r for r in rows if r["surface"] == "M")
    assert (m["mm"], m["prior_mm"], m["delta_mm"], m["progressing"]) == (3.0, 1.5, 1.5, True)
    assert not next(r for r in rows if r["surface"] == "D")["progressing"]
    line = comparison_lines({"registered": True, "changes": [], "bone": rows})[0]
    assert "#19 mesial" in line and "3.0 mm" in line and "+1.5 mm" in line and "progressing" in line
    # no pixel spacing: percent of the root length, said to be uncalibrated
    rows = bone_level.bone_change(bone_level.bone_levels(now, None), bone_level.bone_levels(then, None))
    m = next(r for r in rows if r["surface"] == "M")
    assert m["mm"] is None and m["pct_root"] == 20.0 and m["delta_pct"] == 10.0 and m["progressing"]
    assert "uncalibrated" in comparison_lines({"registered": True, "changes": [], "bone": rows})[0]
    assert "not measurable" in comparison_lines({"registered": True, "changes": [],
                                                 "bone": [r for r in rows if r["surface"] == "D"]}, all_bone=True)[0]



def test_the_review_text_lists_what_progressed_first_and_a_level_that_held_as_unchanged():
    def row(fdi, mm, prior_mm, **extra):
        return {"tooth_fdi": fdi, "surface": "M", "mm": mm, "prior_mm": prior_mm, "pct_root": None,
                "prior_pct_root": None, "delta_mm": round(mm - prior_mm, 2), "delta_pct": None,
                "progressing": False} | extra
    held, misread, deeper = row(11, 1.6, 1.62), row(21, 3.5, 1.1, unconfirmed=True), row(36, 3.4, 1.5, progressing=True)
    lines = comparison_lines({"registered": True, "changes": [], "bone": [held, misread, deeper]}, all_bone=True)
    assert [line.split(" ")[0] for line in lines] == ["#19", "#9", "#8"]
    assert lines[2] == "#8 mesial: bone level 1.6 mm below the CEJ (was 1.6 mm, unchanged)"

def test_the_landmark_model_measures_how_far_bone_receded():
    from tray_app.analysis.landmarks import LandmarkModel

    pair = make_pair("periapical", 31, "bone_receded")
    model = LandmarkModel()

    def levels(objects, pixels):
        teeth = [(o.tooth_fdi, o.box) for o in objects if o.label == "tooth"]
        return bone_level.bone_levels(model.find(pixels, teeth), pair.spacing_mm)

    rows = bone_level.bone_change(levels(pair.current_objects, pair.current), levels(pair.prior_objects, pair.prior))
    row = next(r for r in rows if (r["tooth_fdi"], r["surface"]) == (pair.tooth_fdi, pair.surface))
    truth = {(lm.tooth_fdi, lm.surface): lm.bone_level_mm for lm in pair.current_landmarks}
    before = {(lm.tooth_fdi, lm.surface): lm.bone_level_mm for lm in pair.prior_landmarks}
    key = (pair.tooth_fdi, pair.surface)
    assert abs(row["delta_mm"] - (truth[key] - before[key])) <= 0.5
    assert row["progressing"]
    assert not [r for r in rows if r["progressing"] and (r["tooth_fdi"], r["surface"]) != key]


def test_the_chart_note_paragraph_names_the_change_and_the_prior_date():
    comp = {"registered": True, "view": "BW left molar", "prior_date": "2025-03-04",
            "changes": [{"change": "new", "label": "restoration", "tooth_fdi": 36, "box": [0, 0, 1, 1]}], "bone": []}
    text = note_paragraph([comp])
    assert "BW left molar vs 2025-03-04" in text and "#19" in text and "new since" in text
    assert note_paragraph([comp | {"changes": []}]) == "Compared with prior images: no change found."
    assert note_paragraph([]) == ""


# --------------------------------------------------------------------------- the service, end to end
@pytest.fixture
def bundled_home(tmp_path, monkeypatch):
    """A home without a user model: the bundled demonstration detector analyses."""
    h = tmp_path / "home"
    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(h))
    return h


def _service_with_a_prior(export_dir, kind: str, seed: int, what: str):
    """A service that has analysed the prior of a generated pair (study ...<seed>.1), and a
    function that brings the current image in (study ...<seed>.2)."""
    from service_helpers import fast_config, home_paths

    from tray_app.app import Service
    from tray_app.demo.writers import write_dicom

    pair = make_pair(kind, seed, what)
    prior, current = as_samples(pair, seed)
    who = dict(patient_id=f"P-{seed}", patient_name="Doe^Jane", birth_date="19700101")
    service = Service(fast_config(export_dir), home_paths())
    write_dicom(prior, export_dir / "then.dcm", study_uid=f"1.2.826.0.1.3680043.8.498.{seed}.1", study_date="20250304",
                instance_number=1, **who)
    service.run_once()

    def bring_current():
        write_dicom(current, export_dir / "now.dcm", study_uid=f"1.2.826.0.1.3680043.8.498.{seed}.2",
                    study_date="20260105", instance_number=2, **who)
        service.run_once()

    return service, pair, prior, bring_current


def test_the_service_compares_a_new_image_with_the_patients_prior_and_tags_the_study(bundled_home, export_dir):
    from tray_app.store import priors as priors_repo

    service, pair, _, bring_current = _service_with_a_prior(export_dir, "bitewing", 41, "bone_receded")
    bring_current()
    try:
        now_study = service.db.one("SELECT id, tags, priority, clinical FROM studies WHERE study_uid LIKE '%41.2'")
        (comp,) = priors_repo.of_study(service.db, now_study["id"])
        assert comp["registered"] and comp["prior_date"] == "2025-03-04" and comp["view"].startswith("BW")
        row = next(b for b in comp["bone"] if (b["tooth_fdi"], b["surface"]) == (pair.tooth_fdi, pair.surface))
        assert row["progressing"] and row["delta_mm"] > 0.5
        tags = json.loads(now_study["tags"])
        assert "changed since 2025-03-04" in tags and "progressing" in tags
        clinical = json.loads(now_study["clinical"])
        assert "Compared with prior images" in clinical["drafts"]["chart_note"]
        assert clinical["since_prior"]["progressing"]
        # the earlier study has no prior of its own
        then_study = service.db.one("SELECT id, tags FROM studies WHERE study_uid LIKE '%41.1'")
        assert priors_repo.of_study(service.db, then_study["id"]) == []
        assert not any(t.startswith("changed since") for t in json.loads(then_study["tags"]))
    finally:
        service.db.close()


def test_a_change_must_show_in_the_pixels_so_detector_flicker_is_not_claimed():
    pair = make_pair("bitewing", 51, "new_restoration")
    reg = register(pair.current, pair.prior)
    from tray_app.analysis.registration import warp_onto

    evidence = pixel_evidence(pair.current, *warp_onto(pair.prior, reg.matrix, pair.current.shape))
    (filling,) = [o.box for o in pair.current_objects if o.label == "restoration" and o.tooth_fdi == pair.tooth_fdi]
    assert evidence(filling, +1) >= 2 * change.MIN_EVIDENCE
    untouched = next(o.box for o in pair.current_objects if o.label == "tooth" and o.tooth_fdi != pair.tooth_fdi)
    assert evidence(untouched, +1) < change.MIN_EVIDENCE and evidence(untouched, -1) < change.MIN_EVIDENCE
    # a "new" caries the detector reports on the untouched tooth (flicker) is not a change; the filling is
    flicker = _f("caries", untouched, 0)
    new = _f("restoration", filling, pair.tooth_fdi)
    out = change.findings_change([flicker, new], [], reg.as_array(), pair.current.shape[::-1], evidence)
    assert [(c["change"], c["label"]) for c in out] == [("new", "restoration")]


def test_bone_levels_compare_the_same_physical_tooth_when_the_detector_numbered_it_differently():
    """…and a prior tooth on no current tooth is not compared by its number alone."""
    shift = [[1, 0, 40], [0, 1, 0]]
    prior = [_f("tooth", (0, 0, 100, 200), 45), _f("tooth", (100, 0, 200, 200), 46)]
    current = [_f("tooth", (40, 0, 140, 200), 44), _f("tooth", (140, 0, 240, 200), 46)]
    prior.append(_f("tooth", (400, 0, 416, 40), 47))   # a misdetected sliver at the edge, on no current tooth
    current.append(_f("tooth", (240, 0, 340, 200), 47))
    numbers = change.same_teeth(current, prior, shift)
    assert numbers == {45: 44, 46: 46}
    then = {(45, "M"): {"mm": 1.5, "pct_root": None}, (46, "D"): {"mm": 1.4, "pct_root": None},
            (47, "M"): {"mm": 0.1, "pct_root": None}}
    assert set(bone_level.renumbered(then, numbers)) == {(44, "M"), (46, "D")}


def test_the_service_asks_its_finding_model_before_it_claims_a_new_restoration(bundled_home, export_dir, monkeypatch):
    """End to end: the comparison step of the running service gets the model in use and asks it
    (at half its thresholds, in the other image) before it records a change that passed its pixels."""
    from tray_app.analysis.model import OnnxModel
    from tray_app.store import priors as priors_repo

    service, pair, prior, bring_current = _service_with_a_prior(export_dir, "bitewing", 13, "new_restoration")
    asked = []
    real_detect = OnnxModel.detect

    def detect(model, gray, thresholds=None, kind=None, topk=0):
        if thresholds is not None:  # the comparison's doubt check, not the analysis itself
            asked.append(gray.shape)
        return real_detect(model, gray, thresholds=thresholds, kind=kind, topk=topk)

    monkeypatch.setattr(OnnxModel, "detect", detect)
    bring_current()
    try:
        now_study = service.db.one("SELECT id FROM studies WHERE study_uid LIKE '%13.2'")
        (comp,) = priors_repo.of_study(service.db, now_study["id"])
        new = [c for c in comp["changes"] if c["change"] == "new" and c["label"] == "restoration"]
        assert new and abs(new[0]["tooth_fdi"] - pair.tooth_fdi) <= 1
        # … and the change model (models/change) found it a change of the mouth
        assert new[0]["odds"] >= json.loads((bundled_models_dir() / "change" / "change.json").read_text())["threshold"]
        # a new finding: was it just under threshold in the prior? At most once per image asked
        assert prior.image.shape in asked and len(asked) <= 2
    finally:
        service.db.close()


def test_a_prior_analysed_after_the_current_image_is_still_compared(bundled_home, export_dir):
    """A history folder scanned out of order: the newer study is analysed first, with no prior yet;
    its older study, analysed later, becomes its prior. The older study gets no comparison (it is
    no prior of itself, and the newer one is not its prior)."""
    import os

    from service_helpers import fast_config, home_paths

    from tray_app.app import Service
    from tray_app.demo.writers import write_dicom
    from tray_app.store import priors as priors_repo

    pair = make_pair("bitewing", 41, "bone_receded")
    prior, current = as_samples(pair, 41)
    who = dict(patient_id="P-41", patient_name="Doe^Jane", birth_date="19700101")
    service = Service(fast_config(export_dir), home_paths())
    try:
        write_dicom(current, export_dir / "now.dcm", study_uid="1.2.826.0.1.3680043.8.498.41.2", study_date="20260105",
                    instance_number=2, **who)
        service.run_once()
        now_study = service.db.one("SELECT id FROM studies WHERE study_uid LIKE '%41.2'")["id"]
        assert priors_repo.of_study(service.db, now_study) == []
        then = export_dir / "then.dcm"
        write_dicom(prior, then, study_uid="1.2.826.0.1.3680043.8.498.41.1", study_date="20250304", instance_number=1,
                    **who)
        year_ago = then.stat().st_mtime - 300 * 86400
        os.utime(then, (year_ago, year_ago))
        service.run_once()
        (comp,) = priors_repo.of_study(service.db, now_study)
        assert comp["registered"] and comp["prior_date"] == "2025-03-04"
        assert any(b["progressing"] for b in comp["bone"])
        tags = json.loads(service.db.one("SELECT tags FROM studies WHERE id=?", (now_study,))["tags"])
        assert "changed since 2025-03-04" in tags
        then_study = service.db.one("SELECT id FROM studies WHERE study_uid LIKE '%41.1'")["id"]
        assert priors_repo.of_study(service.db, then_study) == []
    finally:
        service.db.close()
