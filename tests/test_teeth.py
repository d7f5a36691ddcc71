from types import SimpleNamespace as NS

import pytest

from tray_app.analysis.tooth_mapping import place_findings, surfaces_for
from tray_app.teeth import fdi_from_code, fdi_name, fdi_to_universal, universal_to_fdi

# The full Universal <-> FDI table (dicom-dental.md §9.2), permanent and primary.
TABLE = (
    {u: f for u, f in zip(range(1, 9), range(18, 10, -1))}
    | {u: f for u, f in zip(range(9, 17), range(21, 29))}
    | {u: f for u, f in zip(range(17, 25), range(38, 30, -1))}
    | {u: f for u, f in zip(range(25, 33), range(41, 49))}
    | dict(zip("ABCDE", [55, 54, 53, 52, 51])) | dict(zip("FGHIJ", [61, 62, 63, 64, 65]))
    | dict(zip("KLMNO", [75, 74, 73, 72, 71])) | dict(zip("PQRST", [81, 82, 83, 84, 85]))
)


@pytest.mark.parametrize("universal,fdi", list(TABLE.items()))
def test_universal_fdi_table_both_ways(universal, fdi):
    assert universal_to_fdi(universal) == fdi
    assert fdi_to_universal(fdi) == universal
    assert fdi_from_code("x", "99X", fdi_name(fdi)) == fdi  # names parse back


@pytest.mark.parametrize("bad", [0, 33, "U", "", 19, 49, 56, 90])
def test_invalid_numbers_raise(bad):
    with pytest.raises((ValueError, TypeError)):
        universal_to_fdi(bad) if not isinstance(bad, int) or bad in (0, 33) else fdi_to_universal(bad)


def test_dicom_tooth_codes():
    assert fdi_from_code("865995000", "SCT", "") == 16
    assert fdi_from_code("16", "ISO3950", "") == 16
    assert fdi_from_code("T-xxx", "SRT", "Permanent mandibular left first molar tooth") == 36
    assert fdi_from_code("?", "?", "Tooth 47") == 47
    assert fdi_from_code("?", "?", "something else") is None


def test_surfaces_follow_labial_mounting():
    tooth = (100, 0, 200, 100)  # upper tooth, occlusal end at the bottom
    # patient's right (16): mesial is toward the midline = image right
    assert surfaces_for((180, 60, 200, 90), tooth, 16) == "M"
    assert surfaces_for((100, 60, 120, 90), tooth, 16) == "D"
    assert surfaces_for((100, 70, 200, 100), tooth, 16) == "MOD"
    assert surfaces_for((140, 80, 160, 100), tooth, 16) == "O"
    # patient's left (26): mirrored
    assert surfaces_for((180, 60, 200, 90), tooth, 26) == "D"
    assert surfaces_for((150, 75, 200, 100), tooth, 26) == "DO"


def _accuracy(kind, seeds, use_list=True):
    from tray_app.demo.synth import generate_sample

    ok = total = surf_ok = surf_total = 0
    for seed in seeds:
        s = generate_sample(kind, seed)
        dets = [NS(label=o.label, box=o.box) for o in s.objects]
        placed = place_findings(dets, kind=kind, width=s.image.shape[1], height=s.image.shape[0],
                                listed_fdi=s.teeth_fdi if use_list else ())
        for o, p in zip(s.objects, placed):
            if o.tooth_fdi is not None:
                total += 1
                ok += p.tooth_fdi == o.tooth_fdi
                if p.tooth_fdi is not None:
                    assert p.tooth_universal == str(fdi_to_universal(p.tooth_fdi))
            if o.label in ("caries", "restoration") and o.surfaces:
                surf_total += 1
                surf_ok += p.surfaces == o.surfaces
    return ok / total, surf_ok / max(surf_total, 1)


def test_teeth_and_surfaces_from_ground_truth_boxes():
    bw, bw_s = _accuracy("bitewing", range(20))
    pa, pa_s = _accuracy("periapical", range(20))
    pano, _ = _accuracy("panoramic", range(8), use_list=False)
    assert bw >= 0.95 and bw_s >= 0.7
    assert pa >= 0.9 and pa_s >= 0.7
    assert pano >= 0.75


def test_intraoral_without_tooth_list_is_honestly_unknown():
    dets = [NS(label="tooth", box=(0, 0, 50, 100)), NS(label="caries", box=(40, 10, 50, 20))]
    placed = place_findings(dets, kind="bitewing", width=200, height=100)
    assert all(p.tooth_fdi is None and p.tooth_universal == "" for p in placed)
