"""Follow-up suggestion rules (clinical/follow_up.py): visit type and codes from accepted findings."""

from __future__ import annotations

import pytest

from tray_app.clinical.follow_up import suggest


def f(label, fdi=None, surfaces=""):
    return {"label": label, "tooth_fdi": fdi, "surfaces": surfaces}


@pytest.mark.parametrize("findings, visit, codes", [
    ([], "recall", ["D0120"]),
    ([f("restoration", 16, "MO"), f("crown", 46)], "recall", ["D0120"]),
    ([f("caries", 36, "O"), f("caries", 46, "MO")], "restorative", ["D2391 #19", "D2392 #30"]),
    ([f("caries", 16, "D"), f("crown", 16)], "restorative", ["D2740 #3"]),  # recurrent decay under a crown
    ([f("margin_discrepancy", 21)], "restorative", ["D2740 #9"]),
    ([f("bone_loss", 36), f("bone_loss", 37)], "perio", ["D4342 #18/19"]),
    ([f("periapical_radiolucency", 36), f("caries", 46, "O")], "emergency", ["D0140", "D2391 #30"]),
    ([f("deep_caries", 11)], "emergency", ["D0140", "D2330 #8"]),
])
def test_visit_type_and_codes(findings, visit, codes):
    s = suggest(findings)
    assert s.visit == visit
    assert list(s.codes) == codes


def test_the_text_says_it_is_a_suggestion_and_names_no_patient():
    text = suggest([f("caries", 36, "O")]).text()
    assert text == ("Suggested follow-up: restorative visit (restorative treatment) — D2391 #19 "
                    "(suggested, dentist to confirm).")
    assert suggest([]).as_dict()["visit"] == "recall"


def test_after_sign_off_the_confirmed_codes_replace_the_suggestions():
    from tray_app.clinical.follow_up import suggest

    accepted = [{"id": 1, "label": "caries", "tooth_fdi": 36, "surfaces": "MO"},
                {"id": 2, "label": "caries", "tooth_fdi": 46, "surfaces": "O"}]
    before = suggest(accepted)
    assert not before.confirmed and "dentist to confirm" in before.text()
    after = suggest(accepted, [{"finding_id": 1, "code": "D2392"}])  # #30 left unconfirmed
    assert after.visit == before.visit and after.codes == ("D2392 #19",)
    assert after.confirmed and "confirmed by the dentist" in after.text()
