"""What the prior comparison claims when the detector is not the same in both images (issue 20:
≥ 90 % of new / grown / gone findings reported, no "changed" claim on a pair without change):
a lesion the detector did not find again but that darkened is grown, not silently dropped;
a tooth numbered one off is still the same tooth; a finding beyond the prior's edge is not new."""

from __future__ import annotations

import numpy as np
import pytest

from tray_app.analysis.registration import register
from tray_app.clinical import bone_level, change
from tray_app.clinical.pixel_evidence import not_anatomy, pixel_evidence
from tray_app.clinical.comparison import changed_findings
from tray_app.demo.pairs import make_pair

from bench.priors_pairs import detected_findings as _detected


def _f(label, box, fdi):
    return dict(label=label, x1=box[0], y1=box[1], x2=box[2], y2=box[3], tooth_fdi=fdi, surfaces="")


def _truth(objects, label, fdi):
    return [_f(o.label, o.box, o.tooth_fdi) for o in objects if o.label == label and o.tooth_fdi == fdi]


def test_a_lesion_the_detector_did_not_find_again_is_grown_when_the_pixels_around_it_darkened():
    pair = make_pair("bitewing", 5002, "lesion_grew")     # tooth 14 has a second, unchanged lesion
    reg = register(pair.current, pair.prior)
    prior = _truth(pair.prior_objects, "caries", pair.tooth_fdi)
    unchanged = max(_truth(pair.current_objects, "caries", pair.tooth_fdi), key=lambda f: f["y1"])   # the lower one
    # the detector kept only the unchanged lesion (the bundled one merges both into one finding)
    out = changed_findings(pair.current, pair.prior, [unchanged], prior, reg)
    assert [(c["change"], c["label"], c["tooth_fdi"]) for c in out] == [("grown", "caries", pair.tooth_fdi)]
    # with both lesions found in both images only the one that grew is claimed
    both = _truth(pair.current_objects, "caries", pair.tooth_fdi)
    assert [(c["change"], c["tooth_fdi"]) for c in changed_findings(pair.current, pair.prior, both, prior, reg)] \
        == [("grown", pair.tooth_fdi)]


def test_a_lesion_that_went_is_gone_not_grown():
    pair = make_pair("bitewing", 5002, "lesion_grew")
    reg = register(pair.prior, pair.current)          # backwards in time: the larger lesion became smaller
    small = _truth(pair.prior_objects, "caries", pair.tooth_fdi)
    big = _truth(pair.current_objects, "caries", pair.tooth_fdi)
    out = changed_findings(pair.prior, pair.current, small[:1], big, reg)
    assert not [c for c in out if c["change"] == "grown"]


def test_a_finding_on_a_tooth_numbered_one_off_in_the_prior_is_the_same_finding():
    shift = [[1, 0, 40], [0, 1, 0]]
    prior = [_f("tooth", (0, 0, 100, 200), 45), _f("tooth", (100, 0, 200, 200), 46),
             _f("restoration", (20, 20, 80, 60), 45)]
    current = [_f("tooth", (40, 0, 140, 200), 44), _f("tooth", (140, 0, 240, 200), 46),
               _f("restoration", (60, 20, 120, 60), 44)]
    assert change.findings_change(current, prior, shift, (640, 480)) == []


def test_a_finding_beyond_the_edge_of_the_prior_image_is_not_new():
    shift = [[1, 0, 100], [0, 1, 0]]      # the prior saw from x = 100 on, in the current's pixels
    current = [_f("restoration", (10, 100, 60, 150), 16), _f("restoration", (300, 100, 350, 150), 15)]
    out = change.findings_change(current, [], shift, (640, 480))
    assert [(c["change"], c["tooth_fdi"]) for c in out] == [("new", 15)]


def test_a_lesion_the_priors_edge_cut_is_not_grown_for_being_boxed_larger_now():
    shift = [[1, 0, 100], [0, 1, 0]]      # the prior saw from x = 100 on
    # the prior boxed the part it saw, x 100-120; now the whole lesion, x 80-140: 3× the area
    prior = [_f("caries", (0, 100, 20, 130), 16), _f("caries", (300, 100, 320, 130), 15)]
    current = [_f("caries", (80, 100, 140, 130), 16), _f("caries", (380, 100, 440, 130), 15)]
    out = change.findings_change(current, prior, shift, (640, 480))
    assert [(c["change"], c["tooth_fdi"]) for c in out] == [("grown", 15)]   # 15 grew where the prior saw it


@pytest.fixture(scope="module")
def detector():
    from tray_app.analysis.model import load_model
    from tray_app.config import bundled_models_dir

    return load_model(bundled_models_dir() / "dental-demo")


@pytest.mark.parametrize("kind,seed", [("bitewing", 5104),      # a calculus flickering in at its threshold
                                       ("periapical", 9137),    # a filling at a corner the turned prior never saw
                                       ("periapical", 13113)])  # a lesion boxed alike by the top edge, its border darker
def test_the_detector_flickering_on_a_pair_without_change_claims_nothing(detector, kind, seed):
    pair = make_pair(kind, seed, "none")
    reg = register(pair.current, pair.prior)
    now = _detected(detector, pair.current, kind, pair.teeth_fdi)
    then = _detected(detector, pair.prior, kind, pair.teeth_fdi)
    assert changed_findings(pair.current, pair.prior, now, then, reg) == []


def test_a_new_filling_the_detector_finds_is_reported(detector):
    pair = make_pair("bitewing", 5142, "new_restoration")    # its unsigned residual was under the gate
    reg = register(pair.current, pair.prior)
    now = _detected(detector, pair.current, "bitewing", pair.teeth_fdi)
    then = _detected(detector, pair.prior, "bitewing", pair.teeth_fdi)
    out = changed_findings(pair.current, pair.prior, now, then, reg)
    assert ("new", "restoration", pair.tooth_fdi) in [(c["change"], c["label"], c["tooth_fdi"]) for c in out]


def test_a_bone_level_at_the_image_edge_is_not_measured():
    from tray_app.analysis.landmarks import ToothLandmarks

    inside = ToothLandmarks(36, "D", (150.0, 175.0), (150.0, 205.0), None)
    at_edge = ToothLandmarks(36, "M", (0.0, 167.0), (3.0, 250.0), None)   # the tooth is cut by the image's left edge
    assert set(bone_level.bone_levels([inside, at_edge], 0.05, (554, 664))) == {(36, "D")}


def test_bone_on_a_pair_without_change_is_not_progressing(detector):
    rows = _bone_rows(detector, make_pair("periapical", 9121, "none"))   # tooth 36's mesial surface lies on the edge
    assert rows and not [r for r in rows if r["progressing"]]


def _bone_rows(detector, pair) -> list[dict]:
    """The bone-level rows the comparison makes of a pair, with the bundled detector and landmark model."""
    from tray_app.analysis.landmarks import LandmarkModel
    from tray_app.clinical.comparison import bone_compared, bone_levels_of, pixel_evidence_of

    reg = register(pair.current, pair.prior)
    landmarks = LandmarkModel()
    now = _detected(detector, pair.current, pair.kind, pair.teeth_fdi)
    then = _detected(detector, pair.prior, pair.kind, pair.teeth_fdi)
    return bone_compared(bone_levels_of(landmarks, pair.current, now, pair.spacing_mm),
                         bone_levels_of(landmarks, pair.prior, then, pair.spacing_mm), now, then, reg,
                         pixel_evidence_of(pair.current, pair.prior, reg))


def test_a_lesion_grown_by_its_darkening_is_worded_without_an_area_ratio():
    from tray_app.clinical.change_text import finding_line

    assert finding_line({"change": "grown", "label": "caries", "tooth_fdi": 14}) == "#5: caries larger than before"
    assert finding_line({"change": "grown", "label": "caries", "tooth_fdi": 14, "area_ratio": 2.5}) \
        == "#5: caries larger than before (area ×2.5)"


def test_a_change_the_generator_drew_beyond_an_edge_is_no_change_to_report():
    """The bench counts only changes whose pixels lie in both images (`Pair.change_drawn`)."""
    five = make_pair("periapical", 5095, "new_restoration")    # the filling sits on the side the crop cut off
    assert not [o for o in five.current_objects if o.label == "restoration" and o.tooth_fdi == five.tooth_fdi]
    assert not five.change_drawn()
    assert not make_pair("periapical", 9013, "bone_receded").change_drawn()   # the crest lies past the left edge
    assert not make_pair("periapical", 5053, "bone_receded").change_drawn()   # the prior's crest lies past its edge
    assert make_pair("bitewing", 5142, "new_restoration").change_drawn()
    assert make_pair("bitewing", 5002, "lesion_grew").change_drawn()
    assert make_pair("bitewing", 9092, "bone_receded").change_drawn()        # the new crest just past the top edge
    assert not make_pair("bitewing", 5142, "none").change_drawn()


def test_a_change_the_current_export_hides_is_drawn_but_not_visible():
    """A filling drawn in a crown the current image's export clips white: nobody can report it."""
    hidden = make_pair("periapical", 13071, "new_restoration")
    assert hidden.change_drawn() and not hidden.change_visible()
    assert make_pair("bitewing", 5142, "new_restoration").change_visible()
    assert make_pair("bitewing", 9092, "bone_receded").change_visible()
    assert not make_pair("bitewing", 5142, "none").change_visible()


class _Doubt:
    """The detector's candidates under its thresholds, as `comparison.DetectorDoubt` gives them."""
    thresholds = {"crown": 0.425, "restoration": 0.35}

    def __init__(self, prior=(), current=()):
        self.found = {"prior": list(prior), "current": list(current)}

    def candidates(self, which):
        return self.found[which]


def test_a_change_the_detector_itself_doubts_is_not_claimed():
    still = [[1, 0, 0], [0, 1, 0]]
    crown = dict(_f("crown", (100, 50, 300, 200), 36), confidence=0.43)     # just over its threshold in the prior
    out = change.findings_change([], [crown], still, (640, 480), doubt=_Doubt())
    assert out == []
    sure = dict(crown, confidence=0.8)       # a clear crown not found again is gone …
    assert [c["change"] for c in change.findings_change([], [sure], still, (640, 480), doubt=_Doubt())] == ["gone"]
    # … unless the detector saw it there under its threshold
    under = {"label": "crown", "box": (104, 52, 296, 204), "confidence": 0.24}
    assert change.findings_change([], [sure], still, (640, 480), doubt=_Doubt(current=[under])) == []
    filling = dict(_f("restoration", (400, 100, 460, 160), 35), confidence=0.76)
    neighbour = {"label": "restoration", "box": (440, 100, 520, 160), "confidence": 0.7}   # the next tooth's filling
    assert [c["change"] for c in change.findings_change([filling], [], still, (640, 480),
                                                        doubt=_Doubt(prior=[neighbour]))] == ["new"]
    faint = {"label": "restoration", "box": (398, 96, 458, 158), "confidence": 0.22}
    assert change.findings_change([filling], [], still, (640, 480), doubt=_Doubt(prior=[faint])) == []


@pytest.mark.parametrize("kind,seed", [("bitewing", 13080),     # a filling at 0.76 now, at 0.22 in the prior
                                       ("periapical", 9081),    # a crown at 0.43 (threshold 0.425) in the prior only
                                       ("periapical", 13089)])  # calculus at 0.31 (threshold 0.225) in the prior only
def test_the_detector_at_its_threshold_on_a_pair_without_change_claims_nothing(detector, kind, seed):
    pair = make_pair(kind, seed, "none")
    reg = register(pair.current, pair.prior)
    now = _detected(detector, pair.current, kind, pair.teeth_fdi)
    then = _detected(detector, pair.prior, kind, pair.teeth_fdi)
    assert changed_findings(pair.current, pair.prior, now, then, reg, detector, kind) == []


def test_a_lesion_boxed_alike_in_both_images_grew_when_the_area_around_it_darkened():
    pair = make_pair("bitewing", 9050, "lesion_grew")
    reg = register(pair.current, pair.prior)
    prior = _truth(pair.prior_objects, "caries", pair.tooth_fdi)
    # the detector boxed the grown lesion no larger than the prior one: the prior box, aligned
    x1, y1, x2, y2 = change._mapped_box(change._box(prior[0]), reg.as_array())
    same = [_f("caries", (x1, y1, x2, y2), pair.tooth_fdi)]
    out = changed_findings(pair.current, pair.prior, same, prior, reg)
    assert [(c["change"], c["tooth_fdi"]) for c in out] == [("grown", pair.tooth_fdi)]
    assert changed_findings(pair.current, pair.current, same, same, register(pair.current, pair.current)) == []


def test_a_crest_past_the_image_edge_gives_a_lower_bound_of_the_bone_level():
    from tray_app.analysis.landmarks import ToothLandmarks
    from tray_app.clinical.change_text import bone_line, patient_lines

    shape = (576, 768)              # a bitewing; the margin is 1 % of 768 px
    past = ToothLandmarks(46, "M", (485.0, 495.0), (476.0, 580.0), None)   # the crest placed past the bottom edge
    shallow = ToothLandmarks(46, "D", (300.0, 500.0), (298.0, 590.0), None)
    beside = ToothLandmarks(16, "M", (13.0, 80.0), (-3.0, 30.0), None)      # an upper tooth at the left edge
    unseen = ToothLandmarks(47, "M", (200.0, 495.0), None, None)            # the model: crest not in view
    at_edge = ToothLandmarks(47, "D", (100.0, 495.0), (98.0, 572.0), None)  # placed in the edge's band, not past it
    levels = bone_level.bone_levels([past, shallow, beside, unseen, at_edge], 0.044, shape)
    assert (47, "M") not in levels and (47, "D") not in levels   # the model errs there
    assert levels[(46, "M")] == {"mm": round((576 - 7.68 - 495) * 0.044, 2), "pct_root": None, "at_least": True,
                                 "crest": (476.0, 580.0)}
    assert levels[(46, "D")]["at_least"]
    assert levels[(16, "M")]["mm"] == 0.55     # its crest may lie past the left edge, close by
    assert bone_level.bone_levels([past], None, shape) == {}                 # uncalibrated: no mm to bound
    prior = {(46, "M"): {"mm": 1.31, "pct_root": None}, (46, "D"): {"mm": 3.5, "pct_root": None}}
    rows = {r["surface"]: r for r in bone_level.bone_change(levels, prior)}
    assert rows["M"]["progressing"] and rows["M"]["at_least"] and rows["M"]["delta_mm"] == round(3.23 - 1.31, 2)
    assert rows["D"]["delta_mm"] is None and not rows["D"]["progressing"]   # a bound under the prior says nothing
    assert bone_level.bone_change(prior, levels) == []     # a prior that is a bound: its crest may have been deeper
    assert bone_line(rows["M"]) == ("#30 mesial: bone level at least 3.2 mm below the CEJ — the crest lies past the "
                                    "image edge (was 1.3 mm, at least +1.9 mm) — progressing")
    page = patient_lines({"registered": True, "changes": [], "bone": [rows["M"]]}, set())
    assert page == ["Tooth #30: the bone around it is at least 1.9 mm lower than on your earlier X-ray."]


def test_bone_receded_past_the_image_edge_is_reported_as_at_least(detector):
    pair = make_pair("bitewing", 9044, "bone_receded")     # tooth 46's mesial crest receded past the bottom edge
    rows = _bone_rows(detector, pair)
    hit = next(r for r in rows if (r["tooth_fdi"], r["surface"]) == (pair.tooth_fdi, pair.surface))
    true = [lm.bone_level_mm for lm in pair.current_landmarks if (lm.tooth_fdi, lm.surface) == (46, "M")][0] - \
        [lm.bone_level_mm for lm in pair.prior_landmarks if (lm.tooth_fdi, lm.surface) == (46, "M")][0]
    assert hit["at_least"] and hit["progressing"] and bone_level.PROGRESSING_MM <= hit["delta_mm"] <= true


def _scene(shift_px: int = 0, filling: bool = False) -> np.ndarray:
    """A flat, noisy background with a bright implant-like bar (sharp edges), optionally moved
    `shift_px` to the right, and optionally a new bright filling beside it."""
    img = np.full((200, 300), 90.0)
    img[40:160, 100 + shift_px:140 + shift_px] = 225.0
    if filling:
        img[80:120, 200:240] = 200.0
    return np.clip(img + np.random.default_rng(7 + shift_px).normal(0, 4, img.shape), 0, 255).astype(np.uint8)


def test_an_edge_a_pixel_or_two_off_is_no_change_but_a_new_bright_area_is():
    """A sharp edge (an implant, a filling) a pixel off after alignment and under another tone curve
    is no pixel evidence; a filling that was not there is."""
    current = _scene(0, filling=True)
    prior = (255.0 * (_scene(1) / 255.0) ** 1.3).astype(np.uint8)     # another exposure, the sensor a pixel off
    evidence = pixel_evidence(current, prior, np.ones(current.shape, bool))
    beside_edge = (135, 60, 145, 140)                                 # centred on the bar's right edge
    assert evidence(beside_edge, -1) < change.MIN_EVIDENCE and evidence(beside_edge, +1) < change.MIN_EVIDENCE
    assert evidence((200, 80, 240, 120), +1) >= 4 * change.MIN_EVIDENCE


def test_a_filling_the_prior_clipped_into_its_enamel_is_no_evidence_of_a_new_one():
    """No-change pair 17009: the prior's export clipped the crown white, filling and all; the current
    shows the filling. Pixels at the prior's ceiling cannot show the current is lighter there."""
    rng = np.random.default_rng(3)
    current = 60.0 + rng.normal(0, 4, (200, 300))
    current[40:160, 80:220] = 190.0 + rng.normal(0, 4, (120, 140))    # the crown
    current[60:100, 120:180] = 245.0                                  # the filling, in both mouths
    prior = np.clip(1.6 * current - 40, 0, 255)                       # clips the crown and the filling alike
    evidence = pixel_evidence(current.astype(np.uint8), prior.astype(np.uint8), np.ones(current.shape, bool))
    assert evidence((120, 60, 180, 100), +1) < change.MIN_EVIDENCE


def test_caries_gone_is_claimed_only_where_a_new_filling_or_crown_now_is():
    still = [[1, 0, 0], [0, 1, 0]]
    lesion = dict(_f("caries", (100, 50, 130, 80), 36), confidence=0.8)
    # the detector found it in the prior only: an error of one image, not a lesion that healed
    assert change.findings_change([], [lesion], still, (640, 480)) == []
    treated = dict(_f("restoration", (95, 45, 140, 90), 36), confidence=0.8)
    out = change.findings_change([treated], [lesion], still, (640, 480))
    assert sorted((c["change"], c["label"]) for c in out) == [("gone", "caries"), ("new", "restoration")]
    # calculus does go (it is cleaned off)
    calculus = dict(_f("calculus", (300, 50, 320, 70), 37), confidence=0.8)
    assert [c["change"] for c in change.findings_change([], [calculus], still, (640, 480))] == ["gone"]


def test_a_new_finding_at_its_threshold_needs_more_than_the_least_pixel_evidence():
    """No-change pair 17032: bone loss at 0.205 (threshold 0.175) with evidence 0.54 is no claim;
    the same evidence for a finding the detector is sure of, or more evidence, is."""
    still = [[1, 0, 0], [0, 1, 0]]

    class Doubt(_Doubt):
        thresholds = {"bone_loss": 0.175}

    def claimed(confidence, evidence_value):
        found = dict(_f("bone_loss", (200, 100, 230, 180), 46), confidence=confidence)
        out = change.findings_change([found], [], still, (640, 480), lambda box, sign=0: evidence_value, doubt=Doubt())
        return [c["change"] for c in out]

    weak = 1.08 * change.MIN_EVIDENCE
    assert claimed(0.205, weak) == []
    assert claimed(0.6, weak) == ["new"]
    assert claimed(0.205, change.WEAK_NEW_EVIDENCE) == ["new"]


def test_burnt_in_text_and_an_outline_fill_are_not_anatomy_but_a_filling_clipped_white_is():
    rng = np.random.default_rng(5)
    img = np.clip(120 + rng.normal(0, 6, (200, 300)), 1, 250)
    img[70:130, 120:180] = 255                       # a filling the export clipped white: anatomy
    yy, xx = np.mgrid[:200, :300]
    corner = (np.maximum(30 - xx, 0) ** 2 + np.maximum(30 - yy, 0) ** 2) > 30 ** 2
    img[corner] = 0                                  # the rounded outline's fill in the top-left corner
    img[180:182, 40:140] = 255                       # a stroke of burnt-in text
    img[180:190, 40:42] = 255
    out = not_anatomy(img.astype(np.uint8))
    assert out[181, 90] and out[185, 41]
    assert not out[100, 150] and not out[100, 60] and not out[2, 2]   # a clipped filling, anatomy, the corner
    with_outline = not_anatomy(img.astype(np.uint8), corners=True)
    assert with_outline[2, 2] and with_outline[181, 90] and not with_outline[100, 150]
    assert not not_anatomy(np.clip(120 + rng.normal(0, 6, (200, 300)), 1, 250).astype(np.uint8), corners=True).any()


def test_burnt_in_text_the_detector_took_for_a_filling_is_no_change():
    """No-change pair 33081: the prior's burnt-in date, boxed as a restoration on no tooth, lies
    elsewhere on the anatomy once the prior is aligned; its pixels are no evidence of a gone filling."""
    pair = make_pair("periapical", 33081, "none")
    reg = register(pair.current, pair.prior)
    from tray_app.clinical.comparison import pixel_evidence_of

    text_box = change._mapped_box((53, 34, 86, 137), reg.as_array())
    assert pixel_evidence_of(pair.current, pair.prior, reg)(text_box, -1) < change.MIN_EVIDENCE


def test_a_lesion_an_export_only_darkened_is_not_new_but_one_that_was_not_there_is():
    """No-change pair 17048 and its kind: a sharper export deepens a lesion the prior shows faintly,
    and the detector finds it in the current image only. The same shape in both images is no change."""
    rng = np.random.default_rng(11)
    base = np.full((200, 300), 150.0)
    yy, xx = np.mgrid[:200, :300]
    lesion = (np.abs(xx - 100) + np.abs(yy - 100)) < 14
    prior = base - 25.0 * lesion + rng.normal(0, 3, base.shape)
    current = base - 70.0 * lesion + rng.normal(0, 3, base.shape)      # the same lesion, more contrast
    fresh = (np.abs(xx - 220) + np.abs(yy - 100)) < 14
    current -= 70.0 * fresh                                             # a lesion the prior did not have
    current, prior = (np.clip(a, 0, 255).astype(np.uint8) for a in (current, prior))
    evidence = pixel_evidence(current, prior, np.ones(current.shape, bool))
    still = [[1, 0, 0], [0, 1, 0]]
    found = [dict(_f("caries", (86, 86, 114, 114), 36), confidence=0.8),
             dict(_f("caries", (206, 86, 234, 114), 37), confidence=0.8)]
    out = change.findings_change(found, [], still, (300, 200), evidence)
    assert [(c["change"], c["tooth_fdi"]) for c in out] == [("new", 37)]
    assert change._shape_kept(evidence, (86, 86, 114, 114))            # the same shape in both images
    # found in both images and boxed alike: the lesion's darker tone is the export's curve (the whole
    # image's tones map so), not growth
    assert evidence(change._scaled((86, 86, 114, 114), 2.0), -1) < change.ALIKE_EVIDENCE
    assert change.findings_change(found[:1], found[:1], still, (300, 200), evidence) == []


def test_a_new_lesion_where_the_prior_had_a_much_smaller_one_under_threshold_grew():
    """Pair 13019: caries at 0.33 (threshold 0.35) in the prior, three times the area now: grown,
    not the detector's flicker and not dropped."""
    still = [[1, 0, 0], [0, 1, 0]]

    class Doubt(_Doubt):
        thresholds = {"caries": 0.35}

    lesion = dict(_f("caries", (100, 100, 160, 160), 25), confidence=0.76)
    small = {"label": "caries", "box": (105, 110, 140, 140), "confidence": 0.33}
    out = change.findings_change([lesion], [], still, (640, 480), doubt=Doubt(prior=[small]))
    assert [(c["change"], c["area_ratio"]) for c in out] == [("grown", 3.43)]
    alike = {"label": "caries", "box": (98, 102, 158, 162), "confidence": 0.33}     # the same lesion, just under
    assert change.findings_change([lesion], [], still, (640, 480), doubt=Doubt(prior=[alike])) == []


def test_a_box_the_exports_clipped_almost_whole_is_no_evidence():
    """No-change pair 33001: a bracket both images clip white, boxed as a filling in the current
    only; the few pixels of its box left after the clipped ones say nothing."""
    rng = np.random.default_rng(2)
    current = np.clip(110 + rng.normal(0, 5, (200, 300)), 0, 250)
    current[80:120, 100:160] = 255                               # the bracket, clipped
    current[80:85, 100:110] = 180                                # a corner of it not clipped (2 % of the box)
    prior = current.copy()
    prior[80:85, 100:110] = 120
    evidence = pixel_evidence(current.astype(np.uint8), prior.astype(np.uint8), np.ones(current.shape, bool))
    assert evidence((100, 80, 160, 120), +1) == 0.0


def test_a_prior_finding_the_detector_was_unsure_of_is_neither_gone_nor_grown():
    """No-change pair 41120: bone loss at 0.19 (threshold 0.175) in the prior only, its surroundings
    darker in the current's export, was claimed grown."""
    still = [[1, 0, 0], [0, 1, 0]]

    class Doubt(_Doubt):
        thresholds = {"bone_loss": 0.175}

    darker = lambda box, sign=0: 5.0 if sign == -1 else 0.0     # noqa: E731 — the pixels around it darkened

    def claimed(confidence):
        prior = dict(_f("bone_loss", (200, 100, 230, 180), 47), confidence=confidence)
        return [c["change"] for c in change.findings_change([], [prior], still, (640, 480), darker, doubt=Doubt())]

    assert claimed(0.19) == []
    assert claimed(0.6) == ["grown"]


def test_a_lesion_darker_than_all_around_it_follows_the_exports_curve_not_a_clamp():
    """No-change pair 69121 and its kind: the current export's curve darkens dark tones the most, and
    a lesion is darker than anything in the ring around it. The ring alone cannot say how the curve
    maps the lesion's tone; the whole image can (its tones span the lesion's). A lesion the prior did
    not have still shows."""
    rng = np.random.default_rng(5)
    mouth = np.full((240, 360), 150.0)
    mouth[:, 240:] = np.linspace(30, 230, 240)[:, None]               # bone to air: every tone, away from the lesions
    yy, xx = np.mgrid[:240, :360]
    mouth[(np.abs(xx - 70) + np.abs(yy - 120)) < 14] = 90.0            # a lesion in both mouths
    prior = mouth + rng.normal(0, 3, mouth.shape)
    current = 255.0 * (mouth / 255.0) ** 1.8 + rng.normal(0, 3, mouth.shape)   # another export: darks darker
    fresh = (np.abs(xx - 170) + np.abs(yy - 120)) < 14
    current[fresh] = 255.0 * (90.0 / 255.0) ** 1.8 + rng.normal(0, 3, int(fresh.sum()))
    current, prior = (np.clip(a, 0, 255).astype(np.uint8) for a in (current, prior))
    evidence = pixel_evidence(current, prior, np.ones(current.shape, bool))
    assert evidence((56, 106, 84, 134), -1) < change.MIN_EVIDENCE
    assert evidence((156, 106, 184, 134), -1) >= 4 * change.MIN_EVIDENCE
