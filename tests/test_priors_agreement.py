"""Two readings of a change must agree before the comparison claims it (issue 20: no "changed"
claim on a pair without change): a bone level the landmarks read deeper must show in the pixels
between the two crests; a new bone-loss finding must not sit on a surface whose measured level
did not move; a restoration gone needs more than the least pixel evidence."""

from __future__ import annotations

import numpy as np
import pytest

from tray_app.analysis.registration import Registration, register
from tray_app.clinical import bone_level, change
from tray_app.clinical.change_text import bone_line
from tray_app.clinical.pixel_evidence import pixel_evidence
from tray_app.demo.pairs import make_pair

from bench.priors_pairs import detected_findings as _detected

STILL = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
ALIGNED = Registration(True, tuple(map(tuple, STILL)), 1.0, 0.0)


def _mouth(crest_y: int, seed: int) -> np.ndarray:
    """Soft tissue above, bone from `crest_y` down between two roots (x 130-170), noise."""
    img = np.full((240, 300), 170.0)
    img[:100, :] = 80.0
    img[100:crest_y, 130:170] = 80.0
    img[:, 100:130] = img[:, 170:200] = 200.0          # the roots either side
    return np.clip(img + np.random.default_rng(seed).normal(0, 4, img.shape), 0, 255).astype(np.uint8)


def test_a_level_the_landmarks_read_deeper_progresses_only_where_the_pixels_between_the_crests_darkened():
    now = {(46, "M"): {"mm": 2.5, "pct_root": None, "crest": (150.0, 130.0)}}
    then = {(46, "M"): {"mm": 1.0, "pct_root": None, "crest": (150.0, 100.0)}}
    prior = _mouth(100, 1)
    seen = np.ones(prior.shape, bool)

    receded = bone_level.bone_change(now, then, ALIGNED, pixel_evidence(_mouth(130, 2), prior, seen))[0]
    assert receded["progressing"] and receded["evidence"] >= bone_level.BONE_EVIDENCE
    assert not receded.get("unconfirmed")

    # the same mouth: the landmark model placed the crest 1.5 mm deeper, the bone did not move
    misread = bone_level.bone_change(now, then, ALIGNED, pixel_evidence(_mouth(100, 2), prior, seen))[0]
    assert not misread["progressing"] and misread["unconfirmed"] and misread["delta_mm"] == 1.5
    assert bone_line(misread).endswith("not seen in the image, not marked progressing")
    # not registered, there are no aligned pixels to ask: the landmarks alone decide
    assert bone_level.bone_change(now, then)[0]["progressing"]


def test_a_new_bone_loss_finding_on_a_surface_measured_unchanged_is_no_change():
    loss = {"change": "new", "label": "bone_loss", "tooth_fdi": 46, "surfaces": "", "box": [100.0, 100.0, 160.0, 160.0]}
    now = {(46, "M"): {"mm": 1.4, "pct_root": None, "crest": (130.0, 150.0)},
           (46, "D"): {"mm": 1.2, "pct_root": None, "crest": (300.0, 150.0)}}

    def rows(delta_m, delta_d=0.0):
        return [{"tooth_fdi": 46, "surface": "M", "delta_mm": delta_m}, {"tooth_fdi": 46, "surface": "D", "delta_mm": delta_d}]

    assert bone_level.agreeing([loss], rows(-0.1), now) == []            # no-change pair 17104
    assert bone_level.agreeing([loss], rows(1.6), now) == [loss]         # the level deepened too
    assert bone_level.agreeing([loss], rows(None), now) == [loss]        # not measured: nothing contradicts it
    # the surface measured unchanged lies far from the finding (the tooth's other side)
    assert bone_level.agreeing([loss], rows(1.6, delta_d=0.0), now) == [loss]
    other = {**loss, "tooth_fdi": 45}
    assert bone_level.agreeing([other], rows(-0.1), now) == [other]      # another tooth's finding
    caries = {**loss, "label": "caries"}
    assert bone_level.agreeing([caries], rows(-0.1), now) == [caries]


def test_a_new_bone_loss_finding_by_the_image_edge_needs_a_level_measured_deeper_or_a_sure_detector():
    """No-change pairs 81000 and 109120: bone loss new by a bitewing's top edge, on a tooth whose
    levels the landmarks could not measure there, scored near its threshold."""
    shape = (480, 640)                                   # 2.5 % of the long side: 16 px
    edge = {"change": "new", "label": "bone_loss", "tooth_fdi": 15, "surfaces": "", "box": [313.0, 1.2, 345.0, 68.0],
            "confidence": 0.27}
    inside = {**edge, "box": [313.0, 40.0, 345.0, 110.0]}
    sure = {**edge, "confidence": 0.4}                  # real recessions by the edge, found so: 0.30 and up

    def unsure(c):
        return change.near_threshold(c, {"bone_loss": 0.175})

    assert bone_level.agreeing([edge, inside, sure], [], {}, shape, unsure) == [inside, sure]
    now = {(15, "M"): {"mm": 3.4, "pct_root": None, "crest": (330.0, 40.0)}}
    deeper = [{"tooth_fdi": 15, "surface": "M", "delta_mm": 1.6}]
    assert bone_level.agreeing([edge], deeper, now, shape, unsure) == [edge]   # the level measured deeper agrees
    assert bone_level.agreeing([edge], [], {}) == [edge]                       # no image size: nothing to say

def test_bone_loss_gone_needs_a_level_measured_higher():
    """Bone does not grow back by itself: no-change pair 77088 had bone loss 'gone' at evidence 0.61."""
    gone = {"change": "gone", "label": "bone_loss", "tooth_fdi": 47, "surfaces": "", "box": [100.0, 100.0, 160.0, 160.0]}
    now = {(47, "M"): {"mm": 1.4, "pct_root": None, "crest": (130.0, 150.0)}}
    assert bone_level.agreeing([gone], [], now) == []                                         # nothing measured
    assert bone_level.agreeing([gone], [{"tooth_fdi": 47, "surface": "M", "delta_mm": 0.0}], now) == []
    assert bone_level.agreeing([gone], [{"tooth_fdi": 47, "surface": "M", "delta_mm": -1.5}], now) == [gone]


def test_a_lesion_named_differently_in_the_two_images_is_no_change():
    """No-change pair 73008: one dark area, bone loss in the prior and caries in the current."""
    then = dict(label="bone_loss", x1=690, y1=472, x2=730, y2=564, tooth_fdi=45, surfaces="", confidence=0.57)
    now = dict(label="caries", x1=697, y1=516, x2=748, y2=561, tooth_fdi=45, surfaces="M", confidence=0.6)
    def strong(box, sign=0):   # the new lesion darker, the old one's place lighter; not darker around it
        return 2.0 if sign == 1 or round(box[0]) in (now["x1"], 500) else 0.0
    assert change.findings_change([now], [then], STILL, (800, 600), strong) == []
    elsewhere = {**now, "x1": 500, "x2": 540}
    assert sorted(c["change"] for c in change.findings_change([elsewhere], [then], STILL, (800, 600), strong)) \
        == ["gone", "new"]


def test_a_restoration_gone_needs_more_than_the_least_pixel_evidence():
    """No-change pair 57129: a filling 'gone' at evidence 0.57. A lost filling leaves a cavity,
    far darker than that; a new filling needs only the least evidence."""
    filling = dict(label="restoration", x1=100, y1=50, x2=140, y2=80, tooth_fdi=37, surfaces="MOD", confidence=0.6)
    weak, strong = (lambda box, sign=0: 0.7), (lambda box, sign=0: 1.5)
    assert change.findings_change([], [filling], STILL, (640, 480), weak) == []
    assert [c["change"] for c in change.findings_change([], [filling], STILL, (640, 480), strong)] == ["gone"]
    assert [c["change"] for c in change.findings_change([filling], [], STILL, (640, 480), weak)] == ["new"]



def _crown_mouth(crown: str, seed: int) -> np.ndarray:
    """Background, bone, four teeth, enamel on three and a filling on one; on the first a crown:
    'bright' (even, clipped), 'rimmed' (an export that shows its rim clipped and its inside darker)
    or 'stump' (gone: the prepared tooth, empty above it)."""
    img = np.full((400, 600), 60.0)
    img[150:, :] = 120.0                                              # bone
    for x in (100, 200, 300, 400):
        img[60:400, x:x + 80] = 170.0                                 # teeth
        img[60:130, x:x + 80] = 200.0 if x > 100 else 170.0          # enamel
    img[70:100, 210:250] = 240.0                                      # a filling beside the crown, in both
    if crown in ("bright", "rimmed"):
        img[60:130, 95:185] = 250.0
        if crown == "rimmed":
            img[68:122, 103:177] = 215.0
    else:
        img[60:80, 95:185] = 60.0
    return np.clip(img + np.random.default_rng(seed).normal(0, 3, img.shape), 0, 250).astype(np.uint8)


def test_a_crown_new_or_gone_needs_its_place_not_the_brightest_in_the_image_without_it():
    """No-change pair 97041: a crown the detector did not find again in a differently exported
    image passed the pixel evidence (2.04); what was brightest in its box still is."""
    crown = dict(label="crown", x1=95, y1=60, x2=185, y2=135, tooth_fdi=36, surfaces="", confidence=0.8)
    prior = _crown_mouth("bright", 1)
    seen = np.ones(prior.shape, bool)
    rimmed = pixel_evidence(_crown_mouth("rimmed", 2), prior, seen)
    assert rimmed((95, 60, 185, 135), -1) >= change.GONE_COVERING_EVIDENCE    # the pixels alone would say gone
    assert rimmed.brightest_rank((95, 60, 185, 135)) >= change.STILL_BRIGHTEST
    assert change.findings_change([], [crown], STILL, (600, 400), rimmed) == []
    stump = pixel_evidence(_crown_mouth("stump", 2), prior, seen)
    assert [c["change"] for c in change.findings_change([], [crown], STILL, (600, 400), stump)] == ["gone"]
    # and the other way (no-change pair 105073): a crown "new" where the prior was as bright is not new
    was_rimmed = pixel_evidence(prior, _crown_mouth("rimmed", 2), seen)
    assert change.findings_change([crown], [], STILL, (600, 400), was_rimmed) == []
    was_stump = pixel_evidence(prior, _crown_mouth("stump", 2), seen)
    assert [c["change"] for c in change.findings_change([crown], [], STILL, (600, 400), was_stump)] == ["new"]

@pytest.fixture(scope="module")
def models():
    from tray_app.analysis.landmarks import LandmarkModel
    from tray_app.analysis.model import load_model
    from tray_app.config import bundled_models_dir

    return load_model(bundled_models_dir() / "dental-demo"), LandmarkModel()


def _compared(models, pair):
    from tray_app.clinical.comparison import bone_levels_of, compared
    detector, landmarks = models
    now = _detected(detector, pair.current, pair.kind, pair.teeth_fdi)
    then = _detected(detector, pair.prior, pair.kind, pair.teeth_fdi)
    return compared(pair.current, pair.prior, now, then, register(pair.current, pair.prior),
                    bone_levels_of(landmarks, pair.current, now, pair.spacing_mm),
                    bone_levels_of(landmarks, pair.prior, then, pair.spacing_mm), detector, pair.kind)


@pytest.mark.parametrize("kind,seed", [
    ("bitewing", 57088),      # the landmarks read 16 M 1.22 mm deeper
    ("bitewing", 29032),      # 45 D 2.4 mm deeper: a crest by the bottom edge, placed differently
    ("bitewing", 57000),      # a new bone-loss finding on 47 M, whose level did not move
    ("bitewing", 73008),      # bone loss in the prior, caries in the current: one dark area
    ("bitewing", 77088),      # bone loss "gone"
    ("periapical", 97041),    # a crown "gone": the detector did not find it again in another export
    ("bitewing", 109120),     # bone loss "new" at the top edge at 0.27 (of 0.175), 15's levels unmeasured
    ("periapical", 85105)])   # 37 D read 1.38 mm deeper; a thin box by a clipped-black gap darkened, grown it did not
def test_pairs_without_change_that_the_landmarks_or_the_detector_misread_claim_nothing(models, kind, seed):
    changes, bone = _compared(models, make_pair(kind, seed, "none"))
    assert changes == [] and not [b for b in bone if b["progressing"]]


def test_bone_that_receded_is_still_reported_by_both_readings(models):
    pair = make_pair("bitewing", 5068, "bone_receded")   # the landmarks read only 0.31 mm of 46 M's recession
    changes, bone = _compared(models, pair)
    assert ("new", "bone_loss", pair.tooth_fdi) in [(c["change"], c["label"], c["tooth_fdi"]) for c in changes]
    pair = make_pair("bitewing", 5036, "bone_receded")   # 46 M, 2.5 mm, found by both
    changes, bone = _compared(models, pair)
    hit = next(b for b in bone if (b["tooth_fdi"], b["surface"]) == (pair.tooth_fdi, pair.surface))
    assert hit["progressing"] and hit["evidence"] >= bone_level.BONE_EVIDENCE
    assert ("new", "bone_loss", pair.tooth_fdi) in [(c["change"], c["label"], c["tooth_fdi"]) for c in changes]


def test_a_box_drawn_larger_grew_only_where_its_pixels_changed_as_much_as_a_lesion_that_grew():
    """No-change pair 45112: the detector boxed a caries 1.5× larger with evidence 0.6."""
    then = dict(label="caries", x1=100, y1=50, x2=120, y2=70, tooth_fdi=15, surfaces="MO", confidence=0.7)
    now = {**then, "x2": 125, "y2": 75}      # 1.56× the area
    assert change.findings_change([now], [then], STILL, (640, 480), lambda box, sign=0: 0.6) == []
    out = change.findings_change([now], [then], STILL, (640, 480), lambda box, sign=0: 1.5)
    assert [(c["change"], c["area_ratio"]) for c in out] == [("grown", 1.56)]
    # a calculus deposit boxed larger is the box, not the deposit (no-change pair 45112)
    deposit, larger = {**then, "label": "calculus"}, {**now, "label": "calculus"}
    assert change.findings_change([larger], [deposit], STILL, (640, 480), lambda box, sign=0: 1.5) == []
