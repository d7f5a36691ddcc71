"""Image type, tooth-code variants, CDT suggestions, triage and drafted text."""

import numpy as np
import pytest
from PIL import Image

from samples import write_dicom, write_png
from tray_app.clinical import cdt, notes
from tray_app.clinical.image_type import classify
from tray_app.clinical.triage import priority
from tray_app.clinical.views import set_status, view_of
from tray_app.intake.decode import decode_file

BW_TEETH = [14, 15, 16, 44, 45, 46]
PA_TEETH = [35, 36, 37]

# name, builder(tmp) -> path, expected kind, rule fragment, uncertain
CASES = [
    ("CT modality", lambda d: write_dicom(d / "a.dcm", Modality="CT"), "cbct", "Modality CT", False),
    ("multi-frame volume", lambda d: write_dicom(d / "a.dcm", Modality="OT", frames=12, shape=(16, 16)),
     "cbct", "12-frame volume", False),
    ("photo modality", lambda d: write_dicom(d / "a.dcm", Modality="XC"), "photo", "photographic", False),
    ("PX modality", lambda d: write_dicom(d / "a.dcm", Modality="PX", shape=(300, 600)), "panoramic", "Modality PX", False),
    ("cephalostat", lambda d: write_dicom(d / "a.dcm", Modality="DX", PositionerType="CEPHALOSTAT"),
     "cephalometric", "CEPHALOSTAT", False),
    ("occlusal view code", lambda d: write_dicom(d / "a.dcm", ViewCode="260499007"), "occlusal", "occlusal", False),
    ("both arches", lambda d: write_dicom(d / "a.dcm", teeth=BW_TEETH), "bitewing", "both arches", False),
    ("one arch", lambda d: write_dicom(d / "a.dcm", teeth=PA_TEETH), "periapical", "one arch", False),
    ("BW token", lambda d: write_dicom(d / "a.dcm", SeriesDescription="BW R molar"), "bitewing", "'bw'", False),
    ("PA token", lambda d: write_dicom(d / "a.dcm", SeriesDescription="PA #19"), "periapical", "'pa'", False),
    ("wide DX", lambda d: write_dicom(d / "a.dcm", Modality="DX", shape=(600, 1300)), "panoramic", "wide image", False),
    ("contradiction: both arches vs 'PA'",
     lambda d: write_dicom(d / "a.dcm", teeth=BW_TEETH, SeriesDescription="PA"), "bitewing", "contradicted", True),
    ("contradiction: PX vs 'BW'",
     lambda d: write_dicom(d / "a.dcm", Modality="PX", SeriesDescription="BW"), "panoramic", "contradicted", True),
    ("IO landscape, nothing else", lambda d: write_dicom(d / "a.dcm"), "bitewing", "landscape", True),
    ("raster wide", lambda d: write_png(d / "a.png", h=1100, w=2300), "panoramic", "wide image", False),
    ("raster pan token", lambda d: write_png(d / "A1_Doe_Jo_20261128_PAN.png"), "panoramic", "'pan'", False),
    ("raster PA token portrait", lambda d: write_png(d / "x_PA_1.png", h=160, w=120), "periapical", "'pa'", False),
    ("raster no token", lambda d: write_png(d / "img001.png"), "bitewing", "no header", True),
    ("raster colour photo", lambda d: _photo(d / "p.jpg"), "photo", "colour", False),
]


def _photo(path):
    rng = np.random.default_rng(1)
    img = np.zeros((120, 160, 3), np.uint8)
    img[..., 0] = 200
    img[..., 1] = rng.integers(40, 90, (120, 160))
    img[..., 2] = 60
    Image.fromarray(img).save(path)
    return path


@pytest.mark.parametrize("name,build,kind,rule,uncertain", CASES, ids=[c[0] for c in CASES])
def test_image_type_rules(tmp_path, name, build, kind, rule, uncertain):
    path = build(tmp_path)
    d = decode_file(path, max_pixels=10**8)
    meta = dict(d.meta, format=d.fmt, file_name=path.name)
    decision = classify(meta, d.width, d.height, d.frames)
    assert decision.kind == kind, decision
    assert rule.lower() in decision.rule.lower(), decision
    assert decision.uncertain == uncertain, decision


@pytest.mark.parametrize("variant", ["sct", "entire", "srt", "meaning"])
def test_tooth_code_variants_map_to_the_same_teeth(tmp_path, variant):
    teeth = [18, 17, 16, 48, 47, 46, 11, 21, 31, 41, 28, 38]
    d = decode_file(write_dicom(tmp_path / "t.dcm", teeth=teeth, teeth_variant=variant), max_pixels=10**8)
    assert d.meta["teeth_fdi"] == teeth


def test_views_and_sets():
    assert view_of("bitewing", [16, 17, 46, 47], "R") == "BW right molar"
    assert view_of("bitewing", [24, 25, 34, 35], "") == "BW left premolar"
    assert view_of("periapical", [11, 21], "B") == "PA maxillary centrals"
    assert view_of("periapical", [43, 42], "") == "PA mandibular right canine"
    assert view_of("periapical", [36, 37, 38], "L") == "PA mandibular left molar"
    four = [("bitewing", t, "") for t in ([16, 46], [15, 45], [25, 35], [26, 36])]
    assert set_status(four).as_dict()["text"] == "4BW complete (4 images)"
    s = set_status(four[:3])
    assert not s.complete and s.missing == ["BW left molar"]
    assert set_status([("panoramic", [], "")]).protocol == "pano"
    assert set_status([("periapical", [36], "")]).protocol == "PA"


def test_imaging_codes():
    codes = lambda protocol, kinds: [c.code for c in cdt.imaging_codes(protocol, kinds)]  # noqa: E731
    assert codes("FMX", {"bitewing": 4, "periapical": 14}) == ["D0210"]
    assert codes("4BW", {"bitewing": 4}) == ["D0274"]
    assert codes("2BW", {"bitewing": 2}) == ["D0272"]
    assert codes("BW", {"bitewing": 1}) == ["D0270"]
    assert codes("", {"bitewing": 8}) == ["D0277"]
    assert codes("PA series", {"periapical": 3}) == ["D0220", "D0230"]
    assert codes("pano", {"panoramic": 1}) == ["D0330"]
    assert codes("ceph", {"cephalometric": 1}) == ["D0340"]
    assert codes("CBCT", {"cbct": 1}) == ["D0367"]
    assert codes("", {"occlusal": 1}) == ["D0240"]


def f(label, fdi, surfaces="", conf=0.9, **kw):
    return {"label": label, "tooth_fdi": fdi, "surfaces": surfaces, "confidence": conf, "severity": 2, **kw}


def test_treatment_codes():
    got = {(s.code, s.teeth) for s in cdt.treatment_codes([
        f("caries", 36, "MOD"), f("caries", 11, "M"), f("caries", 46, "D"), f("crown", 46),
        f("periapical_radiolucency", 47),
        *[f("bone_loss", t) for t in (31, 32, 33, 34)], f("bone_loss", 16), f("bone_loss", 17)])}
    assert ("D2393", ("19",)) in got  # 3-surface posterior composite
    assert ("D2330", ("8",)) in got  # 1-surface anterior composite
    assert ("D2740", ("30",)) in got  # decay under a crown
    assert ("", ("31",)) in got  # endodontic evaluation
    assert ("D4341", ("21", "22", "23", "24")) in got
    assert ("D4342", ("2", "3")) in got
    assert all(s.as_dict()["status"] == "suggested, dentist to confirm" for s in cdt.treatment_codes([f("caries", 36)]))


def test_triage_orders_parl_above_calculus():
    parl = priority([("periapical_radiolucency", 3, 0.9)])
    calculus = priority([("calculus", 1, 0.95)] * 6)
    caries = priority([("caries", 2, 0.9)])
    assert parl > caries > calculus > 0
    assert priority([("tooth", 0, 0.99)]) == 0


def test_drafted_texts_are_templated():
    findings = [f("caries", 36, "D", 0.92), f("bone_loss", 46, conf=0.8)]
    note = notes.chart_note(findings, study_line="PA series", codes=[cdt.Suggestion("D0220", "x")], model="m 1")
    assert note.startswith("AI-Assisted Preliminary Findings")
    assert "Caries suspected on distal of #19 (92% confidence)" in note and "D0220" in note
    summary = notes.patient_summary(findings)
    assert "possible cavity" in summary and "mandibular left first molar" in summary
    perio = notes.perio_narrative([{"tooth_fdi": 46, "cej_to_crest_mm": 5.0, "rbl": 0.25}], when="2026-11-28",
                                  image_kinds="periapical")
    assert "#30: CEJ to crest 5.0 mm, about 25% of the root (Stage II)" in perio
    assert notes.aap_stage(0.1) == "Stage I" and notes.aap_stage(0.5) == "Stage III/IV"


def test_study_summary_tags_post_op_from_history_and_description(tmp_path):
    from tray_app.clinical.study_summary import refresh
    from tray_app.store import Database

    db = Database(tmp_path / "x.db")
    with db.tx() as c:
        for sid, when in ((1, "2026-10-01T10:00:00.000+00:00"), (2, "2026-11-20T10:00:00.000+00:00"),
                          (3, "2026-11-21T10:00:00.000+00:00")):
            key = "chartnumber:A1" if sid < 3 else "chartnumber:B2"
            c.execute("INSERT INTO studies(id, group_key, patient_key, first_seen_at, last_image_at) VALUES (?,?,?,?,?)",
                      (sid, f"g{sid}", key, when, when))
            meta = '{"teeth_fdi": [36, 37], "series_description": "%s"}' % ("Post-op check" if sid == 3 else "PA")
            c.execute("INSERT INTO images(id, path, state, study_id, kind, kind_confidence, width, height, meta, "
                      "discovered_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                      (sid, f"/x/{sid}", "analyzed", sid, "periapical", 0.9, 100, 100, meta, when, when))
        c.execute("INSERT INTO findings(image_id, study_id, label, confidence, x1, y1, x2, y2, tooth_fdi, surfaces, "
                  "severity, status, created_at) VALUES (1, 1, 'caries', 0.9, 1, 1, 5, 5, 36, 'D', 2, 'accepted', 't')")
    first, second, other = (refresh(db, i) for i in (1, 2, 3))
    assert "post-op" not in first["tags"] and "caries_suspected" in first["tags"]
    assert "post-op" in second["tags"]  # same patient, same tooth treated before
    assert "post-op" in other["tags"]  # description says so
    assert "region:periapical mandibular left molar" in first["tags"] and "teeth:#18 #19" in first["tags"]
    assert [c["code"] for c in first["cdt"]["treatment"]] == ["D2391"]
    assert first["drafts"]["based_on"] == "accepted findings"
    assert "Caries suspected on distal of #19" in first["drafts"]["chart_note"]


def test_urgency_comes_from_one_severe_finding_not_many_small_ones():
    from tray_app.clinical.triage import is_urgent

    assert is_urgent([("periapical_radiolucency", 3, 0.85)], 2.4)
    assert not is_urgent([("periapical_radiolucency", 3, 0.7)], 2.4)
    assert not is_urgent([("caries", 2, 0.95)] * 12, 2.4)
    assert priority([("caries", 2, 0.95)] * 12) > priority([("caries", 2, 0.95)])  # busier, ranked higher
