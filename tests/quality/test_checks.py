"""Each image-quality check on a few generated images with and without its defect (the rates on
40 + 40 are tests/quality/test_rates.py), its sentence, and its setting."""

from __future__ import annotations

import numpy as np
import pytest

from tray_app.clinical.views import set_status
from tray_app.demo import defects, synth
from tray_app.quality import teeth
from tray_app.quality.advice import assess, missing_bitewings, region_words
from tray_app.settings.quality import QualityConfig
from tray_app.settings.schema import SettingsError

CFG = QualityConfig()


def image(kind: str, seed: int) -> tuple[synth.Sample, np.ndarray]:
    s = synth.generate_sample(kind, seed)
    return s, synth.to_uint8(s)


def checks(img, s, cfg=CFG, boxes=None) -> dict[str, str]:
    return {i.check: i.sentence for i in assess(img, s.kind, cfg, teeth_fdi=s.teeth_fdi, laterality=s.laterality,
                                                tooth_boxes=boxes, pixel_mm=s.pixel_spacing_mm)}


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_a_cone_cut_is_found_and_placed_where_the_white_is(seed):
    s, img = image(("bitewing", "periapical")[seed % 2], seed)
    assert "cone_cut" not in checks(img, s)
    bad = defects.cone_cut(img, np.random.default_rng(seed))
    said = checks(bad, s)["cone_cut"]
    white = bad >= 250
    ys, xs = np.nonzero(white)
    where = region_words(xs.mean() / bad.shape[1], ys.mean() / bad.shape[0])
    assert said.startswith(f"Cone cut on the {where}:") and "Retake" in said


def test_exposure_clipped_at_either_end_is_named_over_or_under():
    s, img = image("bitewing", 41)
    assert "exposure" not in checks(img, s)
    rng = np.random.default_rng(1)
    assert checks(defects.exposure(img, rng, "over"), s)["exposure"].startswith("Overexposed")
    assert checks(defects.exposure(img, rng, "under"), s)["exposure"].startswith("Underexposed")


def test_motion_blur_is_found_and_a_still_image_is_not_blurred():
    s, img = image("periapical", 43)
    assert "motion_blur" not in checks(img, s)
    bad = defects.motion_blur(img, np.random.default_rng(2), pixel_mm=s.pixel_spacing_mm)
    assert "hold still" in checks(bad, s)["motion_blur"]


def gt_teeth(s) -> list:
    return [o.box for o in s.objects if o.label == "tooth"]


def test_apices_cut_off_are_found_at_the_apical_edge_only():
    s = next(x for x in (synth.generate_sample("periapical", 60 + i, view="maxillary right molar") for i in range(20))
             if defects.root_margin_px(x) > 2 / x.pixel_spacing_mm)
    img = synth.to_uint8(s)
    assert "apices_cut" not in checks(img, s, boxes=gt_teeth(s))
    cut = defects.cut_apices(s, img, np.random.default_rng(3))
    shift = img.shape[0] - cut.shape[0]  # maxillary: the top was cut away, the boxes move up
    boxes = [(x1, max(0.0, y1 - shift), x2, y2 - shift) for x1, y1, x2, y2 in gt_teeth(s)]
    assert checks(cut, s, boxes=boxes)["apices_cut"].startswith("Root tips cut off at the top edge")


def test_overlapping_contacts_from_the_crowns_boxes_and_the_brightness_of_their_contact():
    normal = [(0, 0, 100, 50), (99, 0, 180, 50), (0, 60, 90, 120), (92, 60, 170, 120)]
    assert max(o for o, _ in teeth.contact_overlaps(normal)) == 1
    s = synth.generate_sample("bitewing", 50)
    assert "overlapping_contacts" not in checks(synth.to_uint8(s), s, boxes=gt_teeth(s))
    bad = defects.overlapping_bitewing(50)
    said = checks(synth.to_uint8(bad), bad, boxes=gt_teeth(bad))["overlapping_contacts"]
    assert said.startswith("Overlapping contacts on the ") and "beam aimed through the contacts" in said
    only_brightness = QualityConfig(contact_overlap_mm=0)  # the boxes the model finds rarely overlap
    assert "overlapping_contacts" in checks(synth.to_uint8(bad), bad, only_brightness, boxes=gt_teeth(bad))


def test_an_upside_down_periapical_and_a_mirrored_molar_bitewing():
    pa = synth.generate_sample("periapical", 70, view="maxillary left molar")
    img = synth.to_uint8(pa)
    assert "orientation" not in checks(img, pa, boxes=gt_teeth(pa))
    h = img.shape[0]
    flipped = [(x1, h - y2, x2, h - y1) for x1, y1, x2, y2 in gt_teeth(pa)]
    assert checks(defects.flip(img, "ud"), pa, boxes=flipped)["orientation"].startswith("Upside down")
    bw = synth.generate_sample("bitewing", 71, view="right molar")
    img = synth.to_uint8(bw)
    assert "orientation" not in checks(img, bw, boxes=gt_teeth(bw))
    w = img.shape[1]
    mirrored = [(w - x2, y1, w - x1, y2) for x1, y1, x2, y2 in gt_teeth(bw)]
    said = checks(defects.flip(img, "lr"), bw, boxes=mirrored)["orientation"]
    assert said.startswith("Flipped left to right: this right-side image shows the molars on the right")


def test_no_header_or_no_teeth_means_no_orientation_guess():
    pa = synth.generate_sample("periapical", 70, view="maxillary left molar")
    img = defects.flip(synth.to_uint8(pa), "ud")
    pa.teeth_fdi, pa.laterality = [], ""
    assert "orientation" not in checks(img, pa, boxes=gt_teeth(pa))
    assert "apices_cut" not in checks(img, pa, boxes=None)


def test_a_bitewing_set_missing_a_view_is_named():
    full = [(x.kind, x.teeth_fdi, x.laterality) for x in defects.bitewing_set(5)]
    assert missing_bitewings(set_status(full).as_dict()) is None
    issue = missing_bitewings(set_status(full[:3]).as_dict())
    assert issue.sentence == "Bitewing missing: left molar. Take it before the patient leaves."
    assert missing_bitewings(set_status(full[:1]).as_dict()) is None  # one bitewing is no set yet


def test_panoramics_and_thumbnails_are_not_checked_and_zero_turns_a_check_off():
    s, img = image("panoramic", 3)
    assert checks(defects.cone_cut(img, np.random.default_rng(1)), s) == {}
    s, img = image("bitewing", 31)
    assert checks(defects.cone_cut(img, np.random.default_rng(31))[::8, ::8], s) == {}
    s, img = image("bitewing", 31)
    bad = defects.cone_cut(img, np.random.default_rng(31))
    assert "cone_cut" not in checks(bad, s, QualityConfig(cone_cut_area=0))
    assert checks(bad, s, QualityConfig(enabled=False)) == {}


def test_the_settings_table_refuses_out_of_range_thresholds():
    with pytest.raises(SettingsError, match="quality.exposure_clipped must be between 0"):
        QualityConfig.from_dict({"exposure_clipped": 1.5})
    with pytest.raises(SettingsError, match="quality.contact_overlap_mm must be 0"):
        QualityConfig.from_dict({"contact_overlap_mm": -1})
